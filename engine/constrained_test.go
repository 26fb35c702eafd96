package engine

import (
	"math"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/l3m/l3m-engine/engine/lagrange"
	"github.com/l3m/l3m-engine/engine/ort"
)

// TestWeightedNLLIsPolicyGradient checks the constraint step's core identity on a tiny
// model: one backward of sum_j w_j p_j with w from lagrange.SequenceWeights equals the
// length-normalized policy-gradient estimate sum_i lambda_i (1/B) sum_j (r'_ij - b'_i)
// grad p_j assembled by hand from per-sample gradients.
func TestWeightedNLLIsPolicyGradient(t *testing.T) {
	cfg := tinyConfig()
	params := randomStore(cfg, 31)
	step, err := NewTrainStep(cfg, params, nil, ort.Options{Threads: 1})
	require.NoError(t, err)
	defer step.Close()
	prompts := [][]int32{{4, 9, 2}, {7, 7}, {1, 30, 22, 5}}
	responses := [][]int32{{3, 11, 8}, {5}, {40, 41, 42, 43, 44}}
	cs := []lagrange.Constraint{{Name: "length>=3", Reward: "length", Bound: 3}, {Name: "length<=4", Reward: "length", Bound: 4, Upper: true}}
	lambda := []float64{0.7, 2.5}
	signed := make([][]float64, len(cs))
	bounds := make([]float64, len(cs))
	for i, c := range cs {
		for _, r := range responses {
			signed[i] = append(signed[i], c.Signed(float64(len(r))))
		}
		bounds[i] = c.SignedBound()
	}
	w := lagrange.SequenceWeights(signed, bounds, lambda, false)
	batches, weights, _ := responseBatches(prompts, responses, w, 3, 0)
	require.Len(t, batches, 1)
	_, err = step.Run(batches[0], weights[0])
	require.NoError(t, err)
	got := append([]float32(nil), step.Grads().Flat()...)

	// By hand: per-sample gradients of p_j, combined with the policy-gradient coefficients.
	want := make([]float64, len(got))
	for j := range prompts {
		oneHot := make([]float32, len(prompts))
		oneHot[j] = 1
		_, err := step.Run(batches[0], oneHot)
		require.NoError(t, err)
		coef := 0.0
		for i := range cs {
			coef += lambda[i] * (signed[i][j] - bounds[i]) / float64(len(prompts))
		}
		for k, g := range step.Grads().Flat() {
			want[k] += coef * float64(g)
		}
	}
	var diff, scale float64
	for k := range got {
		diff = math.Max(diff, math.Abs(float64(got[k])-want[k]))
		scale = math.Max(scale, math.Abs(want[k]))
	}
	require.Greater(t, scale, 0.0)
	require.Less(t, diff/scale, 1e-5)
}
