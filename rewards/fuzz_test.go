package rewards

import (
	"errors"
	"math"
	"strings"
	"testing"
	"unicode/utf8"
)

// checkSyntaxError fails unless err is a *SyntaxError about input whose column lies
// within input or just past it, with the caret line under it.
func checkSyntaxError(t *testing.T, err error, kind, input string) {
	t.Helper()
	var serr *SyntaxError
	if !errors.As(err, &serr) {
		return
	}
	if serr.Kind != kind || serr.Input != input {
		t.Fatalf("%q: error about %s %q", input, serr.Kind, serr.Input)
	}
	if serr.Column < 1 || serr.Column > utf8.RuneCountInString(input)+1 {
		t.Fatalf("%q: column %d out of range", input, serr.Column)
	}
	lines := strings.Split(err.Error(), "\n")
	caret := lines[len(lines)-1]
	if want := "  " + strings.Repeat(" ", serr.Column-1) + "^"; caret != want {
		t.Fatalf("%q: caret line %q, want %q", input, caret, want)
	}
}

func FuzzParseConstraint(f *testing.F) {
	for _, s := range []string{
		"length>=50", "length<=100", " helpful >= 0.2 ", "-length>=-100", "length=>50", "=",
		"length>=NaN", "x>=1e999", "words>=1,5", "regex:a>=1", "längd<=5€", "x>=0x1p-2", "x<=1\t2",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		c, err := ParseConstraint(s)
		if err != nil {
			var serr *SyntaxError
			if !errors.As(err, &serr) {
				t.Fatalf("%q: %v is not a *SyntaxError", s, err)
			}
			checkSyntaxError(t, err, "constraint", s)
			return
		}
		if math.IsNaN(c.Bound) || math.IsInf(c.Bound, 0) || c.Reward == "" {
			t.Fatalf("%q: parsed to %+v", s, c)
		}
		again, err := ParseConstraint(c.Name)
		if err != nil || again != c {
			t.Fatalf("%q: canonical %q parses to %+v, %v; want %+v", s, c.Name, again, err, c)
		}
	})
}

func FuzzParseRule(f *testing.F) {
	for _, s := range []string{
		"length", "-words", "chars", "regex:^a+$", "regex:a**", "-regex:x(ab", "regex:[)(]x)",
		"regex:ab[c-", "regex:ab\\", "regex:[[:alpha:]]b)", "regex:é+*",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, spec string) {
		r, err := ParseRule(spec)
		if err != nil {
			checkSyntaxError(t, err, "reward", spec)
			return
		}
		if r.Name() != spec {
			t.Fatalf("%q: named %q", spec, r.Name())
		}
		if _, err := r.Score([]Sample{{Response: spec, ResponseIDs: []int32{1}}}); err != nil {
			t.Fatalf("%q: %v", spec, err)
		}
	})
}
