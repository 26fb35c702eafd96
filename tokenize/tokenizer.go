package tokenize

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"unicode/utf8"
)

// Tokenizer turns text into model ids and back, as the Hugging Face tokenizer.json it was
// loaded from would. It is safe for concurrent use.
type Tokenizer struct {
	rawMatcher        *addedTokenMatcher // added tokens with normalized: false
	normalizedMatcher *addedTokenMatcher // added tokens with normalized: true
	normalizer        textNormalizer     // nil: none
	preTokenizer      preTokenizer       // nil: the whole piece is one word
	model             tokenModel
	decoder           tokenDecoder // nil: tokens joined by spaces

	idToToken []string // id -> token text; "" for ids nothing maps to
	tokenToID map[string]int32
	special   []bool // id -> added token marked special
	vocabSize int

	bos, eos, pad, unk int32
	stops              []int32 // EOS and every other end-of-generation id the model lists
	templateFamily     string  // built-in layout of tokenizer_config.json's chat_template
}

// tokenizerJSON is the top level of a tokenizer.json. post_processor, truncation and padding
// are ignored: Encode adds BOS itself and batching pads.
type tokenizerJSON struct {
	AddedTokens  []*addedToken   `json:"added_tokens"`
	Normalizer   json.RawMessage `json:"normalizer"`
	PreTokenizer json.RawMessage `json:"pre_tokenizer"`
	Model        json.RawMessage `json:"model"`
	Decoder      json.RawMessage `json:"decoder"`
}

// Load reads dir/tokenizer.json and the special tokens named by dir/tokenizer_config.json
// or dir/config.json (both optional; see the package doc for the order of precedence).
func Load(dir string) (*Tokenizer, error) {
	path := filepath.Join(dir, "tokenizer.json")
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("tokenize: %w", err)
	}
	t, err := parseTokenizerJSON(b)
	if err != nil {
		return nil, fmt.Errorf("tokenize: %s: %w", path, err)
	}
	if err := t.resolveSpecialTokens(dir); err != nil {
		return nil, fmt.Errorf("tokenize: %s: %w", dir, err)
	}
	return t, nil
}

func parseTokenizerJSON(b []byte) (*Tokenizer, error) {
	var cfg tokenizerJSON
	if err := json.Unmarshal(b, &cfg); err != nil {
		return nil, err
	}
	if isJSONNull(cfg.Model) {
		return nil, errors.New(`no "model" section`)
	}
	t := &Tokenizer{bos: -1, eos: -1, pad: -1, unk: -1}
	var err error
	if t.model, err = newModel(cfg.Model); err != nil {
		return nil, err
	}
	if t.normalizer, err = newNormalizer(cfg.Normalizer); err != nil {
		return nil, err
	}
	if t.preTokenizer, err = newPreTokenizer(cfg.PreTokenizer); err != nil {
		return nil, err
	}
	if t.decoder, err = newDecoder(cfg.Decoder); err != nil {
		return nil, err
	}
	if err := t.buildVocabulary(cfg.AddedTokens); err != nil {
		return nil, err
	}
	return t, nil
}

// buildVocabulary merges the model vocabulary with the added tokens, whose ids come from
// the file, and builds the two added-token matchers.
func (t *Tokenizer) buildVocabulary(added []*addedToken) error {
	vocab := t.model.vocabulary()
	t.tokenToID = make(map[string]int32, len(vocab)+len(added))
	maxID := int32(-1)
	for tok, id := range vocab {
		if id < 0 {
			return fmt.Errorf("model: token %q has negative id %d", tok, id)
		}
		t.tokenToID[tok] = id
		maxID = max(maxID, id)
	}
	for _, a := range added {
		if a.ID < 0 || a.Content == "" {
			return fmt.Errorf("added_tokens: entry %q has id %d", a.Content, a.ID)
		}
		t.tokenToID[a.Content] = a.ID
		maxID = max(maxID, a.ID)
	}
	t.vocabSize = int(maxID) + 1
	t.idToToken = make([]string, t.vocabSize)
	t.special = make([]bool, t.vocabSize)
	for tok, id := range vocab {
		t.idToToken[id] = tok
	}
	var raw, normalized []*addedToken
	for _, a := range added {
		t.idToToken[a.ID] = a.Content
		t.special[a.ID] = a.Special
		if a.Normalized {
			normalized = append(normalized, a)
		} else {
			raw = append(raw, a)
		}
	}
	t.rawMatcher = newAddedTokenMatcher(raw, func(a *addedToken) string { return a.Content })
	var normErr error
	t.normalizedMatcher = newAddedTokenMatcher(normalized, func(a *addedToken) string {
		if t.normalizer == nil {
			return a.Content
		}
		s, err := t.normalizer.normalize(a.Content)
		if err != nil && normErr == nil {
			normErr = fmt.Errorf("added_tokens: normalizing %q: %w", a.Content, err)
		}
		return s
	})
	return normErr
}

// Encode returns the ids of text, after BOS when addBOS is set. Added tokens written in the
// text ("</s>", "<|user|>") encode as themselves, as in Hugging Face tokenizers. Invalid
// UTF-8 is first replaced by U+FFFD, since the tokenizers it mirrors only see valid text.
func (t *Tokenizer) Encode(text string, addBOS bool) ([]int32, error) {
	if !utf8.ValidString(text) {
		text = strings.ToValidUTF8(text, "\uFFFD")
	}
	ids := make([]int32, 0, len(text)/3+2)
	if addBOS {
		if t.bos < 0 {
			return nil, errors.New("tokenize: Encode with addBOS: the tokenizer has no BOS token")
		}
		ids = append(ids, t.bos)
	}
	var err error
	for _, seg := range t.rawMatcher.split(text) {
		if seg.token != nil {
			ids = append(ids, seg.token.ID)
			continue
		}
		piece := text[seg.start:seg.end]
		if piece == "" { // tokenizers drops empty pieces before normalizing
			continue
		}
		if t.normalizer != nil {
			if piece, err = t.normalizer.normalize(piece); err != nil {
				return nil, fmt.Errorf("tokenize: normalizing: %w", err)
			}
		}
		for _, sub := range t.normalizedMatcher.split(piece) {
			if sub.token != nil {
				ids = append(ids, sub.token.ID)
				continue
			}
			if sub.start == sub.end {
				continue
			}
			atStart := seg.start == 0 && sub.start == 0
			if ids, err = t.encodeWords(piece[sub.start:sub.end], atStart, ids); err != nil {
				return nil, fmt.Errorf("tokenize: %w", err)
			}
		}
	}
	return ids, nil
}

func (t *Tokenizer) encodeWords(piece string, atStart bool, ids []int32) ([]int32, error) {
	if t.preTokenizer == nil {
		return t.model.tokenize(piece, ids)
	}
	words, err := t.preTokenizer.preTokenize(piece, atStart)
	if err != nil {
		return ids, err
	}
	for _, w := range words {
		if w == "" { // tokenizers drops empty splits
			continue
		}
		if ids, err = t.model.tokenize(w, ids); err != nil {
			return ids, err
		}
	}
	return ids, nil
}

// Decode returns the text of ids, leaving out added tokens marked special when skipSpecial
// is set and ids that no token has.
func (t *Tokenizer) Decode(ids []int32, skipSpecial bool) string {
	tokens := make([]string, 0, len(ids))
	for _, id := range ids {
		if id < 0 || int(id) >= t.vocabSize || t.idToToken[id] == "" {
			continue
		}
		if skipSpecial && t.special[id] {
			continue
		}
		tokens = append(tokens, t.idToToken[id])
	}
	if t.decoder == nil {
		return strings.Join(tokens, " ")
	}
	return strings.Join(t.decoder.decodeChain(tokens), "")
}

// VocabSize is one past the largest id, model vocabulary and added tokens together: the
// number of rows an embedding table needs.
func (t *Tokenizer) VocabSize() int { return t.vocabSize }

// BOS is the beginning-of-sequence id, -1 when the tokenizer has none.
func (t *Tokenizer) BOS() int32 { return t.bos }

// EOS is the end-of-sequence id, -1 when the tokenizer has none.
func (t *Tokenizer) EOS() int32 { return t.eos }

// StopIDs are the ids that end a generated response: EOS first, then every other id that
// config.json or generation_config.json lists as eos_token_id (Llama 3.1 lists
// <|end_of_text|>, <|eom_id|> and <|eot_id|>). Empty when there is no EOS.
func (t *Tokenizer) StopIDs() []int32 { return t.stops }

// TemplateFamily names the built-in chat template (TemplateByName) whose layout the
// chat_template of tokenizer_config.json writes: "llama3", "llama2", or "" when it has
// none or none of theirs.
func (t *Tokenizer) TemplateFamily() string { return t.templateFamily }

// PAD is the padding id; it is EOS when the tokenizer names no pad token.
func (t *Tokenizer) PAD() int32 { return t.pad }

// UNK is the unknown-token id, -1 when the tokenizer has none.
func (t *Tokenizer) UNK() int32 { return t.unk }

// TokenID returns the id of a token spelled as in the vocabulary ("▁Hello", "<0x0A>").
func (t *Tokenizer) TokenID(token string) (int32, bool) {
	id, ok := t.tokenToID[token]
	return id, ok
}

// Token returns the vocabulary entry of id, "" when no token has it.
func (t *Tokenizer) Token(id int32) string {
	if id < 0 || int(id) >= t.vocabSize {
		return ""
	}
	return t.idToToken[id]
}
