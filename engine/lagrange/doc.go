// Package lagrange is the constrained-optimisation math of L3M and of its min-max baseline
// MM: the relaxed log-barrier, the barrier schedule, the moving-average constraint
// estimates, the multipliers and the per-sequence loss weights that turn them into one
// backward pass. It is pure arithmetic on float64s (no graphs, no ONNX Runtime, no I/O), so
// every piece is testable on analytic problems before it touches a model; see the package
// examples, which solve a one-dimensional constrained problem with each method.
//
// # Problem
//
// Fine-tuning minimises the task loss L(theta) subject to m constraints on expected
// rewards, E[r_i] >= b_i, written as C_i(theta) = E[b_i - r_i] <= 0. An upper bound
// E[r] <= u is the lower bound -r >= -u on the negated reward: a [Constraint] keeps the
// user's form and gives the signed reward r' and bound b' ([Constraint.Signed],
// [Constraint.SignedBound]) that everything below works with.
//
// # L3M: relaxed log-barrier
//
// L3M minimises G_mu(theta) = L(theta) + sum_i psi_{mu,s}(C_i(theta)) with [Psi], the
// log-barrier -mu*log(-z) continued linearly for z > -s, so it is finite (and its slope
// bounded by mu/s) for infeasible points. Its gradient is grad L + sum_i lambda_i grad C_i
// with lambda_i = psi'(C_i) = mu / max(-C_i, s) ([PsiPrime], [State.L3M]): a Lagrange
// multiplier estimate that is 1/mu for active or violated constraints (with s = mu^2) and
// tends to 0 for constraints satisfied with slack as mu -> 0. [MuSchedule] decays mu
// exponentially over the run; one optimizer step is taken per value of mu.
//
// # MM: projected dual ascent
//
// The baseline learns lambda_i >= 0 on the Lagrangian L + sum_i lambda_i C_i by projected
// gradient ascent, lambda_i <- max(0, lambda_i + eta*C_hat_i) ([State.DualAscent]), or in
// the log-parameterised variant by ascent on log lambda_i, lambda_i <- lambda_i *
// exp(eta*C_hat_i) from a positive start ([State.LogDualAscent]). Both methods share
// everything else, so they differ only in how lambda is obtained.
//
// # Estimates
//
// The C_i inside a multiplier carries no gradient and is estimated across steps by an
// exponential moving average of the batch mean violations ([EMA], alpha 0.1, initialised
// with the first batch), because the policy keeps changing. [State] holds the averages and
// the multipliers and round-trips through JSON for checkpoints.
//
// # Policy gradient weights
//
// grad C_i is estimated with the length-normalized policy gradient, grad C_i ~=
// E[(r'_i - b'_i) grad p(y|x)] with p the length-normalized NLL, so sum_i lambda_i grad C_i
// is the gradient of sum_j w_j p(y_j|x_j) with [SequenceWeights] w_j: the constraint step is
// one backward pass of the weighted NLL graph the task step also uses.
package lagrange
