package llama

import (
	"encoding/json"
	"flag"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/l3m/l3m-engine/graphs"
)

var update = flag.Bool("update", false, "rewrite golden files in testdata/")

// batch is a padded batch of token ids with its masks, as rows.
type batch struct {
	ids, mask, lossMask [][]int64
}

// rightPadded has three rows of different lengths, right-padded with token 0.
var rightPadded = batch{
	ids:      [][]int64{{1, 5, 7, 2, 9, 3}, {4, 4, 8, 10, 0, 0}, {6, 3, 0, 0, 0, 0}},
	mask:     [][]int64{{1, 1, 1, 1, 1, 1}, {1, 1, 1, 1, 0, 0}, {1, 1, 0, 0, 0, 0}},
	lossMask: [][]int64{{0, 0, 1, 1, 1, 1}, {0, 1, 1, 1, 0, 0}, {0, 1, 0, 0, 0, 0}},
}

func flatInts(rows [][]int64) ([]int64, []int64) {
	var out []int64
	for _, r := range rows {
		out = append(out, r...)
	}
	return out, []int64{int64(len(rows)), int64(len(rows[0]))}
}

func flatFloats(rows [][]int64, dt graphs.DType) any {
	ints, _ := flatInts(rows)
	return floats(intsToFloat(ints), dt)
}

func intsToFloat(x []int64) []float64 {
	f := make([]float64, len(x))
	for i, v := range x {
		f[i] = float64(v)
	}
	return f
}

func floats(x []float64, dt graphs.DType) any {
	if dt == graphs.Float64 {
		return x
	}
	f := make([]float32, len(x))
	for i, v := range x {
		f[i] = float32(v)
	}
	return f
}

// modelFeed puts the parameters and a batch into a feed with shapes.
func modelFeed(cfg Config, params map[string][]float64, b batch, dt graphs.DType) (feed, map[string][]int64) {
	in, shapes := feed{}, map[string][]int64{}
	for _, p := range cfg.Params() {
		in[p.Name], shapes[p.Name] = floats(params[p.Name], dt), p.Shape
	}
	ids, bt := flatInts(b.ids)
	mask, _ := flatInts(b.mask)
	in[InputIDs], shapes[InputIDs] = ids, bt
	in[AttentionMask], shapes[AttentionMask] = mask, bt
	in[LossMask], shapes[LossMask] = flatFloats(b.lossMask, dt), bt
	return in, shapes
}

func maxAbsDiff(a, b []float64) float64 {
	var m float64
	for i := range a {
		m = math.Max(m, math.Abs(a[i]-b[i]))
	}
	return m
}

func flatten3(x [][][]float64) []float64 {
	var out []float64
	for _, r := range x {
		for _, c := range r {
			out = append(out, c...)
		}
	}
	return out
}

// TestScoreMatchesReference compares logits and length-normalized NLL of the float32 score
// graph with the float64 reference, for grouped-query attention and tied embeddings.
func TestScoreMatchesReference(t *testing.T) {
	tied := tinyConfig()
	tied.TieWordEmbeddings, tied.NumKeyValueHeads = true, 2
	for name, cfg := range map[string]Config{"gqa": tinyConfig(), "tied": tied, "llama3 rope, window": scaledConfig()} {
		t.Run(name, func(t *testing.T) {
			params := randomParams(cfg, 3)
			g, err := BuildScore(cfg, Options{Logits: true})
			s := session(t, g, err)
			in, shapes := modelFeed(cfg, params, rightPadded, graphs.Float32)
			B, T, V := int64(3), int64(6), int64(cfg.VocabSize)
			out := run(t, s, shapes, in, map[string][]int64{
				OutLogLik: {B}, OutTokens: {B}, OutNLL: {B}, OutLogits: {B, T, V},
			})
			want := flatten3(referenceForward(cfg, params, rightPadded.ids, rightPadded.mask))
			require.LessOrEqual(t, maxAbsDiff(out[OutLogits], want), 1e-4, "logits")
			p, n := referenceNLL(cfg, params, rightPadded.ids, rightPadded.mask, rightPadded.lossMask)
			require.LessOrEqual(t, maxAbsDiff(out[OutNLL], p), 1e-5, "nll")
			require.Equal(t, intsToFloat([]int64{int64(n[0]), int64(n[1]), int64(n[2])}), out[OutTokens])
			t.Logf("max |logits - reference| = %.2e", maxAbsDiff(out[OutLogits], want))
		})
	}
}

// scaledConfig has llama3 rope scaling with every regime of it (head_dim 8: wavelengths
// 6.3, 63, 628 and 6283 against 64/4 and 64/1) and a sliding window of 3 tokens, shorter
// than the test sequences.
func scaledConfig() Config {
	c := tinyConfig()
	c.HiddenSize = 16
	c.HeadDim = 0
	window := 3
	c.SlidingWindow = &window
	c.RopeScaling = &RopeScaling{RopeType: "llama3", Factor: 8, LowFreqFactor: 1, HighFreqFactor: 4,
		OriginalMaxPositionEmbeddings: 64}
	if err := c.Validate(); err != nil {
		panic(err)
	}
	return c
}

// TestScaledConfigMatters guards the reference comparison of scaledConfig: its rope scaling
// and its window each change the logits, so a graph that ignored either would fail.
func TestScaledConfigMatters(t *testing.T) {
	cfg := scaledConfig()
	params := randomParams(cfg, 3)
	want := flatten3(referenceForward(cfg, params, rightPadded.ids, rightPadded.mask))
	noScaling, noWindow := cfg, cfg
	noScaling.RopeScaling, noWindow.SlidingWindow = nil, nil
	for name, c := range map[string]Config{"rope scaling": noScaling, "window": noWindow} {
		diff := maxAbsDiff(flatten3(referenceForward(c, params, rightPadded.ids, rightPadded.mask)), want)
		require.Greater(t, diff, 1e-2, "without %s the logits move by only %.2e", name, diff)
	}
}

// TestTrainGradientFiniteDifferences checks the whole float64 train graph: loss matches
// sum_j w_j p_j of the reference, and sampled entries of every parameter's gradient match
// central finite differences of the loss.
func TestTrainGradientFiniteDifferences(t *testing.T) {
	cfg := tinyConfig()
	params := randomParams(cfg, 5)
	g, err := BuildTrain(cfg, Options{DType: graphs.Float64})
	s := session(t, g, err)
	in, shapes := modelFeed(cfg, params, rightPadded, graphs.Float64)
	weights := []float64{0.7, -0.3, 1.2}
	in[SeqWeights], shapes[SeqWeights] = weights, []int64{3}
	outShapes := map[string][]int64{OutLoss: {1}, OutNLL: {3}, OutTokens: {3}}
	for _, p := range cfg.Params() {
		outShapes[GradName(p.Name)] = p.Shape
	}
	runF64 := func() map[string][]float64 { return runTyped(t, s, shapes, in, outShapes, graphs.Float64) }
	out := runF64()

	p, _ := referenceNLL(cfg, params, rightPadded.ids, rightPadded.mask, rightPadded.lossMask)
	wantLoss := 0.0
	for j := range p {
		wantLoss += weights[j] * p[j]
	}
	require.InDelta(t, wantLoss, out[OutLoss][0], 1e-9)

	rng := rand.New(rand.NewPCG(1, 2))
	worst := 0.0
	for _, prm := range cfg.Params() {
		x := in[prm.Name].([]float64)
		grad := out[GradName(prm.Name)]
		scale := 0.0
		for _, v := range grad {
			scale = math.Max(scale, math.Abs(v))
		}
		require.Greater(t, scale, 0.0, "gradient of %s is all zero", prm.Name)
		for k := 0; k < 3; k++ {
			i := rng.IntN(len(x))
			orig := x[i]
			const h = 1e-6
			x[i] = orig + h
			up := runF64()[OutLoss][0]
			x[i] = orig - h
			down := runF64()[OutLoss][0]
			x[i] = orig
			fd := (up - down) / (2 * h)
			rel := math.Abs(fd-grad[i]) / scale
			worst = math.Max(worst, rel)
			require.LessOrEqualf(t, rel, 1e-6, "%s[%d]: graph %g, finite difference %g", prm.Name, i, grad[i], fd)
		}
	}
	t.Logf("max relative gradient error over sampled entries of %d tensors: %.2e", len(cfg.Params()), worst)
}

// TestDecodeMatchesFullForward prefills two left-padded prompts of different lengths, then
// decodes token by token with the KV cache, comparing each step's logits with the reference
// forward over the whole sequence so far.
func TestDecodeMatchesFullForward(t *testing.T) {
	for name, cfg := range map[string]Config{"gqa": tinyConfig(), "llama3 rope, window": scaledConfig()} {
		t.Run(name, func(t *testing.T) { testDecodeMatchesFullForward(t, cfg) })
	}
}

func testDecodeMatchesFullForward(t *testing.T, cfg Config) {
	params := randomParams(cfg, 9)
	g, err := BuildDecode(cfg, Options{})
	s := session(t, g, err)
	kv, hd := int64(cfg.NumKeyValueHeads), int64(cfg.HeadDim)
	ids := [][]int64{{0, 0, 3, 8, 1}, {2, 7, 7, 4, 6}}
	mask := [][]int64{{0, 0, 1, 1, 1}, {1, 1, 1, 1, 1}}
	next := [][]int64{{5, 9, 2}, {1, 1, 10}}

	in, shapes := feed{}, map[string][]int64{}
	for _, p := range cfg.Params() {
		in[p.Name], shapes[p.Name] = floats(params[p.Name], graphs.Float32), p.Shape
	}
	past := make(map[string][]float64)
	var pastLen int64
	step := func(newIDs [][]int64, positions [][]int64) []float64 {
		B, S := int64(len(newIDs)), int64(len(newIDs[0]))
		in[InputIDs], shapes[InputIDs] = flat(newIDs), []int64{B, S}
		in[PositionIDs], shapes[PositionIDs] = flat(positions), []int64{B, S}
		in[AttentionMask], shapes[AttentionMask] = flat(mask), []int64{B, pastLen + S}
		outShapes := map[string][]int64{OutLogits: {B, int64(cfg.VocabSize)}}
		for l := 0; l < cfg.NumHiddenLayers; l++ {
			for _, name := range []string{PastKey(l), PastValue(l)} {
				in[name], shapes[name] = floats(past[name], graphs.Float32), []int64{B, kv, pastLen, hd}
			}
			outShapes[PresentKey(l)] = []int64{B, kv, pastLen + S, hd}
			outShapes[PresentValue(l)] = []int64{B, kv, pastLen + S, hd}
		}
		out := run(t, s, shapes, in, outShapes)
		for l := 0; l < cfg.NumHiddenLayers; l++ {
			past[PastKey(l)], past[PastValue(l)] = out[PresentKey(l)], out[PresentValue(l)]
		}
		pastLen += S
		return out[OutLogits]
	}
	lastLogits := func() []float64 {
		full := referenceForward(cfg, params, ids, mask)
		var out []float64
		for _, row := range full {
			out = append(out, row[len(row)-1]...)
		}
		return out
	}
	positions := [][]int64{{1, 1, 0, 1, 2}, {0, 1, 2, 3, 4}}
	got := step(ids, positions)
	require.LessOrEqual(t, maxAbsDiff(got, lastLogits()), 1e-4, "prefill")
	for k := range next[0] {
		for b := range ids {
			ids[b] = append(ids[b], next[b][k])
			mask[b] = append(mask[b], 1)
			positions[b] = []int64{positions[b][len(positions[b])-1] + 1}
		}
		newIDs := [][]int64{{next[0][k]}, {next[1][k]}}
		got = step(newIDs, [][]int64{positions[0][len(positions[0])-1:], positions[1][len(positions[1])-1:]})
		require.LessOrEqualf(t, maxAbsDiff(got, lastLogits()), 1e-4, "decode step %d", k)
	}
}

func flat(rows [][]int64) []int64 {
	out, _ := flatInts(rows)
	return out
}

// TestGoldenLogits pins the logits of a fixed seeded tiny model; refresh with
// `go test ./graphs/llama -run Golden -update`.
func TestGoldenLogits(t *testing.T) {
	cfg := tinyConfig()
	params := randomParams(cfg, 42)
	g, err := BuildScore(cfg, Options{Logits: true})
	s := session(t, g, err)
	in, shapes := modelFeed(cfg, params, rightPadded, graphs.Float32)
	out := run(t, s, shapes, in, map[string][]int64{
		OutLogLik: {3}, OutTokens: {3}, OutNLL: {3}, OutLogits: {3, 6, int64(cfg.VocabSize)},
	})
	path := filepath.Join("testdata", "tiny_logits.golden.json")
	if *update {
		b, err := json.MarshalIndent(map[string]any{"config": cfg, "seed": 42, "logits": out[OutLogits]}, "", " ")
		require.NoError(t, err)
		require.NoError(t, os.MkdirAll("testdata", 0o755))
		require.NoError(t, os.WriteFile(path, b, 0o644))
	}
	b, err := os.ReadFile(path)
	require.NoError(t, err, "run with -update to create it")
	var golden struct{ Logits []float64 }
	require.NoError(t, json.Unmarshal(b, &golden))
	require.LessOrEqual(t, maxAbsDiff(out[OutLogits], golden.Logits), 1e-5)
}
