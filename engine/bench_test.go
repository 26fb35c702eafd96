package engine

import (
	"math"
	"math/rand/v2"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/l3m/l3m-engine/engine/ort"
	"github.com/l3m/l3m-engine/engine/weights"
	"github.com/l3m/l3m-engine/graphs/llama"
	"github.com/l3m/l3m-engine/internal/benchutil"
)

// benchConfig is the benchmark model: dim 256, 4 layers, 8 heads, ffn 688,
// vocab 32000 (19.5M parameters).
func benchConfig() llama.Config {
	c := llama.Config{VocabSize: 32000, HiddenSize: 256, IntermediateSize: 688, NumHiddenLayers: 4,
		NumAttentionHeads: 8, NumKeyValueHeads: 8, MaxPositionEmbeddings: 2048}
	if err := c.Validate(); err != nil {
		panic(err)
	}
	return c
}

func randomStore(cfg llama.Config, seed uint64) *weights.Store {
	s := weights.NewStore(cfg.Params())
	rng := rand.New(rand.NewPCG(seed, 1))
	for _, name := range s.Names() {
		w := s.Get(name)
		norm := strings.HasSuffix(name, "norm.weight")
		for i := range w {
			if norm {
				w[i] = 1
			} else {
				w[i] = float32(0.02 * rng.NormFloat64())
			}
		}
	}
	return s
}

func randomBatch(cfg llama.Config, b, t int, seed uint64) Batch {
	rng := rand.New(rand.NewPCG(seed, 2))
	bt := Batch{B: b, T: t, IDs: make([]int64, b*t), AttentionMask: make([]int64, b*t), LossMask: make([]float32, b*t)}
	for i := range bt.IDs {
		bt.IDs[i] = int64(rng.IntN(cfg.VocabSize))
		bt.AttentionMask[i] = 1
		if i%t >= t/4 {
			bt.LossMask[i] = 1
		}
	}
	return bt
}

// BenchmarkTrainStep runs train-graph steps (forward, loss and every gradient) on the
// benchmark config with batch 8 x 128 tokens on 2 threads, and reports tokens/s, achieved
// GFLOP/s = 6 * params * tokens / time, the ORT MatMul peak measured in the same run, the
// share of it, and peak RSS.
func BenchmarkTrainStep(b *testing.B) {
	cfg := benchConfig()
	const batch, seq = 8, 128
	params := randomStore(cfg, 1)
	ts, err := NewTrainStep(cfg, params, nil, ort.Options{Threads: ort.BenchThreads})
	if err != nil {
		b.Fatal(err)
	}
	defer ts.Close()
	bt := randomBatch(cfg, batch, seq, 3)
	w := make([]float32, batch)
	for i := range w {
		w[i] = 1.0 / batch
	}
	if _, err := ts.Run(bt, w); err != nil { // warm-up: ORT plans memory on the first Run
		b.Fatal(err)
	}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := ts.Run(bt, w); err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	sec := b.Elapsed().Seconds() / float64(b.N)
	tokens := float64(batch * seq)
	gflops := 6 * float64(cfg.NumParams()) * tokens / sec / 1e9
	peak, err := ort.MeasureMatMulPeak(ort.BenchThreads, ort.PeakMatMulSize)
	if err != nil {
		b.Fatal(err)
	}
	b.ReportMetric(tokens/sec, "tokens/s")
	b.ReportMetric(gflops, "GFLOP/s")
	b.ReportMetric(peak, "peak-GFLOP/s")
	b.ReportMetric(100*gflops/peak, "%peak")
	// The 6*params rule counts the embedding table, which does no MatMul work (a gather
	// forward, a scatter backward), and leaves out attention's score and value products.
	// The MatMul work actually done: 6 * (params - embedding) per token, plus 3 x (2 batched
	// products of 2*seq*seq*heads*head_dim each) per layer and sequence (full, unmasked).
	matmulParams := float64(cfg.NumParams()) - float64(cfg.VocabSize*cfg.HiddenSize)
	attention := 3 * 2 * 2 * float64(seq*seq*cfg.NumAttentionHeads*cfg.HeadDim*cfg.NumHiddenLayers) * batch
	matmul := (6*matmulParams*tokens + attention) / sec / 1e9
	b.ReportMetric(matmul, "matmul-GFLOP/s")
	b.ReportMetric(100*matmul/peak, "matmul-%peak")
	b.ReportMetric(benchutil.PeakRSSMB(), "peak-RSS-MB")
}

// copyBandwidth measures memory copy bandwidth (bytes/s, read+write counted once as the
// bytes copied) with two goroutines copying halves of a 256 MB buffer.
func copyBandwidth() float64 {
	const n = 64 << 20 // float32s = 256 MB
	src, dst := make([]float32, n), make([]float32, n)
	for i := range src {
		src[i] = float32(i)
	}
	best := math.Inf(1)
	for r := 0; r < 5; r++ {
		start := time.Now()
		var wg sync.WaitGroup
		for h := 0; h < 2; h++ {
			wg.Add(1)
			go func(h int) {
				defer wg.Done()
				copy(dst[h*n/2:(h+1)*n/2], src[h*n/2:(h+1)*n/2])
			}(h)
		}
		wg.Wait()
		best = math.Min(best, time.Since(start).Seconds())
	}
	return 4 * n / best
}

// BenchmarkDecode decodes 64 new tokens for a batch of 8 prompts of 128 tokens with the KV
// cache (prefill included in the time) and reports new tokens/s against the memory-bandwidth
// bound: every step reads all weights and the cache once, at the measured copy bandwidth.
func BenchmarkDecode(b *testing.B) {
	cfg := benchConfig()
	const batch, prompt, newTokens = 8, 128, 64
	params := randomStore(cfg, 1)
	d, err := NewDecoder(cfg, params, batch, prompt+newTokens, ort.Options{Threads: ort.BenchThreads})
	if err != nil {
		b.Fatal(err)
	}
	defer d.Close()
	prompts := make([][]int32, batch)
	rng := rand.New(rand.NewPCG(5, 5))
	for r := range prompts {
		prompts[r] = make([]int32, prompt)
		for i := range prompts[r] {
			prompts[r][i] = int32(rng.IntN(cfg.VocabSize))
		}
	}
	generate := func() {
		logits, err := d.Prefill(prompts, 0)
		if err != nil {
			b.Fatal(err)
		}
		next := make([]int32, batch)
		for s := 0; s < newTokens; s++ {
			for r := range next {
				next[r] = argmax(logits[r*cfg.VocabSize : (r+1)*cfg.VocabSize])
			}
			if logits, err = d.Step(next); err != nil {
				b.Fatal(err)
			}
		}
	}
	generate() // warm-up
	b.ResetTimer()
	var stepTime time.Duration
	for i := 0; i < b.N; i++ {
		generate()
	}
	b.StopTimer()
	// Time the decode steps alone, for the bound comparison.
	logits, _ := d.Prefill(prompts, 0)
	next := make([]int32, batch)
	start := time.Now()
	for s := 0; s < newTokens; s++ {
		for r := range next {
			next[r] = argmax(logits[r*cfg.VocabSize : (r+1)*cfg.VocabSize])
		}
		logits, _ = d.Step(next)
	}
	stepTime = time.Since(start) / newTokens

	bw := copyBandwidth()
	cacheBytes := float64(2 * cfg.NumHiddenLayers * batch * cfg.NumKeyValueHeads * (prompt + newTokens/2) * cfg.HeadDim * 4)
	boundStep := (float64(cfg.NumParams())*4 + cacheBytes) / bw
	sec := b.Elapsed().Seconds() / float64(b.N)
	b.ReportMetric(batch*newTokens/sec, "new-tokens/s")
	b.ReportMetric(batch/stepTime.Seconds(), "step-new-tokens/s")
	b.ReportMetric(batch/boundStep, "bound-new-tokens/s")
	b.ReportMetric(stepTime.Seconds()/boundStep, "x-bound")
	b.ReportMetric(bw/1e9, "copy-GB/s")
}

// BenchmarkTrainStepMemory runs 50 train steps and reports RSS after step 10 and step 50:
// per-step allocations would make them differ.
func BenchmarkTrainStepMemory(b *testing.B) {
	cfg := benchConfig()
	params := randomStore(cfg, 1)
	ts, err := NewTrainStep(cfg, params, nil, ort.Options{Threads: ort.BenchThreads})
	if err != nil {
		b.Fatal(err)
	}
	defer ts.Close()
	bt := randomBatch(cfg, 8, 128, 3)
	w := make([]float32, 8)
	var at10, at50 float64
	for i := 0; i < b.N; i++ {
		for s := 1; s <= 50; s++ {
			if _, err := ts.Run(bt, w); err != nil {
				b.Fatal(err)
			}
			switch s {
			case 10:
				at10 = benchutil.RSSMB()
			case 50:
				at50 = benchutil.RSSMB()
			}
		}
	}
	b.ReportMetric(at10, "RSS-MB@10")
	b.ReportMetric(at50, "RSS-MB@50")
	b.ReportMetric(benchutil.PeakRSSMB(), "peak-RSS-MB")
}
