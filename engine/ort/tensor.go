package ort

import (
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"
	"unsafe"

	ortgo "github.com/yalue/onnxruntime_go"

	"github.com/l3m/l3m-engine/graphs/onnxpb"
)

// Float16 holds the bits of an IEEE 754 half-precision number. Go has no float16
// arithmetic; a Tensor[Float16] only carries the bits to and from ONNX Runtime.
type Float16 uint16

// Element lists the Go types a Tensor can hold.
type Element interface {
	float32 | float64 | int32 | int64 | bool | Float16
}

// ElemType is a tensor element type. Its values are ONNX's TensorProto.DataType numbers,
// which ONNX Runtime shares, so graph builders can convert either way.
type ElemType int32

// The element types a Tensor can hold. Models may report others (uint8, bfloat16, ...).
const (
	ElemFloat32 = ElemType(onnxpb.TensorProto_FLOAT)
	ElemFloat16 = ElemType(onnxpb.TensorProto_FLOAT16)
	ElemFloat64 = ElemType(onnxpb.TensorProto_DOUBLE)
	ElemInt32   = ElemType(onnxpb.TensorProto_INT32)
	ElemInt64   = ElemType(onnxpb.TensorProto_INT64)
	ElemBool    = ElemType(onnxpb.TensorProto_BOOL)
)

// String names e the way Go would: float32, float64, int64, float16, bfloat16, ...
func (e ElemType) String() string {
	switch e {
	case ElemFloat32:
		return "float32"
	case ElemFloat64:
		return "float64"
	}
	return strings.ToLower(onnxpb.TensorProto_DataType(e).String())
}

// elemTypeOf maps a Go element type to its ElemType.
func elemTypeOf[T Element]() ElemType {
	var zero T
	switch any(zero).(type) {
	case float32:
		return ElemFloat32
	case float64:
		return ElemFloat64
	case int32:
		return ElemInt32
	case int64:
		return ElemInt64
	case bool:
		return ElemBool
	default: // Float16
		return ElemFloat16
	}
}

// Value is a tensor that Session.Run reads (an input) or writes (an output). Only
// *Tensor[T] implements it, so Run can hand ONNX Runtime the Go memory itself.
type Value interface {
	ElemType() ElemType
	Shape() []int64
	ortValue() ortgo.Value
}

// Tensor is a Go slice that ONNX Runtime reads and writes in place: no copy is made when it
// is created or run, so refilling the slice between Runs changes what the next Run sees, and
// an output Tensor's slice holds the results after each Run. Close it when done; the slice
// stays the caller's.
type Tensor[T Element] struct {
	data  []T
	shape []int64
	value ortgo.Value
}

var errNotInitialized = errors.New("ONNX Runtime is not initialized; call ort.Init first")

// NewTensor wraps data, laid out row-major, as a tensor of the given shape; len(data) must
// equal the product of shape. For a rank-0 shape ([] or nil) the one element is copied into
// storage the binding owns; read and write it through Data.
func NewTensor[T Element](shape []int64, data []T) (*Tensor[T], error) {
	n, err := elementCount(shape)
	if err != nil {
		return nil, fmt.Errorf("ort: tensor shape %v: %w", shape, err)
	}
	if int64(len(data)) != n {
		return nil, fmt.Errorf("ort: tensor shape %v needs %d elements, got %d", shape, n, len(data))
	}
	if !ortgo.IsInitialized() {
		return nil, fmt.Errorf("ort: tensor shape %v: %w", shape, errNotInitialized)
	}
	t := &Tensor[T]{data: data, shape: slices.Clone(shape)}
	switch {
	case len(shape) == 0:
		t.value, t.data, err = newScalar(data[0])
	case elemTypeOf[T]() == ElemFloat16:
		bytes := unsafe.Slice((*byte)(unsafe.Pointer(unsafe.SliceData(data))), len(data)*2)
		t.value, err = ortgo.NewCustomDataTensor(ortgo.Shape(shape), bytes, ortgo.TensorElementDataTypeFloat16)
	default:
		t.value, err = ortgo.NewTensor(ortgo.Shape(shape), data)
	}
	if err != nil {
		return nil, fmt.Errorf("ort: %s tensor shape %v: %w", elemTypeOf[T](), shape, err)
	}
	return t, nil
}

// newScalar makes a rank-0 tensor. The binding keeps a scalar's storage private, so the
// one-element slice ONNX Runtime reads and writes is taken from the struct, whose first field
// it is in onnxruntime_go v1.38.0 (pinned in go.mod; TestScalarTensor guards the layout).
func newScalar[T Element](v T) (ortgo.Value, []T, error) {
	if elemTypeOf[T]() == ElemFloat16 {
		return nil, nil, errors.New("rank-0 float16 tensors are not supported; use shape [1]")
	}
	s, err := ortgo.NewScalar(v)
	if err != nil {
		return nil, nil, err
	}
	storage := *(*[]T)(unsafe.Pointer(s))
	if len(storage) != 1 {
		s.Destroy()
		return nil, nil, errors.New("onnxruntime_go's Scalar layout changed; update newScalar")
	}
	return s, storage, nil
}

// elementCount is the product of shape's dimensions, which must be non-negative.
func elementCount(shape []int64) (int64, error) {
	n := int64(1)
	for i, d := range shape {
		if d < 0 {
			return 0, fmt.Errorf("dimension %d is %d; tensor dimensions must be >= 0", i, d)
		}
		if d != 0 && n > math.MaxInt64/d {
			return 0, errors.New("element count overflows int64")
		}
		n *= d
	}
	return n, nil
}

// Data returns the slice ONNX Runtime reads and writes: the one passed to NewTensor, except
// for rank-0 tensors.
func (t *Tensor[T]) Data() []T { return t.data }

// Shape returns a copy of the tensor's dimensions.
func (t *Tensor[T]) Shape() []int64 { return slices.Clone(t.shape) }

// ElemType returns the element type ONNX Runtime sees for T.
func (t *Tensor[T]) ElemType() ElemType { return elemTypeOf[T]() }

// Close releases the ONNX Runtime value; the Go slice is untouched. Closing twice is a no-op.
func (t *Tensor[T]) Close() error {
	if t.value == nil {
		return nil
	}
	err := t.value.Destroy()
	t.value = nil
	if err != nil {
		return fmt.Errorf("ort: close %s tensor %v: %w", t.ElemType(), t.shape, err)
	}
	return nil
}

func (t *Tensor[T]) ortValue() ortgo.Value {
	if t == nil {
		return nil
	}
	return t.value
}
