package tokenize

import (
	"bytes"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

var trainingTexts = func() []string {
	base := []string{
		"The quick brown fox jumps over the lazy dog.",
		"A network server program which responds to requests for files via FTP.",
		"Hypertext Transfer Protocol is the protocol of the World Wide Web.",
		"the the the there then they them these those",
		"def main():\n    return 0\n",
		"日本語のテキスト, café, naïve 😀",
	}
	var texts []string
	for i := range 20 {
		texts = append(texts, base[i%len(base)], strings.Repeat(base[(i+1)%len(base)]+" ", i%3+1))
	}
	return texts
}()

func TestTrainByteLevelBPEDeterministic(t *testing.T) {
	cfg := TrainConfig{VocabSize: 400}
	a, err := TrainByteLevelBPE(trainingTexts, cfg)
	if err != nil {
		t.Fatal(err)
	}
	for range 3 {
		b, err := TrainByteLevelBPE(trainingTexts, cfg)
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(a.Tokens, b.Tokens) || !slices.Equal(a.Merges, b.Merges) {
			t.Fatal("two trainings on the same texts differ")
		}
	}
	dirA, dirB := t.TempDir(), t.TempDir()
	if err := a.WriteFiles(dirA); err != nil {
		t.Fatal(err)
	}
	if err := a.WriteFiles(dirB); err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{"tokenizer.json", "tokenizer_config.json"} {
		x, _ := os.ReadFile(filepath.Join(dirA, f))
		y, _ := os.ReadFile(filepath.Join(dirB, f))
		if !bytes.Equal(x, y) || len(x) == 0 {
			t.Errorf("%s differs between two writes", f)
		}
	}
}

func TestTrainByteLevelBPEResult(t *testing.T) {
	trained, err := TrainByteLevelBPE(trainingTexts, TrainConfig{VocabSize: 400})
	if err != nil {
		t.Fatal(err)
	}
	if len(trained.Tokens) > 400 || len(trained.Tokens) <= len(DefaultSpecialTokens)+256 {
		t.Errorf("%d tokens, want more than the alphabet and at most 400", len(trained.Tokens))
	}
	if !slices.Equal(trained.Tokens[:trained.Special], DefaultSpecialTokens) {
		t.Errorf("special tokens %q", trained.Tokens[:trained.Special])
	}
	dir := t.TempDir()
	if err := trained.WriteFiles(dir); err != nil {
		t.Fatal(err)
	}
	tok, err := Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	if tok.PAD() != 0 || tok.UNK() != 1 || tok.BOS() != 2 || tok.EOS() != 3 || tok.VocabSize() != len(trained.Tokens) {
		t.Errorf("PAD %d UNK %d BOS %d EOS %d VocabSize %d", tok.PAD(), tok.UNK(), tok.BOS(), tok.EOS(), tok.VocabSize())
	}
	for _, text := range append(slices.Clone(trainingTexts), roundTripTexts...) {
		ids, err := tok.Encode(text, false)
		if err != nil {
			t.Fatal(err)
		}
		if got := tok.Decode(ids, false); got != text {
			t.Errorf("round trip %q -> %q", text, got)
		}
	}
	ids, _ := tok.Encode(" the the the", false)
	if len(ids) != 3 {
		t.Errorf("Encode( the the the) = %v, want three merged words", ids)
	}
}

func TestTrainConfigErrors(t *testing.T) {
	for _, cfg := range []TrainConfig{
		{VocabSize: 100},
		{SpecialTokens: []string{"<pad>", "<unk>"}},
		{SpecialTokens: []string{"<pad>", "<unk>", "<s>", "<s>"}},
	} {
		if _, err := TrainByteLevelBPE(trainingTexts, cfg); err == nil {
			t.Errorf("TrainByteLevelBPE(%+v) succeeded", cfg)
		}
	}
	trained, err := TrainByteLevelBPE(trainingTexts, TrainConfig{VocabSize: 100000, MinFrequency: 1000})
	if err != nil {
		t.Fatal(err)
	}
	if len(trained.Merges) != 0 {
		t.Errorf("MinFrequency 1000: %d merges, want none", len(trained.Merges))
	}
}
