package engine

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/l3m/l3m-engine/engine/ort"
)

// TestBradleyTerryGradientFiniteDifference checks the sign and scale of the Bradley-Terry
// gradient: along the gradient g, the loss changes at rate |g|^2 (central difference), and
// the largest-gradient entries match per-coordinate central differences in sign.
func TestBradleyTerryGradientFiniteDifference(t *testing.T) {
	cfg := tinyConfig()
	params := randomStore(cfg, 21)
	for i := range params.Flat() {
		params.Flat()[i] *= 5
	}
	opts := ort.Options{Threads: 1}
	train, err := NewTrainStep(cfg, params, nil, opts)
	require.NoError(t, err)
	defer train.Close()
	sc, err := NewScorer(cfg, params, opts)
	require.NoError(t, err)
	defer sc.Close()
	pairs := randomBatch(cfg, 4, 10, 5) // rows 0/1, 2/3 are pairs sharing a prompt
	for k := 0; k < 4; k += 2 {
		copy(pairs.IDs[(k+1)*10:(k+1)*10+3], pairs.IDs[k*10:k*10+3])
	}
	bt := &BradleyTerry{Train: train, Score: sc, Data: &memSource{batches: []Batch{pairs}, epochs: 1}, MicroBatch: 1, Clip: -1}
	grad := make([]float32, params.Len())
	log, err := bt.Gradient(0, rand.NewPCG(1, 1), grad)
	require.NoError(t, err)

	lossAt := func() float64 {
		s, err := sc.Run(pairs)
		require.NoError(t, err)
		_, l, _ := PairWeights(s.NLL)
		return l / 2
	}
	require.InDelta(t, log.Loss, lossAt(), 1e-5)
	w := params.Flat()
	orig := append([]float32(nil), w...)
	norm2 := 0.0
	for _, g := range grad {
		norm2 += float64(g) * float64(g)
	}
	eps := 1e-2 / math.Sqrt(norm2)
	step := func(sign float64) float64 {
		for i := range w {
			w[i] = orig[i] + float32(sign*eps)*grad[i]
		}
		return lossAt()
	}
	up, down := step(1), step(-1)
	copy(w, orig)
	rate := (up - down) / (2 * eps)
	require.Less(t, down, up, "moving against the gradient must lower the loss")
	require.InEpsilon(t, norm2, rate, 0.05, "directional derivative %g vs |g|^2 %g", rate, norm2)

	// Per-coordinate signs on the 5 largest entries.
	for n := 0; n < 5; n++ {
		best := 0
		for i, g := range grad {
			if math.Abs(float64(g)) > math.Abs(float64(grad[best])) {
				best = i
			}
		}
		h := float32(2e-3)
		w[best] = orig[best] + h
		lu := lossAt()
		w[best] = orig[best] - h
		ld := lossAt()
		w[best] = orig[best]
		fd := (lu - ld) / float64(2*h)
		require.Equal(t, math.Signbit(fd), math.Signbit(float64(grad[best])), "entry %d: fd %g, grad %g", best, fd, grad[best])
		require.InEpsilon(t, float64(grad[best]), fd, 0.1)
		grad[best] = 0
	}
}

func TestPairWeights(t *testing.T) {
	// chosen nll 1, rejected nll 2: d = r_c - r_r = 1, sigma(1) = 0.7311
	w, loss, correct := PairWeights([]float32{1, 2})
	require.InDelta(t, 1-0.7310585786, w[0], 1e-6)
	require.InDelta(t, -(1 - 0.7310585786), w[1], 1e-6)
	require.InDelta(t, math.Log1p(math.Exp(-1)), loss, 1e-9)
	require.Equal(t, 1, correct)
}
