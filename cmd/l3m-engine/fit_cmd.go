package main

import (
	"errors"
	"fmt"
	"math"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"
	"time"

	"github.com/alecthomas/kong"

	"github.com/l3m/l3m-engine/data"
	"github.com/l3m/l3m-engine/engine"
	"github.com/l3m/l3m-engine/engine/weights"
	"github.com/l3m/l3m-engine/graphs/llama"
)

// FitCmd fine-tunes a model. Flags can also come from a JSON config file (--config);
// flags given on the command line override it.
type FitCmd struct {
	Config kong.ConfigFlag `help:"JSON file of settings keyed by flag name (e.g. {\"lr\": 1e-5, \"batch_size\": 32}); command-line flags override it." json:"-"`

	Model  string `required:"" type:"path" help:"Model directory: config.json, model.safetensors (or sharded), tokenizer.json." json:"model"`
	Train  string `required:"" type:"path" help:"Training data: .parquet, .arrow or .jsonl (UltraChat, HH-RLHF or prompt/response)." json:"train"`
	Val    string `type:"path" help:"Validation data; default: --val-split of --train." json:"val,omitempty"`
	Method string `default:"sft" enum:"sft" help:"Training method: sft (supervised fine-tuning on the responses)." json:"method"`
	Out    string `required:"" type:"path" help:"Output directory: checkpoints, metrics.jsonl, fit_config.json, final/." json:"out"`

	Epochs         int     `default:"1" help:"Passes over the training data." json:"epochs"`
	BatchSize      int     `default:"64" help:"Sequences per optimizer step (mini-batch)." json:"batch_size"`
	MicroBatchSize int     `default:"8" help:"Sequences per ONNX Runtime run; gradients accumulate over batch-size/micro-batch-size runs." json:"micro_batch_size"`
	LR             float64 `default:"1e-6" help:"Peak learning rate of the cosine schedule." json:"lr"`
	Warmup         float64 `default:"0.05" help:"Fraction of the steps spent on linear warm-up." json:"warmup"`
	WeightDecay    float64 `default:"0.1" help:"AdamW decoupled weight decay (not applied to RMSNorm weights)." json:"weight_decay"`
	Clip           float64 `default:"1.0" help:"Global gradient-norm clipping threshold; 0 disables." json:"clip"`
	Seed           uint64  `default:"1" help:"Seed of data order, response-turn choice and the trainer's RNG." json:"seed"`
	MaxSteps       int     `default:"0" help:"Stop after this many optimizer steps (0: epochs decide). The schedule spans the steps actually run." json:"max_steps"`
	SaveEvery      int     `default:"0" help:"Write a checkpoint every N optimizer steps (0: only at the end)." json:"save_every"`
	EvalEvery      int     `default:"0" help:"Validation perplexity every N steps (0: only before and after training)." json:"eval_every"`
	EvalBatchSize  int     `default:"16" help:"Sequences per validation run." json:"eval_batch_size"`
	Keep           int     `default:"3" help:"Checkpoints kept in --out (older ones are deleted)." json:"keep"`
	GroupBatches   int     `default:"16" help:"Length grouping: read this many micro-batches of sequences at a time, sort them by length and batch neighbours together (far less padding), in a seeded random order; 0 or 1 turns it off." json:"group_batches"`
	Resume         bool    `help:"Continue from the newest checkpoint in --out (exactly: same weights as an uninterrupted run). Without one, start from --model." json:"-"`

	DataFlags `embed:""`
}

// Help describes the command at length.
func (c *FitCmd) Help() string {
	return "Fine-tunes a LLaMA-architecture model on (prompt, response) data, minimising the length-normalized " +
		"NLL of the responses (AdamW, cosine schedule with warm-up, clipping, gradient accumulation). " +
		"Checkpoints are written atomically; SIGINT/SIGTERM finish the current step, checkpoint and exit. " + dataHelp
}

// Run trains.
func (c *FitCmd) Run(g *Globals) error {
	opts, err := g.ortOptions()
	if err != nil {
		return err
	}
	if err := c.check(); err != nil {
		return err
	}
	if err := prepareOut(c.Out); err != nil {
		return err
	}
	var resume *engine.Checkpoint
	modelDir := c.Model
	if c.Resume {
		latest, err := engine.LatestCheckpoint(c.Out)
		if err != nil {
			return fmt.Errorf("--resume: %w", err)
		}
		if latest == "" {
			fmt.Fprintf(os.Stderr, "no checkpoint in %s yet; starting from %s\n", c.Out, c.Model)
		} else {
			if resume, _, err = engine.LoadCheckpoint(latest); err != nil {
				return err
			}
			modelDir = latest
		}
	}
	m, err := loadModel("--model", modelDir)
	if err != nil {
		return err
	}
	if resume != nil {
		m.params = resume.Params
	}

	extra, err := m.extraFiles()
	if err != nil {
		return fmt.Errorf("--model: %w", err)
	}
	trainOpt, valPath, valOpt := c.dataOptions()
	tmpl := c.template()
	n, bstats, rstats, err := countSequences(c.Train, trainOpt, m.tok, tmpl)
	if err != nil {
		return fmt.Errorf("--train: %w", err)
	}
	steps := int(math.Ceil(float64(n*c.Epochs) / float64(c.BatchSize)))
	if c.MaxSteps > 0 {
		steps = min(steps, c.MaxSteps)
	}
	fmt.Fprintf(os.Stderr, "train: %s: %d sequences (%d rows read, %d skipped, %d longer than %d tokens); %d epochs of batch %d = %d steps\n",
		c.Train, n, rstats.Read, rstats.SkippedTotal(), bstats.TooLong, c.MaxTokens, c.Epochs, c.BatchSize, steps)

	trainOpt.Epochs = c.Epochs
	src, err := openBatches(c.Train, trainOpt, m.tok, tmpl, batching{size: c.MicroBatchSize, group: c.GroupBatches, seed: c.Seed})
	if err != nil {
		return fmt.Errorf("--train: %w", err)
	}
	defer src.Close()
	scorer, err := engine.NewScorer(m.cfg, m.params, opts)
	if err != nil {
		return err
	}
	defer scorer.Close()

	resumeStep := -1
	if resume != nil {
		resumeStep = resume.State.Step
	}
	metrics, err := openMetrics(filepath.Join(c.Out, "metrics.jsonl"), resumeStep)
	if err != nil {
		return fmt.Errorf("--out: %w", err)
	}
	defer metrics.Close()
	if err := writeResolvedConfig(filepath.Join(c.Out, "fit_config.json"), c); err != nil {
		return fmt.Errorf("--out: %w", err)
	}
	prog := newProgress(os.Stderr, steps, max(resumeStep, 0))
	var last engine.StepLog
	hooks := engine.Hooks{
		OnStep: func(l engine.StepLog) {
			last = l
			metrics.write(l)
			prog.step(l.Step, fmt.Sprintf("loss %.4f lr %.2e |g| %.3f %.0f tok/s", l.Loss, l.LR, l.GradNorm, l.TokensPS))
		},
		Eval: func(step int) error {
			ppl, err := evaluate(scorer, valPath, valOpt, m.tok, tmpl, c.EvalBatchSize)
			if err != nil {
				return fmt.Errorf("validation: %w", err)
			}
			metrics.write(map[string]any{"step": step, "kind": "eval", "val_nll_mean": ppl.Mean, "val_nll_std": ppl.Std,
				"val_exp_nll_mean": ppl.ExpMean, "val_sequences": ppl.N, "val_tokens": ppl.Tokens})
			prog.line("step %d: validation perplexity (length-normalized NLL) %.4f +- %.4f over %d sequences (exp %.2f)", step, ppl.Mean, ppl.Std, ppl.N, ppl.ExpMean)
			return nil
		},
		OnCheckpoint: func(dir string) { prog.line("checkpoint: %s", dir) },
	}
	conf := engine.FitConfig{
		Steps: steps, LR: c.LR, Warmup: c.Warmup,
		AdamW: engine.AdamWConfig{WeightDecay: c.WeightDecay, NoDecay: c.WeightDecay == 0},
		Seed:  c.Seed, Out: c.Out, SaveEvery: c.SaveEvery, EvalEvery: c.EvalEvery, Keep: c.Keep,
		ExtraFiles: extra,
	}
	train, err := engine.NewTrainStep(m.cfg, m.params, nil, opts)
	if err != nil {
		return err
	}
	defer train.Close()
	method := &engine.SFT{Train: train, Data: src, MicroBatch: c.BatchSize / c.MicroBatchSize, Clip: c.Clip}
	f, err := engine.NewFitter(m.cfg, m.params, method, conf, hooks, resume)
	if err != nil {
		return err
	}
	stop := interruptOnSignal(f, prog)
	defer stop()

	start := time.Now()
	err = f.Run()
	if errors.Is(err, engine.ErrInterrupted) {
		prog.line("stopped at step %d: %v; continue with --resume", f.Step(), err)
		return nil
	}
	if err != nil {
		return err
	}
	final := filepath.Join(c.Out, "final")
	if err := saveModelDir(final, m.cfg, m.params, extra); err != nil {
		return err
	}
	prog.line("done: %d steps in %s (last loss %.4f); model: %s; metrics: %s", f.Step(), time.Since(start).Round(time.Second), last.Loss, final, filepath.Join(c.Out, "metrics.jsonl"))
	return nil
}

func (c *FitCmd) check() error {
	switch {
	case c.Epochs < 1:
		return fmt.Errorf("--epochs must be >= 1, got %d", c.Epochs)
	case c.BatchSize < 1 || c.MicroBatchSize < 1:
		return fmt.Errorf("--batch-size and --micro-batch-size must be >= 1")
	case c.BatchSize%c.MicroBatchSize != 0:
		return fmt.Errorf("--batch-size %d must be a multiple of --micro-batch-size %d", c.BatchSize, c.MicroBatchSize)
	case c.LR <= 0 || math.IsNaN(c.LR):
		return fmt.Errorf("--lr must be positive, got %v", c.LR)
	case c.Warmup < 0 || c.Warmup >= 1:
		return fmt.Errorf("--warmup is a fraction of the steps in [0, 1), got %v", c.Warmup)
	case c.WeightDecay < 0:
		return fmt.Errorf("--weight-decay must be >= 0, got %v", c.WeightDecay)
	case c.Clip < 0:
		return fmt.Errorf("--clip must be >= 0, got %v", c.Clip)
	case c.MaxTokens < 2:
		return fmt.Errorf("--max-tokens must be >= 2, got %d", c.MaxTokens)
	case c.Val == "" && (c.ValSplit <= 0 || c.ValSplit >= 1):
		return fmt.Errorf("--val-split must be in (0, 1) when --val is not given, got %v", c.ValSplit)
	case c.Keep < 1:
		return fmt.Errorf("--keep must be >= 1, got %d", c.Keep)
	}
	return nil
}

// dataOptions returns the options of the training stream and of validation.
func (c *FitCmd) dataOptions() (train data.Options, valPath string, val data.Options) {
	if c.Val != "" {
		return c.options(c.Seed, data.PartAll, data.Split{}), c.Val, c.options(c.Seed, data.PartAll, data.Split{})
	}
	split := data.Split{Val: c.ValSplit}
	return c.options(c.Seed, data.PartTrain, split), c.Train, c.options(c.Seed, data.PartVal, split)
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

// saveModelDir writes a Hugging Face model directory (config, weights, tokenizer files).
func saveModelDir(dir string, cfg llama.Config, params *weights.Store, extra map[string][]byte) error {
	if err := weights.Save(dir, params, weights.SaveOptions{}); err != nil {
		return err
	}
	if err := cfg.Save(filepath.Join(dir, "config.json")); err != nil {
		return err
	}
	for name, b := range extra {
		if err := os.WriteFile(filepath.Join(dir, name), b, 0o644); err != nil {
			return err
		}
	}
	return nil
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
