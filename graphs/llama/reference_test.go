package llama

// A plain float64 reference forward pass of Hugging Face's LlamaForCausalLM
// (transformers' modeling_llama.py, eager attention) for tiny configs in tests. It is written
// for readability, not speed: every step is a loop over the formulas of the model.
//
// Conventions:
//   - params[name] is row-major with the shape given by Config.Params(); a linear layer
//     computes y = x @ W^T with W of shape [out, in].
//   - Head-major features: feature index = head*HeadDim + j.
//   - Positions come from the attention mask: cumsum(mask) - 1, and 1 where mask == 0.
//   - Key j is visible to query i iff j <= i and mask[j] == 1; invisible scores get -1e9
//     added (see refMaskScore).

import (
	"fmt"
	"math"
	"math/rand/v2"
	"strings"
)

// refMaskBias is the additive bias of an invisible attention score.
const refMaskBias = -1e9

// referenceForward returns logits [B][T][V] for ids [B][T] and attentionMask [B][T]
// (1 = real token, 0 = padding). A nil attentionMask means all ones.
func referenceForward(cfg Config, params map[string][]float64, ids [][]int64, attentionMask [][]int64) [][][]float64 {
	cfg = refConfig(cfg)
	if attentionMask != nil && len(attentionMask) != len(ids) {
		panic(fmt.Sprintf("reference: %d id rows but %d mask rows", len(ids), len(attentionMask)))
	}
	logits := make([][][]float64, len(ids))
	for b := range ids {
		mask := refOnes(len(ids[b]))
		if attentionMask != nil {
			mask = attentionMask[b]
		}
		if len(mask) != len(ids[b]) {
			panic(fmt.Sprintf("reference: row %d has %d ids but %d mask entries", b, len(ids[b]), len(mask)))
		}
		logits[b] = refSequence(cfg, params, ids[b], mask)
	}
	return logits
}

// referenceNLL returns, per sequence, the length-normalized NLL
// p = -(1/n) * sum over positions t>=1 with lossMask[b][t]==1 of
// log softmax(logits[b][t-1])[ids[b][t]], and n (the count of such t); p = 0 when n = 0.
func referenceNLL(cfg Config, params map[string][]float64, ids, attentionMask, lossMask [][]int64) (p []float64, n []int) {
	logits := referenceForward(cfg, params, ids, attentionMask)
	p = make([]float64, len(ids))
	n = make([]int, len(ids))
	for b := range ids {
		if len(lossMask[b]) != len(ids[b]) {
			panic(fmt.Sprintf("reference: row %d has %d ids but %d loss-mask entries", b, len(ids[b]), len(lossMask[b])))
		}
		var sum float64
		for t := 1; t < len(ids[b]); t++ {
			if lossMask[b][t] != 1 {
				continue
			}
			sum += refLogSoftmax(logits[b][t-1])[ids[b][t]]
			n[b]++
		}
		if n[b] > 0 {
			p[b] = -sum / float64(n[b])
		}
	}
	return p, n
}

// randomParams makes deterministic params for cfg from seed: normal(0, 0.2) for matrices (so
// logits are not tiny) and 1 + normal(0, 0.1) for RMSNorm weights.
func randomParams(cfg Config, seed uint64) map[string][]float64 {
	cfg = refConfig(cfg)
	rng := rand.New(rand.NewPCG(seed, 0x9e3779b97f4a7c15))
	params := make(map[string][]float64)
	for _, p := range cfg.Params() {
		w := make([]float64, refSize(p.Shape))
		isNorm := refIsNormParam(p.Name)
		for i := range w {
			if isNorm {
				w[i] = 1 + 0.1*rng.NormFloat64()
			} else {
				w[i] = 0.2 * rng.NormFloat64()
			}
		}
		params[p.Name] = w
	}
	return params
}

// refSequence runs the model on one sequence and returns its logits [T][V].
func refSequence(cfg Config, params map[string][]float64, ids, mask []int64) [][]float64 {
	D, F, V := cfg.HiddenSize, cfg.IntermediateSize, cfg.VocabSize
	H, KV, hd := cfg.NumAttentionHeads, cfg.NumKeyValueHeads, cfg.HeadDim
	T := len(ids)
	eps := cfg.RMSNormEps

	// Embedding lookup.
	embed := refParam(params, "model.embed_tokens.weight", V*D)
	x := make([][]float64, T)
	for t, id := range ids {
		if id < 0 || id >= int64(V) {
			panic(fmt.Sprintf("reference: token id %d outside the vocabulary of %d", id, V))
		}
		x[t] = append([]float64(nil), embed[int(id)*D:(int(id)+1)*D]...)
	}

	positions := refPositions(mask)
	invFreq := refInvFreq(cfg)

	for l := range cfg.NumHiddenLayers {
		pre := fmt.Sprintf("model.layers.%d.", l)
		inNorm := refParam(params, pre+"input_layernorm.weight", D)
		wq := refParam(params, pre+"self_attn.q_proj.weight", H*hd*D)
		wk := refParam(params, pre+"self_attn.k_proj.weight", KV*hd*D)
		wv := refParam(params, pre+"self_attn.v_proj.weight", KV*hd*D)
		wo := refParam(params, pre+"self_attn.o_proj.weight", D*H*hd)
		postNorm := refParam(params, pre+"post_attention_layernorm.weight", D)
		wGate := refParam(params, pre+"mlp.gate_proj.weight", F*D)
		wUp := refParam(params, pre+"mlp.up_proj.weight", F*D)
		wDown := refParam(params, pre+"mlp.down_proj.weight", D*F)

		// Attention block: projections, then RoPE on every head of q and k.
		q := make([][]float64, T) // [T][H*hd]
		k := make([][]float64, T) // [T][KV*hd]
		v := make([][]float64, T) // [T][KV*hd]
		for t := range T {
			h := refRMSNorm(x[t], inNorm, eps)
			q[t] = refRoPEHeads(refLinear(h, wq, H*hd), H, hd, positions[t], invFreq)
			k[t] = refRoPEHeads(refLinear(h, wk, KV*hd), KV, hd, positions[t], invFreq)
			v[t] = refLinear(h, wv, KV*hd)
		}
		group := H / KV // query heads per kv head (HF repeat_kv)
		scale := 1 / math.Sqrt(float64(hd))
		for i := range T {
			attn := make([]float64, H*hd) // heads concatenated
			for hq := range H {
				hk := hq / group
				qh := q[i][hq*hd : (hq+1)*hd]
				scores := make([]float64, T)
				for j := range T {
					s := refDot(qh, k[j][hk*hd:(hk+1)*hd]) * scale
					visible := j <= i && mask[j] == 1 && (cfg.SlidingWindow == nil || i-j < *cfg.SlidingWindow)
					scores[j] = refMaskScore(s, visible)
				}
				probs := refSoftmax(scores)
				for j := range T {
					vh := v[j][hk*hd : (hk+1)*hd]
					for e := range hd {
						attn[hq*hd+e] += probs[j] * vh[e]
					}
				}
			}
			o := refLinear(attn, wo, D)
			for e := range D {
				x[i][e] += o[e]
			}
		}

		// MLP block: down(silu(gate(h)) * up(h)).
		for t := range T {
			h := refRMSNorm(x[t], postNorm, eps)
			gate := refLinear(h, wGate, F)
			up := refLinear(h, wUp, F)
			act := make([]float64, F)
			for e := range F {
				act[e] = refSiLU(gate[e]) * up[e]
			}
			m := refLinear(act, wDown, D)
			for e := range D {
				x[t][e] += m[e]
			}
		}
	}

	// Final norm and LM head.
	finalNorm := refParam(params, "model.norm.weight", D)
	head := embed
	if !cfg.TieWordEmbeddings {
		head = refParam(params, "lm_head.weight", V*D)
	}
	logits := make([][]float64, T)
	for t := range T {
		logits[t] = refLinear(refRMSNorm(x[t], finalNorm, eps), head, V)
	}
	return logits
}

// refConfig returns a validated copy of cfg (defaults filled in).
func refConfig(cfg Config) Config {
	if err := cfg.Validate(); err != nil {
		panic(fmt.Sprintf("reference: invalid config: %v", err))
	}
	return cfg
}

// refParam returns params[name], checking that it holds size values.
func refParam(params map[string][]float64, name string, size int) []float64 {
	w, ok := params[name]
	if !ok {
		panic(fmt.Sprintf("reference: missing parameter %s", name))
	}
	if len(w) != size {
		panic(fmt.Sprintf("reference: parameter %s has %d values, want %d", name, len(w), size))
	}
	return w
}

// refSize is the number of elements of a tensor of the given shape.
func refSize(shape []int64) int {
	n := 1
	for _, d := range shape {
		n *= int(d)
	}
	return n
}

func refOnes(n int) []int64 {
	m := make([]int64, n)
	for i := range m {
		m[i] = 1
	}
	return m
}

// refPositions returns HF's position ids for one mask row: cumsum(mask) - 1, set to 1 where
// mask == 0.
func refPositions(mask []int64) []int64 {
	pos := make([]int64, len(mask))
	var cum int64
	for t, m := range mask {
		cum += m
		if m == 0 {
			pos[t] = 1
		} else {
			pos[t] = cum - 1
		}
	}
	return pos
}

// refLinear returns x @ W^T for W row-major [out, len(x)].
func refLinear(x, w []float64, out int) []float64 {
	in := len(x)
	if len(w) != out*in {
		panic(fmt.Sprintf("reference: linear weight has %d values, want %d x %d", len(w), out, in))
	}
	y := make([]float64, out)
	for o := range out {
		y[o] = refDot(x, w[o*in:(o+1)*in])
	}
	return y
}

func refDot(a, b []float64) float64 {
	var s float64
	for i := range a {
		s += a[i] * b[i]
	}
	return s
}

// refRMSNorm returns x / sqrt(mean(x^2) + eps) * w.
func refRMSNorm(x, w []float64, eps float64) []float64 {
	var ms float64
	for _, e := range x {
		ms += e * e
	}
	ms /= float64(len(x))
	rms := math.Sqrt(ms + eps)
	y := make([]float64, len(x))
	for i := range x {
		y[i] = x[i] / rms * w[i]
	}
	return y
}

// refInvFreq is Hugging Face's rope initialisation, written as its Python is: inv_freq =
// 1 / theta^(arange(0, hd, 2)/hd); linear divides all by factor; llama3
// (_compute_llama3_parameters) divides where wavelen > low_freq_wavelen, then replaces the
// medium band (neither < high_freq_wavelen nor > low_freq_wavelen) by the smoothed blend.
func refInvFreq(cfg Config) []float64 {
	hd := cfg.HeadDim
	var invFreq []float64
	for e := 0; e < hd; e += 2 {
		invFreq = append(invFreq, 1/math.Pow(cfg.RopeTheta, float64(e)/float64(hd)))
	}
	rs := cfg.RopeScaling
	if rs == nil {
		return invFreq
	}
	typ := rs.RopeType
	if typ == "" {
		typ = rs.Type
	}
	out := make([]float64, len(invFreq))
	switch typ {
	case "linear":
		for i, f := range invFreq {
			out[i] = f / rs.Factor
		}
	case "llama3":
		oldContext := float64(rs.OriginalMaxPositionEmbeddings)
		lowFreqWavelen := oldContext / rs.LowFreqFactor
		highFreqWavelen := oldContext / rs.HighFreqFactor
		for i, f := range invFreq {
			wavelen := 2 * math.Pi / f
			llama := f
			if wavelen > lowFreqWavelen {
				llama = f / rs.Factor
			}
			smoothFactor := (oldContext/wavelen - rs.LowFreqFactor) / (rs.HighFreqFactor - rs.LowFreqFactor)
			smoothed := (1-smoothFactor)*llama/rs.Factor + smoothFactor*llama
			isMedium := !(wavelen < highFreqWavelen) && !(wavelen > lowFreqWavelen)
			out[i] = llama
			if isMedium {
				out[i] = smoothed
			}
		}
	default:
		copy(out, invFreq)
	}
	return out
}

// refRoPEHeads applies refRoPE to each of the heads head-major blocks of x.
func refRoPEHeads(x []float64, heads, headDim int, pos int64, invFreq []float64) []float64 {
	y := make([]float64, 0, len(x))
	for h := range heads {
		y = append(y, refRoPE(x[h*headDim:(h+1)*headDim], pos, invFreq)...)
	}
	return y
}

// refRoPE rotates one head vector x (length HeadDim) to position pos, HF rotate-half style:
// angle[j] = pos * inv_freq[j mod HeadDim/2],
// x' = x*cos(angle) + rotate_half(x)*sin(angle), rotate_half(x) = concat(-x[half:], x[:half]).
func refRoPE(x []float64, pos int64, invFreq []float64) []float64 {
	d := len(x)
	half := d / 2
	rotated := make([]float64, d) // rotate_half(x)
	for j := range half {
		rotated[j] = -x[j+half]
		rotated[j+half] = x[j]
	}
	y := make([]float64, d)
	for j := range d {
		i := j % half
		angle := float64(pos) * invFreq[i]
		y[j] = x[j]*math.Cos(angle) + rotated[j]*math.Sin(angle)
	}
	return y
}

// refMaskScore returns the attention score s as the softmax sees it: unchanged when the key is
// visible, else s + (-1e9). The masked sum is rounded to float32, as in the float32 graphs (and
// HF's float32 additive mask): there s + -1e9 == -1e9 for |s| < 32, so a row where every key is
// masked becomes uniform instead of keeping its float64 score differences.
func refMaskScore(s float64, visible bool) float64 {
	if visible {
		return s
	}
	return float64(float32(s) + float32(refMaskBias))
}

// refSoftmax returns exp(x - max) / sum(exp(x - max)).
func refSoftmax(x []float64) []float64 {
	m := math.Inf(-1)
	for _, e := range x {
		m = math.Max(m, e)
	}
	y := make([]float64, len(x))
	var sum float64
	for i, e := range x {
		y[i] = math.Exp(e - m)
		sum += y[i]
	}
	for i := range y {
		y[i] /= sum
	}
	return y
}

// refLogSoftmax returns x - max - log(sum(exp(x - max))).
func refLogSoftmax(x []float64) []float64 {
	m := math.Inf(-1)
	for _, e := range x {
		m = math.Max(m, e)
	}
	var sum float64
	for _, e := range x {
		sum += math.Exp(e - m)
	}
	lse := m + math.Log(sum)
	y := make([]float64, len(x))
	for i, e := range x {
		y[i] = e - lse
	}
	return y
}

// refSiLU returns z * sigmoid(z).
func refSiLU(z float64) float64 { return z / (1 + math.Exp(-z)) }

// refIsNormParam reports whether name is an RMSNorm weight.
func refIsNormParam(name string) bool { return strings.HasSuffix(name, "norm.weight") }
