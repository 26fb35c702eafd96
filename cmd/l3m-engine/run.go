package main

import (
	"errors"
	"fmt"
	"math"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/l3m/l3m-engine/engine"
	"github.com/l3m/l3m-engine/engine/ort"
	"github.com/l3m/l3m-engine/engine/weights"
	"github.com/l3m/l3m-engine/graphs/llama"
)

// TrainFlags are the optimisation and run flags every training command shares. Their
// defaults come from the command's vars (fit: the paper's SFT settings; reward train: its
// Bradley-Terry settings).
type TrainFlags struct {
	Out            string  `required:"" type:"path" help:"Output directory: checkpoints, metrics.jsonl, the resolved config, final/." json:"out"`
	Epochs         int     `default:"${epochs}" help:"Passes over the training data." json:"epochs"`
	BatchSize      int     `default:"64" help:"Sequences (pairs for reward training) per optimizer step." json:"batch_size"`
	MicroBatchSize int     `default:"8" help:"Sequences (pairs) per ONNX Runtime run; gradients accumulate over batch-size/micro-batch-size runs." json:"micro_batch_size"`
	LR             float64 `default:"1e-6" help:"Peak learning rate of the cosine schedule." json:"lr"`
	Warmup         float64 `default:"${warmup}" help:"Fraction of the steps spent on linear warm-up." json:"warmup"`
	WeightDecay    float64 `default:"0.1" help:"AdamW decoupled weight decay (not applied to RMSNorm weights)." json:"weight_decay"`
	Clip           float64 `default:"1.0" help:"Global gradient-norm clipping threshold; 0 disables." json:"clip"`
	Seed           uint64  `default:"1" help:"Seed of data order, response-turn choice and the trainer's RNG." json:"seed"`
	MaxSteps       int     `default:"0" help:"Stop after this many optimizer steps (0: epochs decide). The schedule spans the steps actually run." json:"max_steps"`
	SaveEvery      int     `default:"0" help:"Write a checkpoint every N optimizer steps (0: only at the end)." json:"save_every"`
	EvalEvery      int     `default:"0" help:"${eval_help}" json:"eval_every"`
	EvalBatchSize  int     `default:"16" help:"Sequences per validation run." json:"eval_batch_size"`
	Keep           int     `default:"3" help:"Checkpoints kept in --out (older ones are deleted)." json:"keep"`
	GroupBatches   int     `default:"16" help:"Length grouping: read this many micro-batches at a time, sort them by length and batch neighbours together (far less padding), in a seeded random order; 0 or 1 turns it off." json:"group_batches"`
	Resume         bool    `help:"Continue from the newest checkpoint in --out (exactly: same weights as an uninterrupted run). Without one, start from --model." json:"-"`
}

func (t *TrainFlags) check() error {
	switch {
	case t.Epochs < 1:
		return fmt.Errorf("--epochs must be >= 1, got %d", t.Epochs)
	case t.BatchSize < 1 || t.MicroBatchSize < 1:
		return fmt.Errorf("--batch-size and --micro-batch-size must be >= 1")
	case t.BatchSize%t.MicroBatchSize != 0:
		return fmt.Errorf("--batch-size %d must be a multiple of --micro-batch-size %d", t.BatchSize, t.MicroBatchSize)
	case t.LR <= 0 || math.IsNaN(t.LR):
		return fmt.Errorf("--lr must be positive, got %v", t.LR)
	case t.Warmup < 0 || t.Warmup >= 1:
		return fmt.Errorf("--warmup is a fraction of the steps in [0, 1), got %v", t.Warmup)
	case t.WeightDecay < 0:
		return fmt.Errorf("--weight-decay must be >= 0, got %v", t.WeightDecay)
	case t.Clip < 0:
		return fmt.Errorf("--clip must be >= 0, got %v", t.Clip)
	case t.Keep < 1:
		return fmt.Errorf("--keep must be >= 1, got %d", t.Keep)
	case t.EvalEvery < 0 || t.SaveEvery < 0 || t.MaxSteps < 0:
		return fmt.Errorf("--eval-every, --save-every and --max-steps must be >= 0")
	}
	return nil
}

// clip is the engine's clip setting (< 0 disables).
func (t *TrainFlags) clip() float64 {
	if t.Clip == 0 {
		return -1
	}
	return t.Clip
}

// steps sizes the run: ceil(units*epochs/batch), capped by --max-steps.
func (t *TrainFlags) steps(units int) int {
	steps := int(math.Ceil(float64(units*t.Epochs) / float64(t.BatchSize)))
	if t.MaxSteps > 0 {
		steps = min(steps, t.MaxSteps)
	}
	return steps
}

// run is one training command's session: model, output directory, metrics and progress.
type run struct {
	flags   *TrainFlags
	opts    ort.Options
	m       *model
	extra   map[string][]byte
	resume  *engine.Checkpoint
	metrics *metricsLog
	prog    *progress
	last    engine.StepLog
	scorer  *engine.Scorer    // forward-only model graph over the trained parameters
	train   *engine.TrainStep // train graph over the trained parameters
	// afterStep, if set, sees every step's record (e.g. infeasibility warnings).
	afterStep func(engine.StepLog)
}

// startRun checks the flags, prepares --out, loads the model (or the checkpoint to resume).
func startRun(g *Globals, t *TrainFlags, modelDir string) (*run, error) {
	opts, err := g.ortOptions()
	if err != nil {
		return nil, err
	}
	if err := t.check(); err != nil {
		return nil, err
	}
	if err := prepareOut(t.Out); err != nil {
		return nil, err
	}
	r := &run{flags: t, opts: opts}
	from := modelDir
	if t.Resume {
		latest, err := engine.LatestCheckpoint(t.Out)
		if err != nil {
			return nil, fmt.Errorf("--resume: %w", err)
		}
		if latest == "" {
			fmt.Fprintf(os.Stderr, "no checkpoint in %s yet; starting from %s\n", t.Out, modelDir)
		} else {
			if r.resume, _, err = engine.LoadCheckpoint(latest); err != nil {
				return nil, err
			}
			from = latest
		}
	}
	if r.m, err = loadModel("--model", from); err != nil {
		return nil, err
	}
	if r.resume != nil {
		r.m.params = r.resume.Params
	}
	if r.extra, err = r.m.extraFiles(); err != nil {
		return nil, fmt.Errorf("--model: %w", err)
	}
	return r, nil
}

// open builds the score and train graphs' sessions, starts metrics.jsonl (trimmed to the
// resumed step), writes the resolved settings and starts the progress display.
func (r *run) open(steps int, settings any) error {
	var err error
	if r.scorer, err = engine.NewScorer(r.m.cfg, r.m.params, r.opts); err != nil {
		return err
	}
	if r.train, err = engine.NewTrainStep(r.m.cfg, r.m.params, nil, r.opts); err != nil {
		return err
	}
	resumeStep := -1
	if r.resume != nil {
		resumeStep = r.resume.State.Step
	}
	if r.metrics, err = openMetrics(filepath.Join(r.flags.Out, "metrics.jsonl"), resumeStep); err != nil {
		return fmt.Errorf("--out: %w", err)
	}
	resolved, err := resolvedSettings(settings, r.opts)
	if err != nil {
		return err
	}
	configPath := filepath.Join(r.flags.Out, "run_config.json")
	if r.resume != nil {
		changes, err := settingsChanges(configPath, resolved)
		if err != nil {
			return fmt.Errorf("--resume: %w", err)
		}
		if len(changes) > 0 {
			fmt.Fprintf(os.Stderr, "warning: resuming with settings that differ from the interrupted run's (%s): %s; "+
				"the result will differ from an uninterrupted run\n", configPath, strings.Join(changes, ", "))
		}
	}
	if err := writeResolvedConfig(configPath, resolved); err != nil {
		return fmt.Errorf("--out: %w", err)
	}
	r.prog = newProgress(os.Stderr, steps, max(resumeStep, 0))
	return nil
}

func (r *run) close() {
	if r.metrics != nil {
		r.metrics.Close()
	}
	if r.scorer != nil {
		r.scorer.Close()
	}
	if r.train != nil {
		r.train.Close()
	}
}

// execute runs the method's optimisation loop to the end (or a signal), then writes final/.
func (r *run) execute(method engine.Method, steps int, eval func(step int) error) error {
	t := r.flags
	hooks := engine.Hooks{
		OnStep: func(l engine.StepLog) {
			r.last = l
			r.metrics.write(l)
			r.prog.step(l.Step, fmt.Sprintf("%s loss %.4f lr %.2e |g| %.3f %.0f tok/s", l.Kind, l.Loss, l.LR, l.GradNorm, l.TokensPS))
			if r.afterStep != nil {
				r.afterStep(l)
			}
		},
		Eval:         eval,
		OnCheckpoint: func(dir string) { r.prog.line("checkpoint: %s", dir) },
	}
	conf := engine.FitConfig{
		Steps: steps, LR: t.LR, Warmup: t.Warmup,
		AdamW: engine.AdamWConfig{WeightDecay: t.WeightDecay, NoDecay: t.WeightDecay == 0},
		Seed:  t.Seed, Out: t.Out, SaveEvery: t.SaveEvery, EvalEvery: t.EvalEvery, Keep: t.Keep,
		ExtraFiles: r.extra,
	}
	f, err := engine.NewFitter(r.m.cfg, r.m.params, method, conf, hooks, r.resume)
	if err != nil {
		return err
	}
	stop := interruptOnSignal(f, r.prog)
	defer stop()
	start := time.Now()
	err = f.Run()
	if errors.Is(err, engine.ErrInterrupted) {
		r.prog.line("stopped at step %d: %v; continue with --resume", f.Step(), err)
		return nil
	}
	if err != nil {
		return err
	}
	final := filepath.Join(t.Out, "final")
	if err := saveModelDir(final, r.m.cfg, r.m.params, r.extra); err != nil {
		return err
	}
	r.prog.line("done: %d steps in %s (last loss %.4f); model: %s; metrics: %s", f.Step(), time.Since(start).Round(time.Second),
		r.last.Loss, final, filepath.Join(t.Out, "metrics.jsonl"))
	return nil
}

// prepareOut creates the output directory and proves it is writable before any work.
func prepareOut(dir string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("--out: %w", err)
	}
	probe, err := os.CreateTemp(dir, ".write-test-*")
	if err != nil {
		return fmt.Errorf("--out %s is not writable: %w", dir, err)
	}
	probe.Close()
	return os.Remove(probe.Name())
}

// saveModelDir writes a Hugging Face model directory (config, weights, tokenizer files)
// atomically: into a temporary directory renamed over dir.
func saveModelDir(dir string, cfg llama.Config, params *weights.Store, extra map[string][]byte) error {
	tmp := dir + ".tmp"
	os.RemoveAll(tmp)
	if err := weights.Save(tmp, params, weights.SaveOptions{}); err != nil {
		return err
	}
	if err := cfg.Save(filepath.Join(tmp, "config.json")); err != nil {
		return err
	}
	for name, b := range extra {
		if err := os.WriteFile(filepath.Join(tmp, name), b, 0o644); err != nil {
			return err
		}
	}
	if err := os.RemoveAll(dir); err != nil {
		return err
	}
	return os.Rename(tmp, dir)
}

// interruptOnSignal makes SIGINT/SIGTERM finish the step in flight and checkpoint; a second
// signal exits at once.
func interruptOnSignal(f *engine.Fitter, prog *progress) (stop func()) {
	ch := make(chan os.Signal, 2)
	signal.Notify(ch, os.Interrupt, syscall.SIGTERM)
	go func() {
		n := 0
		for range ch {
			n++
			if n == 1 {
				prog.line("signal: finishing the current step and writing a checkpoint (again to quit now)")
				f.Interrupt()
				continue
			}
			os.Exit(130)
		}
	}()
	return func() { signal.Stop(ch); close(ch) }
}
