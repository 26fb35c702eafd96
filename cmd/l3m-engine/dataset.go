package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"

	"github.com/l3m/l3m-engine/data"
	"github.com/l3m/l3m-engine/engine"
	"github.com/l3m/l3m-engine/tokenize"
)

// DataFlags select and parse a dataset file; every command that reads data embeds them.
type DataFlags struct {
	Schema         string  `default:"auto" enum:"auto,ultrachat,hh,prompt-response,prompt-chosen-rejected" help:"Dataset schema: auto (detected from columns), ultrachat (messages), hh (chosen/rejected transcripts), prompt-response, prompt-chosen-rejected." json:"schema"`
	MessagesColumn string  `default:"messages" help:"Column of UltraChat-style conversations." json:"messages_column"`
	PromptColumn   string  `default:"prompt" help:"Prompt column." json:"prompt_column"`
	ResponseColumn string  `default:"response" help:"Response column." json:"response_column"`
	ChosenColumn   string  `default:"chosen" help:"Chosen-response (or transcript) column of preference data." json:"chosen_column"`
	RejectedColumn string  `default:"rejected" help:"Rejected-response (or transcript) column of preference data." json:"rejected_column"`
	Template       string  `default:"auto" enum:"auto,plain,llama2,llama3" help:"Chat template: plain (<|user|> ... <|assistant|>), llama2 ([INST] ... [/INST]), llama3 (<|start_header_id|>user<|end_header_id|> ... <|eot_id|>), or auto: llama3 or llama2 when the model's tokenizer_config.json has a chat_template of that layout, else plain." json:"template"`
	MaxTokens      int     `default:"512" help:"Drop (and count) examples whose prompt+response exceed this many tokens." json:"max_tokens"`
	ValSplit       float64 `default:"0.05" help:"Without --val, the fraction of the training file (chosen by a stable hash of each row) held out for validation." json:"val_split"`
}

// Help of the data flags, quoted from the data package's rules.
const dataHelp = "Bad rows are skipped and counted (empty prompt/response, no assistant turn, unknown role, invalid UTF-8, unparsable transcript); " +
	"bad files are errors (missing file or column, corrupt Parquet, bad JSON, no usable rows)."

func (d DataFlags) options(seed uint64, part string, split data.Split) data.Options {
	return data.Options{
		Schema: d.Schema, MessagesColumn: d.MessagesColumn, PromptColumn: d.PromptColumn,
		ResponseColumn: d.ResponseColumn, ChosenColumn: d.ChosenColumn, RejectedColumn: d.RejectedColumn,
		Seed: seed, Split: split, Part: part,
	}
}

// templateName resolves --template: auto becomes the layout of the tokenizer's own
// chat_template when it is a built-in one, else plain.
func (d DataFlags) templateName(tok *tokenize.Tokenizer) string {
	if d.Template != "auto" {
		return d.Template
	}
	if family := tok.TemplateFamily(); family != "" {
		return family
	}
	return "plain"
}

func (d DataFlags) template(tok *tokenize.Tokenizer) tokenize.ChatTemplate {
	t, err := tokenize.TemplateByName(d.templateName(tok))
	if err != nil {
		panic(err) // kong's enum admits only known names
	}
	t.MaxTokens = d.MaxTokens
	return t
}

// batchStream is a data file tokenized and batched, as an engine.Source.
type batchStream struct {
	s *data.Stream
	b *data.Batcher
}

// batching says how sequences become micro-batches.
type batching struct {
	size  int    // sequences (or pairs) per micro-batch
	group int    // length grouping over this many micro-batches; 0 = off
	seed  uint64 // order of grouped batches
	pairs bool   // chosen/rejected pairs side by side
}

// openBatches opens path for batching with the model's tokenizer and template.
func openBatches(path string, opt data.Options, tok *tokenize.Tokenizer, tmpl tokenize.ChatTemplate, bo batching) (*batchStream, error) {
	s, err := data.NewStream(path, opt)
	if err != nil {
		return nil, err
	}
	pad := tok.PAD()
	if pad < 0 {
		pad = 0
	}
	b, err := data.NewBatcher(s, tmpl.Encoder(tok), data.BatchOptions{Size: bo.size, MaxTokens: tmpl.MaxTokens, PadID: pad,
		Pairs: bo.pairs, GroupBatches: bo.group, Seed: bo.seed})
	if err != nil {
		s.Close()
		return nil, err
	}
	return &batchStream{s: s, b: b}, nil
}

func (bs *batchStream) Next() (engine.Batch, error) {
	b, err := bs.b.Next()
	if err != nil {
		return engine.Batch{}, err
	}
	return engine.Batch{B: b.B, T: b.T, IDs: b.IDs, AttentionMask: b.AttentionMask, LossMask: b.LossMask}, nil
}

func (bs *batchStream) Epoch() int { return bs.s.Epoch() }

func (bs *batchStream) State() (json.RawMessage, error) { return json.Marshal(bs.b.BatchState()) }

func (bs *batchStream) Restore(m json.RawMessage) error {
	var st data.BatchState
	if err := json.Unmarshal(m, &st); err != nil {
		return err
	}
	return bs.b.Restore(st)
}

func (bs *batchStream) Close() error { return bs.s.Close() }

// countUnits makes one pass over the data and counts the sequences (or, with pairs, the
// preference pairs) that survive the filters (skips, length limit), which sizes the run's
// schedule.
func countUnits(path string, opt data.Options, tok *tokenize.Tokenizer, tmpl tokenize.ChatTemplate, pairs bool) (int, data.BatchStats, data.Stats, error) {
	opt.Epochs, opt.ShuffleBuffer = 1, 1
	bs, err := openBatches(path, opt, tok, tmpl, batching{size: 256, pairs: pairs})
	if err != nil {
		return 0, data.BatchStats{}, data.Stats{}, err
	}
	defer bs.Close()
	rows := 0
	for {
		b, err := bs.b.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return 0, data.BatchStats{}, data.Stats{}, err
		}
		rows += b.B
	}
	unit, n := "sequence", rows
	if pairs {
		unit, n = "pair", rows/2
	}
	if n == 0 {
		return 0, bs.b.Stats(), bs.s.Stats(), fmt.Errorf("%s: no %s fits --max-tokens %d (%d too long)", path, unit, tmpl.MaxTokens, bs.b.Stats().TooLong)
	}
	return n, bs.b.Stats(), bs.s.Stats(), nil
}

// evaluate scores every sequence of a data part and returns the perplexity summary.
func evaluate(sc *engine.Scorer, path string, opt data.Options, tok *tokenize.Tokenizer, tmpl tokenize.ChatTemplate, batch int) (engine.Perplexity, error) {
	opt.Epochs, opt.ShuffleBuffer = 1, 1
	bs, err := openBatches(path, opt, tok, tmpl, batching{size: batch, group: 64})
	if err != nil {
		return engine.Perplexity{}, err
	}
	defer bs.Close()
	var acc engine.PerplexityAccumulator
	for {
		b, err := bs.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return engine.Perplexity{}, err
		}
		s, err := sc.Run(b)
		if err != nil {
			return engine.Perplexity{}, err
		}
		acc.Add(s)
	}
	return acc.Result(), nil
}
