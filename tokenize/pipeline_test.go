package tokenize

import (
	"errors"
	"io"
	"path/filepath"
	"testing"

	"github.com/l3m/l3m-engine/data"
)

// TestBatcherCountsTooLong runs the committed dataset through the chat template and the
// batcher with a small MaxTokens: over-long examples are counted drops, not errors.
func TestBatcherCountsTooLong(t *testing.T) {
	tok := mustLoad(t, "dict-bpe")
	tmpl := PlainTemplate()
	tmpl.MaxTokens = 48
	s, err := data.NewStream(filepath.Join("..", "testdata", "data", "dict_instruct.parquet"), data.Options{Seed: 1, Part: data.PartAll})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	b, err := data.NewBatcher(s, tmpl.Encoder(tok), data.BatchOptions{Size: 16, MaxTokens: 1 << 20})
	if err != nil {
		t.Fatal(err)
	}
	var seqs int64
	for {
		batch, err := b.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		if batch.T > 48 {
			t.Fatalf("batch of length %d passed a 48-token limit", batch.T)
		}
		seqs += int64(batch.B)
	}
	st := b.Stats()
	if st.TooLong == 0 || seqs == 0 || seqs+st.TooLong+st.NoLoss != 3200 {
		t.Fatalf("stats %+v, %d sequences: want drops counted and every row accounted for", st, seqs)
	}
	t.Logf("48-token limit: %d kept, %d too long", seqs, st.TooLong)
}
