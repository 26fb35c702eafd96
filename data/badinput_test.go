package data

import (
	"errors"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/apache/arrow-go/v18/parquet"
	"github.com/apache/arrow-go/v18/parquet/pqarrow"
	"github.com/stretchr/testify/require"
)

// drain reads a file to its end, returning the first error other than io.EOF.
func drain(path string, opt Options) error {
	r, err := Open(path, opt)
	if err != nil {
		return err
	}
	defer r.Close()
	for {
		_, err := r.NextExample()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
	}
}

func requireDataError(t *testing.T, err error) *Error {
	t.Helper()
	var de *Error
	require.True(t, errors.As(err, &de), "want a *data.Error, got %T: %v", err, err)
	return de
}

func TestMissingFile(t *testing.T) {
	for _, name := range []string{"nope.parquet", "nope.jsonl", "nope.arrow"} {
		path := filepath.Join(t.TempDir(), name)
		_, err := Open(path, Options{})
		require.ErrorIs(t, err, fs.ErrNotExist)
		require.Equal(t, "data: "+path+": no such file or directory", err.Error())
		requireDataError(t, err)
	}
	_, err := Open(t.TempDir()+"/x.txt", Options{})
	require.ErrorContains(t, err, `unknown file type ".txt" (want .parquet, .jsonl, .arrow or .feather)`)
	dir := filepath.Join(t.TempDir(), "d.parquet")
	require.NoError(t, os.Mkdir(dir, 0o755))
	_, err = Open(dir, Options{})
	require.ErrorContains(t, err, "is a directory")
}

func TestWrongSchema(t *testing.T) {
	tb := table{cols: []string{"prompt", "response"}}.add("p", "r")
	for _, format := range formats {
		t.Run(format, func(t *testing.T) {
			path := writeAll(t, tb, 2)[format]
			_, err := Open(path, Options{Schema: SchemaUltraChat})
			require.EqualError(t, err, "data: "+path+`: column "messages" not found (have: prompt, response); pass --messages-column or --schema`)
			require.Equal(t, "messages", requireDataError(t, err).Field)

			_, err = Open(path, Options{Schema: SchemaPromptResponse, ResponseColumn: "answer"})
			require.ErrorContains(t, err, `column "answer" not found (have: prompt, response); pass --response-column or --schema`)
		})
	}
	path := writeAll(t, table{cols: []string{"text", "label"}}.add("a", "b"), 2)["parquet"]
	_, err := Open(path, Options{})
	require.ErrorContains(t, err, "no known schema in columns (have: text, label)")
	_, err = Open(path, Options{Schema: "alpaca"})
	require.ErrorContains(t, err, `unknown schema "alpaca"`)
}

func TestWrongColumnType(t *testing.T) {
	// messages stored as a string, as some exports flatten them.
	path := writeAll(t, table{cols: []string{"messages2"}}.add("[]"), 2)["parquet"]
	_, err := Open(path, Options{MessagesColumn: "messages2"})
	require.ErrorContains(t, err, `column "messages2" has type utf8, want list<struct<role: string, content: string>>; pass --messages-column or --schema`)

	sc := arrow.NewSchema([]arrow.Field{{Name: "prompt", Type: arrow.PrimitiveTypes.Int64}, {Name: "response", Type: arrow.BinaryTypes.String}}, nil)
	b := array.NewRecordBuilder(memory.DefaultAllocator, sc)
	b.Field(0).(*array.Int64Builder).Append(1)
	b.Field(1).(*array.StringBuilder).Append("r")
	rec := b.NewRecordBatch()
	path = filepath.Join(t.TempDir(), "int.parquet")
	f, err := os.Create(path)
	require.NoError(t, err)
	require.NoError(t, pqarrow.WriteTable(array.NewTableFromRecords(sc, []arrow.RecordBatch{rec}), f, 10, parquet.NewWriterProperties(), pqarrow.DefaultWriterProps()))
	_, err = Open(path, Options{})
	require.ErrorContains(t, err, `column "prompt" has type int64, want string`)
}

func TestNullAndEmptyFieldsAreSkipped(t *testing.T) {
	tb := table{cols: []string{"prompt", "response"}}.
		add("p0", "r0").
		add(nil, "r1").
		add("p2", nil).
		add(" \n", "r3").
		add("p4", "").
		add("p5", "r5")
	for _, format := range formats {
		t.Run(format, func(t *testing.T) {
			path := writeAll(t, tb, 4)[format]
			r := openT(t, path, Options{})
			exs := readAll(t, r)
			require.Len(t, exs, 2)
			require.Equal(t, Stats{Read: 6, Used: 2, Skipped: map[string]int64{SkipEmptyPrompt: 2, SkipEmptyResponse: 2}}, r.Stats())
		})
	}
	// A JSONL row may simply lack a key.
	path := filepath.Join(t.TempDir(), "missing.jsonl")
	require.NoError(t, os.WriteFile(path, []byte(`{"prompt": "p", "response": "r"}`+"\n"+`{"prompt": "p"}`+"\n"), 0o644))
	r := openT(t, path, Options{})
	require.Len(t, readAll(t, r), 1)
	require.Equal(t, map[string]int64{SkipEmptyResponse: 1}, r.Stats().Skipped)
}

func TestInvalidUTF8IsSkipped(t *testing.T) {
	tb := table{cols: []string{"prompt", "response"}}.
		add("p0", "r0").
		add("p1\xff", "r1").
		add("p2", "r2 \xc3\x28").
		add("p3", "r3")
	for _, format := range formats {
		t.Run(format, func(t *testing.T) {
			dir := t.TempDir()
			path := filepath.Join(dir, "bad.parquet")
			switch format {
			case "parquet":
				writeParquet(t, path, tb, 2)
			case "arrow-file", "arrow-stream":
				path = filepath.Join(dir, "bad.arrow")
				writeIPC(t, path, tb, format == "arrow-stream")
			case "jsonl":
				// encoding/json would escape the bad bytes; write them raw as other tools do.
				path = filepath.Join(dir, "bad.jsonl")
				lines := `{"prompt": "p0", "response": "r0"}` + "\n" +
					`{"prompt": "p1` + "\xff" + `", "response": "r1"}` + "\n" +
					`{"prompt": "p2", "response": "r2 ` + "\xc3\x28" + `"}` + "\n" +
					`{"prompt": "p3", "response": "r3", "other": "` + "\xff" + `"}` + "\n"
				require.NoError(t, os.WriteFile(path, []byte(lines), 0o644))
			}
			r := openT(t, path, Options{})
			exs := readAll(t, r)
			require.Equal(t, []string{"r0", "r3"}, []string{exs[0].Response, exs[1].Response}, "a bad byte in an unread column does not matter")
			require.Equal(t, map[string]int64{SkipInvalidUTF8: 2}, r.Stats().Skipped)
		})
	}
	path := writeAll(t, table{cols: []string{"messages"}}.add([]Message{user("q"), assistant("\xffa")}), 2)["parquet"]
	require.ErrorContains(t, drain(path, Options{}), "no usable rows (1 read, skipped: 1 invalid UTF-8)")
}

func TestCorruptParquet(t *testing.T) {
	dir := t.TempDir()
	good := filepath.Join(dir, "good.parquet")
	writeParquet(t, good, ultraChat(200), 16)
	content, err := os.ReadFile(good)
	require.NoError(t, err)

	truncated := filepath.Join(dir, "truncated.parquet")
	require.NoError(t, os.WriteFile(truncated, content[:len(content)/2], 0o644))
	err = drain(truncated, Options{})
	require.ErrorContains(t, err, "data: "+truncated+": not a readable Parquet file")

	garbage := filepath.Join(dir, "garbage.parquet")
	require.NoError(t, os.WriteFile(garbage, []byte(strings.Repeat("garbage!", 100)), 0o644))
	require.ErrorContains(t, drain(garbage, Options{}), "data: "+garbage+": not a readable Parquet file")

	empty := filepath.Join(dir, "empty.parquet")
	require.NoError(t, os.WriteFile(empty, nil, 0o644))
	require.ErrorContains(t, drain(empty, Options{}), "data: "+empty+": not a readable Parquet file")

	// Damage inside the data pages, where the footer still reads: reading must end in an
	// error that names the file and row (or, where the damage happens to decode, in rows),
	// never in a panic.
	damaged := filepath.Join(dir, "damaged.parquet")
	errorsSeen := 0
	for off := 4; off < len(content)*3/4; off += len(content) / 97 {
		bad := append([]byte(nil), content...)
		for i := off; i < min(off+24, len(bad)); i++ {
			bad[i] ^= 0x5a
		}
		require.NoError(t, os.WriteFile(damaged, bad, 0o644))
		if err := drain(damaged, Options{}); err != nil {
			errorsSeen++
			require.Contains(t, err.Error(), "data: "+damaged)
			requireDataError(t, err)
		}
	}
	require.Positive(t, errorsSeen)
}

func TestCorruptArrow(t *testing.T) {
	dir := t.TempDir()
	for _, stream := range []bool{false, true} {
		good := filepath.Join(dir, "good.arrow")
		writeIPC(t, good, ultraChat(50), stream)
		content, err := os.ReadFile(good)
		require.NoError(t, err)
		truncated := filepath.Join(dir, "truncated.arrow")
		require.NoError(t, os.WriteFile(truncated, content[:len(content)*2/3], 0o644))
		err = drain(truncated, Options{})
		require.ErrorContains(t, err, "data: "+truncated)
		requireDataError(t, err)
	}
	garbage := filepath.Join(dir, "garbage.feather")
	require.NoError(t, os.WriteFile(garbage, []byte(strings.Repeat("garbage!", 100)), 0o644))
	require.ErrorContains(t, drain(garbage, Options{}), "data: "+garbage+": not a readable Arrow IPC file")
}

func TestJSONLSyntaxError(t *testing.T) {
	path := filepath.Join(t.TempDir(), "bad.jsonl")
	lines := `{"prompt": "p0", "response": "r0"}` + "\n\n" + `{"prompt": "p2", "response": "r2"` + "\n"
	require.NoError(t, os.WriteFile(path, []byte(lines), 0o644))
	r := openT(t, path, Options{})
	_, err := r.NextExample()
	require.NoError(t, err)
	_, err = r.NextExample()
	require.EqualError(t, err, "data: "+path+":3: invalid JSON at byte 33: unexpected end of JSON input")
	de := requireDataError(t, err)
	require.Equal(t, Position{File: path, Row: 2}, de.Pos)
	require.Equal(t, int64(3), de.Line)

	// The first line is also where the columns come from.
	require.NoError(t, os.WriteFile(path, []byte("{oops\n"), 0o644))
	_, err = Open(path, Options{})
	require.ErrorContains(t, err, path+":1: invalid JSON")

	require.NoError(t, os.WriteFile(path, []byte(`["a", "b"]`+"\n"), 0o644))
	_, err = Open(path, Options{})
	require.ErrorContains(t, err, path+":1: got a JSON array, want an object per line")

	require.NoError(t, os.WriteFile(path, []byte(`{"prompt": "p", "response": "r"}`+"\n"+`{"prompt": 7, "response": "r"}`+"\n"), 0o644))
	err = drain(path, Options{})
	require.EqualError(t, err, "data: "+path+`:2: column "prompt": got a number, want a string`)
	require.Equal(t, "prompt", requireDataError(t, err).Field)

	require.NoError(t, os.WriteFile(path, []byte(`{"messages": "hello"}`+"\n"), 0o644))
	require.ErrorContains(t, drain(path, Options{}), path+`:1: column "messages": got a string, want a list of {"role", "content"} string objects`)
}

func TestJSONLLongLine(t *testing.T) {
	path := filepath.Join(t.TempDir(), "long.jsonl")
	lines := `{"prompt": "p", "response": "r"}` + "\n" + `{"prompt": "` + strings.Repeat("x", 5000) + `", "response": "r"}` + "\n"
	require.NoError(t, os.WriteFile(path, []byte(lines), 0o644))
	err := drain(path, Options{MaxLineBytes: 1000})
	require.EqualError(t, err, "data: "+path+":2: line longer than 1000 bytes; raise Options.MaxLineBytes if it is meant to be")
	require.NoError(t, drain(path, Options{}))
}

func TestNoUsableRows(t *testing.T) {
	tb := table{cols: []string{"messages"}}.
		add([]Message{user("q"), assistant("")}).
		add([]Message{user("q")}).
		add([]Message{user("q"), assistant(" ")})
	for _, format := range formats {
		t.Run(format, func(t *testing.T) {
			path := writeAll(t, tb, 2)[format]
			r := openT(t, path, Options{})
			_, err := r.NextExample()
			require.EqualError(t, err, "data: "+path+": no usable rows (3 read, skipped: 2 empty response, 1 no assistant turn)")
		})
	}

	// A split part can be empty too; the message says why.
	path := writeAll(t, ultraChat(5), 2)["parquet"]
	require.EqualError(t, drain(path, Options{Part: PartVal}), "data: "+path+`: no usable rows (5 read, 5 in parts other than "val", skipped: none)`)

	empty := filepath.Join(t.TempDir(), "empty.jsonl")
	require.NoError(t, os.WriteFile(empty, []byte("\n\n"), 0o644))
	require.EqualError(t, drain(empty, Options{Schema: SchemaUltraChat}), "data: "+empty+": no usable rows (0 read, skipped: none)")
}

func TestBadOptions(t *testing.T) {
	path := writeAll(t, ultraChat(3), 2)["parquet"]
	for _, opt := range []Options{
		{Split: Split{Val: 0.7, Test: 0.4}},
		{Split: Split{Val: -0.1}},
		{Part: "dev"},
		{ShuffleBuffer: -1},
	} {
		_, err := Open(path, opt)
		require.Error(t, err, "%+v", opt)
		require.Contains(t, err.Error(), "data: "+path+": ")
	}
}
