package lagrange_test

import (
	"fmt"
	"math"

	"github.com/l3m/l3m-engine/engine/lagrange"
)

// L3M on an analytic problem: minimise f(x) = (x-3)^2 subject to x <= 1, whose solution
// is x = 1 with Lagrange multiplier -f'(1) = 4. The constraint C(x) = x - 1 <= 0 is the
// requirement "E[x] <= 1" on the reward x. One gradient step on G_mu(x) = f(x) + psi(C(x))
// per value of mu, clipped to norm 1 as the trainer clips; the step size shrinks with mu
// because the barrier's curvature near the solution grows like 1/mu. The multiplier ends
// near the true one without ever being learned.
func Example() {
	f := func(x float64) float64 { return (x - 3) * (x - 3) }
	fPrime := func(x float64) float64 { return 2 * (x - 3) }
	clip := func(g float64) float64 { return g / math.Max(1, math.Abs(g)) }

	constraint := lagrange.Constraint{Name: "x<=1", Reward: "x", Bound: 1, Upper: true}
	schedule := lagrange.MuSchedule{Total: 1000} // mu from 1 to 1e-6
	state := lagrange.NewState(1, 0)
	x := 0.0
	for t := range schedule.Total {
		mu, s := schedule.Mu(t), schedule.S(t)
		lambda := state.L3M([]float64{constraint.Violation(x)}, mu, s)
		// grad C(x) = 1, so grad G_mu(x) = f'(x) + lambda.
		x -= 0.1 * mu * clip(fPrime(x)+lambda[0])
	}
	fmt.Printf("x = %.4f, f(x) = %.4f, feasible: %v, lambda = %.1f\n",
		x, f(x), constraint.Violation(x) <= 0, state.Lambda[0])
	// Output:
	// x = 1.0000, f(x) = 4.0000, feasible: true, lambda = 4.0
}

// MM on the problem of the L3M example: gradient descent on x and projected gradient
// ascent on lambda over the Lagrangian f(x) + lambda*C(x), lambda starting at 0.
func Example_dualAscent() {
	f := func(x float64) float64 { return (x - 3) * (x - 3) }
	fPrime := func(x float64) float64 { return 2 * (x - 3) }
	clip := func(g float64) float64 { return g / math.Max(1, math.Abs(g)) }

	constraint := lagrange.Constraint{Name: "x<=1", Reward: "x", Bound: 1, Upper: true}
	const steps, eta = 1000, 0.1
	state := lagrange.NewState(1, 0)
	x := 0.0
	for t := range steps {
		lambda := state.DualAscent([]float64{constraint.Violation(x)}, eta)
		lr := 0.1 * (1 - float64(t)/steps)
		x -= lr * clip(fPrime(x)+lambda[0])
	}
	fmt.Printf("x = %.4f, f(x) = %.4f, lambda = %.1f\n", x, f(x), state.Lambda[0])
	// Output:
	// x = 1.0000, f(x) = 4.0000, lambda = 4.0
}

// Three sampled responses of 40, 60 and 80 tokens under the constraints length >= 50 and
// length <= 70: the weights of the constraint step's weighted NLL. The short response is
// pushed down, the long one (which violates the upper bound less than it helps the
// heavily weighted lower bound) up.
func ExampleSequenceWeights() {
	constraints := []lagrange.Constraint{
		{Name: "length>=50", Reward: "length", Bound: 50},
		{Name: "length<=70", Reward: "length", Bound: 70, Upper: true},
	}
	lengths := []float64{40, 60, 80}
	lambda := []float64{2, 0.5}
	rewards := make([][]float64, len(constraints))
	bounds := make([]float64, len(constraints))
	for i, c := range constraints {
		for _, r := range lengths {
			rewards[i] = append(rewards[i], c.Signed(r))
		}
		bounds[i] = c.SignedBound()
	}
	fmt.Printf("plain:    %.3f\n", lagrange.SequenceWeights(rewards, bounds, lambda, false))
	fmt.Printf("baseline: %.3f\n", lagrange.SequenceWeights(rewards, bounds, lambda, true))
	// Output:
	// plain:    [-1.667 8.333 18.333]
	// baseline: [-10.000 0.000 10.000]
}
