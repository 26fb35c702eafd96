package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/l3m/l3m-engine/tokenize"
)

const sampleJSONL = `{"messages": [{"role": "user", "content": "What is FTP?"}, {"role": "assistant", "content": "File Transfer Protocol, for files."}]}
{"messages": [{"role": "user", "content": "And HTTP?"}, {"role": "assistant", "content": "Hypertext Transfer Protocol, for the web."}]}
`

// TestRunDeterministic trains twice from the same file and requires byte-identical output.
func TestRunDeterministic(t *testing.T) {
	dir := t.TempDir()
	data := filepath.Join(dir, "in.jsonl")
	if err := os.WriteFile(data, []byte(strings.Repeat(sampleJSONL, 5)), 0o644); err != nil {
		t.Fatal(err)
	}
	outA, outB := filepath.Join(dir, "a"), filepath.Join(dir, "b")
	cfg := tokenize.TrainConfig{VocabSize: 300}
	if err := run(data, outA, cfg); err != nil {
		t.Fatal(err)
	}
	if err := run(data, outB, cfg); err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{"tokenizer.json", "tokenizer_config.json"} {
		a, _ := os.ReadFile(filepath.Join(outA, f))
		b, _ := os.ReadFile(filepath.Join(outB, f))
		if len(a) == 0 || !bytes.Equal(a, b) {
			t.Errorf("%s differs between runs", f)
		}
	}
	tok, err := tokenize.Load(outA)
	if err != nil {
		t.Fatal(err)
	}
	ids, err := tok.Encode("<|user|>\nWhat is FTP?", false)
	if err != nil || ids[0] != 5 {
		t.Errorf("Encode = %v, %v; want <|user|> (5) first", ids, err)
	}
}

func TestMessageContentsErrors(t *testing.T) {
	for in, want := range map[string]string{
		"{\"messages\": []}\n":                        "x.jsonl:1: no \"messages\"",
		"\n{\"messages\": [{\"content\": \"a\"}]}\n{": "x.jsonl:3:",
	} {
		if _, err := messageContents("x.jsonl", []byte(in)); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("messageContents(%q) error = %v, want %q", in, err, want)
		}
	}
}
