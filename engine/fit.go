package engine

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"strings"
	"sync/atomic"
	"time"

	"github.com/l3m/l3m-engine/engine/weights"
	"github.com/l3m/l3m-engine/graphs/llama"
)

// Source yields data as padded micro-batches and can resume from a saved position.
type Source interface {
	// Next returns the next micro-batch; io.EOF once every epoch is consumed.
	Next() (Batch, error)
	// Epoch is the 0-based epoch of the batch Next returned last.
	Epoch() int
	// State is the position after the last batch returned, as JSON.
	State() (json.RawMessage, error)
	// Restore moves to a position State returned.
	Restore(json.RawMessage) error
}

// Method computes the update direction of each optimizer step. SFT, Bradley-Terry reward
// training, L3M and MM are methods; the loop around them (schedule, AdamW, checkpoints,
// validation, logging) is the same for all.
type Method interface {
	// Gradient fills grad with the update direction of 0-based optimizer step t, averaged
	// and clipped as the method prescribes, and describes the step. io.EOF: the data ended.
	Gradient(t int, rng *rand.PCG, grad []float32) (StepLog, error)
	// State and Restore carry the method's state (data positions, multipliers, EMAs)
	// through checkpoints.
	State() (json.RawMessage, error)
	Restore(json.RawMessage) error
}

// FitConfig configures the optimisation loop. Zero values mean the defaults in brackets
// (the L3M paper's hyper-parameters).
type FitConfig struct {
	Steps      int               // optimizer steps in the run (required)
	LR         float64           // peak learning rate [1e-6]
	Warmup     float64           // warm-up fraction of Steps [0.05]
	AdamW      AdamWConfig       // betas 0.9/0.999, eps 1e-8, weight decay 0.1
	Seed       uint64            // trainer RNG seed (the L3M coin, sampling)
	Out        string            // output directory (checkpoints)
	SaveEvery  int               // checkpoint every N steps; 0 = only at the end
	EvalEvery  int               // validate every N steps; 0 = only before and after
	Keep       int               // checkpoints kept [3]
	ExtraFiles map[string][]byte // files written into every checkpoint (tokenizer.json, ...)
}

func (c FitConfig) withDefaults() FitConfig {
	if c.LR == 0 {
		c.LR = 1e-6
	}
	if c.Warmup == 0 {
		c.Warmup = 0.05
	}
	if c.Keep == 0 {
		c.Keep = 3
	}
	return c
}

// StepLog is one optimizer step's record (a line of metrics.jsonl).
type StepLog struct {
	Step      int                `json:"step"`
	Kind      string             `json:"kind"` // task, constraint, joint, pairs
	Epoch     int                `json:"epoch"`
	Loss      float64            `json:"loss"`
	LR        float64            `json:"lr"`
	GradNorm  float64            `json:"grad_norm"` // before clipping
	Sequences int                `json:"sequences"`
	Tokens    int                `json:"tokens"`      // non-padding input tokens processed
	ScoredTok int                `json:"loss_tokens"` // tokens whose prediction is in the loss
	TokensPS  float64            `json:"tokens_per_s"`
	Elapsed   float64            `json:"elapsed_s"`
	Extra     map[string]float64 `json:"extra,omitempty"` // method-specific values (mu, lambda_i, ...)
}

// Hooks are the extras around the loop: logging, validation, progress.
type Hooks struct {
	// OnStep is called after every optimizer step.
	OnStep func(StepLog)
	// Eval runs validation after step optimizer steps (0 = before training).
	Eval func(step int) error
	// OnCheckpoint is called with each checkpoint directory written.
	OnCheckpoint func(dir string)
}

// ErrInterrupted is returned by Run after Interrupt: the step in flight finished and a
// checkpoint was written.
var ErrInterrupted = errors.New("interrupted; a checkpoint of the last completed step was written")

// Fitter runs the optimisation loop of a Method: learning-rate schedule, gradient from the
// method, AdamW update, logging, validation and checkpoints.
type Fitter struct {
	cfg    llama.Config
	conf   FitConfig
	params *weights.Store
	opt    *AdamW
	method Method
	grad   []float32
	hooks  Hooks
	state  TrainerState
	rng    *rand.PCG
	start  time.Time
	lastCP string

	interrupt atomic.Bool
}

// NewFitter prepares a run of method on params (updated in place). resume, if non-nil,
// restores the optimizer, RNG, method state and step from a checkpoint whose Params must
// be params.
func NewFitter(cfg llama.Config, params *weights.Store, method Method, conf FitConfig, hooks Hooks, resume *Checkpoint) (*Fitter, error) {
	conf = conf.withDefaults()
	if conf.Steps <= 0 {
		return nil, fmt.Errorf("engine: fit: no optimizer steps (Steps = %d)", conf.Steps)
	}
	f := &Fitter{
		cfg: cfg, conf: conf, params: params, method: method, hooks: hooks,
		opt:   NewAdamW(params.Len(), conf.AdamW, DecayRanges(params)),
		grad:  make([]float32, params.Len()),
		rng:   rand.NewPCG(conf.Seed, 0x13A3),
		state: TrainerState{TotalSteps: conf.Steps},
	}
	if resume != nil {
		if err := f.restore(resume); err != nil {
			return nil, err
		}
	}
	return f, nil
}

// DecayRanges are the spans of the flat buffer that get weight decay: every matrix, not the
// RMSNorm weights (Hugging Face's convention of excluding norms and biases).
func DecayRanges(params *weights.Store) []Range {
	var rs []Range
	for _, name := range params.Names() {
		if strings.HasSuffix(name, "norm.weight") {
			continue
		}
		off := params.Offset(name)
		r := Range{off, off + len(params.Get(name))}
		if n := len(rs); n > 0 && rs[n-1].End == r.Start {
			rs[n-1].End = r.End
		} else {
			rs = append(rs, r)
		}
	}
	return rs
}

func (f *Fitter) restore(cp *Checkpoint) error {
	copy(f.opt.M, cp.M)
	copy(f.opt.V, cp.V)
	f.opt.Step = cp.State.OptimizerStep
	if err := f.rng.UnmarshalBinary(cp.State.RNG); err != nil {
		return fmt.Errorf("engine: resume %s: rng state: %w", cp.Dir, err)
	}
	if cp.State.TotalSteps != f.conf.Steps {
		return fmt.Errorf("engine: resume %s: the run was planned for %d steps, now %d; resume with the same data and flags", cp.Dir, cp.State.TotalSteps, f.conf.Steps)
	}
	if err := f.method.Restore(cp.State.Method); err != nil {
		return fmt.Errorf("engine: resume %s: %w", cp.Dir, err)
	}
	f.state = cp.State
	f.lastCP = cp.Dir
	return nil
}

// Interrupt asks Run to stop after the step in flight, writing a checkpoint.
func (f *Fitter) Interrupt() { f.interrupt.Store(true) }

// Step is the number of completed optimizer steps.
func (f *Fitter) Step() int { return f.state.Step }

// Run trains until Steps optimizer steps are done, the data ends, or Interrupt.
func (f *Fitter) Run() error {
	f.start = time.Now()
	sched := CosineSchedule{Peak: f.conf.LR, Total: f.conf.Steps, WarmupFrac: f.conf.Warmup}
	if f.state.Step == 0 && f.hooks.Eval != nil {
		if err := f.hooks.Eval(0); err != nil {
			return err
		}
	}
	for f.state.Step < f.conf.Steps {
		t := f.state.Step
		lr := sched.LR(t)

		log, err := f.method.Gradient(t, f.rng, f.grad)
		if errors.Is(err, io.EOF) {
			break // the data ran out before the planned steps
		}
		if err != nil {
			return err
		}
		if !finite(log.Loss) || !finite(log.GradNorm) {
			return f.nonFinite(t, log.Loss, log.GradNorm)
		}
		f.opt.Update(f.params.Flat(), f.grad, lr, 1)
		f.state.Step++
		f.state.Epoch = log.Epoch

		log.Step, log.LR, log.Elapsed = f.state.Step, lr, time.Since(f.start).Seconds()
		if f.hooks.OnStep != nil {
			f.hooks.OnStep(log)
		}
		last := f.state.Step == f.conf.Steps
		if f.conf.EvalEvery > 0 && f.state.Step%f.conf.EvalEvery == 0 && !last && f.hooks.Eval != nil {
			if err := f.hooks.Eval(f.state.Step); err != nil {
				return err
			}
		}
		if f.interrupt.Load() {
			if err := f.checkpoint(); err != nil {
				return err
			}
			return ErrInterrupted
		}
		if f.conf.SaveEvery > 0 && f.state.Step%f.conf.SaveEvery == 0 && !last {
			if err := f.checkpoint(); err != nil {
				return err
			}
		}
	}
	if f.hooks.Eval != nil {
		if err := f.hooks.Eval(f.state.Step); err != nil {
			return err
		}
	}
	return f.checkpoint()
}

func finite(x float64) bool { return !math.IsNaN(x) && !math.IsInf(x, 0) }

func (f *Fitter) nonFinite(step int, loss, norm float64) error {
	where := "no checkpoint was written yet"
	if f.lastCP != "" {
		where = "the last good checkpoint is " + f.lastCP
	}
	return fmt.Errorf("engine: fit: step %d: loss %v, gradient norm %v is not finite; stopped without updating the weights (%s); try a lower --lr", step+1, loss, norm, where)
}

func (f *Fitter) checkpoint() error {
	method, err := f.method.State()
	if err != nil {
		return err
	}
	rng, err := f.rng.MarshalBinary()
	if err != nil {
		return err
	}
	f.state.Method, f.state.RNG = method, rng
	dir, err := SaveCheckpoint(f.conf.Out, f.cfg, f.params, f.opt, f.state, f.conf.ExtraFiles, f.conf.Keep)
	if err != nil {
		return err
	}
	f.lastCP = dir
	if f.hooks.OnCheckpoint != nil {
		f.hooks.OnCheckpoint(dir)
	}
	return nil
}

// accumulation is what one pass of micro-batches over a mini-batch produced.
type accumulation struct {
	loss      float64 // sum over sequences of w_j * p_j as the graph computed it
	sequences int
	tokens    int // non-padding input tokens
	scored    int // tokens in the loss
	seconds   float64
}

// accumulate runs the train step on each micro-batch of a mini-batch and sums the
// gradients into grad. weights gives each micro-batch's per-sequence weights (nil: 1 each).
func accumulate(step *TrainStep, batches []Batch, weights func(i int, b Batch) ([]float32, error), grad []float32) (accumulation, error) {
	var acc accumulation
	start := time.Now()
	var ones []float32
	for i, b := range batches {
		var w []float32
		if weights != nil {
			var err error
			if w, err = weights(i, b); err != nil {
				return acc, err
			}
		} else {
			ones = growFloats(ones, b.B)
			for j := range ones {
				ones[j] = 1
			}
			w = ones
		}
		res, err := step.Run(b, w)
		if err != nil {
			return acc, err
		}
		if i == 0 {
			copy(grad, step.Grads().Flat())
		} else {
			AddScaled(grad, step.Grads().Flat(), 1)
		}
		acc.loss += res.Loss
		acc.sequences += b.B
		for _, n := range res.Tokens {
			acc.scored += int(n)
		}
		for _, m := range b.AttentionMask {
			acc.tokens += int(m)
		}
	}
	acc.seconds = time.Since(start).Seconds()
	return acc, nil
}

// nextBatches takes up to n micro-batches from src; io.EOF only if none is left.
func nextBatches(src Source, n int) ([]Batch, error) {
	var out []Batch
	for len(out) < n {
		b, err := src.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, err
		}
		out = append(out, b)
	}
	if len(out) == 0 {
		return nil, io.EOF
	}
	return out, nil
}

// clipInPlace scales grad by scale*ClipScale(norm, maxNorm) where norm is the norm of
// scale*grad, and returns that norm (before clipping).
func clipInPlace(grad []float32, scale, maxNorm float64) float64 {
	norm := GlobalNorm(grad) * scale
	s := scale * ClipScale(norm, maxNorm)
	if s != 1 {
		parallelSpans(len(grad), nil, func(lo, hi int, _ bool) {
			g := grad[lo:hi]
			for i := range g {
				g[i] *= float32(s)
			}
		})
	}
	return norm
}

// SFT is supervised fine-tuning: each step minimises the mean length-normalized NLL of a
// mini-batch of task responses, with the gradient clipped to Clip.
type SFT struct {
	Train      *TrainStep
	Data       Source
	MicroBatch int     // micro-batches per optimizer step (batch size / micro-batch size)
	Clip       float64 // global-norm clip; <= 0 disables
}

// Gradient computes the clipped mean gradient of one task mini-batch.
func (m *SFT) Gradient(t int, _ *rand.PCG, grad []float32) (StepLog, error) {
	batches, err := nextBatches(m.Data, m.MicroBatch)
	if err != nil {
		return StepLog{}, err
	}
	acc, err := accumulate(m.Train, batches, nil, grad)
	if err != nil {
		return StepLog{}, err
	}
	norm := clipInPlace(grad, 1/float64(acc.sequences), m.Clip)
	return acc.log("task", m.Data.Epoch(), acc.loss/float64(acc.sequences), norm), nil
}

func (a accumulation) log(kind string, epoch int, loss, norm float64) StepLog {
	return StepLog{Kind: kind, Epoch: epoch, Loss: loss, GradNorm: norm, Sequences: a.sequences,
		Tokens: a.tokens, ScoredTok: a.scored, TokensPS: float64(a.tokens) / a.seconds}
}

// State is the data position.
func (m *SFT) State() (json.RawMessage, error) { return m.Data.State() }

// Restore moves the data to a saved position.
func (m *SFT) Restore(s json.RawMessage) error { return m.Data.Restore(s) }
