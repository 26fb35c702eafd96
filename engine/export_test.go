package engine

import (
	"math"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/l3m/l3m-engine/engine/ort"
)

// TestExportScorerMatchesTrainingModel exports a scorer (inline weights and external data)
// and compares its scores with the training model's score graph on the same batch.
func TestExportScorerMatchesTrainingModel(t *testing.T) {
	cfg := tinyConfig()
	params := randomStore(cfg, 11)
	sc, err := NewScorer(cfg, params, ort.Options{Threads: 1})
	require.NoError(t, err)
	defer sc.Close()
	b := randomBatch(cfg, 3, 9, 2)
	b.AttentionMask[8], b.AttentionMask[7] = 0, 0 // padding in row 0
	want, err := sc.Run(b)
	require.NoError(t, err)
	for _, external := range []bool{false, true} {
		dir := t.TempDir()
		m, err := ExportScorer(dir, cfg, params, map[string][]byte{"tokenizer.json": []byte("{}")}, ScorerManifest{Name: "tiny", Template: "plain", MaxTokens: 64}, external)
		require.NoError(t, err)
		require.Equal(t, external, m.External)
		fs, err := LoadScorer(dir, ort.Options{Threads: 1})
		require.NoError(t, err)
		got, err := fs.NLL(b)
		require.NoError(t, err)
		var diff float64
		for i := range got {
			diff = math.Max(diff, math.Abs(float64(got[i]-want.NLL[i])))
		}
		require.LessOrEqual(t, diff, 1e-6, "external=%v", external)
		orig := b.IDs[0]
		b.IDs[0] = int64(cfg.VocabSize)
		_, err = fs.NLL(b)
		require.ErrorContains(t, err, "outside its vocabulary")
		b.IDs[0] = orig
		fs.Close()
	}
}
