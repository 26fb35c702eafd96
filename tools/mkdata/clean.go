package main

import (
	"regexp"
	"strings"
	"unicode"
	"unicode/utf8"
)

// wordNetSense is one numbered sense of a WordNet article.
type wordNetSense struct {
	PartOfSpeech string   // "noun", "verb", "adjective" or "adverb"
	Gloss        string   // definition without examples or synonym lists
	Examples     []string // quoted usage examples, without the quotes
	Synonyms     []string // words of the [syn: ...] list
	Antonyms     []string // words of the [ant: ...] list
}

var (
	// wordNetSenseStart matches the first line of a sense: four spaces, an optional part of
	// speech and the sense number. Continuation lines are indented further.
	wordNetSenseStart = regexp.MustCompile(`^ {4}(?:(n|v|adj|adv) )?(\d+): ?(.*)$`)
	wordNetRelation   = regexp.MustCompile(`\[(syn|ant|also):\s*([^\]]*)\]`)
	quotedExample     = regexp.MustCompile(`"([^"]+)"`)
	braceReference    = regexp.MustCompile(`\{([^{}]*)\}`)
	// referenceWithTarget is FOLDOC's {shown text (target)} form; the target is a headword or URL.
	referenceWithTarget = regexp.MustCompile(`^(.*\S)\s*\(([^()]*)\)$`)
	foldocDate          = regexp.MustCompile(`^\(\d{4}-\d{2}-\d{2}\)\.?$`)
	// foldocField matches "Address: ...", "Telephone: ...", "See also: ..." paragraphs,
	// which are contact details or link lists rather than prose.
	foldocField = regexp.MustCompile(`^[A-Z][A-Za-z /-]{0,30}: `)
	// FOLDOC paragraphs open with any of: a Jargon File pronunciation "/zed/", subject tags
	// "<language, specification>", a source tag "[Unix]" and a sense number "1.".
	foldocPronunciation = regexp.MustCompile(`^/[^/]{1,60}/\s+`)
	foldocSubjects      = regexp.MustCompile(`^(?:<[^<>]+>\s*)+`)
	foldocSourceTag     = regexp.MustCompile(`^\[[^\]\s]{1,20}\]\s+`)
	foldocSenseNumber   = regexp.MustCompile(`^\d+\.\s+`)
	emailAddress        = regexp.MustCompile(`<?[\w.+-]+@[\w-]+(?:\.[\w-]+)+>?`)
	emailLabel          = regexp.MustCompile(`(?i)\be-?mail:\s*(?:\([^()]*\))?[\s,;]*([.;]|$)`)
	repeatedComma       = regexp.MustCompile(`,(\s*,)+`)
	// editorQuery is an editor's open question such as "[which one?]" or "sometime[?]".
	editorQuery = regexp.MustCompile(`\s*\[[^\[\]]*\?\]`)
	urlInParens = regexp.MustCompile(`\([^()]*(?:https?|ftp)://[^()]*\)`)
	bareURL     = regexp.MustCompile(`(?:https?|ftp)://\S+`)
	// strayBrace is what an unbalanced reference in the source leaves after stripBraces.
	strayBrace       = regexp.MustCompile(`[{}]`)
	spaceBeforePunct = regexp.MustCompile(`\s+([.,;:!?)])(\s|$)`)
	emptyParens      = regexp.MustCompile(`\(\s*[,;]?\s*\)`)
	leadingPunct     = regexp.MustCompile(`^[.,;:]+\s+`)
	repeatedPeriod   = regexp.MustCompile(`\.(\s+\.)+(\s|$)`)
)

var partsOfSpeech = map[string]string{"n": "noun", "v": "verb", "adj": "adjective", "adv": "adverb"}

// bodyLines drops an article's headword lines: dictd prints the headword (FOLDOC: one line
// per alias) flush left and the body indented.
func bodyLines(text string) []string {
	lines := strings.Split(strings.TrimRight(text, "\n"), "\n")
	i := 0
	for i < len(lines) && lines[i] != "" && !unicode.IsSpace(rune(lines[i][0])) {
		i++
	}
	return lines[i:]
}

// joinWrapped undoes dictd's line wrapping. With hyphens set, a line that ends in a letter and
// "-" continues a hyphenated word (WordNet wraps "dog-iron" as "dog-" / "iron").
func joinWrapped(lines []string, hyphens bool) string {
	var b strings.Builder
	for _, line := range lines {
		line = strings.TrimSpace(line)
		if line == "" {
			continue
		}
		prev := b.String()
		if b.Len() > 0 && !(hyphens && endsInWordHyphen(prev)) {
			b.WriteByte(' ')
		}
		b.WriteString(line)
	}
	return collapseSpace(b.String())
}

func endsInWordHyphen(s string) bool {
	if !strings.HasSuffix(s, "-") {
		return false
	}
	r, _ := utf8.DecodeLastRuneInString(s[:len(s)-1])
	return unicode.IsLetter(r)
}

func collapseSpace(s string) string { return strings.Join(strings.Fields(s), " ") }

// parseWordNet splits a WordNet article into its senses; a sense without a part of speech
// inherits the previous one ("n 1: ..." then "2: ...").
func parseWordNet(text string) []wordNetSense {
	var senses []wordNetSense
	var current []string
	pos := ""
	flush := func() {
		if len(current) > 0 {
			if s, ok := parseWordNetSense(joinWrapped(current, true), pos); ok {
				senses = append(senses, s)
			}
		}
		current = nil
	}
	for _, line := range bodyLines(text) {
		if m := wordNetSenseStart.FindStringSubmatch(line); m != nil {
			flush()
			if m[1] != "" {
				pos = partsOfSpeech[m[1]]
			}
			current = []string{m[3]}
			continue
		}
		if current != nil {
			current = append(current, line)
		}
	}
	flush()
	return senses
}

// parseWordNetSense splits `gloss; "example"; "example" [syn: {a}, {b}] [ant: {c}]`.
func parseWordNetSense(text, pos string) (wordNetSense, bool) {
	s := wordNetSense{PartOfSpeech: pos}
	for _, m := range wordNetRelation.FindAllStringSubmatch(text, -1) {
		words := referencedTerms(m[2])
		switch m[1] {
		case "syn":
			s.Synonyms = append(s.Synonyms, words...)
		case "ant":
			s.Antonyms = append(s.Antonyms, words...)
		}
	}
	text = strings.TrimSpace(wordNetRelation.ReplaceAllString(text, ""))
	gloss, examples := text, ""
	if i := strings.Index(text, `; "`); i >= 0 {
		gloss, examples = text[:i], text[i+1:]
	} else if strings.HasPrefix(text, `"`) {
		gloss, examples = "", text
	}
	for _, m := range quotedExample.FindAllStringSubmatch(examples, -1) {
		if ex := collapseSpace(m[1]); ex != "" {
			s.Examples = append(s.Examples, ex)
		}
	}
	s.Gloss = tidyPunctuation(strings.TrimRight(stripBraces(gloss, nil), " ;"))
	return s, s.Gloss != ""
}

// referencedTerms lists the {braced} words of a WordNet relation list.
func referencedTerms(list string) []string {
	var words []string
	for _, m := range braceReference.FindAllStringSubmatch(list, -1) {
		if w := collapseSpace(m[1]); w != "" {
			words = append(words, w)
		}
	}
	return words
}

// stripBraces turns dictd cross references into plain text: {word} -> word,
// {shown (target)} -> shown, and drops bare links {(http://...)}. The headword each reference
// points at is passed to ref, if not nil.
func stripBraces(text string, ref func(target string)) string {
	return braceReference.ReplaceAllStringFunc(text, func(m string) string {
		inner := collapseSpace(m[1 : len(m)-1])
		if strings.HasPrefix(inner, "(") && strings.HasSuffix(inner, ")") && !strings.ContainsAny(inner[1:len(inner)-1], "()") {
			return ""
		}
		shown, target := inner, inner
		if sub := referenceWithTarget.FindStringSubmatch(inner); sub != nil {
			shown, target = sub[1], sub[2]
		}
		if ref != nil && target != "" && !isURL(target) {
			ref(target)
		}
		return shown
	})
}

func isURL(s string) bool {
	return strings.Contains(s, "://") || strings.HasPrefix(s, "mailto:") || strings.HasSuffix(s, ".html")
}

// tidyPunctuation repairs what removing links leaves behind: "( )", " .", ". .", a leading
// ". " and doubled spaces.
func tidyPunctuation(s string) string {
	s = emptyParens.ReplaceAllString(s, "")
	s = repeatedPeriod.ReplaceAllString(s, ".$2")
	s = spaceBeforePunct.ReplaceAllString(s, "$1$2")
	s = leadingPunct.ReplaceAllString(s, "")
	return strings.TrimSpace(collapseSpace(s))
}

// foldocArticle is a FOLDOC entry reduced to prose paragraphs.
type foldocArticle struct {
	Paragraphs []string // cleaned prose, in order; empty for redirects and link-only entries
	References []string // headwords the entry points at, in order, without repeats
	HasCode    bool     // some paragraph is indented code or a table, which cleaning would garble
}

// parseFOLDOC keeps the prose of a FOLDOC article. It drops the headword lines, pronunciations,
// subject tags such as <programming>, the closing date, [citations], "See also" lists,
// contact-detail fields, e-mail addresses and paragraphs that are a bare cross reference
// ("{Alternating bit protocol}.").
func parseFOLDOC(text string) foldocArticle {
	var a foldocArticle
	seen := make(map[string]bool)
	addRef := func(target string) {
		key := strings.ToLower(collapseSpace(target))
		if key != "" && !seen[key] {
			seen[key] = true
			a.References = append(a.References, collapseSpace(target))
		}
	}
	for _, raw := range paragraphs(bodyLines(text)) {
		if isCode(raw) {
			a.HasCode = true
			continue
		}
		number, rest := splitFOLDOCHead(joinWrapped(raw, false))
		// "[{Jargon File}]" names a source, not a related term, so it adds no reference.
		if isCitation(rest) || foldocDate.MatchString(rest) {
			continue
		}
		plain := cleanProse(stripBraces(rest, addRef))
		switch {
		case foldocField.MatchString(rest),
			strings.HasPrefix(rest, "See ") || strings.HasPrefix(rest, "Compare "),
			isBareReference(rest),
			!strings.ContainsFunc(plain, unicode.IsLetter):
			continue
		}
		a.Paragraphs = append(a.Paragraphs, number+plain)
	}
	return a
}

func isCitation(p string) bool {
	return strings.HasPrefix(p, "[") && (strings.HasSuffix(p, "]") || strings.HasSuffix(p, "]."))
}

// cleanProse removes e-mail addresses, URLs, editors' queries and stray braces from text
// whose references are already resolved.
func cleanProse(s string) string {
	for _, re := range []*regexp.Regexp{emailAddress, editorQuery, urlInParens, bareURL, strayBrace} {
		s = re.ReplaceAllString(s, "")
	}
	s = emailLabel.ReplaceAllString(s, "$1")
	return tidyPunctuation(repeatedComma.ReplaceAllString(s, ","))
}

// splitFOLDOCHead strips a paragraph's pronunciation, subject and source tags and returns its
// sense number ("2. ") separately, since numbered senses keep their number.
func splitFOLDOCHead(p string) (number, rest string) {
	rest = p
	for {
		var m string
		for _, re := range []*regexp.Regexp{foldocPronunciation, foldocSubjects, foldocSourceTag} {
			if m = re.FindString(rest); m != "" {
				break
			}
		}
		if m == "" && number == "" {
			if m = foldocSenseNumber.FindString(rest); m != "" {
				number = m
			}
		}
		if m == "" {
			return number, rest
		}
		rest = strings.TrimSpace(rest[len(m):])
	}
}

// isCode reports whether a paragraph is indented past FOLDOC's three-space body margin, as
// code samples and tables are.
func isCode(lines []string) bool {
	for _, line := range lines {
		if strings.HasPrefix(line, "    ") && strings.TrimSpace(line) != "" {
			return true
		}
	}
	return false
}

// isBareReference reports whether a paragraph is only cross references, as redirect entries
// are: nothing outside its {braces} is a letter.
func isBareReference(p string) bool {
	return strings.Contains(p, "{") && !strings.ContainsFunc(braceReference.ReplaceAllString(p, ""), unicode.IsLetter)
}

// paragraphs splits body lines at blank lines, except inside a {reference} that continues
// on a line flush left: FOLDOC wraps long links that way.
func paragraphs(lines []string) [][]string {
	var out [][]string
	var cur []string
	depth := 0
	for i, line := range lines {
		if strings.TrimSpace(line) == "" {
			if depth > 0 && continuesFlushLeft(lines[i+1:]) {
				continue
			}
			if len(cur) > 0 {
				out = append(out, cur)
			}
			cur, depth = nil, 0
			continue
		}
		cur = append(cur, line)
		depth += strings.Count(line, "{") - strings.Count(line, "}")
	}
	if len(cur) > 0 {
		out = append(out, cur)
	}
	return out
}

// continuesFlushLeft reports whether the next non-blank line starts in column one.
func continuesFlushLeft(lines []string) bool {
	for _, line := range lines {
		if strings.TrimSpace(line) != "" {
			return !unicode.IsSpace(rune(line[0]))
		}
	}
	return false
}

// abbreviations end in a period without ending a sentence.
var abbreviations = map[string]bool{
	"e.g": true, "i.e": true, "etc": true, "ca": true, "cf": true, "vs": true, "viz": true,
	"mr": true, "mrs": true, "ms": true, "dr": true, "st": true, "no": true, "approx": true,
	"inc": true, "ltd": true, "corp": true, "co": true, "jr": true, "sr": true, "fig": true,
	"vol": true, "al": true, "u.s": true, "prof": true, "esp": true, "resp": true,
}

// splitSentences splits prose at ".", "!" or "?" followed by a space and a capital, digit or
// opening quote, unless the period closes an abbreviation or an initial. Newlines always split.
func splitSentences(text string) []string {
	var out []string
	for _, line := range strings.Split(text, "\n") {
		words := strings.Fields(line)
		start := 0
		for i := 0; i < len(words)-1; i++ {
			if endsSentence(words[i]) && startsSentence(words[i+1]) {
				out = append(out, strings.Join(words[start:i+1], " "))
				start = i + 1
			}
		}
		if start < len(words) {
			out = append(out, strings.Join(words[start:], " "))
		}
	}
	return out
}

func endsSentence(word string) bool {
	w := strings.TrimRight(word, `"')]`)
	if w == "" {
		return false
	}
	switch w[len(w)-1] {
	case '!', '?':
		return true
	case '.':
	default:
		return false
	}
	stem := strings.ToLower(strings.TrimLeft(strings.TrimSuffix(w, "."), `"'([`))
	if abbreviations[stem] || utf8.RuneCountInString(stem) <= 1 {
		return false
	}
	return !strings.HasSuffix(stem, ".")
}

func startsSentence(word string) bool {
	r, _ := utf8.DecodeRuneInString(strings.TrimLeft(word, `"'(`))
	return unicode.IsUpper(r) || unicode.IsDigit(r)
}

// sentenceCase capitalises the first letter and ends the text with a period if it has no
// closing punctuation, turning a WordNet gloss into a sentence.
func sentenceCase(s string) string {
	s = strings.TrimSpace(s)
	if s == "" {
		return s
	}
	r, size := utf8.DecodeRuneInString(s)
	s = string(unicode.ToUpper(r)) + s[size:]
	switch s[len(s)-1] {
	case '.', '!', '?':
		return s
	}
	return s + "."
}

// capWords shortens text to at most limit words, dropping whole sentences from the end; a
// first sentence longer than limit is cut at a word and ends with "...".
func capWords(text string, limit int) string {
	if wordCount(text) <= limit {
		return text
	}
	var lines []string
	total := 0
	for _, line := range strings.Split(text, "\n") {
		var kept []string
		for _, sentence := range splitSentences(line) {
			n := wordCount(sentence)
			if total+n > limit {
				break
			}
			kept = append(kept, sentence)
			total += n
		}
		if len(kept) > 0 {
			lines = append(lines, strings.Join(kept, " "))
		}
		if len(kept) < len(splitSentences(line)) {
			break
		}
	}
	if len(lines) == 0 {
		return strings.Join(strings.Fields(text)[:limit], " ") + "..."
	}
	return strings.Join(lines, "\n")
}

func wordCount(s string) int { return len(strings.Fields(s)) }
