package data

import (
	"bufio"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/apache/arrow-go/v18/parquet"
	"github.com/apache/arrow-go/v18/parquet/compress"
	"github.com/apache/arrow-go/v18/parquet/pqarrow"
)

// benchBytes is the size of the generated benchmark file: L3M_BENCH_BYTES, in bytes or
// with a K, M or G suffix (L3M_BENCH_BYTES=1G), default 64M.
func benchBytes(b *testing.B) int64 {
	s := strings.ToUpper(strings.TrimSpace(os.Getenv("L3M_BENCH_BYTES")))
	if s == "" {
		return 64 << 20
	}
	shift := 0
	switch {
	case strings.HasSuffix(s, "K"):
		shift = 10
	case strings.HasSuffix(s, "M"):
		shift = 20
	case strings.HasSuffix(s, "G"):
		shift = 30
	}
	if shift > 0 {
		s = s[:len(s)-1]
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || n <= 0 {
		b.Fatalf("L3M_BENCH_BYTES=%q: want a size such as 67108864, 64M or 1G", os.Getenv("L3M_BENCH_BYTES"))
	}
	return n << shift
}

// BenchmarkReadParquet reads a generated UltraChat-style file of L3M_BENCH_BYTES (Snappy,
// row groups of 4096 conversations) and reports rows/s and the peak resident set size
// while reading, which must stay flat as the file grows: run it at 64M and 1G and compare.
func BenchmarkReadParquet(b *testing.B) {
	size := benchBytes(b)
	path := filepath.Join(b.TempDir(), "bench.parquet")
	start := time.Now()
	rows := writeBenchParquet(b, path, size)
	fi, err := os.Stat(path)
	if err != nil {
		b.Fatal(err)
	}
	b.Logf("generated %s: %d rows, %.0f MB in %s", path, rows, float64(fi.Size())/1e6, time.Since(start).Round(time.Millisecond))

	name := fmt.Sprintf("%dMiB", fi.Size()>>20)
	b.Run(name+"/reader", func(b *testing.B) {
		benchRead(b, fi.Size(), rows, func() (interface{ NextExample() (Example, error) }, io.Closer, error) {
			r, err := Open(path, Options{})
			return r, r, err
		})
	})
	b.Run(name+"/stream", func(b *testing.B) {
		benchRead(b, fi.Size(), rows, func() (interface{ NextExample() (Example, error) }, io.Closer, error) {
			s, err := NewStream(path, Options{Seed: 1})
			return s, s, err
		})
	})
}

func benchRead(b *testing.B, size, rows int64, open func() (interface{ NextExample() (Example, error) }, io.Closer, error)) {
	resetPeakRSS(b)
	b.SetBytes(size)
	b.ReportAllocs()
	b.ResetTimer()
	var read int64
	for range b.N {
		r, c, err := open()
		if err != nil {
			b.Fatal(err)
		}
		for {
			_, err := r.NextExample()
			if err == io.EOF {
				break
			}
			if err != nil {
				b.Fatal(err)
			}
			read++
		}
		c.Close()
	}
	b.StopTimer()
	if read != rows*int64(b.N) {
		b.Fatalf("read %d rows, want %d", read, rows*int64(b.N))
	}
	b.ReportMetric(float64(read)/b.Elapsed().Seconds(), "rows/s")
	b.ReportMetric(float64(peakRSS(b))/(1<<20), "peak-RSS-MB")
}

// resetPeakRSS starts a fresh high-water mark, so that the peak measures the reading and
// not the file's generation (Linux 4.0+; elsewhere the peak is the process's).
func resetPeakRSS(b *testing.B) {
	runtime.GC()
	debug.FreeOSMemory()
	if err := os.WriteFile("/proc/self/clear_refs", []byte("5"), 0); err != nil {
		b.Logf("cannot reset the peak RSS (%v); it includes the file's generation", err)
	}
}

// peakRSS reads VmHWM, the peak resident set size, in bytes.
func peakRSS(b *testing.B) int64 {
	f, err := os.Open("/proc/self/status")
	if err != nil {
		b.Logf("no /proc/self/status: %v", err)
		return 0
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "VmHWM:"); ok {
			kb, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
			if err == nil {
				return kb << 10
			}
		}
	}
	return 0
}

// writeBenchParquet writes UltraChat-style conversations until the file reaches size
// bytes, one row group at a time so that generating a large file needs little memory. Two
// generated row groups are written in turn: the reader's work is the same as for distinct
// rows, and a 1 GB file takes seconds rather than minutes to make.
func writeBenchParquet(b *testing.B, path string, size int64) int64 {
	const rowGroup = 4096
	f, err := os.Create(path)
	if err != nil {
		b.Fatal(err)
	}
	defer f.Close()
	schema := ultraChat(0).schema()
	props := parquet.NewWriterProperties(parquet.WithMaxRowGroupLength(rowGroup), parquet.WithCompression(compress.Codecs.Snappy))
	w, err := pqarrow.NewFileWriter(schema, f, props, pqarrow.DefaultWriterProps())
	if err != nil {
		b.Fatal(err)
	}
	words := benchVocabulary()
	rng := rand.New(rand.NewPCG(1, 2))
	var buf strings.Builder
	text := func() string {
		buf.Reset()
		for i := range 20 + rng.IntN(180) {
			if i > 0 {
				buf.WriteByte(' ')
			}
			buf.WriteString(words[rng.IntN(len(words))])
		}
		return buf.String()
	}
	var groups []arrow.RecordBatch
	for g := range 2 {
		rb := array.NewRecordBuilder(memory.DefaultAllocator, schema)
		prompt := rb.Field(0).(*array.StringBuilder)
		id := rb.Field(1).(*array.StringBuilder)
		list := rb.Field(2).(*array.ListBuilder)
		msgs := list.ValueBuilder().(*array.StructBuilder)
		content, role := msgs.FieldBuilder(0).(*array.StringBuilder), msgs.FieldBuilder(1).(*array.StringBuilder)
		for i := range rowGroup {
			list.Append(true)
			for turn := range 1 + rng.IntN(4) {
				q := text()
				if turn == 0 {
					prompt.Append(q)
				}
				msgs.Append(true)
				content.Append(q)
				role.Append(RoleUser)
				msgs.Append(true)
				content.Append(text())
				role.Append(RoleAssistant)
			}
			id.Append(fmt.Sprintf("%d-%d", g, i))
		}
		groups = append(groups, rb.NewRecordBatch())
		rb.Release()
	}
	var rows int64
	for i := 0; rows == 0 || w.TotalBytesWritten() < size; i++ {
		if err := w.Write(groups[i%len(groups)]); err != nil {
			b.Fatal(err)
		}
		rows += rowGroup
	}
	for _, g := range groups {
		g.Release()
	}
	if err := w.Close(); err != nil {
		b.Fatal(err)
	}
	return rows
}

// benchVocabulary makes 5000 pseudo-words of 2 to 10 letters, so that the text compresses
// about as well as English.
func benchVocabulary() []string {
	rng := rand.New(rand.NewPCG(3, 4))
	words := make([]string, 5000)
	for i := range words {
		w := make([]byte, 2+rng.IntN(9))
		for j := range w {
			w[j] = byte('a' + rng.IntN(26))
		}
		words[i] = string(w)
	}
	return words
}
