package data

import (
	"errors"
	"fmt"
	"io"
	"slices"
)

// BatchOptions configures a Batcher. The zero value makes batches of 64 sequences of at
// most 512 tokens, the paper's settings.
type BatchOptions struct {
	// Size is the number of examples per batch (pairs when Pairs is set); default 64.
	Size int
	// MaxTokens is the longest sequence kept; default 512. Longer ones are dropped and
	// counted, which is how the paper filters its data.
	MaxTokens int
	// PadID fills the padding; default 0. The attention and loss masks, not the ID, tell
	// padding apart.
	PadID int32
	// PadMultiple rounds T up to a multiple of itself (8 suits tensor cores); default 1,
	// no rounding.
	PadMultiple int
	// Pairs reads preference pairs: each becomes two rows, chosen at 2i and rejected at
	// 2i+1, both dropped if either is too long. B is then 2*Size.
	Pairs bool
}

// Batch is a right-padded batch of sequences, laid out row-major for the engine's tensors.
type Batch struct {
	B, T          int
	IDs           []int64   // B*T token IDs, right-padded with PadID
	LossMask      []float32 // B*T: 1 on response tokens, 0 on prompt and padding
	AttentionMask []int64   // B*T: 1 on tokens, 0 on padding
	Rows          []Position
}

// BatchStats counts what a Batcher did with the examples it read.
type BatchStats struct {
	Batches   int64
	Sequences int64 // rows put into batches
	TooLong   int64 // examples (or pairs) dropped for exceeding MaxTokens
	NoLoss    int64 // examples (or pairs) dropped for having no response token
}

// Batcher tokenizes a Stream's examples and packs them into padded batches. It reads no
// further ahead than the batch it is building, so its State at any point between calls to
// Next is the Stream's.
type Batcher struct {
	s      *Stream
	encode EncodeFunc
	opt    BatchOptions
	stats  BatchStats
	seqs   []Sequence
	rows   []Position
}

// NewBatcher batches s, tokenizing with encode.
func NewBatcher(s *Stream, encode EncodeFunc, opt BatchOptions) (*Batcher, error) {
	if opt.Size < 0 || opt.MaxTokens < 0 || opt.PadMultiple < 0 {
		return nil, fmt.Errorf("data: batch options must not be negative (size %d, max tokens %d, pad multiple %d)", opt.Size, opt.MaxTokens, opt.PadMultiple)
	}
	if opt.Size == 0 {
		opt.Size = 64
	}
	if opt.MaxTokens == 0 {
		opt.MaxTokens = 512
	}
	if opt.PadMultiple == 0 {
		opt.PadMultiple = 1
	}
	if opt.Pairs && !s.Pairs() {
		return nil, s.r.checkPairs()
	}
	return &Batcher{s: s, encode: encode, opt: opt}, nil
}

// Stats counts the batches made and the examples dropped so far.
func (b *Batcher) Stats() BatchStats { return b.stats }

// State is the Stream's State: restoring it into a fresh Stream and Batcher made with the
// same options yields the same batches from here on.
func (b *Batcher) State() State { return b.s.State() }

// Next returns the next batch, a short one at the end of the last epoch, then io.EOF.
func (b *Batcher) Next() (Batch, error) {
	b.seqs, b.rows = b.seqs[:0], b.rows[:0]
	for len(b.rows) < b.rowsPerBatch() {
		err := b.add()
		if err == io.EOF {
			break
		}
		if err != nil {
			return Batch{}, err
		}
	}
	if len(b.rows) == 0 {
		return Batch{}, io.EOF
	}
	b.stats.Batches++
	b.stats.Sequences += int64(len(b.rows))
	return b.pack(), nil
}

func (b *Batcher) rowsPerBatch() int {
	if b.opt.Pairs {
		return 2 * b.opt.Size
	}
	return b.opt.Size
}

// add reads one example (or pair) and keeps its sequences if they fit.
func (b *Batcher) add() error {
	var examples []Example
	if b.opt.Pairs {
		p, err := b.s.NextPair()
		if err != nil {
			return err
		}
		examples = []Example{
			{Prompt: p.Prompt, Response: p.Chosen, Pos: p.Pos},
			{Prompt: p.Prompt, Response: p.Rejected, Pos: p.Pos},
		}
	} else {
		ex, err := b.s.NextExample()
		if err != nil {
			return err
		}
		examples = []Example{ex}
	}
	seqs := make([]Sequence, len(examples))
	tooLong, noLoss := false, false
	for i, ex := range examples {
		seq, err := b.encode(ex)
		var long interface{ TooLong() bool }
		if errors.As(err, &long) && long.TooLong() {
			// The encoder's own length limit (tokenize.ErrTooLong): a counted drop.
			tooLong = true
			continue
		}
		if err != nil {
			var de *Error
			if errors.As(err, &de) {
				return err
			}
			return &Error{Pos: ex.Pos, Err: fmt.Errorf("tokenizing: %w", err)}
		}
		if len(seq.IDs) != len(seq.LossMask) {
			return &Error{Pos: ex.Pos, Err: fmt.Errorf("tokenizing gave %d IDs but %d loss-mask entries", len(seq.IDs), len(seq.LossMask))}
		}
		tooLong = tooLong || len(seq.IDs) > b.opt.MaxTokens
		noLoss = noLoss || !slices.Contains(seq.LossMask, true)
		seqs[i] = seq
	}
	switch {
	case tooLong:
		b.stats.TooLong++
	case noLoss:
		b.stats.NoLoss++
	default:
		b.seqs = append(b.seqs, seqs...)
		for _, ex := range examples {
			b.rows = append(b.rows, ex.Pos)
		}
	}
	return nil
}

// pack pads the collected sequences to the longest, rounded up to PadMultiple.
func (b *Batcher) pack() Batch {
	t := 0
	for _, s := range b.seqs {
		t = max(t, len(s.IDs))
	}
	t = (t + b.opt.PadMultiple - 1) / b.opt.PadMultiple * b.opt.PadMultiple
	n := len(b.seqs)
	batch := Batch{
		B: n, T: t,
		IDs:           make([]int64, n*t),
		LossMask:      make([]float32, n*t),
		AttentionMask: make([]int64, n*t),
		Rows:          slices.Clone(b.rows),
	}
	for i, s := range b.seqs {
		row := i * t
		for j, id := range s.IDs {
			batch.IDs[row+j] = int64(id)
			batch.AttentionMask[row+j] = 1
			if s.LossMask[j] {
				batch.LossMask[row+j] = 1
			}
		}
		for j := len(s.IDs); j < t; j++ {
			batch.IDs[row+j] = int64(b.opt.PadID)
		}
	}
	return batch
}
