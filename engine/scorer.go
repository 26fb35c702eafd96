package engine

import (
	"math"

	"github.com/l3m/l3m-engine/engine/ort"
	"github.com/l3m/l3m-engine/engine/weights"
	"github.com/l3m/l3m-engine/graphs/llama"
)

// Scorer runs the forward-only score graph: per sequence, the summed log-likelihood of the
// scored tokens, their count and the length-normalized NLL p(y|x).
type Scorer struct {
	s                   *session
	loglik, tokens, nll []float32
	batchB              int
}

// NewScorer builds the score graph for cfg over params (read at every Run, so it follows
// training updates).
func NewScorer(cfg llama.Config, params *weights.Store, opts ort.Options) (*Scorer, error) {
	g, err := llama.BuildScore(cfg, llama.Options{})
	if err != nil {
		return nil, err
	}
	s, err := newSession(g, params, opts)
	if err != nil {
		return nil, err
	}
	return &Scorer{s: s}, nil
}

// Scores are one batch's per-sequence results, valid until the next Run.
type Scores struct {
	LogLik, Tokens, NLL []float32
}

// Run scores one batch.
func (sc *Scorer) Run(b Batch) (Scores, error) {
	release, err := sc.s.bindBatch(b)
	defer release()
	if err != nil {
		return Scores{}, err
	}
	if b.B != sc.batchB {
		sc.loglik, sc.tokens, sc.nll = growFloats(sc.loglik, b.B), growFloats(sc.tokens, b.B), growFloats(sc.nll, b.B)
		shape := []int64{int64(b.B)}
		for name, buf := range map[string][]float32{llama.OutLogLik: sc.loglik, llama.OutTokens: sc.tokens, llama.OutNLL: sc.nll} {
			if err := sc.s.bindOutput(name, shape, buf); err != nil {
				return Scores{}, err
			}
		}
		sc.batchB = b.B
	}
	if err := sc.s.run(); err != nil {
		return Scores{}, err
	}
	return Scores{LogLik: sc.loglik, Tokens: sc.tokens, NLL: sc.nll}, nil
}

// Close releases the session.
func (sc *Scorer) Close() error { return sc.s.Close() }

// Perplexity summarises per-sequence length-normalized NLLs as the paper reports them:
// mean +- standard deviation over sequences (sequences without scored tokens are left
// out), with exp(mean) beside it.
type Perplexity struct {
	Mean, Std float64 // of the length-normalized NLL ("perplexity" in the L3M paper)
	ExpMean   float64 // exp(Mean), the conventional token-level perplexity of that mean
	N         int     // sequences
	Tokens    int64   // scored tokens
}

// PerplexityAccumulator accumulates sequences with Welford's algorithm.
type PerplexityAccumulator struct {
	n      int
	tokens int64
	mean   float64
	m2     float64
}

// Add records a batch's scores.
func (a *PerplexityAccumulator) Add(s Scores) {
	for i, p := range s.NLL {
		if s.Tokens[i] == 0 {
			continue
		}
		a.n++
		a.tokens += int64(s.Tokens[i])
		d := float64(p) - a.mean
		a.mean += d / float64(a.n)
		a.m2 += d * (float64(p) - a.mean)
	}
}

// Result is the summary so far.
func (a *PerplexityAccumulator) Result() Perplexity {
	std := 0.0
	if a.n > 1 {
		std = math.Sqrt(a.m2 / float64(a.n-1))
	}
	return Perplexity{Mean: a.mean, Std: std, ExpMean: math.Exp(a.mean), N: a.n, Tokens: a.tokens}
}
