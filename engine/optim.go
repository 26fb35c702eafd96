package engine

import (
	"math"
	"runtime"
	"sync"
)

// AdamWConfig holds AdamW hyper-parameters; zero values mean the defaults in brackets.
type AdamWConfig struct {
	Beta1       float64 // [0.9]
	Beta2       float64 // [0.999]
	Eps         float64 // [1e-8]
	WeightDecay float64 // decoupled, applied as w -= lr * wd * w [0.1]; set NoDecay to disable
	NoDecay     bool
}

func (c AdamWConfig) withDefaults() AdamWConfig {
	if c.Beta1 == 0 {
		c.Beta1 = 0.9
	}
	if c.Beta2 == 0 {
		c.Beta2 = 0.999
	}
	if c.Eps == 0 {
		c.Eps = 1e-8
	}
	if c.WeightDecay == 0 && !c.NoDecay {
		c.WeightDecay = 0.1
	}
	if c.NoDecay {
		c.WeightDecay = 0
	}
	return c
}

// AdamW is the decoupled-weight-decay Adam optimizer over one flat parameter buffer. Its
// moments are flat buffers of the same layout; the update runs in parallel chunks.
type AdamW struct {
	Config AdamWConfig
	M, V   []float32 // first and second moments
	Step   int64     // optimizer steps taken (for bias correction)
	ranges []Range   // parameter spans that get weight decay, sorted
}

// Range is a half-open [Start, End) span of the flat parameter buffer.
type Range struct{ Start, End int }

// NewAdamW makes an optimizer for n parameters; decay lists the spans that get weight decay
// (Hugging Face's convention excludes norm weights and biases; nil means all).
func NewAdamW(n int, cfg AdamWConfig, decay []Range) *AdamW {
	if decay == nil {
		decay = []Range{{0, n}}
	}
	return &AdamW{Config: cfg.withDefaults(), M: make([]float32, n), V: make([]float32, n), ranges: decay}
}

// Update applies one step with learning rate lr to params given grads (scaled by gradScale,
// e.g. the clipping factor). Moments accumulate in float32; bias corrections in float64.
func (o *AdamW) Update(params, grads []float32, lr, gradScale float64) {
	c := o.Config
	o.Step++
	bc1 := 1 - math.Pow(c.Beta1, float64(o.Step))
	bc2 := 1 - math.Pow(c.Beta2, float64(o.Step))
	b1, b2 := float32(c.Beta1), float32(c.Beta2)
	stepSize := float32(lr / bc1)
	invSqrtBC2 := float32(1 / math.Sqrt(bc2))
	eps := float32(c.Eps)
	scale := float32(gradScale)
	decay := float32(1 - lr*c.WeightDecay)
	adam := func(lo, hi int, decayed bool) {
		p, g, m, v := params[lo:hi], grads[lo:hi], o.M[lo:hi], o.V[lo:hi]
		for i := range p {
			gi := g[i] * scale
			m[i] = b1*m[i] + (1-b1)*gi
			v[i] = b2*v[i] + (1-b2)*gi*gi
			w := p[i]
			if decayed {
				w *= decay
			}
			p[i] = w - stepSize*m[i]/(float32(math.Sqrt(float64(v[i])))*invSqrtBC2+eps)
		}
	}
	parallelSpans(len(params), o.ranges, adam)
}

// parallelSpans splits [0, n) into chunks for the available cores and calls f on each
// chunk, with decayed telling whether it lies inside one of the ranges.
func parallelSpans(n int, ranges []Range, f func(lo, hi int, decayed bool)) {
	// Cut points: range boundaries, so each piece is uniformly decayed or not.
	type piece struct {
		lo, hi  int
		decayed bool
	}
	var pieces []piece
	pos := 0
	for _, r := range ranges {
		if r.Start > pos {
			pieces = append(pieces, piece{pos, r.Start, false})
		}
		pieces = append(pieces, piece{r.Start, r.End, true})
		pos = r.End
	}
	if pos < n {
		pieces = append(pieces, piece{pos, n, false})
	}
	workers := runtime.GOMAXPROCS(0)
	chunk := max(1<<16, n/(4*workers)+1)
	var wg sync.WaitGroup
	sem := make(chan struct{}, workers)
	for _, p := range pieces {
		for lo := p.lo; lo < p.hi; lo += chunk {
			hi := min(lo+chunk, p.hi)
			wg.Add(1)
			sem <- struct{}{}
			go func(lo, hi int, d bool) {
				defer wg.Done()
				f(lo, hi, d)
				<-sem
			}(lo, hi, p.decayed)
		}
	}
	wg.Wait()
}

// GlobalNorm is the L2 norm of a flat gradient buffer, accumulated in float64 in parallel.
func GlobalNorm(grads []float32) float64 {
	workers := runtime.GOMAXPROCS(0)
	chunk := (len(grads) + workers - 1) / workers
	sums := make([]float64, workers)
	var wg sync.WaitGroup
	for w := 0; w < workers; w++ {
		lo := w * chunk
		hi := min(lo+chunk, len(grads))
		if lo >= hi {
			continue
		}
		wg.Add(1)
		go func(w, lo, hi int) {
			defer wg.Done()
			var s float64
			for _, g := range grads[lo:hi] {
				s += float64(g) * float64(g)
			}
			sums[w] = s
		}(w, lo, hi)
	}
	wg.Wait()
	var total float64
	for _, s := range sums {
		total += s
	}
	return math.Sqrt(total)
}

// ClipScale is the factor that brings a gradient of norm norm down to maxNorm (1 when it is
// already within, or when maxNorm <= 0 disables clipping).
func ClipScale(norm, maxNorm float64) float64 {
	if maxNorm <= 0 || norm <= maxNorm || norm == 0 {
		return 1
	}
	return maxNorm / norm
}

// AddScaled does dst += scale * src in parallel (gradient accumulation over micro-batches).
func AddScaled(dst, src []float32, scale float32) {
	parallelSpans(len(dst), nil, func(lo, hi int, _ bool) {
		d, s := dst[lo:hi], src[lo:hi]
		for i := range d {
			d[i] += scale * s[i]
		}
	})
}
