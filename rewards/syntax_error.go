package rewards

import (
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"
)

// SyntaxError is a mistake at a column of text the user wrote (a constraint, a reward
// spec, a --reward binding). Its message quotes the text and draws a caret under the
// column:
//
//	constraint "length=>50": expected >= or <= at column 7
//	  length=>50
//	        ^
type SyntaxError struct {
	Kind   string // what the text is: "constraint", "reward", "--reward"
	Input  string // the text as written
	Column int    // 1-based, in runes; one past the last rune is the end of the text
	Msg    string // what is wrong there
}

func (e *SyntaxError) Error() string {
	return fmt.Sprintf("%s %q: %s at column %d\n  %s\n  %s^",
		e.Kind, e.Input, e.Msg, e.Column, displayLine(e.Input), strings.Repeat(" ", max(e.Column-1, 0)))
}

// syntaxErrorAt is a SyntaxError at byte offset off of input.
func syntaxErrorAt(kind, input string, off int, format string, args ...any) *SyntaxError {
	return &SyntaxError{
		Kind:   kind,
		Input:  input,
		Column: utf8.RuneCountInString(input[:off]) + 1,
		Msg:    fmt.Sprintf(format, args...),
	}
}

// displayLine is input with each unprintable rune (tab, newline, ...) shown as one '?', so
// that the caret line below it stays aligned.
func displayLine(input string) string {
	return strings.Map(func(r rune) rune {
		if r == ' ' || unicode.IsPrint(r) {
			return r
		}
		return '?'
	}, input)
}
