package rewards

import (
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"

	"github.com/l3m/l3m-engine/engine/lagrange"
)

// isNameByte reports whether c may appear in a reward name: ASCII letters and digits,
// _, - and . (a leading - negates the named reward).
func isNameByte(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '_' || c == '-' || c == '.'
}

// isSpace reports whether c is a space or a tab, which may surround a constraint's parts.
func isSpace(c byte) bool { return c == ' ' || c == '\t' }

// ParseConstraint reads a constraint on a reward's expectation, NAME>=NUMBER or
// NAME<=NUMBER, with optional spaces around its parts: "length>=50", "helpful >= 0.5",
// "-length>=-100". NAME is a reward name (letters, digits, _, - and .; a regex rule must
// be bound to a name first); NUMBER is a finite decimal (or Go hexadecimal) float. The
// constraint's Name is its canonical form, such as "length>=50". Mistakes are
// [*SyntaxError]s pointing at the offending column.
func ParseConstraint(s string) (lagrange.Constraint, error) {
	fail := func(off int, format string, args ...any) (lagrange.Constraint, error) {
		return lagrange.Constraint{}, syntaxErrorAt("constraint", s, off, format, args...)
	}
	skipSpaces := func(p int) int {
		for p < len(s) && isSpace(s[p]) {
			p++
		}
		return p
	}

	nameStart := skipSpaces(0)
	p := nameStart
	for p < len(s) && isNameByte(s[p]) {
		p++
	}
	name := s[nameStart:p]
	if name == "" {
		return fail(nameStart, "expected a reward name")
	}

	p = skipSpaces(p)
	var upper bool
	switch rest := s[p:]; {
	case strings.HasPrefix(rest, ">="):
	case strings.HasPrefix(rest, "<="):
		upper = true
	case name == "regex" && strings.HasPrefix(rest, ":"):
		return fail(p, "expected >= or <= (bind a regex rule to a name first: --reward NAME=regex:PATTERN)")
	default:
		return fail(p, "expected >= or <=")
	}
	p += 2

	numberStart := skipSpaces(p)
	numberEnd := numberStart
	for numberEnd < len(s) && !isSpace(s[numberEnd]) {
		numberEnd++
	}
	bound, errOffset, err := parseBound(s[numberStart:numberEnd])
	if err != nil {
		return fail(numberStart+errOffset, "%v", err)
	}
	if end := skipSpaces(numberEnd); end < len(s) {
		return fail(end, "unexpected %q after the bound", s[end:])
	}

	return lagrange.Constraint{
		Name:   constraintText(name, upper, bound),
		Reward: name,
		Bound:  bound,
		Upper:  upper,
	}, nil
}

// parseBound reads a constraint's bound from token, a run of non-space characters. An
// error comes with the byte offset in token that it is about.
func parseBound(token string) (float64, int, error) {
	if token == "" {
		return 0, 0, errors.New("expected a number")
	}
	v, err := strconv.ParseFloat(token, 64)
	switch {
	case errors.Is(err, strconv.ErrRange):
		return 0, 0, errors.New("bound out of range; use a finite number")
	case err != nil:
		// Point past the longest prefix that is a number, if any: "50%", "1,5".
		for end := len(token) - 1; end > 0; end-- {
			if prefix, err := strconv.ParseFloat(token[:end], 64); err == nil && isFinite(prefix) {
				return 0, end, fmt.Errorf("unexpected %q after the bound", token[end:])
			}
		}
		return 0, 0, errors.New("expected a number")
	case !isFinite(v):
		return 0, 0, errors.New("expected a finite number")
	}
	return v, 0, nil
}

func isFinite(v float64) bool { return !math.IsNaN(v) && !math.IsInf(v, 0) }

// constraintText is the canonical text of a constraint, such as "length>=50", which
// ParseConstraint reads back to the same constraint.
func constraintText(reward string, upper bool, bound float64) string {
	op := ">="
	if upper {
		op = "<="
	}
	return reward + op + strconv.FormatFloat(bound, 'g', -1, 64)
}
