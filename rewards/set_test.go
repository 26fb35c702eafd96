package rewards

import (
	"errors"
	"fmt"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/l3m/l3m-engine/engine/lagrange"
)

// fakeModel stands for a learned reward: it scores a sample by its number of bytes / 10
// and counts its calls.
type fakeModel struct {
	path  string
	calls *int
}

func (m fakeModel) Name() string { return "model:" + m.path }

func (m fakeModel) Score(samples []Sample) ([]float64, error) {
	*m.calls++
	out := make([]float64, len(samples))
	for i, s := range samples {
		out[i] = float64(len(s.Response)) / 10
	}
	return out, nil
}

// fakeLoader loads fakeModels from paths ending in .onnx, and counts loads and scorings.
type fakeLoader struct{ loads, calls int }

func (l *fakeLoader) load(path string) (Reward, error) {
	if len(path) < 5 || path[len(path)-5:] != ".onnx" {
		return nil, fmt.Errorf("open %s: no such file or directory", path)
	}
	l.loads++
	return fakeModel{path: path, calls: &l.calls}, nil
}

func scoreOne(t *testing.T, r Reward, s Sample) float64 {
	t.Helper()
	got, err := r.Score([]Sample{s})
	require.NoError(t, err)
	require.Len(t, got, 1)
	return got[0]
}

func TestSetBind(t *testing.T) {
	sample := Sample{Response: "Please be brief.", ResponseIDs: []int32{1, 2, 3, 4, eos}}
	loader := &fakeLoader{}
	var set Set
	for _, flag := range []string{
		"short=-length",
		" polite = regex:(?i)please",
		"helpful=rm/helpful.onnx",
		"unhelpful=-rm/helpful.onnx",
		"trail=regex:brief. ",
	} {
		require.NoError(t, set.Bind(flag, loader.load), flag)
	}
	assert.Equal(t, 2, loader.loads)
	assert.Equal(t, []string{"chars", "helpful", "length", "polite", "short", "trail", "unhelpful", "words"}, set.Names())

	for _, tc := range []struct {
		name string
		want float64
	}{
		{"short", -5},
		{"-short", 5},
		{"polite", 1},
		{"-polite", -1},
		{"helpful", 1.6},
		{"-helpful", -1.6},
		{"unhelpful", -1.6},
		{"-unhelpful", 1.6},
		{"trail", 0}, // the pattern keeps its trailing space
		{"length", 5},
		{"-length", -5},
		{"words", 3},
		{"chars", 16},
		{"regex:brief", 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r, err := set.Lookup(tc.name)
			require.NoError(t, err)
			assert.Equal(t, tc.name, r.Name(), "a reward is named as it was looked up")
			assert.InDelta(t, tc.want, scoreOne(t, r, sample), 1e-12)
		})
	}
}

func TestSetBindErrors(t *testing.T) {
	loader := &fakeLoader{}
	var set Set
	require.NoError(t, set.Bind("helpful=a.onnx", loader.load))
	for _, tc := range []struct {
		flag, want string
	}{
		{"helpful", `--reward "helpful": expected NAME=SPEC, SPEC being a rule (length, words, chars, regex:PATTERN; a leading - negates) or the path of an exported reward model`},
		{"=length", "--reward \"=length\": expected a reward name before = at column 1\n  =length\n  ^"},
		{"-x=length", "--reward \"-x=length\": a reward name may not start with - (-NAME is the negation of NAME) at column 1"},
		{"my reward=length", "--reward \"my reward=length\": a reward name has only letters, digits, _, - and . at column 3\n  my reward=length\n    ^"},
		{"length=words", `--reward "length=words": "length" is a built-in rule; bind another name`},
		{"helpful=b.onnx", `--reward "helpful=b.onnx": "helpful" is already bound by --reward "helpful=a.onnx"`},
		{"x=", `--reward "x=": expected a rule (length, words, chars, regex:PATTERN; a leading - negates) or the path of an exported reward model after =`},
		{"x=lenght", `--reward "x=lenght": "lenght" is not a rule (length, words, chars, regex:PATTERN; a leading - negates) and did not load as a reward model: open lenght: no such file or directory`},
		{"x=regex:(", "--reward \"x=regex:(\": reward \"regex:(\": bad pattern: missing closing ) at column 7\n  regex:(\n        ^"},
		{"x=--length", `--reward "x=--length": "--length" is not a rule (length, words, chars, regex:PATTERN; a leading - negates) and did not load as a reward model: open -length: no such file or directory`},
	} {
		t.Run(tc.flag, func(t *testing.T) {
			err := set.Bind(tc.flag, loader.load)
			require.Error(t, err)
			assert.Contains(t, err.Error(), tc.want)
		})
	}
	var noLoader Set
	err := noLoader.Bind("helpful=a.onnx", nil)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "learned rewards cannot be loaded here")
	require.NoError(t, noLoader.Bind("short=-length", nil), "rules need no loader")

	// A failed binding binds nothing.
	assert.Equal(t, []string{"chars", "helpful", "length", "words"}, set.Names())
}

func TestSetResolve(t *testing.T) {
	loader := &fakeLoader{}
	var set Set
	require.NoError(t, set.Bind("harmless=rm/harmless.onnx", loader.load))
	parse := func(texts ...string) []lagrange.Constraint {
		var out []lagrange.Constraint
		for _, s := range texts {
			c, err := ParseConstraint(s)
			require.NoError(t, err)
			out = append(out, c)
		}
		return out
	}

	got, err := set.Resolve(parse("length>=50", "length<=100", "harmless>=2", "-harmless>=-4"))
	require.NoError(t, err)
	var names []string
	for _, r := range got {
		names = append(names, r.Name())
	}
	assert.Equal(t, []string{"length", "length", "harmless", "-harmless"}, names)

	_, err = set.Resolve(parse("length>=50", "helpful>=0.2"))
	require.Error(t, err)
	assert.Equal(t, `constraint "helpful>=0.2": no reward named "helpful" (known: chars, harmless, length, words; bind one with --reward helpful=PATH)`, err.Error())

	var empty Set
	_, err = empty.Resolve(parse("-helpful<=0"))
	assert.EqualError(t, err, `constraint "-helpful<=0": no reward named "-helpful" (known: chars, length, words; bind one with --reward helpful=PATH)`)

	// Constraints built by hand are labelled by their canonical text.
	_, err = empty.Resolve([]lagrange.Constraint{{Reward: "helpful", Bound: 0.2}})
	assert.EqualError(t, err, `constraint "helpful>=0.2": no reward named "helpful" (known: chars, length, words; bind one with --reward helpful=PATH)`)
}

func TestScoreAll(t *testing.T) {
	loader := &fakeLoader{}
	var set Set
	require.NoError(t, set.Bind("helpful=rm/helpful.onnx", loader.load))
	var rs []Reward
	for _, name := range []string{"helpful", "-helpful", "length", "-length", "helpful"} {
		r, err := set.Lookup(name)
		require.NoError(t, err)
		rs = append(rs, r)
	}
	samples := []Sample{
		{Response: "0123456789", ResponseIDs: []int32{1, 2, eos}},
		{Response: "", ResponseIDs: nil},
	}
	scores, err := ScoreAll(rs, samples)
	require.NoError(t, err)
	assert.Equal(t, [][]float64{{1, 0}, {-1, 0}, {3, 0}, {-3, 0}, {1, 0}}, scores)
	assert.Equal(t, 1, loader.calls, "one forward pass for a learned reward used three times")

	// Results are independent slices.
	scores[0][0] = 42
	assert.Equal(t, 1.0, scores[4][0])
}

// brokenReward returns whatever it is given.
type brokenReward struct {
	scores []float64
	err    error
}

func (b brokenReward) Name() string                      { return "broken" }
func (b brokenReward) Score([]Sample) ([]float64, error) { return b.scores, b.err }

func TestScoreAllErrors(t *testing.T) {
	two := []Sample{{}, {}}
	for _, tc := range []struct {
		name string
		r    Reward
		want string
	}{
		{"failure", brokenReward{err: errors.New("session closed")}, `reward "broken": session closed`},
		{"count", brokenReward{scores: []float64{1}}, `reward "broken": 1 scores for 2 samples`},
		{"NaN", brokenReward{scores: []float64{1, nan()}}, `reward "broken": sample 1: score is NaN; rewards must be finite`},
		{"negated Inf", Negate(brokenReward{scores: []float64{inf(), 0}}), `reward "broken": sample 0: score is +Inf; rewards must be finite`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ScoreAll([]Reward{tc.r}, two)
			assert.EqualError(t, err, tc.want)
		})
	}
}

func TestNegate(t *testing.T) {
	length, err := ParseRule("length")
	require.NoError(t, err)
	neg := Negate(length)
	assert.Equal(t, "-length", neg.Name())
	assert.Equal(t, -3.0, scoreOne(t, neg, Sample{ResponseIDs: []int32{1, 2, eos}}))
	assert.IsType(t, rule{}, Negate(neg), "double negation unwraps")
	assert.Equal(t, "length", Negate(neg).Name())
	_, err = Negate(brokenReward{err: errors.New("boom")}).Score(nil)
	assert.EqualError(t, err, "boom")
}
