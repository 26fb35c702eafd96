package ort

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestSessionReportsIO(t *testing.T) {
	s := newAddSession(t)
	assert.Equal(t, "add", s.Name())
	assert.Equal(t, []IOInfo{{"x", ElemFloat32, []int64{-1, 3}}, {"y", ElemFloat32, []int64{-1, 3}}}, s.Inputs())
	assert.Equal(t, []IOInfo{{"z", ElemFloat32, []int64{-1, 3}}}, s.Outputs())
}

func TestRunAdd(t *testing.T) {
	s := newAddSession(t)
	for _, batch := range []int64{1, 2} {
		shape := []int64{batch, 3}
		x := newTestTensor(t, shape, []float32{1, 2, 3, 4, 5, 6}[:batch*3])
		y := newTestTensor(t, shape, []float32{10, 20, 30, 40, 50, 60}[:batch*3])
		z := newTestTensor(t, shape, make([]float32, batch*3))
		require.NoError(t, s.Run([]Value{x, y}, []Value{z}))
		assert.Equal(t, []float32{11, 22, 33, 44, 55, 66}[:batch*3], z.Data(), "batch %d", batch)
	}
}

// TestRunReusesOutputs runs three times with the same tensors, refilling the input slice in
// place: ONNX Runtime must read the new inputs and write into the same output slice.
func TestRunReusesOutputs(t *testing.T) {
	s := newAddSession(t)
	xData := make([]float32, 3)
	out := make([]float32, 3)
	x := newTestTensor(t, []int64{1, 3}, xData)
	y := newTestTensor(t, []int64{1, 3}, []float32{0.5, 0.5, 0.5})
	z := newTestTensor(t, []int64{1, 3}, out)
	for step := range 3 {
		for i := range xData {
			xData[i] = float32(step*10 + i)
		}
		require.NoError(t, s.Run([]Value{x, y}, []Value{z}))
		want := []float32{float32(step*10) + 0.5, float32(step*10) + 1.5, float32(step*10) + 2.5}
		assert.Equal(t, want, out, "step %d", step)
		assert.Same(t, &out[0], &z.Data()[0], "step %d: output slice replaced", step)
	}
}

func TestRunChecksInputs(t *testing.T) {
	s := newAddSession(t)
	ok := newTestTensor(t, []int64{2, 3}, make([]float32, 6))
	z := newTestTensor(t, []int64{2, 3}, make([]float32, 6))
	tests := []struct {
		name    string
		inputs  []Value
		outputs []Value
		want    string
	}{
		{"static dim", []Value{newTestTensor(t, []int64{2, 4}, make([]float32, 8)), ok}, []Value{z},
			`ort: add: input "x": shape [2 4] does not match model [-1 3]`},
		{"rank", []Value{ok, newTestTensor(t, []int64{6}, make([]float32, 6))}, []Value{z},
			`ort: add: input "y": shape [6] does not match model [-1 3]`},
		{"dtype", []Value{ok, newTestTensor(t, []int64{2, 3}, make([]float64, 6))}, []Value{z},
			`ort: add: input "y": dtype float64 does not match model float32`},
		{"count", []Value{ok}, []Value{z},
			`ort: add: got 1 inputs, model has 2: [x y]`},
		{"output shape", []Value{ok, ok}, []Value{newTestTensor(t, []int64{2, 2}, make([]float32, 4))},
			`ort: add: output "z": shape [2 2] does not match model [-1 3]`},
		{"output dtype", []Value{ok, ok}, []Value{newTestTensor(t, []int64{2, 3}, make([]int64, 6))},
			`ort: add: output "z": dtype int64 does not match model float32`},
		{"nil output", []Value{ok, ok}, []Value{nil},
			`ort: add: output "z" is nil or closed; allocate it with NewTensor`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.EqualError(t, s.Run(tt.inputs, tt.outputs), tt.want)
		})
	}
}

// TestRunWrapsORTErrors passes a dynamic batch dimension that disagrees between inputs,
// which only ONNX Runtime can catch.
func TestRunWrapsORTErrors(t *testing.T) {
	s := newAddSession(t)
	x := newTestTensor(t, []int64{2, 3}, make([]float32, 6))
	y := newTestTensor(t, []int64{3, 3}, make([]float32, 9))
	z := newTestTensor(t, []int64{2, 3}, make([]float32, 6))
	err := s.Run([]Value{x, y}, []Value{z})
	require.Error(t, err)
	assert.Regexp(t, `^ort: add: run: .+`, err.Error())
}

func TestRunAfterClose(t *testing.T) {
	requireInit(t)
	model, err := singleNodeModel("Identity", []IOInfo{{"x", ElemInt64, []int64{1}}}, []IOInfo{{"y", ElemInt64, []int64{1}}})
	require.NoError(t, err)
	s, err := NewSession("identity", model, Options{})
	require.NoError(t, err)
	require.NoError(t, s.Close())
	require.NoError(t, s.Close())
	x := newTestTensor(t, []int64{1}, []int64{7})
	assert.EqualError(t, s.Run([]Value{x}, []Value{x}), "ort: identity: Run after Close")
}

func TestNewSessionRejectsModel(t *testing.T) {
	requireInit(t)
	unknownOp, err := singleNodeModel("NoSuchOp", []IOInfo{{"x", ElemFloat32, []int64{1}}}, []IOInfo{{"y", ElemFloat32, []int64{1}}})
	require.NoError(t, err)
	tests := []struct {
		name  string
		model []byte
		want  string
	}{
		{"unknown_op", unknownOp, "NoSuchOp"},
		{"not_onnx", []byte("not a model"), "protobuf parsing failed"},
		{"empty", nil, "Missing ONNX data"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := NewSession(tt.name, tt.model, Options{})
			require.Error(t, err)
			assert.Contains(t, err.Error(), "ort: load "+tt.name+": ")
			assert.Contains(t, err.Error(), tt.want)
			_, _, err = ValidateModel(tt.name, tt.model)
			require.Error(t, err)
			assert.Contains(t, err.Error(), "ort: load "+tt.name+": ")
		})
	}
}

func TestValidateModel(t *testing.T) {
	requireInit(t)
	model, err := singleNodeModel("MatMul",
		[]IOInfo{{"a", ElemFloat64, []int64{-1, 4}}, {"b", ElemFloat64, []int64{4, 5}}},
		[]IOInfo{{"c", ElemFloat64, []int64{-1, 5}}})
	require.NoError(t, err)
	inputs, outputs, err := ValidateModel("matmul", model)
	require.NoError(t, err)
	assert.Equal(t, []IOInfo{{"a", ElemFloat64, []int64{-1, 4}}, {"b", ElemFloat64, []int64{4, 5}}}, inputs)
	assert.Equal(t, []IOInfo{{"c", ElemFloat64, []int64{-1, 5}}}, outputs)
}
