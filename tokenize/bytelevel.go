package tokenize

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// byteToRune and runeToByte are GPT-2's reversible map from bytes to printable characters:
// printable Latin-1 bytes stand for themselves, the other 68 become U+0100 and up, so a
// byte-level vocabulary never holds a space or a control character.
var (
	byteToRune [256]rune
	runeToByte = make(map[rune]byte, 256)
)

func init() {
	next := rune(256)
	for b := range 256 {
		printable := (b >= '!' && b <= '~') || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF)
		if printable {
			byteToRune[b] = rune(b)
		} else {
			byteToRune[b] = next
			next++
		}
		runeToByte[byteToRune[b]] = byte(b)
	}
}

// bytesToUnicode spells each byte of s as its byte-level character.
func bytesToUnicode(s string) string {
	var b strings.Builder
	b.Grow(2 * len(s))
	for i := 0; i < len(s); i++ {
		b.WriteRune(byteToRune[s[i]])
	}
	return b.String()
}

// unicodeToBytes undoes bytesToUnicode for one token; ok is false when the token holds a
// character outside the map (an added token such as "<|user|> "), which tokenizers then
// keeps as its raw UTF-8.
func unicodeToBytes(token string, dst []byte) ([]byte, bool) {
	start := len(dst)
	for _, r := range token {
		b, ok := runeToByte[r]
		if !ok {
			return dst[:start], false
		}
		dst = append(dst, b)
	}
	return dst, true
}

// splitGPT2 splits s as GPT-2's pattern does:
//
//	's|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+
//
// Go's regexp has no look-ahead, and sugarme drops the two whitespace alternatives, so this
// is a hand-written scanner over the same alternatives in the same order.
func splitGPT2(s string) []string { return splitWith(s, matchGPT2) }

// splitWith cuts s into consecutive pieces, each as long as match says (always > 0): the
// driver of the hand-written pattern scanners, whose patterns match at every position.
func splitWith(s string, match func(string) int) []string {
	var pieces []string
	for len(s) > 0 {
		n := match(s)
		pieces = append(pieces, s[:n])
		s = s[n:]
	}
	return pieces
}

// matchGPT2 returns the byte length of the pattern's match at the start of s (always > 0).
func matchGPT2(s string) int {
	if s[0] == '\'' {
		for _, c := range [...]string{"'s", "'t", "'re", "'ve", "'m", "'ll", "'d"} {
			if strings.HasPrefix(s, c) {
				return len(c)
			}
		}
	}
	for _, class := range [...]func(rune) bool{isLetter, isNumber, isOther} {
		body := s
		if s[0] == ' ' {
			body = s[1:]
		}
		if n := runLength(body, class); n > 0 {
			return len(s) - len(body) + n
		}
		if n := runLength(s, class); n > 0 {
			return n
		}
	}
	// s starts with whitespace.
	return whitespaceRunMatch(s, runLength(s, unicode.IsSpace))
}

// whitespaceRunMatch is the match of \s+(?!\S)|\s+ at the start of s, which begins with a
// whitespace run of n bytes: the run, less its last character when a non-space follows
// (that character starts the next piece); a lone whitespace character by itself.
func whitespaceRunMatch(s string, n int) int {
	if n == len(s) {
		return n
	}
	_, last := utf8.DecodeLastRuneInString(s[:n])
	if last < n {
		return n - last
	}
	return n
}

func isLetter(r rune) bool { return unicode.IsLetter(r) }
func isNumber(r rune) bool { return unicode.IsNumber(r) }
func isOther(r rune) bool  { return !unicode.IsSpace(r) && !unicode.IsLetter(r) && !unicode.IsNumber(r) }

// runLength is the byte length of the longest prefix of s whose characters all satisfy in.
func runLength(s string, in func(rune) bool) int {
	for i, r := range s {
		if !in(r) {
			return i
		}
	}
	return len(s)
}
