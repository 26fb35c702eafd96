package data

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"
)

// The project's dictionary datasets, made by tools/mkdata.
var repoData = filepath.Join("..", "testdata", "data")

func requireRepoData(t *testing.T, name string) string {
	t.Helper()
	path := filepath.Join(repoData, name)
	if _, err := os.Stat(path); err != nil {
		t.Skipf("%s is missing; make data (tools/mkdata) writes it", path)
	}
	return path
}

// TestRepoDatasets reads every row of the project's datasets: the Parquet and JSONL copies
// hold the same rows, and none is skipped.
func TestRepoDatasets(t *testing.T) {
	for _, tc := range []struct {
		name   string
		schema string
	}{
		{"dict_instruct", SchemaUltraChat},
		{"dict_prefs_relevant", SchemaHH},
		{"dict_prefs_concise", SchemaHH},
	} {
		t.Run(tc.name, func(t *testing.T) {
			pq := openT(t, requireRepoData(t, tc.name+".parquet"), Options{})
			jl := openT(t, requireRepoData(t, tc.name+".jsonl"), Options{})
			require.Equal(t, tc.schema, pq.Schema())
			require.Equal(t, tc.schema, jl.Schema())
			var fromParquet, fromJSONL []Example
			if pq.Pairs() {
				for _, p := range readAllPairs(t, pq) {
					require.NotEqual(t, p.Chosen, p.Rejected)
					fromParquet = append(fromParquet, Example{Prompt: p.Prompt, Response: p.Chosen + "\x00" + p.Rejected, Pos: p.Pos})
				}
				for _, p := range readAllPairs(t, jl) {
					fromJSONL = append(fromJSONL, Example{Prompt: p.Prompt, Response: p.Chosen + "\x00" + p.Rejected, Pos: p.Pos})
				}
			} else {
				fromParquet, fromJSONL = readAll(t, pq), readAll(t, jl)
			}
			n := pq.NumRows()
			require.Positive(t, n)
			require.Equal(t, Stats{Read: n, Used: n, Skipped: map[string]int64{}}, pq.Stats(), "no row of %s is skipped", tc.name)
			require.Equal(t, Stats{Read: n, Used: n, Skipped: map[string]int64{}}, jl.Stats())
			require.Equal(t, withoutFile(fromParquet), withoutFile(fromJSONL), "the Parquet and JSONL copies agree")
			t.Logf("%s: %d rows, %d row groups", tc.name, n, pq.src.chunks())
		})
	}
}
