package tokenize

import (
	"encoding/json"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"unicode/utf8"
)

// tokenDecoder is one step of tokenizers' decoder chain: tokens in, tokens out; the final
// output is their concatenation. All of them are ours: sugarme's Strip panics on an empty
// token list, its ByteLevel turns unknown characters into NUL bytes and keeps invalid UTF-8,
// its Metaspace decoder ignores prepend_scheme and its ByteFallback panics on "<0xZZ>".
type tokenDecoder interface {
	decodeChain(tokens []string) []string
}

type decoderSequence []tokenDecoder

func (seq decoderSequence) decodeChain(tokens []string) []string {
	for _, d := range seq {
		tokens = d.decodeChain(tokens)
	}
	return tokens
}

// replaceDecoder substitutes a pattern in every token ("▁" -> " " for SentencePiece).
type replaceDecoder struct {
	re      *regexp.Regexp
	content string
}

func (d replaceDecoder) decodeChain(tokens []string) []string {
	out := make([]string, len(tokens))
	for i, t := range tokens {
		out[i] = d.re.ReplaceAllLiteralString(t, d.content)
	}
	return out
}

// byteFallbackDecoder joins runs of <0xHH> tokens into the text their bytes spell, or one
// U+FFFD per byte when the run is not valid UTF-8.
type byteFallbackDecoder struct{}

func (byteFallbackDecoder) decodeChain(tokens []string) []string {
	out := make([]string, 0, len(tokens))
	var pending []byte
	flush := func() {
		if len(pending) == 0 {
			return
		}
		if utf8.Valid(pending) {
			out = append(out, string(pending))
		} else {
			out = append(out, strings.Repeat("\uFFFD", len(pending)))
		}
		pending = pending[:0]
	}
	for _, t := range tokens {
		if b, ok := parseByteToken(t); ok {
			pending = append(pending, b)
			continue
		}
		flush()
		out = append(out, t)
	}
	flush()
	return out
}

// parseByteToken reads a SentencePiece byte token, "<0x0A>".
func parseByteToken(t string) (byte, bool) {
	if len(t) != 6 || !strings.HasPrefix(t, "<0x") || t[5] != '>' {
		return 0, false
	}
	v, err := strconv.ParseUint(t[3:5], 16, 8)
	return byte(v), err == nil
}

type fuseDecoder struct{}

func (fuseDecoder) decodeChain(tokens []string) []string {
	return []string{strings.Join(tokens, "")}
}

// stripDecoder removes up to start leading and stop trailing copies of content from each
// token (LLaMA: the space that the "▁" prepend put in front of the text).
type stripDecoder struct {
	content     rune
	start, stop int
}

func (d stripDecoder) decodeChain(tokens []string) []string {
	out := make([]string, len(tokens))
	for i, t := range tokens {
		chars := []rune(t)
		from, to := 0, len(chars)
		for from < d.start && from < to && chars[from] == d.content {
			from++
		}
		for n := 0; n < d.stop && to > from && chars[to-1] == d.content; n++ {
			to--
		}
		out[i] = string(chars[from:to])
	}
	return out
}

// byteLevelDecoder maps GPT-2 byte characters back to bytes over all tokens at once and
// decodes them with Rust's from_utf8_lossy rule.
type byteLevelDecoder struct{}

func (byteLevelDecoder) decodeChain(tokens []string) []string {
	var buf []byte
	for _, t := range tokens {
		var ok bool
		if buf, ok = unicodeToBytes(t, buf); !ok {
			buf = append(buf, t...)
		}
	}
	return []string{lossyUTF8(buf)}
}

// lossyUTF8 replaces each maximal invalid subsequence with one U+FFFD, as Rust's
// String::from_utf8_lossy does (Go's conversions replace byte by byte).
func lossyUTF8(b []byte) string {
	if utf8.Valid(b) {
		return string(b)
	}
	var out strings.Builder
	for len(b) > 0 {
		r, size := utf8.DecodeRune(b)
		if r != utf8.RuneError || size > 1 {
			out.Write(b[:size])
			b = b[size:]
			continue
		}
		out.WriteRune(utf8.RuneError)
		b = b[invalidPrefixLen(b):]
	}
	return out.String()
}

// invalidPrefixLen is the length of the maximal prefix of b that starts a well-formed
// sequence but does not finish it (at least 1).
func invalidPrefixLen(b []byte) int {
	lead := b[0]
	var need int
	lo, hi := byte(0x80), byte(0xBF)
	switch {
	case lead >= 0xC2 && lead <= 0xDF:
		need = 1
	case lead == 0xE0:
		need, lo = 2, 0xA0
	case lead >= 0xE1 && lead <= 0xEC, lead == 0xEE, lead == 0xEF:
		need = 2
	case lead == 0xED:
		need, hi = 2, 0x9F
	case lead == 0xF0:
		need, lo = 3, 0x90
	case lead >= 0xF1 && lead <= 0xF3:
		need = 3
	case lead == 0xF4:
		need, hi = 3, 0x8F
	default:
		return 1
	}
	n := 1
	for ; n <= need && n < len(b); n++ {
		if b[n] < lo || b[n] > hi {
			break
		}
		lo, hi = 0x80, 0xBF
	}
	return n
}

// metaspaceDecoder turns the replacement character back into spaces, dropping those of the
// first token unless prepend_scheme is "never".
type metaspaceDecoder struct{ metaspacePreTokenizer }

func (d metaspaceDecoder) decodeChain(tokens []string) []string {
	out := make([]string, len(tokens))
	for i, t := range tokens {
		with := " "
		if i == 0 && d.prependScheme != "never" {
			with = ""
		}
		out[i] = strings.ReplaceAll(t, d.replacement, with)
	}
	return out
}

// wordPieceDecoder glues "##" continuations to the previous token and spaces the rest.
type wordPieceDecoder struct {
	prefix  string
	cleanup bool
}

func (d wordPieceDecoder) decodeChain(tokens []string) []string {
	out := make([]string, len(tokens))
	for i, t := range tokens {
		if i > 0 {
			if strings.HasPrefix(t, d.prefix) {
				t = strings.Replace(t, d.prefix, "", 1)
			} else {
				t = " " + t
			}
		}
		if d.cleanup {
			t = cleanupSpaces(t)
		}
		out[i] = t
	}
	return out
}

var cleanupReplacer = strings.NewReplacer(" .", ".", " ?", "?", " !", "!", " ,", ",", " ' ", "'",
	" n't", "n't", " 'm", "'m", " do not", " don't", " 's", "'s", " 've", "'ve", " 're", "'re")

// cleanupSpaces is tokenizers' wordpiece cleanup of spaces before punctuation.
func cleanupSpaces(s string) string { return cleanupReplacer.Replace(s) }

// bpeSuffixDecoder replaces the end-of-word suffix by a space, except on the last token.
type bpeSuffixDecoder struct{ suffix string }

func (d bpeSuffixDecoder) decodeChain(tokens []string) []string {
	out := make([]string, len(tokens))
	for i, t := range tokens {
		with := " "
		if i == len(tokens)-1 {
			with = ""
		}
		out[i] = strings.ReplaceAll(t, d.suffix, with)
	}
	return out
}

// ctcDecoder collapses repeats, removes the pad token and, with cleanup, turns the word
// delimiter into spaces, as tokenizers' CTC decoder does.
type ctcDecoder struct {
	pad, delimiter string
	cleanup        bool
}

func (d ctcDecoder) decodeChain(tokens []string) []string {
	var out []string
	for i, t := range tokens {
		if i > 0 && t == tokens[i-1] {
			continue
		}
		t = strings.ReplaceAll(t, d.pad, "")
		if d.cleanup {
			t = strings.ReplaceAll(cleanupSpaces(t), d.delimiter, " ")
		}
		if t != "" {
			out = append(out, t)
		}
	}
	return out
}

var knownDecoders = "Sequence, Replace, ByteFallback, Fuse, Strip, ByteLevel, Metaspace, WordPiece, BPEDecoder, CTC"

// newDecoder builds the tokenizer.json "decoder" section; nil for none.
func newDecoder(raw json.RawMessage) (tokenDecoder, error) {
	if isJSONNull(raw) {
		return nil, nil
	}
	var head componentJSON
	if err := json.Unmarshal(raw, &head); err != nil {
		return nil, fmt.Errorf("decoder: %w", err)
	}
	fail := func(err error) (tokenDecoder, error) {
		return nil, fmt.Errorf("decoder %s: %w", head.Type, err)
	}
	switch head.Type {
	case "Sequence":
		seq, err := sequenceMembers(raw, "decoder", "decoders", newDecoder)
		if err != nil {
			return nil, err
		}
		return decoderSequence(seq), nil
	case "Replace":
		var cfg struct {
			Pattern patternJSON `json:"pattern"`
			Content string      `json:"content"`
		}
		if err := json.Unmarshal(raw, &cfg); err != nil {
			return fail(err)
		}
		re, err := cfg.Pattern.compile()
		if err != nil {
			return fail(err)
		}
		return replaceDecoder{re: re, content: cfg.Content}, nil
	case "ByteFallback":
		return byteFallbackDecoder{}, nil
	case "Fuse":
		return fuseDecoder{}, nil
	case "Strip":
		var cfg struct {
			Content string `json:"content"`
			Start   int    `json:"start"`
			Stop    int    `json:"stop"`
		}
		if err := json.Unmarshal(raw, &cfg); err != nil {
			return fail(err)
		}
		if utf8.RuneCountInString(cfg.Content) != 1 {
			return fail(fmt.Errorf("content %q is not one character", cfg.Content))
		}
		r, _ := utf8.DecodeRuneInString(cfg.Content)
		return stripDecoder{content: r, start: cfg.Start, stop: cfg.Stop}, nil
	case "ByteLevel":
		return byteLevelDecoder{}, nil
	case "Metaspace":
		m, err := parseMetaspace(raw)
		if err != nil {
			return fail(err)
		}
		return metaspaceDecoder{m}, nil
	case "WordPiece":
		cfg := struct {
			Prefix  string `json:"prefix"`
			Cleanup bool   `json:"cleanup"`
		}{Prefix: "##", Cleanup: true}
		if err := json.Unmarshal(raw, &cfg); err != nil {
			return fail(err)
		}
		return wordPieceDecoder{prefix: cfg.Prefix, cleanup: cfg.Cleanup}, nil
	case "BPEDecoder":
		cfg := struct {
			Suffix string `json:"suffix"`
		}{Suffix: "</w>"}
		if err := json.Unmarshal(raw, &cfg); err != nil {
			return fail(err)
		}
		return bpeSuffixDecoder{suffix: cfg.Suffix}, nil
	case "CTC":
		cfg := struct {
			PadToken           string `json:"pad_token"`
			WordDelimiterToken string `json:"word_delimiter_token"`
			Cleanup            bool   `json:"cleanup"`
		}{PadToken: "<pad>", WordDelimiterToken: "|", Cleanup: true}
		if err := json.Unmarshal(raw, &cfg); err != nil {
			return fail(err)
		}
		return ctcDecoder{pad: cfg.PadToken, delimiter: cfg.WordDelimiterToken, cleanup: cfg.Cleanup}, nil
	}
	return nil, fmt.Errorf("decoder: type %q is not supported (supported: %s)", head.Type, knownDecoders)
}
