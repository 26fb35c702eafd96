package main

import (
	"encoding/json"
	"fmt"
	"os"

	"github.com/l3m/l3m-engine/data"
	"github.com/l3m/l3m-engine/engine"
)

// EvalCmd reports a model's perplexity on a dataset.
type EvalCmd struct {
	Model     string  `required:"" type:"path" help:"Model directory (config.json, model.safetensors, tokenizer.json)."`
	Data      string  `required:"" type:"path" help:"Dataset file (.parquet, .arrow, .jsonl)."`
	Part      string  `default:"all" enum:"all,train,val,test" help:"Part of the file's hash split to score (with --split-val/--split-test)."`
	SplitVal  float64 `default:"0" help:"Validation fraction of the hash split (as fit's --val-split)."`
	Seed      uint64  `default:"1" help:"Seed of the UltraChat response-turn choice (as fit's --seed)."`
	BatchSize int     `default:"16" help:"Sequences per run."`
	DataFlags `embed:""`
}

// Help describes the output.
func (c *EvalCmd) Help() string {
	return "Prints JSON: the mean and standard deviation over sequences of the length-normalized NLL of each response " +
		"(what the L3M paper calls perplexity), exp of the mean, and counts. " + dataHelp
}

// Run scores the data.
func (c *EvalCmd) Run(g *Globals) error {
	opts, m, err := g.openModel(c.Model)
	if err != nil {
		return err
	}
	sc, err := engine.NewScorer(m.cfg, m.params, opts)
	if err != nil {
		return err
	}
	defer sc.Close()
	opt := c.options(c.Seed, c.Part, data.Split{Val: c.SplitVal})
	ppl, err := evaluate(sc, c.Data, opt, m.tok, c.template(m.tok), c.BatchSize)
	if err != nil {
		return fmt.Errorf("--data: %w", err)
	}
	return json.NewEncoder(os.Stdout).Encode(map[string]any{
		"model": c.Model, "data": c.Data, "part": c.Part,
		"nll_mean": ppl.Mean, "nll_std": ppl.Std, "exp_nll_mean": ppl.ExpMean,
		"sequences": ppl.N, "tokens": ppl.Tokens,
	})
}
