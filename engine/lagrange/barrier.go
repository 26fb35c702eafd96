package lagrange

import "math"

// Psi is the relaxed log-barrier psi_{mu,s}(z): -mu*log(-z) for z <= -s, and for z > -s
// the tangent line there, mu*z/s - mu*log(s) + mu, so that it is convex, continuous and
// differentiable everywhere and finite for violated constraints (z > 0). With s = mu^2 it
// tends to the indicator of z <= 0 as mu -> 0. mu and s must be positive.
func Psi(z, mu, s float64) float64 {
	if z <= -s {
		return -mu * math.Log(-z)
	}
	return mu*z/s - mu*math.Log(s) + mu
}

// PsiPrime is the derivative of [Psi] in z, mu / max(-z, s): the L3M multiplier of a
// constraint whose value is z. It is at most mu/s, reached for every z >= -s.
func PsiPrime(z, mu, s float64) float64 {
	return mu / math.Max(-z, s)
}
