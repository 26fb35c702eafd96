package llama

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/l3m/l3m-engine/engine/ort"
	"github.com/l3m/l3m-engine/graphs"
)

func TestGraphsLoad(t *testing.T) {
	cfg := tinyConfig()
	g, err := BuildTrain(cfg, Options{})
	session(t, g, err)
	g, err = BuildScore(cfg, Options{})
	session(t, g, err)
	g, err = BuildDecode(cfg, Options{})
	session(t, g, err)
}

// TestLlama7BGraphsLoad builds all three graphs of LLaMA-7B's config.json (no weights:
// they are graph inputs) and has ONNX Runtime load each; likewise Llama-3.1-8B's (grouped-
// query attention, llama3 rope scaling).
func TestLlama7BGraphsLoad(t *testing.T) {
	require.NoError(t, ort.Init(""))
	for _, c := range []struct {
		file   string
		params int64
	}{{"llama-7b.json", 6_738_415_616}, {"llama-3.1-8b.json", 8_030_261_248}} {
		cfg, err := LoadConfig(filepath.Join("..", "..", "testdata", "configs", c.file))
		require.NoError(t, err)
		require.Equal(t, c.params, cfg.NumParams())
		for _, name := range []string{"train", "score", "decode"} {
			build := map[string]func(Config, Options) (*graphs.Graph, error){
				"train": BuildTrain, "score": BuildScore, "decode": BuildDecode}[name]
			g, err := build(cfg, Options{})
			require.NoError(t, err)
			model, err := g.Marshal()
			require.NoError(t, err)
			in, out, err := ort.ValidateModel(name, model)
			require.NoError(t, err)
			live, _ := g.LiveNodes()
			t.Logf("%s %s: %d nodes (%d built), %.0f KB, %d inputs, %d outputs", c.file, name, len(live), len(g.Nodes()), float64(len(model))/1024, len(in), len(out))
		}
	}
}

// TestFrozenParametersHaveNoGradients freezes the embedding and one layer's MLP: the train
// graph has no gradient outputs for them and one for every other parameter.
func TestFrozenParametersHaveNoGradients(t *testing.T) {
	cfg := tinyConfig()
	frozen := func(name string) bool {
		return name == "model.embed_tokens.weight" || strings.HasPrefix(name, "model.layers.1.mlp.")
	}
	g, err := BuildTrain(cfg, Options{Frozen: frozen})
	require.NoError(t, err)
	outputs := map[string]bool{}
	for _, o := range g.Outputs() {
		outputs[o.Name()] = true
	}
	for _, p := range cfg.Params() {
		require.Equal(t, !frozen(p.Name), outputs[GradName(p.Name)], p.Name)
	}
	session(t, g, nil)
}
