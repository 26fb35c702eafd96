package engine

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
)

// SampleConfig says how a Sampler picks each new token. The zero value of every field but
// MaxNewTokens is its default.
type SampleConfig struct {
	// Temperature divides the logits before the softmax; default 1. Values near 0 approach
	// greedy decoding; negative values are an error.
	Temperature float64
	// TopP keeps the smallest set of most probable tokens whose probability reaches it
	// (nucleus sampling); default 0.9, 1 keeps every token. It must lie in (0, 1].
	TopP float64
	// TopK keeps only the TopK most probable tokens before TopP applies; default 0 (off).
	TopK int
	// MaxNewTokens bounds each row's output, EOS included; required.
	MaxNewTokens int
	// Greedy takes the most probable token (the lowest id on ties) and ignores
	// Temperature, TopP, TopK and the RNG; default false.
	Greedy bool
	// EOS ends a row when it is picked, and is kept as the row's last token; default 0.
	// A negative EOS never ends a row.
	EOS int32
	// Stop lists more ids that end a row as EOS does (a model's other end-of-turn tokens,
	// such as Llama 3's <|eom_id|> and <|eot_id|> besides <|end_of_text|>).
	Stop []int32
	// Pad left-pads shorter prompts and is fed to rows that have finished; default 0.
	Pad int32
	// Seed seeds the PCG that draws the samples; default 0.
	Seed uint64
}

// samplerStream is the PCG's second seed word, so that a Sampler's draws differ from those
// of other generators seeded with the same Seed.
const samplerStream = 0x73616d706c65 // "sample"

// logitsSource is what a Sampler decodes with: the Decoder, or a fake in tests.
type logitsSource interface {
	Prefill(prompts [][]int32, pad int32) ([]float32, error)
	Step(tokens []int32) ([]float32, error)
}

// Sampler generates continuations of a batch of prompts with a Decoder, by greedy or
// temperature/top-k/nucleus sampling. Its RNG carries on from one Generate to the next;
// State and Restore save and resume it, so that a seed reproduces a whole run.
type Sampler struct {
	src logitsSource
	cfg SampleConfig
	pcg *rand.PCG
	rng *rand.Rand

	probs   []float64 // softmax of one row, reused for every row and step
	nucleus nucleus
}

// NewSampler samples from d. Generate reports an invalid cfg.
func NewSampler(d *Decoder, cfg SampleConfig) *Sampler { return newSampler(d, cfg) }

func newSampler(src logitsSource, cfg SampleConfig) *Sampler {
	if cfg.Temperature == 0 {
		cfg.Temperature = 1
	}
	if cfg.TopP == 0 {
		cfg.TopP = 0.9
	}
	pcg := rand.NewPCG(cfg.Seed, samplerStream)
	return &Sampler{src: src, cfg: cfg, pcg: pcg, rng: rand.New(pcg)}
}

func (c *SampleConfig) check() error {
	switch {
	case c.MaxNewTokens <= 0:
		return fmt.Errorf("engine: sampler: MaxNewTokens must be positive, got %d", c.MaxNewTokens)
	case c.Greedy:
		return nil
	case !(c.Temperature > 0) || math.IsInf(c.Temperature, 0):
		return fmt.Errorf("engine: sampler: Temperature must be positive and finite, got %v", c.Temperature)
	case !(c.TopP > 0 && c.TopP <= 1):
		return fmt.Errorf("engine: sampler: TopP must be in (0, 1], got %v", c.TopP)
	case c.TopK < 0:
		return fmt.Errorf("engine: sampler: TopK must be >= 0, got %d", c.TopK)
	}
	return nil
}

// Generate returns, per prompt, the sampled token ids: EOS included when produced. A row
// stops at its EOS; the batch stops when every row has stopped or after MaxNewTokens.
// Rows that stopped keep advancing the decoder on Pad, and keep taking their one draw per
// step (in row order), so draw t*B+r always belongs to row r at step t.
func (s *Sampler) Generate(prompts [][]int32) ([][]int32, error) {
	cfg := s.cfg
	if err := cfg.check(); err != nil {
		return nil, err
	}
	if len(prompts) == 0 {
		return nil, errors.New("engine: sampler: no prompts")
	}
	for r, p := range prompts {
		if len(p) == 0 {
			return nil, fmt.Errorf("engine: sampler: prompt %d is empty; a prompt needs at least one token (BOS)", r)
		}
	}
	b := len(prompts)
	logits, err := s.src.Prefill(prompts, cfg.Pad)
	if err != nil {
		return nil, err
	}
	if len(logits) == 0 || len(logits)%b != 0 {
		return nil, fmt.Errorf("engine: sampler: %d logits for a batch of %d", len(logits), b)
	}
	vocab := len(logits) / b
	out := make([][]int32, b)
	done := make([]bool, b)
	next := make([]int32, b)
	active := b
	for step := 0; ; step++ {
		for r := 0; r < b; r++ {
			var u float64
			if !cfg.Greedy {
				u = s.rng.Float64()
			}
			if done[r] {
				next[r] = cfg.Pad
				continue
			}
			tok, err := s.pick(logits[r*vocab:(r+1)*vocab], u)
			if err != nil {
				return nil, fmt.Errorf("engine: sampler: row %d, step %d: %w", r, step, err)
			}
			next[r] = tok
			out[r] = append(out[r], tok)
			if tok == cfg.EOS || slices.Contains(cfg.Stop, tok) {
				done[r] = true
				active--
			}
		}
		if active == 0 || step+1 == cfg.MaxNewTokens {
			return out, nil
		}
		if logits, err = s.src.Step(next); err != nil {
			return nil, fmt.Errorf("engine: sampler: step %d: %w", step+1, err)
		}
	}
}

// pick chooses one token of a row's logits; u in [0, 1) is the row's draw.
func (s *Sampler) pick(logits []float32, u float64) (int32, error) {
	if s.cfg.Greedy {
		best := 0
		for i, v := range logits {
			if math.IsNaN(float64(v)) {
				return 0, fmt.Errorf("logit %d is NaN", i)
			}
			if v > logits[best] {
				best = i
			}
		}
		return int32(best), nil
	}
	if cap(s.probs) < len(logits) {
		s.probs = make([]float64, len(logits))
	}
	probs := s.probs[:len(logits)]
	if !softmax(probs, logits, s.cfg.Temperature) {
		return 0, errors.New("logits are not finite (NaN, +Inf, or all -Inf)")
	}
	ids, p := s.nucleus.keep(probs, s.cfg.TopK, s.cfg.TopP)
	return draw(ids, p, u), nil
}

// softmax writes softmax(logits/temperature) into probs, in float64. It reports false
// when the logits hold a NaN or +Inf, or are all -Inf.
func softmax(probs []float64, logits []float32, temperature float64) bool {
	top := math.Inf(-1)
	for i, v := range logits {
		probs[i] = float64(v) / temperature
		if probs[i] > top { // a NaN is skipped here and caught by the sum below
			top = probs[i]
		}
	}
	var sum float64
	for i, x := range probs {
		probs[i] = math.Exp(x - top)
		sum += probs[i]
	}
	if !(sum >= 1) || math.IsInf(sum, 0) { // the top logit alone gives exp(0) = 1
		return false
	}
	for i := range probs {
		probs[i] /= sum
	}
	return true
}

// draw picks from ids, renormalising their probabilities p: the first token whose
// cumulative probability exceeds u times the total.
func draw(ids []int32, p []float64, u float64) int32 {
	var total float64
	for _, q := range p {
		total += q
	}
	target, cum := u*total, 0.0
	for i, q := range p {
		cum += q
		if cum > target {
			return ids[i]
		}
	}
	return ids[len(ids)-1] // u*total rounded up to the total
}

// nucleus selects the tokens that top-k and top-p keep. Its buffers are reused from call
// to call, so selection allocates nothing once they have grown to the vocabulary.
type nucleus struct {
	probs []float64
	heap  []int32 // a max-heap of token ids, most probable (then lowest id) on top
	ids   []int32
	p     []float64
}

// keep returns the tokens kept from probs, most probable first (ties by ascending id),
// with their probabilities: first the topK most probable (all when topK is 0),
// renormalised when that drops any, then the shortest prefix whose cumulative probability
// reaches topP. Tokens of probability 0 are never kept. It pops a max-heap, so it costs O(V + kept·log V) rather than a full sort.
// The slices are valid until the next call.
func (n *nucleus) keep(probs []float64, topK int, topP float64) ([]int32, []float64) {
	n.probs = probs
	n.heap = n.heap[:0]
	for i := range probs {
		n.heap = append(n.heap, int32(i))
	}
	for i := len(n.heap)/2 - 1; i >= 0; i-- {
		n.siftDown(i)
	}
	n.ids, n.p = n.ids[:0], n.p[:0]
	if topK > 0 && topK < len(probs) {
		var sum float64
		for len(n.ids) < topK && n.probs[n.heap[0]] > 0 {
			id := n.pop()
			n.ids, n.p = append(n.ids, id), append(n.p, probs[id])
			sum += probs[id]
		}
		var cum float64
		for i := range n.p {
			n.p[i] /= sum
			if cum += n.p[i]; cum >= topP {
				n.ids, n.p = n.ids[:i+1], n.p[:i+1]
				break
			}
		}
		return n.ids, n.p
	}
	var cum float64
	for len(n.heap) > 0 && n.probs[n.heap[0]] > 0 && cum < topP {
		id := n.pop()
		n.ids, n.p = append(n.ids, id), append(n.p, probs[id])
		cum += probs[id]
	}
	return n.ids, n.p
}

// above orders the heap: higher probability first, then lower id.
func (n *nucleus) above(i, j int32) bool {
	return n.probs[i] > n.probs[j] || n.probs[i] == n.probs[j] && i < j
}

func (n *nucleus) siftDown(i int) {
	h := n.heap
	for {
		top, l, r := i, 2*i+1, 2*i+2
		if l < len(h) && n.above(h[l], h[top]) {
			top = l
		}
		if r < len(h) && n.above(h[r], h[top]) {
			top = r
		}
		if top == i {
			return
		}
		h[i], h[top] = h[top], h[i]
		i = top
	}
}

// pop removes and returns the top of the heap.
func (n *nucleus) pop() int32 {
	id := n.heap[0]
	last := len(n.heap) - 1
	n.heap[0] = n.heap[last]
	n.heap = n.heap[:last]
	n.siftDown(0)
	return id
}

// State is the RNG's state, to save with a run that will resume.
func (s *Sampler) State() ([]byte, error) { return s.pcg.MarshalBinary() }

// Restore puts back an RNG state from State: the draws that follow are those that
// followed when it was saved.
func (s *Sampler) Restore(state []byte) error {
	if err := s.pcg.UnmarshalBinary(state); err != nil {
		return fmt.Errorf("engine: sampler: restoring the RNG: %w", err)
	}
	return nil
}
