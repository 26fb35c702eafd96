package benchutil_test

import (
	"errors"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/l3m/l3m-engine/data"
	"github.com/l3m/l3m-engine/internal/benchutil"
)

func TestParseBytes(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want int64
	}{
		{"67108864", 64 << 20},
		{"64M", 64 << 20},
		{" 64m ", 64 << 20},
		{"1G", 1 << 30},
		{"512k", 512 << 10},
		{"1", 1},
	} {
		got, err := benchutil.ParseBytes(tc.in)
		require.NoError(t, err, tc.in)
		require.Equal(t, tc.want, got, tc.in)
	}
	for _, bad := range []string{"", "M", "0", "-1G", "1.5G", "1T", "64MB", "9223372036854775807K"} {
		_, err := benchutil.ParseBytes(bad)
		require.Error(t, err, bad)
	}
}

func TestBenchBytes(t *testing.T) {
	t.Setenv(benchutil.BenchBytesEnv, "")
	n, err := benchutil.BenchBytes(64 << 20)
	require.NoError(t, err)
	require.Equal(t, int64(64<<20), n)

	t.Setenv(benchutil.BenchBytesEnv, "1G")
	n, err = benchutil.BenchBytes(64 << 20)
	require.NoError(t, err)
	require.Equal(t, int64(1<<30), n)

	t.Setenv(benchutil.BenchBytesEnv, "lots")
	_, err = benchutil.BenchBytes(64 << 20)
	require.ErrorContains(t, err, `L3M_BENCH_BYTES: "lots" is not a size`)
}

// TestWriteUltraChatParquet writes the smallest file, one row group, and reads it back
// with the data package as the benchmarks do.
func TestWriteUltraChatParquet(t *testing.T) {
	dir := t.TempDir()
	jsonl := filepath.Join(dir, "chat.jsonl")
	require.NoError(t, os.WriteFile(jsonl, []byte(
		`{"prompt":"hi","messages":[{"role":"user","content":"hello there"},{"role":"assistant","content":"general kenobi"}]}`+"\n"), 0o644))
	words, err := benchutil.Words(jsonl)
	require.NoError(t, err)
	require.Equal(t, []string{"hello", "there", "general", "kenobi"}, words)

	path := filepath.Join(dir, "ultrachat.parquet")
	rows, err := benchutil.WriteUltraChatParquet(path, 1, words, 1)
	require.NoError(t, err)
	require.Equal(t, int64(benchutil.RowGroupRows), rows)

	r, err := data.Open(path, data.Options{Part: data.PartAll})
	require.NoError(t, err)
	defer r.Close()
	require.Equal(t, data.SchemaUltraChat, r.Schema())
	var read int64
	for {
		ex, err := r.NextExample()
		if errors.Is(err, io.EOF) {
			break
		}
		require.NoError(t, err)
		require.NotEmpty(t, ex.Prompt)
		require.Equal(t, data.RoleUser, ex.Prompt[0].Role)
		require.NotEmpty(t, ex.Response)
		read++
	}
	require.Equal(t, rows, read)

	_, err = benchutil.WriteUltraChatParquet(filepath.Join(dir, "empty.parquet"), 1, nil, 1)
	require.ErrorContains(t, err, "no words")
}

func TestRSS(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("the resident set size is read from /proc/self/status")
	}
	rss, peak := benchutil.RSSMB(), benchutil.PeakRSSMB()
	require.Positive(t, rss)
	require.GreaterOrEqual(t, peak, rss)
}
