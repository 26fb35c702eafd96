package lagrange

import (
	"encoding/json"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// l3mOnce is the multiplier of a fresh state fed one batch violation.
func l3mOnce(violation, mu float64) float64 {
	return NewState(1, 0).L3M([]float64{violation}, mu, mu*mu)[0]
}

func TestL3MRegimes(t *testing.T) {
	for _, mu := range []float64{1, 1e-1, 1e-2, 1e-4, 1e-6} {
		s := mu * mu
		// Active (C_hat at 0, or within s of it) and violated: the cap mu/s = 1/mu.
		assert.InEpsilon(t, 1/mu, l3mOnce(0, mu), 1e-12, "active, mu=%g", mu)
		assert.InEpsilon(t, 1/mu, l3mOnce(-s/2, mu), 1e-12, "nearly active, mu=%g", mu)
		assert.InEpsilon(t, 1/mu, l3mOnce(-s, mu), 1e-12, "at the kink, mu=%g", mu)
		assert.InEpsilon(t, 1/mu, l3mOnce(0.3, mu), 1e-12, "violated, mu=%g", mu)
		// Inactive: satisfied with slack 0.5, so lambda = mu/0.5 (for s < 0.5).
		if s < 0.5 {
			assert.InEpsilon(t, 2*mu, l3mOnce(-0.5, mu), 1e-12, "inactive, mu=%g", mu)
		}
	}
	// Complementary slackness as mu -> 0: inactive multipliers vanish, active ones grow.
	assert.Less(t, l3mOnce(-0.5, 1e-6), 1e-5)
	assert.Greater(t, l3mOnce(0, 1e-6), 1e5)
	prev := math.Inf(1)
	for _, mu := range []float64{1e-1, 1e-2, 1e-3, 1e-4} {
		lambda := l3mOnce(-0.5, mu)
		assert.Less(t, lambda, prev)
		prev = lambda
	}
}

// TestL3MUsesMovingAverage: the multiplier follows C_hat, not the last batch.
func TestL3MUsesMovingAverage(t *testing.T) {
	st := NewState(2, 0.5)
	st.L3M([]float64{-1, 0}, 0.1, 0.01)
	lambda := st.L3M([]float64{-3, 1}, 0.1, 0.01)
	assert.InDelta(t, -2, st.CHat[0].Value(), 1e-15)
	assert.InDelta(t, 0.5, st.CHat[1].Value(), 1e-15)
	assert.InDelta(t, 0.1/2, lambda[0], 1e-15)
	assert.InDelta(t, 0.1/0.01, lambda[1], 1e-12)
	// The result is a copy.
	lambda[0] = 99
	assert.InDelta(t, 0.05, st.Lambda[0], 1e-15)
}

func TestDualAscent(t *testing.T) {
	st := NewState(2, 0)
	assert.Equal(t, []float64{0, 0}, st.Lambda, "MM starts at 0")

	// Satisfied from the start: projected at 0, never negative.
	lambda := st.DualAscent([]float64{1, -2}, 0.1)
	assert.InDelta(t, 0.1, lambda[0], 1e-15)
	assert.Equal(t, 0.0, lambda[1], "projection at 0")

	// The step uses the moving average: C_hat = 0.9*1 + 0.1*(-10) = -0.1.
	lambda = st.DualAscent([]float64{-10, -2}, 0.1)
	assert.InDelta(t, -0.1, st.CHat[0].Value(), 1e-15)
	assert.InDelta(t, 0.1+0.1*(-0.1), lambda[0], 1e-15)
	assert.Equal(t, 0.0, lambda[1])

	// C_hat = 0.9*(-0.1) + 0.1*(-10) = -1.09: the step overshoots 0 and is projected.
	lambda = st.DualAscent([]float64{-10, 3}, 0.1)
	assert.Equal(t, 0.0, lambda[0], "projection at 0")
	assert.InDelta(t, -1.5, st.CHat[1].Value(), 1e-15)
	assert.Equal(t, 0.0, lambda[1], "C_hat still negative")
}

func TestLogDualAscent(t *testing.T) {
	st := NewState(2, 0)
	st.SetLambda(1)
	assert.Equal(t, []float64{1, 1}, st.Lambda)

	// theta = log lambda moves by eta*C_hat: violated grows, satisfied shrinks, never below 0.
	lambda := st.LogDualAscent([]float64{2, -3}, 0.5)
	assert.InDelta(t, math.Exp(1), lambda[0], 1e-15)
	assert.InDelta(t, math.Exp(-1.5), lambda[1], 1e-15)

	// Moving average again: C_hat = 0.9*2 + 0.1*(-8) = 1.0 and 0.9*(-3) + 0.1*7 = -2.0.
	lambda = st.LogDualAscent([]float64{-8, 7}, 0.5)
	assert.InDelta(t, 1.0, st.CHat[0].Value(), 1e-15)
	assert.InDelta(t, math.Exp(1+0.5), lambda[0], 1e-14)
	assert.InDelta(t, math.Exp(-1.5-1), lambda[1], 1e-15)

	// Many satisfied steps drive lambda down to the floor, never to an underflow at 0; a
	// violation brings it back, up to the ceiling, never to +Inf.
	for range 200 {
		lambda = st.LogDualAscent([]float64{0, -50}, 0.5)
	}
	assert.Equal(t, MinLogLambda, lambda[1])
	for range 100 {
		lambda = st.LogDualAscent([]float64{0, 50}, 0.5)
	}
	assert.Equal(t, MaxLogLambda, lambda[1])

	// The state round-trips through a checkpoint and continues identically.
	b, err := json.Marshal(st)
	require.NoError(t, err)
	var back State
	require.NoError(t, json.Unmarshal(b, &back))
	assert.Equal(t, st.LogDualAscent([]float64{1, 1}, 0.5), back.LogDualAscent([]float64{1, 1}, 0.5))
}

func TestStateLengthMismatchPanics(t *testing.T) {
	assert.PanicsWithValue(t, "lagrange: 1 batch violations for a state of 2 constraints (2 multipliers)", func() {
		NewState(2, 0).L3M([]float64{0}, 1, 1)
	})
	assert.Panics(t, func() { NewState(1, 0).DualAscent([]float64{0, 0}, 1) })
}

// TestStateJSONRoundTrip: a restored state is bit-identical and continues identically.
func TestStateJSONRoundTrip(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	st := NewState(3, 0.1)
	violations := func() []float64 {
		return []float64{rng.NormFloat64(), rng.NormFloat64() / 3, rng.Float64() - 0.9}
	}
	for range 7 {
		st.L3M(violations(), 0.01, 1e-4)
	}
	b, err := json.Marshal(st)
	require.NoError(t, err)
	var back State
	require.NoError(t, json.Unmarshal(b, &back))
	require.Len(t, back.CHat, 3)
	for i := range st.CHat {
		assert.Equal(t, math.Float64bits(st.Lambda[i]), math.Float64bits(back.Lambda[i]))
		assert.Equal(t, math.Float64bits(st.CHat[i].Value()), math.Float64bits(back.CHat[i].Value()))
		assert.Equal(t, st.CHat[i].Alpha, back.CHat[i].Alpha)
		assert.True(t, back.CHat[i].Initialized())
	}
	next := violations()
	assert.Equal(t, st.DualAscent(next, 0.3), back.DualAscent(next, 0.3))
}

func TestSequenceWeightsByHand(t *testing.T) {
	// Constraint 0: length >= 50 (r' = length, b' = 50), lambda 2.
	// Constraint 1: length <= 70 (r' = -length, b' = -70), lambda 0.5.
	// Lengths 40, 60, 80.
	rewards := [][]float64{{40, 60, 80}, {-40, -60, -80}}
	bounds := []float64{50, -70}
	lambda := []float64{2, 0.5}

	// w_j = (2*(r0j - 50) + 0.5*(r1j + 70)) / 3.
	plain := SequenceWeights(rewards, bounds, lambda, false)
	assert.InDeltaSlice(t, []float64{(-20 + 15) / 3.0, (20 + 5) / 3.0, (60 - 5) / 3.0}, plain, 1e-12)

	// Baseline: the batch means 60 and -60 replace the bounds.
	// w_j = (2*(r0j - 60) + 0.5*(r1j + 60)) / 3.
	withBaseline := SequenceWeights(rewards, bounds, lambda, true)
	assert.InDeltaSlice(t, []float64{(-40 + 10) / 3.0, 0, (40 - 10) / 3.0}, withBaseline, 1e-12)
	var sum float64
	for _, w := range withBaseline {
		sum += w
	}
	assert.InDelta(t, 0, sum, 1e-12, "baseline weights sum to zero")

	// Inactive constraints (lambda 0) contribute nothing.
	assert.InDeltaSlice(t, []float64{-20 / 3.0, 20 / 3.0, 60 / 3.0},
		SequenceWeights(rewards, bounds, []float64{2, 0}, false), 1e-12)
}

func TestSequenceWeightsShapes(t *testing.T) {
	assert.Nil(t, SequenceWeights(nil, nil, nil, false))
	assert.Panics(t, func() { SequenceWeights([][]float64{{1}}, []float64{1, 2}, []float64{1}, false) })
	assert.Panics(t, func() {
		SequenceWeights([][]float64{{1, 2}, {1}}, []float64{1, 2}, []float64{1, 1}, false)
	})
}

// TestSequenceWeightsArePolicyGradient checks the sign convention of the whole constraint
// step on a policy whose expectation is exact: a softmax over K one-token responses (so
// length normalization is the identity). With every response "sampled" once and weighted
// by its probability, the weighted-NLL gradient sum_j pi_j*K*w_j*grad p_j must equal
// lambda*grad C, with C(theta) = b - E[r] differentiated by central differences.
func TestSequenceWeightsArePolicyGradient(t *testing.T) {
	theta := []float64{0.3, -1.2, 0.8, 0.1}
	reward := []float64{1, 4, -2, 0.5}
	const bound, lambda = 1.5, 0.7
	K := len(theta)

	softmax := func(th []float64) []float64 {
		pi := make([]float64, len(th))
		var z float64
		for i, v := range th {
			pi[i] = math.Exp(v)
			z += pi[i]
		}
		for i := range pi {
			pi[i] /= z
		}
		return pi
	}
	constraintValue := func(th []float64) float64 {
		c := bound
		for i, p := range softmax(th) {
			c -= p * reward[i]
		}
		return c
	}

	pi := softmax(theta)
	w := SequenceWeights([][]float64{reward}, []float64{bound}, []float64{lambda}, false)
	// p_j = -log pi_j, so grad_theta p_j = pi - e_j.
	got := make([]float64, K)
	for j := range K {
		for k := range K {
			gradP := pi[k]
			if k == j {
				gradP--
			}
			got[k] += pi[j] * float64(K) * w[j] * gradP
		}
	}
	for k := range K {
		const h = 1e-6
		plus, minus := append([]float64(nil), theta...), append([]float64(nil), theta...)
		plus[k] += h
		minus[k] -= h
		want := lambda * (constraintValue(plus) - constraintValue(minus)) / (2 * h)
		assert.InDelta(t, want, got[k], 1e-8, "theta[%d]", k)
	}
}
