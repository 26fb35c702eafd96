package engine

import (
	"math"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/l3m/l3m-engine/engine/ort"
	"github.com/l3m/l3m-engine/graphs/llama"
)

func tinyConfig() llama.Config {
	c := llama.Config{VocabSize: 50, HiddenSize: 16, IntermediateSize: 24, NumHiddenLayers: 2,
		NumAttentionHeads: 4, NumKeyValueHeads: 2}
	if err := c.Validate(); err != nil {
		panic(err)
	}
	return c
}

func argmax(x []float32) int32 {
	best := 0
	for i, v := range x {
		if v > x[best] {
			best = i
		}
	}
	return int32(best)
}

// fullLogits runs the score graph on one unpadded sequence and returns its last logits.
func fullLogits(t *testing.T, cfg llama.Config, s *session, seq []int32) []float32 {
	t.Helper()
	n := len(seq)
	b := Batch{B: 1, T: n, IDs: make([]int64, n), AttentionMask: make([]int64, n), LossMask: make([]float32, n)}
	for i, id := range seq {
		b.IDs[i], b.AttentionMask[i] = int64(id), 1
	}
	release, err := s.bindBatch(b)
	defer release()
	require.NoError(t, err)
	logits := make([]float32, n*cfg.VocabSize)
	scratch := make([]float32, 1)
	require.NoError(t, s.bindOutput(llama.OutLogits, []int64{1, int64(n), int64(cfg.VocabSize)}, logits))
	for _, name := range []string{llama.OutLogLik, llama.OutTokens, llama.OutNLL} {
		require.NoError(t, s.bindOutput(name, []int64{1}, scratch))
	}
	require.NoError(t, s.run())
	return logits[(n-1)*cfg.VocabSize:]
}

// TestDecoderGreedyMatchesFullForward decodes a left-padded batch greedily with the KV
// cache and checks every step's logits against a full forward pass of each row alone.
func TestDecoderGreedyMatchesFullForward(t *testing.T) {
	cfg := tinyConfig()
	params := randomStore(cfg, 4)
	for i := range params.Flat() {
		params.Flat()[i] *= 10 // larger weights so that logits differ clearly between tokens
	}
	d, err := NewDecoder(cfg, params, 2, 16, ort.Options{Threads: 1})
	require.NoError(t, err)
	defer d.Close()
	g, err := llama.BuildScore(cfg, llama.Options{Logits: true})
	require.NoError(t, err)
	score, err := newSession(g, params, ort.Options{Threads: 1})
	require.NoError(t, err)
	defer score.Close()

	rows := [][]int32{{3, 17, 5}, {8, 1, 1, 42, 9}}
	logits, err := d.Prefill(rows, 0)
	require.NoError(t, err)
	for step := 0; step < 6; step++ {
		next := make([]int32, len(rows))
		for r := range rows {
			got := logits[r*cfg.VocabSize : (r+1)*cfg.VocabSize]
			want := fullLogits(t, cfg, score, rows[r])
			var diff float64
			for i := range got {
				diff = math.Max(diff, math.Abs(float64(got[i]-want[i])))
			}
			require.LessOrEqualf(t, diff, 1e-4, "row %d step %d", r, step)
			next[r] = argmax(got)
			rows[r] = append(rows[r], next[r])
		}
		logits, err = d.Step(next)
		require.NoError(t, err)
	}
	require.Equal(t, 5+6, d.Len())
}
