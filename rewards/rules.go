package rewards

import (
	"errors"
	"fmt"
	"regexp"
	"regexp/syntax"
	"strings"
	"unicode/utf8"
)

// regexPrefix introduces a regular-expression rule.
const regexPrefix = "regex:"

// ruleNames are the rules that need no argument, each always known under its own name.
var ruleNames = []string{"chars", "length", "words"}

// ruleHelp lists the rule specs for error messages.
const ruleHelp = "length, words, chars, regex:PATTERN; a leading - negates"

// rule is a rule-based reward: a pure function of one sample.
type rule struct {
	name  string
	score func(Sample) float64
}

func (r rule) Name() string { return r.name }

func (r rule) Score(samples []Sample) ([]float64, error) {
	out := make([]float64, len(samples))
	for i, s := range samples {
		out[i] = r.score(s)
	}
	return out, nil
}

// isRuleSpec reports whether spec names a rule (valid or not), as opposed to a path.
func isRuleSpec(spec string) bool {
	body := strings.TrimPrefix(spec, "-")
	for _, name := range ruleNames {
		if body == name {
			return true
		}
	}
	return strings.HasPrefix(body, regexPrefix)
}

// ParseRule is the rule-based reward that spec names:
//
//	length          len(ResponseIDs): response tokens, EOS included when it was produced
//	words           len(strings.Fields(Response))
//	chars           utf8.RuneCountInString(Response)
//	regex:PATTERN   1 if PATTERN matches anywhere in Response, else 0 (Go RE2 syntax;
//	                anchor with ^ and $, ignore case with (?i))
//
// with an optional leading - for the negated reward. Its Name is spec. A bad pattern is a
// [*SyntaxError] pointing into spec.
func ParseRule(spec string) (Reward, error) {
	body, negate := strings.CutPrefix(spec, "-")
	r, err := parsePositiveRule(spec, body)
	if err != nil {
		return nil, err
	}
	if negate {
		return Negate(r), nil
	}
	return r, nil
}

// parsePositiveRule parses body, the spec without its leading -.
func parsePositiveRule(spec, body string) (Reward, error) {
	switch body {
	case "length":
		return rule{body, func(s Sample) float64 { return float64(len(s.ResponseIDs)) }}, nil
	case "words":
		return rule{body, func(s Sample) float64 { return float64(len(strings.Fields(s.Response))) }}, nil
	case "chars":
		return rule{body, func(s Sample) float64 { return float64(utf8.RuneCountInString(s.Response)) }}, nil
	}
	pattern, ok := strings.CutPrefix(body, regexPrefix)
	if !ok {
		return nil, fmt.Errorf("reward %q: unknown rule (rules: %s)", spec, ruleHelp)
	}
	patternOffset := len(spec) - len(pattern)
	if pattern == "" {
		return nil, syntaxErrorAt("reward", spec, patternOffset, "empty pattern (it would match every response)")
	}
	re, err := regexp.Compile(pattern)
	if err != nil {
		var serr *syntax.Error
		if !errors.As(err, &serr) {
			return nil, fmt.Errorf("reward %q: %w", spec, err)
		}
		msg := serr.Code.String()
		if serr.Expr != "" && serr.Code != syntax.ErrMissingParen && serr.Code != syntax.ErrUnexpectedParen {
			msg += ": `" + serr.Expr + "`"
		}
		return nil, syntaxErrorAt("reward", spec, patternOffset+patternErrorOffset(pattern, serr), "bad pattern: %s", msg)
	}
	return rule{body, func(s Sample) float64 {
		if re.MatchString(s.Response) {
			return 1
		}
		return 0
	}}, nil
}

// patternErrorOffset is the byte offset in pattern that err is about. regexp/syntax
// reports the offending fragment, not its position: the fragment is found in the pattern,
// except for unbalanced parentheses (whose fragment is the whole pattern), which a scan
// locates, and a trailing backslash (no fragment), which is at the end.
func patternErrorOffset(pattern string, err *syntax.Error) int {
	switch {
	case err.Code == syntax.ErrMissingParen || err.Code == syntax.ErrUnexpectedParen:
		if off := unbalancedParen(pattern); off >= 0 {
			return off
		}
	case err.Expr == "":
		return len(pattern)
	}
	if off := strings.Index(pattern, err.Expr); off >= 0 {
		return off
	}
	return 0
}

// unbalancedParen is the byte offset of the first ) without a (, or else of the innermost
// ( left open; -1 when the parentheses balance. It skips escapes and character classes,
// where parentheses are literal.
func unbalancedParen(pattern string) int {
	var open []int
	for i := 0; i < len(pattern); i++ {
		switch pattern[i] {
		case '\\':
			i++
		case '[':
			i = classEnd(pattern, i)
		case '(':
			open = append(open, i)
		case ')':
			if len(open) == 0 {
				return i
			}
			open = open[:len(open)-1]
		}
	}
	if len(open) > 0 {
		return open[len(open)-1]
	}
	return -1
}

// classEnd is the offset of the ] closing the character class that starts at start (or
// the end of pattern): a ] first in the class is literal, as are escaped ones, and
// [:name:] classes nest.
func classEnd(pattern string, start int) int {
	i := start + 1
	if i < len(pattern) && pattern[i] == '^' {
		i++
	}
	if i < len(pattern) && pattern[i] == ']' {
		i++
	}
	for ; i < len(pattern); i++ {
		switch {
		case pattern[i] == '\\':
			i++
		case strings.HasPrefix(pattern[i:], "[:"):
			if end := strings.Index(pattern[i+2:], ":]"); end >= 0 {
				i += 2 + end + 1
			}
		case pattern[i] == ']':
			return i
		}
	}
	return len(pattern)
}
