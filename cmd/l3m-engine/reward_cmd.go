package main

import (
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"

	"github.com/alecthomas/kong"

	"github.com/l3m/l3m-engine/data"
	"github.com/l3m/l3m-engine/engine"
)

// RewardCmd groups the learned-reward commands.
type RewardCmd struct {
	Train  RewardTrainCmd  `cmd:"" set:"epochs=2" set:"warmup=0.1" set:"eval_help=Validation pairwise accuracy every N steps (0: every 10% of an epoch)." help:"Train a Bradley-Terry reward model on preference pairs."`
	Export RewardExportCmd `cmd:"" help:"Export a reward model as a frozen ONNX scorer for fit --reward."`
}

// RewardTrainCmd trains a reward model with the Bradley-Terry loss.
type RewardTrainCmd struct {
	Config kong.ConfigFlag `help:"JSON file of settings keyed by flag name; command-line flags override it." json:"-"`

	Model string `required:"" type:"path" help:"Pre-trained model directory to start from (config.json, model.safetensors, tokenizer.json)." json:"model"`
	Pairs string `required:"" type:"path" help:"Preference data: HH-RLHF chosen/rejected transcripts, or prompt/chosen/rejected columns (.parquet, .arrow, .jsonl)." json:"pairs"`
	Val   string `type:"path" help:"Validation pairs; default: --val-split of --pairs." json:"val,omitempty"`

	TrainFlags `embed:""`
	DataFlags  `embed:""`
}

// Help describes the command.
func (c *RewardTrainCmd) Help() string {
	return "The reward of a response is the model's length-normalized log-likelihood of it; training minimises " +
		"-log sigmoid(r_chosen - r_rejected) (the L3M paper's setup: 2 epochs, lr 1e-6, cosine with 10% warm-up). " +
		"Validation pairwise accuracy is logged every 10% of an epoch (or --eval-every steps) and the best model is " +
		"kept in OUT/best. " + dataHelp
}

// Run trains the reward model.
func (c *RewardTrainCmd) Run(g *Globals) error {
	r, err := startRun(g, &c.TrainFlags, c.Model)
	if err != nil {
		return err
	}
	defer r.close()
	m := r.m
	tmpl := c.template(m.tok)
	split := data.Split{Val: c.ValSplit}
	trainOpt, valPath, valOpt := c.options(c.Seed, data.PartTrain, split), c.Pairs, c.options(c.Seed, data.PartVal, split)
	if c.Val != "" {
		trainOpt, valPath, valOpt = c.options(c.Seed, data.PartAll, data.Split{}), c.Val, c.options(c.Seed, data.PartAll, data.Split{})
	}
	pairs, _, _, err := countUnits(c.Pairs, trainOpt, m.tok, tmpl, true)
	if err != nil {
		return fmt.Errorf("--pairs: %w", err)
	}
	steps := c.steps(pairs)
	if c.EvalEvery == 0 {
		c.EvalEvery = max(1, int(math.Ceil(float64(pairs)/float64(c.BatchSize)/10)))
	}
	fmt.Fprintf(os.Stderr, "pairs: %s: %d pairs; %d epochs of batch %d = %d steps; validation every %d steps\n",
		c.Pairs, pairs, c.Epochs, c.BatchSize, steps, c.EvalEvery)

	trainOpt.Epochs = c.Epochs
	src, err := openBatches(c.Pairs, trainOpt, m.tok, tmpl, batching{size: c.MicroBatchSize, group: c.GroupBatches, seed: c.Seed, pairs: true})
	if err != nil {
		return fmt.Errorf("--pairs: %w", err)
	}
	defer src.Close()
	if err := r.open(steps, c); err != nil {
		return err
	}
	scorer, train := r.scorer, r.train
	best, bestPath := math.Inf(-1), filepath.Join(c.Out, "best", "best.json")
	if b, err := os.ReadFile(bestPath); err == nil && r.resume != nil {
		var rec struct{ Accuracy float64 }
		if json.Unmarshal(b, &rec) == nil {
			best = rec.Accuracy
		}
	}
	eval := func(step int) error {
		val, err := openBatches(valPath, valOpt, m.tok, tmpl, batching{size: c.EvalBatchSize, pairs: true})
		if err != nil {
			return fmt.Errorf("validation: %w", err)
		}
		defer val.Close()
		acc, loss, n, err := engine.PairAccuracy(scorer, val.Next)
		if err != nil {
			return fmt.Errorf("validation: %w", err)
		}
		r.metrics.write(map[string]any{"step": step, "kind": "eval", "val_pair_accuracy": acc, "val_bt_loss": loss, "val_pairs": n})
		r.prog.line("step %d: validation pairwise accuracy %.4f, Bradley-Terry loss %.4f over %d pairs", step, acc, loss, n)
		if acc > best {
			best = acc
			dir := filepath.Join(c.Out, "best")
			if err := saveModelDir(dir, m.cfg, m.params, r.extra); err != nil {
				return err
			}
			rec, _ := json.Marshal(map[string]any{"step": step, "accuracy": acc, "bt_loss": loss})
			if err := os.WriteFile(bestPath, rec, 0o644); err != nil {
				return err
			}
			r.prog.line("new best (accuracy %.4f at step %d): %s", acc, step, dir)
		}
		return nil
	}
	method := &engine.BradleyTerry{Train: train, Score: scorer, Data: src, MicroBatch: c.BatchSize / c.MicroBatchSize, Clip: c.clip()}
	return r.execute(method, steps, eval)
}

// RewardExportCmd writes a frozen scorer and checks it against the training model.
type RewardExportCmd struct {
	Model     string `required:"" type:"path" help:"Reward model directory (e.g. OUT/best of reward train)."`
	Out       string `required:"" type:"path" help:"Directory to write: scorer.onnx (+ scorer.onnx.data), tokenizer files, manifest.json."`
	Name      string `help:"Reward name recorded in the manifest (default: the --out directory's name)."`
	External  bool   `help:"Store the weights as ONNX external data (scorer.onnx.data) even below 2 GB (always above)."`
	Check     string `type:"path" help:"Data file whose first --check-rows examples are scored by the export and the training model to compare (default: built-in texts)."`
	CheckRows int    `default:"16" help:"Examples scored by the check."`
	DataFlags `embed:""`
}

// Run exports and checks.
func (c *RewardExportCmd) Run(g *Globals) error {
	opts, m, err := g.openModel(c.Model)
	if err != nil {
		return err
	}
	extra, err := m.extraFiles()
	if err != nil {
		return fmt.Errorf("--model: %w", err)
	}
	name := c.Name
	if name == "" {
		name = filepath.Base(filepath.Clean(c.Out))
	}
	man, err := engine.ExportScorer(c.Out, m.cfg, m.params, extra, engine.ScorerManifest{Name: name, Template: c.templateName(m.tok), MaxTokens: c.MaxTokens}, c.External)
	if err != nil {
		return err
	}
	batch, err := c.checkBatch(m)
	if err != nil {
		return err
	}
	sc, err := engine.NewScorer(m.cfg, m.params, opts)
	if err != nil {
		return err
	}
	defer sc.Close()
	want, err := sc.Run(batch)
	if err != nil {
		return err
	}
	frozen, err := engine.LoadScorer(c.Out, opts)
	if err != nil {
		return err
	}
	defer frozen.Close()
	got, err := frozen.NLL(batch)
	if err != nil {
		return err
	}
	var diff float64
	for i := range got {
		diff = math.Max(diff, math.Abs(float64(got[i]-want.NLL[i])))
	}
	fmt.Printf("exported %s (external data: %v) to %s; check on %d sequences: max |reward(export) - reward(model)| = %.3g\n",
		name, man.External, c.Out, batch.B, diff)
	if diff > 1e-3 {
		return fmt.Errorf("the export disagrees with the model by %.3g; it is unusable", diff)
	}
	return nil
}

// checkBatch is the batch the export check scores.
func (c *RewardExportCmd) checkBatch(m *model) (engine.Batch, error) {
	tmpl := c.template(m.tok)
	if c.Check != "" {
		bs, err := openBatches(c.Check, c.options(1, data.PartAll, data.Split{}), m.tok, tmpl, batching{size: c.CheckRows})
		if err != nil {
			return engine.Batch{}, fmt.Errorf("--check: %w", err)
		}
		defer bs.Close()
		return bs.Next()
	}
	texts := []data.Example{
		{Prompt: []data.Message{{Role: "user", Content: "What does 'lamp' mean?"}}, Response: "A device that gives light."},
		{Prompt: []data.Message{{Role: "user", Content: "Define compiler."}}, Response: "A program that translates source code into machine code, usually all at once before the program runs."},
		{Prompt: []data.Message{{Role: "user", Content: "What is an orange?"}}, Response: "Orange."},
	}
	enc := tmpl.Encoder(m.tok)
	var seqs []data.Sequence
	for _, ex := range texts {
		s, err := enc(ex)
		if err != nil {
			return engine.Batch{}, err
		}
		seqs = append(seqs, s)
	}
	return padSequences(seqs, m.tok.PAD()), nil
}

// padSequences right-pads tokenized sequences into a batch.
func padSequences(seqs []data.Sequence, pad int32) engine.Batch {
	t := 0
	for _, s := range seqs {
		t = max(t, len(s.IDs))
	}
	b := engine.Batch{B: len(seqs), T: t, IDs: make([]int64, len(seqs)*t), AttentionMask: make([]int64, len(seqs)*t), LossMask: make([]float32, len(seqs)*t)}
	for r, s := range seqs {
		for i := 0; i < t; i++ {
			k := r*t + i
			if i >= len(s.IDs) {
				b.IDs[k] = int64(max(pad, 0))
				continue
			}
			b.IDs[k], b.AttentionMask[k] = int64(s.IDs[i]), 1
			if s.LossMask[i] {
				b.LossMask[k] = 1
			}
		}
	}
	return b
}
