package main

import (
	"fmt"
	"math/rand/v2"
	"regexp"
	"slices"
	"strings"
)

// preference is one row of the Anthropic HH-RLHF schema: two transcripts that share the
// prompt and differ in the final assistant answer.
type preference struct {
	Chosen   string `json:"chosen"`
	Rejected string `json:"rejected"`
}

// Preference set sizes per dictionary.
const (
	relevantWordNetRows = 750
	relevantFOLDOCRows  = 350
	conciseWordNetRows  = 650
	conciseFOLDOCRows   = 450
)

// conciseQuestions ask for brevity, so that the one-sentence answer is the better one.
var conciseQuestions = []string{
	"Briefly, what does '%s' mean?",
	"In one sentence, what is %s?",
	"Give me a quick definition of '%s'.",
	"What is %s? Keep it short.",
	"Define %s in a sentence.",
}

// blankLines matches a paragraph break, which inside a turn would look like a turn separator.
var blankLines = regexp.MustCompile(`\n\s*\n`)

// hhTranscript formats a single exchange as HH-RLHF does: "\n\nHuman: q\n\nAssistant: a".
// Blank lines inside either text are reduced to one newline so that "\n\n" only ever
// separates turns.
func hhTranscript(question, answer string) string {
	clean := func(s string) string { return blankLines.ReplaceAllString(strings.TrimSpace(s), "\n") }
	return "\n\nHuman: " + clean(question) + "\n\nAssistant: " + clean(answer)
}

// buildRelevantPrefs pairs each sampled headword's definition (chosen) with the definition of
// a different headword from the same dictionary (rejected), never a synonym or antonym.
func buildRelevantPrefs(seed uint64, wn, fo *topicSet) []preference {
	rng := rand.New(rand.NewPCG(seed, streamPrefsRelevant))
	var rows []preference
	for _, part := range []struct {
		set  *topicSet
		rows int
	}{{wn, relevantWordNetRows}, {fo, relevantFOLDOCRows}} {
		for _, i := range sampleIndexes(rng, len(part.set.Topics), part.rows) {
			t := part.set.Topics[i]
			other := part.set.Topics[unrelatedTopic(rng, part.set, i)]
			question := fmt.Sprintf(pickTemplate(rng, questionTemplates(t.Source)), t.Headword)
			rows = append(rows, preference{
				Chosen:   hhTranscript(question, t.Answer),
				Rejected: hhTranscript(question, other.Answer),
			})
		}
	}
	rng.Shuffle(len(rows), func(i, j int) { rows[i], rows[j] = rows[j], rows[i] })
	return rows
}

// unrelatedTopic draws a topic whose answer could not also be right for topic i.
func unrelatedTopic(rng *rand.Rand, set *topicSet, i int) int {
	t := set.Topics[i]
	for {
		j := rng.IntN(len(set.Topics))
		o := set.Topics[j]
		if j != i && o.Answer != t.Answer && !strings.EqualFold(o.Headword, t.Headword) &&
			!slices.Contains(t.Related, j) && !slices.Contains(t.Antonyms, j) && !slices.Contains(o.Related, i) {
			return j
		}
	}
}

// buildConcisePrefs prefers the first sentence of a multi-sentence definition (chosen) over the
// whole definition (rejected), under questions that ask for a short answer.
func buildConcisePrefs(seed uint64, wn, fo *topicSet) []preference {
	rng := rand.New(rand.NewPCG(seed, streamPrefsConcise))
	var rows []preference
	for _, part := range []struct {
		set  *topicSet
		rows int
	}{{wn, conciseWordNetRows}, {fo, conciseFOLDOCRows}} {
		var eligible []int
		for i, t := range part.set.Topics {
			if t.Sentences >= 2 && t.FirstSentence != "" && t.FirstSentence != t.Answer {
				eligible = append(eligible, i)
			}
		}
		for _, k := range sampleIndexes(rng, len(eligible), part.rows) {
			t := part.set.Topics[eligible[k]]
			question := fmt.Sprintf(pickTemplate(rng, conciseQuestions), t.Headword)
			rows = append(rows, preference{
				Chosen:   hhTranscript(question, t.FirstSentence),
				Rejected: hhTranscript(question, t.Answer),
			})
		}
	}
	rng.Shuffle(len(rows), func(i, j int) { rows[i], rows[j] = rows[j], rows[i] })
	return rows
}

func pickTemplate(rng *rand.Rand, templates []string) string {
	return templates[rng.IntN(len(templates))]
}
