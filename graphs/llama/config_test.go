package llama

import (
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestLlama31Config loads Llama-3.1-8B's config.json: grouped-query attention, llama3 rope
// scaling, a list of EOS ids; 8.03e9 parameters.
func TestLlama31Config(t *testing.T) {
	cfg, err := LoadConfig(filepath.Join("..", "..", "testdata", "configs", "llama-3.1-8b.json"))
	require.NoError(t, err)
	require.Equal(t, int64(8_030_261_248), cfg.NumParams())
	require.Equal(t, 128, cfg.HeadDim)
	require.JSONEq(t, `[128001, 128008, 128009]`, string(cfg.Other["eos_token_id"]), "kept verbatim")
	require.Equal(t, "llama3", cfg.RopeScaling.RopeType)

	// Against Hugging Face's algorithm (refInvFreq) and by regime: wavelengths below
	// 8192/4 are kept, above 8192/1 divided by 8, blended between.
	got, want := cfg.InvFreq(), refInvFreq(cfg)
	require.Len(t, got, 64)
	var kept, divided, blended int
	for i, f := range got {
		require.InDelta(t, want[i], f, 1e-15*want[i], "inv_freq[%d]", i)
		plain := math.Pow(cfg.RopeTheta, -float64(2*i)/128)
		switch wavelen := 2 * math.Pi / plain; {
		case wavelen < 2048:
			require.Equal(t, plain, f)
			kept++
		case wavelen > 8192:
			require.InDelta(t, plain/8, f, 1e-18)
			divided++
		default:
			require.Greater(t, f, plain/8)
			require.Less(t, f, plain)
			blended++
		}
	}
	t.Logf("inv_freq: %d kept, %d blended, %d divided by 8", kept, blended, divided)
	require.Positive(t, kept)
	require.Positive(t, blended)
	require.Positive(t, divided)
}

// TestConfigSaveKeepsEverySetting: Save writes back every key of the loaded config.json,
// the ones Config does not model (token id lists, versions) verbatim, plus the defaults
// Validate filled in.
func TestConfigSaveKeepsEverySetting(t *testing.T) {
	path := filepath.Join("..", "..", "testdata", "configs", "llama-3.1-8b.json")
	cfg, err := LoadConfig(path)
	require.NoError(t, err)
	saved := filepath.Join(t.TempDir(), "config.json")
	require.NoError(t, cfg.Save(saved))
	var before, after map[string]any
	for p, m := range map[string]*map[string]any{path: &before, saved: &after} {
		b, err := os.ReadFile(p)
		require.NoError(t, err)
		require.NoError(t, json.Unmarshal(b, m))
	}
	require.Equal(t, 128.0, after["head_dim"], "filled in by Validate")
	delete(after, "head_dim")
	require.Equal(t, before, after)
	again, err := LoadConfig(saved)
	require.NoError(t, err)
	require.Equal(t, cfg, again)
}

func TestInvFreqLinearAndDefault(t *testing.T) {
	cfg := tinyConfig()
	plain := cfg.InvFreq()
	require.Equal(t, []float64{1, 0.01}, plain)
	cfg.RopeScaling = &RopeScaling{Type: "linear", Factor: 4}
	require.NoError(t, cfg.Validate())
	require.Equal(t, []float64{0.25, 0.0025}, cfg.InvFreq())
	require.Equal(t, refInvFreq(cfg), cfg.InvFreq())
	cfg.RopeScaling = &RopeScaling{RopeType: "default"}
	require.NoError(t, cfg.Validate())
	require.Equal(t, plain, cfg.InvFreq())
}

// TestConfigRefusesWhatItCannotBuild: settings that change the computation and that the
// graphs do not implement are errors naming the field, never silently ignored.
func TestConfigRefusesWhatItCannotBuild(t *testing.T) {
	base := `"vocab_size": 11, "hidden_size": 8, "intermediate_size": 12, "num_hidden_layers": 1, "num_attention_heads": 2`
	for _, c := range []struct{ extra, want string }{
		{`"rope_scaling": {"rope_type": "dynamic", "factor": 2}`, `rope_scaling: type "dynamic" is not supported (supported: default, linear, llama3)`},
		{`"rope_scaling": {"type": "yarn", "factor": 4}`, `rope_scaling: type "yarn" is not supported`},
		{`"rope_scaling": {"factor": 4}`, "rope_scaling: no rope_type (or type)"},
		{`"rope_scaling": {"rope_type": "linear"}`, "rope_scaling: linear needs factor > 0"},
		{`"rope_scaling": {"rope_type": "llama3", "factor": 8, "low_freq_factor": 4, "high_freq_factor": 1, "original_max_position_embeddings": 8192}`, "rope_scaling: llama3 needs"},
		{`"hidden_act": "gelu"`, `hidden_act "gelu" is not supported (only silu)`},
		{`"attention_bias": true`, "attention_bias true is not supported"},
		{`"mlp_bias": true`, "mlp_bias true is not supported"},
		{`"sliding_window": 0`, "sliding_window must be positive or null, got 0"},
	} {
		var cfg Config
		require.NoError(t, json.Unmarshal([]byte("{"+base+", "+c.extra+"}"), &cfg))
		err := cfg.Validate()
		require.Error(t, err, c.extra)
		require.Contains(t, err.Error(), c.want)
	}
	for _, ok := range []string{`"rope_scaling": null`, `"sliding_window": null`, `"sliding_window": 4096`, `"hidden_act": "silu"`} {
		var cfg Config
		require.NoError(t, json.Unmarshal([]byte("{"+base+", "+ok+"}"), &cfg))
		require.NoError(t, cfg.Validate(), ok)
	}
}
