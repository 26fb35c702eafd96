package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/l3m/l3m-engine/engine/ort"
	"github.com/l3m/l3m-engine/graphs"
	"github.com/l3m/l3m-engine/graphs/llama"
)

// GraphCmd groups graph inspection commands.
type GraphCmd struct {
	Check GraphCheckCmd `cmd:"" help:"Build a model's graph (or read an .onnx file), load it into ONNX Runtime and print its inputs and outputs."`
}

// GraphCheckCmd builds and validates one graph.
type GraphCheckCmd struct {
	Config string `help:"Hugging Face config.json, or a model directory holding one." xor:"src" required:""`
	File   string `help:"An existing .onnx file to validate instead of building one." xor:"src" required:"" type:"existingfile"`
	Kind   string `name:"graph" default:"train" enum:"train,score,decode" help:"Which graph to build: train, score or decode."`
	Out    string `help:"Also write the built graph to this .onnx file." type:"path"`
	Brief  bool   `help:"Summarise parameter inputs and gradient outputs instead of listing each."`
}

// Help explains what the check does.
func (c *GraphCheckCmd) Help() string {
	return "Weights are graph inputs, so any config (up to LLaMA-7B and beyond) builds without its weights. " +
		"The check proves ONNX Runtime accepts the graph and shows the names, types and shapes the engine binds."
}

// Run builds or reads the graph, validates it with ORT and prints its interface.
func (c *GraphCheckCmd) Run(g *Globals) error {
	if _, err := g.ortOptions(); err != nil {
		return err
	}
	name, model, summary, err := c.load()
	if err != nil {
		return err
	}
	if c.Out != "" {
		if err := os.WriteFile(c.Out, model, 0o644); err != nil {
			return fmt.Errorf("--out: %w", err)
		}
	}
	inputs, outputs, err := ort.ValidateModel(name, model)
	if err != nil {
		return err
	}
	fmt.Printf("graph %s: ONNX Runtime %s loaded it (%.1f KB, opset %d, IR %d)\n", name, ort.Version(), float64(len(model))/1024, graphs.Opset, graphs.IRVersion)
	if summary != "" {
		fmt.Println(summary)
	}
	c.print("inputs", inputs)
	c.print("outputs", outputs)
	return nil
}

func (c *GraphCheckCmd) load() (name string, model []byte, summary string, err error) {
	if c.File != "" {
		model, err = os.ReadFile(c.File)
		return filepath.Base(c.File), model, "", err
	}
	path := c.Config
	if st, statErr := os.Stat(path); statErr == nil && st.IsDir() {
		path = filepath.Join(path, "config.json")
	}
	cfg, err := llama.LoadConfig(path)
	if err != nil {
		return "", nil, "", err
	}
	var gr *graphs.Graph
	switch c.Kind {
	case "train":
		gr, err = llama.BuildTrain(cfg, llama.Options{})
	case "score":
		gr, err = llama.BuildScore(cfg, llama.Options{})
	case "decode":
		gr, err = llama.BuildDecode(cfg, llama.Options{})
	}
	if err != nil {
		return "", nil, "", err
	}
	model, err = gr.Marshal()
	summary = fmt.Sprintf("model: %d layers, hidden %d, heads %d (kv %d), vocab %d: %d parameters (%.3g); graph: %d nodes",
		cfg.NumHiddenLayers, cfg.HiddenSize, cfg.NumAttentionHeads, cfg.NumKeyValueHeads, cfg.VocabSize,
		cfg.NumParams(), float64(cfg.NumParams()), len(gr.Nodes()))
	return gr.Name, model, summary, err
}

func (c *GraphCheckCmd) print(title string, infos []ort.IOInfo) {
	fmt.Printf("%s (%d):\n", title, len(infos))
	var params, grads int
	for _, io := range infos {
		if c.Brief && (strings.HasPrefix(io.Name, "model.") || io.Name == "lm_head.weight") {
			params++
			continue
		}
		if c.Brief && strings.HasPrefix(io.Name, llama.GradName("")) {
			grads++
			continue
		}
		fmt.Printf("  %-48s %-8s %v\n", io.Name, io.ElemType, dims(io.Dims))
	}
	if params > 0 {
		fmt.Printf("  ... %d parameter inputs\n", params)
	}
	if grads > 0 {
		fmt.Printf("  ... %d gradient outputs\n", grads)
	}
}

func dims(d []int64) string {
	parts := make([]string, len(d))
	for i, x := range d {
		if x < 0 {
			parts[i] = "?"
		} else {
			parts[i] = fmt.Sprint(x)
		}
	}
	return "[" + strings.Join(parts, " ") + "]"
}
