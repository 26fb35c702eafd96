package data

import (
	"fmt"
	"io"
	"path/filepath"
	"slices"
	"testing"

	"github.com/stretchr/testify/require"
)

func newStreamT(t testing.TB, path string, opt Options) *Stream {
	t.Helper()
	s, err := NewStream(path, opt)
	require.NoError(t, err)
	t.Cleanup(func() { s.Close() })
	return s
}

func rowsOf(exs []Example) []int64 {
	rows := make([]int64, len(exs))
	for i, ex := range exs {
		rows[i] = ex.Pos.Row
	}
	return rows
}

func isPermutation(rows []int64, n int) bool {
	sorted := slices.Sorted(slices.Values(rows))
	for i, r := range sorted {
		if r != int64(i) {
			return false
		}
	}
	return len(rows) == n
}

func TestStreamShuffle(t *testing.T) {
	paths := writeAll(t, ultraChat(100), 8)
	for _, format := range []string{"parquet", "jsonl"} {
		t.Run(format, func(t *testing.T) {
			path := paths[format]
			opt := Options{Seed: 3, ShuffleBuffer: 10}
			a := readAll(t, newStreamT(t, path, opt))
			require.True(t, isPermutation(rowsOf(a), 100), "every row exactly once")
			require.False(t, slices.IsSorted(rowsOf(a)), "shuffled")
			require.Equal(t, a, readAll(t, newStreamT(t, path, opt)), "same seed, same order")
			opt.Seed = 4
			require.NotEqual(t, rowsOf(a), rowsOf(readAll(t, newStreamT(t, path, opt))), "another seed, another order")

			inOrder := readAll(t, newStreamT(t, path, Options{ShuffleBuffer: 1}))
			require.Equal(t, readAll(t, openT(t, path, Options{})), inOrder, "a buffer of 1 keeps file order")
		})
	}
}

func TestStreamVisitsRowGroupsInRandomOrder(t *testing.T) {
	path := writeAll(t, ultraChat(100), 10)["parquet"]
	rows := rowsOf(readAll(t, newStreamT(t, path, Options{Seed: 5, ShuffleBuffer: 2})))
	// With a buffer of 2 a row moves only a little, so the first rows out reveal which row
	// group came first.
	require.Greater(t, rows[0], int64(9), "the first row group read is not the file's first (seed 5)")
}

func TestStreamEpochs(t *testing.T) {
	path := writeAll(t, ultraChat(50), 8)["parquet"]
	opt := Options{Seed: 9, ShuffleBuffer: 16, Epochs: 3}
	s := newStreamT(t, path, opt)
	var epochs [][]int64
	for {
		ex, err := s.NextExample()
		if err == io.EOF {
			break
		}
		require.NoError(t, err)
		epoch := s.Epoch()
		if epoch == len(epochs) {
			epochs = append(epochs, nil)
		}
		epochs[epoch] = append(epochs[epoch], ex.Pos.Row)
	}
	require.Len(t, epochs, 3)
	for _, rows := range epochs {
		require.True(t, isPermutation(rows, 50))
	}
	require.NotEqual(t, epochs[0], epochs[1], "each epoch is reshuffled")
	require.NotEqual(t, epochs[1], epochs[2])
	opt.Epochs = 1
	require.Equal(t, epochs[0], rowsOf(readAll(t, newStreamT(t, path, opt))), "the first epoch does not depend on how many follow")
	_, err := s.NextExample()
	require.Equal(t, io.EOF, err)
}

// firstUserTurn identifies an ultraChat conversation.
func firstUserTurn(ex Example) string {
	for _, m := range ex.Prompt {
		if m.Role == RoleUser {
			return m.Content
		}
	}
	return ""
}

func partKeys(t *testing.T, path string, opt Options) map[string]bool {
	keys := map[string]bool{}
	for _, ex := range readAll(t, newStreamT(t, path, opt)) {
		keys[firstUserTurn(ex)] = true
	}
	return keys
}

func TestSplit(t *testing.T) {
	const n = 600
	tb := ultraChat(n)
	dir := t.TempDir()
	path := filepath.Join(dir, "u.parquet")
	writeParquet(t, path, tb, 64)
	reversed := table{cols: tb.cols, rows: slices.Clone(tb.rows)}
	slices.Reverse(reversed.rows)
	reversedPath := filepath.Join(dir, "reversed.jsonl")
	writeJSONL(t, reversedPath, reversed)

	split := Split{Val: 0.2, Test: 0.1}
	parts := map[string]map[string]bool{}
	for _, part := range []string{PartTrain, PartVal, PartTest} {
		opt := Options{Split: split, Part: part, Seed: 1}
		parts[part] = partKeys(t, path, opt)
		opt.Seed, opt.ShuffleBuffer = 2, 1
		require.Equal(t, parts[part], partKeys(t, reversedPath, opt), "part %s depends neither on row order nor on the shuffle seed", part)
	}
	require.InDelta(t, 0.2*n, len(parts[PartVal]), 0.05*n)
	require.InDelta(t, 0.1*n, len(parts[PartTest]), 0.04*n)
	all := map[string]bool{}
	for _, keys := range parts {
		for k := range keys {
			require.False(t, all[k], "parts are disjoint")
			all[k] = true
		}
	}
	require.Len(t, all, n, "parts cover every row")
	require.Len(t, partKeys(t, path, Options{Split: split, Part: PartAll}), n)

	split.Seed = 1
	require.NotEqual(t, parts[PartVal], partKeys(t, path, Options{Split: split, Part: PartVal}), "the split seed changes the split")

	r := openT(t, path, Options{Split: Split{Val: 0.2, Test: 0.1}, Part: PartVal})
	readAll(t, r)
	require.Equal(t, Stats{Read: n, Used: int64(len(parts[PartVal])), OtherPart: n - int64(len(parts[PartVal])), Skipped: map[string]int64{}}, r.Stats())
}

func TestSplitKeepsDuplicatesTogether(t *testing.T) {
	tb := table{cols: []string{"prompt", "response"}}
	for i := range 40 {
		tb = tb.add("same prompt", "same response").add(fmt.Sprintf("p%d", i), "r")
	}
	path := writeAll(t, tb, 16)["parquet"]
	dupes := 0
	for _, part := range []string{PartTrain, PartVal} {
		for _, ex := range readAll(t, newStreamT(t, path, Options{Split: Split{Val: 0.5}, Part: part})) {
			if ex.Response == "same response" {
				dupes++
			}
		}
		require.True(t, dupes == 0 || dupes == 40, "all 40 copies land in one part")
	}
}
