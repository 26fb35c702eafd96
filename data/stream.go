package data

import (
	"fmt"
	"io"
	"math/rand/v2"
)

// Stream yields the usable rows of one file part in a seeded random order, epoch after
// epoch. It visits Parquet row groups in a random order and shuffles rows within a buffer
// of Options.ShuffleBuffer rows, so memory stays bounded whatever the file's size.
//
// The order is a function of the file, the options (Seed above all) and the epoch, which
// is what lets State and Restore resume a run exactly.
type Stream struct {
	path     string
	opt      Options
	r        *Reader
	epoch    int
	consumed int64
	buf      []item
	rng      *rand.PCG
	drained  bool // the reader has reached the end of the epoch
}

// State is where a Stream stands, small enough to save with a checkpoint (it marshals to
// JSON). Restoring it continues with exactly the rows, and so the batches, that an
// uninterrupted run would have seen next.
type State struct {
	Epoch    int   `json:"epoch"`    // 0-based
	Consumed int64 `json:"consumed"` // rows taken from the stream in Epoch
	// Config fingerprints the options that decide the order (schema and columns, seed,
	// split, part, shuffle buffer); Restore refuses a state saved under other ones.
	Config uint64 `json:"config"`
}

// NewStream opens path and starts its first epoch.
func NewStream(path string, opt Options) (*Stream, error) {
	r, err := Open(path, opt)
	if err != nil {
		return nil, err
	}
	s := &Stream{path: path, opt: r.opt, r: r}
	if err := s.startEpoch(0); err != nil {
		r.Close()
		return nil, err
	}
	return s, nil
}

// NextExample returns the next row, or io.EOF after the last epoch. Preference pairs give
// their chosen response.
func (s *Stream) NextExample() (Example, error) {
	it, err := s.next()
	if err != nil {
		return Example{}, err
	}
	return it.example(), nil
}

// NextPair returns the next preference pair, or io.EOF after the last epoch.
func (s *Stream) NextPair() (Pair, error) {
	if err := s.r.checkPairs(); err != nil {
		return Pair{}, err
	}
	it, err := s.next()
	if err != nil {
		return Pair{}, err
	}
	return it.pair(), nil
}

// Epoch is the 0-based epoch of the row last returned (0 before the first).
func (s *Stream) Epoch() int { return s.epoch }

// Stats counts the rows read in the current epoch.
func (s *Stream) Stats() Stats { return s.r.Stats() }

// Schema is the resolved schema (see Reader.Schema).
func (s *Stream) Schema() string { return s.r.Schema() }

// Pairs reports whether the rows are preference pairs.
func (s *Stream) Pairs() bool { return s.r.Pairs() }

// NumRows is the file's row count before skips and splitting, -1 when unknown.
func (s *Stream) NumRows() int64 { return s.r.NumRows() }

// Close releases the file.
func (s *Stream) Close() error { return s.r.Close() }

// State says where the stream stands.
func (s *Stream) State() State {
	return State{Epoch: s.epoch, Consumed: s.consumed, Config: s.config()}
}

// Restore moves the stream to a saved State. It replays the epoch up to that point, reading
// and shuffling but not tokenizing, so it costs at most one pass over the file.
func (s *Stream) Restore(st State) error {
	switch {
	case st.Config != s.config():
		return fileError(s.path, "", fmt.Errorf("state was saved with other data options (config %x, now %x): schema, columns, seed, split, part and shuffle buffer must match", st.Config, s.config()))
	case st.Epoch < 0 || st.Epoch >= s.opt.Epochs || st.Consumed < 0:
		return fileError(s.path, "", fmt.Errorf("state epoch %d, consumed %d is outside a run of %d epochs", st.Epoch, st.Consumed, s.opt.Epochs))
	}
	if err := s.startEpoch(st.Epoch); err != nil {
		return err
	}
	for s.consumed < st.Consumed {
		if _, err := s.shuffled(); err == io.EOF {
			return fileError(s.path, "", fmt.Errorf("state has %d rows consumed in epoch %d, but the epoch has only %d; is it the same file?", st.Consumed, st.Epoch, s.consumed))
		} else if err != nil {
			return err
		}
		s.consumed++
	}
	return nil
}

func (s *Stream) config() uint64 {
	key := fmt.Sprintf("%s|%q|%d|%v|%s|%d", s.r.lay.schema, s.r.lay.columns(), s.opt.Seed, s.opt.Split, s.opt.Part, s.opt.ShuffleBuffer)
	h := uint64(fnvOffset64)
	for i := 0; i < len(key); i++ {
		h = (h ^ uint64(key[i])) * fnvPrime64
	}
	return h
}

func (s *Stream) startEpoch(epoch int) error {
	s.epoch, s.consumed, s.drained = epoch, 0, false
	clear(s.buf)
	s.buf = s.buf[:0]
	s.rng = rand.NewPCG(mix64(s.opt.Seed^shuffleStream), mix64(uint64(epoch)))
	var order []int
	if n := s.r.src.chunks(); s.opt.ShuffleBuffer > 1 && n > 1 {
		order = make([]int, n)
		for i := range order {
			order[i] = i
		}
		pcg := rand.NewPCG(mix64(s.opt.Seed^chunkStream), mix64(uint64(epoch)))
		for i := n - 1; i > 0; i-- {
			j := boundedRand(pcg, i+1)
			order[i], order[j] = order[j], order[i]
		}
	}
	return s.r.restart(order)
}

func (s *Stream) next() (item, error) {
	for {
		it, err := s.shuffled()
		if err == io.EOF && s.epoch+1 < s.opt.Epochs {
			if err := s.startEpoch(s.epoch + 1); err != nil {
				return item{}, err
			}
			continue
		}
		if err != nil {
			return item{}, err
		}
		s.consumed++
		return it, nil
	}
}

// shuffled keeps the buffer full and hands out a random element of it.
func (s *Stream) shuffled() (item, error) {
	for !s.drained && len(s.buf) < s.opt.ShuffleBuffer {
		it, err := s.r.next()
		if err == io.EOF {
			s.drained = true
			break
		}
		if err != nil {
			return item{}, err
		}
		s.buf = append(s.buf, it)
	}
	if len(s.buf) == 0 {
		return item{}, io.EOF
	}
	j := boundedRand(s.rng, len(s.buf))
	last := len(s.buf) - 1
	it := s.buf[j]
	s.buf[j], s.buf[last] = s.buf[last], item{}
	s.buf = s.buf[:last]
	return it, nil
}
