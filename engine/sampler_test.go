package engine

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/l3m/l3m-engine/engine/ort"
)

func TestNucleusKeep(t *testing.T) {
	for _, c := range []struct {
		name      string
		probs     []float64
		topK      int
		topP      float64
		wantIDs   []int32
		wantProbs []float64
	}{
		{"top-p 0.8 keeps two", []float64{0.5, 0.3, 0.15, 0.05}, 0, 0.8, []int32{0, 1}, []float64{0.5, 0.3}},
		{"top-p 0.9 keeps three", []float64{0.5, 0.3, 0.15, 0.05}, 0, 0.9, []int32{0, 1, 2}, []float64{0.5, 0.3, 0.15}},
		{"top-p 1 keeps all", []float64{0.5, 0.3, 0.15, 0.05}, 0, 1, []int32{0, 1, 2, 3}, []float64{0.5, 0.3, 0.15, 0.05}},
		{"order is by probability", []float64{0.05, 0.15, 0.5, 0.3}, 0, 0.8, []int32{2, 3}, []float64{0.5, 0.3}},
		{"ties by ascending id", []float64{0.25, 0.25, 0.25, 0.25}, 0, 0.5, []int32{0, 1}, []float64{0.25, 0.25}},
		{"zero probabilities are dropped", []float64{0, 0.5, 0, 0.5}, 0, 1, []int32{1, 3}, []float64{0.5, 0.5}},
		{"top-k renormalises", []float64{0.5, 0.3, 0.15, 0.05}, 2, 1, []int32{0, 1}, []float64{0.625, 0.375}},
		{"top-k then top-p", []float64{0.5, 0.3, 0.15, 0.05}, 3, 0.8, []int32{0, 1}, []float64{0.5 / 0.95, 0.3 / 0.95}},
		{"top-k then top-p keeps three", []float64{0.5, 0.3, 0.15, 0.05}, 3, 0.85, []int32{0, 1, 2}, []float64{0.5 / 0.95, 0.3 / 0.95, 0.15 / 0.95}},
		{"top-k beyond the vocabulary is off", []float64{0.5, 0.3, 0.15, 0.05}, 9, 0.9, []int32{0, 1, 2}, []float64{0.5, 0.3, 0.15}},
		{"top-k 1", []float64{0.2, 0.3, 0.3, 0.2}, 1, 0.9, []int32{1}, []float64{1}},
	} {
		t.Run(c.name, func(t *testing.T) {
			var n nucleus
			ids, p := n.keep(c.probs, c.topK, c.topP)
			require.Equal(t, c.wantIDs, ids)
			require.InDeltaSlice(t, c.wantProbs, p, 1e-15)
		})
	}
}

// fakeSource serves logits from a function of row and step (0 = the prefill), recording
// the tokens each Step is fed.
type fakeSource struct {
	vocab  int
	logits func(row, step int) []float32
	b      int
	fed    [][]int32
}

func (f *fakeSource) Prefill(prompts [][]int32, pad int32) ([]float32, error) {
	f.b, f.fed = len(prompts), nil
	return f.batch(0), nil
}

func (f *fakeSource) Step(tokens []int32) ([]float32, error) {
	f.fed = append(f.fed, append([]int32(nil), tokens...))
	return f.batch(len(f.fed)), nil
}

func (f *fakeSource) batch(step int) []float32 {
	out := make([]float32, 0, f.b*f.vocab)
	for r := 0; r < f.b; r++ {
		out = append(out, f.logits(r, step)...)
	}
	return out
}

// peaked is logits of size vocab that favour token by a wide margin.
func peaked(vocab int, token int32) []float32 {
	l := make([]float32, vocab)
	l[token] = 30
	return l
}

func prompts(n int) [][]int32 {
	p := make([][]int32, n)
	for i := range p {
		p[i] = []int32{1, 2}
	}
	return p
}

func TestSamplerStopsEachRowAtEOS(t *testing.T) {
	const eos, pad = 4, 0
	src := &fakeSource{vocab: 5, logits: func(row, step int) []float32 {
		if row == 0 && step == 2 {
			return peaked(5, eos)
		}
		return peaked(5, int32(row+1))
	}}
	for _, greedy := range []bool{true, false} {
		s := newSampler(src, SampleConfig{MaxNewTokens: 6, EOS: eos, Pad: pad, Greedy: greedy, Seed: 3})
		out, err := s.Generate(prompts(2))
		require.NoError(t, err)
		require.Equal(t, [][]int32{{1, 1, eos}, {2, 2, 2, 2, 2, 2}}, out, "greedy=%v", greedy)
		require.Equal(t, [][]int32{{1, 2}, {1, 2}, {eos, 2}, {pad, 2}, {pad, 2}}, src.fed, "finished rows are fed Pad")
	}

	// The batch stops as soon as every row has stopped.
	src.logits = func(row, step int) []float32 { return peaked(5, int32(min(step+row, eos))) }
	out, err := newSampler(src, SampleConfig{MaxNewTokens: 9, EOS: eos, Greedy: true}).Generate(prompts(3))
	require.NoError(t, err)
	require.Equal(t, [][]int32{{0, 1, 2, 3, eos}, {1, 2, 3, eos}, {2, 3, eos}}, out)
	require.Len(t, src.fed, 4)
}

// TestSamplerStopIDs: any id in Stop ends its row as EOS does, and is kept.
func TestSamplerStopIDs(t *testing.T) {
	const eos = 4
	src := &fakeSource{vocab: 6, logits: func(row, step int) []float32 {
		switch {
		case row == 0 && step == 1:
			return peaked(6, 5) // a stop id
		case row == 1 && step == 2:
			return peaked(6, eos)
		}
		return peaked(6, 1)
	}}
	out, err := newSampler(src, SampleConfig{MaxNewTokens: 5, EOS: eos, Stop: []int32{5}, Greedy: true}).Generate(prompts(3))
	require.NoError(t, err)
	require.Equal(t, [][]int32{{1, 5}, {1, 1, eos}, {1, 1, 1, 1, 1}}, out)
}

func TestSamplerDrawsDoNotDependOnOtherRowsStopping(t *testing.T) {
	flat := make([]float32, 6)
	sample := func(row0StopsAt int) [][]int32 {
		src := &fakeSource{vocab: 6, logits: func(row, step int) []float32 {
			if row == 0 && step == row0StopsAt {
				return peaked(6, 5)
			}
			return flat
		}}
		out, err := newSampler(src, SampleConfig{MaxNewTokens: 20, EOS: 5, TopP: 0.7, Seed: 9}).Generate(prompts(2))
		require.NoError(t, err)
		return out
	}
	early, late := sample(1), sample(15)
	require.Len(t, early[0], 2)
	require.Equal(t, early[1][:15], late[1][:15], "row 1's samples changed when row 0 stopped earlier")
}

// TestSamplerFrequencies draws many samples from one distribution and checks that their
// frequencies match the truncated, renormalised distribution (a chi-square test with a
// loose bound: the seed is fixed, so the outcome is too).
func TestSamplerFrequencies(t *testing.T) {
	p := []float64{0.4, 0.25, 0.15, 0.1, 0.06, 0.04}
	logits := make([]float32, len(p))
	for i, q := range p {
		logits[i] = float32(math.Log(q) * 0.5) // with temperature 0.5 the softmax gives p back
	}
	for _, c := range []struct {
		name string
		cfg  SampleConfig
		want []float64
	}{
		{"top-p", SampleConfig{TopP: 0.75}, []float64{0.4 / 0.8, 0.25 / 0.8, 0.15 / 0.8}},
		{"top-k", SampleConfig{TopK: 2, TopP: 1}, []float64{0.4 / 0.65, 0.25 / 0.65}},
		{"full", SampleConfig{TopP: 1}, p},
	} {
		t.Run(c.name, func(t *testing.T) {
			const rows, steps = 50, 400
			src := &fakeSource{vocab: len(p), logits: func(int, int) []float32 { return logits }}
			cfg := c.cfg
			cfg.Temperature, cfg.MaxNewTokens, cfg.EOS, cfg.Seed = 0.5, steps, -1, 42
			out, err := newSampler(src, cfg).Generate(prompts(rows))
			require.NoError(t, err)
			counts := make([]float64, len(p))
			for _, row := range out {
				require.Len(t, row, steps)
				for _, tok := range row {
					require.Less(t, int(tok), len(c.want), "token %d is outside the kept set", tok)
					counts[tok]++
				}
			}
			var chi2 float64
			for i, q := range c.want {
				e := q * rows * steps
				chi2 += (counts[i] - e) * (counts[i] - e) / e
			}
			// The 99.9th percentile of chi-square is 13.8 with 2 degrees of freedom, 20.5 with 5.
			require.Less(t, chi2, 25.0, "counts %v, want proportions %v", counts, c.want)
		})
	}
}

func TestSamplerConfigErrors(t *testing.T) {
	src := &fakeSource{vocab: 3, logits: func(int, int) []float32 { return []float32{0, 1, 2} }}
	for _, c := range []struct {
		cfg  SampleConfig
		want string
	}{
		{SampleConfig{}, "MaxNewTokens must be positive"},
		{SampleConfig{MaxNewTokens: 1, TopP: 1.5}, "TopP must be in (0, 1], got 1.5"},
		{SampleConfig{MaxNewTokens: 1, TopP: -0.1}, "TopP must be in (0, 1]"},
		{SampleConfig{MaxNewTokens: 1, Temperature: -1}, "Temperature must be positive"},
		{SampleConfig{MaxNewTokens: 1, TopK: -1}, "TopK must be >= 0"},
	} {
		_, err := newSampler(src, c.cfg).Generate(prompts(1))
		require.ErrorContains(t, err, c.want)
	}
	_, err := newSampler(src, SampleConfig{MaxNewTokens: 1}).Generate([][]int32{{1}, {}})
	require.ErrorContains(t, err, "prompt 1 is empty")

	src.logits = func(row, step int) []float32 {
		if row == 1 && step == 2 {
			return []float32{0, float32(math.NaN()), 1}
		}
		return []float32{0, 1, 2}
	}
	for _, greedy := range []bool{true, false} {
		_, err = newSampler(src, SampleConfig{MaxNewTokens: 5, EOS: -1, Greedy: greedy}).Generate(prompts(2))
		require.ErrorContains(t, err, "row 1, step 2", "greedy=%v", greedy)
	}
}

// tinyDecoder is a decoder over a tiny random model; scale sharpens its logits.
func tinyDecoder(t *testing.T, batch int, scale float32) *Decoder {
	t.Helper()
	cfg := tinyConfig()
	params := randomStore(cfg, 4)
	for i := range params.Flat() {
		params.Flat()[i] *= scale
	}
	d, err := NewDecoder(cfg, params, batch, 32, ort.Options{Threads: 1})
	require.NoError(t, err)
	t.Cleanup(func() { d.Close() })
	return d
}

var samplerPrompts = [][]int32{{3, 17, 5}, {8, 1, 1, 42, 9}, {7}}

func TestSamplerSeedReproducesAndRestores(t *testing.T) {
	d := tinyDecoder(t, 3, 1)
	generate := func(s *Sampler) [][]int32 {
		out, err := s.Generate(samplerPrompts)
		require.NoError(t, err)
		return out
	}
	cfg := SampleConfig{MaxNewTokens: 12, EOS: -1, TopP: 0.95, Seed: 7}
	a := generate(NewSampler(d, cfg))
	require.Equal(t, a, generate(NewSampler(d, cfg)), "same seed")
	cfg.Seed = 8
	require.NotEqual(t, a, generate(NewSampler(d, cfg)), "different seed")

	s := NewSampler(d, cfg)
	generate(s)
	state, err := s.State()
	require.NoError(t, err)
	next := generate(s)
	require.NotEqual(t, next, generate(s), "the RNG carries on between calls")
	require.NoError(t, s.Restore(state))
	require.Equal(t, next, generate(s), "restored state")
	require.Error(t, s.Restore([]byte("nonsense")))
}

// TestSamplerGreedyIsArgmax checks greedy decoding against an argmax loop on the decoder,
// and that top-k 1 and a temperature near 0 give the same tokens.
func TestSamplerGreedyIsArgmax(t *testing.T) {
	d := tinyDecoder(t, 3, 10)
	const steps = 10
	want := make([][]int32, len(samplerPrompts))
	logits, err := d.Prefill(samplerPrompts, 0)
	require.NoError(t, err)
	v := tinyConfig().VocabSize
	for step := 0; step < steps; step++ {
		next := make([]int32, len(samplerPrompts))
		for r := range next {
			next[r] = argmax(logits[r*v : (r+1)*v])
			want[r] = append(want[r], next[r])
		}
		if step+1 < steps {
			logits, err = d.Step(next)
			require.NoError(t, err)
		}
	}
	require.Equal(t, samplerPrompts[0][0], int32(3), "prompts must be left intact")

	for _, cfg := range []SampleConfig{
		{Greedy: true},
		{TopK: 1, Seed: 1},
		{TopK: 1, Seed: 2, Temperature: 5},
		{Temperature: 1e-6, TopP: 1, Seed: 3},
	} {
		cfg.MaxNewTokens, cfg.EOS = steps, -1
		got, err := NewSampler(d, cfg).Generate(samplerPrompts)
		require.NoError(t, err)
		require.Equal(t, want, got, "%+v", cfg)
	}
}

func BenchmarkSamplerPick(b *testing.B) {
	const vocab = 32000
	logits := make([]float32, vocab) // Zipf-like, as language models' next-token logits are
	for i, rank := range rand.New(rand.NewPCG(1, 2)).Perm(vocab) {
		logits[i] = float32(-1.2 * math.Log(float64(rank+1)))
	}
	for _, c := range []struct {
		name string
		cfg  SampleConfig
	}{
		{"top-p=0.9", SampleConfig{TopP: 0.9}},
		{"top-k=50", SampleConfig{TopK: 50, TopP: 0.9}},
		{"top-p=1", SampleConfig{TopP: 1}},
	} {
		s := newSampler(nil, c.cfg)
		b.Run(c.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := s.pick(logits, 0.5); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
