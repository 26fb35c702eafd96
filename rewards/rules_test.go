package rewards

import (
	"math"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// eos stands for the tokenizer's end-of-sequence id in these samples.
const eos = 2

var ruleSamples = []Sample{
	{Prompt: "Say hi.", Response: "Hi there!", ResponseIDs: []int32{17, 301, 99, eos}},
	{Prompt: "Say hi.", Response: "Hi", ResponseIDs: []int32{17}}, // cut at max-new-tokens: no EOS
	{Prompt: "Greek?", Response: "γειά σου  κόσμε", ResponseIDs: []int32{5, 6, 7, 8, 9, eos}},
	{Prompt: "Nothing.", Response: "", ResponseIDs: []int32{eos}},
	{Prompt: "Please?", Response: "  Please,\tthank\nyou ", ResponseIDs: []int32{1, 2, 3}},
}

func TestRules(t *testing.T) {
	for _, tc := range []struct {
		spec string
		want []float64
	}{
		{"length", []float64{4, 1, 6, 1, 3}},
		{"-length", []float64{-4, -1, -6, -1, -3}},
		{"words", []float64{2, 1, 3, 0, 3}},
		{"-words", []float64{-2, -1, -3, 0, -3}},
		{"chars", []float64{9, 2, 15, 0, 20}},
		{"-chars", []float64{-9, -2, -15, 0, -20}},
		{"regex:(?i)please", []float64{0, 0, 0, 0, 1}},
		{"regex:^Hi", []float64{1, 1, 0, 0, 0}},
		{"regex:^Hi$", []float64{0, 1, 0, 0, 0}},
		{"regex:κόσμε$", []float64{0, 0, 1, 0, 0}},
		{"regex:^$", []float64{0, 0, 0, 1, 0}},
		{"-regex:!", []float64{-1, 0, 0, 0, 0}},
		{"regex:a=b", []float64{0, 0, 0, 0, 0}},
	} {
		t.Run(tc.spec, func(t *testing.T) {
			r, err := ParseRule(tc.spec)
			require.NoError(t, err)
			assert.Equal(t, tc.spec, r.Name())
			got, err := r.Score(ruleSamples)
			require.NoError(t, err)
			assert.Equal(t, tc.want, got)
		})
	}
}

func TestParseRuleErrors(t *testing.T) {
	for _, tc := range []struct {
		spec, want string
	}{
		{"lenght", `reward "lenght": unknown rule (rules: length, words, chars, regex:PATTERN; a leading - negates)`},
		{"--length", `reward "--length": unknown rule`},
		{"", `reward "": unknown rule`},
		{"Length", `reward "Length": unknown rule`},
		{"regex:", "reward \"regex:\": empty pattern (it would match every response) at column 7\n  regex:\n        ^"},
		{"regex:a**", "reward \"regex:a**\": bad pattern: invalid nested repetition operator: `**` at column 8\n  regex:a**\n         ^"},
		{"-regex:x(ab", "reward \"-regex:x(ab\": bad pattern: missing closing ) at column 9\n  -regex:x(ab\n          ^"},
		{"regex:(a)b)c", "reward \"regex:(a)b)c\": bad pattern: unexpected ) at column 11\n  regex:(a)b)c\n            ^"},
		{"regex:[)(]x)", "reward \"regex:[)(]x)\": bad pattern: unexpected ) at column 12"},
		{"regex:\\(x)", "reward \"regex:\\\\(x)\": bad pattern: unexpected ) at column 10"},
		{"regex:ab[c-", "reward \"regex:ab[c-\": bad pattern: missing closing ]: `[c-` at column 9"},
		{"regex:ab\\", "reward \"regex:ab\\\\\": bad pattern: trailing backslash at end of expression at column 10"},
		{"regex:é+*", "reward \"regex:é+*\": bad pattern: invalid nested repetition operator: `+*` at column 8\n  regex:é+*\n         ^"},
		{"regex:x{2,1}", "bad pattern: invalid repeat count: `{2,1}` at column 8"},
		{"regex:(?P<>x)", "bad pattern: invalid named capture: `(?P<>` at column 7"},
		{"regex:\\q", "bad pattern: invalid escape sequence: `\\q` at column 7"},
	} {
		t.Run(tc.spec, func(t *testing.T) {
			_, err := ParseRule(tc.spec)
			require.Error(t, err)
			assert.Contains(t, err.Error(), tc.want)
		})
	}
}

func nan() float64 { return math.NaN() }
func inf() float64 { return math.Inf(1) }
