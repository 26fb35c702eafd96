package lagrange

import "math"

// MuSchedule is L3M's barrier schedule: mu decays exponentially from Start to End over
// Total optimizer steps, and the relaxation point is s = mu^2. Like the learning-rate
// schedule it is a pure function of the step, so resuming needs no state. Start and End
// must be positive.
type MuSchedule struct {
	Start float64 // mu at step 0 [1 when zero]
	End   float64 // mu at step Total [1e-6 when zero]
	Total int     // optimizer steps in the run; <= 0 keeps mu at Start
}

// Mu is Start * (End/Start)^(t/Total) for 0-based optimizer step t, with t clamped to
// [0, Total]: the last step of a run, t = Total-1, runs one decay factor above End,
// and steps past the planned total stay at End.
func (m MuSchedule) Mu(t int) float64 {
	start, end := m.Start, m.End
	if start == 0 {
		start = 1
	}
	if end == 0 {
		end = 1e-6
	}
	switch {
	case m.Total <= 0 || t <= 0:
		return start
	case t >= m.Total:
		return end
	}
	return start * math.Pow(end/start, float64(t)/float64(m.Total))
}

// S is the relaxation point of step t, Mu(t)^2: the linear piece of [Psi] then has slope
// 1/mu, the multiplier of an active or violated constraint.
func (m MuSchedule) S(t int) float64 {
	mu := m.Mu(t)
	return mu * mu
}
