package tokenize

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"
)

// This file has one test per place where github.com/sugarme/tokenizer v0.3.0 behaves
// differently from Hugging Face tokenizers (see the package doc). Each asserts what Hugging
// Face does; the ids come from testdata/tokenizers/*/hf_golden.json or follow from the
// vocabulary entries named beside them.

func encodeOrFatal(t *testing.T, tok *Tokenizer, text string) []int32 {
	t.Helper()
	ids, err := tok.Encode(text, false)
	if err != nil {
		t.Fatalf("Encode(%q): %v", text, err)
	}
	return ids
}

// sugarme: characters outside the vocabulary become <unk> (0): byte_fallback is ignored.
func TestSugarmeDiffByteFallback(t *testing.T) {
	tok := mustLoad(t, "llama2")
	if got, want := encodeOrFatal(t, tok, "x\x00y"), []int32{1318, 3, 28724}; !slices.Equal(got, want) {
		t.Errorf("Encode = %v, want %v (<0x00> is id 3)", got, want)
	}
	if got, want := encodeOrFatal(t, tok, "\r\n"), []int32{1302, 13}; !slices.Equal(got, want) {
		t.Errorf("Encode = %v, want %v (<0x0A> is id 13)", got, want)
	}
}

// sugarme: fuse_unk is ignored, so each unknown character is its own <unk>.
func TestSugarmeDiffFuseUnk(t *testing.T) {
	for _, fuse := range []bool{true, false} {
		m, err := newBPEModel(json.RawMessage(`{"type": "BPE", "unk_token": "<unk>", "fuse_unk": ` + map[bool]string{true: "true", false: "false"}[fuse] + `,
			"vocab": {"<unk>": 0, "a": 1}, "merges": []}`))
		if err != nil {
			t.Fatal(err)
		}
		got, err := m.tokenize("a??a?", nil)
		if err != nil {
			t.Fatal(err)
		}
		want := []int32{1, 0, 0, 1, 0}
		if fuse {
			want = []int32{1, 0, 1, 0}
		}
		if !slices.Equal(got, want) {
			t.Errorf("fuse_unk %v: %v, want %v", fuse, got, want)
		}
	}
}

// sugarme: a vocabulary without unk_token panics on an unknown character; tokenizers and we
// return an error.
func TestSugarmeDiffMissingUnk(t *testing.T) {
	m, err := newBPEModel(json.RawMessage(`{"type": "BPE", "vocab": {"a": 0}, "merges": []}`))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := m.tokenize("ab", nil); err == nil || !strings.Contains(err.Error(), "no unk_token") {
		t.Errorf("tokenize error = %v, want one about the missing unk_token", err)
	}
}

// sugarme: merges of equal rank are applied in heap order, so "aaaa" becomes a|aa instead
// of the leftmost-first aa|a.
func TestSugarmeDiffMergeOrder(t *testing.T) {
	tok := mustLoad(t, "llama2")
	// ▁a (264), aa (4474), a (28708)
	if got, want := encodeOrFatal(t, tok, "aaaa"), []int32{264, 4474, 28708}; !slices.Equal(got, want) {
		t.Errorf("Encode(aaaa) = %v, want %v", got, want)
	}
	m, err := newBPEModel(json.RawMessage(`{"type": "BPE", "vocab": {"a": 0, "aa": 1}, "merges": ["a a"]}`))
	if err != nil {
		t.Fatal(err)
	}
	if got, _ := m.tokenize("aaaaa", nil); !slices.Equal(got, []int32{1, 1, 0}) {
		t.Errorf("aaaaa = %v, want aa|aa|a", got)
	}
}

// sugarme: its Strip decoder indexes the first character of an empty string and panics.
func TestSugarmeDiffDecodeEmpty(t *testing.T) {
	for _, name := range []string{"llama2", "dict-bpe", "metaspace-tiny", "wordpiece-tiny"} {
		if got := mustLoad(t, name).Decode(nil, false); got != "" {
			t.Errorf("%s: Decode(nil) = %q", name, got)
		}
		if got := mustLoad(t, name).Decode([]int32{}, true); got != "" {
			t.Errorf("%s: Decode([]) = %q", name, got)
		}
	}
}

// sugarme: its ByteLevel decoder turns a character outside the byte alphabet into a NUL
// byte and keeps invalid UTF-8; tokenizers keeps such a token's own text and replaces each
// maximal invalid sequence by one U+FFFD.
func TestSugarmeDiffByteLevelDecode(t *testing.T) {
	d := byteLevelDecoder{}
	tests := []struct {
		tokens []string
		want   string
	}{
		{[]string{"<|a b|>", "Ġhi"}, "<|a b|> hi"},
		{[]string{"ðŁĺ"}, "\uFFFD"},                     // F0 9F 98: one truncated 4-byte sequence
		{[]string{"ðŁĺ", "Ģ"}, "😀"},                     // completed by the next token
		{[]string{"Ã", "Ã"}, "\uFFFD\uFFFD"},            // C3 C3: two starts, two replacements
		{[]string{"í", "ł", "Ģ"}, "\uFFFD\uFFFD\uFFFD"}, // ED A0 80: a surrogate, invalid
	}
	for _, tt := range tests {
		if got := d.decodeChain(tt.tokens)[0]; got != tt.want {
			t.Errorf("decode %q = %q, want %q", tt.tokens, got, tt.want)
		}
	}
}

// sugarme: the Metaspace decoder reads only add_prefix_space, so a prepend_scheme file
// keeps the leading space it should strip.
func TestSugarmeDiffMetaspaceDecoder(t *testing.T) {
	tok := mustLoad(t, "metaspace-tiny")
	ids := encodeOrFatal(t, tok, "Hello world")
	if got := tok.Decode(ids, false); got != "Hello world" {
		t.Errorf("Decode = %q, want %q", got, "Hello world")
	}
}

// sugarme: ByteFallback panics on a token shaped like <0xZZ> that is not hex; tokenizers
// treats it as text.
func TestSugarmeDiffMalformedByteToken(t *testing.T) {
	got := byteFallbackDecoder{}.decodeChain([]string{"<0x41>", "<0xZZ>", "<0x42>"})
	if want := []string{"A", "<0xZZ>", "B"}; !slices.Equal(got, want) {
		t.Errorf("decodeChain = %q, want %q", got, want)
	}
}

// sugarme: added tokens are matched in pattern order and overlapping matches dropped, so
// "</s>x<s>" loses its "</s>".
func TestSugarmeDiffAddedTokenOrder(t *testing.T) {
	tok := mustLoad(t, "llama2")
	if got, want := encodeOrFatal(t, tok, "</s>x<s>"), []int32{2, 1318, 1}; !slices.Equal(got, want) {
		t.Errorf("Encode = %v, want %v", got, want)
	}
}

// Added-token flags, which sugarme turns into regexps with Go's ASCII \s.
func TestAddedTokenFlags(t *testing.T) {
	tokens := []*addedToken{
		{ID: 10, Content: "<x>", LStrip: true, RStrip: true},
		{ID: 11, Content: "cat", SingleWord: true},
		{ID: 12, Content: "<xy>"},
	}
	m := newAddedTokenMatcher(tokens, func(a *addedToken) string { return a.Content })
	tests := []struct {
		in   string
		want []string // segments, added tokens in brackets
	}{
		{"a <x> b", []string{"a", "[ <x> ]", "b"}},
		{"concat cat cats", []string{"concat ", "[cat]", " cats"}},
		{"<xy><x>", []string{"[<xy>]", "[<x>]"}},
		{"", []string{""}},
	}
	for _, tt := range tests {
		var got []string
		for _, s := range m.split(tt.in) {
			if s.token != nil {
				got = append(got, "["+tt.in[s.start:s.end]+"]")
			} else {
				got = append(got, tt.in[s.start:s.end])
			}
		}
		if !slices.Equal(got, tt.want) {
			t.Errorf("split(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

// sugarme: its GPT-2 pattern lacks \s+(?!\S)|\s+, and it ignores use_regex. Expected
// splits are those of the full pattern (checked with a look-ahead regexp engine).
func TestSugarmeDiffGPT2Split(t *testing.T) {
	tests := []struct {
		in   string
		want []string
	}{
		{"a   b\n\nc  ", []string{"a", "  ", " b", "\n", "\n", "c", "  "}},
		{"I'm 12 abc!!  \t x", []string{"I", "'m", " 12", " abc", "!!", "  \t", " x"}},
		{" \u00a0x", []string{" ", "\u00a0", "x"}},
		{"", nil},
	}
	for _, tt := range tests {
		if got := splitGPT2(tt.in); !slices.Equal(got, tt.want) {
			t.Errorf("splitGPT2(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
	p, err := newPreTokenizer(json.RawMessage(`{"type": "ByteLevel", "add_prefix_space": true, "use_regex": false}`))
	if err != nil {
		t.Fatal(err)
	}
	got, _ := p.preTokenize("a b", true)
	if want := []string{"ĠaĠb"}; !slices.Equal(got, want) {
		t.Errorf("ByteLevel use_regex=false: %q, want %q", got, want)
	}
}

// sugarme: Metaspace replaces every whitespace character (tabs, newlines) and always splits.
func TestSugarmeDiffMetaspace(t *testing.T) {
	p, err := newPreTokenizer(json.RawMessage(`{"type": "Metaspace", "replacement": "▁", "prepend_scheme": "always", "split": false}`))
	if err != nil {
		t.Fatal(err)
	}
	got, _ := p.preTokenize("a\tb c", false)
	if want := []string{"▁a\tb▁c"}; !slices.Equal(got, want) {
		t.Errorf("Metaspace = %q, want %q", got, want)
	}
	first, err := newPreTokenizer(json.RawMessage(`{"type": "Metaspace", "replacement": "▁", "prepend_scheme": "first"}`))
	if err != nil {
		t.Fatal(err)
	}
	atStart, _ := first.preTokenize("a b", true)
	later, _ := first.preTokenize("a b", false)
	if !slices.Equal(atStart, []string{"▁a", "▁b"}) || !slices.Equal(later, []string{"a", "▁b"}) {
		t.Errorf("prepend_scheme first: at start %q, after an added token %q", atStart, later)
	}
}

// sugarme: Whitespace uses Go's ASCII \w, cutting "café" in two.
func TestSugarmeDiffWhitespace(t *testing.T) {
	got, _ := whitespacePreTokenizer{}.preTokenize("café, naïve_x 12", false)
	if want := []string{"café", ",", "naïve_x", "12"}; !slices.Equal(got, want) {
		t.Errorf("Whitespace = %q, want %q", got, want)
	}
}

// sugarme: Split compiles String patterns as regexps ("." matches everything) and Replace
// leaves Regex patterns empty.
func TestSugarmeDiffPatterns(t *testing.T) {
	p, err := newPreTokenizer(json.RawMessage(`{"type": "Split", "pattern": {"String": "."}, "behavior": "Isolated", "invert": false}`))
	if err != nil {
		t.Fatal(err)
	}
	if got, _ := p.preTokenize("a.b", false); !slices.Equal(got, []string{"a", ".", "b"}) {
		t.Errorf("Split String: %q", got)
	}
	n, err := newNormalizer(json.RawMessage(`{"type": "Replace", "pattern": {"Regex": " +"}, "content": "_"}`))
	if err != nil {
		t.Fatal(err)
	}
	if got, _ := n.normalize("a  b c"); got != "a_b_c" {
		t.Errorf("Replace Regex: %q", got)
	}
}

// Split behaviours, after tokenizers' NormalizedString::split docs ("the-final--countdown"
// split on "-").
func TestSplitBehaviors(t *testing.T) {
	tests := map[string][]string{
		"Removed":            {"the", "final", "countdown"},
		"Isolated":           {"the", "-", "final", "-", "-", "countdown"},
		"MergedWithPrevious": {"the-", "final-", "-", "countdown"},
		"MergedWithNext":     {"the", "-final", "-", "-countdown"},
		"Contiguous":         {"the", "-", "final", "--", "countdown"},
	}
	for behavior, want := range tests {
		p, err := newPreTokenizer(json.RawMessage(`{"type": "Split", "pattern": {"String": "-"}, "behavior": "` + behavior + `", "invert": false}`))
		if err != nil {
			t.Fatal(err)
		}
		if got, _ := p.preTokenize("the-final--countdown", false); !slices.Equal(got, want) {
			t.Errorf("%s: %q, want %q", behavior, got, want)
		}
	}
}

// sugarme: BertNormalizer takes a null strip_accents as false (tokenizers: follow
// lowercase) and panics stripping the accents of "café naïve".
func TestSugarmeDiffBertNormalizer(t *testing.T) {
	n, err := newNormalizer(json.RawMessage(`{"type": "BertNormalizer", "clean_text": true, "handle_chinese_chars": true, "strip_accents": null, "lowercase": true}`))
	if err != nil {
		t.Fatal(err)
	}
	got, err := n.normalize("Café\tNaïve\x00中文")
	if err != nil {
		t.Fatal(err)
	}
	if want := "cafe naive 中  文 "; got != want {
		t.Errorf("normalize = %q, want %q", got, want)
	}
}

// sugarme: the Nmt normalizer panics with NotImplementedError.
func TestSugarmeDiffNmt(t *testing.T) {
	n, err := newNormalizer(json.RawMessage(`{"type": "Nmt"}`))
	if err != nil {
		t.Fatal(err)
	}
	if got, _ := n.normalize("a\x01b\tc\u200bd"); got != "ab c d" {
		t.Errorf("Nmt = %q", got)
	}
}

// sugarme: WordPiece's continuing_subword_prefix is read from the wrong key, so "##" is
// always used.
func TestSugarmeDiffWordPiecePrefix(t *testing.T) {
	m, err := newModel(json.RawMessage(`{"type": "WordPiece", "unk_token": "[UNK]", "continuing_subword_prefix": "@@",
		"max_input_chars_per_word": 100, "vocab": {"[UNK]": 0, "hel": 1, "@@lo": 2, "##lo": 3}}`))
	if err != nil {
		t.Fatal(err)
	}
	if got, _ := m.tokenize("hello", nil); !slices.Equal(got, []int32{1, 2}) {
		t.Errorf("hello = %v, want [hel @@lo]", got)
	}
}

// Lowercase follows Rust's char::to_lowercase, which maps İ to two characters.
func TestLowercase(t *testing.T) {
	if got := lowercase("İSTANBUL Straße"); got != "i\u0307stanbul straße" {
		t.Errorf("lowercase = %q", got)
	}
}

// lossyUTF8 agrees with WHATWG's decoder (what Rust's from_utf8_lossy implements), checked
// with node's TextDecoder.
func TestLossyUTF8(t *testing.T) {
	tests := map[string]string{
		"\xF0\x9F\x98":     "\uFFFD",
		"\xC3\xC3":         "\uFFFD\uFFFD",
		"\xED\xA0\x80":     "\uFFFD\uFFFD\uFFFD",
		"\xE0\x80":         "\uFFFD\uFFFD",
		"\xF4\x90\x80\x80": "\uFFFD\uFFFD\uFFFD\uFFFD",
		"a\xF0\x9FA":       "a\uFFFDA",
		"ok ✓":             "ok ✓",
	}
	for in, want := range tests {
		if got := lossyUTF8([]byte(in)); got != want {
			t.Errorf("lossyUTF8(%q) = %q, want %q", in, got, want)
		}
	}
}
