package data

import (
	"fmt"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestSplitTranscript(t *testing.T) {
	for _, tc := range []struct {
		name     string
		in       string
		prompt   []Message
		response string
		err      string
	}{
		{name: "one exchange", in: "\n\nHuman: Hi there\n\nAssistant: Hello!",
			prompt: []Message{user("Hi there")}, response: "Hello!"},
		{name: "several turns", in: "\n\nHuman: a\n\nAssistant: b\n\nHuman: c\n\nAssistant: d",
			prompt: []Message{user("a"), assistant("b"), user("c")}, response: "d"},
		{name: "no leading newlines", in: "Human: a\n\nAssistant: b",
			prompt: []Message{user("a")}, response: "b"},
		{name: "leading white space", in: " \n\n\nHuman: a\n\nAssistant: b",
			prompt: []Message{user("a")}, response: "b"},
		{name: "turns are trimmed", in: "\n\nHuman:   a \n\n\n\nAssistant:  b  \n",
			prompt: []Message{user("a")}, response: "b"},
		{name: "multi-line turns", in: "\n\nHuman: line 1\nline 2\n\nstill human\n\nAssistant: x\n\ny",
			prompt: []Message{user("line 1\nline 2\n\nstill human")}, response: "x\n\ny"},
		{name: "markers need their colon", in: "\n\nHuman: say \n\nHuman or \n\nAssistant\n\nAssistant: ok",
			prompt: []Message{user("say \n\nHuman or \n\nAssistant")}, response: "ok"},
		{name: "empty response", in: "\n\nHuman: a\n\nAssistant:",
			prompt: []Message{user("a")}, response: ""},
		{name: "no prompt", in: "\n\nAssistant: b",
			prompt: []Message{}, response: "b"},
		{name: "ends with human", in: "\n\nHuman: a\n\nAssistant: b\n\nHuman: c",
			err: `transcript ends with a "Human:" turn`},
		{name: "no turns", in: "just some text", err: `no "Human:" or "Assistant:" turn`},
		{name: "empty", in: "", err: `no "Human:" or "Assistant:" turn`},
		{name: "text before first turn", in: "preamble\n\nHuman: a\n\nAssistant: b", err: "text before the first"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			prompt, response, err := SplitTranscript(tc.in)
			if tc.err != "" {
				require.ErrorContains(t, err, tc.err)
				return
			}
			require.NoError(t, err)
			if len(tc.prompt) == 0 {
				require.Empty(t, prompt)
			} else {
				require.Equal(t, tc.prompt, prompt)
			}
			require.Equal(t, tc.response, response)
		})
	}
}

func TestFormatTranscript(t *testing.T) {
	require.Equal(t, "\n\nHuman: a\n\nAssistant: b\n\nHuman: c\n\nAssistant: d",
		FormatTranscript([]Message{user("a"), assistant("b"), user("c")}, "d"))
}

// FuzzSplitTranscript checks that splitting never panics and that what it returns is
// canonical: formatting it gives a transcript that splits back to the same, and that is
// the input itself when the input was already canonical.
func FuzzSplitTranscript(f *testing.F) {
	for _, s := range []string{
		"\n\nHuman: Hi there\n\nAssistant: Hello!",
		"\n\nHuman: a\n\nAssistant: b\n\nHuman: c\n\nAssistant: d",
		"Human: a\n\nAssistant: b",
		"\n\nHuman:   a \n\n\n\nAssistant:  b  \n",
		"\n\nHuman: say \n\nHuman or \n\nAssistant\n\nAssistant: ok",
		"\n\nAssistant:",
		"\n\nHuman: a\n\nAssistant: b\n\nHuman: c",
		"preamble\n\nHuman: a\n\nAssistant: b",
		"\n\nHuman: \xff\xfe\n\nAssistant: \u0085x\u00a0",
		"",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		prompt, response, err := SplitTranscript(s)
		if err != nil {
			return
		}
		for _, m := range prompt {
			if m.Role != RoleUser && m.Role != RoleAssistant {
				t.Fatalf("role %q", m.Role)
			}
			checkTurn(t, m.Content, s)
		}
		checkTurn(t, response, s)

		canonical := FormatTranscript(prompt, response)
		prompt2, response2, err := SplitTranscript(canonical)
		if err != nil {
			t.Fatalf("canonical form %q of %q does not split: %v", canonical, s, err)
		}
		if !equalMessages(prompt, prompt2) || response != response2 {
			t.Fatalf("%q -> (%q, %q) -> %q -> (%q, %q)", s, prompt, response, canonical, prompt2, response2)
		}
		if FormatTranscript(prompt2, response2) != canonical {
			t.Fatalf("canonical form of %q is not stable", s)
		}
	})
}

// checkTurn holds for every turn: it is trimmed, holds no turn marker and comes from the
// input.
func checkTurn(t *testing.T, turn, input string) {
	t.Helper()
	if strings.TrimSpace(turn) != turn {
		t.Fatalf("turn %q is not trimmed", turn)
	}
	if strings.Contains(turn, humanMarker) || strings.Contains(turn, assistantMarker) {
		t.Fatalf("turn %q holds a marker", turn)
	}
	if !strings.Contains(input, turn) {
		t.Fatalf("turn %q is not in the input %q", turn, input)
	}
}

func equalMessages(a, b []Message) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func ExampleSplitTranscript() {
	prompt, response, err := SplitTranscript("\n\nHuman: What is a gnu?\n\nAssistant: An antelope.\n\nHuman: Where does it live?\n\nAssistant: In Africa.")
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, m := range prompt {
		fmt.Printf("%s: %s\n", m.Role, m.Content)
	}
	fmt.Println("response:", response)
	// Output:
	// user: What is a gnu?
	// assistant: An antelope.
	// user: Where does it live?
	// response: In Africa.
}
