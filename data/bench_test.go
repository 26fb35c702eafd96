package data

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/l3m/l3m-engine/internal/benchutil"
)

// BenchmarkReadParquet reads a generated UltraChat-style file of L3M_BENCH_BYTES (default
// 64M; Snappy, row groups of 4096 conversations) and reports rows/s and the peak resident
// set size while reading, which must stay flat as the file grows: run it at 64M and 1G
// and compare.
func BenchmarkReadParquet(b *testing.B) {
	size, err := benchutil.BenchBytes(64 << 20)
	if err != nil {
		b.Fatal(err)
	}
	words, err := benchutil.Words(filepath.Join(repoData, "dict_instruct.jsonl"))
	if errors.Is(err, fs.ErrNotExist) {
		b.Skipf("%v; make data (tools/mkdata) writes it", err)
	}
	if err != nil {
		b.Fatal(err)
	}
	path := filepath.Join(b.TempDir(), "bench.parquet")
	start := time.Now()
	rows, err := benchutil.WriteUltraChatParquet(path, size, words, 1)
	if err != nil {
		b.Fatal(err)
	}
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
	if err := benchutil.ResetPeakRSS(); err != nil {
		b.Log(err)
	}
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
	b.ReportMetric(benchutil.PeakRSSMB(), "peak-RSS-MB")
}
