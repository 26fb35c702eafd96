package lagrange

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/assert"
)

// barrierParams are (mu, s) pairs across the schedule's range, with and without s = mu^2.
var barrierParams = []struct{ mu, s float64 }{
	{1, 1}, {0.5, 0.25}, {1e-3, 1e-6}, {1e-6, 1e-12}, {2, 0.1}, {0.3, 0.7},
}

// closeRel reports whether a and b agree within tol relative to max(1, |a|, |b|).
func closeRel(a, b, tol float64) bool {
	return math.Abs(a-b) <= tol*math.Max(1, math.Max(math.Abs(a), math.Abs(b)))
}

func TestPsiValues(t *testing.T) {
	ln := math.Log
	for _, tc := range []struct {
		name          string
		z, mu, s      float64
		psi, psiPrime float64
	}{
		{"barrier at -1", -1, 1, 0.01, 0, 1},
		{"barrier at -e", -math.E, 1, 0.01, -1, 1 / math.E},
		{"barrier scaled by mu", -2, 0.5, 0.25, -0.5 * ln(2), 0.25},
		{"kink", -0.01, 1, 0.01, -ln(0.01), 100},
		{"linear at 0", 0, 1, 0.01, -ln(0.01) + 1, 100},
		{"linear violated", 1, 0.1, 0.01, 10 - 0.1*ln(0.01) + 0.1, 10},
		{"linear slack below s", -0.5, 1, 1, -0.5 + 1, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			assert.InDelta(t, tc.psi, Psi(tc.z, tc.mu, tc.s), 1e-12)
			assert.InDelta(t, tc.psiPrime, PsiPrime(tc.z, tc.mu, tc.s), 1e-12)
		})
	}
}

// TestPsiContinuousAtKink compares the left and right limits of psi and psi' at z = -s:
// the two pieces meet with equal value and slope.
func TestPsiContinuousAtKink(t *testing.T) {
	for _, p := range barrierParams {
		left, right := math.Nextafter(-p.s, math.Inf(-1)), math.Nextafter(-p.s, math.Inf(1))
		// The barrier piece evaluated exactly at the kink against the linear piece there.
		barrier := -p.mu * math.Log(p.s)
		linear := p.mu*(-p.s)/p.s - p.mu*math.Log(p.s) + p.mu
		assert.True(t, closeRel(barrier, linear, 1e-12), "pieces at kink, mu=%g s=%g: %g vs %g", p.mu, p.s, barrier, linear)
		assert.True(t, closeRel(Psi(left, p.mu, p.s), Psi(right, p.mu, p.s), 1e-12), "psi, mu=%g s=%g", p.mu, p.s)
		assert.True(t, closeRel(PsiPrime(left, p.mu, p.s), PsiPrime(right, p.mu, p.s), 1e-12), "psi', mu=%g s=%g", p.mu, p.s)
		// The slope of the barrier piece, mu/(-z), at the kink is the linear piece's mu/s.
		assert.True(t, closeRel(p.mu/p.s, PsiPrime(-p.s, p.mu, p.s), 1e-12))
	}
}

// TestPsiPrimeFiniteDifference checks psi' against a central finite difference of psi on
// both pieces and across the kink (psi is C^1, so the difference converges there too).
func TestPsiPrimeFiniteDifference(t *testing.T) {
	for _, p := range barrierParams {
		for _, z := range []float64{-10, -3, -1.5, -1, -2 * p.s, -p.s, -p.s / 2, 0, p.s, 0.5, 2} {
			h := 1e-6 * math.Max(p.s, math.Abs(z))
			fd := (Psi(z+h, p.mu, p.s) - Psi(z-h, p.mu, p.s)) / (2 * h)
			assert.True(t, closeRel(PsiPrime(z, p.mu, p.s), fd, 1e-5),
				"mu=%g s=%g z=%g: psi'=%g, finite difference %g", p.mu, p.s, z, PsiPrime(z, p.mu, p.s), fd)
		}
	}
}

// TestPsiConvex spot-checks the chord inequality and the monotonicity of psi'.
func TestPsiConvex(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 7))
	for _, p := range barrierParams {
		for range 2000 {
			// Points on a log scale around the kink, on both sides of zero.
			draw := func() float64 {
				return math.Copysign(p.s*math.Pow(10, 6*rng.Float64()-3), rng.Float64()-0.7)
			}
			a, b, w := draw(), draw(), rng.Float64()
			mid := w*a + (1-w)*b
			chord := w*Psi(a, p.mu, p.s) + (1-w)*Psi(b, p.mu, p.s)
			if !assert.LessOrEqual(t, Psi(mid, p.mu, p.s), chord+1e-9*math.Max(1, math.Abs(chord)),
				"mu=%g s=%g a=%g b=%g w=%g", p.mu, p.s, a, b, w) {
				return
			}
			lo, hi := math.Min(a, b), math.Max(a, b)
			if !assert.LessOrEqual(t, PsiPrime(lo, p.mu, p.s), PsiPrime(hi, p.mu, p.s), "psi' decreasing between %g and %g", lo, hi) {
				return
			}
		}
	}
}

// TestPsiTendsToIndicator: with s = mu^2, psi -> 0 for a satisfied constraint and -> +inf
// for a violated one as mu -> 0.
func TestPsiTendsToIndicator(t *testing.T) {
	prevViolated := 0.0
	for _, mu := range []float64{1e-1, 1e-2, 1e-3, 1e-4, 1e-5, 1e-6} {
		s := mu * mu
		assert.Less(t, math.Abs(Psi(-0.5, mu, s)), 10*mu, "satisfied, mu=%g", mu)
		violated := Psi(0.1, mu, s)
		assert.Greater(t, violated, prevViolated, "violated, mu=%g", mu)
		prevViolated = violated
	}
	assert.Greater(t, prevViolated, 1e4)
}
