package engine

import (
	"errors"
	"fmt"

	"github.com/l3m/l3m-engine/engine/ort"
	"github.com/l3m/l3m-engine/engine/weights"
	"github.com/l3m/l3m-engine/graphs"
	"github.com/l3m/l3m-engine/graphs/llama"
)

// session is an ORT session over a model graph whose parameter inputs are bound once to a
// store and whose other inputs and outputs are bound per Run by name.
type session struct {
	sess    *ort.Session
	inputs  []ort.Value // in the model's input order; parameters fixed, the rest per Run
	outputs []ort.Value
	inIdx   map[string]int
	outIdx  map[string]int
	owned   []*ort.Tensor[float32]
}

func newSession(g *graphs.Graph, params *weights.Store, opts ort.Options) (*session, error) {
	model, err := g.Marshal()
	if err != nil {
		return nil, err
	}
	if err := ort.Init(""); err != nil {
		return nil, err
	}
	sess, err := ort.NewSession(g.Name, model, opts)
	if err != nil {
		return nil, err
	}
	s := &session{sess: sess, inIdx: map[string]int{}, outIdx: map[string]int{}}
	s.inputs = make([]ort.Value, len(sess.Inputs()))
	s.outputs = make([]ort.Value, len(sess.Outputs()))
	for i, in := range sess.Inputs() {
		s.inIdx[in.Name] = i
		if params.Has(in.Name) {
			t, err := ort.NewTensor(params.Shape(in.Name), params.Get(in.Name))
			if err != nil {
				s.Close()
				return nil, err
			}
			s.owned = append(s.owned, t)
			s.inputs[i] = t
		}
	}
	for i, out := range sess.Outputs() {
		s.outIdx[out.Name] = i
	}
	return s, nil
}

// bindOutput binds a float32 output to a caller-owned slice kept across Runs.
func (s *session) bindOutput(name string, shape []int64, data []float32) error {
	i, ok := s.outIdx[name]
	if !ok {
		return fmt.Errorf("engine: %s has no output %q", s.sess.Name(), name)
	}
	t, err := ort.NewTensor(shape, data)
	if err != nil {
		return err
	}
	if old, ok := s.outputs[i].(*ort.Tensor[float32]); ok && old != nil {
		old.Close()
	}
	s.outputs[i] = t
	return nil
}

// bindInput binds a per-Run input; the tensor is closed after the Run.
func (s *session) bindInput(name string, v ort.Value) error {
	i, ok := s.inIdx[name]
	if !ok {
		return fmt.Errorf("engine: %s has no input %q", s.sess.Name(), name)
	}
	s.inputs[i] = v
	return nil
}

// bindBatch binds a batch's ids and masks (tensors over the batch's own slices).
func (s *session) bindBatch(b Batch) (release func(), err error) {
	if err := b.check(); err != nil {
		return nil, err
	}
	shape := []int64{int64(b.B), int64(b.T)}
	var made []interface{ Close() error }
	release = func() {
		for _, t := range made {
			t.Close()
		}
	}
	ids, err := ort.NewTensor(shape, b.IDs)
	if err != nil {
		return release, err
	}
	made = append(made, ids)
	mask, err := ort.NewTensor(shape, b.AttentionMask)
	if err != nil {
		return release, err
	}
	made = append(made, mask)
	loss, err := ort.NewTensor(shape, b.LossMask)
	if err != nil {
		return release, err
	}
	made = append(made, loss)
	err = errors.Join(s.bindInput(llama.InputIDs, ids), s.bindInput(llama.AttentionMask, mask), s.bindInput(llama.LossMask, loss))
	return release, err
}

func (s *session) run() error { return s.sess.Run(s.inputs, s.outputs) }

// Close releases the session and the tensors it made.
func (s *session) Close() error {
	var errs []error
	for _, t := range s.owned {
		errs = append(errs, t.Close())
	}
	for _, v := range s.outputs {
		if t, ok := v.(*ort.Tensor[float32]); ok && t != nil {
			errs = append(errs, t.Close())
		}
	}
	errs = append(errs, s.sess.Close())
	return errors.Join(errs...)
}

// growFloats returns buf resized to n, reallocating only when it must.
func growFloats(buf []float32, n int) []float32 {
	if cap(buf) < n {
		return make([]float32, n)
	}
	return buf[:n]
}
