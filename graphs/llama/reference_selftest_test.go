package llama

// Self-tests of the float64 reference forward pass (reference_test.go): invariants of the
// architecture that hold independently of any graph or runtime.

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
)

// refTinyConfig is the tiny GQA config of the self-tests: 2 query heads sharing 1 kv head.
func refTinyConfig() Config {
	return Config{
		VocabSize: 11, HiddenSize: 8, IntermediateSize: 12, NumHiddenLayers: 2,
		NumAttentionHeads: 2, NumKeyValueHeads: 1, RMSNormEps: 1e-6, RopeTheta: 10000,
	}
}

// refAssertClose fails t when got and want differ by more than tol anywhere.
func refAssertClose(t *testing.T, what string, got, want []float64, tol float64) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%s: got %d values, want %d", what, len(got), len(want))
	}
	for i := range got {
		if math.IsNaN(got[i]) || math.Abs(got[i]-want[i]) > tol {
			t.Fatalf("%s[%d]: got %.12g, want %.12g (tol %g)", what, i, got[i], want[i], tol)
		}
	}
}

func refMaxAbsDiff(a, b []float64) float64 {
	var m float64
	for i := range a {
		m = math.Max(m, math.Abs(a[i]-b[i]))
	}
	return m
}

func TestReferenceSoftmaxRowsSumToOne(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for trial := range 50 {
		n := 1 + rng.IntN(9)
		x := make([]float64, n)
		for i := range x {
			x[i] = 5 * rng.NormFloat64()
			if i > 0 && rng.IntN(3) == 0 {
				x[i] = refMaskScore(x[i], false)
			}
		}
		var sum float64
		for _, p := range refSoftmax(x) {
			if p < 0 || p > 1 {
				t.Fatalf("trial %d: probability %g outside [0, 1]", trial, p)
			}
			sum += p
		}
		if math.Abs(sum-1) > 1e-12 {
			t.Fatalf("trial %d: softmax sums to %.15g", trial, sum)
		}
	}
	// A masked key gets (numerically) zero weight next to a visible one.
	p := refSoftmax([]float64{0.3, refMaskScore(4, false)})
	if p[1] != 0 || p[0] != 1 {
		t.Fatalf("masked key weight: got %v, want [1 0]", p)
	}
	// A row where every key is masked is uniform (as the float32 graphs compute it).
	p = refSoftmax([]float64{refMaskScore(1.7, false), refMaskScore(-3.2, false), refMaskScore(0.1, false)})
	refAssertClose(t, "fully masked row", p, []float64{1. / 3, 1. / 3, 1. / 3}, 1e-15)
	// log-softmax is log of softmax.
	x := []float64{0.5, -1.25, 3, 2}
	ls := refLogSoftmax(x)
	for i, q := range refSoftmax(x) {
		if math.Abs(math.Log(q)-ls[i]) > 1e-12 {
			t.Fatalf("logsoftmax[%d] = %g, log(softmax) = %g", i, ls[i], math.Log(q))
		}
	}
}

func TestReferenceRoPE(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	x := make([]float64, 8)
	for i := range x {
		x[i] = rng.NormFloat64()
	}
	const pos, theta = 5, 10000.0
	invFreq := refInvFreq(Config{HeadDim: len(x), RopeTheta: theta})
	// Position 0 is the identity.
	refAssertClose(t, "rope(pos 0)", refRoPE(x, 0, invFreq), x, 0)

	// Rotate-half pairs j with j+half, rotating by pos * theta^(-2j/d).
	y := refRoPE(x, pos, invFreq)
	half := len(x) / 2
	for j := range half {
		a := pos * math.Pow(theta, -float64(2*j)/float64(len(x)))
		c, s := math.Cos(a), math.Sin(a)
		want0 := x[j]*c - x[j+half]*s
		want1 := x[j+half]*c + x[j]*s
		if math.Abs(y[j]-want0) > 1e-12 || math.Abs(y[j+half]-want1) > 1e-12 {
			t.Fatalf("pair %d: got (%g, %g), want (%g, %g)", j, y[j], y[j+half], want0, want1)
		}
	}

	// Relative positions: <rope(q, m), rope(k, n)> depends only on m - n.
	k := make([]float64, 8)
	for i := range k {
		k[i] = rng.NormFloat64()
	}
	d1 := refDot(refRoPE(x, 7, invFreq), refRoPE(k, 3, invFreq))
	d2 := refDot(refRoPE(x, 12, invFreq), refRoPE(k, 8, invFreq))
	if math.Abs(d1-d2) > 1e-12 {
		t.Fatalf("rope dot product not translation invariant: %g vs %g", d1, d2)
	}

	// Per-head application is head-major.
	two := append(append([]float64(nil), x...), k...)
	got := refRoPEHeads(two, 2, 8, 9, invFreq)
	refAssertClose(t, "rope head 0", got[:8], refRoPE(x, 9, invFreq), 0)
	refAssertClose(t, "rope head 1", got[8:], refRoPE(k, 9, invFreq), 0)
}

func TestReferencePositions(t *testing.T) {
	for _, c := range []struct{ mask, want []int64 }{
		{[]int64{1, 1, 1, 1}, []int64{0, 1, 2, 3}},
		{[]int64{1, 1, 0, 0}, []int64{0, 1, 1, 1}},
		{[]int64{0, 0, 1, 1, 1}, []int64{1, 1, 0, 1, 2}},
	} {
		got := refPositions(c.mask)
		if fmt.Sprint(got) != fmt.Sprint(c.want) {
			t.Errorf("positions(%v) = %v, want %v", c.mask, got, c.want)
		}
	}
}

func TestReferenceRandomParams(t *testing.T) {
	cfg := refConfig(refTinyConfig()) // validated, so Params() knows HeadDim
	a, b, c := randomParams(cfg, 7), randomParams(cfg, 7), randomParams(cfg, 8)
	if len(a) != len(cfg.Params()) {
		t.Fatalf("got %d params, want %d", len(a), len(cfg.Params()))
	}
	for _, p := range cfg.Params() {
		if len(a[p.Name]) != refSize(p.Shape) {
			t.Fatalf("%s: %d values, want shape %v", p.Name, len(a[p.Name]), p.Shape)
		}
		refAssertClose(t, p.Name+" (same seed)", a[p.Name], b[p.Name], 0)
		if refMaxAbsDiff(a[p.Name], c[p.Name]) == 0 {
			t.Fatalf("%s: seeds 7 and 8 give the same values", p.Name)
		}
		var mean float64
		for _, v := range a[p.Name] {
			mean += v
		}
		mean /= float64(len(a[p.Name]))
		if refIsNormParam(p.Name) != (mean > 0.7) {
			t.Fatalf("%s: mean %g does not fit its kind (norm weights near 1, matrices near 0)", p.Name, mean)
		}
	}
	// Logits are not tiny.
	logits := referenceForward(cfg, a, [][]int64{{1, 2, 3, 4}}, nil)
	var m float64
	for _, row := range logits[0] {
		for _, v := range row {
			m = math.Max(m, math.Abs(v))
		}
	}
	if m < 0.1 {
		t.Fatalf("largest |logit| is %g; want logits that are not tiny", m)
	}
}

// With the residual branches switched off (o_proj and down_proj zero), the logits are the LM
// head applied to the final RMSNorm of the embedding: an independent check of the ends.
func TestReferenceZeroBlocksIsNormedEmbedding(t *testing.T) {
	cfg := refTinyConfig()
	params := randomParams(cfg, 11)
	for l := range cfg.NumHiddenLayers {
		for _, n := range []string{"self_attn.o_proj.weight", "mlp.down_proj.weight"} {
			name := fmt.Sprintf("model.layers.%d.%s", l, n)
			params[name] = make([]float64, len(params[name]))
		}
	}
	ids := []int64{3, 9, 0, 10}
	logits := referenceForward(cfg, params, [][]int64{ids}, nil)
	D, V := cfg.HiddenSize, cfg.VocabSize
	embed, head, norm := params["model.embed_tokens.weight"], params["lm_head.weight"], params["model.norm.weight"]
	for t2, id := range ids {
		x := embed[int(id)*D : (int(id)+1)*D]
		var ms float64
		for _, e := range x {
			ms += e * e
		}
		r := math.Sqrt(ms/float64(D) + cfg.RMSNormEps)
		want := make([]float64, V)
		for v := range V {
			for e := range D {
				want[v] += x[e] / r * norm[e] * head[v*D+e]
			}
		}
		refAssertClose(t, fmt.Sprintf("logits[%d]", t2), logits[0][t2], want, 1e-12)
	}
}

// A single token attends only to itself, so its attention output is exactly v; check one
// layer at T = 1 against a direct computation.
func TestReferenceSingleTokenOneLayer(t *testing.T) {
	cfg := refTinyConfig()
	cfg.NumHiddenLayers = 1
	cfg.TieWordEmbeddings = true
	params := randomParams(cfg, 12)
	D, F, V, hd := cfg.HiddenSize, cfg.IntermediateSize, cfg.VocabSize, refConfig(cfg).HeadDim
	p := func(n string) []float64 { return params["model.layers.0."+n] }
	embed := params["model.embed_tokens.weight"]
	const id = 6
	x := append([]float64(nil), embed[id*D:(id+1)*D]...)
	h := refRMSNorm(x, p("input_layernorm.weight"), cfg.RMSNormEps)
	v := refLinear(h, p("self_attn.v_proj.weight"), hd) // the one kv head
	attn := append(append([]float64(nil), v...), v...)  // both query heads read kv head 0
	o := refLinear(attn, p("self_attn.o_proj.weight"), D)
	for e := range D {
		x[e] += o[e]
	}
	h = refRMSNorm(x, p("post_attention_layernorm.weight"), cfg.RMSNormEps)
	g, u := refLinear(h, p("mlp.gate_proj.weight"), F), refLinear(h, p("mlp.up_proj.weight"), F)
	for e := range F {
		g[e] = g[e] / (1 + math.Exp(-g[e])) * u[e]
	}
	m := refLinear(g, p("mlp.down_proj.weight"), D)
	for e := range D {
		x[e] += m[e]
	}
	want := refLinear(refRMSNorm(x, params["model.norm.weight"], cfg.RMSNormEps), embed, V)
	got := referenceForward(cfg, params, [][]int64{{id}}, [][]int64{{1}})
	refAssertClose(t, "logits", got[0][0], want, 1e-12)
}

func TestReferenceRightPaddingMatchesUnpadded(t *testing.T) {
	cfg := refTinyConfig()
	params := randomParams(cfg, 21)
	tokens := []int64{4, 1, 7, 2, 9}
	alone := referenceForward(cfg, params, [][]int64{tokens}, [][]int64{{1, 1, 1, 1, 1}})
	padded := referenceForward(cfg, params,
		[][]int64{append(append([]int64(nil), tokens...), 0, 0, 3)},
		[][]int64{{1, 1, 1, 1, 1, 0, 0, 0}})
	for i := range tokens {
		refAssertClose(t, fmt.Sprintf("position %d", i), padded[0][i], alone[0][i], 1e-12)
	}
}

func TestReferenceLeftPaddingMatchesUnpadded(t *testing.T) {
	cfg := refTinyConfig()
	params := randomParams(cfg, 22)
	tokens := []int64{4, 1, 7, 2, 9}
	alone := referenceForward(cfg, params, [][]int64{tokens}, nil)
	padded := referenceForward(cfg, params,
		[][]int64{append([]int64{0, 5, 0}, tokens...)},
		[][]int64{{0, 0, 0, 1, 1, 1, 1, 1}})
	for i := range tokens {
		refAssertClose(t, fmt.Sprintf("position %d", i), padded[0][3+i], alone[0][i], 1e-12)
	}
	// A batch mixing both paddings gives each row what it gives alone.
	batch := referenceForward(cfg, params,
		[][]int64{append([]int64{0, 5, 0}, tokens...), append(append([]int64(nil), tokens...), 1, 1, 1)},
		[][]int64{{0, 0, 0, 1, 1, 1, 1, 1}, {1, 1, 1, 1, 1, 0, 0, 0}})
	for i := range tokens {
		refAssertClose(t, fmt.Sprintf("batch row 0 position %d", i), batch[0][3+i], alone[0][i], 1e-12)
		refAssertClose(t, fmt.Sprintf("batch row 1 position %d", i), batch[1][i], alone[0][i], 1e-12)
	}
}

func TestReferenceCausal(t *testing.T) {
	cfg := refTinyConfig()
	params := randomParams(cfg, 23)
	a := referenceForward(cfg, params, [][]int64{{2, 8, 5, 1, 6, 3}}, nil)
	b := referenceForward(cfg, params, [][]int64{{2, 8, 5, 10, 0, 3}}, nil)
	for i := range 3 {
		refAssertClose(t, fmt.Sprintf("position %d", i), b[0][i], a[0][i], 0)
	}
	if refMaxAbsDiff(a[0][3], b[0][3]) < 1e-6 || refMaxAbsDiff(a[0][5], b[0][5]) < 1e-6 {
		t.Fatal("changing a token did not change the logits at or after it")
	}
}

// refDuplicateKV turns the params of cfg (kv heads shared by groups of query heads) into
// those of the same config with one kv head per query head: query head h's new kv head is a
// copy of kv head h / (heads / kvHeads), the HF repeat_kv order.
func refDuplicateKV(cfg Config, params map[string][]float64) (Config, map[string][]float64) {
	cfg = refConfig(cfg)
	full := cfg
	full.NumKeyValueHeads = cfg.NumAttentionHeads
	out := make(map[string][]float64, len(params))
	for n, w := range params {
		out[n] = w
	}
	group := cfg.NumAttentionHeads / cfg.NumKeyValueHeads
	rows := cfg.HeadDim * cfg.HiddenSize // one head's block of a [kv*hd, D] weight
	for l := range cfg.NumHiddenLayers {
		for _, n := range []string{"k_proj", "v_proj"} {
			name := fmt.Sprintf("model.layers.%d.self_attn.%s.weight", l, n)
			var w []float64
			for h := range cfg.NumAttentionHeads {
				kvh := h / group
				w = append(w, params[name][kvh*rows:(kvh+1)*rows]...)
			}
			out[name] = w
		}
	}
	return full, out
}

func TestReferenceGQAMatchesDuplicatedKV(t *testing.T) {
	ids := [][]int64{{1, 5, 9, 2, 7, 0}, {3, 3, 8, 10, 4, 6}}
	mask := [][]int64{{1, 1, 1, 1, 1, 0}, {0, 1, 1, 1, 1, 1}}
	for _, c := range []struct {
		name string
		cfg  Config
	}{
		{"heads 2 kv 1", refTinyConfig()},
		// 4 heads over 2 kv heads, with HeadDim 4 != hidden/heads: distinguishes the
		// consecutive repeat_kv order (h / 2) from an interleaved one (h % 2).
		{"heads 4 kv 2 head_dim 4", Config{
			VocabSize: 11, HiddenSize: 8, IntermediateSize: 12, NumHiddenLayers: 2,
			NumAttentionHeads: 4, NumKeyValueHeads: 2, HeadDim: 4, RMSNormEps: 1e-6, RopeTheta: 10000,
		}},
	} {
		t.Run(c.name, func(t *testing.T) {
			params := randomParams(c.cfg, 31)
			fullCfg, fullParams := refDuplicateKV(c.cfg, params)
			gqa := referenceForward(c.cfg, params, ids, mask)
			mha := referenceForward(fullCfg, fullParams, ids, mask)
			for b := range ids {
				for i := range ids[b] {
					refAssertClose(t, fmt.Sprintf("logits[%d][%d]", b, i), gqa[b][i], mha[b][i], 1e-12)
				}
			}
			// The interleaved order gives different logits (so the test can tell them apart).
			if c.cfg.NumKeyValueHeads > 1 {
				swapped := make(map[string][]float64, len(fullParams))
				for n, w := range fullParams {
					swapped[n] = w
				}
				rows := c.cfg.HeadDim * c.cfg.HiddenSize
				for l := range c.cfg.NumHiddenLayers {
					for _, n := range []string{"k_proj", "v_proj"} {
						name := fmt.Sprintf("model.layers.%d.self_attn.%s.weight", l, n)
						var w []float64
						for h := range c.cfg.NumAttentionHeads {
							kvh := h % c.cfg.NumKeyValueHeads
							w = append(w, params[name][kvh*rows:(kvh+1)*rows]...)
						}
						swapped[name] = w
					}
				}
				other := referenceForward(fullCfg, swapped, ids, mask)
				if refMaxAbsDiff(other[0][4], gqa[0][4]) < 1e-6 {
					t.Fatal("interleaved kv order gives the same logits; the test cannot distinguish the orders")
				}
			}
		})
	}
}

func TestReferenceTiedEmbeddings(t *testing.T) {
	tied := refTinyConfig()
	tied.TieWordEmbeddings = true
	untied := refTinyConfig()
	params := randomParams(tied, 41)
	if _, ok := params["lm_head.weight"]; ok {
		t.Fatal("randomParams made lm_head.weight for a tied config")
	}
	withHead := make(map[string][]float64, len(params)+1)
	for n, w := range params {
		withHead[n] = w
	}
	withHead["lm_head.weight"] = append([]float64(nil), params["model.embed_tokens.weight"]...)
	ids := [][]int64{{0, 4, 10, 7}}
	a := referenceForward(tied, params, ids, nil)
	b := referenceForward(untied, withHead, ids, nil)
	for i := range ids[0] {
		refAssertClose(t, fmt.Sprintf("position %d", i), a[0][i], b[0][i], 0)
	}
	// A tied config ignores an lm_head.weight that happens to be present.
	withHead["lm_head.weight"] = randomParams(untied, 42)["lm_head.weight"]
	c := referenceForward(tied, withHead, ids, nil)
	for i := range ids[0] {
		refAssertClose(t, fmt.Sprintf("position %d (stray lm_head)", i), c[0][i], a[0][i], 0)
	}
}

func TestReferenceNLL(t *testing.T) {
	cfg := refTinyConfig()
	params := randomParams(cfg, 51)
	ids := [][]int64{{1, 4, 6, 2, 0}, {0, 0, 3, 8, 5}, {7, 7, 7, 7, 7}}
	mask := [][]int64{{1, 1, 1, 1, 0}, {0, 0, 1, 1, 1}, {1, 1, 1, 1, 1}}
	loss := [][]int64{{1, 0, 1, 1, 0}, {0, 0, 0, 1, 1}, {1, 0, 0, 0, 0}} // t = 0 never counts
	p, n := referenceNLL(cfg, params, ids, mask, loss)
	if fmt.Sprint(n) != "[2 2 0]" {
		t.Fatalf("n = %v, want [2 2 0]", n)
	}
	logits := referenceForward(cfg, params, ids, mask)
	nll := func(b, t int) float64 {
		row := logits[b][t-1]
		var z float64
		for _, v := range row {
			z += math.Exp(v)
		}
		return math.Log(z) - row[ids[b][t]]
	}
	want := []float64{(nll(0, 2) + nll(0, 3)) / 2, (nll(1, 3) + nll(1, 4)) / 2, 0}
	refAssertClose(t, "p", p, want, 1e-12)
	if p[0] <= 0 || p[1] <= 0 {
		t.Fatalf("p = %v, want positive NLLs", p)
	}
}
