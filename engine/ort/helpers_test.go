package ort

import (
	"testing"

	"github.com/stretchr/testify/require"
)

// requireInit loads ONNX Runtime the way the CLI does with no --ort-lib flag:
// ONNXRUNTIME_LIB (exported by the Makefile), then the project cache walk.
func requireInit(t testing.TB) {
	t.Helper()
	require.NoError(t, Init(""), "run `make setup` first")
}

// newTestTensor wraps data and closes the tensor when the test ends.
func newTestTensor[T Element](t testing.TB, shape []int64, data []T) *Tensor[T] {
	t.Helper()
	tensor, err := NewTensor(shape, data)
	require.NoError(t, err)
	t.Cleanup(func() { require.NoError(t, tensor.Close()) })
	return tensor
}

// newTestSession builds a one-node model and loads it, closing it when the test ends.
func newTestSession(t testing.TB, name, opType string, inputs, outputs []IOInfo) *Session {
	t.Helper()
	requireInit(t)
	model, err := singleNodeModel(opType, inputs, outputs)
	require.NoError(t, err)
	s, err := NewSession(name, model, Options{Threads: 1})
	require.NoError(t, err)
	t.Cleanup(func() { require.NoError(t, s.Close()) })
	return s
}

// newAddSession loads x + y = z over float32 [batch, 3], batch dynamic.
func newAddSession(t testing.TB) *Session {
	dims := []int64{-1, 3}
	return newTestSession(t, "add", "Add",
		[]IOInfo{{"x", ElemFloat32, dims}, {"y", ElemFloat32, dims}},
		[]IOInfo{{"z", ElemFloat32, dims}})
}
