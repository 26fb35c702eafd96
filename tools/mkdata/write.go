package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"os"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/apache/arrow-go/v18/parquet"
	"github.com/apache/arrow-go/v18/parquet/compress"
	"github.com/apache/arrow-go/v18/parquet/pqarrow"
)

// rowGroupRows is small on purpose: readers of these files should meet several row groups.
const rowGroupRows = 512

var (
	messageType = arrow.StructOf(
		arrow.Field{Name: "role", Type: arrow.BinaryTypes.String, Nullable: true},
		arrow.Field{Name: "content", Type: arrow.BinaryTypes.String, Nullable: true},
	)
	instructSchema = arrow.NewSchema([]arrow.Field{
		{Name: "prompt", Type: arrow.BinaryTypes.String, Nullable: true},
		{Name: "prompt_id", Type: arrow.BinaryTypes.String, Nullable: true},
		{Name: "messages", Type: arrow.ListOf(messageType), Nullable: true},
	}, nil)
	preferenceSchema = arrow.NewSchema([]arrow.Field{
		{Name: "chosen", Type: arrow.BinaryTypes.String, Nullable: true},
		{Name: "rejected", Type: arrow.BinaryTypes.String, Nullable: true},
	}, nil)
)

// writeInstructParquet writes conversations in the UltraChat schema.
func writeInstructParquet(path string, rows []conversation) error {
	return writeParquet(path, instructSchema, len(rows), func(b *array.RecordBuilder, i int) {
		r := rows[i]
		b.Field(0).(*array.StringBuilder).Append(r.Prompt)
		b.Field(1).(*array.StringBuilder).Append(r.PromptID)
		list := b.Field(2).(*array.ListBuilder)
		msgs := list.ValueBuilder().(*array.StructBuilder)
		role := msgs.FieldBuilder(0).(*array.StringBuilder)
		content := msgs.FieldBuilder(1).(*array.StringBuilder)
		list.Append(true)
		for _, m := range r.Messages {
			msgs.Append(true)
			role.Append(m.Role)
			content.Append(m.Content)
		}
	})
}

// writePreferenceParquet writes preference pairs in the HH-RLHF schema.
func writePreferenceParquet(path string, rows []preference) error {
	return writeParquet(path, preferenceSchema, len(rows), func(b *array.RecordBuilder, i int) {
		b.Field(0).(*array.StringBuilder).Append(rows[i].Chosen)
		b.Field(1).(*array.StringBuilder).Append(rows[i].Rejected)
	})
}

// writeParquet writes n rows, one arrow record and one row group per rowGroupRows rows, with
// Zstd compression. The footer holds no timestamps, so equal rows give equal bytes.
func writeParquet(path string, schema *arrow.Schema, n int, appendRow func(b *array.RecordBuilder, i int)) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	props := parquet.NewWriterProperties(
		parquet.WithCompression(compress.Codecs.Zstd),
		parquet.WithMaxRowGroupLength(rowGroupRows),
	)
	// The FileWriter owns f from here on: its Close closes f.
	w, err := pqarrow.NewFileWriter(schema, f, props, pqarrow.NewArrowWriterProperties(pqarrow.WithStoreSchema()))
	if err != nil {
		f.Close()
		return fmt.Errorf("mkdata: %s: %w", path, err)
	}
	b := array.NewRecordBuilder(memory.DefaultAllocator, schema)
	defer b.Release()
	for start := 0; start < n; start += rowGroupRows {
		for i := start; i < min(start+rowGroupRows, n); i++ {
			appendRow(b, i)
		}
		rec := b.NewRecordBatch()
		err := w.Write(rec)
		rec.Release()
		if err != nil {
			w.Close()
			return fmt.Errorf("mkdata: %s: rows %d..%d: %w", path, start, min(start+rowGroupRows, n)-1, err)
		}
	}
	if err := w.Close(); err != nil {
		return fmt.Errorf("mkdata: %s: %w", path, err)
	}
	return nil
}

// writeJSONL writes one JSON object per line, field names as in the Parquet twin.
func writeJSONL[T any](path string, rows []T) (err error) {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	defer func() {
		if cerr := f.Close(); err == nil && cerr != nil {
			err = fmt.Errorf("mkdata: %s: %w", path, cerr)
		}
	}()
	w := bufio.NewWriter(f)
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	for i, r := range rows {
		if err := enc.Encode(r); err != nil {
			return fmt.Errorf("mkdata: %s: row %d: %w", path, i, err)
		}
	}
	return w.Flush()
}
