package data

import (
	"fmt"
	"math/bits"
	"math/rand/v2"
	"slices"
	"strings"
	"unicode/utf8"
)

// Skip reasons, the keys of Stats.Skipped.
const (
	SkipEmptyMessages   = "empty messages"
	SkipNoAssistantTurn = "no assistant turn"
	SkipUnknownRole     = "unknown role"
	SkipEmptyPrompt     = "empty prompt"
	SkipEmptyResponse   = "empty response"
	SkipEmptyChosen     = "empty chosen"
	SkipEmptyRejected   = "empty rejected"
	SkipSameResponses   = "chosen equals rejected"
	SkipInvalidUTF8     = "invalid UTF-8"
	SkipBadTranscript   = "bad transcript"
	SkipPromptMismatch  = "prompt mismatch"
)

// layout is a resolved schema: which column holds what, "" for unused ones.
type layout struct {
	schema                                     string
	messages, prompt, response, chosen, reject string
}

// pairs reports whether rows carry a rejected response.
func (l *layout) pairs() bool { return l.reject != "" }

// columns lists the columns the layout reads.
func (l *layout) columns() []string {
	var cols []string
	for _, c := range []string{l.messages, l.prompt, l.response, l.chosen, l.reject} {
		if c != "" {
			cols = append(cols, c)
		}
	}
	return cols
}

// resolveLayout picks the schema (detecting it from the columns when asked to) and checks
// that its columns exist.
func resolveLayout(path string, have []string, opt Options) (layout, error) {
	has := func(c string) bool { return slices.Contains(have, c) }
	schema := opt.Schema
	if schema == SchemaAuto {
		switch {
		case has(opt.MessagesColumn):
			schema = SchemaUltraChat
		case has(opt.ChosenColumn) && has(opt.RejectedColumn) && has(opt.PromptColumn):
			schema = SchemaPromptChosenRejected
		case has(opt.ChosenColumn) && has(opt.RejectedColumn):
			schema = SchemaHH
		case has(opt.PromptColumn) && has(opt.ResponseColumn):
			schema = SchemaPromptResponse
		default:
			return layout{}, fileError(path, "", fmt.Errorf(
				"no known schema in columns (have: %s); want %s (UltraChat), %s+%s (HH), %s+%s+%s, or %s+%s; pass --schema and the --*-column flags",
				strings.Join(have, ", "), opt.MessagesColumn, opt.ChosenColumn, opt.RejectedColumn,
				opt.PromptColumn, opt.ChosenColumn, opt.RejectedColumn, opt.PromptColumn, opt.ResponseColumn))
		}
	}
	l := layout{schema: schema}
	type need struct {
		dst  *string
		name string
		flag string
	}
	var needs []need
	switch schema {
	case SchemaUltraChat:
		needs = []need{{&l.messages, opt.MessagesColumn, "messages"}}
	case SchemaHH:
		needs = []need{{&l.chosen, opt.ChosenColumn, "chosen"}, {&l.reject, opt.RejectedColumn, "rejected"}}
	case SchemaPromptResponse:
		needs = []need{{&l.prompt, opt.PromptColumn, "prompt"}, {&l.response, opt.ResponseColumn, "response"}}
	case SchemaPromptChosenRejected:
		needs = []need{{&l.prompt, opt.PromptColumn, "prompt"}, {&l.chosen, opt.ChosenColumn, "chosen"}, {&l.reject, opt.RejectedColumn, "rejected"}}
	}
	for _, n := range needs {
		if !has(n.name) {
			return layout{}, fileError(path, n.name, fmt.Errorf("column %q not found (have: %s); pass --%s-column or --schema",
				n.name, strings.Join(have, ", "), n.flag))
		}
		*n.dst = n.name
	}
	return l, nil
}

// rawRow is one row as a source read it, before the schema gives it meaning. Null text
// reads as "".
type rawRow struct {
	row      int64
	line     int64 // 1-based JSONL line, 0 for other formats
	messages []Message
	prompt   string
	response string
	chosen   string
	rejected string
	// invalidUTF8 is set by sources that must check encoding before decoding (JSON decoding
	// would silently replace bad bytes).
	invalidUTF8 bool
}

// item is a usable row: an Example, or a Pair when rejected is set.
type item struct {
	prompt             []Message
	response, rejected string
	pos                Position
}

func (it item) example() Example {
	return Example{Prompt: it.prompt, Response: it.response, Pos: it.pos}
}

func (it item) pair() Pair {
	return Pair{Prompt: it.prompt, Chosen: it.response, Rejected: it.rejected, Pos: it.pos}
}

// convert gives a raw row its schema's meaning, or says why it is skipped.
func (l *layout) convert(raw *rawRow, file string, seed uint64) (item, string) {
	if raw.invalidUTF8 || !raw.validUTF8() {
		return item{}, SkipInvalidUTF8
	}
	it := item{pos: Position{File: file, Row: raw.row}}
	var reason string
	switch l.schema {
	case SchemaUltraChat:
		it.prompt, it.response, reason = pickTurn(raw.messages, seed, raw.row)
	case SchemaPromptResponse:
		it.prompt = []Message{{Role: RoleUser, Content: raw.prompt}}
		it.response = raw.response
		if blank(raw.prompt) {
			reason = SkipEmptyPrompt
		} else if blank(raw.response) {
			reason = SkipEmptyResponse
		}
	case SchemaHH:
		it.prompt, it.response, it.rejected, reason = splitHHPair(raw.chosen, raw.rejected)
	case SchemaPromptChosenRejected:
		it.prompt, it.response, it.rejected, reason = promptPair(raw.prompt, raw.chosen, raw.rejected)
	}
	if reason != "" {
		return item{}, reason
	}
	return it, ""
}

func (raw *rawRow) validUTF8() bool {
	for _, m := range raw.messages {
		if !utf8.ValidString(m.Role) || !utf8.ValidString(m.Content) {
			return false
		}
	}
	return utf8.ValidString(raw.prompt) && utf8.ValidString(raw.response) &&
		utf8.ValidString(raw.chosen) && utf8.ValidString(raw.rejected)
}

func blank(s string) bool { return strings.TrimSpace(s) == "" }

// pickTurn makes one Example of a conversation: a random assistant turn, chosen by a
// generator keyed by (seed, row) so that the choice does not depend on the order rows are
// read in, is the response and the dialogue before it the prompt. Only turns with text and
// something before them qualify.
func pickTurn(msgs []Message, seed uint64, row int64) ([]Message, string, string) {
	if len(msgs) == 0 {
		return nil, "", SkipEmptyMessages
	}
	var candidates []int
	assistants, empty := 0, 0
	textBefore := false
	for i, m := range msgs {
		switch m.Role {
		case RoleAssistant:
			assistants++
			switch {
			case blank(m.Content):
				empty++
			case textBefore:
				candidates = append(candidates, i)
			}
		case RoleUser, RoleSystem:
		default:
			return nil, "", SkipUnknownRole
		}
		textBefore = textBefore || !blank(m.Content)
	}
	switch {
	case assistants == 0:
		return nil, "", SkipNoAssistantTurn
	case len(candidates) == 0 && empty == assistants:
		return nil, "", SkipEmptyResponse
	case len(candidates) == 0:
		return nil, "", SkipEmptyPrompt
	}
	pcg := rand.NewPCG(mix64(seed^turnStream), mix64(uint64(row)))
	i := candidates[boundedRand(pcg, len(candidates))]
	// A copy, so that the turns after the response are not kept alive in a shuffle buffer.
	return slices.Clone(msgs[:i]), msgs[i].Content, ""
}

// splitHHPair splits chosen and rejected HH transcripts into their shared prompt and the
// two final responses.
func splitHHPair(chosen, rejected string) ([]Message, string, string, string) {
	if blank(chosen) {
		return nil, "", "", SkipEmptyChosen
	}
	if blank(rejected) {
		return nil, "", "", SkipEmptyRejected
	}
	prompt, chosenResponse, err := SplitTranscript(chosen)
	if err != nil {
		return nil, "", "", SkipBadTranscript
	}
	rejectedPrompt, rejectedResponse, err := SplitTranscript(rejected)
	if err != nil {
		return nil, "", "", SkipBadTranscript
	}
	if !slices.Equal(prompt, rejectedPrompt) {
		return nil, "", "", SkipPromptMismatch
	}
	// The rejected response is copied out of its transcript, so that a shuffle buffer does
	// not hold a second copy of the prompt.
	return checkPair(prompt, chosenResponse, strings.Clone(rejectedResponse))
}

// promptPair reads an explicit prompt column, plain text or a transcript, and two
// responses, each plain or a whole transcript whose last turn is taken. When the prompt
// is a transcript, its trailing "\n\nAssistant:" cue is dropped and the responses are
// trimmed like transcript turns.
func promptPair(promptText, chosen, rejected string) ([]Message, string, string, string) {
	if blank(promptText) {
		return nil, "", "", SkipEmptyPrompt
	}
	var prompt []Message
	trim := looksLikeTranscript(promptText)
	if trim {
		turns, err := parseTranscript(promptText)
		if err != nil {
			return nil, "", "", SkipBadTranscript
		}
		if last := turns[len(turns)-1]; last.Role == RoleAssistant && last.Content == "" {
			turns = turns[:len(turns)-1]
		}
		prompt = turns
	} else {
		prompt = []Message{{Role: RoleUser, Content: promptText}}
	}
	response := func(s string) (string, bool) {
		if looksLikeTranscript(s) {
			_, r, err := SplitTranscript(s)
			return r, err == nil
		}
		if trim {
			return strings.TrimSpace(s), true
		}
		return s, true
	}
	c, okChosen := response(chosen)
	r, okRejected := response(rejected)
	if !okChosen || !okRejected {
		return nil, "", "", SkipBadTranscript
	}
	return checkPair(prompt, c, r)
}

func checkPair(prompt []Message, chosen, rejected string) ([]Message, string, string, string) {
	switch {
	case len(prompt) == 0 || allBlank(prompt):
		return nil, "", "", SkipEmptyPrompt
	case blank(chosen):
		return nil, "", "", SkipEmptyChosen
	case blank(rejected):
		return nil, "", "", SkipEmptyRejected
	case chosen == rejected:
		return nil, "", "", SkipSameResponses
	}
	return prompt, chosen, rejected, ""
}

func allBlank(msgs []Message) bool {
	for _, m := range msgs {
		if !blank(m.Content) {
			return false
		}
	}
	return true
}

// Streams of the generators keyed by Options.Seed, so that the turn choice, the shuffle
// and the row-group order never share random numbers.
const (
	turnStream    = 0x7475726e // "turn"
	shuffleStream = 0x73687566 // "shuf"
	chunkStream   = 0x6368756e // "chun"
)

// mix64 is SplitMix64's finalizer: it spreads nearby seeds (rows 1, 2, 3...) over all bits.
func mix64(x uint64) uint64 {
	x += 0x9e3779b97f4a7c15
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9
	x = (x ^ (x >> 27)) * 0x94d049bb133111eb
	return x ^ (x >> 31)
}

// boundedRand returns a number in [0, n) by Lemire's multiply-shift. It relies only on
// PCG's specified output, not on math/rand's helpers, so that shuffles and turn choices
// stay the same across Go releases. The bias, n/2^64, is far below anything measurable.
func boundedRand(pcg *rand.PCG, n int) int {
	hi, _ := bits.Mul64(pcg.Uint64(), uint64(n))
	return int(hi)
}
