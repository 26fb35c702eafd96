package tokenize

import (
	"encoding/json"
	"fmt"
	"regexp"
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"

	"github.com/sugarme/tokenizer/normalizer"
	"github.com/sugarme/tokenizer/pretrained"
)

// textNormalizer rewrites one piece of input (the text between added tokens) before it is
// pre-tokenized. Offsets are not tracked: Encode returns ids only.
type textNormalizer interface {
	normalize(s string) (string, error)
}

// normalizerFunc adapts a plain function to textNormalizer.
type normalizerFunc func(string) string

func (f normalizerFunc) normalize(s string) (string, error) { return f(s), nil }

// normalizerSequence applies its members in order.
type normalizerSequence []textNormalizer

func (seq normalizerSequence) normalize(s string) (string, error) {
	for _, n := range seq {
		var err error
		if s, err = n.normalize(s); err != nil {
			return "", err
		}
	}
	return s, nil
}

// sugarmeNormalizer runs one of sugarme's normalizers on a plain string.
type sugarmeNormalizer struct{ n normalizer.Normalizer }

func (a sugarmeNormalizer) normalize(s string) (string, error) {
	out, err := a.n.Normalize(normalizer.NewNormalizedFrom(s))
	if err != nil {
		return "", err
	}
	if out == nil {
		return "", nil
	}
	return out.GetNormalized(), nil
}

// componentJSON is the common shape of a normalizer, pre-tokenizer or decoder entry.
type componentJSON struct {
	Type string `json:"type"`
}

// sequenceMembers builds the members of a Sequence component, the list under key in raw,
// leaving out those that build to nil (a null entry). The error of a malformed list names
// section ("normalizer", ...); a member's own error comes back as it is.
func sequenceMembers[T comparable](raw json.RawMessage, section, key string, build func(json.RawMessage) (T, error)) ([]T, error) {
	var cfg map[string]json.RawMessage
	var members []json.RawMessage
	err := json.Unmarshal(raw, &cfg)
	if err == nil && cfg[key] != nil {
		err = json.Unmarshal(cfg[key], &members)
	}
	if err != nil {
		return nil, fmt.Errorf("%s Sequence: %w", section, err)
	}
	var seq []T
	var none T
	for _, m := range members {
		member, err := build(m)
		if err != nil {
			return nil, err
		}
		if member != none {
			seq = append(seq, member)
		}
	}
	return seq, nil
}

// patternJSON is a Replace or Split pattern: exactly one of String and Regex is set.
type patternJSON struct {
	String *string `json:"String"`
	Regex  *string `json:"Regex"`
}

// compile returns the pattern as a Go regexp; String patterns are matched literally.
func (p patternJSON) compile() (*regexp.Regexp, error) {
	switch {
	case p.String != nil:
		return regexp.MustCompile(regexp.QuoteMeta(*p.String)), nil
	case p.Regex != nil:
		re, err := regexp.Compile(*p.Regex)
		if err != nil {
			return nil, fmt.Errorf("pattern %q does not compile as a Go regexp (RE2 has no look-around or backreferences): %w", *p.Regex, err)
		}
		return re, nil
	}
	return nil, fmt.Errorf("pattern has neither String nor Regex")
}

var knownNormalizers = "Sequence, Prepend, Replace, Lowercase, NFC, NFD, NFKC, NFKD, Strip, StripAccents, BertNormalizer, Nmt, ByteLevel, Precompiled"

// newNormalizer builds the tokenizer.json "normalizer" section; nil for none. Only
// Precompiled is sugarme's: its other normalizers work on NormalizedString, whose alignment
// bookkeeping (which Encode does not need) panics on some multi-byte rewrites, and several get
// details wrong (see the package doc), so they are written here over plain strings.
func newNormalizer(raw json.RawMessage) (textNormalizer, error) {
	if isJSONNull(raw) {
		return nil, nil
	}
	var head componentJSON
	if err := json.Unmarshal(raw, &head); err != nil {
		return nil, fmt.Errorf("normalizer: %w", err)
	}
	switch head.Type {
	case "Sequence":
		seq, err := sequenceMembers(raw, "normalizer", "normalizers", newNormalizer)
		if err != nil {
			return nil, err
		}
		return normalizerSequence(seq), nil
	case "Prepend":
		var cfg struct {
			Prepend string `json:"prepend"`
		}
		if err := json.Unmarshal(raw, &cfg); err != nil {
			return nil, fmt.Errorf("normalizer Prepend: %w", err)
		}
		return normalizerFunc(func(s string) string {
			if s == "" {
				return s
			}
			return cfg.Prepend + s
		}), nil
	case "Replace":
		var cfg struct {
			Pattern patternJSON `json:"pattern"`
			Content string      `json:"content"`
		}
		if err := json.Unmarshal(raw, &cfg); err != nil {
			return nil, fmt.Errorf("normalizer Replace: %w", err)
		}
		re, err := cfg.Pattern.compile()
		if err != nil {
			return nil, fmt.Errorf("normalizer Replace: %w", err)
		}
		return normalizerFunc(func(s string) string { return re.ReplaceAllLiteralString(s, cfg.Content) }), nil
	case "Lowercase":
		return normalizerFunc(lowercase), nil
	case "BertNormalizer":
		var cfg struct {
			CleanText          *bool `json:"clean_text"`
			HandleChineseChars *bool `json:"handle_chinese_chars"`
			StripAccents       *bool `json:"strip_accents"`
			Lowercase          *bool `json:"lowercase"`
		}
		if err := json.Unmarshal(raw, &cfg); err != nil {
			return nil, fmt.Errorf("normalizer BertNormalizer: %w", err)
		}
		orTrue := func(b *bool) bool { return b == nil || *b }
		bert := bertNormalizer{
			cleanText:          orTrue(cfg.CleanText),
			handleChineseChars: orTrue(cfg.HandleChineseChars),
			lowercase:          orTrue(cfg.Lowercase),
		}
		bert.stripAccents = bert.lowercase // tokenizers: a null strip_accents follows lowercase
		if cfg.StripAccents != nil {
			bert.stripAccents = *cfg.StripAccents
		}
		return normalizerFunc(bert.normalize), nil
	case "NFC":
		return normalizerFunc(norm.NFC.String), nil
	case "NFD":
		return normalizerFunc(norm.NFD.String), nil
	case "NFKC":
		return normalizerFunc(norm.NFKC.String), nil
	case "NFKD":
		return normalizerFunc(norm.NFKD.String), nil
	case "StripAccents":
		return normalizerFunc(removeNonspacingMarks), nil
	case "Strip", "StripNormalizer":
		var cfg struct {
			Left  bool `json:"strip_left"`
			Right bool `json:"strip_right"`
		}
		if err := json.Unmarshal(raw, &cfg); err != nil {
			return nil, fmt.Errorf("normalizer Strip: %w", err)
		}
		return normalizerFunc(func(s string) string {
			if cfg.Left {
				s = strings.TrimLeftFunc(s, unicode.IsSpace)
			}
			if cfg.Right {
				s = strings.TrimRightFunc(s, unicode.IsSpace)
			}
			return s
		}), nil
	case "Nmt":
		return normalizerFunc(nmt), nil
	case "ByteLevel":
		return normalizerFunc(bytesToUnicode), nil
	case "Precompiled":
		return sugarmeNormalizerFromJSON(raw)
	}
	return nil, fmt.Errorf("normalizer: type %q is not supported (supported: %s)", head.Type, knownNormalizers)
}

// sugarmeNormalizerFromJSON hands one section to sugarme, turning its panics on malformed
// input (it type-asserts fields without checking) into errors.
func sugarmeNormalizerFromJSON(raw json.RawMessage) (n textNormalizer, err error) {
	var cfg map[string]any
	if err := json.Unmarshal(raw, &cfg); err != nil {
		return nil, fmt.Errorf("normalizer: %w", err)
	}
	defer func() {
		if r := recover(); r != nil {
			n, err = nil, fmt.Errorf("normalizer %v: sugarme could not build it: %v", cfg["type"], r)
		}
	}()
	sn, err := pretrained.CreateNormalizer(cfg)
	if err != nil {
		return nil, fmt.Errorf("normalizer %v: %w", cfg["type"], err)
	}
	return sugarmeNormalizer{sn}, nil
}

// lowercase maps each character as Rust's char::to_lowercase does, which tokenizers' Lowercase
// uses: like unicode.ToLower, except U+0130 (İ) becomes "i" + U+0307.
func lowercase(s string) string {
	if !strings.ContainsRune(s, 'İ') {
		return strings.ToLower(s)
	}
	var b strings.Builder
	for _, r := range s {
		if r == 'İ' {
			b.WriteString("i\u0307")
			continue
		}
		b.WriteRune(unicode.ToLower(r))
	}
	return b.String()
}

// nmt is tokenizers' Nmt normalizer: drop control characters and turn the other invisible
// separators into spaces. sugarme panics with "NotImplementedError" on it.
func nmt(s string) string {
	return strings.Map(func(r rune) rune {
		switch {
		case r >= 0x01 && r <= 0x08, r == 0x0B, r >= 0x0E && r <= 0x1F, r == 0x7F, r == 0x8F, r == 0x9F:
			return -1
		case r == 0x09, r == 0x0A, r == 0x0C, r == 0x0D, r == 0x1680, r >= 0x200B && r <= 0x200F,
			r == 0x2028, r == 0x2029, r == 0x2581, r == 0xFEFF, r == 0xFFFD:
			return ' '
		}
		return r
	}, s)
}

func isJSONNull(raw json.RawMessage) bool {
	s := strings.TrimSpace(string(raw))
	return s == "" || s == "null"
}

// bertNormalizer is tokenizers' BertNormalizer, written over strings because sugarme's
// panics (slice bounds out of range in NormalizedString.TransformRange) when stripping the
// accents of "café naïve" and leaves "ñ" unstripped.
type bertNormalizer struct {
	cleanText, handleChineseChars, stripAccents, lowercase bool
}

func (n bertNormalizer) normalize(s string) string {
	if n.cleanText {
		s = strings.Map(func(r rune) rune {
			switch {
			case r == 0 || r == utf8.RuneError || isBertControl(r):
				return -1
			case r == '\t' || r == '\n' || r == '\r' || unicode.IsSpace(r):
				return ' '
			}
			return r
		}, s)
	}
	if n.handleChineseChars {
		var b strings.Builder
		for _, r := range s {
			if isCJKIdeograph(r) {
				b.WriteByte(' ')
				b.WriteRune(r)
				b.WriteByte(' ')
			} else {
				b.WriteRune(r)
			}
		}
		s = b.String()
	}
	if n.stripAccents {
		s = removeNonspacingMarks(norm.NFD.String(s))
	}
	if n.lowercase {
		s = lowercase(s)
	}
	return s
}

// isBertControl is general category C (control, format, private use, surrogate,
// unassigned) except tab, newline and carriage return, which count as whitespace.
func isBertControl(r rune) bool {
	if r == '\t' || r == '\n' || r == '\r' {
		return false
	}
	return unicode.In(r, unicode.Cc, unicode.Cf, unicode.Co, unicode.Cs) ||
		!unicode.In(r, unicode.L, unicode.M, unicode.N, unicode.P, unicode.S, unicode.Z, unicode.C)
}

// isCJKIdeograph is BERT's "Chinese character": the CJK Unified Ideographs blocks.
func isCJKIdeograph(r rune) bool {
	switch {
	case r >= 0x4E00 && r <= 0x9FFF, r >= 0x3400 && r <= 0x4DBF, r >= 0x20000 && r <= 0x2A6DF,
		r >= 0x2A700 && r <= 0x2B73F, r >= 0x2B740 && r <= 0x2B81F, r >= 0x2B920 && r <= 0x2CEAF,
		r >= 0xF900 && r <= 0xFAFF, r >= 0x2F800 && r <= 0x2FA1F:
		return true
	}
	return false
}

// removeNonspacingMarks drops combining marks (category Mn), which after NFD are the accents.
func removeNonspacingMarks(s string) string {
	return strings.Map(func(r rune) rune {
		if unicode.Is(unicode.Mn, r) {
			return -1
		}
		return r
	}, s)
}
