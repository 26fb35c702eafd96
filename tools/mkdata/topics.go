package main

import (
	"fmt"
	"regexp"
	"slices"
	"strings"
	"unicode"
)

// Answer limits keep responses between a few words and a few hundred tokens.
const (
	maxAnswerWords   = 350
	maxWordNetSenses = 10
)

// Dictionary names as they appear in topic.Source.
const (
	sourceWordNet = "wn"
	sourceFOLDOC  = "foldoc"
)

// topic is a headword with everything the row builders ask about it.
type topic struct {
	Source        string   // sourceWordNet or sourceFOLDOC
	Headword      string   // as printed in the dictionary
	Answer        string   // cleaned definition, at most maxAnswerWords words
	FirstSentence string   // the one-sentence answer of the concise preference set
	Sentences     int      // sentences in Answer
	Examples      []string // WordNet usage examples that contain the headword
	Related       []int    // indexes of synonyms (WordNet) or cross references (FOLDOC) in the same topic list
	Antonyms      []int    // WordNet antonyms, as indexes in the same topic list
}

// wordNetHeadword keeps WordNet sampling to ordinary lower-case words and two-word compounds,
// leaving out proper nouns, numbers and Latin taxon names.
var wordNetHeadword = regexp.MustCompile(`^[a-z]+(?:[ -][a-z]+)?$`)

// topicSet is one dictionary's topics in headword order with a lookup by lower-cased key.
type topicSet struct {
	Topics []topic
	ByKey  map[string]int
}

func (s *topicSet) lookup(word string) (int, bool) {
	i, ok := s.ByKey[strings.ToLower(collapseSpace(word))]
	return i, ok
}

// wordNetTopics builds a topic for every WordNet article with a gloss. Related and Antonyms
// point at other WordNet topics only when those pass the headword filter too, so follow-up
// questions stay on ordinary words.
func wordNetTopics(articles []article) *topicSet {
	set := &topicSet{ByKey: make(map[string]int)}
	var senses [][]wordNetSense
	for _, a := range articles {
		if !wordNetHeadword.MatchString(a.Headword) {
			continue
		}
		ss := parseWordNet(a.Text)
		if len(ss) == 0 {
			continue
		}
		t := topic{Source: sourceWordNet, Headword: a.Headword}
		t.Answer = capWords(wordNetAnswer(ss), maxAnswerWords)
		t.FirstSentence = sentenceCase(ss[0].Gloss)
		t.Sentences = len(splitSentences(t.Answer))
		for _, s := range ss {
			for _, ex := range s.Examples {
				if mentions(ex, t.Headword) {
					t.Examples = append(t.Examples, ex)
				}
			}
		}
		registerTopic(set, t, a.Keys)
		senses = append(senses, ss)
	}
	for i := range set.Topics {
		t := &set.Topics[i]
		for _, s := range senses[i] {
			t.Related = appendRelated(set, t.Related, i, s.Synonyms)
			t.Antonyms = appendRelated(set, t.Antonyms, i, s.Antonyms)
		}
	}
	return set
}

// wordNetAnswer is a single sense as a sentence, or a numbered list naming each part of speech.
func wordNetAnswer(senses []wordNetSense) string {
	if len(senses) == 1 {
		return sentenceCase(senses[0].Gloss)
	}
	if len(senses) > maxWordNetSenses {
		senses = senses[:maxWordNetSenses]
	}
	lines := make([]string, len(senses))
	for i, s := range senses {
		lines[i] = fmt.Sprintf("%d. (%s) %s", i+1, s.PartOfSpeech, sentenceCase(s.Gloss))
	}
	return strings.Join(lines, "\n")
}

// mentions reports whether an example uses the headword, allowing inflections: WordNet gives
// each sense the examples of its whole synset, so "noisome" comes with "a foul odor".
func mentions(example, headword string) bool {
	example = strings.ToLower(example)
	for _, w := range strings.Fields(strings.ToLower(headword)) {
		stem := w
		if len(w) > 4 {
			stem = w[:max(4, len(w)-2)]
		}
		if !strings.Contains(example, stem) {
			return false
		}
	}
	return true
}

// foldocTopics builds a topic for every FOLDOC article with prose left after cleaning. It
// leaves out Debian's appendix (Dictionary.debian, under its own licence), which the package
// appends to foldoc.dict with a different margin.
func foldocTopics(articles []article) *topicSet {
	set := &topicSet{ByKey: make(map[string]int)}
	var refs [][]string
	for _, a := range articles {
		if !hasFOLDOCMargin(a.Text) {
			continue
		}
		fa := parseFOLDOC(a.Text)
		answer := strings.Join(fa.Paragraphs, "\n")
		if fa.HasCode || wordCount(answer) < 4 {
			continue
		}
		t := topic{Source: sourceFOLDOC, Headword: a.Headword}
		t.Answer = capWords(answer, maxAnswerWords)
		sentences := splitSentences(t.Answer)
		t.Sentences = len(sentences)
		t.FirstSentence = foldocSenseNumber.ReplaceAllString(sentences[0], "")
		registerTopic(set, t, a.Keys)
		refs = append(refs, fa.References)
	}
	for i := range set.Topics {
		set.Topics[i].Related = appendRelated(set, nil, i, refs[i])
	}
	return set
}

func registerTopic(set *topicSet, t topic, keys []string) {
	i := len(set.Topics)
	set.Topics = append(set.Topics, t)
	for _, k := range append([]string{t.Headword}, keys...) {
		k = strings.ToLower(collapseSpace(k))
		if _, taken := set.ByKey[k]; !taken {
			set.ByKey[k] = i
		}
	}
}

// hasFOLDOCMargin reports whether an article's body starts at FOLDOC's three-space margin.
func hasFOLDOCMargin(text string) bool {
	for _, line := range bodyLines(text) {
		if strings.TrimSpace(line) != "" {
			return strings.HasPrefix(line, "   ") && !unicode.IsSpace(rune(line[3]))
		}
	}
	return false
}

// appendRelated resolves words to topic indexes, skipping self, unknown words and repeats.
func appendRelated(set *topicSet, related []int, self int, words []string) []int {
	for _, w := range words {
		j, ok := set.lookup(w)
		if !ok || j == self || slices.Contains(related, j) || set.Topics[j].Answer == set.Topics[self].Answer {
			continue
		}
		related = append(related, j)
	}
	return related
}
