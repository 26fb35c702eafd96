package main

import (
	"bufio"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// dataDir holds the generated datasets; these tests check them without the dictionaries.
var dataDir = filepath.Join("..", "..", "testdata", "data")

func readJSONL[T any](t *testing.T, path string) []T {
	t.Helper()
	f, err := os.Open(path)
	require.NoError(t, err)
	defer f.Close()
	var rows []T
	scanner := bufio.NewScanner(f)
	scanner.Buffer(make([]byte, 1024*1024), 16*1024*1024)
	for line := 1; scanner.Scan(); line++ {
		var r T
		require.NoError(t, json.Unmarshal(scanner.Bytes(), &r), "%s:%d", path, line)
		rows = append(rows, r)
	}
	require.NoError(t, scanner.Err())
	return rows
}

func requireDataFile(t *testing.T, name string) string {
	path := filepath.Join(dataDir, name)
	if _, err := os.Stat(path); err != nil {
		t.Skipf("%s not generated; run `make data`", path)
	}
	return path
}

func TestCommittedInstructData(t *testing.T) {
	tbl, rowGroups := readParquet(t, requireDataFile(t, "dict_instruct.parquet"))
	rows := readConversations(t, tbl)
	assert.Equal(t, readJSONL[conversation](t, requireDataFile(t, "dict_instruct.jsonl")), rows)
	assert.Greater(t, rowGroups, 1)

	seen := make(map[string]bool)
	multiTurn := 0
	for i, r := range rows {
		require.GreaterOrEqual(t, len(r.Messages), 2, "row %d", i)
		require.Zero(t, len(r.Messages)%2, "row %d", i)
		for j, m := range r.Messages {
			want := roleUser
			if j%2 == 1 {
				want = roleAssistant
			}
			require.Equal(t, want, m.Role, "row %d message %d", i, j)
			require.NotEmpty(t, strings.TrimSpace(m.Content), "row %d message %d", i, j)
			if m.Role == roleAssistant {
				assert.LessOrEqual(t, wordCount(m.Content), maxAnswerWords+1, "row %d message %d", i, j)
				assert.NotContains(t, m.Content, "{", "row %d message %d", i, j)
			}
		}
		assert.Equal(t, r.Messages[0].Content, r.Prompt, "row %d", i)
		assert.Equal(t, promptID(r.Prompt), r.PromptID, "row %d", i)
		assert.False(t, seen[r.PromptID], "row %d: prompt_id repeats", i)
		seen[r.PromptID] = true
		if len(r.Messages) > 2 {
			multiTurn++
		}
	}
	assert.InDelta(t, 0.2, float64(multiTurn)/float64(len(rows)), 0.05, "share of multi-turn rows")
}

func TestCommittedPreferenceData(t *testing.T) {
	for _, name := range []string{"dict_prefs_relevant", "dict_prefs_concise"} {
		t.Run(name, func(t *testing.T) {
			tbl, rowGroups := readParquet(t, requireDataFile(t, name+".parquet"))
			assert.Greater(t, rowGroups, 1)
			chosen, rejected := stringColumn(t, tbl, 0), stringColumn(t, tbl, 1)
			jsonl := readJSONL[preference](t, requireDataFile(t, name+".jsonl"))
			require.Len(t, jsonl, len(chosen))
			for i := range chosen {
				require.Equal(t, preference{chosen[i], rejected[i]}, jsonl[i], "row %d", i)
				for _, s := range []string{chosen[i], rejected[i]} {
					require.True(t, strings.HasPrefix(s, "\n\nHuman: "), "row %d", i)
					require.Equal(t, 1, strings.Count(s, "\n\nHuman: "), "row %d", i)
					require.Equal(t, 1, strings.Count(s, "\n\nAssistant: "), "row %d", i)
				}
				cut := strings.Index(chosen[i], "\n\nAssistant: ")
				assert.Equal(t, chosen[i][:cut], rejected[i][:cut], "row %d: prompts differ", i)
				assert.NotEqual(t, chosen[i], rejected[i], "row %d", i)
			}
		})
	}
}
