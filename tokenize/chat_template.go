package tokenize

import (
	"errors"
	"fmt"
	"strings"

	"github.com/l3m/l3m-engine/data"
)

// ErrTooLong is wrapped by the error an Encoder returns for an example whose sequence
// exceeds MaxTokens; the batcher counts it as a drop rather than a failure.
var ErrTooLong = errors.New("example longer than MaxTokens")

// TooLongError is that error. Its TooLong method lets a caller that cannot import this
// package (data's batcher) recognise it with errors.As on interface{ TooLong() bool }.
type TooLongError struct {
	Pos              data.Position
	Prompt, Response int // ids before the response (BOS included) and after (EOS included)
	MaxTokens        int
}

func (e *TooLongError) Error() string {
	return fmt.Sprintf("tokenize: %s: %d tokens (prompt %d, response %d) > MaxTokens %d: %v; raise MaxTokens or drop the example",
		e.Pos, e.Prompt+e.Response, e.Prompt, e.Response, e.MaxTokens, ErrTooLong)
}

func (e *TooLongError) Unwrap() error { return ErrTooLong }

// TooLong reports true; see the type's doc.
func (e *TooLongError) TooLong() bool { return true }

// DefaultMaxTokens is ChatTemplate.MaxTokens when left zero.
const DefaultMaxTokens = 512

// ChatTemplate renders a dialogue's prompt as text and, through Encoder, turns an example
// into ids with a loss mask. Each message is written as prefix + content + suffix for its
// role; the prompt then ends with GenerationPrefix, after which the response follows.
//
// The zero value writes bare contents one after another; start from PlainTemplate or
// Llama2Template.
type ChatTemplate struct {
	SystemPrefix, SystemSuffix string
	UserPrefix, UserSuffix     string
	// AssistantPrefix and AssistantSuffix wrap the assistant turns inside the prompt (earlier
	// turns of a multi-turn dialogue), not the response being trained on.
	AssistantPrefix, AssistantSuffix string
	// GenerationPrefix ends the prompt; the response starts right after it.
	GenerationPrefix string
	// SystemInFirstUser writes a leading system message inside the first user turn, as
	// UserPrefix + SystemPrefix + system + SystemSuffix + user + UserSuffix (LLaMA-2's
	// <<SYS>> block), instead of as a turn of its own.
	SystemInFirstUser bool
	// NoBOS leaves BOS out. By default a sequence starts with the tokenizer's BOS when it
	// has one.
	NoBOS bool
	// MaxTokens is the longest sequence an Encoder returns, BOS and EOS included; longer
	// examples fail with a *TooLongError, which wraps ErrTooLong. Default DefaultMaxTokens
	// (512); negative means no limit, for a caller that applies its own.
	MaxTokens int
}

// PlainTemplate is the default layout, one marker line per turn:
//
//	<|system|>\n{system}\n<|user|>\n{user}\n<|assistant|>\n{response}</s>
//
// The markers are special tokens of the tokenizers tools/mktokenizer trains, so each costs
// one id there; other tokenizers spell them out.
func PlainTemplate() ChatTemplate {
	return ChatTemplate{
		SystemPrefix: "<|system|>\n", SystemSuffix: "\n",
		UserPrefix: "<|user|>\n", UserSuffix: "\n",
		AssistantPrefix: "<|assistant|>\n", AssistantSuffix: "\n",
		GenerationPrefix: "<|assistant|>\n",
	}
}

// Llama2Template is LLaMA-2 chat's layout:
//
//	<s>[INST] <<SYS>>\n{system}\n<</SYS>>\n\n{user} [/INST] {answer} </s><s>[INST] {user} [/INST] {response}</s>
//
// The space before each answer comes from the tokenizer's "▁" prefix when the response is
// encoded on its own, so GenerationPrefix is empty. Earlier turns end in the text
// " </s><s>", which a LLaMA tokenizer encodes as its EOS and BOS ids.
func Llama2Template() ChatTemplate {
	return ChatTemplate{
		SystemPrefix: "<<SYS>>\n", SystemSuffix: "\n<</SYS>>\n\n",
		UserPrefix: "[INST] ", UserSuffix: " [/INST]",
		AssistantPrefix: " ", AssistantSuffix: " </s><s>",
		SystemInFirstUser: true,
	}
}

// Llama3Template is Llama-3 instruct's layout, every turn a header and an <|eot_id|>:
//
//	<|begin_of_text|><|start_header_id|>system<|end_header_id|>\n\n{system}<|eot_id|>
//	<|start_header_id|>user<|end_header_id|>\n\n{user}<|eot_id|>
//	<|start_header_id|>assistant<|end_header_id|>\n\n{response}<|eot_id|>
//
// (one line here per turn; the text has no newline between turns). The response ends
// with the tokenizer's EOS, which is <|eot_id|> in Llama-3 instruct tokenizers; a base
// model's tokenizer_config.json names <|end_of_text|> instead.
func Llama3Template() ChatTemplate {
	header := func(role string) string { return "<|start_header_id|>" + role + "<|end_header_id|>\n\n" }
	return ChatTemplate{
		SystemPrefix: header("system"), SystemSuffix: "<|eot_id|>",
		UserPrefix: header("user"), UserSuffix: "<|eot_id|>",
		AssistantPrefix: header("assistant"), AssistantSuffix: "<|eot_id|>",
		GenerationPrefix: header("assistant"),
	}
}

// TemplateNames are the names TemplateByName knows.
var TemplateNames = []string{"plain", "llama2", "llama3"}

// TemplateByName returns PlainTemplate, Llama2Template or Llama3Template by name.
func TemplateByName(name string) (ChatTemplate, error) {
	switch name {
	case "plain", "":
		return PlainTemplate(), nil
	case "llama2":
		return Llama2Template(), nil
	case "llama3":
		return Llama3Template(), nil
	}
	return ChatTemplate{}, fmt.Errorf("tokenize: chat template %q is unknown (known: %s)", name, strings.Join(TemplateNames, ", "))
}

// Render writes the prompt messages and GenerationPrefix as one string.
func (c *ChatTemplate) Render(prompt []data.Message) (string, error) {
	var b strings.Builder
	pendingSystem, havePending := "", false
	flushSystem := func() {
		if havePending {
			b.WriteString(c.UserPrefix + c.SystemPrefix + pendingSystem + c.SystemSuffix + c.UserSuffix)
			havePending = false
		}
	}
	for i, m := range prompt {
		switch m.Role {
		case data.RoleSystem:
			if c.SystemInFirstUser && i == 0 {
				pendingSystem, havePending = m.Content, true
				continue
			}
			b.WriteString(c.SystemPrefix + m.Content + c.SystemSuffix)
		case data.RoleUser:
			b.WriteString(c.UserPrefix)
			if havePending {
				b.WriteString(c.SystemPrefix + pendingSystem + c.SystemSuffix)
				havePending = false
			}
			b.WriteString(m.Content + c.UserSuffix)
		case data.RoleAssistant:
			flushSystem()
			b.WriteString(c.AssistantPrefix + m.Content + c.AssistantSuffix)
		default:
			return "", fmt.Errorf("message %d has role %q; want %s, %s or %s", i, m.Role, data.RoleSystem, data.RoleUser, data.RoleAssistant)
		}
	}
	flushSystem()
	b.WriteString(c.GenerationPrefix)
	return b.String(), nil
}

// Encoder returns the data.EncodeFunc that turns an example into
//
//	[BOS] Encode(Render(prompt)) Encode(response) EOS
//
// with LossMask true exactly on the response ids and EOS. Prompt and response are encoded
// separately and concatenated, so the mask boundary falls between two tokens even where
// encoding the joined text would merge across it; the ids can therefore differ from
// encoding the whole transcript at once, the price of an exact boundary.
func (c *ChatTemplate) Encoder(tok *Tokenizer) data.EncodeFunc {
	maxTokens := c.MaxTokens
	if maxTokens == 0 {
		maxTokens = DefaultMaxTokens
	}
	return func(ex data.Example) (data.Sequence, error) {
		fail := func(err error) (data.Sequence, error) {
			return data.Sequence{}, fmt.Errorf("tokenize: %s: %w", ex.Pos, err)
		}
		if tok.EOS() < 0 {
			return fail(errors.New("the tokenizer has no EOS token to end the response with"))
		}
		prompt, err := c.Render(ex.Prompt)
		if err != nil {
			return fail(err)
		}
		var ids []int32
		if !c.NoBOS && tok.BOS() >= 0 {
			ids = append(ids, tok.BOS())
		}
		promptIDs, err := tok.Encode(prompt, false)
		if err != nil {
			return fail(err)
		}
		responseIDs, err := tok.Encode(ex.Response, false)
		if err != nil {
			return fail(err)
		}
		ids = append(ids, promptIDs...)
		responseStart := len(ids)
		ids = append(ids, responseIDs...)
		ids = append(ids, tok.EOS())
		if maxTokens > 0 && len(ids) > maxTokens {
			return data.Sequence{}, &TooLongError{Pos: ex.Pos, Prompt: responseStart, Response: len(ids) - responseStart, MaxTokens: maxTokens}
		}
		mask := make([]bool, len(ids))
		for i := responseStart; i < len(mask); i++ {
			mask[i] = true
		}
		return data.Sequence{IDs: ids, LossMask: mask}, nil
	}
}
