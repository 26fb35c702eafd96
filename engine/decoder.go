package engine

import (
	"fmt"

	"github.com/l3m/l3m-engine/engine/ort"
	"github.com/l3m/l3m-engine/engine/weights"
	"github.com/l3m/l3m-engine/graphs/llama"
)

// Decoder runs the KV-cache decode graph: Prefill a batch of prompts (left-padded to one
// length), then Step one new token per row at a time. Each layer's keys and values live in
// two preallocated buffers of the maximum length; each Run reads the cache from one and
// writes the extended cache into the other, so decoding allocates nothing per step.
type Decoder struct {
	cfg    llama.Config
	s      *session
	maxLen int
	maxB   int

	b, pastLen int
	realLen    []int64    // real (non-pad) tokens per row so far
	mask       []int64    // [b, pastLen] attention mask so far
	cache      [2][]kvBuf // ping-pong: cache[cur] holds the past
	cur        int
	logits     []float32
}

type kvBuf struct{ k, v []float32 }

// NewDecoder builds the decode graph for cfg over params, for batches of up to maxBatch
// rows and sequences (prompt + generated) of up to maxLen tokens.
func NewDecoder(cfg llama.Config, params *weights.Store, maxBatch, maxLen int, opts ort.Options) (*Decoder, error) {
	g, err := llama.BuildDecode(cfg, llama.Options{})
	if err != nil {
		return nil, err
	}
	s, err := newSession(g, params, opts)
	if err != nil {
		return nil, err
	}
	d := &Decoder{cfg: cfg, s: s, maxLen: maxLen, maxB: maxBatch}
	size := maxBatch * cfg.NumKeyValueHeads * maxLen * cfg.HeadDim
	for i := range d.cache {
		d.cache[i] = make([]kvBuf, cfg.NumHiddenLayers)
		for l := range d.cache[i] {
			d.cache[i][l] = kvBuf{make([]float32, size), make([]float32, size)}
		}
	}
	d.logits = make([]float32, maxBatch*cfg.VocabSize)
	return d, nil
}

// Prefill starts a new batch: prompts of different lengths are left-padded with pad. It
// returns the logits [B, V] of each row's last prompt token, valid until the next call.
func (d *Decoder) Prefill(prompts [][]int32, pad int32) ([]float32, error) {
	b := len(prompts)
	if b == 0 || b > d.maxB {
		return nil, fmt.Errorf("engine: decoder: batch of %d prompts (max %d)", b, d.maxB)
	}
	t := 0
	for _, p := range prompts {
		t = max(t, len(p))
	}
	if t == 0 {
		return nil, fmt.Errorf("engine: decoder: all prompts are empty")
	}
	if t > d.maxLen {
		return nil, fmt.Errorf("engine: decoder: prompt of %d tokens exceeds the maximum length %d", t, d.maxLen)
	}
	d.b, d.pastLen, d.cur = b, 0, 0
	d.realLen = make([]int64, b)
	d.mask = make([]int64, b*t)
	ids := make([]int64, b*t)
	positions := make([]int64, b*t)
	for r, p := range prompts {
		off := t - len(p)
		for i := 0; i < t; i++ {
			if i < off {
				ids[r*t+i], positions[r*t+i] = int64(pad), 1 // Hugging Face's position for padding
				continue
			}
			ids[r*t+i] = int64(p[i-off])
			d.mask[r*t+i] = 1
			positions[r*t+i] = int64(i - off)
		}
		d.realLen[r] = int64(len(p))
	}
	return d.run(ids, positions, t, d.mask)
}

// Step feeds one token per row (the tokens sampled from the previous logits) and returns
// the next logits [B, V], valid until the next call.
func (d *Decoder) Step(tokens []int32) ([]float32, error) {
	if len(tokens) != d.b {
		return nil, fmt.Errorf("engine: decoder: %d tokens for a batch of %d", len(tokens), d.b)
	}
	if d.pastLen+1 > d.maxLen {
		return nil, fmt.Errorf("engine: decoder: sequence reached the maximum length %d", d.maxLen)
	}
	l := d.pastLen
	mask := make([]int64, d.b*(l+1))
	ids := make([]int64, d.b)
	positions := make([]int64, d.b)
	for r := 0; r < d.b; r++ {
		copy(mask[r*(l+1):], d.mask[r*l:(r+1)*l])
		mask[r*(l+1)+l] = 1
		ids[r] = int64(tokens[r])
		positions[r] = d.realLen[r]
		d.realLen[r]++
	}
	d.mask = mask
	return d.run(ids, positions, 1, mask)
}

// Len is the number of positions in the cache (prompt length plus steps taken).
func (d *Decoder) Len() int { return d.pastLen }

func (d *Decoder) run(ids, positions []int64, s int, mask []int64) ([]float32, error) {
	b, p := int64(d.b), int64(d.pastLen)
	kv, hd := int64(d.cfg.NumKeyValueHeads), int64(d.cfg.HeadDim)
	var made []interface{ Close() error }
	defer func() {
		for _, t := range made {
			t.Close()
		}
	}()
	bind := func(name string, shape []int64, data any, output bool) error {
		var v ort.Value
		var err error
		switch x := data.(type) {
		case []int64:
			v, err = ort.NewTensor(shape, x)
		case []float32:
			v, err = ort.NewTensor(shape, x)
		}
		if err != nil {
			return err
		}
		made = append(made, v.(interface{ Close() error }))
		if output {
			d.s.outputs[d.s.outIdx[name]] = v
			return nil
		}
		return d.s.bindInput(name, v)
	}
	ns := int64(s)
	past, next := d.cache[d.cur], d.cache[1-d.cur]
	pastSize, nextSize := b*kv*p*hd, b*kv*(p+ns)*hd
	steps := []struct {
		name   string
		shape  []int64
		data   any
		output bool
	}{
		{llama.InputIDs, []int64{b, ns}, ids, false},
		{llama.PositionIDs, []int64{b, ns}, positions, false},
		{llama.AttentionMask, []int64{b, p + ns}, mask, false},
		{llama.OutLogits, []int64{b, int64(d.cfg.VocabSize)}, d.logits[:b*int64(d.cfg.VocabSize)], true},
	}
	for _, st := range steps {
		if err := bind(st.name, st.shape, st.data, st.output); err != nil {
			return nil, err
		}
	}
	for l := 0; l < d.cfg.NumHiddenLayers; l++ {
		for _, c := range []struct {
			name   string
			shape  []int64
			data   []float32
			output bool
		}{
			{llama.PastKey(l), []int64{b, kv, p, hd}, past[l].k[:pastSize], false},
			{llama.PastValue(l), []int64{b, kv, p, hd}, past[l].v[:pastSize], false},
			{llama.PresentKey(l), []int64{b, kv, p + ns, hd}, next[l].k[:nextSize], true},
			{llama.PresentValue(l), []int64{b, kv, p + ns, hd}, next[l].v[:nextSize], true},
		} {
			if err := bind(c.name, c.shape, c.data, c.output); err != nil {
				return nil, err
			}
		}
	}
	if err := d.s.run(); err != nil {
		return nil, err
	}
	d.cur = 1 - d.cur
	d.pastLen += s
	return d.logits[:b*int64(d.cfg.VocabSize)], nil
}

// Close releases the session.
func (d *Decoder) Close() error {
	// Per-run outputs are closed after each run; drop them so Close does not see them.
	for i := range d.s.outputs {
		d.s.outputs[i] = nil
	}
	return d.s.Close()
}
