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

	"github.com/l3m/l3m-engine/engine/ort"
	"github.com/l3m/l3m-engine/engine/weights"
	"github.com/l3m/l3m-engine/graphs/llama"
)

// Source yields task data as padded micro-batches and can resume from a saved position.
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

// FitConfig configures a run. Zero values mean the defaults in brackets (the L3M paper's
// hyper-parameters).
type FitConfig struct {
	Steps          int               // optimizer steps in the run (required)
	BatchSize      int               // sequences per optimizer step (mini-batch) [64]
	MicroBatchSize int               // sequences per ONNX Runtime Run [8]
	LR             float64           // peak learning rate [1e-6]
	Warmup         float64           // warm-up fraction of Steps [0.05]
	Clip           float64           // global gradient-norm clip; < 0 disables [1.0]
	AdamW          AdamWConfig       // betas 0.9/0.999, eps 1e-8, weight decay 0.1
	Seed           uint64            // trainer RNG seed
	Out            string            // output directory (checkpoints, metrics)
	SaveEvery      int               // checkpoint every N steps; 0 = only at the end
	EvalEvery      int               // validate every N steps; 0 = only before and after
	Keep           int               // checkpoints kept [3]
	ExtraFiles     map[string][]byte // files written into every checkpoint (tokenizer.json, ...)
	Session        ort.Options
}

func (c FitConfig) withDefaults() FitConfig {
	if c.BatchSize == 0 {
		c.BatchSize = 64
	}
	if c.MicroBatchSize == 0 {
		c.MicroBatchSize = 8
	}
	if c.LR == 0 {
		c.LR = 1e-6
	}
	if c.Warmup == 0 {
		c.Warmup = 0.05
	}
	if c.Clip == 0 {
		c.Clip = 1
	}
	if c.Keep == 0 {
		c.Keep = 3
	}
	return c
}

// StepLog is one optimizer step's record (a line of metrics.jsonl).
type StepLog struct {
	Step      int     `json:"step"`
	Kind      string  `json:"kind"`
	Epoch     int     `json:"epoch"`
	Loss      float64 `json:"loss"`
	LR        float64 `json:"lr"`
	GradNorm  float64 `json:"grad_norm"`
	Sequences int     `json:"sequences"`
	Tokens    int     `json:"tokens"`      // non-padding input tokens processed
	ScoredTok int     `json:"loss_tokens"` // tokens whose prediction is in the loss
	TokensPS  float64 `json:"tokens_per_s"`
	Elapsed   float64 `json:"elapsed_s"`
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

// Fitter runs supervised fine-tuning: minimise the mean length-normalized NLL of the
// responses, with AdamW, cosine schedule, clipping and gradient accumulation.
type Fitter struct {
	cfg    llama.Config
	conf   FitConfig
	params *weights.Store
	opt    *AdamW
	step   *TrainStep
	accum  []float32
	src    Source
	hooks  Hooks
	state  TrainerState
	rng    *rand.PCG
	start  time.Time
	lastCP string

	interrupt atomic.Bool
}

// NewFitter prepares a run on params (updated in place). resume, if non-nil, restores the
// optimizer, RNG, data position and step from a checkpoint whose Params must be params.
func NewFitter(cfg llama.Config, params *weights.Store, src Source, conf FitConfig, hooks Hooks, resume *Checkpoint) (*Fitter, error) {
	conf = conf.withDefaults()
	if conf.Steps <= 0 {
		return nil, fmt.Errorf("engine: fit: no optimizer steps (Steps = %d)", conf.Steps)
	}
	if conf.BatchSize%conf.MicroBatchSize != 0 {
		return nil, fmt.Errorf("engine: fit: batch size %d is not a multiple of the micro-batch size %d", conf.BatchSize, conf.MicroBatchSize)
	}
	step, err := NewTrainStep(cfg, params, nil, conf.Session)
	if err != nil {
		return nil, err
	}
	f := &Fitter{
		cfg: cfg, conf: conf, params: params, step: step, src: src, hooks: hooks,
		opt:   NewAdamW(params.Len(), conf.AdamW, DecayRanges(params)),
		accum: make([]float32, params.Len()),
		rng:   rand.NewPCG(conf.Seed, 0x13A3),
		state: TrainerState{TotalSteps: conf.Steps},
	}
	if resume != nil {
		if err := f.restore(resume); err != nil {
			step.Close()
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
	if err := f.src.Restore(cp.State.Data); err != nil {
		return fmt.Errorf("engine: resume %s: data position: %w", cp.Dir, err)
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

		stats, err := f.taskGradient()
		if errors.Is(err, io.EOF) {
			break // the data ran out before the planned steps
		}
		if err != nil {
			return err
		}
		norm := GlobalNorm(f.accum) / float64(stats.sequences)
		if math.IsNaN(stats.loss) || math.IsInf(stats.loss, 0) || math.IsNaN(norm) || math.IsInf(norm, 0) {
			return f.nonFinite(t, stats.loss, norm)
		}
		clip := ClipScale(norm, f.conf.Clip)
		f.opt.Update(f.params.Flat(), f.accum, lr, clip/float64(stats.sequences))
		f.state.Step++
		f.state.Epoch = f.src.Epoch()

		if f.hooks.OnStep != nil {
			elapsed := time.Since(f.start).Seconds()
			f.hooks.OnStep(StepLog{
				Step: f.state.Step, Kind: "task", Epoch: f.state.Epoch, Loss: stats.loss, LR: lr, GradNorm: norm,
				Sequences: stats.sequences, Tokens: stats.tokens, ScoredTok: stats.scored, TokensPS: float64(stats.tokens) / stats.seconds, Elapsed: elapsed,
			})
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

type gradStats struct {
	loss      float64 // mean length-normalized NLL over the mini-batch
	sequences int
	tokens    int // non-padding input tokens
	scored    int // tokens in the loss
	seconds   float64
}

// taskGradient accumulates, over the micro-batches of one mini-batch, the gradient of the
// summed per-sequence NLL into f.accum (the caller divides by the sequence count).
func (f *Fitter) taskGradient() (gradStats, error) {
	var st gradStats
	start := time.Now()
	micro := f.conf.BatchSize / f.conf.MicroBatchSize
	var ones []float32
	for m := 0; m < micro; m++ {
		b, err := f.src.Next()
		if errors.Is(err, io.EOF) {
			if m == 0 {
				return st, io.EOF
			}
			break // a short last mini-batch
		}
		if err != nil {
			return st, err
		}
		ones = growFloats(ones, b.B)
		for i := range ones {
			ones[i] = 1
		}
		res, err := f.step.Run(b, ones)
		if err != nil {
			return st, err
		}
		if m == 0 {
			copy(f.accum, f.step.Grads().Flat())
		} else {
			AddScaled(f.accum, f.step.Grads().Flat(), 1)
		}
		st.loss += res.Loss
		st.sequences += b.B
		for _, n := range res.Tokens {
			st.scored += int(n)
		}
		for _, m := range b.AttentionMask {
			st.tokens += int(m)
		}
	}
	st.loss /= float64(st.sequences)
	st.seconds = time.Since(start).Seconds()
	return st, nil
}

func (f *Fitter) nonFinite(step int, loss, norm float64) error {
	where := "no checkpoint was written yet"
	if f.lastCP != "" {
		where = "the last good checkpoint is " + f.lastCP
	}
	return fmt.Errorf("engine: fit: step %d: loss %v, gradient norm %v is not finite; stopped without updating the weights (%s); try a lower --lr", step+1, loss, norm, where)
}

func (f *Fitter) checkpoint() error {
	data, err := f.src.State()
	if err != nil {
		return err
	}
	rng, err := f.rng.MarshalBinary()
	if err != nil {
		return err
	}
	f.state.Data, f.state.RNG = data, rng
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

// Close releases the sessions.
func (f *Fitter) Close() error { return f.step.Close() }
