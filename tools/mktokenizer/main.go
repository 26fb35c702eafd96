// Command mktokenizer trains the small byte-level BPE tokenizer used by tests and demos from
// an instruct JSONL file (one {"messages": [{"role", "content"}, ...]} per line):
//
//	go run ./tools/mktokenizer -data testdata/data/dict_instruct.jsonl -vocab 4096 -out testdata/tokenizers/dict-bpe
//
// It writes tokenizer.json and tokenizer_config.json in Hugging Face format (see
// tokenize.TrainedBPE.WriteFiles) and SOURCE.md. The output depends only on the input file
// and the flags: rerunning it gives byte-identical files.
package main

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/l3m/l3m-engine/tokenize"
)

func main() {
	data := flag.String("data", "testdata/data/dict_instruct.jsonl", "instruct JSONL file to train on")
	vocab := flag.Int("vocab", 4096, "vocabulary size, special and byte tokens included")
	minFrequency := flag.Int("min-frequency", 2, "fewest occurrences of a pair to merge it")
	out := flag.String("out", "testdata/tokenizers/dict-bpe", "output directory")
	flag.Parse()
	if err := run(*data, *out, tokenize.TrainConfig{VocabSize: *vocab, MinFrequency: *minFrequency}); err != nil {
		fmt.Fprintln(os.Stderr, "mktokenizer:", err)
		os.Exit(1)
	}
}

func run(dataPath, outDir string, cfg tokenize.TrainConfig) error {
	raw, err := os.ReadFile(dataPath)
	if err != nil {
		return err
	}
	texts, err := messageContents(dataPath, raw)
	if err != nil {
		return err
	}
	trained, err := tokenize.TrainByteLevelBPE(texts, cfg)
	if err != nil {
		return err
	}
	if err := trained.WriteFiles(outDir); err != nil {
		return err
	}
	source := fmt.Sprintf(`# dict-bpe

A byte-level BPE tokenizer trained by tools/mktokenizer on the message contents of the
instruct data set; it exists so that tests and demos have a small vocabulary to work with.

- command: go run ./tools/mktokenizer -data %s -vocab %d -min-frequency %d -out %s
- training file: %s, %d lines, %d message contents, sha256 %x
- vocabulary: %d tokens (%d special, 256 byte tokens, the rest from %d merges)
- special tokens: %s (<pad> = 0)
- pre-tokenizer: GPT-2 split and byte-level alphabet (no prefix space); decoder: ByteLevel
- licence: derived from the training file; no third-party vocabulary is included

Rerunning the command on the same file gives byte-identical files.
`, filepath.ToSlash(dataPath), cfg.VocabSize, cfg.MinFrequency, filepath.ToSlash(outDir),
		filepath.Base(dataPath), bytes.Count(raw, []byte("\n")), len(texts), sha256.Sum256(raw),
		len(trained.Tokens), trained.Special, len(trained.Merges),
		strings.Join(trained.Tokens[:trained.Special], ", "))
	if err := os.WriteFile(filepath.Join(outDir, "SOURCE.md"), []byte(source), 0o644); err != nil {
		return err
	}
	fmt.Fprintf(os.Stderr, "mktokenizer: %s: %d tokens, %d merges from %d texts\n", outDir, len(trained.Tokens), len(trained.Merges), len(texts))
	return nil
}

// messageContents returns every message content of every line, in file order.
func messageContents(path string, raw []byte) ([]string, error) {
	var texts []string
	sc := bufio.NewScanner(bytes.NewReader(raw))
	sc.Buffer(make([]byte, 0, 1<<20), 64<<20)
	for line := 1; sc.Scan(); line++ {
		if len(bytes.TrimSpace(sc.Bytes())) == 0 {
			continue
		}
		var row struct {
			Messages []struct {
				Role    string `json:"role"`
				Content string `json:"content"`
			} `json:"messages"`
		}
		if err := json.Unmarshal(sc.Bytes(), &row); err != nil {
			return nil, fmt.Errorf("%s:%d: %w", path, line, err)
		}
		if len(row.Messages) == 0 {
			return nil, fmt.Errorf("%s:%d: no \"messages\"; want {\"messages\": [{\"role\", \"content\"}, ...]}", path, line)
		}
		for _, m := range row.Messages {
			texts = append(texts, m.Content)
		}
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return texts, nil
}
