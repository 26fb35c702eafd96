package data

import (
	"bytes"
	"compress/gzip"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"
)

var formats = []string{"parquet", "jsonl", "arrow-file", "arrow-stream"}

func TestUltraChatEveryFormat(t *testing.T) {
	tb := ultraChat(23)
	paths := writeAll(t, tb, 4)
	var want []Example
	for _, format := range formats {
		t.Run(format, func(t *testing.T) {
			r := openT(t, paths[format], Options{Seed: 7, BatchRows: 3})
			require.Equal(t, SchemaUltraChat, r.Schema())
			require.False(t, r.Pairs())
			got := readAll(t, r)
			require.Len(t, got, len(tb.rows))
			notLast := 0
			for i, ex := range got {
				require.Equal(t, Position{File: paths[format], Row: int64(i)}, ex.Pos)
				conv := tb.rows[i][2].([]Message)
				k := len(ex.Prompt)
				require.Equal(t, conv[:k], ex.Prompt, "the prompt is the dialogue before the response")
				require.Equal(t, assistant(ex.Response), conv[k], "the response is an assistant turn")
				if k != len(conv)-1 {
					notLast++
				}
			}
			require.Positive(t, notLast, "responses are random turns, not always the last")
			require.Equal(t, Stats{Read: 23, Used: 23, Skipped: map[string]int64{}}, r.Stats())
			if want == nil {
				want = withoutFile(got)
			}
			require.Equal(t, want, withoutFile(got), "every format reads the same examples")
		})
	}
}

func TestUltraChatTurnIsKeyedBySeedAndRow(t *testing.T) {
	path := filepath.Join(t.TempDir(), "u.parquet")
	writeParquet(t, path, ultraChat(40), 6)
	first := readAll(t, openT(t, path, Options{Seed: 1}))
	require.Equal(t, first, readAll(t, openT(t, path, Options{Seed: 1})), "same seed, same turns")
	require.NotEqual(t, first, readAll(t, openT(t, path, Options{Seed: 2})), "another seed picks other turns")

	r := openT(t, path, Options{Seed: 1})
	require.NoError(t, r.SeekRow(17))
	require.Equal(t, first[17:], readAll(t, r), "the pick does not depend on where reading starts")
}

func TestReaderSeekRow(t *testing.T) {
	tb := ultraChat(23)
	paths := writeAll(t, tb, 4)
	for _, format := range formats {
		t.Run(format, func(t *testing.T) {
			r := openT(t, paths[format], Options{BatchRows: 3})
			if format == "parquet" {
				require.Equal(t, 6, r.src.chunks(), "23 rows in row groups of 4")
			}
			all := readAll(t, r)
			for _, row := range []int64{5, 0, 22, 4, 12, 11, 23, 40, 1} {
				require.NoError(t, r.SeekRow(row))
				want := all[min(row, int64(len(all))):]
				if len(want) == 0 {
					want = nil
				}
				require.Equal(t, want, readAll(t, r), "seek to row %d", row)
			}
			require.Error(t, r.SeekRow(-1))
		})
	}
}

func TestGzipJSONL(t *testing.T) {
	tb := ultraChat(12)
	dir := t.TempDir()
	plain := filepath.Join(dir, "u.jsonl")
	writeJSONL(t, plain, tb)
	content, err := os.ReadFile(plain)
	require.NoError(t, err)
	var zipped bytes.Buffer
	z := gzip.NewWriter(&zipped)
	_, err = z.Write(content)
	require.NoError(t, err)
	require.NoError(t, z.Close())
	path := filepath.Join(dir, "u.jsonl.gz")
	require.NoError(t, os.WriteFile(path, zipped.Bytes(), 0o644))

	r := openT(t, path, Options{})
	got := readAll(t, r)
	require.Equal(t, withoutFile(readAll(t, openT(t, plain, Options{}))), withoutFile(got))
	require.NoError(t, r.SeekRow(5))
	require.Equal(t, got[5:], readAll(t, r))

	_, err = Open(filepath.Join(dir, "u.parquet.gz"), Options{})
	require.ErrorContains(t, err, "only JSONL files may be gzip-compressed")
}

func TestNumRows(t *testing.T) {
	paths := writeAll(t, ultraChat(9), 4)
	require.Equal(t, int64(9), openT(t, paths["parquet"], Options{}).NumRows())
	require.Equal(t, int64(-1), openT(t, paths["jsonl"], Options{}).NumRows())
}

func hhTranscript(turns ...string) string {
	var prompt []Message
	for i, s := range turns[:len(turns)-1] {
		if i%2 == 0 {
			prompt = append(prompt, user(s))
		} else {
			prompt = append(prompt, assistant(s))
		}
	}
	return FormatTranscript(prompt, turns[len(turns)-1])
}

func TestHHPairs(t *testing.T) {
	tb := table{cols: []string{"chosen", "rejected"}}.
		add(hhTranscript("hi", "hello", "how are you?", "fine, thanks"), hhTranscript("hi", "hello", "how are you?", "go away")).
		add(hhTranscript("hi", "yes"), hhTranscript("bye", "no")).
		add("just text", "more text").
		add(hhTranscript("hi", "yes"), "").
		add(nil, hhTranscript("hi", "no")).
		add(hhTranscript("hi", "same"), hhTranscript("hi", "same")).
		add("\n\nHuman: Why?\n\nAssistant:  Because.  ", "\n\nHuman: Why?\n\nAssistant: No idea")
	for _, format := range formats {
		t.Run(format, func(t *testing.T) {
			path := writeAll(t, tb, 3)[format]
			r := openT(t, path, Options{})
			require.Equal(t, SchemaHH, r.Schema())
			require.True(t, r.Pairs())
			require.Equal(t, []Pair{
				{Prompt: []Message{user("hi"), assistant("hello"), user("how are you?")}, Chosen: "fine, thanks", Rejected: "go away", Pos: Position{path, 0}},
				{Prompt: []Message{user("Why?")}, Chosen: "Because.", Rejected: "No idea", Pos: Position{path, 6}},
			}, readAllPairs(t, r))
			require.Equal(t, map[string]int64{
				SkipPromptMismatch: 1, SkipBadTranscript: 1, SkipEmptyRejected: 1, SkipEmptyChosen: 1, SkipSameResponses: 1,
			}, r.Stats().Skipped)

			// NextExample on pairs reads the chosen responses, for fine-tuning on them.
			exs := readAll(t, openT(t, path, Options{}))
			require.Equal(t, []string{"fine, thanks", "Because."}, []string{exs[0].Response, exs[1].Response})
		})
	}
}

func TestPromptChosenRejected(t *testing.T) {
	tb := table{cols: []string{"prompt", "chosen", "rejected"}}.
		add("\n\nHuman: What is 2+2?\n\nAssistant:", " 4", " 5").
		add("Say hi", " hi", "no").
		add("\n\nHuman: What is 2+2?\n\nAssistant:", "\n\nHuman: What is 2+2?\n\nAssistant: four", " five").
		add("Human: a\n\nAssistant: b\n\nHuman: c", "d", "e").
		add("", "x", "y")
	path := writeAll(t, tb, 2)["parquet"]
	r := openT(t, path, Options{})
	require.Equal(t, SchemaPromptChosenRejected, r.Schema())
	require.Equal(t, []Pair{
		{Prompt: []Message{user("What is 2+2?")}, Chosen: "4", Rejected: "5", Pos: Position{path, 0}},
		{Prompt: []Message{user("Say hi")}, Chosen: " hi", Rejected: "no", Pos: Position{path, 1}},
		{Prompt: []Message{user("What is 2+2?")}, Chosen: "four", Rejected: "five", Pos: Position{path, 2}},
		{Prompt: []Message{user("a"), assistant("b"), user("c")}, Chosen: "d", Rejected: "e", Pos: Position{path, 3}},
	}, readAllPairs(t, r))
	require.Equal(t, map[string]int64{SkipEmptyPrompt: 1}, r.Stats().Skipped)
}

func TestPromptResponseWithRenamedColumns(t *testing.T) {
	tb := table{cols: []string{"id", "question", "answer"}}.
		add("1", "Define ox.", "A bovine.").
		add("2", "Define yak.", "  ").
		add("3", "Define gnu.", "A wildebeest.")
	for _, format := range formats {
		t.Run(format, func(t *testing.T) {
			path := writeAll(t, tb, 2)[format]
			r := openT(t, path, Options{PromptColumn: "question", ResponseColumn: "answer"})
			require.Equal(t, SchemaPromptResponse, r.Schema())
			require.Equal(t, []Example{
				{Prompt: []Message{user("Define ox.")}, Response: "A bovine.", Pos: Position{path, 0}},
				{Prompt: []Message{user("Define gnu.")}, Response: "A wildebeest.", Pos: Position{path, 2}},
			}, readAll(t, r))
			require.Equal(t, map[string]int64{SkipEmptyResponse: 1}, r.Stats().Skipped)
		})
	}
}

func TestNextPairNeedsPairs(t *testing.T) {
	path := writeAll(t, ultraChat(3), 2)["parquet"]
	_, err := openT(t, path, Options{}).NextPair()
	require.ErrorContains(t, err, `schema "ultrachat" has no rejected responses`)
}

func TestUltraChatSkips(t *testing.T) {
	tb := table{cols: []string{"messages"}}.
		add([]Message{user("q"), assistant("a")}).
		add(nil).
		add([]Message{}).
		add([]Message{user("q"), user("q again")}).
		add([]Message{user("q"), assistant("  ")}).
		add([]Message{assistant("unprompted")}).
		add([]Message{user("q"), {Role: "tool", Content: "x"}, assistant("a")}).
		add([]Message{{Role: "User", Content: "Q"}, {Role: "ASSISTANT", Content: "A"}})
	for _, format := range formats {
		t.Run(format, func(t *testing.T) {
			path := writeAll(t, tb, 3)[format]
			r := openT(t, path, Options{})
			require.Equal(t, []Example{
				{Prompt: []Message{user("q")}, Response: "a", Pos: Position{path, 0}},
				{Prompt: []Message{user("Q")}, Response: "A", Pos: Position{path, 7}},
			}, readAll(t, r))
			require.Equal(t, map[string]int64{
				SkipEmptyMessages: 2, SkipNoAssistantTurn: 1, SkipEmptyResponse: 1, SkipEmptyPrompt: 1, SkipUnknownRole: 1,
			}, r.Stats().Skipped)
		})
	}
}

func TestStatsString(t *testing.T) {
	s := Stats{Read: 10, Used: 4, OtherPart: 2, Skipped: map[string]int64{SkipInvalidUTF8: 1, SkipEmptyResponse: 3}}
	require.Equal(t, "10 read, 4 used, 2 in other parts, skipped: 3 empty response, 1 invalid UTF-8", s.String())
	require.Equal(t, int64(4), s.SkippedTotal())
	require.Equal(t, "0 read, 0 used, skipped: none", Stats{}.String())
}

func TestPositionString(t *testing.T) {
	require.Equal(t, "train.parquet:row 12", Position{"train.parquet", 12}.String())
	require.Equal(t, "train.parquet", Position{"train.parquet", -1}.String())
}

func TestReaderEOFRepeats(t *testing.T) {
	path := writeAll(t, ultraChat(2), 2)["jsonl"]
	r := openT(t, path, Options{})
	readAll(t, r)
	for range 2 {
		_, err := r.NextExample()
		require.Equal(t, io.EOF, err)
	}
}

func ExampleOpen() {
	path := filepath.Join("testdata", "chat.jsonl")
	r, err := Open(path, Options{})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer r.Close()
	for {
		ex, err := r.NextExample()
		if err == io.EOF {
			break
		}
		if err != nil {
			fmt.Println(err)
			return
		}
		fmt.Printf("row %d: %d prompt messages, response %q\n", ex.Pos.Row, len(ex.Prompt), ex.Response)
	}
	fmt.Println(r.Stats())
	// Output:
	// row 0: 1 prompt messages, response "A bovine."
	// row 2: 2 prompt messages, response "A wildebeest."
	// 3 read, 2 used, skipped: 1 no assistant turn
}
