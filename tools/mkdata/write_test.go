package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/apache/arrow-go/v18/parquet/file"
	"github.com/apache/arrow-go/v18/parquet/pqarrow"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// readParquet returns a file's columns as a table and its row group count.
func readParquet(t *testing.T, path string) (arrow.Table, int) {
	t.Helper()
	pf, err := file.OpenParquetFile(path, false)
	require.NoError(t, err)
	t.Cleanup(func() { pf.Close() })
	fr, err := pqarrow.NewFileReader(pf, pqarrow.ArrowReadProperties{}, memory.DefaultAllocator)
	require.NoError(t, err)
	tbl, err := fr.ReadTable(context.Background())
	require.NoError(t, err)
	t.Cleanup(tbl.Release)
	return tbl, pf.NumRowGroups()
}

// stringColumn returns column i of a table of string columns.
func stringColumn(t *testing.T, tbl arrow.Table, i int) []string {
	t.Helper()
	var out []string
	for _, chunk := range tbl.Column(i).Data().Chunks() {
		s := chunk.(*array.String)
		for j := 0; j < s.Len(); j++ {
			out = append(out, s.Value(j))
		}
	}
	return out
}

// readConversations decodes an UltraChat-schema table.
func readConversations(t *testing.T, tbl arrow.Table) []conversation {
	t.Helper()
	require.Equal(t, []string{"prompt", "prompt_id", "messages"}, columnNames(tbl))
	prompts, ids := stringColumn(t, tbl, 0), stringColumn(t, tbl, 1)
	var rows []conversation
	for _, chunk := range tbl.Column(2).Data().Chunks() {
		list := chunk.(*array.List)
		msgs := list.ListValues().(*array.Struct)
		role, content := msgs.Field(0).(*array.String), msgs.Field(1).(*array.String)
		for i := 0; i < list.Len(); i++ {
			start, end := list.ValueOffsets(i)
			var c conversation
			for j := int(start); j < int(end); j++ {
				c.Messages = append(c.Messages, message{Role: role.Value(j), Content: content.Value(j)})
			}
			c.Prompt, c.PromptID = prompts[len(rows)], ids[len(rows)]
			rows = append(rows, c)
		}
	}
	return rows
}

func TestWriteInstructParquetRoundTrip(t *testing.T) {
	var rows []conversation
	for i := range 2*rowGroupRows + 7 {
		q := fmt.Sprintf("Define word%d.", i)
		c := conversation{Prompt: q, PromptID: promptID(q), Messages: []message{{roleUser, q}, {roleAssistant, "A word."}}}
		if i%5 == 0 {
			c.Messages = append(c.Messages, message{roleUser, "Example?"}, message{roleAssistant, "For example: \"word\"."})
		}
		rows = append(rows, c)
	}
	dir := t.TempDir()
	first, second := filepath.Join(dir, "a.parquet"), filepath.Join(dir, "b.parquet")
	require.NoError(t, writeInstructParquet(first, rows))
	require.NoError(t, writeInstructParquet(second, rows))

	tbl, rowGroups := readParquet(t, first)
	assert.Equal(t, 3, rowGroups)
	assert.Equal(t, rows, readConversations(t, tbl))

	a, err := os.ReadFile(first)
	require.NoError(t, err)
	b, err := os.ReadFile(second)
	require.NoError(t, err)
	assert.True(t, bytes.Equal(a, b), "two writes of the same rows differ")
}

func TestWritePreferenceParquetRoundTrip(t *testing.T) {
	rows := []preference{
		{Chosen: hhTranscript("Define dog.", "A pet."), Rejected: hhTranscript("Define dog.", "A fruit.")},
		{Chosen: hhTranscript("Define cat.", "A pet."), Rejected: hhTranscript("Define cat.", "A 1. list\n2. here")},
	}
	path := filepath.Join(t.TempDir(), "p.parquet")
	require.NoError(t, writePreferenceParquet(path, rows))
	tbl, rowGroups := readParquet(t, path)
	assert.Equal(t, 1, rowGroups)
	assert.Equal(t, []string{"chosen", "rejected"}, columnNames(tbl))
	assert.Equal(t, []string{rows[0].Chosen, rows[1].Chosen}, stringColumn(t, tbl, 0))
	assert.Equal(t, []string{rows[0].Rejected, rows[1].Rejected}, stringColumn(t, tbl, 1))
}

func columnNames(tbl arrow.Table) []string {
	var names []string
	for _, f := range tbl.Schema().Fields() {
		names = append(names, f.Name)
	}
	return names
}
