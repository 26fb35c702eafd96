package tokenize

import (
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/l3m/l3m-engine/data"
)

var multiTurn = []data.Message{
	{Role: data.RoleSystem, Content: "Be brief."},
	{Role: data.RoleUser, Content: "What is FTP?"},
	{Role: data.RoleAssistant, Content: "File Transfer Protocol."},
	{Role: data.RoleUser, Content: "And HTTP?"},
}

func TestRender(t *testing.T) {
	plain, llama, llama3 := PlainTemplate(), Llama2Template(), Llama3Template()
	tests := []struct {
		name     string
		template *ChatTemplate
		prompt   []data.Message
		want     string
	}{
		{"plain multi-turn", &plain, multiTurn,
			"<|system|>\nBe brief.\n<|user|>\nWhat is FTP?\n<|assistant|>\nFile Transfer Protocol.\n<|user|>\nAnd HTTP?\n<|assistant|>\n"},
		{"plain no messages", &plain, nil, "<|assistant|>\n"},
		{"llama2 multi-turn", &llama, multiTurn,
			"[INST] <<SYS>>\nBe brief.\n<</SYS>>\n\nWhat is FTP? [/INST] File Transfer Protocol. </s><s>[INST] And HTTP? [/INST]"},
		{"llama2 no system", &llama, multiTurn[1:2], "[INST] What is FTP? [/INST]"},
		{"llama2 system only", &llama, multiTurn[:1], "[INST] <<SYS>>\nBe brief.\n<</SYS>>\n\n [/INST]"},
		{"llama2 later system is a turn", &llama, []data.Message{multiTurn[1], multiTurn[0]},
			"[INST] What is FTP? [/INST]<<SYS>>\nBe brief.\n<</SYS>>\n\n"},
		{"llama3 multi-turn", &llama3, multiTurn,
			"<|start_header_id|>system<|end_header_id|>\n\nBe brief.<|eot_id|>" +
				"<|start_header_id|>user<|end_header_id|>\n\nWhat is FTP?<|eot_id|>" +
				"<|start_header_id|>assistant<|end_header_id|>\n\nFile Transfer Protocol.<|eot_id|>" +
				"<|start_header_id|>user<|end_header_id|>\n\nAnd HTTP?<|eot_id|>" +
				"<|start_header_id|>assistant<|end_header_id|>\n\n"},
	}
	for _, tt := range tests {
		got, err := tt.template.Render(tt.prompt)
		if err != nil {
			t.Fatalf("%s: %v", tt.name, err)
		}
		if got != tt.want {
			t.Errorf("%s:\n got %q\nwant %q", tt.name, got, tt.want)
		}
	}
	if _, err := plain.Render([]data.Message{{Role: "tool", Content: "x"}}); err == nil || !strings.Contains(err.Error(), `role "tool"`) {
		t.Errorf("Render(tool) error = %v", err)
	}
}

func TestTemplateByName(t *testing.T) {
	for name, want := range map[string]ChatTemplate{"plain": PlainTemplate(), "": PlainTemplate(),
		"llama2": Llama2Template(), "llama3": Llama3Template()} {
		got, err := TemplateByName(name)
		if err != nil || got != want {
			t.Errorf("TemplateByName(%q) = %+v, %v", name, got, err)
		}
	}
	if _, err := TemplateByName("chatml"); err == nil || !strings.Contains(err.Error(), `"chatml" is unknown (known: plain, llama2, llama3)`) {
		t.Errorf("TemplateByName(chatml) error = %v", err)
	}
}

func TestEncoderMask(t *testing.T) {
	for _, tc := range []struct {
		tokenizer string
		template  ChatTemplate
	}{{"dict-bpe", PlainTemplate()}, {"llama2", Llama2Template()}, {"llama2", PlainTemplate()}, {"llama3-tiny", Llama3Template()}} {
		tok := mustLoad(t, tc.tokenizer)
		ex := data.Example{Prompt: multiTurn, Response: "Hypertext Transfer Protocol.", Pos: data.Position{File: "x.jsonl", Row: 7}}
		seq, err := tc.template.Encoder(tok)(ex)
		if err != nil {
			t.Fatal(err)
		}
		if len(seq.IDs) != len(seq.LossMask) {
			t.Fatalf("%d ids, %d mask entries", len(seq.IDs), len(seq.LossMask))
		}
		if seq.IDs[0] != tok.BOS() || seq.LossMask[0] {
			t.Errorf("%s: sequence starts with %d (mask %v), want unmasked BOS %d", tc.tokenizer, seq.IDs[0], seq.LossMask[0], tok.BOS())
		}
		first := slices.Index(seq.LossMask, true)
		prompt, _ := tc.template.Render(ex.Prompt)
		promptIDs, _ := tok.Encode(prompt, true)
		responseIDs, _ := tok.Encode(ex.Response, false)
		if !slices.Equal(seq.IDs[:first], promptIDs) {
			t.Errorf("%s: unmasked part %v, want BOS + prompt %v", tc.tokenizer, seq.IDs[:first], promptIDs)
		}
		if want := append(slices.Clone(responseIDs), tok.EOS()); !slices.Equal(seq.IDs[first:], want) {
			t.Errorf("%s: masked part %v, want response + EOS %v", tc.tokenizer, seq.IDs[first:], want)
		}
		if slices.Contains(seq.LossMask[first:], false) {
			t.Errorf("%s: mask not a suffix: %v", tc.tokenizer, seq.LossMask)
		}
		if got := tok.Decode(seq.IDs[first:], false); got != ex.Response+tok.Token(tok.EOS()) {
			t.Errorf("%s: masked part decodes to %q", tc.tokenizer, got)
		}
	}
}

func TestEncoderNoBOS(t *testing.T) {
	c := PlainTemplate()
	c.NoBOS = true
	seq, err := c.Encoder(mustLoad(t, "dict-bpe"))(data.Example{Prompt: multiTurn[1:2], Response: "x"})
	if err != nil {
		t.Fatal(err)
	}
	if seq.IDs[0] == mustLoad(t, "dict-bpe").BOS() {
		t.Errorf("NoBOS: sequence starts with BOS: %v", seq.IDs)
	}
}

func TestEncoderTooLong(t *testing.T) {
	tok := mustLoad(t, "dict-bpe")
	ex := data.Example{Prompt: multiTurn[1:2], Response: strings.Repeat("word ", 600), Pos: data.Position{File: "big.jsonl", Row: 3}}
	c := PlainTemplate()
	_, err := c.Encoder(tok)(ex)
	if !errors.Is(err, ErrTooLong) {
		t.Fatalf("error = %v, want ErrTooLong", err)
	}
	if !strings.Contains(err.Error(), "big.jsonl:row 3") || !strings.Contains(err.Error(), "MaxTokens 512") {
		t.Errorf("error %q should name the row and the limit", err)
	}
	var tooLong interface{ TooLong() bool }
	if !errors.As(err, &tooLong) || !tooLong.TooLong() {
		t.Errorf("error %T does not report TooLong() to callers that cannot import tokenize", err)
	}
	c.MaxTokens = -1
	if _, err := c.Encoder(tok)(ex); err != nil {
		t.Errorf("MaxTokens -1 (no limit): %v", err)
	}
	// Exactly at the limit is kept.
	seq, _ := c.Encoder(tok)(ex)
	c.MaxTokens = len(seq.IDs)
	if _, err := c.Encoder(tok)(ex); err != nil {
		t.Errorf("at the limit: %v", err)
	}
}

func TestEncoderBadRole(t *testing.T) {
	c := PlainTemplate()
	_, err := c.Encoder(mustLoad(t, "dict-bpe"))(data.Example{Prompt: []data.Message{{Role: "bot"}}, Pos: data.Position{File: "f.jsonl", Row: 2}})
	if err == nil || !strings.Contains(err.Error(), "f.jsonl:row 2") || errors.Is(err, ErrTooLong) {
		t.Errorf("error = %v, want a positioned role error", err)
	}
}

// TestLlama3TemplateTokens: with a Llama-3 tokenizer every header marker and <|eot_id|> is
// one special id, the sequence starts with <|begin_of_text|> and the response ends with
// <|eot_id|>, the tokenizer's EOS.
func TestLlama3TemplateTokens(t *testing.T) {
	tok := mustLoad(t, "llama3-tiny")
	id := func(token string) int32 {
		v, ok := tok.TokenID(token)
		if !ok {
			t.Fatalf("%s not in the vocabulary", token)
		}
		return v
	}
	tmpl := Llama3Template()
	seq, err := tmpl.Encoder(tok)(data.Example{Prompt: multiTurn[1:2], Response: "File Transfer Protocol."})
	if err != nil {
		t.Fatal(err)
	}
	start, end, eot := id("<|start_header_id|>"), id("<|end_header_id|>"), id("<|eot_id|>")
	if seq.IDs[0] != id("<|begin_of_text|>") || seq.IDs[1] != start || seq.IDs[len(seq.IDs)-1] != eot || tok.EOS() != eot {
		t.Fatalf("ids %v: want <|begin_of_text|> <|start_header_id|> ... <|eot_id|> (EOS %d)", seq.IDs, tok.EOS())
	}
	count := func(v int32) int {
		return len(slices.DeleteFunc(slices.Clone(seq.IDs), func(x int32) bool { return x != v }))
	}
	if count(start) != 2 || count(end) != 2 || count(eot) != 2 {
		t.Errorf("ids %v: want 2 headers (user, assistant) and 2 <|eot_id|>", seq.IDs)
	}
}
