package rewards

import (
	"errors"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/l3m/l3m-engine/engine/lagrange"
)

func TestParseConstraint(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want lagrange.Constraint
	}{
		{"length>=50", lagrange.Constraint{Name: "length>=50", Reward: "length", Bound: 50}},
		{"length<=100", lagrange.Constraint{Name: "length<=100", Reward: "length", Bound: 100, Upper: true}},
		{"  helpful >=\t0.2 ", lagrange.Constraint{Name: "helpful>=0.2", Reward: "helpful", Bound: 0.2}},
		{"-length>=-100", lagrange.Constraint{Name: "-length>=-100", Reward: "-length", Bound: -100}},
		{"rm.v2_harm-less<=+1.5e1", lagrange.Constraint{Name: "rm.v2_harm-less<=15", Reward: "rm.v2_harm-less", Bound: 15, Upper: true}},
		{"words>=.5", lagrange.Constraint{Name: "words>=0.5", Reward: "words", Bound: 0.5}},
		{"x>=0x1p-2", lagrange.Constraint{Name: "x>=0.25", Reward: "x", Bound: 0.25}},
		{"x<=-0", lagrange.Constraint{Name: "x<=-0", Reward: "x", Bound: 0, Upper: true}},
	} {
		t.Run(tc.in, func(t *testing.T) {
			got, err := ParseConstraint(tc.in)
			require.NoError(t, err)
			assert.Equal(t, tc.want, got)
			again, err := ParseConstraint(got.Name)
			require.NoError(t, err, "the canonical name parses back")
			assert.Equal(t, got, again)
		})
	}
}

func TestParseConstraintErrors(t *testing.T) {
	for _, tc := range []struct {
		name, in string
		column   int
		msg      string
	}{
		{"reversed operator", "length=>50", 7, "expected >= or <="},
		{"= alone", "length=50", 7, "expected >= or <="},
		{"strict", "length>50", 7, "expected >= or <="},
		{"missing operator", "length", 7, "expected >= or <="},
		{"missing operator before number", "length 50", 8, "expected >= or <="},
		{"space inside operator", "length> =50", 7, "expected >= or <="},
		{"space inside name", "my reward>=1", 4, "expected >= or <="},
		{"empty", "", 1, "expected a reward name"},
		{"empty name", ">=50", 1, "expected a reward name"},
		{"empty name after spaces", "  <=50", 3, "expected a reward name"},
		{"= only", "=", 1, "expected a reward name"},
		{"bad name character", "lé>=3", 2, "expected >= or <="},
		{"unbound regex", "regex:^a>=0.5", 6, "expected >= or <= (bind a regex rule to a name first: --reward NAME=regex:PATTERN)"},
		{"missing number", "length>=", 9, "expected a number"},
		{"missing number after spaces", "length >=  ", 12, "expected a number"},
		{"not a number", "length>=fifty", 9, "expected a number"},
		{"NaN", "length>=NaN", 9, "expected a finite number"},
		{"Inf", "length<=+Inf", 9, "expected a finite number"},
		{"infinity", "length<=-infinity", 9, "expected a finite number"},
		{"overflow", "length>=1e999", 9, "bound out of range; use a finite number"},
		{"number with unit", "length>=50tok", 11, `unexpected "tok" after the bound`},
		{"percent", "chars<=1.5%", 11, `unexpected "%" after the bound`},
		{"decimal comma", "words>=1,5", 9, `unexpected ",5" after the bound`},
		{"trailing garbage", "length>=50 and more", 12, `unexpected "and more" after the bound`},
		{"two constraints", "length>=50,length<=100", 11, `unexpected ",length<=100" after the bound`},
		{"column in runes", "length>=5€", 10, `unexpected "€" after the bound`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ParseConstraint(tc.in)
			require.Error(t, err)
			var serr *SyntaxError
			require.True(t, errors.As(err, &serr), "%v", err)
			assert.Equal(t, "constraint", serr.Kind)
			assert.Equal(t, tc.in, serr.Input)
			assert.Equal(t, tc.column, serr.Column, "%v", err)
			assert.Equal(t, tc.msg, serr.Msg)
		})
	}
}

// TestSyntaxErrorCaret pins the whole message: the caret sits under the column.
func TestSyntaxErrorCaret(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"length=>50", "constraint \"length=>50\": expected >= or <= at column 7\n  length=>50\n        ^"},
		{">=50", "constraint \">=50\": expected a reward name at column 1\n  >=50\n  ^"},
		{"length>=", "constraint \"length>=\": expected a number at column 9\n  length>=\n          ^"},
		{"längd>=50", "constraint \"längd>=50\": expected >= or <= at column 2\n  längd>=50\n   ^"},
		{"x>=1\t2", "constraint \"x>=1\\t2\": unexpected \"2\" after the bound at column 6\n  x>=1?2\n       ^"},
	} {
		_, err := ParseConstraint(tc.in)
		require.Error(t, err)
		assert.Equal(t, tc.want, err.Error())
	}
}
