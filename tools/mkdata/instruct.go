package main

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"math/rand/v2"
	"unicode"
	"unicode/utf8"
)

// Roles of the UltraChat messages column.
const (
	roleUser      = "user"
	roleAssistant = "assistant"
)

// message is one turn of an UltraChat conversation.
type message struct {
	Role    string `json:"role"`
	Content string `json:"content"`
}

// conversation is one row of the UltraChat schema.
type conversation struct {
	Prompt   string    `json:"prompt"`
	PromptID string    `json:"prompt_id"`
	Messages []message `json:"messages"`
}

// promptID is UltraChat's prompt_id: the hex SHA-256 of the prompt.
func promptID(prompt string) string {
	sum := sha256.Sum256([]byte(prompt))
	return hex.EncodeToString(sum[:])
}

// Question templates; %s is the headword. WordNet quotes the word, FOLDOC asks about computing.
var (
	wordNetQuestions = []string{
		"What does '%s' mean?",
		"Define %s.",
		"What is the meaning of the word \"%s\"?",
		"Can you explain what \"%s\" means?",
		"Give me a short definition of '%s'.",
		"What is meant by %s?",
	}
	foldocQuestions = []string{
		"What is %s in computing?",
		"Define %s.",
		"What does %s mean in computing?",
		"Explain the term \"%s\".",
		"Can you tell me what %s is?",
		"What does the computing term '%s' refer to?",
	}
	exampleQuestions = []string{
		"Give an example of '%s' in a sentence.",
		"Can you use \"%s\" in a sentence?",
		"How is '%s' used in a sentence?",
	}
	relatedQuestions = []string{
		"What about '%s'?",
		"And what does '%s' mean?",
		"How would you define '%s'?",
	}
	crossReferenceQuestions = []string{
		"And what is %s?",
		"You mentioned %s. What is that?",
		"How about %s?",
	}
	antonymQuestions = []string{
		"What is the opposite of '%s'?",
		"What is an antonym of '%s'?",
	}
)

// Seed streams: each output file draws from its own PCG stream of the -seed value, so adding
// rows to one file leaves the others unchanged.
const (
	streamInstruct uint64 = iota + 1
	streamPrefsRelevant
	streamPrefsConcise
)

// Instruct set shape: about 3200 rows, one in five of them multi-turn.
const (
	instructWordNetRows  = 2250
	instructFOLDOCRows   = 950
	multiTurnProbability = 0.33 // of topics that have a follow-up, about 60%
	thirdTurnProbability = 0.3
)

func questionTemplates(source string) []string {
	if source == sourceFOLDOC {
		return foldocQuestions
	}
	return wordNetQuestions
}

// followUp is one optional second or third turn.
type followUp func(rng *rand.Rand) turnPair

// turnPair is a user question and its assistant answer.
type turnPair struct{ Question, Answer string }

// buildInstruct samples headwords without replacement from both dictionaries and turns each
// into a conversation: a definition question, and for some a follow-up asking for an example,
// a synonym, an antonym or a cross-referenced term.
func buildInstruct(seed uint64, wn, fo *topicSet) []conversation {
	rng := rand.New(rand.NewPCG(seed, streamInstruct))
	type pick struct {
		set   *topicSet
		index int
	}
	var picks []pick
	for _, i := range sampleIndexes(rng, len(wn.Topics), instructWordNetRows) {
		picks = append(picks, pick{wn, i})
	}
	for _, i := range sampleIndexes(rng, len(fo.Topics), instructFOLDOCRows) {
		picks = append(picks, pick{fo, i})
	}
	rng.Shuffle(len(picks), func(i, j int) { picks[i], picks[j] = picks[j], picks[i] })

	seen := make(map[string]bool)
	var rows []conversation
	for _, p := range picks {
		t := p.set.Topics[p.index]
		question, ok := uniqueQuestion(rng, questionTemplates(t.Source), t.Headword, seen)
		if !ok {
			continue
		}
		msgs := []message{{roleUser, question}, {roleAssistant, t.Answer}}
		if rng.Float64() < multiTurnProbability {
			options := followUps(p.set, p.index)
			rng.Shuffle(len(options), func(i, j int) { options[i], options[j] = options[j], options[i] })
			turns := 1
			if rng.Float64() < thirdTurnProbability {
				turns = 2
			}
			for _, f := range options[:min(turns, len(options))] {
				qa := f(rng)
				msgs = append(msgs, message{roleUser, qa.Question}, message{roleAssistant, qa.Answer})
			}
		}
		rows = append(rows, conversation{Prompt: question, PromptID: promptID(question), Messages: msgs})
	}
	return rows
}

// uniqueQuestion picks a template at random and, if that question was already asked (WordNet
// and FOLDOC share headwords), tries the next ones so prompt_id stays unique.
func uniqueQuestion(rng *rand.Rand, templates []string, headword string, seen map[string]bool) (string, bool) {
	first := rng.IntN(len(templates))
	for k := range templates {
		q := fmt.Sprintf(templates[(first+k)%len(templates)], headword)
		if !seen[q] {
			seen[q] = true
			return q, true
		}
	}
	return "", false
}

// followUps lists the follow-up turns a topic supports, in a fixed order.
func followUps(set *topicSet, index int) []followUp {
	t := set.Topics[index]
	var out []followUp
	if len(t.Examples) > 0 {
		out = append(out, func(rng *rand.Rand) turnPair {
			return turnPair{
				Question: fmt.Sprintf(exampleQuestions[rng.IntN(len(exampleQuestions))], t.Headword),
				Answer:   exampleAnswer(rng, t.Examples),
			}
		})
	}
	if len(t.Related) > 0 {
		templates := relatedQuestions
		if t.Source == sourceFOLDOC {
			templates = crossReferenceQuestions
		}
		out = append(out, func(rng *rand.Rand) turnPair {
			r := set.Topics[t.Related[rng.IntN(len(t.Related))]]
			return turnPair{Question: fmt.Sprintf(templates[rng.IntN(len(templates))], r.Headword), Answer: r.Answer}
		})
	}
	if len(t.Antonyms) > 0 {
		out = append(out, func(rng *rand.Rand) turnPair {
			a := set.Topics[t.Antonyms[rng.IntN(len(t.Antonyms))]]
			return turnPair{
				Question: fmt.Sprintf(antonymQuestions[rng.IntN(len(antonymQuestions))], t.Headword),
				Answer:   fmt.Sprintf("An antonym of '%s' is '%s': %s", t.Headword, a.Headword, lowerFirst(a.FirstSentence)),
			}
		})
	}
	return out
}

// exampleAnswer quotes one or two WordNet usage examples.
func exampleAnswer(rng *rand.Rand, examples []string) string {
	first := rng.IntN(len(examples))
	if len(examples) > 1 && rng.IntN(2) == 0 {
		second := (first + 1 + rng.IntN(len(examples)-1)) % len(examples)
		return fmt.Sprintf("Here are two examples: \"%s\" and \"%s\".", examples[first], examples[second])
	}
	templates := []string{"For example: \"%s\".", "Here is an example: \"%s\".", "One way to use it: \"%s\"."}
	return fmt.Sprintf(templates[rng.IntN(len(templates))], examples[first])
}

// lowerFirst lower-cases a capital that sentenceCase added, leaving acronyms such as "DNA" alone.
func lowerFirst(s string) string {
	r, n := utf8.DecodeRuneInString(s)
	next, _ := utf8.DecodeRuneInString(s[n:])
	if !unicode.IsUpper(r) || unicode.IsUpper(next) {
		return s
	}
	return string(unicode.ToLower(r)) + s[n:]
}

// sampleIndexes draws k of 0..n-1 without replacement (all of them, shuffled, if k >= n).
func sampleIndexes(rng *rand.Rand, n, k int) []int {
	perm := rng.Perm(n)
	return perm[:min(k, n)]
}
