package data

import (
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"
)

// Schemas for Options.Schema.
const (
	// SchemaAuto picks the schema from the columns: messages -> ultrachat; prompt, chosen and
	// rejected -> prompt-chosen-rejected; chosen and rejected -> hh; prompt and response ->
	// prompt-response.
	SchemaAuto = "auto"
	// SchemaUltraChat reads messages: list<struct<role, content>>; one Example per
	// conversation, its response a random assistant turn.
	SchemaUltraChat = "ultrachat"
	// SchemaHH reads chosen and rejected Anthropic HH-RLHF transcripts ("\n\nHuman: ...
	// \n\nAssistant: ...") that share all but their last assistant turn.
	SchemaHH = "hh"
	// SchemaPromptResponse reads prompt and response strings.
	SchemaPromptResponse = "prompt-response"
	// SchemaPromptChosenRejected reads a prompt (plain text or a transcript) and two
	// responses.
	SchemaPromptChosenRejected = "prompt-chosen-rejected"
)

var schemas = []string{SchemaAuto, SchemaUltraChat, SchemaHH, SchemaPromptResponse, SchemaPromptChosenRejected}

// Parts of a split, for Options.Part.
const (
	PartTrain = "train"
	PartVal   = "val"
	PartTest  = "test"
	PartAll   = "all" // every row, whatever Split says
)

var parts = []string{PartTrain, PartVal, PartTest, PartAll}

// Split sends each row to the train, validation or test part by a hash of its content, so
// that the parts are the same whatever order the rows come in and whichever seed shuffles
// them, and duplicated rows never straddle two parts.
type Split struct {
	Val  float64 // fraction of rows for validation; default 0
	Test float64 // fraction of rows for test; default 0
	// Seed keys the hash; default 0. It is separate from Options.Seed so that runs that
	// shuffle differently still validate on the same rows.
	Seed uint64
}

// Options configures Open and NewStream. The zero value reads every row of a file whose
// schema is detected from its columns.
//
// Bad rows are skipped and counted in Stats by reason; bad files are errors.
//   - Skipped: a null or empty prompt, response, chosen or rejected text ("empty prompt",
//     "empty response", "empty chosen", "empty rejected"); a conversation with no messages
//     ("empty messages") or no assistant turn ("no assistant turn"); a role other than
//     system, user or assistant ("unknown role"); text that is not valid UTF-8 ("invalid
//     UTF-8"); an HH transcript that does not parse ("bad transcript"); chosen and rejected
//     transcripts whose prompts differ ("prompt mismatch"); a pair whose two responses are
//     the same ("chosen equals rejected").
//   - Errors: a missing or unreadable file; an unknown extension; a missing column or one
//     of the wrong type; a corrupt or truncated Parquet or Arrow file; a JSONL line that is
//     not a JSON object, holds a field of the wrong type, or is longer than MaxLineBytes;
//     and a file with no usable rows once skips and the split are applied.
type Options struct {
	// Schema is one of "auto" (default), "ultrachat", "hh", "prompt-response",
	// "prompt-chosen-rejected".
	Schema string

	MessagesColumn string // default "messages"
	PromptColumn   string // default "prompt"
	ResponseColumn string // default "response"
	ChosenColumn   string // default "chosen"
	RejectedColumn string // default "rejected"

	// Seed picks the response turn of each UltraChat conversation (keyed by seed and row,
	// so the choice does not depend on read order) and seeds a Stream's shuffle; default 0.
	Seed uint64

	Split Split
	// Part is the part of Split to read: "train" (default), "val", "test" or "all".
	Part string

	// ShuffleBuffer is how many rows a Stream holds to shuffle; default 10000, 1 keeps the
	// file order. Memory grows with it, not with the file.
	ShuffleBuffer int
	// Epochs is how many passes a Stream makes, each shuffled anew with Seed and the epoch;
	// default 1.
	Epochs int

	// MaxLineBytes bounds one JSONL line; default 64 MiB. A longer line is an error.
	MaxLineBytes int
	// BatchRows is how many Parquet rows are decoded at a time; default 256.
	BatchRows int
}

const (
	defaultShuffleBuffer = 10000
	defaultMaxLineBytes  = 64 << 20
	defaultBatchRows     = 256
)

// withDefaults fills the zero fields and checks the rest.
func (o Options) withDefaults() (Options, error) {
	o.Schema = strings.ToLower(o.Schema)
	if o.Schema == "" {
		o.Schema = SchemaAuto
	}
	if !slices.Contains(schemas, o.Schema) {
		return o, fmt.Errorf("unknown schema %q (want one of %s)", o.Schema, strings.Join(schemas, ", "))
	}
	setDefault(&o.MessagesColumn, "messages")
	setDefault(&o.PromptColumn, "prompt")
	setDefault(&o.ResponseColumn, "response")
	setDefault(&o.ChosenColumn, "chosen")
	setDefault(&o.RejectedColumn, "rejected")
	o.Part = strings.ToLower(o.Part)
	if o.Part == "" {
		o.Part = PartTrain
	}
	if !slices.Contains(parts, o.Part) {
		return o, fmt.Errorf("unknown part %q (want one of %s)", o.Part, strings.Join(parts, ", "))
	}
	if err := o.Split.check(); err != nil {
		return o, err
	}
	if o.ShuffleBuffer == 0 {
		o.ShuffleBuffer = defaultShuffleBuffer
	}
	if o.ShuffleBuffer < 0 {
		return o, fmt.Errorf("shuffle buffer %d is negative", o.ShuffleBuffer)
	}
	if o.Epochs == 0 {
		o.Epochs = 1
	}
	if o.Epochs < 0 {
		return o, fmt.Errorf("epochs %d is negative", o.Epochs)
	}
	if o.MaxLineBytes <= 0 {
		o.MaxLineBytes = defaultMaxLineBytes
	}
	if o.BatchRows <= 0 {
		o.BatchRows = defaultBatchRows
	}
	return o, nil
}

func (s Split) check() error {
	ok := func(f float64) bool { return f >= 0 && f <= 1 && !math.IsNaN(f) }
	if !ok(s.Val) || !ok(s.Test) || s.Val+s.Test > 1 {
		return errors.New("split fractions must be in [0, 1] and sum to at most 1 " +
			fmt.Sprintf("(have val %g, test %g)", s.Val, s.Test))
	}
	return nil
}

func setDefault(s *string, def string) {
	if *s == "" {
		*s = def
	}
}
