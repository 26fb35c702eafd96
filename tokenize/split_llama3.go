package tokenize

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// llama3Pattern is the Split pre-tokenizer's regex in Llama 3's tokenizer.json (Meta-Llama-3,
// Llama 3.1 and 3.2), written as it appears there after JSON decoding.
const llama3Pattern = `(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+`

// lookAheadSplitters are hand-written scanners for Split patterns that Go's regexp cannot
// compile, keyed by the exact pattern string. Each returns pieces that concatenate to its
// input, every one a match of the pattern as the leftmost-first engines of tokenizers (onig,
// fancy-regex) find it.
var lookAheadSplitters = map[string]func(string) []string{
	llama3Pattern: splitLlama3,
}

// splitLlama3 splits s as llama3Pattern does. The pattern matches at every position, so
// there is no text between matches.
func splitLlama3(s string) []string { return splitWith(s, matchLlama3) }

// matchLlama3 returns the byte length of llama3Pattern's match at the start of s (always
// > 0), trying the alternatives in the pattern's order. Invalid UTF-8 reads as U+FFFD, a
// symbol.
func matchLlama3(s string) int {
	r, size := utf8.DecodeRuneInString(s)
	// (?i:'s|'t|'re|'ve|'m|'ll|'d)
	if r == '\'' {
		if n := contractionLength(s[size:]); n > 0 {
			return size + n
		}
	}
	// [^\r\n\p{L}\p{N}]?\p{L}+: a letter run, after at most one character that is neither a
	// letter, a digit nor a line break (a space, a tab, punctuation).
	if isLetter(r) {
		return runLength(s, isLetter)
	}
	if r != '\r' && r != '\n' && !isNumber(r) {
		if n := runLength(s[size:], isLetter); n > 0 {
			return size + n
		}
	}
	// \p{N}{1,3}
	if isNumber(r) {
		n := size
		for range 2 {
			next, nextSize := utf8.DecodeRuneInString(s[n:])
			if nextSize == 0 || !isNumber(next) {
				break
			}
			n += nextSize
		}
		return n
	}
	// ` ?[^\s\p{L}\p{N}]+[\r\n]*`
	body := s
	if r == ' ' {
		body = s[1:]
	}
	if n := runLength(body, isOther); n > 0 {
		end := len(s) - len(body) + n
		return end + runLength(s[end:], isLineBreak)
	}
	// s starts with whitespace. \s*[\r\n]+ takes the run up to its last line break.
	spaces := runLength(s, unicode.IsSpace)
	if i := strings.LastIndexAny(s[:spaces], "\r\n"); i >= 0 {
		return i + 1
	}
	return whitespaceRunMatch(s, spaces)
}

// contractions are the pattern's case-insensitive endings after an apostrophe.
var contractions = [...]string{"s", "t", "re", "ve", "m", "ll", "d"}

// contractionLength is the byte length of the contraction ending s starts with, 0 for
// none. Case-insensitive matching follows Unicode simple case folding, as onig does: "'S"
// and "'ſ" (long s) are contractions too.
func contractionLength(s string) int {
	for _, c := range contractions {
		n := 0
		for _, want := range c {
			r, size := utf8.DecodeRuneInString(s[n:])
			if size == 0 || !foldsTo(r, want) {
				n = -1
				break
			}
			n += size
		}
		if n > 0 {
			return n
		}
	}
	return 0
}

// foldsTo tells whether r and want are equal under Unicode simple case folding.
func foldsTo(r, want rune) bool {
	for f := r; ; {
		if f == want {
			return true
		}
		if f = unicode.SimpleFold(f); f == r {
			return false
		}
	}
}

func isLineBreak(r rune) bool { return r == '\r' || r == '\n' }
