package lagrange

// Constraint is one requirement on a reward's expectation over the policy's responses:
// E[r] >= Bound, or E[r] <= Bound when Upper. Internally every constraint is a lower
// bound on a signed reward, r' >= b', with r' = -r and b' = -Bound for an upper bound, so
// that C = E[b' - r'] <= 0 in both cases.
type Constraint struct {
	Name   string  // label for logs and errors, such as "length>=50"
	Reward string  // name of the reward it constrains
	Bound  float64 // b of E[r] >= b, or u of E[r] <= u
	Upper  bool    // E[r] <= Bound instead of E[r] >= Bound
}

// Signed is the reward as the constraint sees it: r for a lower bound, -r for an upper one.
func (c Constraint) Signed(r float64) float64 {
	if c.Upper {
		return -r
	}
	return r
}

// SignedBound is b', the lower bound on [Constraint.Signed] rewards: Bound, or -Bound for
// an upper bound.
func (c Constraint) SignedBound() float64 { return c.Signed(c.Bound) }

// Violation is C = b' - r' for a mean reward (not signed): Bound - rewardMean for a
// lower bound, rewardMean - Bound for an upper one. Positive means violated. Because C is
// linear in r, the violation of a batch mean is the batch mean of the violations.
func (c Constraint) Violation(rewardMean float64) float64 {
	return c.SignedBound() - c.Signed(rewardMean)
}
