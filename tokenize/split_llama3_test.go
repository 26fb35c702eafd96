package tokenize

import (
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// TestSplitLlama3 shows, one alternative of llama3Pattern at a time, where it differs from
// GPT-2's. Hugging Face tokenizers cuts each valid string the same way (split_golden.json
// holds these and many more).
func TestSplitLlama3(t *testing.T) {
	tests := []struct {
		in   string
		want []string
	}{
		{"", nil},
		// Contractions ignore case, long s included; other apostrophes are punctuation.
		{"DON'T I'M we'LL", []string{"DON", "'T", " I", "'M", " we", "'LL"}},
		{"it'ſ ''s 'x", []string{"it", "'ſ", " ''", "s", " '", "x"}},
		// One character that is no letter, digit or line break may lead a letter run: a
		// tab or an underscore too, but not two of them.
		{"_foo (bar \tbaz\nqux", []string{"_foo", " (", "bar", " ", "\tbaz", "\n", "qux"}},
		// Digits go in threes, never after a space.
		{"12345678 x2024 1", []string{"123", "456", "78", " x", "202", "4", " ", "1"}},
		// Punctuation keeps the line breaks after it.
		{"!!\n\nOk?\r\n", []string{"!!\n\n", "Ok", "?\r\n"}},
		// A whitespace run ends at its last line break, else leaves its last character to
		// the word after it.
		{"a  \n  b   ", []string{"a", "  \n", " ", " b", "   "}},
		{"x \r\n\r\n y", []string{"x", " \r\n\r\n", " y"}},
		{"\u3000ideo 😀😀 🤖!", []string{"\u3000ideo", " 😀😀", " 🤖!"}},
		// Invalid UTF-8 (which Hugging Face never sees) reads as U+FFFD, a symbol.
		{"\xffé\xfe1", []string{"\xffé", "\xfe", "1"}},
	}
	for _, tt := range tests {
		if got := splitLlama3(tt.in); !slices.Equal(got, tt.want) {
			t.Errorf("splitLlama3(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

// TestSplitLlama3MatchesHuggingFace compares splitLlama3 with the words Hugging Face
// tokenizers cut from the golden cases and from random strings (split_golden.js).
func TestSplitLlama3MatchesHuggingFace(t *testing.T) {
	b, err := os.ReadFile(filepath.Join("..", "testdata", "tokenizers", "llama3-tiny", "split_golden.json"))
	if err != nil {
		t.Fatal(err)
	}
	var golden struct {
		Generator string `json:"generator"`
		Cases     []struct {
			Text  string   `json:"text"`
			Words []string `json:"words"`
		} `json:"cases"`
	}
	if err := json.Unmarshal(b, &golden); err != nil {
		t.Fatal(err)
	}
	if len(golden.Cases) < 400 {
		t.Fatalf("split_golden.json holds %d cases; regenerate it", len(golden.Cases))
	}
	for _, c := range golden.Cases {
		if got := splitLlama3(c.Text); !slices.Equal(got, c.Words) {
			t.Errorf("splitLlama3(%q)\n got %q\nwant %q (%s)", c.Text, got, c.Words, golden.Generator)
		}
	}
}

// FuzzSplitLlama3 checks that the words are non-empty and give the text back, valid UTF-8
// or not.
func FuzzSplitLlama3(f *testing.F) {
	for _, s := range roundTripTexts {
		f.Add(s)
	}
	f.Add("DON'T it'ſ 12345 !!\n\n \r\n  x\xff\t")
	f.Fuzz(func(t *testing.T, text string) {
		words := splitLlama3(text)
		if slices.Contains(words, "") {
			t.Fatalf("splitLlama3(%q) = %q holds an empty word", text, words)
		}
		if got := strings.Join(words, ""); got != text {
			t.Fatalf("splitLlama3(%q) = %q, which joins to %q", text, words, got)
		}
	})
}

// TestLoadLlama3 checks what llama3-tiny adds beyond its golden ids: Llama 3's special
// tokens numbered after the model vocabulary, and ignore_merges emitting a word that is
// in the vocabulary as one token even where the merges cannot reach it.
func TestLoadLlama3(t *testing.T) {
	tok, err := Load(testdataDir("llama3-tiny")) // not mustLoad's: ignore_merges is switched off below
	if err != nil {
		t.Fatal(err)
	}
	if got, want := tok.Token(tok.BOS()), "<|begin_of_text|>"; got != want {
		t.Errorf("BOS is %q, want %q", got, want)
	}
	if got, want := tok.Token(tok.EOS()), "<|eot_id|>"; got != want {
		t.Errorf("EOS is %q, want %q", got, want)
	}
	ids, err := tok.Encode("<|start_header_id|>user<|end_header_id|>\n\nHi<|eot_id|>", true)
	if err != nil {
		t.Fatal(err)
	}
	if ids[0] != tok.BOS() || ids[len(ids)-1] != tok.EOS() || tok.Token(ids[1]) != "<|start_header_id|>" {
		t.Errorf("chat turn encodes to %v", ids)
	}

	bpe, ok := tok.model.(*bpeModel)
	if !ok || !bpe.ignoreMerges {
		t.Fatalf("model is %T, want a BPE with ignore_merges", tok.model)
	}
	word := bytesToUnicode(" butter")
	whole, err := bpe.tokenize(word, nil)
	if err != nil {
		t.Fatal(err)
	}
	bpe.ignoreMerges = false
	merged, err := bpe.tokenize(word, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(whole) != 1 || len(merged) < 2 {
		t.Errorf("%q: %v with ignore_merges, %v without; want one id, then several", word, whole, merged)
	}
}
