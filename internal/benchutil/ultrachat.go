package benchutil

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"os"
	"strings"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/apache/arrow-go/v18/parquet"
	"github.com/apache/arrow-go/v18/parquet/compress"
	"github.com/apache/arrow-go/v18/parquet/pqarrow"
)

// RowGroupRows is how many conversations WriteUltraChatParquet puts in a row group.
const RowGroupRows = 4096

// ultraChatSchema is UltraChat's layout, as Hugging Face publishes it.
var ultraChatSchema = arrow.NewSchema([]arrow.Field{
	{Name: "prompt", Type: arrow.BinaryTypes.String, Nullable: true},
	{Name: "prompt_id", Type: arrow.BinaryTypes.String, Nullable: true},
	{Name: "messages", Type: arrow.ListOf(arrow.StructOf(
		arrow.Field{Name: "role", Type: arrow.BinaryTypes.String, Nullable: true},
		arrow.Field{Name: "content", Type: arrow.BinaryTypes.String, Nullable: true},
	)), Nullable: true},
}, nil)

// WriteUltraChatParquet writes conversations in the UltraChat schema to path until the
// file holds at least size bytes, and returns how many it wrote. It makes and writes one
// row group of RowGroupRows rows at a time, so memory stays flat however large the file.
// Snappy, as pyarrow and so most Hugging Face files use.
//
// Each conversation has 2 to 4 messages, user and assistant in turn. A message is words
// drawn at random from words, so a word given twice is drawn twice as often, and Words'
// list makes text that tokenizes and compresses roughly like English. A message's length
// is log-uniform from 4 to 160 words, so some conversations outgrow a batch of 512
// tokens, as real ones do. The same words and seed make the same file.
func WriteUltraChatParquet(path string, size int64, words []string, seed uint64) (rows int64, err error) {
	if len(words) == 0 {
		return 0, fmt.Errorf("benchutil: %s: no words to write messages with; pass Words' list", path)
	}
	f, err := os.Create(path)
	if err != nil {
		return 0, err
	}
	props := parquet.NewWriterProperties(
		parquet.WithCompression(compress.Codecs.Snappy),
		parquet.WithMaxRowGroupLength(RowGroupRows),
	)
	// The FileWriter owns f from here on: its Close closes f.
	w, err := pqarrow.NewFileWriter(ultraChatSchema, f, props, pqarrow.DefaultWriterProps())
	if err != nil {
		f.Close()
		return 0, fmt.Errorf("benchutil: %s: %w", path, err)
	}
	rb := array.NewRecordBuilder(memory.DefaultAllocator, ultraChatSchema)
	defer rb.Release()
	prompt := rb.Field(0).(*array.StringBuilder)
	promptID := rb.Field(1).(*array.StringBuilder)
	list := rb.Field(2).(*array.ListBuilder)
	msgs := list.ValueBuilder().(*array.StructBuilder)
	role := msgs.FieldBuilder(0).(*array.StringBuilder)
	content := msgs.FieldBuilder(1).(*array.StringBuilder)

	rng := rand.New(rand.NewPCG(seed, 2))
	var text strings.Builder
	message := func() string {
		text.Reset()
		n := int(math.Exp(math.Log(4) + rng.Float64()*(math.Log(160)-math.Log(4))))
		for i := range n {
			if i > 0 {
				text.WriteByte(' ')
			}
			text.WriteString(words[rng.IntN(len(words))])
		}
		return text.String()
	}
	for rows == 0 || w.TotalBytesWritten() < size {
		for range RowGroupRows {
			list.Append(true)
			for turn := range 2 + rng.IntN(3) {
				m := message()
				if turn == 0 {
					prompt.Append(m)
				}
				msgs.Append(true)
				if turn%2 == 0 {
					role.Append("user")
				} else {
					role.Append("assistant")
				}
				content.Append(m)
			}
			promptID.Append(fmt.Sprintf("%016x%016x%016x%016x", rng.Uint64(), rng.Uint64(), rng.Uint64(), rng.Uint64()))
		}
		rec := rb.NewRecordBatch()
		err := w.Write(rec)
		rec.Release()
		if err != nil {
			w.Close()
			return rows, fmt.Errorf("benchutil: %s: rows %d..%d: %w", path, rows, rows+RowGroupRows-1, err)
		}
		rows += RowGroupRows
	}
	if err := w.Close(); err != nil {
		return rows, fmt.Errorf("benchutil: %s: %w", path, err)
	}
	return rows, nil
}

// Words reads a JSONL file of conversations, one {"messages": [{"content": ...}, ...]}
// object a line as in testdata/data/dict_instruct.jsonl, and returns the words of every
// message in file order, each as often as it occurs: drawing from the list at random
// then follows the words' frequencies.
func Words(path string) ([]string, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var words []string
	dec := json.NewDecoder(bufio.NewReader(f))
	for row := 0; ; row++ {
		var conversation struct {
			Messages []struct {
				Content string `json:"content"`
			} `json:"messages"`
		}
		err := dec.Decode(&conversation)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("benchutil: %s: row %d: %w", path, row, err)
		}
		for _, m := range conversation.Messages {
			words = append(words, strings.Fields(m.Content)...)
		}
	}
	if len(words) == 0 {
		return nil, fmt.Errorf("benchutil: %s: no words in any row's messages; want JSONL rows with a \"messages\" list", path)
	}
	return words, nil
}
