package engine

import "fmt"

// Batch is one padded micro-batch, row-major [B, T]. LossMask marks the tokens whose
// prediction is scored (response tokens and EOS); AttentionMask marks real tokens.
type Batch struct {
	B, T          int
	IDs           []int64
	AttentionMask []int64
	LossMask      []float32
}

// check verifies the slices match B and T.
func (b Batch) check() error {
	n := b.B * b.T
	if b.B <= 0 || b.T <= 0 || len(b.IDs) != n || len(b.AttentionMask) != n || len(b.LossMask) != n {
		return fmt.Errorf("engine: batch [%d %d] has %d ids, %d mask, %d loss-mask entries", b.B, b.T, len(b.IDs), len(b.AttentionMask), len(b.LossMask))
	}
	return nil
}
