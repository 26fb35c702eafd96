package rewards

import (
	"fmt"
	"slices"
	"strings"

	"github.com/l3m/l3m-engine/engine/lagrange"
)

// Set resolves reward names: the argument-free rules (length, words, chars), every rule
// spec (-length, regex:PATTERN, ...) and the names bound with [Set.Bind]. The zero value
// knows the rules only.
type Set struct {
	bound map[string]binding
}

// binding is a name bound from a --reward flag.
type binding struct {
	reward Reward
	flag   string // the flag's value, for error messages
}

// LoadLearned opens an exported learned reward model at path. Package engine provides
// it; a Set only decides when a spec is a path.
type LoadLearned func(path string) (Reward, error)

// Bind adds the binding of one --reward NAME=SPEC flag. SPEC is a rule spec ([ParseRule])
// or else the path of an exported learned reward, opened with learned; -PATH binds its
// negation. Spaces around NAME and SPEC are ignored, except at the end of a regex
// pattern. NAME has only letters, digits, _, - and ., does not start with - (which
// negates), is not a rule's name and is not bound yet. The reward is then known as NAME.
func (s *Set) Bind(flagValue string, learned LoadLearned) error {
	rawName, rawSpec, ok := strings.Cut(flagValue, "=")
	if !ok {
		return fmt.Errorf("--reward %q: expected NAME=SPEC, SPEC being a rule (%s) or the path of an exported reward model", flagValue, ruleHelp)
	}
	name := strings.TrimSpace(rawName)
	nameOffset := strings.Index(rawName, name)
	switch {
	case name == "":
		return syntaxErrorAt("--reward", flagValue, nameOffset, "expected a reward name before =")
	case name[0] == '-':
		return syntaxErrorAt("--reward", flagValue, nameOffset, "a reward name may not start with - (-NAME is the negation of NAME)")
	}
	for i := range len(name) {
		if !isNameByte(name[i]) {
			return syntaxErrorAt("--reward", flagValue, nameOffset+i, "a reward name has only letters, digits, _, - and .")
		}
	}
	if slices.Contains(ruleNames, name) {
		return fmt.Errorf("--reward %q: %q is a built-in rule; bind another name", flagValue, name)
	}
	if prev, dup := s.bound[name]; dup {
		return fmt.Errorf("--reward %q: %q is already bound by --reward %q", flagValue, name, prev.flag)
	}

	spec := strings.TrimLeft(rawSpec, " \t")
	if !strings.HasPrefix(strings.TrimPrefix(spec, "-"), regexPrefix) {
		spec = strings.TrimRight(spec, " \t")
	}
	var r Reward
	switch {
	case spec == "":
		return fmt.Errorf("--reward %q: expected a rule (%s) or the path of an exported reward model after =", flagValue, ruleHelp)
	case isRuleSpec(spec):
		var err error
		if r, err = ParseRule(spec); err != nil {
			return fmt.Errorf("--reward %q: %w", flagValue, err)
		}
	default:
		path, negate := strings.CutPrefix(spec, "-")
		if learned == nil {
			return fmt.Errorf("--reward %q: %q is not a rule (%s), and learned rewards cannot be loaded here", flagValue, spec, ruleHelp)
		}
		loaded, err := learned(path)
		if err != nil {
			return fmt.Errorf("--reward %q: %q is not a rule (%s) and did not load as a reward model: %w", flagValue, spec, ruleHelp, err)
		}
		r = loaded
		if negate {
			r = Negate(loaded)
		}
	}
	if s.bound == nil {
		s.bound = make(map[string]binding)
	}
	s.bound[name] = binding{reward: named{name: name, Reward: r}, flag: flagValue}
	return nil
}

// Names are the names the set knows besides rule specs: the argument-free rules and the
// bound names, sorted.
func (s *Set) Names() []string {
	names := slices.Clone(ruleNames)
	for name := range s.bound {
		names = append(names, name)
	}
	slices.Sort(names)
	return names
}

// Lookup is the reward known as name: a bound name, the negation -NAME of a bound name, or
// a rule spec.
func (s *Set) Lookup(name string) (Reward, error) {
	if b, ok := s.bound[name]; ok {
		return b.reward, nil
	}
	if b, ok := s.bound[strings.TrimPrefix(name, "-")]; ok {
		return Negate(b.reward), nil
	}
	if isRuleSpec(name) {
		return ParseRule(name)
	}
	return nil, fmt.Errorf("no reward named %q (known: %s; bind one with --reward %s=PATH)",
		name, strings.Join(s.Names(), ", "), strings.TrimPrefix(name, "-"))
}

// Resolve is the reward of each constraint, in order.
func (s *Set) Resolve(constraints []lagrange.Constraint) ([]Reward, error) {
	out := make([]Reward, len(constraints))
	for i, c := range constraints {
		r, err := s.Lookup(c.Reward)
		if err != nil {
			return nil, fmt.Errorf("constraint %q: %w", constraintLabel(c), err)
		}
		out[i] = r
	}
	return out, nil
}

// constraintLabel is c's name, or its canonical form when it has none.
func constraintLabel(c lagrange.Constraint) string {
	if c.Name != "" {
		return c.Name
	}
	return constraintText(c.Reward, c.Upper, c.Bound)
}
