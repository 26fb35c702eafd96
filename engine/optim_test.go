package engine

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/require"
)

// adamwReference is PyTorch's AdamW step in float64.
func adamwReference(w, g, m, v []float64, step int, lr, b1, b2, eps, wd float64, decay bool) {
	bc1 := 1 - math.Pow(b1, float64(step))
	bc2 := 1 - math.Pow(b2, float64(step))
	for i := range w {
		if decay {
			w[i] *= 1 - lr*wd
		}
		m[i] = b1*m[i] + (1-b1)*g[i]
		v[i] = b2*v[i] + (1-b2)*g[i]*g[i]
		w[i] -= lr * (m[i] / bc1) / (math.Sqrt(v[i]/bc2) + eps)
	}
}

// TestAdamWMatchesFloat64Reference minimises a badly scaled quadratic with clipping and a
// cosine schedule, in float32 with AdamW and in float64 with the reference, and compares.
func TestAdamWMatchesFloat64Reference(t *testing.T) {
	const n, steps = 300, 200
	rng := rand.New(rand.NewPCG(1, 1))
	scale, target := make([]float64, n), make([]float64, n)
	w32 := make([]float32, n)
	w64 := make([]float64, n)
	for i := range scale {
		scale[i] = math.Pow(10, 2*rng.Float64()-1)
		target[i] = rng.NormFloat64()
		w64[i] = rng.NormFloat64()
		w32[i] = float32(w64[i])
	}
	// Weight decay on the first 200 parameters only.
	opt := NewAdamW(n, AdamWConfig{}, []Range{{0, 200}})
	m, v := make([]float64, n), make([]float64, n)
	sched := CosineSchedule{Peak: 0.05, Total: steps, WarmupFrac: 0.05}
	g32 := make([]float32, n)
	g64 := make([]float64, n)
	for s := 0; s < steps; s++ {
		for i := range w64 {
			g64[i] = scale[i] * (w64[i] - target[i])
			g32[i] = float32(scale[i] * (float64(w32[i]) - target[i]))
		}
		clip := ClipScale(GlobalNorm(g32), 1)
		var norm64 float64
		for _, g := range g64 {
			norm64 += g * g
		}
		clip64 := ClipScale(math.Sqrt(norm64), 1)
		for i := range g64 {
			g64[i] *= clip64
		}
		lr := sched.LR(s)
		opt.Update(w32, g32, lr, clip)
		adamwReference(w64[:200], g64[:200], m[:200], v[:200], s+1, lr, 0.9, 0.999, 1e-8, 0.1, true)
		adamwReference(w64[200:], g64[200:], m[200:], v[200:], s+1, lr, 0.9, 0.999, 1e-8, 0.1, false)
	}
	var maxDiff float64
	for i := range w64 {
		maxDiff = math.Max(maxDiff, math.Abs(float64(w32[i])-w64[i]))
	}
	require.Less(t, maxDiff, 1e-4, "float32 AdamW drifted from the float64 reference")
	// And it optimised: the weights moved close to the targets (decay pulls them a little).
	var dist float64
	for i := 200; i < n; i++ {
		dist = math.Max(dist, math.Abs(w64[i]-target[i]))
	}
	require.Less(t, dist, 0.3)
}

func TestCosineSchedule(t *testing.T) {
	s := CosineSchedule{Peak: 1, Total: 100, WarmupFrac: 0.05}
	require.Equal(t, 5, s.Warmup())
	require.InDelta(t, 0.2, s.LR(0), 1e-12)
	require.InDelta(t, 1.0, s.LR(4), 1e-12)
	require.InDelta(t, 1.0, s.LR(5), 1e-12)
	require.InDelta(t, 0.5, s.LR(5+95/2), 0.02)
	require.Greater(t, s.LR(99), 0.0)
	require.Less(t, s.LR(99), 0.001)
	for i := 6; i < 100; i++ {
		require.LessOrEqual(t, s.LR(i), s.LR(i-1))
	}
}

func TestClipAndNorm(t *testing.T) {
	g := []float32{3, 4}
	require.InDelta(t, 5, GlobalNorm(g), 1e-12)
	require.InDelta(t, 0.2, ClipScale(5, 1), 1e-12)
	require.Equal(t, 1.0, ClipScale(0.5, 1))
	require.Equal(t, 1.0, ClipScale(5, 0))
	dst := []float32{1, 1}
	AddScaled(dst, g, 0.5)
	require.Equal(t, []float32{2.5, 3}, dst)
}

// BenchmarkAdamW times one AdamW update of the benchmark model's 19.5M parameters in
// parallel Go (compare with BenchmarkTrainStep's step time).
func BenchmarkAdamW(b *testing.B) {
	n := int(benchConfig().NumParams())
	params, grads := make([]float32, n), make([]float32, n)
	for i := range grads {
		grads[i] = float32(i%7) * 1e-3
	}
	opt := NewAdamW(n, AdamWConfig{}, nil)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		opt.Update(params, grads, 1e-3, 1)
	}
	b.ReportMetric(float64(n)/b.Elapsed().Seconds()*float64(b.N)/1e9, "Gparams/s")
}
