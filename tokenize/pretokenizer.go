package tokenize

import (
	"encoding/json"
	"fmt"
	"regexp"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/sugarme/tokenizer"
	"github.com/sugarme/tokenizer/normalizer"
	"github.com/sugarme/tokenizer/pretrained"
)

// preTokenizer splits one normalized piece into the words the model encodes one by one.
// atStart tells whether the piece begins the input (no added token before it), which
// Metaspace's prepend_scheme "first" needs. Empty words are dropped by the caller.
type preTokenizer interface {
	preTokenize(piece string, atStart bool) ([]string, error)
}

// preTokenizerSequence feeds every word of one member to the next.
type preTokenizerSequence []preTokenizer

func (seq preTokenizerSequence) preTokenize(piece string, atStart bool) ([]string, error) {
	words := []string{piece}
	for _, p := range seq {
		var next []string
		for i, w := range words {
			out, err := p.preTokenize(w, atStart && i == 0)
			if err != nil {
				return nil, err
			}
			next = appendNonEmpty(next, out...)
		}
		words = next
	}
	return words, nil
}

func appendNonEmpty(dst []string, words ...string) []string {
	for _, w := range words {
		if w != "" {
			dst = append(dst, w)
		}
	}
	return dst
}

// sugarmePreTokenizer runs one of sugarme's pre-tokenizers on a plain string.
type sugarmePreTokenizer struct{ p tokenizer.PreTokenizer }

func (a sugarmePreTokenizer) preTokenize(piece string, _ bool) ([]string, error) {
	pt, err := a.p.PreTokenize(tokenizer.NewPreTokenizedString(piece))
	if err != nil {
		return nil, err
	}
	splits := pt.GetSplits(normalizer.NormalizedTarget, tokenizer.Byte)
	words := make([]string, 0, len(splits))
	for _, s := range splits {
		words = append(words, s.Value)
	}
	return words, nil
}

// byteLevelPreTokenizer is tokenizers' ByteLevel: optional leading space, GPT-2 split, then
// bytes spelled as printable characters.
type byteLevelPreTokenizer struct {
	addPrefixSpace bool
	useRegex       bool
}

func (p byteLevelPreTokenizer) preTokenize(piece string, _ bool) ([]string, error) {
	if p.addPrefixSpace && !strings.HasPrefix(piece, " ") {
		piece = " " + piece
	}
	words := []string{piece}
	if p.useRegex {
		words = splitGPT2(piece)
	}
	for i, w := range words {
		words[i] = bytesToUnicode(w)
	}
	return words, nil
}

// metaspacePreTokenizer is tokenizers' Metaspace: spaces become the replacement character
// ("▁"), one is prepended per prepend_scheme, and words split before each replacement.
type metaspacePreTokenizer struct {
	replacement   string
	prependScheme string // "always", "first" or "never"
	split         bool
}

func (p metaspacePreTokenizer) preTokenize(piece string, atStart bool) ([]string, error) {
	piece = strings.ReplaceAll(piece, " ", p.replacement)
	if !strings.HasPrefix(piece, p.replacement) &&
		(p.prependScheme == "always" || (p.prependScheme == "first" && atStart)) {
		piece = p.replacement + piece
	}
	if !p.split {
		return []string{piece}, nil
	}
	return splitByBehavior(piece, literalMatches(piece, p.replacement), "MergedWithNext"), nil
}

// splitPreTokenizer is tokenizers' Split: cut at each match of a pattern, keeping the
// matches as the behaviour says.
type splitPreTokenizer struct {
	matches  func(string) []span
	behavior string
	invert   bool
}

func (p splitPreTokenizer) preTokenize(piece string, _ bool) ([]string, error) {
	matches := p.matches(piece)
	if p.invert {
		for i := range matches {
			matches[i].isMatch = !matches[i].isMatch
		}
	}
	return splitByBehavior(piece, matches, p.behavior), nil
}

// span is a stretch of a piece, a match of the split pattern or the text between two.
type span struct {
	start, end int
	isMatch    bool
}

func regexpMatches(s string, re *regexp.Regexp) []span {
	var spans []span
	prev := 0
	for _, loc := range re.FindAllStringIndex(s, -1) {
		if loc[0] == loc[1] {
			continue
		}
		if prev != loc[0] {
			spans = append(spans, span{prev, loc[0], false})
		}
		spans = append(spans, span{loc[0], loc[1], true})
		prev = loc[1]
	}
	if prev != len(s) {
		spans = append(spans, span{prev, len(s), false})
	}
	return spans
}

// scannerMatches turns the pieces of a hand-written scanner, which concatenate to s, into
// spans that are all matches.
func scannerMatches(s string, split func(string) []string) []span {
	var spans []span
	start := 0
	for _, piece := range split(s) {
		spans = append(spans, span{start, start + len(piece), true})
		start += len(piece)
	}
	return spans
}

func literalMatches(s, lit string) []span {
	var spans []span
	prev := 0
	for i := 0; i+len(lit) <= len(s); {
		if s[i:i+len(lit)] != lit {
			i++
			continue
		}
		if prev != i {
			spans = append(spans, span{prev, i, false})
		}
		spans = append(spans, span{i, i + len(lit), true})
		i += len(lit)
		prev = i
	}
	if prev != len(s) {
		spans = append(spans, span{prev, len(s), false})
	}
	return spans
}

// splitByBehavior turns spans into words as tokenizers' NormalizedString::split does.
func splitByBehavior(s string, spans []span, behavior string) []string {
	var out []span
	switch behavior {
	case "Removed":
		for _, sp := range spans {
			if !sp.isMatch {
				out = append(out, sp)
			}
		}
	case "Isolated":
		out = spans
	case "MergedWithPrevious":
		previousMatch := false
		for _, sp := range spans {
			if sp.isMatch && !previousMatch && len(out) > 0 {
				out[len(out)-1].end = sp.end
			} else {
				out = append(out, sp)
			}
			previousMatch = sp.isMatch
		}
	case "MergedWithNext":
		previousMatch := false
		for i := len(spans) - 1; i >= 0; i-- {
			sp := spans[i]
			if sp.isMatch && !previousMatch && len(out) > 0 {
				out[len(out)-1].start = sp.start
			} else {
				out = append(out, sp)
			}
			previousMatch = sp.isMatch
		}
		for i, j := 0, len(out)-1; i < j; i, j = i+1, j-1 {
			out[i], out[j] = out[j], out[i]
		}
	case "Contiguous":
		previousMatch := false
		for i, sp := range spans {
			if i > 0 && sp.isMatch == previousMatch {
				out[len(out)-1].end = sp.end
			} else {
				out = append(out, sp)
			}
			previousMatch = sp.isMatch
		}
	}
	words := make([]string, 0, len(out))
	for _, sp := range out {
		words = append(words, s[sp.start:sp.end])
	}
	return words
}

var splitBehaviors = map[string]bool{"Removed": true, "Isolated": true, "MergedWithPrevious": true, "MergedWithNext": true, "Contiguous": true}

var knownPreTokenizers = "Sequence, ByteLevel, Metaspace, Split, BertPreTokenizer, Whitespace, WhitespaceSplit, Punctuation, Digits, UnicodeScripts, CharDelimiterSplit"

// newPreTokenizer builds the tokenizer.json "pre_tokenizer" section; nil for none.
// ByteLevel, Metaspace, Split, Whitespace and Sequence are ours; the rest are sugarme's.
func newPreTokenizer(raw json.RawMessage) (preTokenizer, error) {
	if isJSONNull(raw) {
		return nil, nil
	}
	var head componentJSON
	if err := json.Unmarshal(raw, &head); err != nil {
		return nil, fmt.Errorf("pre_tokenizer: %w", err)
	}
	switch head.Type {
	case "Sequence":
		seq, err := sequenceMembers(raw, "pre_tokenizer", "pretokenizers", newPreTokenizer)
		if err != nil {
			return nil, err
		}
		return preTokenizerSequence(seq), nil
	case "ByteLevel":
		cfg := struct {
			AddPrefixSpace bool `json:"add_prefix_space"`
			UseRegex       bool `json:"use_regex"`
		}{UseRegex: true}
		if err := json.Unmarshal(raw, &cfg); err != nil {
			return nil, fmt.Errorf("pre_tokenizer ByteLevel: %w", err)
		}
		return byteLevelPreTokenizer{addPrefixSpace: cfg.AddPrefixSpace, useRegex: cfg.UseRegex}, nil
	case "Metaspace":
		cfg, err := parseMetaspace(raw)
		if err != nil {
			return nil, fmt.Errorf("pre_tokenizer Metaspace: %w", err)
		}
		return cfg, nil
	case "Split":
		var cfg struct {
			Pattern  patternJSON `json:"pattern"`
			Behavior string      `json:"behavior"`
			Invert   bool        `json:"invert"`
		}
		if err := json.Unmarshal(raw, &cfg); err != nil {
			return nil, fmt.Errorf("pre_tokenizer Split: %w", err)
		}
		if !splitBehaviors[cfg.Behavior] {
			return nil, fmt.Errorf("pre_tokenizer Split: behavior %q is not one of Removed, Isolated, MergedWithPrevious, MergedWithNext, Contiguous", cfg.Behavior)
		}
		matches, err := splitMatcher(cfg.Pattern)
		if err != nil {
			return nil, fmt.Errorf("pre_tokenizer Split: %w", err)
		}
		return splitPreTokenizer{matches: matches, behavior: cfg.Behavior, invert: cfg.Invert}, nil
	case "Whitespace":
		return whitespacePreTokenizer{}, nil
	case "BertPreTokenizer", "WhitespaceSplit", "Punctuation", "Digits", "UnicodeScripts", "CharDelimiterSplit":
		return sugarmePreTokenizerFromJSON(raw)
	}
	return nil, fmt.Errorf("pre_tokenizer: type %q is not supported (supported: %s)", head.Type, knownPreTokenizers)
}

// splitMatcher finds a Split pattern's matches: with a hand-written scanner for the known
// look-ahead patterns (Llama 3's), with Go's regexp for the rest.
func splitMatcher(pattern patternJSON) (func(string) []span, error) {
	if pattern.Regex != nil {
		if split, ok := lookAheadSplitters[*pattern.Regex]; ok {
			return func(s string) []span { return scannerMatches(s, split) }, nil
		}
	}
	re, err := pattern.compile()
	if err != nil {
		return nil, fmt.Errorf("%w; the one look-ahead pattern built in is Llama 3's, written exactly as in its tokenizer.json", err)
	}
	return func(s string) []span { return regexpMatches(s, re) }, nil
}

// parseMetaspace reads a Metaspace section, old (add_prefix_space) or new (prepend_scheme,
// split) style, for the pre-tokenizer and the decoder alike.
func parseMetaspace(raw json.RawMessage) (metaspacePreTokenizer, error) {
	cfg := struct {
		Replacement    string  `json:"replacement"`
		AddPrefixSpace *bool   `json:"add_prefix_space"`
		PrependScheme  *string `json:"prepend_scheme"`
		Split          *bool   `json:"split"`
	}{Replacement: "▁"}
	if err := json.Unmarshal(raw, &cfg); err != nil {
		return metaspacePreTokenizer{}, err
	}
	m := metaspacePreTokenizer{replacement: cfg.Replacement, prependScheme: "always", split: true}
	if cfg.AddPrefixSpace != nil && !*cfg.AddPrefixSpace {
		m.prependScheme = "never"
	}
	if cfg.PrependScheme != nil {
		m.prependScheme = strings.ToLower(*cfg.PrependScheme)
	}
	if cfg.Split != nil {
		m.split = *cfg.Split
	}
	switch m.prependScheme {
	case "always", "first", "never":
	default:
		return m, fmt.Errorf("prepend_scheme %q is not one of always, first, never", m.prependScheme)
	}
	if m.replacement == "" {
		return m, fmt.Errorf("replacement is empty")
	}
	return m, nil
}

func sugarmePreTokenizerFromJSON(raw json.RawMessage) (p preTokenizer, err error) {
	var cfg map[string]any
	if err := json.Unmarshal(raw, &cfg); err != nil {
		return nil, fmt.Errorf("pre_tokenizer: %w", err)
	}
	if cfg["type"] == "CharDelimiterSplit" { // tokenizers' name; sugarme calls it Delimiter
		cfg["type"] = "Delimiter"
	}
	defer func() {
		if r := recover(); r != nil {
			p, err = nil, fmt.Errorf("pre_tokenizer %v: sugarme could not build it: %v", cfg["type"], r)
		}
	}()
	sp, err := pretrained.CreatePreTokenizer(cfg)
	if err != nil {
		return nil, fmt.Errorf("pre_tokenizer %v: %w", cfg["type"], err)
	}
	return sugarmePreTokenizer{sp}, nil
}

// whitespacePreTokenizer is tokenizers' Whitespace, the pattern \w+|[^\w\s]+ with Unicode
// \w. sugarme's uses Go's ASCII-only \w, which cuts "café" into "caf" and "é".
type whitespacePreTokenizer struct{}

func (whitespacePreTokenizer) preTokenize(piece string, _ bool) ([]string, error) {
	var words []string
	for len(piece) > 0 {
		r, size := utf8.DecodeRuneInString(piece)
		var n int
		switch {
		case unicode.IsSpace(r):
			piece = piece[size:]
			continue
		case isRegexWordChar(r):
			n = runLength(piece, isRegexWordChar)
		default:
			n = runLength(piece, func(r rune) bool { return !isRegexWordChar(r) && !unicode.IsSpace(r) })
		}
		words = append(words, piece[:n])
		piece = piece[n:]
	}
	return words, nil
}

// isRegexWordChar is Rust regex's Unicode \w: Alphabetic, marks, decimal digits,
// connector punctuation and Join_Control (so an emoji ZWJ sequence is cut at each U+200D).
func isRegexWordChar(r rune) bool {
	return unicode.In(r, unicode.L, unicode.Nl, unicode.Other_Alphabetic, unicode.M, unicode.Nd, unicode.Pc, unicode.Join_Control)
}
