package main

import (
	"fmt"
	"os"

	"github.com/alecthomas/kong"

	"github.com/l3m/l3m-engine/data"
	"github.com/l3m/l3m-engine/engine"
)

// FitCmd fine-tunes a model. Flags can also come from a JSON config file (--config);
// flags given on the command line override it.
type FitCmd struct {
	Config kong.ConfigFlag `help:"JSON file of settings keyed by flag name (e.g. {\"lr\": 1e-5, \"batch_size\": 32}); command-line flags override it." json:"-"`

	Model  string `required:"" type:"path" help:"Model directory: config.json, model.safetensors (or sharded), tokenizer.json." json:"model"`
	Train  string `required:"" type:"path" help:"Training data: .parquet, .arrow or .jsonl (UltraChat, HH-RLHF or prompt/response)." json:"train"`
	Val    string `type:"path" help:"Validation data; default: --val-split of --train." json:"val,omitempty"`
	Method string `default:"sft" enum:"sft" help:"Training method: sft (supervised fine-tuning on the responses)." json:"method"`

	TrainFlags `embed:""`
	DataFlags  `embed:""`
}

// Help describes the command at length.
func (c *FitCmd) Help() string {
	return "Fine-tunes a LLaMA-architecture model on (prompt, response) data, minimising the length-normalized " +
		"NLL of the responses (AdamW, cosine schedule with warm-up, clipping, gradient accumulation). " +
		"Checkpoints are written atomically; SIGINT/SIGTERM finish the current step, checkpoint and exit. " + dataHelp
}

// Run trains.
func (c *FitCmd) Run(g *Globals) error {
	if err := c.checkData(); err != nil {
		return err
	}
	r, err := startRun(g, &c.TrainFlags, c.Model)
	if err != nil {
		return err
	}
	defer r.close()
	m := r.m

	trainOpt, valPath, valOpt := c.dataOptions()
	tmpl := c.template()
	n, bstats, rstats, err := countSequences(c.Train, trainOpt, m.tok, tmpl)
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
	scorer, err := engine.NewScorer(m.cfg, m.params, r.opts)
	if err != nil {
		return err
	}
	defer scorer.Close()
	train, err := engine.NewTrainStep(m.cfg, m.params, nil, r.opts)
	if err != nil {
		return err
	}
	defer train.Close()
	if err := r.open(steps, c); err != nil {
		return err
	}
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
	method := &engine.SFT{Train: train, Data: src, MicroBatch: c.BatchSize / c.MicroBatchSize, Clip: c.clip()}
	return r.execute(method, steps, eval)
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
