package weights

import (
	"math"
	"math/rand/v2"
	"runtime"
	"strings"
	"testing"

	"github.com/l3m/l3m-engine/graphs/llama"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// initGolden is the checksum of InitRandom(tinyConfig(), 1). It must not change: resumed
// runs and seeded experiments rely on a seed meaning the same weights everywhere.
const initGolden = "d5d75c6cebbb1ef46f2c04c102324ff370eeb1599cf0ee3bc934908fe4952521"

func TestInitRandomIsPinned(t *testing.T) {
	s := InitRandom(tinyConfig(), 1)
	assert.Equal(t, initGolden, s.Checksum())
}

func TestInitRandomIsDeterministic(t *testing.T) {
	cfg := tinyConfig()
	cfg.VocabSize = 20_000 // an embedding of several parallel blocks
	want := InitRandom(cfg, 42).Checksum()
	for _, procs := range []int{1, 3, 8} {
		prev := runtime.GOMAXPROCS(procs)
		got := InitRandom(cfg, 42).Checksum()
		runtime.GOMAXPROCS(prev)
		assert.Equal(t, want, got, "GOMAXPROCS=%d", procs)
	}
	assert.NotEqual(t, want, InitRandom(cfg, 43).Checksum())
}

func TestInitRandomTensorsDependOnlyOnTheirName(t *testing.T) {
	small := tinyConfig()
	big := small
	big.NumHiddenLayers = 3
	big.TieWordEmbeddings = true
	a, b := InitRandom(small, 9), InitRandom(big, 9)
	for _, name := range a.Names() {
		if b.Has(name) {
			assert.Equal(t, a.Get(name), b.Get(name), name)
		}
	}
	assert.NotEqual(t, a.Get("model.layers.0.mlp.up_proj.weight"), a.Get("model.layers.1.mlp.up_proj.weight"))
}

func TestInitRandomDistribution(t *testing.T) {
	cfg := tinyConfig()
	cfg.VocabSize = 50_000
	s := InitRandom(cfg, 1)
	for _, name := range s.Names() {
		if strings.HasSuffix(name, "norm.weight") {
			for _, v := range s.Get(name) {
				require.Equal(t, float32(1), v, name)
			}
		}
	}
	values := s.Get("model.embed_tokens.weight") // 400,000 draws
	var sum, sumSq float64
	within1, within2 := 0, 0
	for _, v := range values {
		x := float64(v)
		sum += x
		sumSq += x * x
		if math.Abs(x) < InitStd {
			within1++
		}
		if math.Abs(x) < 2*InitStd {
			within2++
		}
	}
	n := float64(len(values))
	mean := sum / n
	std := math.Sqrt(sumSq/n - mean*mean)
	assert.InDelta(t, 0, mean, 5*InitStd/math.Sqrt(n))
	assert.InDelta(t, InitStd, std, 0.005*InitStd)
	assert.InDelta(t, 0.6827, float64(within1)/n, 0.004)
	assert.InDelta(t, 0.9545, float64(within2)/n, 0.002)
}

func TestInitRandomPanicsOnInvalidConfig(t *testing.T) {
	assert.PanicsWithValue(t, "weights: InitRandom: invalid config: vocab_size must be positive, got 0", func() {
		InitRandom(llama.Config{}, 1)
	})
}

func TestExactLogMatchesMathLog(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	for range 200_000 {
		x := r.Float64()
		if x == 0 {
			continue
		}
		if want, got := math.Log(x), exactLog(x); math.Abs(got-want) > 4*math.Abs(want)*0x1p-52+0x1p-60 {
			t.Fatalf("exactLog(%g) = %g, math.Log says %g", x, got, want)
		}
	}
	assert.Equal(t, 0.0, exactLog(1))
	assert.InDelta(t, -1074*math.Ln2, exactLog(0x1p-1074), 1e-12, "subnormal input")
}
