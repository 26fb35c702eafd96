package tokenize

import (
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"testing"
)

// hfGolden is testdata/tokenizers/*/hf_golden.json, written by hf_golden.js from Hugging
// Face tokenizers itself (not by go test -update: regenerating needs node).
type hfGolden struct {
	Generator string `json:"generator"`
	Cases     []struct {
		Text               string  `json:"text"`
		IDs                []int32 `json:"ids"`
		Decoded            string  `json:"decoded"`
		DecodedSkipSpecial string  `json:"decoded_skip_special"`
		HalfIDs            []int32 `json:"half_ids"`
		HalfDecoded        string  `json:"half_decoded"`
	} `json:"cases"`
}

// goldenTokenizers are the directories under testdata/tokenizers with an hf_golden.json.
var goldenTokenizers = []string{"llama2", "metaspace-tiny", "wordpiece-tiny", "wordlevel-tiny", "dict-bpe", "llama3-tiny"}

// TestMatchesHuggingFace encodes and decodes every golden case and compares with what
// Hugging Face tokenizers produced for the same tokenizer.json.
func TestMatchesHuggingFace(t *testing.T) {
	for _, name := range goldenTokenizers {
		t.Run(name, func(t *testing.T) {
			dir := filepath.Join("..", "testdata", "tokenizers", name)
			b, err := os.ReadFile(filepath.Join(dir, "hf_golden.json"))
			if err != nil {
				t.Fatal(err)
			}
			var golden hfGolden
			if err := json.Unmarshal(b, &golden); err != nil {
				t.Fatal(err)
			}
			tok, err := Load(dir)
			if err != nil {
				t.Fatal(err)
			}
			for _, c := range golden.Cases {
				got, err := tok.Encode(c.Text, false)
				if err != nil {
					t.Errorf("Encode(%q): %v", c.Text, err)
					continue
				}
				if !slices.Equal(got, c.IDs) {
					t.Errorf("Encode(%q)\n got %v\nwant %v (%s)", c.Text, got, c.IDs, golden.Generator)
				}
				if d := tok.Decode(c.IDs, false); d != c.Decoded {
					t.Errorf("Decode(%v, false) = %q, want %q", c.IDs, d, c.Decoded)
				}
				if d := tok.Decode(c.IDs, true); d != c.DecodedSkipSpecial {
					t.Errorf("Decode(%v, true) = %q, want %q", c.IDs, d, c.DecodedSkipSpecial)
				}
				if d := tok.Decode(c.HalfIDs, false); d != c.HalfDecoded {
					t.Errorf("Decode(%v, false) = %q, want %q (first half of %q)", c.HalfIDs, d, c.HalfDecoded, c.Text)
				}
			}
		})
	}
}
