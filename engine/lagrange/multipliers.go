package lagrange

import (
	"fmt"
	"math"
)

// State is the multiplier state of m constraints across optimizer steps: the moving
// averages C_hat_i of the constraint values and the multipliers lambda_i. It marshals to
// JSON (float64s exactly) for checkpoints, so a resumed run continues bit-exactly;
// non-finite values, which finite rewards and a positive s never produce, do not marshal.
// A restored state must have one entry per constraint of the run.
type State struct {
	CHat   []EMA     `json:"c_hat"`  // moving averages of the batch mean violations
	Lambda []float64 `json:"lambda"` // current multipliers; 0 before the first update
}

// NewState is the state of m constraints before the first batch, with EMA weight alpha
// [DefaultAlpha when zero]. MM starts its multipliers at 0, as here, unless set otherwise
// ([State.SetLambda]).
func NewState(m int, alpha float64) *State {
	st := &State{CHat: make([]EMA, m), Lambda: make([]float64, m)}
	for i := range st.CHat {
		st.CHat[i].Alpha = alpha
	}
	return st
}

// update folds one batch's mean violations, batchViolations[i] = mean_j(b'_i - r'_ij),
// into the moving averages.
func (st *State) update(batchViolations []float64) {
	if len(batchViolations) != len(st.CHat) || len(st.Lambda) != len(st.CHat) {
		panic(fmt.Sprintf("lagrange: %d batch violations for a state of %d constraints (%d multipliers)",
			len(batchViolations), len(st.CHat), len(st.Lambda)))
	}
	for i, v := range batchViolations {
		st.CHat[i].Update(v)
	}
}

// L3M folds one batch's mean violations into the moving averages and sets each multiplier
// to the barrier's slope there, lambda_i = mu / max(-C_hat_i, s) ([PsiPrime]). The
// multipliers have no memory: they follow C_hat and the schedule. It returns a copy of
// the new multipliers.
func (st *State) L3M(batchViolations []float64, mu, s float64) []float64 {
	st.update(batchViolations)
	for i := range st.Lambda {
		st.Lambda[i] = PsiPrime(st.CHat[i].Value(), mu, s)
	}
	return append([]float64(nil), st.Lambda...)
}

// DualAscent is MM's multiplier step: it folds one batch's mean violations into the moving
// averages and takes a projected gradient-ascent step on the Lagrangian,
// lambda_i <- max(0, lambda_i + eta*C_hat_i). The step uses the moving average C_hat_i,
// as the L3M update does, rather than the noisier batch value, so the two methods see the
// same estimates. It returns a copy of the new multipliers.
func (st *State) DualAscent(batchViolations []float64, eta float64) []float64 {
	st.update(batchViolations)
	for i := range st.Lambda {
		st.Lambda[i] = math.Max(0, st.Lambda[i]+eta*st.CHat[i].Value())
	}
	return append([]float64(nil), st.Lambda...)
}

// The log-parameterised MM multipliers stay in [MinLogLambda, MaxLogLambda]
// ([State.LogDualAscent]).
const (
	MinLogLambda = 1e-8
	MaxLogLambda = 1e8
)

// LogDualAscent is MM's log-parameterised multiplier step (the spec's optional variant):
// it learns theta_i = log lambda_i by theta_i <- theta_i + eta*C_hat_i, that is
// lambda_i <- lambda_i * exp(eta*C_hat_i). The multipliers stay positive without a
// projection and move in proportion to their size; a multiplier at 0 stays at 0, so the
// state must start positive ([State.SetLambda]). A long-satisfied constraint would drive
// its multiplier down without limit (to an underflow at 0, from which it never returns),
// and an infeasible one up to +Inf, so lambda is held in [MinLogLambda, MaxLogLambda]: a
// constraint violated again regains weight within about log(1/MinLogLambda)/(eta*C_hat)
// steps, and since each constraint step's gradient is clipped, a multiplier past the
// ceiling would change only the mix of the constraints. It returns a copy of the new
// multipliers.
func (st *State) LogDualAscent(batchViolations []float64, eta float64) []float64 {
	st.update(batchViolations)
	for i := range st.Lambda {
		st.Lambda[i] = min(max(st.Lambda[i]*math.Exp(eta*st.CHat[i].Value()), MinLogLambda), MaxLogLambda)
	}
	return append([]float64(nil), st.Lambda...)
}

// SetLambda sets every multiplier to v: MM's starting point (0 for the linear update, a
// positive value for the log-parameterised one). L3M's multipliers have no memory, so
// setting them there changes nothing after the first constraint step.
func (st *State) SetLambda(v float64) {
	for i := range st.Lambda {
		st.Lambda[i] = v
	}
}

// SequenceWeights are the weights w_j of the loss sum_j w_j * p(y_j|x_j), p the
// length-normalized NLL of sample j, whose gradient is the constraint step's direction
// sum_i lambda_i grad C_i:
//
//	w_j = (1/B) * sum_i lambda_i * (r'_ij - b'_i)
//
// rewards[i][j] is the signed reward r' of constraint i on sample j ([Constraint.Signed]),
// bounds[i] the signed bound b' ([Constraint.SignedBound]), and B the number of samples.
// With baseline, the batch mean of r'_i replaces b'_i: the variance-reducing baseline the
// spec allows as an option (the paper's estimator is the plain one). A sample that beats
// a bound gets a positive weight, so minimising the loss raises its likelihood.
func SequenceWeights(rewards [][]float64, bounds, lambda []float64, baseline bool) []float64 {
	if len(bounds) != len(rewards) || len(lambda) != len(rewards) {
		panic(fmt.Sprintf("lagrange: %d reward rows, %d bounds and %d multipliers; want one of each per constraint",
			len(rewards), len(bounds), len(lambda)))
	}
	if len(rewards) == 0 {
		return nil
	}
	batch := len(rewards[0])
	w := make([]float64, batch)
	for i, row := range rewards {
		if len(row) != batch {
			panic(fmt.Sprintf("lagrange: constraint %d has %d rewards, constraint 0 has %d", i, len(row), batch))
		}
		ref := bounds[i]
		if baseline {
			ref = mean(row)
		}
		for j, r := range row {
			w[j] += lambda[i] * (r - ref)
		}
	}
	for j := range w {
		w[j] /= float64(batch)
	}
	return w
}

// mean is the arithmetic mean of xs; 0 for none.
func mean(xs []float64) float64 {
	if len(xs) == 0 {
		return 0
	}
	var sum float64
	for _, x := range xs {
		sum += x
	}
	return sum / float64(len(xs))
}
