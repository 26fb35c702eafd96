package engine

import "math"

// CosineSchedule is linear warm-up to Peak over the first WarmupFrac of Total steps, then
// cosine decay towards 0. It is a pure function of the step, so resuming needs no state.
type CosineSchedule struct {
	Peak       float64
	Total      int     // optimizer steps in the run
	WarmupFrac float64 // fraction of Total spent warming up [0.05 in fit]
}

// Warmup is the number of warm-up steps: ceil(WarmupFrac * Total).
func (s CosineSchedule) Warmup() int { return int(math.Ceil(s.WarmupFrac * float64(s.Total))) }

// LR is the learning rate of 0-based optimizer step t: Peak*(t+1)/warmup during warm-up
// (no step runs at rate 0), then Peak*(1+cos(pi*progress))/2 with progress going from 0
// at the end of warm-up to (Total-warmup-1)/(Total-warmup) at the last step.
func (s CosineSchedule) LR(t int) float64 {
	w := s.Warmup()
	if t < w {
		return s.Peak * float64(t+1) / float64(w)
	}
	span := s.Total - w
	if span <= 0 {
		return s.Peak
	}
	progress := math.Min(1, float64(t-w)/float64(span))
	return s.Peak * 0.5 * (1 + math.Cos(math.Pi*progress))
}
