// Package rewards scores sampled responses and turns the command line's reward bindings and
// constraint texts into the rewards and [lagrange.Constraint]s the trainer works with.
//
// # Rewards
//
// A [Reward] scores a batch of [Sample]s, one float64 each. Rule-based rewards are named
// by their spec ([ParseRule]):
//
//	length          response tokens, EOS included when it was produced (len(ResponseIDs))
//	words           whitespace-separated words of the response text (strings.Fields)
//	chars           Unicode code points of the response text
//	regex:PATTERN   1 if PATTERN (Go RE2 syntax, unanchored) matches the response, else 0
//
// A leading - negates any of them (-length), and any other reward ([Negate]): an upper
// bound E[r] <= u is the lower bound E[-r] >= -u.
//
// # Bindings
//
// A [Set] resolves reward names. The rules above are always known under their spec; the
// repeatable flag --reward NAME=SPEC binds a name to a rule spec (short=-length,
// polite=regex:(?i)please) or to the path of an exported learned reward model
// (helpful=rm/helpful.onnx, or -PATH for its negation), which an injected loader opens.
// A bound NAME is also known negated as -NAME.
//
// # Constraints
//
// [ParseConstraint] reads NAME>=NUMBER and NAME<=NUMBER (spaces allowed), and
// [Set.Resolve] finds one reward per constraint. Syntax errors are [*SyntaxError]s that
// quote the text and point at the offending column with a caret.
package rewards
