package tokenize

import (
	"errors"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/l3m/l3m-engine/data"
	"github.com/l3m/l3m-engine/internal/benchutil"
)

// BenchmarkPipeline measures the whole data path a training step waits on: read a Parquet
// file through a shuffling data.Stream, encode each example with PlainTemplate and the
// dict-bpe tokenizer, and pack length-grouped batches, one full epoch per iteration (run
// it with -benchtime 1x). It reports rows read per second, non-padding tokens per second,
// the share of batch slots that are padding and the peak resident set size.
//
// "testdata" reads the committed instruct set; "generated" reads an UltraChat-style file
// of L3M_BENCH_BYTES (default 64M), made before the timer starts. Run it at 64M and 1G
// (with -timeout 0): the throughput should hold and the peak RSS stay flat.
func BenchmarkPipeline(b *testing.B) {
	tok := mustLoad(b, "dict-bpe")
	b.Run("testdata", func(b *testing.B) {
		benchPipeline(b, tok, filepath.Join("..", "testdata", "data", "dict_instruct.parquet"))
	})
	// The generated file lives in the parent's TempDir: a sub-benchmark's own is removed
	// after every round, and generating a large file again for each round costs minutes.
	dir := b.TempDir()
	var generated string
	b.Run("generated", func(b *testing.B) {
		if generated == "" {
			generated = generateUltraChat(b, filepath.Join(dir, "ultrachat.parquet"))
		}
		benchPipeline(b, tok, generated)
	})
}

// pipelineBatchOptions are the batches the benchmark makes: 16 sequences of at most 512
// tokens, grouped by length 16 batches at a time.
var pipelineBatchOptions = data.BatchOptions{Size: 16, MaxTokens: 512, GroupBatches: 16, Seed: 1}

// pipelinePass is what one pass over a file yielded.
type pipelinePass struct {
	rows   int64 // rows read from the file
	tokens int64 // non-padding tokens in the batches
	slots  int64 // B*T summed over the batches
	stats  data.BatchStats
}

func benchPipeline(b *testing.B, tok *Tokenizer, path string) {
	fi, err := os.Stat(path)
	if err != nil {
		b.Fatal(err)
	}
	tmpl := PlainTemplate()
	encode := tmpl.Encoder(tok)
	b.SetBytes(fi.Size())
	b.ReportAllocs()
	if err := benchutil.ResetPeakRSS(); err != nil {
		b.Log(err)
	}
	b.ResetTimer()
	var total pipelinePass
	for range b.N {
		p := runPipeline(b, path, encode)
		total.rows += p.rows
		total.tokens += p.tokens
		total.slots += p.slots
		total.stats = p.stats
	}
	b.StopTimer()
	if total.slots == 0 {
		b.Fatalf("%s: the pipeline made no batches (stats %+v)", path, total.stats)
	}
	sec := b.Elapsed().Seconds()
	b.ReportMetric(float64(total.rows)/sec, "rows/s")
	b.ReportMetric(float64(total.tokens)/sec, "tokens/s")
	b.ReportMetric(100*float64(total.slots-total.tokens)/float64(total.slots), "pad-%")
	b.ReportMetric(benchutil.PeakRSSMB(), "peak-RSS-MB")
	st := total.stats
	b.Logf("%s (%.1f MB): per pass %d rows, %d batches, %d sequences, %d too long, %d without response",
		filepath.Base(path), float64(fi.Size())/1e6, total.rows/int64(b.N), st.Batches, st.Sequences, st.TooLong, st.NoLoss)
}

// runPipeline reads path once through the stream and the batcher.
func runPipeline(b *testing.B, path string, encode data.EncodeFunc) pipelinePass {
	s, err := data.NewStream(path, data.Options{Seed: 1, Part: data.PartAll})
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	batcher, err := data.NewBatcher(s, encode, pipelineBatchOptions)
	if err != nil {
		b.Fatal(err)
	}
	var p pipelinePass
	for {
		batch, err := batcher.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			b.Fatal(err)
		}
		p.slots += int64(len(batch.AttentionMask))
		for _, m := range batch.AttentionMask {
			p.tokens += m
		}
	}
	p.rows = s.Stats().Read
	p.stats = batcher.Stats()
	return p
}

// generateUltraChat writes an UltraChat-style file of L3M_BENCH_BYTES (default 64M) to
// path, from the words of the committed instruct data, and returns path.
func generateUltraChat(b *testing.B, path string) string {
	size, err := benchutil.BenchBytes(64 << 20)
	if err != nil {
		b.Fatal(err)
	}
	words, err := benchutil.Words(filepath.Join("..", "testdata", "data", "dict_instruct.jsonl"))
	if errors.Is(err, fs.ErrNotExist) {
		b.Skipf("no instruct data: %v", err)
	}
	if err != nil {
		b.Fatal(err)
	}
	start := time.Now()
	rows, err := benchutil.WriteUltraChatParquet(path, size, words, 1)
	if err != nil {
		b.Fatal(err)
	}
	b.Logf("generated %s: %d rows in %s", filepath.Base(path), rows, time.Since(start).Round(time.Millisecond))
	return path
}
