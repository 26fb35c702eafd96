package engine

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"

	"github.com/l3m/l3m-engine/engine/ort"
	"github.com/l3m/l3m-engine/engine/weights"
	"github.com/l3m/l3m-engine/graphs/llama"
)

// Files of an exported reward scorer directory.
const (
	ScorerModelFile    = "scorer.onnx"
	ScorerManifestFile = "manifest.json"
	// ScorerFormat identifies the manifest layout.
	ScorerFormat = "l3m-reward-scorer/1"
)

// ScorerManifest describes an exported scorer: how to feed it and how to read its score.
type ScorerManifest struct {
	Format    string   `json:"format"`
	Name      string   `json:"name"`
	Model     string   `json:"model"`         // ONNX file, relative to the directory
	Tokenizer string   `json:"tokenizer"`     // tokenizer.json, relative to the directory
	Template  string   `json:"chat_template"` // chat template name the reward model was trained with
	MaxTokens int      `json:"max_tokens"`    // sequences longer than this are truncated from the left
	VocabSize int      `json:"vocab_size"`    // ids must be below this
	Inputs    []string `json:"inputs"`        // input_ids, attention_mask (int64 [B,T]), loss_mask (float [B,T])
	Output    string   `json:"output"`        // the output read
	Score     string   `json:"score"`         // how the reward follows from Output
	External  bool     `json:"external_data"` // weights in scorer.onnx.data (models past 2 GB)
}

// ExportScorer writes a frozen, forward-only scorer of the model (weights inside the ONNX
// file, or in ONNX external data past 2 GB or when external is set), its tokenizer files
// (extra) and a manifest into dir.
func ExportScorer(dir string, cfg llama.Config, params *weights.Store, extra map[string][]byte, m ScorerManifest, external bool) (ScorerManifest, error) {
	g, err := llama.BuildScore(cfg, llama.Options{Weights: params.Get})
	if err != nil {
		return m, err
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return m, fmt.Errorf("engine: export: %w", err)
	}
	usedExternal, err := g.SaveModel(filepath.Join(dir, ScorerModelFile), external)
	if err != nil {
		return m, err
	}
	for name, b := range extra {
		if err := writeFileSync(filepath.Join(dir, name), b); err != nil {
			return m, fmt.Errorf("engine: export: %w", err)
		}
	}
	m.Format, m.Model, m.Tokenizer, m.VocabSize, m.External = ScorerFormat, ScorerModelFile, "tokenizer.json", cfg.VocabSize, usedExternal
	m.Inputs = []string{llama.InputIDs, llama.AttentionMask, llama.LossMask}
	m.Output = llama.OutNLL
	m.Score = "reward = -nll: the length-normalized log-likelihood of the response tokens (loss_mask = 1)"
	b, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return m, err
	}
	return m, writeFileSync(filepath.Join(dir, ScorerManifestFile), append(b, '\n'))
}

// FrozenScorer runs an exported scorer file.
type FrozenScorer struct {
	Manifest ScorerManifest
	s        *session
	nll      []float32
	scratch  [2][]float32
	batchB   int
}

// LoadScorer opens an exported scorer directory.
func LoadScorer(dir string, opts ort.Options) (*FrozenScorer, error) {
	b, err := os.ReadFile(filepath.Join(dir, ScorerManifestFile))
	if err != nil {
		return nil, fmt.Errorf("engine: reward scorer %s: %w (export one with `l3m-engine reward export`)", dir, err)
	}
	var m ScorerManifest
	if err := json.Unmarshal(b, &m); err != nil {
		return nil, fmt.Errorf("engine: reward scorer %s: manifest: %w", dir, err)
	}
	if m.Format != ScorerFormat {
		return nil, fmt.Errorf("engine: reward scorer %s: manifest format %q, want %q", dir, m.Format, ScorerFormat)
	}
	if err := ort.Init(""); err != nil {
		return nil, err
	}
	sess, err := ort.NewSessionFromFile(m.Name, filepath.Join(dir, m.Model), opts)
	if err != nil {
		return nil, err
	}
	s := &session{sess: sess, inIdx: map[string]int{}, outIdx: map[string]int{},
		inputs: make([]ort.Value, len(sess.Inputs())), outputs: make([]ort.Value, len(sess.Outputs()))}
	for i, in := range sess.Inputs() {
		s.inIdx[in.Name] = i
	}
	for i, out := range sess.Outputs() {
		s.outIdx[out.Name] = i
	}
	for _, want := range m.Inputs {
		if _, ok := s.inIdx[want]; !ok {
			sess.Close()
			return nil, fmt.Errorf("engine: reward scorer %s: the graph has no input %q; it is not an l3m-engine scorer", dir, want)
		}
	}
	if _, ok := s.outIdx[m.Output]; !ok || len(sess.Inputs()) != len(m.Inputs) {
		sess.Close()
		return nil, fmt.Errorf("engine: reward scorer %s: the graph's inputs/outputs do not match its manifest", dir)
	}
	return &FrozenScorer{Manifest: m, s: s}, nil
}

// NLL scores a batch: the length-normalized NLL of each sequence's masked tokens, valid
// until the next call.
func (f *FrozenScorer) NLL(b Batch) ([]float32, error) {
	for _, id := range b.IDs {
		if id < 0 || id >= int64(f.Manifest.VocabSize) {
			return nil, fmt.Errorf("engine: reward scorer %s: token id %d outside its vocabulary of %d", f.Manifest.Name, id, f.Manifest.VocabSize)
		}
	}
	release, err := f.s.bindBatch(b)
	defer release()
	if err != nil {
		return nil, err
	}
	if b.B != f.batchB {
		f.nll = growFloats(f.nll, b.B)
		for i := range f.scratch {
			f.scratch[i] = growFloats(f.scratch[i], b.B)
		}
		shape := []int64{int64(b.B)}
		if err := f.s.bindOutput(llama.OutNLL, shape, f.nll); err != nil {
			return nil, err
		}
		for i, name := range []string{llama.OutLogLik, llama.OutTokens} {
			if _, ok := f.s.outIdx[name]; ok {
				if err := f.s.bindOutput(name, shape, f.scratch[i]); err != nil {
					return nil, err
				}
			}
		}
		f.batchB = b.B
	}
	if err := f.s.run(); err != nil {
		return nil, err
	}
	return f.nll, nil
}

// Close releases the session.
func (f *FrozenScorer) Close() error { return f.s.Close() }
