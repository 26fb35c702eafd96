package graphs

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/l3m/l3m-engine/graphs/onnxpb"
)

// DType is a tensor element type. Its values are ONNX's TensorProto.DataType codes.
type DType int32

// Element types used by l3m-engine graphs.
const (
	Float32  = DType(onnxpb.TensorProto_FLOAT)
	Float64  = DType(onnxpb.TensorProto_DOUBLE)
	Float16  = DType(onnxpb.TensorProto_FLOAT16)
	BFloat16 = DType(onnxpb.TensorProto_BFLOAT16)
	Int64    = DType(onnxpb.TensorProto_INT64)
	Int32    = DType(onnxpb.TensorProto_INT32)
	Bool     = DType(onnxpb.TensorProto_BOOL)
)

func (d DType) String() string {
	switch d {
	case Float32:
		return "float32"
	case Float64:
		return "float64"
	case Float16:
		return "float16"
	case BFloat16:
		return "bfloat16"
	case Int64:
		return "int64"
	case Int32:
		return "int32"
	case Bool:
		return "bool"
	}
	return fmt.Sprintf("dtype(%d)", int32(d))
}

// IsFloat reports whether gradients can flow through values of this type.
func (d DType) IsFloat() bool {
	return d == Float32 || d == Float64 || d == Float16 || d == BFloat16
}

// Dim is one dimension of a shape: a static size, or a symbol (such as "B" or "T") for a
// size known only at run time. Two symbolic dimensions are equal when their symbols are.
type Dim struct {
	Size int64  // static size, valid when Sym == ""
	Sym  string // symbolic name; "" for a static dimension
}

// D returns a static dimension.
func D(n int64) Dim { return Dim{Size: n} }

// S returns a symbolic dimension.
func S(name string) Dim { return Dim{Sym: name} }

// Static reports whether the dimension's size is known while building.
func (d Dim) Static() bool { return d.Sym == "" }

func (d Dim) String() string {
	if d.Static() {
		return strconv.FormatInt(d.Size, 10)
	}
	return d.Sym
}

func (d Dim) isOne() bool { return d.Static() && d.Size == 1 }

// Shape is a list of dimensions; its length is the rank.
type Shape []Dim

// Dims builds a shape from ints (static) and strings (symbolic).
func Dims(dims ...any) Shape {
	s := make(Shape, len(dims))
	for i, d := range dims {
		switch v := d.(type) {
		case int:
			s[i] = D(int64(v))
		case int64:
			s[i] = D(v)
		case string:
			s[i] = S(v)
		case Dim:
			s[i] = v
		default:
			panic(fmt.Sprintf("graphs: Dims: unsupported dimension %T", d))
		}
	}
	return s
}

// Rank is the number of dimensions.
func (s Shape) Rank() int { return len(s) }

// Static reports whether every dimension is static.
func (s Shape) Static() bool {
	for _, d := range s {
		if !d.Static() {
			return false
		}
	}
	return true
}

// Size is the number of elements of a static shape, or -1.
func (s Shape) Size() int64 {
	n := int64(1)
	for _, d := range s {
		if !d.Static() {
			return -1
		}
		n *= d.Size
	}
	return n
}

// Ints returns the static sizes, with -1 for symbolic dimensions.
func (s Shape) Ints() []int64 {
	out := make([]int64, len(s))
	for i, d := range s {
		if d.Static() {
			out[i] = d.Size
		} else {
			out[i] = -1
		}
	}
	return out
}

// Equal reports whether two shapes have the same rank and equal dimensions.
func (s Shape) Equal(o Shape) bool {
	if len(s) != len(o) {
		return false
	}
	for i := range s {
		if s[i] != o[i] {
			return false
		}
	}
	return true
}

func (s Shape) String() string {
	parts := make([]string, len(s))
	for i, d := range s {
		parts[i] = d.String()
	}
	return "[" + strings.Join(parts, " ") + "]"
}

func (s Shape) clone() Shape { return append(Shape(nil), s...) }

// broadcastShapes applies numpy broadcasting to static and symbolic dimensions.
func broadcastShapes(op string, shapes ...Shape) Shape {
	rank := 0
	for _, s := range shapes {
		rank = max(rank, len(s))
	}
	out := make(Shape, rank)
	for i := range out {
		out[i] = D(1)
	}
	for _, s := range shapes {
		off := rank - len(s)
		for i, d := range s {
			o := out[off+i]
			switch {
			case d.isOne() || d == o:
			case o.isOne():
				out[off+i] = d
			case d.Static() && o.Static():
				panic(fmt.Sprintf("graphs: %s: cannot broadcast shapes %v", op, shapes))
			case d.Static():
				out[off+i] = d // a symbolic dim broadcast against a static one takes its size
			}
		}
	}
	return out
}

// normAxis turns a possibly negative axis into 0..rank-1.
func normAxis(op string, axis, rank int) int {
	if axis < 0 {
		axis += rank
	}
	if axis < 0 || axis >= rank {
		panic(fmt.Sprintf("graphs: %s: axis %d out of range for rank %d", op, axis, rank))
	}
	return axis
}
