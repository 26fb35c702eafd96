package engine

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
)

// BradleyTerry trains a reward model on preference pairs. The reward of a response is the
// model's length-normalized log-likelihood r = -p(y|x); the loss is
// -log sigma(r_chosen - r_rejected) averaged over pairs. Each micro-batch takes one
// forward pass (Score) for both rewards, then one weighted-NLL backward (Train) with
// w_chosen = 1 - sigma(d) and w_rejected = -(1 - sigma(d)), d = r_chosen - r_rejected,
// whose gradient is the summed pair loss's; the step divides by the pair count.
type BradleyTerry struct {
	Train      *TrainStep
	Score      *Scorer
	Data       Source // rows 2i and 2i+1 of each batch are pair i's chosen and rejected responses
	MicroBatch int    // micro-batches per optimizer step
	Clip       float64
}

// PairWeights returns the backward weights of pairs whose length-normalized NLLs are nll
// (chosen at even rows, rejected at odd rows), plus the summed loss and correct count.
func PairWeights(nll []float32) (w []float32, loss float64, correct int) {
	w = make([]float32, len(nll))
	for k := 0; k+1 < len(nll); k += 2 {
		d := float64(-nll[k] + nll[k+1]) // r_chosen - r_rejected
		sig := 1 / (1 + math.Exp(-d))
		w[k], w[k+1] = float32(1-sig), float32(-(1 - sig))
		loss += softplus(-d) // -log sigma(d)
		if d > 0 {
			correct++
		}
	}
	return w, loss, correct
}

// softplus is log(1+e^x), computed stably.
func softplus(x float64) float64 {
	if x > 30 {
		return x
	}
	return math.Log1p(math.Exp(x))
}

// Gradient computes the clipped mean Bradley-Terry gradient of one mini-batch of pairs.
func (m *BradleyTerry) Gradient(t int, _ *rand.PCG, grad []float32) (StepLog, error) {
	batches, err := nextBatches(m.Data, m.MicroBatch)
	if err != nil {
		return StepLog{}, err
	}
	var loss float64
	var pairs, correct int
	weights := func(_ int, b Batch) ([]float32, error) {
		if b.B%2 != 0 {
			return nil, fmt.Errorf("engine: preference batch of %d rows is not made of pairs", b.B)
		}
		s, err := m.Score.Run(b)
		if err != nil {
			return nil, err
		}
		w, l, c := PairWeights(s.NLL)
		loss, correct, pairs = loss+l, correct+c, pairs+b.B/2
		return w, nil
	}
	acc, err := accumulate(m.Train, batches, weights, grad)
	if err != nil {
		return StepLog{}, err
	}
	norm := clipInPlace(grad, 1/float64(pairs), m.Clip)
	log := acc.log("pairs", m.Data.Epoch(), loss/float64(pairs), norm)
	log.Extra = map[string]float64{"pair_accuracy": float64(correct) / float64(pairs)}
	return log, nil
}

// State is the data position.
func (m *BradleyTerry) State() (json.RawMessage, error) { return m.Data.State() }

// Restore moves the data to a saved position.
func (m *BradleyTerry) Restore(s json.RawMessage) error { return m.Data.Restore(s) }

// PairAccuracy scores preference batches (pairs side by side) and returns the fraction of
// pairs whose chosen response gets the higher reward, and the mean Bradley-Terry loss.
func PairAccuracy(sc *Scorer, next func() (Batch, error)) (accuracy, loss float64, pairs int, err error) {
	var correct int
	for {
		b, err := next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return 0, 0, 0, err
		}
		s, err := sc.Run(b)
		if err != nil {
			return 0, 0, 0, err
		}
		_, l, c := PairWeights(s.NLL)
		loss, correct, pairs = loss+l, correct+c, pairs+b.B/2
	}
	if pairs == 0 {
		return 0, 0, 0, fmt.Errorf("engine: no preference pairs to validate on")
	}
	return float64(correct) / float64(pairs), loss / float64(pairs), pairs, nil
}
