package llama

import (
	"fmt"
	"math"

	"github.com/l3m/l3m-engine/graphs"
)

// Names of graph inputs and outputs shared by the engine.
const (
	InputIDs      = "input_ids"      // int64 [B, T]
	AttentionMask = "attention_mask" // int64 [B, T] (decode: [B, P+S]); 1 = real token
	LossMask      = "loss_mask"      // float [B, T]; 1 on tokens whose prediction is scored
	SeqWeights    = "weights"        // float [B]; per-sequence loss weights w_j
	PositionIDs   = "position_ids"   // int64 [B, S]; decode graph only

	OutLoss    = "loss"   // float [1] = sum_j w_j * nll_j
	OutNLL     = "nll"    // float [B]: length-normalized NLL p(y|x)
	OutTokens  = "tokens" // float [B]: scored tokens per sequence
	OutLogLik  = "loglik" // float [B]: summed log-likelihood of scored tokens
	OutLogits  = "logits" // float [B, V]: decode graph, last position
	gradPrefix = "grad."
)

// GradName is the output name of a parameter's gradient in the train graph.
func GradName(param string) string { return gradPrefix + param }

// PastKey, PastValue, PresentKey and PresentValue name the decode graph's cache tensors of
// layer l, each [B, num_key_value_heads, length, head_dim].
func PastKey(l int) string      { return fmt.Sprintf("past_key.%d", l) }
func PastValue(l int) string    { return fmt.Sprintf("past_value.%d", l) }
func PresentKey(l int) string   { return fmt.Sprintf("present_key.%d", l) }
func PresentValue(l int) string { return fmt.Sprintf("present_value.%d", l) }

// maskedScore is added to attention scores of hidden keys, as in Hugging Face's eager
// attention with a large negative bias.
const maskedScore = -1e9

// Options tune graph building. The zero value builds float32 graphs in which every
// parameter is a graph input and trainable.
type Options struct {
	// DType is the compute and parameter type; default float32.
	DType graphs.DType
	// Frozen reports parameters that get no gradient output in the train graph; nil freezes
	// nothing.
	Frozen func(name string) bool
	// Logits adds the full logits [B, T, V] as an output of the score graph (for
	// inspection and tests; it costs B*T*V floats per Run). Default off.
	Logits bool
	// Weights, when set, bakes each parameter's float32 values into the graph as a named
	// initializer instead of a graph input: a frozen, self-contained scorer.
	Weights func(name string) []float32
}

func (o Options) dtype() graphs.DType {
	if o.DType == 0 {
		return graphs.Float32
	}
	return o.DType
}

// model is one graph being built for a config.
type model struct {
	cfg    Config
	g      *graphs.Graph
	dt     graphs.DType
	params map[string]*graphs.Value
	order  []*graphs.Value
}

func newModel(name string, cfg Config, opt Options) *model {
	m := &model{cfg: cfg, g: graphs.New(name), dt: opt.dtype(), params: map[string]*graphs.Value{}}
	for _, p := range cfg.Params() {
		shape := graphs.Dims(toAny(p.Shape)...)
		if opt.Weights != nil {
			m.params[p.Name] = m.g.Initializer(p.Name, shape, opt.Weights(p.Name))
			continue
		}
		v := m.g.Input(p.Name, m.dt, shape)
		m.params[p.Name] = v
		m.order = append(m.order, v)
	}
	return m
}

func toAny(s []int64) []any {
	out := make([]any, len(s))
	for i, d := range s {
		out[i] = d
	}
	return out
}

func (m *model) p(name string) *graphs.Value {
	v, ok := m.params[name]
	if !ok {
		panic("graphs: llama: no parameter " + name)
	}
	return v
}

// linear is x @ W^T for a Hugging Face [out, in] weight; x is [N, in].
func (m *model) linear(x *graphs.Value, weight string) *graphs.Value {
	return m.g.MatMul(x, m.g.TransposeLast2(m.p(weight)))
}

// rmsNorm is x / sqrt(mean(x^2) + eps) * w over the last axis.
func (m *model) rmsNorm(x *graphs.Value, weight string) *graphs.Value {
	g := m.g
	ms := g.ReduceMean(g.Mul(x, x), []int64{-1}, true)
	inv := g.Reciprocal(g.Sqrt(g.Add(ms, x.ScalarLike(m.cfg.RMSNormEps))))
	return g.Mul(g.Mul(x, inv), m.p(weight))
}

// silu is x * sigmoid(x).
func (m *model) silu(x *graphs.Value) *graphs.Value { return m.g.Mul(x, m.g.Sigmoid(x)) }

// rope holds cos and sin of the rotary angles, [B, 1, S, head_dim], shared by all layers.
type rope struct{ cos, sin *graphs.Value }

// rotary computes cos/sin for int64 positions [B, S] with the inverse frequencies of
// [Config.InvFreq] (theta^(-2i/hd), rescaled by rope_scaling), duplicated over both halves
// as in Hugging Face.
func (m *model) rotary(positions *graphs.Value) rope {
	g, hd := m.g, m.cfg.HeadDim
	// Angles in float32 as Hugging Face computes them, or float64 for float64 graphs.
	freq := make([]float64, hd)
	for i, f := range m.cfg.InvFreq() {
		freq[i], freq[i+hd/2] = f, f
	}
	at, freqConst := graphs.Float64, g.Const(graphs.Dims(hd), freq)
	if m.dt != graphs.Float64 {
		f32 := make([]float32, hd)
		for i, f := range freq {
			f32[i] = float32(f)
		}
		at, freqConst = graphs.Float32, g.Const(graphs.Dims(hd), f32)
	}
	pos := g.Unsqueeze(g.Cast(positions, at), -1)  // [B, S, 1]
	angle := g.Unsqueeze(g.Mul(pos, freqConst), 1) // [B, 1, S, hd]
	return rope{cos: g.Cast(g.Cos(angle), m.dt), sin: g.Cast(g.Sin(angle), m.dt)}
}

// apply rotates x [B, heads, S, hd]: x*cos + rotate_half(x)*sin, where
// rotate_half(x) = concat(-x[hd/2:], x[:hd/2]).
func (r rope) apply(g *graphs.Graph, x *graphs.Value, hd int) *graphs.Value {
	half := int64(hd / 2)
	x1 := g.Slice(x, []int64{0}, []int64{half}, []int64{-1})
	x2 := g.Slice(x, []int64{half}, []int64{int64(hd)}, []int64{-1})
	rotated := g.Concat(-1, g.Neg(x2), x1)
	return g.Add(g.Mul(x, r.cos), g.Mul(rotated, r.sin))
}

// attentionBias is 0 where query i (of the last S positions) may see key j of L = P+S
// positions, maskedScore elsewhere: j <= P+i and attention_mask[b, j] == 1, and with a
// sliding window W also P+i - j < W (indices, as Hugging Face's cache positions).
// Its shape [B, 1, 1, S, L] broadcasts over [B, kv heads, group, S, L] scores.
func (m *model) attentionBias(mask, ids *graphs.Value) *graphs.Value {
	g := m.g
	one := g.Scalar(graphs.Int64, 1)
	zero := g.Scalar(graphs.Int64, 0)
	lenL := g.Gather(g.ShapeOf(mask), g.Scalar(graphs.Int64, 1), 0)
	lenS := g.Gather(g.ShapeOf(ids), g.Scalar(graphs.Int64, 1), 0)
	keys := g.Range(zero, lenL, one, mask.Shape()[1])                                // [L]
	queries := g.Unsqueeze(g.Range(g.Sub(lenL, lenS), lenL, one, ids.Shape()[1]), 1) // [S, 1]
	causal := g.LessOrEqual(keys, queries)                                           // [S, L]
	if w := m.cfg.SlidingWindow; w != nil {
		causal = g.And(causal, g.Greater(keys, g.Sub(queries, g.Scalar(graphs.Int64, float64(*w)))))
	}
	keyOK := g.Unsqueeze(g.Cast(mask, graphs.Bool), 1, 2, 3) // [B, 1, 1, 1, L]
	allowed := g.And(causal, keyOK)                          // [B, 1, 1, S, L]
	return g.Where(allowed, g.Scalar(m.dt, 0), g.Scalar(m.dt, maskedScore))
}

// positionsFromMask is cumsum(mask) - 1, with padding positions set to 1 (Hugging Face).
func (m *model) positionsFromMask(mask *graphs.Value) *graphs.Value {
	g := m.g
	pos := g.Sub(g.CumSum(mask, 1), g.Scalar(graphs.Int64, 1))
	return g.Where(g.Equal(mask, g.Scalar(graphs.Int64, 0)), g.Scalar(graphs.Int64, 1), pos)
}

// kvCache is one layer's keys and values, [B, kv heads, L, hd].
type kvCache struct{ k, v *graphs.Value }

// decoder runs the embedding and every layer on ids [B, S] and returns the final-normed
// hidden states [B*S, D] plus each layer's keys and values (past ones concatenated in front
// when past is given).
func (m *model) decoder(ids *graphs.Value, r rope, bias *graphs.Value, past []kvCache) (*graphs.Value, []kvCache) {
	g, c := m.g, m.cfg
	h, kvh, hd := int64(c.NumAttentionHeads), int64(c.NumKeyValueHeads), int64(c.HeadDim)
	group := h / kvh
	bs := g.ShapeOf(ids) // [B, S]
	bDim, sDim := ids.Shape()[0], ids.Shape()[1]

	x := g.Gather(m.p("model.embed_tokens.weight"), g.Reshape(ids, -1), 0) // [N, D]
	heads := func(t *graphs.Value, count int64) *graphs.Value {
		// [N, count*hd] -> [B, count, S, hd]
		t = g.ReshapeTo(t, g.Concat(0, bs, g.Ints(count, hd)), graphs.Shape{bDim, sDim, graphs.D(count), graphs.D(hd)})
		return g.Transpose(t, 0, 2, 1, 3)
	}
	scale := 1 / math.Sqrt(float64(hd))
	var present []kvCache
	for l := 0; l < c.NumHiddenLayers; l++ {
		p := fmt.Sprintf("model.layers.%d.", l)
		hn := m.rmsNorm(x, p+"input_layernorm.weight")
		q := r.apply(g, heads(m.linear(hn, p+"self_attn.q_proj.weight"), h), c.HeadDim)
		k := r.apply(g, heads(m.linear(hn, p+"self_attn.k_proj.weight"), kvh), c.HeadDim)
		v := heads(m.linear(hn, p+"self_attn.v_proj.weight"), kvh)
		if past != nil {
			k = g.Concat(2, past[l].k, k)
			v = g.Concat(2, past[l].v, v)
		}
		present = append(present, kvCache{k, v})
		// Grouped-query attention without copying keys: queries [B, kvh, group, S, hd]
		// against keys [B, kvh, 1, L, hd].
		q5 := g.Reshape(q, 0, kvh, group, -1, hd)
		k5, v5 := g.Unsqueeze(k, 2), g.Unsqueeze(v, 2)
		scores := g.Mul(g.MatMul(q5, g.TransposeLast2(k5)), q5.ScalarLike(scale))
		probs := g.Softmax(g.Add(scores, bias), -1)
		att := g.MatMul(probs, v5)                                  // [B, kvh, group, S, hd]
		att = g.Transpose(g.Reshape(att, 0, h, -1, hd), 0, 2, 1, 3) // [B, S, H, hd]
		att = g.Reshape(att, -1, h*hd)                              // [N, H*hd]
		x = g.Add(x, m.linear(att, p+"self_attn.o_proj.weight"))

		hn = m.rmsNorm(x, p+"post_attention_layernorm.weight")
		mlp := g.Mul(m.silu(m.linear(hn, p+"mlp.gate_proj.weight")), m.linear(hn, p+"mlp.up_proj.weight"))
		x = g.Add(x, m.linear(mlp, p+"mlp.down_proj.weight"))
	}
	return m.rmsNorm(x, "model.norm.weight"), present
}

// lmHead maps hidden states [N, D] to logits [N, V].
func (m *model) lmHead(x *graphs.Value) *graphs.Value {
	if m.cfg.TieWordEmbeddings {
		return m.linear(x, "model.embed_tokens.weight")
	}
	return m.linear(x, "lm_head.weight")
}

// sequenceLogLik returns, per sequence, the summed log-likelihood of the scored tokens and
// their count. Position t's logits predict token t+1; lossMask[b, t+1] says whether that
// token is scored. Both are computed on [B*T] without copying the logits.
func (m *model) sequenceLogLik(logits, ids, lossMask *graphs.Value) (loglik, tokens *graphs.Value) {
	g := m.g
	end := int64(math.MaxInt64)
	// Targets rolled left by one; the wrapped-around last position is never scored.
	targets := g.Concat(1, g.Slice(ids, []int64{1}, []int64{end}, []int64{1}), g.Slice(ids, []int64{0}, []int64{1}, []int64{1}))
	scored := g.Concat(1, g.Slice(lossMask, []int64{1}, []int64{end}, []int64{1}),
		g.Mul(g.Slice(lossMask, []int64{0}, []int64{1}, []int64{1}), lossMask.ScalarLike(0)))
	logp := g.LogSoftmax(logits, -1) // [N, V]
	// One target per row of logits, shaped [N, 1] with logits' own row dimension, so the
	// LogSoftmax VJP can see that the gradient is one scatter per row (no dense zeros).
	rows := graphs.Shape{logits.Shape()[0], graphs.D(1)}
	column := g.ReshapeTo(targets, g.Concat(0, g.DimOf(logits, 0), g.Ints(1)), rows)
	picked := g.GatherElements(logp, column, 1)               // [N, 1]
	picked = g.ReshapeTo(picked, g.ShapeOf(ids), ids.Shape()) // [B, T]
	loglik = g.ReduceSum(g.Mul(picked, g.ReshapeTo(scored, g.ShapeOf(ids), ids.Shape())), []int64{1}, false)
	tokens = g.ReduceSum(scored, []int64{1}, false)
	return loglik, tokens
}

// lengthNormalizedNLL is -loglik / tokens, and 0 for sequences with no scored token.
func (m *model) lengthNormalizedNLL(loglik, tokens *graphs.Value) *graphs.Value {
	g := m.g
	safe := g.Where(g.Greater(tokens, tokens.ScalarLike(0)), tokens, tokens.ScalarLike(1))
	return g.Neg(g.Div(loglik, safe))
}

// build runs f and turns graph-building panics into errors.
func build(name string, f func() *graphs.Graph) (g *graphs.Graph, err error) {
	defer func() {
		if r := recover(); r != nil {
			g, err = nil, fmt.Errorf("llama: building %s graph: %v", name, r)
		}
	}()
	return f(), nil
}

// forwardNLL builds the shared part of the train and score graphs; logits are [B*T, V].
func (m *model) forwardNLL() (ids, loglik, tokens, nll, logits *graphs.Value) {
	g := m.g
	ids = g.Input(InputIDs, graphs.Int64, graphs.Dims("B", "T"))
	mask := g.Input(AttentionMask, graphs.Int64, graphs.Dims("B", "T"))
	lossMask := g.Input(LossMask, m.dt, graphs.Dims("B", "T"))
	r := m.rotary(m.positionsFromMask(mask))
	hidden, _ := m.decoder(ids, r, m.attentionBias(mask, ids), nil)
	logits = m.lmHead(hidden)
	loglik, tokens = m.sequenceLogLik(logits, ids, lossMask)
	return ids, loglik, tokens, m.lengthNormalizedNLL(loglik, tokens), logits
}

// BuildTrain builds the train graph: loss = sum_j w_j * nll_j with nll the length-normalized
// NLL of each sequence's scored tokens, plus the gradient of loss for every trainable
// parameter, all from one Run. Outputs: loss [1], nll [B], tokens [B], grad.<param>.
func BuildTrain(cfg Config, opt Options) (*graphs.Graph, error) {
	return build("train", func() *graphs.Graph {
		m := newModel("llama_train", cfg, opt)
		g := m.g
		_, _, tokens, nll, _ := m.forwardNLL()
		weights := g.Input(SeqWeights, m.dt, graphs.Dims("B"))
		loss := g.Output(OutLoss, g.Reshape(g.ReduceSum(g.Mul(weights, nll), nil, false), 1))
		g.Output(OutNLL, nll)
		g.Output(OutTokens, tokens)
		var wrt []*graphs.Value
		for _, p := range m.order {
			if opt.Frozen == nil || !opt.Frozen(p.Name()) {
				wrt = append(wrt, p)
			}
		}
		for i, grad := range g.Grad(loss, wrt...) {
			g.Output(GradName(wrt[i].Name()), grad)
		}
		return g
	})
}

// BuildScore builds the forward-only score graph. Outputs: loglik [B], tokens [B], nll [B].
func BuildScore(cfg Config, opt Options) (*graphs.Graph, error) {
	return build("score", func() *graphs.Graph {
		m := newModel("llama_score", cfg, opt)
		g := m.g
		ids, loglik, tokens, nll, logits := m.forwardNLL()
		g.Output(OutLogLik, loglik)
		g.Output(OutTokens, tokens)
		g.Output(OutNLL, nll)
		if opt.Logits {
			v := int64(cfg.VocabSize)
			shape := graphs.Shape{ids.Shape()[0], ids.Shape()[1], graphs.D(v)}
			g.Output(OutLogits, g.ReshapeTo(logits, g.Concat(0, g.ShapeOf(ids), g.Ints(v)), shape))
		}
		return g
	})
}

// BuildDecode builds the KV-cache decode graph for S new tokens after P cached ones (S = the
// prompt length and P = 0 for prefill, S = 1 for each generated token). Inputs: input_ids and
// position_ids [B, S], attention_mask [B, P+S], past_key.l / past_value.l [B, kv heads, P, hd].
// Outputs: logits [B, V] of the last position, present_key.l / present_value.l [B, kv heads,
// P+S, hd]. Batches of different prompt lengths are left-padded.
func BuildDecode(cfg Config, opt Options) (*graphs.Graph, error) {
	return build("decode", func() *graphs.Graph {
		m := newModel("llama_decode", cfg, opt)
		g := m.g
		ids := g.Input(InputIDs, graphs.Int64, graphs.Dims("B", "S"))
		positions := g.Input(PositionIDs, graphs.Int64, graphs.Dims("B", "S"))
		mask := g.Input(AttentionMask, graphs.Int64, graphs.Dims("B", "P+S"))
		kvShape := graphs.Dims("B", cfg.NumKeyValueHeads, "P", cfg.HeadDim)
		past := make([]kvCache, cfg.NumHiddenLayers)
		for l := range past {
			past[l] = kvCache{g.Input(PastKey(l), m.dt, kvShape), g.Input(PastValue(l), m.dt, kvShape)}
		}
		hidden, present := m.decoder(ids, m.rotary(positions), m.attentionBias(mask, ids), past)
		// Keep only the last position of each row: [B*S, D] -> [B, S, D] -> [B, D].
		d := int64(cfg.HiddenSize)
		hidden = g.ReshapeTo(hidden, g.Concat(0, g.ShapeOf(ids), g.Ints(d)), graphs.Shape{ids.Shape()[0], ids.Shape()[1], graphs.D(d)})
		last := g.Squeeze(g.Slice(hidden, []int64{-1}, []int64{math.MaxInt64}, []int64{1}), 1)
		g.Output(OutLogits, m.lmHead(last))
		for l, kv := range present {
			g.Output(PresentKey(l), kv.k)
			g.Output(PresentValue(l), kv.v)
		}
		return g
	})
}
