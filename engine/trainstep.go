package engine

import (
	"fmt"

	"github.com/l3m/l3m-engine/engine/ort"
	"github.com/l3m/l3m-engine/engine/weights"
	"github.com/l3m/l3m-engine/graphs/llama"
)

// TrainStep computes, in one ONNX Runtime Run per micro-batch, the loss
// sum_j w_j * p(y_j|x_j) (p the length-normalized NLL), the per-sequence p and token counts,
// and the gradient of the loss for every trainable parameter. The same step serves SFT
// (w_j = 1/B), L3M constraint steps and Bradley-Terry reward training.
type TrainStep struct {
	s      *session
	grads  *weights.Store
	loss   []float32
	nll    []float32
	tokens []float32
	batchB int
}

// StepResult is what one micro-batch returns besides the gradients.
type StepResult struct {
	Loss   float64
	NLL    []float32 // per sequence; valid until the next Run
	Tokens []float32 // scored tokens per sequence; valid until the next Run
}

// NewTrainStep builds the train graph for cfg and binds it to params. Gradients are written
// into Grads(), a store with params' layout (frozen parameters' slots stay zero).
func NewTrainStep(cfg llama.Config, params *weights.Store, frozen func(string) bool, opts ort.Options) (*TrainStep, error) {
	g, err := llama.BuildTrain(cfg, llama.Options{Frozen: frozen})
	if err != nil {
		return nil, err
	}
	s, err := newSession(g, params, opts)
	if err != nil {
		return nil, err
	}
	ts := &TrainStep{s: s, grads: weights.NewStore(params.Params()), loss: make([]float32, 1)}
	if err := s.bindOutput(llama.OutLoss, []int64{1}, ts.loss); err != nil {
		s.Close()
		return nil, err
	}
	for _, name := range params.Names() {
		if frozen != nil && frozen(name) {
			continue
		}
		if err := s.bindOutput(llama.GradName(name), ts.grads.Shape(name), ts.grads.Get(name)); err != nil {
			s.Close()
			return nil, err
		}
	}
	return ts, nil
}

// Grads is the gradient of the last Run's loss, laid out like the parameters.
func (ts *TrainStep) Grads() *weights.Store { return ts.grads }

// Run runs one micro-batch with per-sequence weights (len B).
func (ts *TrainStep) Run(b Batch, seqWeights []float32) (StepResult, error) {
	if len(seqWeights) != b.B {
		return StepResult{}, fmt.Errorf("engine: train step: %d sequence weights for a batch of %d", len(seqWeights), b.B)
	}
	release, err := ts.s.bindBatch(b)
	defer release()
	if err != nil {
		return StepResult{}, err
	}
	w, err := ort.NewTensor([]int64{int64(b.B)}, seqWeights)
	if err != nil {
		return StepResult{}, err
	}
	defer w.Close()
	if err := ts.s.bindInput(llama.SeqWeights, w); err != nil {
		return StepResult{}, err
	}
	if b.B != ts.batchB {
		ts.nll, ts.tokens, ts.batchB = growFloats(ts.nll, b.B), growFloats(ts.tokens, b.B), b.B
		shape := []int64{int64(b.B)}
		if err := ts.s.bindOutput(llama.OutNLL, shape, ts.nll); err != nil {
			return StepResult{}, err
		}
		if err := ts.s.bindOutput(llama.OutTokens, shape, ts.tokens); err != nil {
			return StepResult{}, err
		}
	}
	if err := ts.s.run(); err != nil {
		return StepResult{}, err
	}
	return StepResult{Loss: float64(ts.loss[0]), NLL: ts.nll, Tokens: ts.tokens}, nil
}

// Close releases the session.
func (ts *TrainStep) Close() error { return ts.s.Close() }
