package lagrange

import (
	"math"
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestMuScheduleEndpoints(t *testing.T) {
	for _, tc := range []struct {
		name            string
		sched           MuSchedule
		first, mid, end float64
	}{
		{"defaults", MuSchedule{Total: 100}, 1, 1e-3, 1e-6},
		{"custom", MuSchedule{Start: 0.5, End: 0.005, Total: 10}, 0.5, 0.05, 0.005},
		{"increasing", MuSchedule{Start: 1e-2, End: 1, Total: 4}, 1e-2, 1e-1, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			total := tc.sched.Total
			assert.Equal(t, tc.first, tc.sched.Mu(0))
			assert.InEpsilon(t, tc.mid, tc.sched.Mu(total/2), 1e-12)
			assert.Equal(t, tc.end, tc.sched.Mu(total))
			assert.Equal(t, tc.end, tc.sched.Mu(total+5), "past the planned total")
			assert.Equal(t, tc.first, tc.sched.Mu(-1), "before the start")
			for step := -1; step <= total+1; step++ {
				mu := tc.sched.Mu(step)
				assert.Equal(t, mu*mu, tc.sched.S(step))
			}
		})
	}
}

func TestMuScheduleMonotone(t *testing.T) {
	sched := MuSchedule{Total: 1000}
	ratio := math.Pow(1e-6, 1.0/1000)
	for step := 1; step <= sched.Total; step++ {
		prev, mu := sched.Mu(step-1), sched.Mu(step)
		assert.Less(t, mu, prev, "step %d", step)
		// A constant decay factor per step: exponential decay.
		assert.InEpsilon(t, ratio, mu/prev, 1e-9, "step %d", step)
	}
}

func TestMuScheduleWithoutTotal(t *testing.T) {
	for _, step := range []int{0, 1, 100} {
		assert.Equal(t, 1.0, MuSchedule{}.Mu(step))
		assert.Equal(t, 0.5, MuSchedule{Start: 0.5, Total: -3}.Mu(step))
	}
}
