package data

import (
	"cmp"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
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
	// GroupBatches, above 1, batches sequences of like length together so that little of
	// T is padding: the Batcher reads GroupBatches*Size examples (pairs, measured by their
	// longer side) that pass the filters, sorts them stably by length, cuts them into
	// batches of Size and hands those out in a random order. A group never spans two
	// epochs, so an epoch's last group, and one batch of it, may be short. Default 0,
	// off (1 is off too): batches take examples in stream order. With grouping a
	// checkpoint must save BatchState, not State.
	GroupBatches int
	// Seed orders each group's batches, together with where the group starts in the
	// stream; default 0. It matters only with GroupBatches.
	Seed uint64
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

// BatchState is where a Batcher stands, small enough to save with a checkpoint (it
// marshals to JSON). With length grouping the Batcher reads a whole group ahead, so the
// Stream's State alone cannot say which of the group's batches are still to come.
type BatchState struct {
	// Stream is the Stream's State at the start of the current group: the batches still
	// to come are made from the rows read after it.
	Stream State `json:"stream"`
	// Emitted counts the group's batches already handed out; 0 without grouping, and
	// between groups.
	Emitted int `json:"emitted"`
	// Config fingerprints the batch options that decide a group's batches (size, max
	// tokens, pairs, group batches, seed); Restore refuses a state with batches emitted
	// that was saved under other ones. The tokenizer must be the same too, but no
	// fingerprint covers it.
	Config uint64 `json:"config"`
}

// Batcher tokenizes a Stream's examples and packs them into padded batches. Without
// grouping it reads no further ahead than the batch it is building, so its State at any
// point between calls to Next is the Stream's. With grouping it reads a group ahead, and
// BatchState says where it stands.
type Batcher struct {
	s      *Stream
	encode EncodeFunc
	opt    BatchOptions
	stats  BatchStats
	seqs   []Sequence
	rows   []Position

	// Length grouping, with GroupBatches > 1.
	group      []groupEntry // the current group, sorted by length
	order      []int        // the group's batches, by index into group/Size, in the order handed out
	emitted    int          // how many of order have been handed out
	groupStart State        // the Stream's State before the group's first row was read
	pending    *pendingRow  // a row read past its group's epoch: the next group's first
}

// groupEntry is an example, or a pair as two sequences, kept for the current group.
type groupEntry struct {
	seqs   []Sequence
	rows   []Position
	length int // the longest of seqs, in tokens
}

// pendingRow is a row the group filler read and found to open a new epoch.
type pendingRow struct {
	examples []Example
	before   State // the Stream's State before it was read
}

// groupStream keys the generator that orders a group's batches, apart from the Stream's
// generators should BatchOptions.Seed equal Options.Seed.
const groupStream = 0x67727570 // "grup"

// NewBatcher batches s, tokenizing with encode.
func NewBatcher(s *Stream, encode EncodeFunc, opt BatchOptions) (*Batcher, error) {
	if opt.Size < 0 || opt.MaxTokens < 0 || opt.PadMultiple < 0 || opt.GroupBatches < 0 {
		return nil, fmt.Errorf("data: batch options must not be negative (size %d, max tokens %d, pad multiple %d, group batches %d)", opt.Size, opt.MaxTokens, opt.PadMultiple, opt.GroupBatches)
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
// same options yields the same batches from here on. With grouping it is the start of the
// current group, so that restoring it would repeat the group's batches already handed
// out; use BatchState and Restore instead.
func (b *Batcher) State() State { return b.BatchState().Stream }

// BatchState says where the Batcher stands: restoring it with Restore into a fresh Stream
// and Batcher made with the same options yields the same batches from here on, with or
// without grouping. Between groups, and always without grouping, Emitted is 0 and Stream
// is the Stream's State.
func (b *Batcher) BatchState() BatchState {
	if b.emitted < len(b.order) {
		return BatchState{Stream: b.groupStart, Emitted: b.emitted, Config: b.config()}
	}
	return BatchState{Stream: b.nextGroupStart(), Config: b.config()}
}

// Restore moves the Batcher, and its Stream, to a saved BatchState. Mid-group it replays
// the stream to the group's start and reads, tokenizes and sorts the group again, so it
// costs at most one pass over the file and one group's tokenizing. Stats are left as they
// were.
func (b *Batcher) Restore(st BatchState) error {
	switch {
	case st.Emitted < 0:
		return fileError(b.s.path, "", fmt.Errorf("batch state has %d batches emitted; it must not be negative", st.Emitted))
	case st.Emitted > 0 && b.opt.GroupBatches <= 1:
		return fileError(b.s.path, "", fmt.Errorf("batch state has %d batches of a group emitted, but this batcher does not group; set BatchOptions.GroupBatches as the saved run did", st.Emitted))
	case st.Emitted > 0 && st.Config != b.config():
		return fileError(b.s.path, "", fmt.Errorf("batch state was saved with other batch options (config %x, now %x): size, max tokens, pairs, group batches and seed must match", st.Config, b.config()))
	}
	if err := b.s.Restore(st.Stream); err != nil {
		return err
	}
	b.resetGroup()
	b.pending = nil
	if st.Emitted == 0 {
		return nil
	}
	stats := b.stats
	err := b.fillGroup()
	b.stats = stats // the saved run counted this group's drops before it was saved
	if err != nil {
		return err
	}
	if st.Emitted > len(b.order) {
		n := len(b.order)
		b.resetGroup()
		return fileError(b.s.path, "", fmt.Errorf("batch state has %d batches emitted from the group at epoch %d, row %d, but the group has only %d; is it the same file and tokenizer?", st.Emitted, st.Stream.Epoch, st.Stream.Consumed, n))
	}
	b.emitted = st.Emitted
	return nil
}

// Next returns the next batch, then io.EOF. Without grouping only the last batch of the
// last epoch may be short; with grouping, one batch of each epoch's last group may be.
func (b *Batcher) Next() (Batch, error) {
	if b.opt.GroupBatches > 1 {
		return b.nextGrouped()
	}
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
	examples, err := b.read()
	if err != nil {
		return err
	}
	seqs, err := b.tokenize(examples)
	if err != nil || seqs == nil {
		return err
	}
	b.seqs = append(b.seqs, seqs...)
	for _, ex := range examples {
		b.rows = append(b.rows, ex.Pos)
	}
	return nil
}

// read takes the next example from the stream, or the next pair as its chosen and
// rejected examples.
func (b *Batcher) read() ([]Example, error) {
	if b.opt.Pairs {
		p, err := b.s.NextPair()
		if err != nil {
			return nil, err
		}
		return []Example{
			{Prompt: p.Prompt, Response: p.Chosen, Pos: p.Pos},
			{Prompt: p.Prompt, Response: p.Rejected, Pos: p.Pos},
		}, nil
	}
	ex, err := b.s.NextExample()
	if err != nil {
		return nil, err
	}
	return []Example{ex}, nil
}

// tokenize encodes the examples read together. It returns nil, and counts why, when they
// are dropped: all go if one is too long or has no response token.
func (b *Batcher) tokenize(examples []Example) ([]Sequence, error) {
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
				return nil, err
			}
			return nil, &Error{Pos: ex.Pos, Err: fmt.Errorf("tokenizing: %w", err)}
		}
		if len(seq.IDs) != len(seq.LossMask) {
			return nil, &Error{Pos: ex.Pos, Err: fmt.Errorf("tokenizing gave %d IDs but %d loss-mask entries", len(seq.IDs), len(seq.LossMask))}
		}
		tooLong = tooLong || len(seq.IDs) > b.opt.MaxTokens
		noLoss = noLoss || !slices.Contains(seq.LossMask, true)
		seqs[i] = seq
	}
	switch {
	case tooLong:
		b.stats.TooLong++
		return nil, nil
	case noLoss:
		b.stats.NoLoss++
		return nil, nil
	}
	return seqs, nil
}

// nextGrouped hands out the current group's next batch, reading a new group when it has
// none left.
func (b *Batcher) nextGrouped() (Batch, error) {
	if b.emitted == len(b.order) {
		if err := b.fillGroup(); err != nil {
			return Batch{}, err
		}
		if len(b.order) == 0 {
			return Batch{}, io.EOF
		}
	}
	k := b.order[b.emitted]
	b.seqs, b.rows = b.seqs[:0], b.rows[:0]
	for _, e := range b.group[k*b.opt.Size : min((k+1)*b.opt.Size, len(b.group))] {
		b.seqs = append(b.seqs, e.seqs...)
		b.rows = append(b.rows, e.rows...)
	}
	b.emitted++
	b.stats.Batches++
	b.stats.Sequences += int64(len(b.rows))
	return b.pack(), nil
}

// fillGroup reads the next group: GroupBatches*Size kept examples (or pairs), fewer at the
// end of an epoch. It sorts them by length and draws the order of their batches from
// Seed and the group's start, which a restored run reproduces.
func (b *Batcher) fillGroup() error {
	b.resetGroup()
	b.groupStart = b.nextGroupStart()
	epoch := -1
	for len(b.group) < b.opt.GroupBatches*b.opt.Size {
		var examples []Example
		if b.pending != nil {
			examples, b.pending = b.pending.examples, nil
		} else {
			before := b.s.State()
			var err error
			examples, err = b.read()
			if err == io.EOF {
				break
			}
			if err != nil {
				return err
			}
			if epoch >= 0 && b.s.Epoch() != epoch {
				b.pending = &pendingRow{examples: examples, before: before}
				break
			}
		}
		epoch = b.s.Epoch()
		seqs, err := b.tokenize(examples)
		if err != nil {
			return err
		}
		if seqs == nil {
			continue
		}
		e := groupEntry{seqs: seqs, rows: make([]Position, len(examples))}
		for i, ex := range examples {
			e.rows[i] = ex.Pos
			e.length = max(e.length, len(seqs[i].IDs))
		}
		b.group = append(b.group, e)
	}
	slices.SortStableFunc(b.group, func(x, y groupEntry) int { return cmp.Compare(x.length, y.length) })

	n := (len(b.group) + b.opt.Size - 1) / b.opt.Size
	for i := range n {
		b.order = append(b.order, i)
	}
	pcg := rand.NewPCG(mix64(b.opt.Seed^groupStream), mix64(mix64(uint64(b.groupStart.Epoch))+uint64(b.groupStart.Consumed)))
	for i := n - 1; i > 0; i-- {
		j := boundedRand(pcg, i+1)
		b.order[i], b.order[j] = b.order[j], b.order[i]
	}
	return nil
}

// resetGroup empties the current group, letting go of its sequences.
func (b *Batcher) resetGroup() {
	clear(b.group)
	b.group, b.order, b.emitted = b.group[:0], b.order[:0], 0
}

// nextGroupStart is the Stream's State before the next group's first row.
func (b *Batcher) nextGroupStart() State {
	if b.pending != nil {
		return b.pending.before
	}
	return b.s.State()
}

// config fingerprints the options that decide a group's batches, for BatchState.
func (b *Batcher) config() uint64 {
	pairs := uint64(0)
	if b.opt.Pairs {
		pairs = 1
	}
	h := uint64(fnvOffset64)
	for _, x := range []uint64{uint64(b.opt.Size), uint64(b.opt.MaxTokens), pairs, uint64(b.opt.GroupBatches), b.opt.Seed} {
		h = fnv64a(h, x)
	}
	return h
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
