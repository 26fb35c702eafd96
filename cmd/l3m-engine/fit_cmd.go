package main

import (
	"fmt"
	"os"

	"github.com/alecthomas/kong"

	"github.com/l3m/l3m-engine/data"
	"github.com/l3m/l3m-engine/engine"
	"github.com/l3m/l3m-engine/engine/lagrange"
	"github.com/l3m/l3m-engine/tokenize"
)

// FitCmd fine-tunes a model. Flags can also come from a JSON config file (--config);
// flags given on the command line override it.
type FitCmd struct {
	Config kong.ConfigFlag `help:"JSON file of settings keyed by flag name (e.g. {\"lr\": 1e-5, \"batch_size\": 32}); command-line flags override it." json:"-"`

	Model  string `required:"" type:"path" help:"Model directory: config.json, model.safetensors (or sharded), tokenizer.json." json:"model"`
	Train  string `required:"" type:"path" help:"Training data: .parquet, .arrow or .jsonl (UltraChat, HH-RLHF or prompt/response)." json:"train"`
	Val    string `type:"path" help:"Validation data; default: --val-split of --train." json:"val,omitempty"`
	Method string `default:"sft" enum:"sft,l3m,mm" help:"Training method: sft (supervised fine-tuning on the responses), l3m (SFT under --constraint requirements with the relaxed log-barrier of L3M), mm (the same constraints with a min-max Lagrangian, multipliers by dual ascent)." json:"method"`

	TrainFlags      `embed:""`
	DataFlags       `embed:""`
	ConstraintFlags `embed:""`
}

// Help describes the command at length.
func (c *FitCmd) Help() string {
	return "Fine-tunes a LLaMA-architecture model on (prompt, response) data, minimising the length-normalized " +
		"NLL of the responses (AdamW, cosine schedule with warm-up, clipping, gradient accumulation). " +
		"With --method l3m (or mm) it does so subject to requirements on the mean rewards of sampled responses, " +
		"e.g. --constraint 'length>=50' --constraint 'length<=100', whose multipliers adapt by themselves. " +
		"Checkpoints are written atomically; SIGINT/SIGTERM finish the current step, checkpoint and exit. " + dataHelp
}

// Run trains.
func (c *FitCmd) Run(g *Globals) error {
	if err := c.checkData(); err != nil {
		return err
	}
	if err := c.ConstraintFlags.check(c.Method); err != nil {
		return err
	}
	r, err := startRun(g, &c.TrainFlags, c.Model)
	if err != nil {
		return err
	}
	defer r.close()
	m := r.m

	trainOpt, valPath, valOpt := c.dataOptions()
	tmpl := c.template(m.tok)
	n, bstats, rstats, err := countUnits(c.Train, trainOpt, m.tok, tmpl, false)
	if err != nil {
		return fmt.Errorf("--train: %w", err)
	}
	steps := c.steps(n)
	fmt.Fprintf(os.Stderr, "train: %s: %d sequences (%d rows read, %d skipped, %d longer than %d tokens); %d epochs of batch %d = %d steps\n",
		c.Train, n, rstats.Read, rstats.SkippedTotal(), bstats.TooLong, c.MaxTokens, c.Epochs, c.BatchSize, steps)

	trainOpt.Epochs = c.Epochs
	src, err := openBatches(c.Train, trainOpt, m.tok, tmpl, batching{size: c.MicroBatchSize, group: c.GroupBatches, seed: c.Seed})
	if err != nil {
		return fmt.Errorf("--train: %w", err)
	}
	defer src.Close()
	if err := r.open(steps, c); err != nil {
		return err
	}
	scorer, train := r.scorer, r.train
	eval := func(step int) error {
		ppl, err := evaluate(scorer, valPath, valOpt, m.tok, tmpl, c.EvalBatchSize)
		if err != nil {
			return fmt.Errorf("validation: %w", err)
		}
		r.metrics.write(map[string]any{"step": step, "kind": "eval", "val_nll_mean": ppl.Mean, "val_nll_std": ppl.Std,
			"val_exp_nll_mean": ppl.ExpMean, "val_sequences": ppl.N, "val_tokens": ppl.Tokens})
		r.prog.line("step %d: validation perplexity (length-normalized NLL) %.4f +- %.4f over %d sequences (exp %.2f)", step, ppl.Mean, ppl.Std, ppl.N, ppl.ExpMean)
		return nil
	}
	sft := &engine.SFT{Train: train, Data: src, MicroBatch: c.BatchSize / c.MicroBatchSize, Clip: c.clip()}
	if c.Method == "sft" {
		return r.execute(sft, steps, eval)
	}
	method, cleanup, err := c.constrained(r, sft, trainOpt, tmpl, steps)
	defer cleanup()
	if err != nil {
		return err
	}
	return r.execute(method, steps, eval)
}

// constrained builds the L3M or MM method around the SFT task step.
func (c *FitCmd) constrained(r *run, sft *engine.SFT, trainOpt data.Options, tmpl tokenize.ChatTemplate, steps int) (engine.Method, func(), error) {
	var closers []func() error
	cleanup := func() {
		for _, f := range closers {
			f()
		}
	}
	cs, rs, rewardClosers, err := c.ConstraintFlags.parse(r.opts)
	closers = append(closers, rewardClosers...)
	if err != nil {
		return nil, cleanup, err
	}
	m := r.m
	promptOpt := trainOpt
	promptOpt.Seed = c.Seed + 1 // an order of prompts independent of the task batches
	prompts, err := newPromptStream(c.Train, promptOpt, m.tok, tmpl, c.MaxTokens)
	if err != nil {
		return nil, cleanup, fmt.Errorf("--train: %w", err)
	}
	closers = append(closers, prompts.Close)
	samples := c.Samples
	if samples == 0 {
		samples = c.BatchSize
	}
	dec, err := engine.NewDecoder(m.cfg, m.params, samples, c.MaxTokens+c.MaxNewTokens, r.opts)
	if err != nil {
		return nil, cleanup, err
	}
	closers = append(closers, dec.Close)
	pad := max(m.tok.PAD(), 0)
	sampler := engine.NewSampler(dec, engine.SampleConfig{Temperature: c.Temperature, TopP: c.TopP, TopK: c.TopK,
		MaxNewTokens: c.MaxNewTokens, EOS: m.tok.EOS(), Stop: m.tok.StopIDs(), Pad: pad, Seed: c.Seed})
	method, err := engine.NewConstrained(&engine.Constrained{
		Task: sft, Train: sft.Train, Prompts: prompts, Sampler: sampler, Rewards: rewardFunc(rs, prompts, m.tok, tmpl),
		Constraints: cs, Mu: lagrange.MuSchedule{Start: c.MuStart, End: c.MuEnd, Total: steps},
		DualAscent: c.Method == "mm", LambdaLR: c.LambdaLR, LambdaInit: c.LambdaInit, LogLambda: c.LogLambda, Baseline: c.Baseline, Joint: c.Joint,
		Samples: samples, MicroBatch: c.MicroBatchSize, Clip: c.clip(), Pad: pad,
	}, c.EMAAlpha)
	if err != nil {
		return nil, cleanup, err
	}
	warn := newInfeasibility(cs, steps)
	r.afterStep = func(l engine.StepLog) { warn.observe(l, r.prog.line) }
	return method, cleanup, nil
}

func (c *FitCmd) checkData() error {
	switch {
	case c.MaxTokens < 2:
		return fmt.Errorf("--max-tokens must be >= 2, got %d", c.MaxTokens)
	case c.Val == "" && (c.ValSplit <= 0 || c.ValSplit >= 1):
		return fmt.Errorf("--val-split must be in (0, 1) when --val is not given, got %v", c.ValSplit)
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
