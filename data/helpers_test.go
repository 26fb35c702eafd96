package data

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/ipc"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/apache/arrow-go/v18/parquet"
	"github.com/apache/arrow-go/v18/parquet/compress"
	"github.com/apache/arrow-go/v18/parquet/pqarrow"
	"github.com/stretchr/testify/require"
)

// table is test data in any format: each row maps column names to a string, a
// []Message, or nil for null. A column whose name is "messages" holds conversations.
type table struct {
	cols []string
	rows [][]any
}

func (tb table) add(vals ...any) table {
	tb.rows = append(tb.rows, vals)
	return tb
}

var messagesArrowType = arrow.ListOf(arrow.StructOf(
	arrow.Field{Name: "content", Type: arrow.BinaryTypes.String, Nullable: true},
	arrow.Field{Name: "role", Type: arrow.BinaryTypes.String, Nullable: true},
))

func (tb table) schema() *arrow.Schema {
	fields := make([]arrow.Field, len(tb.cols))
	for i, c := range tb.cols {
		fields[i] = arrow.Field{Name: c, Type: arrow.BinaryTypes.String, Nullable: true}
		if c == "messages" {
			fields[i].Type = messagesArrowType
		}
	}
	return arrow.NewSchema(fields, nil)
}

// record builds rows [from, to) as one Arrow record batch.
func (tb table) record(from, to int) arrow.RecordBatch {
	b := array.NewRecordBuilder(memory.DefaultAllocator, tb.schema())
	defer b.Release()
	for _, row := range tb.rows[from:to] {
		for i, v := range row {
			switch fb := b.Field(i).(type) {
			case *array.StringBuilder:
				if v == nil {
					fb.AppendNull()
				} else {
					fb.Append(v.(string))
				}
			case *array.ListBuilder:
				if v == nil {
					fb.AppendNull()
					continue
				}
				fb.Append(true)
				sb := fb.ValueBuilder().(*array.StructBuilder)
				for _, m := range v.([]Message) {
					sb.Append(true)
					sb.FieldBuilder(0).(*array.StringBuilder).Append(m.Content)
					sb.FieldBuilder(1).(*array.StringBuilder).Append(m.Role)
				}
			}
		}
	}
	return b.NewRecordBatch()
}

// writeParquet writes tb with row groups of rowGroup rows, Snappy-compressed as Hugging
// Face writes them.
func writeParquet(t testing.TB, path string, tb table, rowGroup int64) {
	t.Helper()
	f, err := os.Create(path)
	require.NoError(t, err)
	props := parquet.NewWriterProperties(parquet.WithMaxRowGroupLength(rowGroup), parquet.WithCompression(compress.Codecs.Snappy))
	w, err := pqarrow.NewFileWriter(tb.schema(), f, props, pqarrow.DefaultWriterProps())
	require.NoError(t, err)
	for from := 0; from < len(tb.rows); from += 7 {
		rec := tb.record(from, min(from+7, len(tb.rows)))
		require.NoError(t, w.WriteBuffered(rec))
		rec.Release()
	}
	require.NoError(t, w.Close())
}

// writeIPC writes tb as an Arrow IPC file or stream, in batches of 5 rows.
func writeIPC(t testing.TB, path string, tb table, stream bool) {
	t.Helper()
	f, err := os.Create(path)
	require.NoError(t, err)
	defer f.Close()
	type writer interface {
		Write(arrow.RecordBatch) error
		Close() error
	}
	var w writer
	if stream {
		w = ipc.NewWriter(f, ipc.WithSchema(tb.schema()))
	} else {
		w, err = ipc.NewFileWriter(f, ipc.WithSchema(tb.schema()))
		require.NoError(t, err)
	}
	for from := 0; from < len(tb.rows); from += 5 {
		rec := tb.record(from, min(from+5, len(tb.rows)))
		require.NoError(t, w.Write(rec))
		rec.Release()
	}
	require.NoError(t, w.Close())
}

// writeJSONL writes tb one object per line; nil values are written as null.
func writeJSONL(t testing.TB, path string, tb table) {
	t.Helper()
	var b strings.Builder
	for _, row := range tb.rows {
		obj := map[string]any{}
		for i, v := range row {
			if msgs, ok := v.([]Message); ok {
				list := make([]map[string]string, len(msgs))
				for j, m := range msgs {
					list[j] = map[string]string{"role": m.Role, "content": m.Content}
				}
				v = list
			}
			obj[tb.cols[i]] = v
		}
		line, err := json.Marshal(obj)
		require.NoError(t, err)
		b.Write(line)
		b.WriteByte('\n')
	}
	require.NoError(t, os.WriteFile(path, []byte(b.String()), 0o644))
}

// writeAll writes tb in every format this package reads, returning the paths.
func writeAll(t testing.TB, tb table, rowGroup int64) map[string]string {
	dir := t.TempDir()
	paths := map[string]string{
		"parquet":      filepath.Join(dir, "t.parquet"),
		"jsonl":        filepath.Join(dir, "t.jsonl"),
		"arrow-file":   filepath.Join(dir, "t.feather"),
		"arrow-stream": filepath.Join(dir, "t.arrow"),
	}
	writeParquet(t, paths["parquet"], tb, rowGroup)
	writeJSONL(t, paths["jsonl"], tb)
	writeIPC(t, paths["arrow-file"], tb, false)
	writeIPC(t, paths["arrow-stream"], tb, true)
	return paths
}

func user(s string) Message      { return Message{Role: RoleUser, Content: s} }
func assistant(s string) Message { return Message{Role: RoleAssistant, Content: s} }
func system(s string) Message    { return Message{Role: RoleSystem, Content: s} }

// ultraChat makes n conversations of 1 to 4 exchanges, some with a system message, all
// distinct, in UltraChat's column layout.
func ultraChat(n int) table {
	tb := table{cols: []string{"prompt", "prompt_id", "messages"}}
	for i := range n {
		var msgs []Message
		if i%5 == 0 {
			msgs = append(msgs, system(fmt.Sprintf("be brief %d", i)))
		}
		for turn := range 1 + i%4 {
			msgs = append(msgs, user(fmt.Sprintf("q%d.%d", i, turn)), assistant(fmt.Sprintf("a%d.%d", i, turn)))
		}
		tb = tb.add(fmt.Sprintf("q%d.0", i), fmt.Sprintf("id%d", i), msgs)
	}
	return tb
}

// readAll drains a reader's examples.
func readAll(t testing.TB, r interface{ NextExample() (Example, error) }) []Example {
	t.Helper()
	var out []Example
	for {
		ex, err := r.NextExample()
		if err != nil {
			require.ErrorIs(t, err, io.EOF)
			return out
		}
		out = append(out, ex)
	}
}

// readAllPairs drains a reader's pairs.
func readAllPairs(t testing.TB, r interface{ NextPair() (Pair, error) }) []Pair {
	t.Helper()
	var out []Pair
	for {
		p, err := r.NextPair()
		if err != nil {
			require.ErrorIs(t, err, io.EOF)
			return out
		}
		out = append(out, p)
	}
}

func openT(t testing.TB, path string, opt Options) *Reader {
	t.Helper()
	r, err := Open(path, opt)
	require.NoError(t, err)
	t.Cleanup(func() { r.Close() })
	return r
}

// withoutFile drops the file from positions so that formats can be compared.
func withoutFile(exs []Example) []Example {
	out := make([]Example, len(exs))
	for i, ex := range exs {
		ex.Pos.File = ""
		out[i] = ex
	}
	return out
}
