package ort

import (
	"fmt"
	"slices"

	ortgo "github.com/yalue/onnxruntime_go"
)

// IOInfo describes one model input or output as ONNX Runtime sees it.
type IOInfo struct {
	Name     string
	ElemType ElemType
	// Dims are the declared dimensions; -1 marks a dynamic one (a dim_param or none).
	Dims []int64
}

// Session is one ONNX model loaded into ONNX Runtime, run many times. Run may be called
// from several goroutines at once; Close may not overlap a Run.
type Session struct {
	name    string
	inputs  []IOInfo
	outputs []IOInfo
	session *ortgo.DynamicAdvancedSession
}

// NewSession loads the serialized ONNX model with opts. name identifies the model in every
// error the Session returns, for example "ort: load train_step: <ONNX Runtime's message>".
// The model is parsed twice, once by ValidateModel for its input and output names (the
// binding cannot list them for a session it has made) and once with opts; graphs that take
// their weights as inputs are small, so this costs little.
func NewSession(name string, model []byte, opts Options) (*Session, error) {
	if !ortgo.IsInitialized() {
		return nil, fmt.Errorf("ort: load %s: %w", name, errNotInitialized)
	}
	so, err := sessionOptions(opts)
	if err != nil {
		return nil, fmt.Errorf("ort: load %s: %w", name, err)
	}
	defer so.Destroy()
	inputs, outputs, err := ValidateModel(name, model)
	if err != nil {
		return nil, err
	}
	session, err := ortgo.NewDynamicAdvancedSessionWithONNXData(model, names(inputs), names(outputs), so)
	if err != nil {
		return nil, fmt.Errorf("ort: load %s: %v", name, innermost(err))
	}
	return &Session{name: name, inputs: inputs, outputs: outputs, session: session}, nil
}

// ValidateModel loads the serialized ONNX model into ONNX Runtime with default options and
// reports its inputs and outputs, or ONNX Runtime's reason for rejecting it. Only tensor
// inputs and outputs are accepted, since those are all a Session can feed.
func ValidateModel(name string, model []byte) (inputs, outputs []IOInfo, err error) {
	if !ortgo.IsInitialized() {
		return nil, nil, fmt.Errorf("ort: load %s: %w", name, errNotInitialized)
	}
	ins, outs, err := ortgo.GetInputOutputInfoWithONNXData(model)
	if err != nil {
		return nil, nil, fmt.Errorf("ort: load %s: %v", name, innermost(err))
	}
	if inputs, err = ioInfos("input", ins); err == nil {
		outputs, err = ioInfos("output", outs)
	}
	if err != nil {
		return nil, nil, fmt.Errorf("ort: load %s: %w", name, err)
	}
	return inputs, outputs, nil
}

func ioInfos(kind string, infos []ortgo.InputOutputInfo) ([]IOInfo, error) {
	list := make([]IOInfo, len(infos))
	for i, info := range infos {
		if info.OrtValueType != ortgo.ONNXTypeTensor {
			return nil, fmt.Errorf("%s %q is a %v; only tensors are supported", kind, info.Name, info.OrtValueType)
		}
		list[i] = IOInfo{Name: info.Name, ElemType: ElemType(info.DataType), Dims: slices.Clone([]int64(info.Dimensions))}
	}
	return list, nil
}

func names(infos []IOInfo) []string {
	list := make([]string, len(infos))
	for i, info := range infos {
		list[i] = info.Name
	}
	return list
}

// Name returns the name the Session was created with.
func (s *Session) Name() string { return s.name }

// Inputs describes the model's inputs in the order Run takes them.
func (s *Session) Inputs() []IOInfo { return cloneInfos(s.inputs) }

// Outputs describes the model's outputs in the order Run takes them.
func (s *Session) Outputs() []IOInfo { return cloneInfos(s.outputs) }

func cloneInfos(infos []IOInfo) []IOInfo {
	list := slices.Clone(infos)
	for i := range list {
		list[i].Dims = slices.Clone(list[i].Dims)
	}
	return list
}

// Run runs the model once: one call per micro-batch. inputs and outputs follow the order
// of Inputs and Outputs; every output is a Tensor the caller allocated, and ONNX Runtime
// writes the results into its slice, so the same outputs can be reused across Runs. Each
// value's element type and every static dimension are checked against the model before
// ONNX Runtime is called; dynamic ones are left to ONNX Runtime.
func (s *Session) Run(inputs, outputs []Value) error {
	if s.session == nil {
		return fmt.Errorf("ort: %s: Run after Close", s.name)
	}
	in, err := s.bind("input", s.inputs, inputs)
	if err != nil {
		return err
	}
	out, err := s.bind("output", s.outputs, outputs)
	if err != nil {
		return err
	}
	if err := s.session.Run(in, out); err != nil {
		return fmt.Errorf("ort: %s: run: %v", s.name, innermost(err))
	}
	return nil
}

// bind checks values against the model's inputs or outputs (kind says which) and returns
// the binding's values for them.
func (s *Session) bind(kind string, model []IOInfo, values []Value) ([]ortgo.Value, error) {
	if len(values) != len(model) {
		return nil, fmt.Errorf("ort: %s: got %d %ss, model has %d: %v", s.name, len(values), kind, len(model), names(model))
	}
	bound := make([]ortgo.Value, len(values))
	for i, v := range values {
		want := model[i]
		if v == nil || v.ortValue() == nil {
			return nil, fmt.Errorf("ort: %s: %s %q is nil or closed; allocate it with NewTensor", s.name, kind, want.Name)
		}
		if v.ElemType() != want.ElemType {
			return nil, fmt.Errorf("ort: %s: %s %q: dtype %s does not match model %s", s.name, kind, want.Name, v.ElemType(), want.ElemType)
		}
		if shape := v.Shape(); !shapeMatches(shape, want.Dims) {
			return nil, fmt.Errorf("ort: %s: %s %q: shape %v does not match model %v", s.name, kind, want.Name, shape, want.Dims)
		}
		bound[i] = v.ortValue()
	}
	return bound, nil
}

// shapeMatches reports whether shape fits dims, where a dims entry of -1 matches any size.
func shapeMatches(shape, dims []int64) bool {
	if len(shape) != len(dims) {
		return false
	}
	for i, d := range dims {
		if d >= 0 && shape[i] != d {
			return false
		}
	}
	return true
}

// Close releases the ONNX Runtime session; Tensors passed to Run stay the caller's to
// close. Closing twice is a no-op.
func (s *Session) Close() error {
	if s.session == nil {
		return nil
	}
	err := s.session.Destroy()
	s.session = nil
	if err != nil {
		return fmt.Errorf("ort: %s: close: %w", s.name, err)
	}
	return nil
}

// NewSessionFromFile loads an ONNX model file. Unlike NewSession it resolves ONNX external
// data (weights stored beside the model, as models past 2 GB must be) relative to the file.
func NewSessionFromFile(name, path string, opts Options) (*Session, error) {
	if !ortgo.IsInitialized() {
		return nil, fmt.Errorf("ort: load %s: %w", name, errNotInitialized)
	}
	so, err := sessionOptions(opts)
	if err != nil {
		return nil, fmt.Errorf("ort: load %s: %w", name, err)
	}
	defer so.Destroy()
	ins, outs, err := ortgo.GetInputOutputInfoWithOptions(path, so)
	if err != nil {
		return nil, fmt.Errorf("ort: load %s: %v", name, innermost(err))
	}
	inputs, err := ioInfos("input", ins)
	if err != nil {
		return nil, fmt.Errorf("ort: load %s: %w", name, err)
	}
	outputs, err := ioInfos("output", outs)
	if err != nil {
		return nil, fmt.Errorf("ort: load %s: %w", name, err)
	}
	session, err := ortgo.NewDynamicAdvancedSession(path, names(inputs), names(outputs), so)
	if err != nil {
		return nil, fmt.Errorf("ort: load %s: %v", name, innermost(err))
	}
	return &Session{name: name, inputs: inputs, outputs: outputs, session: session}, nil
}
