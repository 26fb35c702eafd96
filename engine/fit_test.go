package engine

import (
	"encoding/json"
	"io"
	"math"
	"math/rand/v2"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/l3m/l3m-engine/engine/ort"
	"github.com/l3m/l3m-engine/engine/weights"
)

// memSource serves fixed micro-batches for a number of epochs.
type memSource struct {
	batches []Batch
	epochs  int
	pos     int // batches served
}

func (s *memSource) Next() (Batch, error) {
	if s.pos >= len(s.batches)*s.epochs {
		return Batch{}, io.EOF
	}
	b := s.batches[s.pos%len(s.batches)]
	s.pos++
	return b, nil
}
func (s *memSource) Epoch() int                      { return (s.pos - 1) / len(s.batches) }
func (s *memSource) State() (json.RawMessage, error) { return json.Marshal(s.pos) }
func (s *memSource) Restore(m json.RawMessage) error { return json.Unmarshal(m, &s.pos) }

// sft is the SFT method over params with batches of 2 sequences, 2 per optimizer step.
func sft(t *testing.T, params *weights.Store, batches []Batch) *SFT {
	step, err := NewTrainStep(tinyConfig(), params, nil, ort.Options{Threads: 1})
	require.NoError(t, err)
	t.Cleanup(func() { step.Close() })
	return &SFT{Train: step, Data: &memSource{batches: batches, epochs: 4}, MicroBatch: 2, Clip: 1}
}

func fitSetup(t *testing.T) ([]Batch, FitConfig) {
	cfg := tinyConfig()
	var batches []Batch
	for i := 0; i < 4; i++ {
		batches = append(batches, randomBatch(cfg, 2, 12, uint64(i)))
	}
	return batches, FitConfig{Steps: 8, LR: 2e-2, Seed: 9, Keep: 10}
}

// TestFitLossFallsAndResumeIsExact trains a tiny model for 8 steps in one go, and again in
// two runs (a checkpoint at step 4, an interrupt that checkpoints step 5, a resume from
// it): the weights must be bit-identical.
// Training must also lower the loss.
func TestFitLossFallsAndResumeIsExact(t *testing.T) {
	cfg := tinyConfig()
	batches, conf := fitSetup(t)

	conf.Out = t.TempDir()
	params := weights.InitRandom(cfg, 3)
	var losses []float64
	f, err := NewFitter(cfg, params, sft(t, params, batches), conf, Hooks{OnStep: func(l StepLog) { losses = append(losses, l.Loss) }}, nil)
	require.NoError(t, err)
	require.NoError(t, f.Run())
	require.Len(t, losses, 8)
	require.Less(t, losses[7], losses[0]*0.9, "loss should fall: %v", losses)
	straight := params.Checksum()

	conf.Out = t.TempDir()
	conf.SaveEvery = 4
	params = weights.InitRandom(cfg, 3)
	f, err = NewFitter(cfg, params, sft(t, params, batches), conf, Hooks{}, nil)
	require.NoError(t, err)
	// Interrupt during step 5: it finishes, checkpoints and returns.
	f.hooks.OnCheckpoint = func(string) { f.Interrupt() }
	require.ErrorIs(t, f.Run(), ErrInterrupted)
	require.Equal(t, 5, f.Step())

	latest, err := LatestCheckpoint(conf.Out)
	require.NoError(t, err)
	cp, _, err := LoadCheckpoint(latest)
	require.NoError(t, err)
	f, err = NewFitter(cfg, cp.Params, sft(t, cp.Params, batches), conf, Hooks{}, cp)
	require.NoError(t, err)
	require.NoError(t, f.Run())
	require.Equal(t, straight, cp.Params.Checksum(), "resumed run must end bit-identical")
}

// nanMethod returns a non-finite loss at a given step.
type nanMethod struct {
	SFT
	at int
}

func (m *nanMethod) Gradient(t int, rng *rand.PCG, grad []float32) (StepLog, error) {
	log, err := m.SFT.Gradient(t, rng, grad)
	if t == m.at {
		log.Loss = math.NaN()
	}
	return log, err
}

// TestFitStopsOnNaN: a non-finite loss stops the run with a clear message naming the last
// good checkpoint, and the weights are not updated with it.
func TestFitStopsOnNaN(t *testing.T) {
	cfg := tinyConfig()
	batches, conf := fitSetup(t)
	conf.Out, conf.SaveEvery = t.TempDir(), 2
	params := weights.InitRandom(cfg, 3)
	m := &nanMethod{SFT: *sft(t, params, batches), at: 3}
	f, err := NewFitter(cfg, params, m, conf, Hooks{}, nil)
	require.NoError(t, err)
	before := ""
	f.hooks.OnStep = func(l StepLog) { before = params.Checksum() }
	err = f.Run()
	require.ErrorContains(t, err, "step 4: loss NaN")
	require.ErrorContains(t, err, "the last good checkpoint is "+filepath.Join(conf.Out, checkpointName(2)))
	require.Equal(t, before, params.Checksum(), "weights must not change on a NaN step")
	require.Equal(t, 3, f.Step())
}
