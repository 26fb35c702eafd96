// Command l3m-engine fine-tunes LLaMA-architecture models under constraints (L3M) on ONNX
// Runtime, without Python. Each command lives in its own file (*_cmd.go).
package main

import (
	"fmt"
	"os"

	"github.com/alecthomas/kong"

	"github.com/l3m/l3m-engine/engine/ort"
)

// Globals are flags every command accepts.
type Globals struct {
	OrtLib  string `name:"ort-lib" help:"Path of libonnxruntime.so.1 (ONNX Runtime 1.31). Default: $ONNXRUNTIME_LIB, then .cache/ort from 'make setup', then the system library path." type:"path"`
	Device  string `default:"cpu" help:"Execution device: cpu, cuda or cuda:N (CUDA needs a GPU build of ONNX Runtime)."`
	Threads int    `default:"0" help:"ONNX Runtime intra-op threads; 0 = one per physical core."`
}

// ortOptions turns the global flags into session options, checking the device string.
func (g *Globals) ortOptions() (ort.Options, error) {
	if _, err := ort.ParseDevice(g.Device); err != nil {
		return ort.Options{}, fmt.Errorf("--device: %w", err)
	}
	if g.Threads < 0 {
		return ort.Options{}, fmt.Errorf("--threads must be >= 0, got %d", g.Threads)
	}
	if err := ort.Init(g.OrtLib); err != nil {
		return ort.Options{}, err
	}
	return ort.Options{Device: g.Device, Threads: g.Threads}, nil
}

// CLI is the command tree: a new command is one file and one field here.
type CLI struct {
	Globals

	Fit    FitCmd    `cmd:"" set:"epochs=1" set:"warmup=0.05" set:"eval_help=Validation perplexity every N steps (0: only before and after training)." help:"Fine-tune a model on prompt/response data: SFT, or under constraints (L3M, MM)."`
	Eval   EvalCmd   `cmd:"" help:"Perplexity (length-normalized NLL, mean +- std) of a model on a dataset, as JSON."`
	Reward RewardCmd `cmd:"" help:"Train (Bradley-Terry) and export learned reward models."`
	Init   InitCmd   `cmd:"" help:"Write a new randomly initialised model directory from a config.json."`
	Graph  GraphCmd  `cmd:"" help:"Build, validate and inspect the ONNX graphs of a model."`

	Generate GenerateCmd `cmd:"" help:"Sample a model's responses to prompts (--prompt or --data) as JSON lines."`
}

func main() {
	var cli CLI
	ctx := kong.Parse(&cli,
		kong.Name("l3m-engine"),
		kong.Description("Constrained fine-tuning (L3M) of LLaMA-architecture models on ONNX Runtime."),
		kong.UsageOnError(),
		kong.Configuration(configLoader),
	)
	err := ctx.Run(&cli.Globals)
	if err != nil {
		fmt.Fprintln(os.Stderr, "l3m-engine:", err)
		os.Exit(1)
	}
}
