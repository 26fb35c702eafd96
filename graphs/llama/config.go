// Package llama builds the graphs of a LLaMA-architecture decoder (LLaMA 1/2/3, Mistral,
// TinyLlama, ...) from a Hugging Face config.json: the train graph, the score graph and the
// KV-cache decode graph. Parameters are named as in Hugging Face checkpoints.
//
// # Architecture
//
// Token embedding; per layer: RMSNorm, attention with rotary position embeddings (Hugging
// Face's rotate-half convention), grouped-query attention and a causal, padding-aware mask,
// residual, RMSNorm, SwiGLU MLP, residual; final RMSNorm; LM head (optionally tied to the
// embedding). Positions come from the attention mask.
//
// Of config.json's settings that change the computation, these are built: head_dim,
// rope_theta, rope_scaling of type default, linear or llama3 (Llama 3.1+), Mistral's
// sliding_window, tie_word_embeddings. Anything else that would change it (other
// rope_scaling types, attention or MLP biases, an activation other than silu) is refused
// by [Config.Validate] with the field's name, never ignored.
package llama

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"reflect"
	"strings"
)

// Config holds the LlamaConfig fields of a Hugging Face config.json that the architecture
// needs. Zero values are filled by Validate with Hugging Face's defaults where one exists.
type Config struct {
	ModelType             string   `json:"model_type,omitempty"`
	VocabSize             int      `json:"vocab_size"`
	HiddenSize            int      `json:"hidden_size"`
	IntermediateSize      int      `json:"intermediate_size"`
	NumHiddenLayers       int      `json:"num_hidden_layers"`
	NumAttentionHeads     int      `json:"num_attention_heads"`
	NumKeyValueHeads      int      `json:"num_key_value_heads,omitempty"` // default NumAttentionHeads
	HeadDim               int      `json:"head_dim,omitempty"`            // default HiddenSize/NumAttentionHeads
	RMSNormEps            float64  `json:"rms_norm_eps,omitempty"`        // default 1e-6
	RopeTheta             float64  `json:"rope_theta,omitempty"`          // default 10000
	MaxPositionEmbeddings int      `json:"max_position_embeddings,omitempty"`
	TieWordEmbeddings     bool     `json:"tie_word_embeddings"`
	TorchDType            string   `json:"torch_dtype,omitempty"`
	Architectures         []string `json:"architectures,omitempty"`

	// Fields that change the computation: supported values are built, others refused by
	// Validate, never ignored.
	RopeScaling   *RopeScaling `json:"rope_scaling,omitempty"`   // null: plain RoPE
	SlidingWindow *int         `json:"sliding_window,omitempty"` // Mistral; null: full causal attention
	HiddenAct     string       `json:"hidden_act,omitempty"`     // only silu
	AttentionBias bool         `json:"attention_bias"`           // only false
	MLPBias       bool         `json:"mlp_bias"`                 // only false

	// Other holds the document's remaining settings verbatim (token ids, which may be
	// lists, transformers_version, ...), so that Save writes them back unchanged and a
	// trained model's config.json says what the original did.
	Other map[string]json.RawMessage `json:"-"`
}

// configKeys are the JSON names of Config's own fields.
var configKeys = func() map[string]bool {
	keys := map[string]bool{}
	t := reflect.TypeFor[Config]()
	for i := range t.NumField() {
		if name, _, _ := strings.Cut(t.Field(i).Tag.Get("json"), ","); name != "" && name != "-" {
			keys[name] = true
		}
	}
	return keys
}()

// UnmarshalJSON reads Config's fields and keeps every other key in Other.
func (c *Config) UnmarshalJSON(b []byte) error {
	type fields Config
	var f fields
	if err := json.Unmarshal(b, &f); err != nil {
		return err
	}
	var all map[string]json.RawMessage
	if err := json.Unmarshal(b, &all); err != nil {
		return err
	}
	for k, v := range all {
		if configKeys[k] {
			delete(all, k)
			continue
		}
		var compact bytes.Buffer
		if err := json.Compact(&compact, v); err != nil {
			return err
		}
		all[k] = compact.Bytes()
	}
	if len(all) == 0 {
		all = nil
	}
	f.Other = all
	*c = Config(f)
	return nil
}

// MarshalJSON writes Config's fields and then Other's keys, in key order.
func (c Config) MarshalJSON() ([]byte, error) {
	type fields Config
	b, err := json.Marshal(fields(c))
	if err != nil {
		return nil, err
	}
	var all map[string]json.RawMessage
	if err := json.Unmarshal(b, &all); err != nil {
		return nil, err
	}
	for k, v := range c.Other {
		if _, own := all[k]; !own {
			all[k] = v
		}
	}
	return json.Marshal(all)
}

// RopeScaling is config.json's rope_scaling: how the rotary frequencies are rescaled for
// long contexts. Supported types: "default", "linear" (every frequency divided by Factor)
// and "llama3" (Llama 3.1+: low frequencies divided by Factor, high ones kept, a smooth
// blend between, set by the wavelengths of OriginalMaxPositionEmbeddings).
type RopeScaling struct {
	RopeType                      string  `json:"rope_type,omitempty"`
	Type                          string  `json:"type,omitempty"` // older name of rope_type
	Factor                        float64 `json:"factor,omitempty"`
	LowFreqFactor                 float64 `json:"low_freq_factor,omitempty"`
	HighFreqFactor                float64 `json:"high_freq_factor,omitempty"`
	OriginalMaxPositionEmbeddings int     `json:"original_max_position_embeddings,omitempty"`
}

// kind is the scaling type, rope_type or else type.
func (r *RopeScaling) kind() string {
	if r.RopeType != "" {
		return r.RopeType
	}
	return r.Type
}

func (r *RopeScaling) validate() error {
	switch r.kind() {
	case "default":
		return nil
	case "linear":
		if !(r.Factor > 0) {
			return fmt.Errorf("rope_scaling: linear needs factor > 0, got %v", r.Factor)
		}
		return nil
	case "llama3":
		if !(r.Factor > 0) || !(r.LowFreqFactor > 0) || !(r.HighFreqFactor > r.LowFreqFactor) || r.OriginalMaxPositionEmbeddings <= 0 {
			return fmt.Errorf("rope_scaling: llama3 needs factor > 0, 0 < low_freq_factor < high_freq_factor and "+
				"original_max_position_embeddings > 0, got %v, %v, %v and %d",
				r.Factor, r.LowFreqFactor, r.HighFreqFactor, r.OriginalMaxPositionEmbeddings)
		}
		return nil
	case "":
		return fmt.Errorf("rope_scaling: no rope_type (or type)")
	}
	return fmt.Errorf("rope_scaling: type %q is not supported (supported: default, linear, llama3)", r.kind())
}

// InvFreq returns the HeadDim/2 rotary inverse frequencies, theta^(-2i/HeadDim), rescaled
// by rope_scaling as Hugging Face's rope initialisation functions do.
func (c Config) InvFreq() []float64 {
	hd := c.HeadDim
	f := make([]float64, hd/2)
	for i := range f {
		f[i] = 1 / math.Pow(c.RopeTheta, float64(2*i)/float64(hd))
	}
	r := c.RopeScaling
	if r == nil {
		return f
	}
	switch r.kind() {
	case "linear":
		for i := range f {
			f[i] /= r.Factor
		}
	case "llama3":
		old := float64(r.OriginalMaxPositionEmbeddings)
		lowWavelen, highWavelen := old/r.LowFreqFactor, old/r.HighFreqFactor
		for i, v := range f {
			switch wavelen := 2 * math.Pi / v; {
			case wavelen < highWavelen: // high frequency: kept
			case wavelen > lowWavelen: // low frequency: interpolated
				f[i] = v / r.Factor
			default: // between: a smooth blend of the two
				smooth := (old/wavelen - r.LowFreqFactor) / (r.HighFreqFactor - r.LowFreqFactor)
				f[i] = (1-smooth)*v/r.Factor + smooth*v
			}
		}
	}
	return f
}

// LoadConfig reads and validates a Hugging Face config.json.
func LoadConfig(path string) (Config, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return Config{}, fmt.Errorf("llama: %w", err)
	}
	var c Config
	if err := json.Unmarshal(b, &c); err != nil {
		return Config{}, fmt.Errorf("llama: %s: %w", path, err)
	}
	if err := c.Validate(); err != nil {
		return Config{}, fmt.Errorf("llama: %s: %w", path, err)
	}
	return c, nil
}

// Save writes the config as config.json-style JSON.
func (c Config) Save(path string) error {
	if c.ModelType == "" {
		c.ModelType = "llama"
	}
	if len(c.Architectures) == 0 {
		c.Architectures = []string{"LlamaForCausalLM"}
	}
	b, err := json.MarshalIndent(c, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(path, append(b, '\n'), 0o644)
}

// Validate fills defaults and checks that the sizes fit together.
func (c *Config) Validate() error {
	if c.NumKeyValueHeads == 0 {
		c.NumKeyValueHeads = c.NumAttentionHeads
	}
	if c.HeadDim == 0 && c.NumAttentionHeads > 0 {
		c.HeadDim = c.HiddenSize / c.NumAttentionHeads
	}
	if c.RMSNormEps == 0 {
		c.RMSNormEps = 1e-6
	}
	if c.RopeTheta == 0 {
		c.RopeTheta = 10000
	}
	if c.MaxPositionEmbeddings == 0 {
		c.MaxPositionEmbeddings = 2048
	}
	for _, f := range []struct {
		name string
		v    int
	}{
		{"vocab_size", c.VocabSize}, {"hidden_size", c.HiddenSize}, {"intermediate_size", c.IntermediateSize},
		{"num_hidden_layers", c.NumHiddenLayers}, {"num_attention_heads", c.NumAttentionHeads},
	} {
		if f.v <= 0 {
			return fmt.Errorf("%s must be positive, got %d", f.name, f.v)
		}
	}
	if c.NumAttentionHeads%c.NumKeyValueHeads != 0 {
		return fmt.Errorf("num_attention_heads (%d) must be a multiple of num_key_value_heads (%d)", c.NumAttentionHeads, c.NumKeyValueHeads)
	}
	if c.HeadDim%2 != 0 {
		return fmt.Errorf("head dimension %d must be even for rotary embeddings", c.HeadDim)
	}
	if c.ModelType != "" && c.ModelType != "llama" && c.ModelType != "mistral" {
		return fmt.Errorf("model_type %q is not a LLaMA-architecture model (want llama or mistral)", c.ModelType)
	}
	if c.RopeScaling != nil {
		if err := c.RopeScaling.validate(); err != nil {
			return err
		}
	}
	switch {
	case c.SlidingWindow != nil && *c.SlidingWindow <= 0:
		return fmt.Errorf("sliding_window must be positive or null, got %d", *c.SlidingWindow)
	case c.HiddenAct != "" && c.HiddenAct != "silu":
		return fmt.Errorf("hidden_act %q is not supported (only silu)", c.HiddenAct)
	case c.AttentionBias:
		return fmt.Errorf("attention_bias true is not supported (q/k/v/o projections without bias only)")
	case c.MLPBias:
		return fmt.Errorf("mlp_bias true is not supported (MLP projections without bias only)")
	}
	return nil
}

// Param names one parameter tensor and its shape, Hugging Face style ([out, in] for linear
// layers).
type Param struct {
	Name  string
	Shape []int64
}

// Params lists every parameter in a fixed order: embedding, layers in order, final norm,
// LM head (absent when tied).
func (c Config) Params() []Param {
	d, f, v := int64(c.HiddenSize), int64(c.IntermediateSize), int64(c.VocabSize)
	q := int64(c.NumAttentionHeads * c.HeadDim)
	kv := int64(c.NumKeyValueHeads * c.HeadDim)
	ps := []Param{{"model.embed_tokens.weight", []int64{v, d}}}
	for l := 0; l < c.NumHiddenLayers; l++ {
		p := fmt.Sprintf("model.layers.%d.", l)
		ps = append(ps,
			Param{p + "input_layernorm.weight", []int64{d}},
			Param{p + "self_attn.q_proj.weight", []int64{q, d}},
			Param{p + "self_attn.k_proj.weight", []int64{kv, d}},
			Param{p + "self_attn.v_proj.weight", []int64{kv, d}},
			Param{p + "self_attn.o_proj.weight", []int64{d, q}},
			Param{p + "post_attention_layernorm.weight", []int64{d}},
			Param{p + "mlp.gate_proj.weight", []int64{f, d}},
			Param{p + "mlp.up_proj.weight", []int64{f, d}},
			Param{p + "mlp.down_proj.weight", []int64{d, f}},
		)
	}
	ps = append(ps, Param{"model.norm.weight", []int64{d}})
	if !c.TieWordEmbeddings {
		ps = append(ps, Param{"lm_head.weight", []int64{v, d}})
	}
	return ps
}

// NumParams is the total number of parameters.
func (c Config) NumParams() int64 {
	var n int64
	for _, p := range c.Params() {
		size := int64(1)
		for _, d := range p.Shape {
			size *= d
		}
		n += size
	}
	return n
}
