package lagrange

import (
	"fmt"
	"math"
	"testing"
)

func TestProto(t *testing.T) {
	for _, T := range []int{500, 1000, 2000} {
		for _, lr0 := range []float64{0.05, 0.1, 0.2} {
			sched := MuSchedule{Total: T}
			st := NewState(1, 0)
			x := 0.0
			for step := 0; step < T; step++ {
				lam := st.L3M([]float64{x - 1}, sched.Mu(step), sched.S(step))
				g := 2*(x-3) + lam[0]
				if math.Abs(g) > 1 {
					g /= math.Abs(g)
				}
				lr := lr0 * (1 - float64(step)/float64(T))
				x -= lr * g
			}
			fmt.Printf("L3M T=%d lr=%g x=%.6f lam=%.4f chat=%.3g\n", T, lr0, x, st.Lambda[0], st.CHat[0].Value())
		}
	}
	for _, T := range []int{500, 1000, 2000} {
		for _, eta := range []float64{0.1, 0.5, 1} {
			st := NewState(1, 0)
			x := 0.0
			lr0 := 0.1
			for step := 0; step < T; step++ {
				lam := st.DualAscent([]float64{x - 1}, eta)
				g := 2*(x-3) + lam[0]
				if math.Abs(g) > 1 {
					g /= math.Abs(g)
				}
				lr := lr0 * (1 - float64(step)/float64(T))
				x -= lr * g
			}
			fmt.Printf("MM T=%d eta=%g x=%.6f lam=%.4f\n", T, eta, x, st.Lambda[0])
		}
	}
}
