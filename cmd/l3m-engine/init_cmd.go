package main

import (
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/l3m/l3m-engine/engine/weights"
	"github.com/l3m/l3m-engine/graphs/llama"
)

// InitCmd writes a new model directory with random weights.
type InitCmd struct {
	Config    string `required:"" type:"existingfile" help:"Hugging Face config.json describing the architecture."`
	Out       string `required:"" type:"path" help:"Model directory to create (config.json, model.safetensors)."`
	Seed      uint64 `default:"1" help:"Random seed of the initialisation (normal(0, 0.02), RMSNorm weights 1)."`
	Tokenizer string `type:"existingdir" help:"Directory whose tokenizer.json and tokenizer_config.json are copied into the model directory."`
	DType     string `default:"F32" enum:"F32,F16,BF16" help:"Storage type of the weights on disk: F32, F16 or BF16."`
}

// Run creates the directory.
func (c *InitCmd) Run(g *Globals) error {
	cfg, err := llama.LoadConfig(c.Config)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(c.Out, 0o755); err != nil {
		return fmt.Errorf("--out: %w", err)
	}
	if err := cfg.Save(filepath.Join(c.Out, "config.json")); err != nil {
		return fmt.Errorf("--out: %w", err)
	}
	store := weights.InitRandom(cfg, c.Seed)
	if err := weights.Save(c.Out, store, weights.SaveOptions{DType: weights.DType(c.DType)}); err != nil {
		return err
	}
	if c.Tokenizer != "" {
		for _, f := range []string{"tokenizer.json", "tokenizer_config.json"} {
			if err := copyFile(filepath.Join(c.Tokenizer, f), filepath.Join(c.Out, f)); err != nil && !os.IsNotExist(err) {
				return fmt.Errorf("--tokenizer: %w", err)
			}
		}
	}
	fmt.Printf("wrote %s: %d parameters (seed %d)\n", c.Out, cfg.NumParams(), c.Seed)
	return nil
}

func copyFile(src, dst string) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.Create(dst)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}
