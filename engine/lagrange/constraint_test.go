package lagrange

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestConstraintSigns(t *testing.T) {
	lower := Constraint{Name: "length>=50", Reward: "length", Bound: 50}
	upper := Constraint{Name: "length<=100", Reward: "length", Bound: 100, Upper: true}
	for _, tc := range []struct {
		name                         string
		c                            Constraint
		mean                         float64
		signed, signedBound, violate float64
	}{
		{"lower satisfied", lower, 60, 60, 50, -10},
		{"lower violated", lower, 40, 40, 50, 10},
		{"lower active", lower, 50, 50, 50, 0},
		{"upper satisfied", upper, 80, -80, -100, -20},
		{"upper violated", upper, 130, -130, -100, 30},
	} {
		t.Run(tc.name, func(t *testing.T) {
			assert.Equal(t, tc.signed, tc.c.Signed(tc.mean))
			assert.Equal(t, tc.signedBound, tc.c.SignedBound())
			assert.Equal(t, tc.violate, tc.c.Violation(tc.mean))
			// C = b' - r' in both forms.
			assert.Equal(t, tc.c.SignedBound()-tc.c.Signed(tc.mean), tc.c.Violation(tc.mean))
		})
	}
}
