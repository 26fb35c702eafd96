package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// generations parses the JSON lines of generate's output, skipping any other lines.
func generations(t *testing.T, out string) []generation {
	t.Helper()
	var gens []generation
	for _, line := range strings.Split(out, "\n") {
		if !strings.HasPrefix(line, "{") {
			continue
		}
		var g generation
		require.NoError(t, json.Unmarshal([]byte(line), &g), line)
		gens = append(gens, g)
	}
	return gens
}

func TestGenerate(t *testing.T) {
	model := tinyModel(t, 4096)
	generate := func(extra ...string) []generation {
		t.Helper()
		args := append([]string{"generate", "--model", model, "--threads", "1", "--max-new-tokens", "10",
			"--prompt", "What is meant by cress green?", "--prompt", "Define heartsick, briefly.", "--prompt", "x"}, extra...)
		out, err := l3m(t, args...)
		require.NoError(t, err, out)
		gens := generations(t, out)
		require.Len(t, gens, 3, out)
		return gens
	}

	sampled := generate("--seed", "3", "--batch-size", "2")
	require.Equal(t, sampled, generate("--seed", "3", "--batch-size", "2"), "same seed")
	require.NotEqual(t, sampled, generate("--seed", "4", "--batch-size", "2"), "different seed")
	require.Equal(t, "<|user|>\nDefine heartsick, briefly.\n<|assistant|>\n", sampled[1].Prompt, "a comma does not split a --prompt")
	for _, g := range sampled {
		require.Contains(t, []string{"eos", "length"}, g.Stopped)
		if g.Stopped == "length" {
			require.Equal(t, 10, g.Tokens)
		}
		require.Empty(t, g.Reference)
	}

	greedy := generate("--greedy", "--seed", "3")
	require.Equal(t, greedy, generate("--greedy", "--seed", "4", "--batch-size", "1", "--temperature", "0.3"),
		"greedy output depends on neither the seed, the batching nor the temperature")
	require.NotEqual(t, sampled, greedy)
}

func TestGenerateFromData(t *testing.T) {
	model := tinyModel(t, 4096)
	out := filepath.Join(t.TempDir(), "gen.jsonl")
	log, err := l3m(t, "generate", "--model", model, "--threads", "1", "--data", trainData, "--limit", "3",
		"--max-new-tokens", "6", "--out", out)
	require.NoError(t, err, log)
	require.Empty(t, generations(t, log), "with --out nothing goes to stdout")
	b, err := os.ReadFile(out)
	require.NoError(t, err)
	gens := generations(t, string(b))
	require.Len(t, gens, 3)
	require.Equal(t, 3, strings.Count(string(b), "\n"))
	for _, g := range gens {
		require.NotEmpty(t, g.Reference)
		require.True(t, strings.HasPrefix(g.Prompt, "<|user|>\n"), g.Prompt)
	}
	entries, err := os.ReadDir(filepath.Dir(out))
	require.NoError(t, err)
	require.Len(t, entries, 1, "no temporary file is left behind")
}

func TestGenerateBadFlags(t *testing.T) {
	model := tinyModel(t, 4096)
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"--prompt", "hi", "--top-p", "0"}, "--top-p must be in (0, 1], got 0"},
		{[]string{"--prompt", "hi", "--top-p", "1.5"}, "--top-p must be in (0, 1], got 1.5"},
		{[]string{"--prompt", "hi", "--temperature", "0"}, "--temperature must be positive"},
		{[]string{"--prompt", "hi", "--top-k=-1"}, "--top-k must be >= 0"},
		{[]string{"--prompt", "hi", "--max-new-tokens", "0"}, "--max-new-tokens must be >= 1"},
		{[]string{"--prompt", "hi", "--max-new-tokens", "300"}, "--max-new-tokens 300: --prompt 1 has"},
		{[]string{"--prompt", "hi", "--limit", "2"}, "--limit counts rows of --data"},
		{[]string{"--prompt", "hi", "--data", trainData}, "--prompt and --data exclude each other"},
		{nil, "pass --prompt TEXT (repeatable) or --data FILE"},
		{[]string{"--data", "missing.jsonl"}, "--data: "},
		{[]string{"--prompt", "hi", "--out", filepath.Join(t.TempDir(), "no", "such", "dir", "out.jsonl")}, "cannot create a file in"},
	} {
		out, err := l3m(t, append([]string{"generate", "--model", model, "--threads", "1"}, c.args...)...)
		require.Error(t, err, "%v", c.args)
		require.Contains(t, out, c.want, "%v", c.args)
	}
}
