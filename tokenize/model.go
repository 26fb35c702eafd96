package tokenize

import (
	"encoding/json"
	"fmt"

	"github.com/sugarme/tokenizer"
	"github.com/sugarme/tokenizer/model"
	"github.com/sugarme/tokenizer/model/wordlevel"
	"github.com/sugarme/tokenizer/model/wordpiece"
)

// tokenModel maps one pre-tokenized word to ids.
type tokenModel interface {
	// tokenize appends the ids of word to ids.
	tokenize(word string, ids []int32) ([]int32, error)
	// vocabulary is token -> id, without added tokens.
	vocabulary() map[string]int32
}

func (m *bpeModel) vocabulary() map[string]int32 { return m.vocab }

// sugarmeModel runs one of sugarme's models (WordPiece, WordLevel).
type sugarmeModel struct {
	m     tokenizer.Model
	vocab map[string]int32
}

func (a *sugarmeModel) tokenize(word string, ids []int32) ([]int32, error) {
	toks, err := a.m.Tokenize(word)
	if err != nil {
		return ids, err
	}
	for _, t := range toks {
		ids = append(ids, int32(t.Id))
	}
	return ids, nil
}

func (a *sugarmeModel) vocabulary() map[string]int32 { return a.vocab }

// newModel builds the tokenizer.json "model" section. BPE is ours (see bpeModel for why);
// WordPiece and WordLevel are sugarme's, configured here because its JSON reader drops
// WordPiece's continuing_subword_prefix.
func newModel(raw json.RawMessage) (tokenModel, error) {
	var cfg struct {
		Type                    string           `json:"type"`
		Vocab                   json.RawMessage  `json:"vocab"`
		UnkToken                *string          `json:"unk_token"`
		ContinuingSubwordPrefix *string          `json:"continuing_subword_prefix"`
		MaxInputCharsPerWord    *int             `json:"max_input_chars_per_word"`
		Merges                  *json.RawMessage `json:"merges"`
	}
	if err := json.Unmarshal(raw, &cfg); err != nil {
		return nil, fmt.Errorf("model: %w", err)
	}
	if cfg.Type == "" && cfg.Merges != nil { // files written before "type" existed
		cfg.Type = "BPE"
	}
	switch cfg.Type {
	case "BPE":
		return newBPEModel(raw)
	case "WordPiece", "WordLevel":
	default:
		return nil, fmt.Errorf("model: type %q is not supported (supported: BPE, WordPiece, WordLevel)", cfg.Type)
	}
	vocab := map[string]int32{}
	if err := json.Unmarshal(cfg.Vocab, &vocab); err != nil {
		return nil, fmt.Errorf("model (%s): vocab: %w", cfg.Type, err)
	}
	sugarVocab := make(model.Vocab, len(vocab))
	for tok, id := range vocab {
		sugarVocab[tok] = int(id)
	}
	unk := "[UNK]"
	if cfg.Type == "WordLevel" {
		unk = "<unk>"
	}
	if cfg.UnkToken != nil {
		unk = *cfg.UnkToken
	}
	if cfg.Type == "WordLevel" {
		m, err := wordlevel.New(sugarVocab, unk)
		if err != nil {
			return nil, fmt.Errorf("model (WordLevel): %w", err)
		}
		return &sugarmeModel{m: m, vocab: vocab}, nil
	}
	b := wordpiece.NewWordPieceBuilder().Vocab(&sugarVocab).UnkToken(unk)
	if cfg.ContinuingSubwordPrefix != nil {
		b = b.ContinuingSubwordPrefix(*cfg.ContinuingSubwordPrefix)
	}
	if cfg.MaxInputCharsPerWord != nil {
		b = b.MaxInputCharsPerWord(*cfg.MaxInputCharsPerWord)
	}
	m := b.Build()
	return &sugarmeModel{m: &m, vocab: vocab}, nil
}
