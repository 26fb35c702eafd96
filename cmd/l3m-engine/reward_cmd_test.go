package main

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestRewardTrainExportAndConstrain trains a Bradley-Terry reward model for a few steps,
// exports it (with external data, as models past 2 GB need), checks the export agrees with
// the model, and uses it as a learned reward in an L3M fit.
func TestRewardTrainExportAndConstrain(t *testing.T) {
	model := tinyModel(t, 4096)
	pairs := filepath.Join(repo, "testdata", "data", "dict_prefs_relevant.parquet")
	rm := t.TempDir()
	out, err := l3m(t, "reward", "train", "--model", model, "--pairs", pairs, "--out", rm, "--threads", "1",
		"--lr", "1e-3", "--batch-size", "8", "--micro-batch-size", "4", "--max-steps", "6", "--max-tokens", "96")
	require.NoError(t, err, out)
	require.Contains(t, out, "validation pairwise accuracy")
	_, err = os.Stat(filepath.Join(rm, "best", "model.safetensors"))
	require.NoError(t, err, "the best model is kept")

	scorer := filepath.Join(t.TempDir(), "relevant")
	out, err = l3m(t, "reward", "export", "--model", filepath.Join(rm, "best"), "--out", scorer, "--external", "--check", pairs)
	require.NoError(t, err, out)
	require.Contains(t, out, "external data: true")
	require.Contains(t, out, "max |reward(export) - reward(model)|")
	_, err = os.Stat(filepath.Join(scorer, "scorer.onnx.data"))
	require.NoError(t, err)

	fit := t.TempDir()
	out, err = l3m(t, fitArgs(model, fit, "--method", "l3m", "--reward", "relevant="+scorer,
		"--constraint", "relevant>=-8", "--constraint", "length<=12", "--max-new-tokens", "12", "--samples", "4", "--max-steps", "4")...)
	require.NoError(t, err, out)
	b, err := os.ReadFile(filepath.Join(fit, "metrics.jsonl"))
	require.NoError(t, err)
	require.Contains(t, string(b), `"reward_mean[relevant]"`)
	require.Contains(t, string(b), `"lambda[relevant\u003e=-8]"`)

	// A scorer whose tokenizer is larger than its graph's vocabulary would index past the
	// embedding table: refused when the reward is bound, naming the scorer.
	bad := filepath.Join(t.TempDir(), "bad")
	require.NoError(t, os.CopyFS(bad, os.DirFS(scorer)))
	for _, name := range []string{"tokenizer.json", "tokenizer_config.json"} {
		big, err := os.ReadFile(filepath.Join(repo, "testdata", "tokenizers", "llama2", name))
		require.NoError(t, err)
		require.NoError(t, os.WriteFile(filepath.Join(bad, name), big, 0o644))
	}
	out, err = l3m(t, fitArgs(model, t.TempDir(), "--method", "l3m", "--reward", "relevant="+bad,
		"--constraint", "relevant>=-8", "--max-new-tokens", "12", "--samples", "4", "--max-steps", "1")...)
	require.Error(t, err, out)
	require.Contains(t, out, "reward scorer "+bad+": its tokenizer has 32000 tokens but its graph's vocabulary is 4096")
}
