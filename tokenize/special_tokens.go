package tokenize

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
)

// tokenizerConfig is what Load reads from tokenizer_config.json. Each token may be written
// as a string, as {"content": "..."} (AddedToken form) or as null.
type tokenizerConfig struct {
	BOS          tokenName    `json:"bos_token"`
	EOS          tokenName    `json:"eos_token"`
	PAD          tokenName    `json:"pad_token"`
	UNK          tokenName    `json:"unk_token"`
	ChatTemplate chatTemplate `json:"chat_template"`
}

// chatTemplate is tokenizer_config.json's chat_template: one Jinja template, or a list of
// named ones ({"name": ..., "template": ...}), joined here.
type chatTemplate string

func (c *chatTemplate) UnmarshalJSON(b []byte) error {
	*c = ""
	if isJSONNull(b) {
		return nil
	}
	var one string
	if json.Unmarshal(b, &one) == nil {
		*c = chatTemplate(one)
		return nil
	}
	var named []struct {
		Template string `json:"template"`
	}
	if err := json.Unmarshal(b, &named); err != nil {
		return fmt.Errorf("chat_template: want a string or a list of {name, template}, have %.40s", b)
	}
	var all []string
	for _, n := range named {
		all = append(all, n.Template)
	}
	*c = chatTemplate(strings.Join(all, "\n"))
	return nil
}

// tokenName is a special token's text; "" when absent or null.
type tokenName string

func (t *tokenName) UnmarshalJSON(b []byte) error {
	if isJSONNull(b) {
		return nil
	}
	var s string
	if json.Unmarshal(b, &s) == nil {
		*t = tokenName(s)
		return nil
	}
	var obj struct {
		Content string `json:"content"`
	}
	if err := json.Unmarshal(b, &obj); err != nil {
		return fmt.Errorf("want a string or {\"content\": ...}, have %s", b)
	}
	*t = tokenName(obj.Content)
	return nil
}

// modelConfig is what Load reads from config.json; eos_token_id may be a list (the first
// entry is used).
type modelConfig struct {
	BOS tokenID `json:"bos_token_id"`
	EOS tokenID `json:"eos_token_id"`
	PAD tokenID `json:"pad_token_id"`
}

// eosList is the whole eos_token_id of config.json or generation_config.json: one id, a
// list or null.
type eosList struct {
	EOS tokenIDs `json:"eos_token_id"`
}

type tokenIDs []int32

// UnmarshalJSON accepts one id, a list of ids or null (no ids).
func (t *tokenIDs) UnmarshalJSON(b []byte) error {
	*t = nil
	if isJSONNull(b) {
		return nil
	}
	var id int32
	if json.Unmarshal(b, &id) == nil {
		*t = tokenIDs{id}
		return nil
	}
	var ids []int32
	if err := json.Unmarshal(b, &ids); err != nil {
		return fmt.Errorf("want an id or a list of ids, have %s", b)
	}
	*t = ids
	return nil
}

// tokenID is an id from config.json; -1 when absent or null.
type tokenID int32

// UnmarshalJSON takes the first of a list of ids.
func (t *tokenID) UnmarshalJSON(b []byte) error {
	var ids tokenIDs
	if err := ids.UnmarshalJSON(b); err != nil {
		return err
	}
	*t = -1
	if len(ids) > 0 {
		*t = tokenID(ids[0])
	}
	return nil
}

// Fallback names, tried in order when neither config file names a token.
var (
	wellKnownBOS = []string{"<s>", "<|begin_of_text|>", "<|startoftext|>", "<bos>", "[CLS]", "<|endoftext|>"}
	wellKnownEOS = []string{"</s>", "<|end_of_text|>", "<|endoftext|>", "<eos>", "[SEP]"}
	wellKnownPAD = []string{"<pad>", "[PAD]", "<|pad|>", "<|padding|>"}
	wellKnownUNK = []string{"<unk>", "[UNK]", "<|unk|>"}
)

// readOptionalJSON decodes path into v; a missing file is not an error (found is false).
func readOptionalJSON(path string, v any) (found bool, err error) {
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	if err := json.Unmarshal(b, v); err != nil {
		return true, fmt.Errorf("%s: %w", filepath.Base(path), err)
	}
	return true, nil
}

// resolveSpecialTokens fills t.bos, t.eos, t.pad and t.unk from dir's tokenizer_config.json,
// then config.json, then the well-known names. PAD falls back to EOS, the usual choice for
// models trained without one; a token that cannot be found is -1.
func (t *Tokenizer) resolveSpecialTokens(dir string) error {
	var tc tokenizerConfig
	if _, err := readOptionalJSON(filepath.Join(dir, "tokenizer_config.json"), &tc); err != nil {
		return err
	}
	mc := modelConfig{BOS: -1, EOS: -1, PAD: -1}
	if _, err := readOptionalJSON(filepath.Join(dir, "config.json"), &mc); err != nil {
		return err
	}
	pick := func(what string, name tokenName, id tokenID, wellKnown []string) (int32, error) {
		if name != "" {
			got, ok := t.TokenID(string(name))
			if !ok {
				return -1, fmt.Errorf("tokenizer_config.json: %s %q is not in the vocabulary", what, name)
			}
			return got, nil
		}
		if id >= 0 {
			if int(id) >= t.vocabSize {
				return -1, fmt.Errorf("config.json: %s_id %d is outside the vocabulary (size %d)", what, id, t.vocabSize)
			}
			return int32(id), nil
		}
		for _, n := range wellKnown {
			if got, ok := t.TokenID(n); ok {
				return got, nil
			}
		}
		return -1, nil
	}
	var err error
	if t.bos, err = pick("bos_token", tc.BOS, mc.BOS, wellKnownBOS); err != nil {
		return err
	}
	if t.eos, err = pick("eos_token", tc.EOS, mc.EOS, wellKnownEOS); err != nil {
		return err
	}
	if t.pad, err = pick("pad_token", tc.PAD, mc.PAD, wellKnownPAD); err != nil {
		return err
	}
	if t.pad < 0 {
		t.pad = t.eos
	}
	if t.unk, err = pick("unk_token", tc.UNK, -1, wellKnownUNK); err != nil {
		return err
	}
	t.templateFamily = templateFamily(string(tc.ChatTemplate))
	return t.resolveStops(dir)
}

// templateFamily names the built-in layout a Jinja chat template writes, by its markers:
// "llama3" (<|start_header_id|>), "llama2" ([INST]: LLaMA-2 chat and Mistral instruct), or
// "" for none of them.
func templateFamily(jinja string) string {
	switch {
	case strings.Contains(jinja, "<|start_header_id|>"):
		return "llama3"
	case strings.Contains(jinja, "[INST]"):
		return "llama2"
	}
	return ""
}

// resolveStops sets t.stops: EOS, then the eos_token_id entries of config.json and
// generation_config.json, each once.
func (t *Tokenizer) resolveStops(dir string) error {
	t.stops = nil
	if t.eos < 0 {
		return nil
	}
	t.stops = []int32{t.eos}
	for _, name := range []string{"config.json", "generation_config.json"} {
		var l eosList
		if _, err := readOptionalJSON(filepath.Join(dir, name), &l); err != nil {
			return err
		}
		for _, id := range l.EOS {
			if id < 0 || int(id) >= t.vocabSize {
				return fmt.Errorf("%s: eos_token_id %d is outside the vocabulary (size %d)", name, id, t.vocabSize)
			}
			if !slices.Contains(t.stops, id) {
				t.stops = append(t.stops, id)
			}
		}
	}
	return nil
}
