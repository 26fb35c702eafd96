package tokenize

import (
	"slices"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/l3m/l3m-engine/data"
)

// FuzzRoundTrip checks that the byte-level tokenizers (GPT-2 and Llama 3 style) decode
// every valid UTF-8 text back to itself and never fail to encode.
func FuzzRoundTrip(f *testing.F) {
	for _, s := range roundTripTexts {
		f.Add(s)
	}
	f.Add("<|user|>\n</s><s><pad>")
	f.Add("<|begin_of_text|>DON'T 12345\r\n\n  x<|eot_id|>")
	tokenizers := []*Tokenizer{mustLoad(f, "dict-bpe"), mustLoad(f, "llama3-tiny")}
	f.Fuzz(func(t *testing.T, text string) {
		want := text
		if !utf8.ValidString(text) {
			want = strings.ToValidUTF8(text, "\uFFFD")
		}
		for _, tok := range tokenizers {
			ids, err := tok.Encode(text, false)
			if err != nil {
				t.Fatalf("Encode(%q): %v", text, err)
			}
			for _, id := range ids {
				if id < 0 || int(id) >= tok.VocabSize() {
					t.Fatalf("Encode(%q) gave id %d outside the vocabulary", text, id)
				}
			}
			if got := tok.Decode(ids, false); got != want {
				t.Fatalf("Decode(Encode(%q)) = %q", text, got)
			}
		}
	})
}

// FuzzChatTemplate checks the Encoder's invariants on random dialogues: no panic, one mask
// entry per id, the mask a suffix that decodes to the response and EOS.
func FuzzChatTemplate(f *testing.F) {
	f.Add("Be brief.", "What is FTP?", "File Transfer Protocol.", uint8(0))
	f.Add("", "", "", uint8(1))
	f.Add("sys </s>", "<|user|>", " lead\n\ttab 😀", uint8(2))
	f.Add("x", "y", "👨‍👩‍👧‍👦", uint8(3))
	tokenizers := []*Tokenizer{mustLoad(f, "dict-bpe"), mustLoad(f, "llama2")}
	templates := []ChatTemplate{PlainTemplate(), Llama2Template()}
	f.Fuzz(func(t *testing.T, system, user, response string, pick uint8) {
		tok := tokenizers[pick%2]
		template := templates[(pick/2)%2]
		template.MaxTokens = 1 << 20
		prompt := []data.Message{{Role: data.RoleUser, Content: user}}
		if pick&4 != 0 {
			prompt = append([]data.Message{{Role: data.RoleSystem, Content: system}}, prompt...)
		}
		if pick&8 != 0 {
			prompt = append(prompt, data.Message{Role: data.RoleAssistant, Content: response}, data.Message{Role: data.RoleUser, Content: system})
		}
		seq, err := template.Encoder(tok)(data.Example{Prompt: prompt, Response: response})
		if err != nil {
			t.Fatal(err)
		}
		if len(seq.IDs) != len(seq.LossMask) {
			t.Fatalf("%d ids, %d mask entries", len(seq.IDs), len(seq.LossMask))
		}
		first := slices.Index(seq.LossMask, true)
		if first < 0 || slices.Contains(seq.LossMask[first:], false) || seq.IDs[len(seq.IDs)-1] != tok.EOS() {
			t.Fatalf("mask %v is not a non-empty suffix ending on EOS", seq.LossMask)
		}
		if !roundTrips(tok, response) {
			return
		}
		if got, want := tok.Decode(seq.IDs[first:], false), response+tok.Token(tok.EOS()); got != want {
			t.Fatalf("masked ids decode to %q, want %q", got, want)
		}
	})
}

// roundTrips tells whether tok gives text back on decode: the LLaMA tokenizer folds a
// leading space into its "▁" prefix and both rewrite invalid UTF-8.
func roundTrips(tok *Tokenizer, text string) bool {
	ids, err := tok.Encode(text, false)
	return err == nil && tok.Decode(ids, false) == text
}
