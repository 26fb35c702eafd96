package weights

import (
	"path/filepath"
	"testing"

	"github.com/l3m/l3m-engine/graphs/llama"
	"github.com/stretchr/testify/require"
)

// benchConfig is a 97M-parameter LLaMA: about 194 MB as F16.
func benchConfig() llama.Config {
	cfg := llama.Config{VocabSize: 32000, HiddenSize: 1024, IntermediateSize: 2816, NumHiddenLayers: 5,
		NumAttentionHeads: 16, TieWordEmbeddings: true}
	if err := cfg.Validate(); err != nil {
		panic(err)
	}
	return cfg
}

// benchStore fills a store with varied values cheaply; InitRandom would dominate the setup.
func benchStore(cfg llama.Config) *Store {
	s := NewStore(cfg.Params())
	for i := range s.Flat() {
		s.Flat()[i] = float32(i%2003-1001) * 1e-3
	}
	return s
}

// BenchmarkLoadSafetensors measures Load of an F16 checkpoint from the page cache, the
// usual case when a run restarts: reading plus conversion to float32, in MB/s of file.
func BenchmarkLoadSafetensors(b *testing.B) {
	cfg := benchConfig()
	dir := b.TempDir()
	require.NoError(b, Save(dir, benchStore(cfg), SaveOptions{DType: F16}))
	b.SetBytes(fileSize(b, filepath.Join(dir, SingleFileName)))
	b.ResetTimer()
	for b.Loop() {
		if _, err := Load(dir, cfg); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkSaveSafetensors measures Save as F16, conversion and fsync included, in MB/s
// of file.
func BenchmarkSaveSafetensors(b *testing.B) {
	cfg := benchConfig()
	s := benchStore(cfg)
	dir := b.TempDir()
	b.SetBytes(CountBytes(cfg.Params(), F16))
	for b.Loop() {
		if err := Save(dir, s, SaveOptions{DType: F16}); err != nil {
			b.Fatal(err)
		}
	}
}
