package main

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/l3m/l3m-engine/engine/ort"
	"github.com/l3m/l3m-engine/engine/weights"
	"github.com/l3m/l3m-engine/graphs/llama"
	"github.com/l3m/l3m-engine/tokenize"
)

// model is a Hugging Face-style model directory loaded for training or inference.
type model struct {
	dir    string
	cfg    llama.Config
	params *weights.Store
	tok    *tokenize.Tokenizer
}

// carriedFiles are copied along with the weights into every checkpoint and final model:
// the tokenizer, and generation_config.json (which lists the ids that end a response).
var carriedFiles = []string{"tokenizer.json", "tokenizer_config.json", "generation_config.json"}

// openModel resolves the execution flags and loads the --model directory: the start of
// every command that runs a model without training it.
func (g *Globals) openModel(dir string) (ort.Options, *model, error) {
	opts, err := g.ortOptions()
	if err != nil {
		return ort.Options{}, nil, err
	}
	m, err := loadModel("--model", dir)
	return opts, m, err
}

// loadModel reads config.json, the safetensors weights and tokenizer.json of dir, and
// checks that they fit together.
func loadModel(flag, dir string) (*model, error) {
	st, err := os.Stat(dir)
	if err != nil || !st.IsDir() {
		return nil, fmt.Errorf("%s %s: not a model directory (want config.json, model.safetensors and tokenizer.json)", flag, dir)
	}
	cfg, err := llama.LoadConfig(filepath.Join(dir, "config.json"))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", flag, err)
	}
	params, err := weights.Load(dir, cfg)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", flag, err)
	}
	tok, err := tokenize.Load(dir)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", flag, err)
	}
	if tok.VocabSize() > cfg.VocabSize {
		return nil, fmt.Errorf("%s %s: tokenizer has %d tokens but the model's vocab_size is %d; use the tokenizer the model was trained with", flag, dir, tok.VocabSize(), cfg.VocabSize)
	}
	return &model{dir: dir, cfg: cfg, params: params, tok: tok}, nil
}

// extraFiles reads the tokenizer files of the model directory, which every checkpoint and
// the final model carry (read once: a resumed run's source checkpoint may be pruned).
func (m *model) extraFiles() (map[string][]byte, error) {
	files := map[string][]byte{}
	for _, f := range carriedFiles {
		b, err := os.ReadFile(filepath.Join(m.dir, f))
		if os.IsNotExist(err) {
			continue
		}
		if err != nil {
			return nil, err
		}
		files[f] = b
	}
	return files, nil
}
