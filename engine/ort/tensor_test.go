package ort

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestNewTensorChecksLength(t *testing.T) {
	requireInit(t)
	_, err := NewTensor([]int64{2, 3}, make([]float32, 5))
	assert.EqualError(t, err, "ort: tensor shape [2 3] needs 6 elements, got 5")
	_, err = NewTensor([]int64{2, -1}, make([]float32, 2))
	assert.EqualError(t, err, "ort: tensor shape [2 -1]: dimension 1 is -1; tensor dimensions must be >= 0")
}

func TestTensorIsZeroCopy(t *testing.T) {
	requireInit(t)
	data := []int32{1, 2, 3, 4}
	x := newTestTensor(t, []int64{2, 2}, data)
	assert.Same(t, &data[0], &x.Data()[0])
	assert.Equal(t, []int64{2, 2}, x.Shape())
	assert.Equal(t, ElemInt32, x.ElemType())
}

// TestScalarTensor runs rank-0 tensors both ways; it also guards newScalar's reading of the
// binding's Scalar layout: a write through Data must reach ONNX Runtime, and its write must
// come back through Data.
func TestScalarTensor(t *testing.T) {
	s := newTestSession(t, "scalar_add", "Add",
		[]IOInfo{{"x", ElemFloat64, nil}, {"y", ElemFloat64, nil}},
		[]IOInfo{{"z", ElemFloat64, nil}})
	x := newTestTensor(t, nil, []float64{1.5})
	y := newTestTensor(t, []int64{}, []float64{2})
	z := newTestTensor(t, nil, []float64{0})
	for _, v := range []float64{1.5, -4} {
		x.Data()[0] = v
		require.NoError(t, s.Run([]Value{x, y}, []Value{z}))
		assert.Equal(t, []float64{v + 2}, z.Data())
	}
}

func TestFloat16AndBoolTensors(t *testing.T) {
	s := newTestSession(t, "identity2", "Identity",
		[]IOInfo{{"x", ElemFloat16, []int64{3}}},
		[]IOInfo{{"y", ElemFloat16, []int64{3}}})
	// 1.0, -2.0 and 65504 (the largest half) as IEEE 754 half bits.
	half := []Float16{0x3c00, 0xc000, 0x7bff}
	out := make([]Float16, 3)
	require.NoError(t, s.Run([]Value{newTestTensor(t, []int64{3}, half)}, []Value{newTestTensor(t, []int64{3}, out)}))
	assert.Equal(t, half, out)

	not := newTestSession(t, "not", "Not",
		[]IOInfo{{"x", ElemBool, []int64{2}}},
		[]IOInfo{{"y", ElemBool, []int64{2}}})
	got := make([]bool, 2)
	require.NoError(t, not.Run([]Value{newTestTensor(t, []int64{2}, []bool{true, false})}, []Value{newTestTensor(t, []int64{2}, got)}))
	assert.Equal(t, []bool{false, true}, got)
}

func TestElemTypeString(t *testing.T) {
	for typ, want := range map[ElemType]string{
		ElemFloat32: "float32", ElemFloat64: "float64", ElemFloat16: "float16",
		ElemInt32: "int32", ElemInt64: "int64", ElemBool: "bool", ElemType(16): "bfloat16",
	} {
		assert.Equal(t, want, typ.String())
	}
}
