package weights

import (
	"fmt"
	"hash/fnv"
	"math"
	"math/rand/v2"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/l3m/l3m-engine/graphs/llama"
)

// InitStd is the standard deviation of InitRandom's normal weights, transformers'
// initializer_range default.
const InitStd = 0.02

// initBlock is how many values one random stream fills; blocks are the unit of parallel
// work, so the output does not depend on the number of workers.
const initBlock = 1 << 16

// InitRandom returns freshly initialized parameters for cfg, as transformers'
// LlamaPreTrainedModel._init_weights makes them: RMSNorm weights (names ending in
// "norm.weight") are ones, every other weight (embedding, projections, LM head) is drawn
// from a normal distribution with mean 0 and standard deviation InitStd. Each block of
// initBlock values of a tensor has its own PCG stream, seeded from seed, the tensor's
// name and the block's index, and the normal samples use only correctly rounded
// arithmetic, so a seed gives bit-identical weights on any machine and any number of
// cores, and a tensor's values do not depend on the other tensors in the model.
//
// Unlike transformers, the embedding row of pad_token_id is not zeroed: config.json's
// pad_token_id cannot be told apart from an absent one here, and the training graph
// updates that row anyway. InitRandom panics on a config that fails Validate.
func InitRandom(cfg llama.Config, seed uint64) *Store {
	if err := cfg.Validate(); err != nil {
		panic(fmt.Sprintf("weights: InitRandom: invalid config: %v", err))
	}
	s := NewStore(cfg.Params())
	type job struct {
		name  string
		block int
		dst   []float32
	}
	var jobs []job
	for _, name := range s.names {
		dst := s.Get(name)
		if strings.HasSuffix(name, "norm.weight") {
			for i := range dst {
				dst[i] = 1
			}
			continue
		}
		for b := 0; b*initBlock < len(dst); b++ {
			jobs = append(jobs, job{name, b, dst[b*initBlock : min((b+1)*initBlock, len(dst))]})
		}
	}
	var next atomic.Int64
	var wg sync.WaitGroup
	for range min(runtime.GOMAXPROCS(0), len(jobs)) {
		wg.Go(func() {
			for {
				i := int(next.Add(1) - 1)
				if i >= len(jobs) {
					return
				}
				j := jobs[i]
				normal := newNormalStream(seed, j.name, j.block)
				for k := range j.dst {
					j.dst[k] = float32(InitStd * normal.next())
				}
			}
		})
	}
	wg.Wait()
	return s
}

// normalStream draws standard normal samples with the Marsaglia polar method. It avoids
// math.Log and the ziggurat of math/rand, whose last bits can differ between
// architectures (assembly implementations, fused multiply-adds): every operation here is
// an IEEE add, multiply, divide or square root, rounded on its own.
type normalStream struct {
	pcg      *rand.PCG
	spare    float64
	hasSpare bool
}

func newNormalStream(seed uint64, tensor string, block int) *normalStream {
	h := fnv.New64a()
	h.Write([]byte(tensor))
	return &normalStream{pcg: rand.NewPCG(splitmix64(seed), splitmix64(h.Sum64()^splitmix64(uint64(block))))}
}

func (n *normalStream) next() float64 {
	if n.hasSpare {
		n.hasSpare = false
		return n.spare
	}
	for {
		u, v := n.signedUniform(), n.signedUniform()
		s := float64(u*u) + float64(v*v)
		if s >= 1 || s == 0 {
			continue
		}
		scale := math.Sqrt(float64(-2*exactLog(s)) / s)
		n.spare, n.hasSpare = float64(v*scale), true
		return float64(u * scale)
	}
}

// signedUniform is uniform on [-1, 1) with 54 random bits, computed exactly.
func (n *normalStream) signedUniform() float64 {
	return float64(int64(n.pcg.Uint64()>>10)-1<<53) * 0x1p-53
}

// logSeries holds 1/(2k+1), the coefficients of atanh(t)/t = ln((1+t)/(1-t))/(2t).
var logSeries = func() [13]float64 {
	var c [13]float64
	for k := range c {
		c[k] = 1 / float64(2*k+1)
	}
	return c
}()

// exactLog is the natural logarithm of x > 0, accurate to a few ulps and bit-identical
// on every architecture: x = m·2^e with m in [√½, √2), ln m = 2·atanh((m-1)/(m+1)) as a
// series in t² ≤ 0.03 (13 terms reach 1e-19), and each product is rounded explicitly so
// the compiler cannot fuse it into a multiply-add.
func exactLog(x float64) float64 {
	m, e := math.Frexp(x)
	if m < math.Sqrt2/2 {
		m *= 2
		e--
	}
	t := (m - 1) / (m + 1)
	t2 := float64(t * t)
	p := logSeries[len(logSeries)-1]
	for k := len(logSeries) - 2; k >= 0; k-- {
		p = float64(p*t2) + logSeries[k]
	}
	return float64(float64(e)*math.Ln2) + float64(2*t*p)
}

// splitmix64 scrambles a seed so that nearby seeds start unrelated PCG streams.
func splitmix64(x uint64) uint64 {
	x += 0x9e3779b97f4a7c15
	x = (x ^ x>>30) * 0xbf58476d1ce4e5b9
	x = (x ^ x>>27) * 0x94d049bb133111eb
	return x ^ x>>31
}
