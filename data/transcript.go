package data

import (
	"errors"
	"strings"
)

// The turn markers of Anthropic's HH-RLHF transcripts.
const (
	humanMarker     = "\n\nHuman:"
	assistantMarker = "\n\nAssistant:"
)

// SplitTranscript splits an HH-RLHF transcript ("\n\nHuman: ...\n\nAssistant: ...") into the
// dialogue before its last turn and that turn, which must be the assistant's. Human turns
// become "user" messages. Each turn is trimmed of surrounding white space, the form
// FormatTranscript writes; the leading "\n\n" may be missing.
//
// A transcript with no turn, with text before its first turn, or whose last turn is the
// human's is an error. An empty prompt or response is not: callers decide what to do with
// those.
func SplitTranscript(s string) (prompt []Message, response string, err error) {
	turns, err := parseTranscript(s)
	if err != nil {
		return nil, "", err
	}
	last := turns[len(turns)-1]
	if last.Role != RoleAssistant {
		return nil, "", errors.New(`transcript ends with a "Human:" turn, want an "Assistant:" turn last`)
	}
	return turns[: len(turns)-1 : len(turns)-1], last.Content, nil
}

// FormatTranscript writes messages in the HH-RLHF transcript form that SplitTranscript
// reads back: "\n\nHuman: " before user turns, "\n\nAssistant: " before assistant turns.
// System messages have no HH marker and are written as human turns.
func FormatTranscript(prompt []Message, response string) string {
	var b strings.Builder
	for _, m := range prompt {
		if m.Role == RoleAssistant {
			b.WriteString(assistantMarker)
		} else {
			b.WriteString(humanMarker)
		}
		b.WriteByte(' ')
		b.WriteString(m.Content)
	}
	b.WriteString(assistantMarker)
	b.WriteByte(' ')
	b.WriteString(response)
	return b.String()
}

// looksLikeTranscript reports whether a prompt or response column holds an HH transcript
// rather than plain text.
func looksLikeTranscript(s string) bool {
	t := strings.TrimLeft(s, " \t\r\n")
	return strings.HasPrefix(t, "Human:") || strings.HasPrefix(t, "Assistant:") ||
		strings.Contains(s, humanMarker) || strings.Contains(s, assistantMarker)
}

// parseTranscript returns every turn of a transcript, at least one.
func parseTranscript(s string) ([]Message, error) {
	s = "\n\n" + strings.TrimLeft(s, " \t\r\n")
	pos, role, width := nextTurn(s, 0)
	switch {
	case pos < 0:
		return nil, errors.New(`no "Human:" or "Assistant:" turn in transcript`)
	case pos > 0:
		return nil, errors.New(`text before the first "Human:" or "Assistant:" turn of transcript`)
	}
	var turns []Message
	for pos >= 0 {
		start := pos + width
		next, nextRole, nextWidth := nextTurn(s, start)
		end := next
		if end < 0 {
			end = len(s)
		}
		turns = append(turns, Message{Role: role, Content: strings.TrimSpace(s[start:end])})
		pos, role, width = next, nextRole, nextWidth
	}
	return turns, nil
}

// nextTurn finds the first turn marker at or after from: its offset, role and length, or
// -1 when there is none.
func nextTurn(s string, from int) (pos int, role string, width int) {
	for from < len(s) {
		i := strings.Index(s[from:], "\n\n")
		if i < 0 {
			break
		}
		p := from + i
		switch {
		case strings.HasPrefix(s[p:], humanMarker):
			return p, RoleUser, len(humanMarker)
		case strings.HasPrefix(s[p:], assistantMarker):
			return p, RoleAssistant, len(assistantMarker)
		}
		from = p + 1
	}
	return -1, "", 0
}
