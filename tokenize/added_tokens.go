package tokenize

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// addedToken is one entry of tokenizer.json's "added_tokens": a string that is cut out of
// the text whole, before normalization, and mapped to its id without the model.
type addedToken struct {
	ID         int32  `json:"id"`
	Content    string `json:"content"`
	SingleWord bool   `json:"single_word"`
	LStrip     bool   `json:"lstrip"`
	RStrip     bool   `json:"rstrip"`
	Normalized bool   `json:"normalized"`
	Special    bool   `json:"special"`
}

// addedTokenMatcher finds added tokens in text the way tokenizers' AddedVocabulary does:
// leftmost-longest, then single_word, lstrip and rstrip applied to each match. It replaces
// sugarme's, which orders the matches by pattern index instead of position and so misses
// "</s>" in "</s>x<s>", and which numbers tokens absent from the model vocabulary itself
// instead of using the ids in the file.
type addedTokenMatcher struct {
	// byFirstByte holds, for each first byte, the patterns starting with it, longest first.
	byFirstByte [256][]matcherPattern
}

type matcherPattern struct {
	text  string
	token *addedToken
}

func newAddedTokenMatcher(tokens []*addedToken, patternOf func(*addedToken) string) *addedTokenMatcher {
	m := &addedTokenMatcher{}
	for _, t := range tokens {
		p := patternOf(t)
		if p == "" {
			continue
		}
		list := m.byFirstByte[p[0]]
		i := 0
		for i < len(list) && len(list[i].text) >= len(p) {
			i++
		}
		list = append(list, matcherPattern{})
		copy(list[i+1:], list[i:])
		list[i] = matcherPattern{text: p, token: t}
		m.byFirstByte[p[0]] = list
	}
	return m
}

func (m *addedTokenMatcher) empty() bool {
	for _, l := range m.byFirstByte {
		if len(l) > 0 {
			return false
		}
	}
	return true
}

// segment is a stretch of the input: an added token (token != nil) or text for the model.
type segment struct {
	start, end int
	token      *addedToken
}

// split cuts s into segments covering it; an empty s yields one empty text segment.
func (m *addedTokenMatcher) split(s string) []segment {
	if m.empty() || s == "" {
		return []segment{{0, len(s), nil}}
	}
	var segs []segment
	textStart := 0
	for i := 0; i < len(s); {
		p := m.longestAt(s, i)
		if p == nil {
			i++
			continue
		}
		start, stop := i, i+len(p.text)
		if p.token.SingleWord {
			startOK := start == 0 || !endsWithWordChar(s[:start])
			stopOK := stop == len(s) || !startsWithWordChar(s[stop:])
			if !startOK || !stopOK {
				i = stop
				continue
			}
		}
		if p.token.LStrip {
			start = max(len(strings.TrimRightFunc(s[:start], unicode.IsSpace)), textStart)
		}
		if p.token.RStrip {
			stop = len(s) - len(strings.TrimLeftFunc(s[stop:], unicode.IsSpace))
		}
		if start > textStart {
			segs = append(segs, segment{textStart, start, nil})
		}
		segs = append(segs, segment{start, stop, p.token})
		textStart, i = stop, stop
	}
	if textStart != len(s) {
		segs = append(segs, segment{textStart, len(s), nil})
	}
	return segs
}

func (m *addedTokenMatcher) longestAt(s string, i int) *matcherPattern {
	for k, p := range m.byFirstByte[s[i]] {
		if strings.HasPrefix(s[i:], p.text) {
			return &m.byFirstByte[s[i]][k]
		}
	}
	return nil
}

func isWordChar(r rune) bool { return r == '_' || unicode.IsLetter(r) || unicode.IsNumber(r) }

func endsWithWordChar(s string) bool {
	r, _ := utf8.DecodeLastRuneInString(s)
	return s != "" && isWordChar(r)
}

func startsWithWordChar(s string) bool {
	r, _ := utf8.DecodeRuneInString(s)
	return s != "" && isWordChar(r)
}
