package graphs

import (
	"fmt"
	"math"
	"strings"
)

// Shape manipulation ops and their VJPs. Shapes that depend on symbolic dimensions are
// computed at run time with Shape, so graphs stay valid for any batch and sequence size.

// ShapeOf is the run-time shape of x as a 1-D int64 tensor.
func (g *Graph) ShapeOf(x *Value) *Value {
	g.check(x)
	if x.shape.Static() {
		return g.Ints(x.shape.Ints()...)
	}
	return g.emit("Shape", []*Value{x}, nil, Int64, Shape{D(int64(x.Rank()))})
}

// SizeOf is the run-time number of elements of x as an int64 scalar.
func (g *Graph) SizeOf(x *Value) *Value {
	g.check(x)
	return g.emit("Size", []*Value{x}, nil, Int64, Shape{})
}

// Reshape uses ONNX semantics for dims: 0 copies the input's dimension, -1 is inferred.
func (g *Graph) Reshape(x *Value, dims ...int64) *Value {
	g.check(x)
	shape := make(Shape, len(dims))
	infer := -1
	known := Shape{}
	for i, d := range dims {
		switch {
		case d == 0:
			if i >= x.Rank() {
				panic(fmt.Sprintf("graphs: Reshape %v to %v: no dimension %d to copy", x, dims, i))
			}
			shape[i] = x.shape[i]
			known = append(known, x.shape[i])
		case d == -1:
			if infer >= 0 {
				panic(fmt.Sprintf("graphs: Reshape %v to %v: two -1 dimensions", x, dims))
			}
			infer = i
		case d > 0:
			shape[i] = D(d)
			known = append(known, D(d))
		default:
			panic(fmt.Sprintf("graphs: Reshape %v to %v: bad dimension %d", x, dims, d))
		}
	}
	if infer >= 0 {
		shape[infer] = quotientDim(x.shape, known)
	} else if x.shape.Static() && shape.Static() && x.shape.Size() != shape.Size() {
		panic(fmt.Sprintf("graphs: Reshape %v to %v: sizes differ", x, dims))
	}
	return g.emit("Reshape", []*Value{x, g.Ints(dims...)}, nil, x.dtype, shape)
}

// reshapeLike reshapes x to the run-time shape of like.
func (g *Graph) reshapeLike(x, like *Value) *Value {
	if x.shape.Equal(like.shape) {
		return x
	}
	return g.ReshapeTo(x, g.ShapeOf(like), like.shape)
}

// quotientDim is prod(all)/prod(known), symbolic where needed.
func quotientDim(all, known Shape) Dim {
	num, den := int64(1), int64(1)
	var syms []string
	left := map[string]int{}
	for _, d := range known {
		if d.Static() {
			den *= d.Size
		} else {
			left[d.Sym]++
		}
	}
	for _, d := range all {
		switch {
		case d.Static():
			num *= d.Size
		case left[d.Sym] > 0:
			left[d.Sym]--
		default:
			syms = append(syms, d.Sym)
		}
	}
	if len(syms) == 0 {
		if den == 0 || num%den != 0 {
			panic(fmt.Sprintf("graphs: Reshape: cannot divide %v by %v", all, known))
		}
		return D(num / den)
	}
	if num/den != 1 {
		syms = append(syms, fmt.Sprint(num/den))
	}
	return S(strings.Join(syms, "*"))
}

// Transpose permutes dimensions.
func (g *Graph) Transpose(x *Value, perm ...int64) *Value {
	g.check(x)
	if len(perm) != x.Rank() {
		panic(fmt.Sprintf("graphs: Transpose %v: perm %v has wrong length", x, perm))
	}
	shape := make(Shape, len(perm))
	for i, p := range perm {
		shape[i] = x.shape[normAxis("Transpose", int(p), x.Rank())]
	}
	return g.emit("Transpose", []*Value{x}, map[string]any{"perm": perm}, x.dtype, shape)
}

// Unsqueeze inserts size-1 dimensions at axes (positions in the result).
func (g *Graph) Unsqueeze(x *Value, axes ...int64) *Value {
	g.check(x)
	rank := x.Rank() + len(axes)
	at := map[int]bool{}
	for _, a := range axes {
		at[normAxis("Unsqueeze", int(a), rank)] = true
	}
	shape := make(Shape, 0, rank)
	j := 0
	for i := 0; i < rank; i++ {
		if at[i] {
			shape = append(shape, D(1))
		} else {
			shape = append(shape, x.shape[j])
			j++
		}
	}
	return g.emit("Unsqueeze", []*Value{x, g.Ints(axes...)}, nil, x.dtype, shape)
}

// Squeeze removes the size-1 dimensions at axes.
func (g *Graph) Squeeze(x *Value, axes ...int64) *Value {
	g.check(x)
	drop := map[int]bool{}
	for _, a := range axes {
		i := normAxis("Squeeze", int(a), x.Rank())
		if x.shape[i].Static() && x.shape[i].Size != 1 {
			panic(fmt.Sprintf("graphs: Squeeze %v: axis %d has size %v", x, i, x.shape[i]))
		}
		drop[i] = true
	}
	var shape Shape
	for i, d := range x.shape {
		if !drop[i] {
			shape = append(shape, d)
		}
	}
	return g.emit("Squeeze", []*Value{x, g.Ints(axes...)}, nil, x.dtype, shape)
}

// Concat joins tensors along axis.
func (g *Graph) Concat(axis int, xs ...*Value) *Value {
	g.check(xs...)
	if len(xs) == 0 {
		panic("graphs: Concat of nothing")
	}
	axis = normAxis("Concat", axis, xs[0].Rank())
	shape := xs[0].shape.clone()
	total := int64(0)
	var syms []string
	for _, x := range xs {
		if x.Rank() != shape.Rank() || x.dtype != xs[0].dtype {
			panic(fmt.Sprintf("graphs: Concat: %v does not match %v", x, xs[0]))
		}
		if d := x.shape[axis]; d.Static() {
			total += d.Size
		} else {
			syms = append(syms, d.Sym)
		}
	}
	if len(syms) == 0 {
		shape[axis] = D(total)
	} else {
		if total > 0 {
			syms = append(syms, fmt.Sprint(total))
		}
		shape[axis] = S(strings.Join(syms, "+"))
	}
	return g.emit("Concat", xs, map[string]any{"axis": int64(axis)}, xs[0].dtype, shape)
}

// Slice takes x[starts:ends] along axes with step 1. Ends beyond a dimension are clamped,
// negative indices count from the end, as in ONNX.
func (g *Graph) Slice(x *Value, starts, ends, axes []int64) *Value {
	g.check(x)
	if len(starts) != len(ends) || len(starts) != len(axes) {
		panic(fmt.Sprintf("graphs: Slice %v: starts, ends and axes differ in length", x))
	}
	shape := x.shape.clone()
	for i, a := range axes {
		ax := normAxis("Slice", int(a), x.Rank())
		d := x.shape[ax]
		if !d.Static() {
			shape[ax] = symbolicSlice(d, starts[i], ends[i])
			continue
		}
		s, e := clampSlice(starts[i], ends[i], d.Size)
		shape[ax] = D(e - s)
	}
	return g.emit("Slice", []*Value{x, g.Ints(starts...), g.Ints(ends...), g.Ints(axes...)}, nil, x.dtype, shape)
}

// symbolicSlice names the size of d[start:end]: "T-1" for [1:] or [:-1], else a slice
// expression.
func symbolicSlice(d Dim, start, end int64) Dim {
	if start >= 0 && (end < 0 || end == math.MaxInt64) {
		cut := start
		if end < 0 {
			cut -= end
		}
		if cut == 0 {
			return d
		}
		return S(fmt.Sprintf("%s-%d", d.Sym, cut))
	}
	return S(fmt.Sprintf("%s[%d:%d]", d.Sym, start, end))
}

// slicePads returns the zero padding that undoes d[start:end], known while building when d
// is static, or when the slice keeps a suffix and prefix of fixed sizes.
func slicePads(d Dim, start, end int64) (before, after int64, ok bool) {
	if d.Static() {
		s, e := clampSlice(start, end, d.Size)
		return s, d.Size - e, true
	}
	switch {
	case start >= 0 && end == math.MaxInt64:
		return start, 0, true
	case start >= 0 && end < 0:
		return start, -end, true
	}
	return 0, 0, false
}

func clampSlice(start, end, size int64) (int64, int64) {
	fix := func(i int64) int64 {
		if i < 0 {
			i += size
		}
		return min(max(i, 0), size)
	}
	s, e := fix(start), fix(end)
	return s, max(s, e)
}

// Pad pads x with zeros: pads lists the begin pads of every axis, then the end pads.
func (g *Graph) Pad(x *Value, pads ...int64) *Value {
	g.check(x)
	r := x.Rank()
	if len(pads) != 2*r {
		panic(fmt.Sprintf("graphs: Pad %v: want %d pads, got %v", x, 2*r, pads))
	}
	shape := x.shape.clone()
	for i := range shape {
		if pads[i] == 0 && pads[r+i] == 0 {
			continue
		}
		if !shape[i].Static() {
			shape[i] = S(fmt.Sprintf("%s+%d", shape[i].Sym, pads[i]+pads[r+i]))
			continue
		}
		shape[i] = D(shape[i].Size + pads[i] + pads[r+i])
	}
	return g.emit("Pad", []*Value{x, g.Ints(pads...)}, nil, x.dtype, shape)
}

// Expand broadcasts x to the run-time shape held in shapeValue, whose static form is shape.
func (g *Graph) Expand(x, shapeValue *Value, shape Shape) *Value {
	g.check(x, shapeValue)
	out := broadcastShapes("Expand", x.shape, shape)
	return g.emit("Expand", []*Value{x, shapeValue}, nil, x.dtype, out)
}

// Range is [start, start+delta, ...) up to limit; all three are scalars of one type, and
// n names the result's length.
func (g *Graph) Range(start, limit, delta *Value, n Dim) *Value {
	g.check(start, limit, delta)
	return g.emit("Range", []*Value{start, limit, delta}, nil, start.dtype, Shape{n})
}

// ReshapeTo reshapes x to the run-time shape held in the 1-D int64 shapeValue, whose
// static form is shape. Use it when the target shape has symbolic dimensions taken from
// other tensors (see ShapeOf and Dim).
func (g *Graph) ReshapeTo(x, shapeValue *Value, shape Shape) *Value {
	g.check(x, shapeValue)
	if x.shape.Static() && shape.Static() && x.shape.Size() != shape.Size() {
		panic(fmt.Sprintf("graphs: ReshapeTo %v to %v: sizes differ", x, shape))
	}
	return g.emit("Reshape", []*Value{x, shapeValue}, nil, x.dtype, shape)
}

// DimOf is the run-time size of x's dimension axis as a 1-D int64 tensor of length 1, the
// building block of run-time shapes for ReshapeTo and Expand.
func (g *Graph) DimOf(x *Value, axis int) *Value {
	axis = normAxis("DimOf", axis, x.Rank())
	if d := x.shape[axis]; d.Static() {
		return g.Ints(d.Size)
	}
	return g.Gather(g.ShapeOf(x), g.Ints(int64(axis)), 0)
}

// ConstantOfShape is a tensor of the run-time shape shapeValue filled with zeros of dtype.
func (g *Graph) ConstantOfShape(shapeValue *Value, shape Shape, dtype DType) *Value {
	g.check(shapeValue)
	return g.emit("ConstantOfShape", []*Value{shapeValue}, map[string]any{"value": zeroTensor(dtype)}, dtype, shape)
}

func init() {
	defNonDiffOp("Shape")
	defNonDiffOp("Size")
	defNonDiffOp("Range")
	defNonDiffOp("ConstantOfShape")
	defOp("Reshape", func(g *Graph, n *Node, dy *Value, needs []bool) []*Value {
		return []*Value{g.reshapeLike(dy, n.Inputs[0]), nil}
	})
	defOp("Transpose", func(g *Graph, n *Node, dy *Value, needs []bool) []*Value {
		perm := n.Attrs["perm"].([]int64)
		inv := make([]int64, len(perm))
		for i, p := range perm {
			inv[p] = int64(i)
		}
		return []*Value{g.Transpose(dy, inv...)}
	})
	defOp("Unsqueeze", func(g *Graph, n *Node, dy *Value, needs []bool) []*Value {
		return []*Value{g.Squeeze(dy, constInts(n.Inputs[1])...), nil}
	})
	defOp("Squeeze", func(g *Graph, n *Node, dy *Value, needs []bool) []*Value {
		return []*Value{g.reshapeLike(dy, n.Inputs[0]), nil}
	})
	// The gradient of a concatenation is the matching slice of the upstream gradient.
	defOp("Concat", func(g *Graph, n *Node, dy *Value, needs []bool) []*Value {
		axis := n.Attrs["axis"].(int64)
		grads := make([]*Value, len(n.Inputs))
		offset := int64(0)
		for i, x := range n.Inputs {
			d := x.shape[axis]
			if !d.Static() {
				panic(fmt.Sprintf("graphs: Concat VJP needs static sizes along axis %d, got %v", axis, x))
			}
			if needs[i] {
				grads[i] = g.Slice(dy, []int64{offset}, []int64{offset + d.Size}, []int64{axis})
			}
			offset += d.Size
		}
		return grads
	})
	// The gradient of a slice is the upstream gradient padded with zeros back to the input.
	defOp("Slice", func(g *Graph, n *Node, dy *Value, needs []bool) []*Value {
		x := n.Inputs[0]
		starts, ends, axes := constInts(n.Inputs[1]), constInts(n.Inputs[2]), constInts(n.Inputs[3])
		r := x.Rank()
		pads := make([]int64, 2*r)
		for i, a := range axes {
			ax := normAxis("Slice", int(a), r)
			before, after, ok := slicePads(x.shape[ax], starts[i], ends[i])
			if !ok {
				panic(fmt.Sprintf("graphs: Slice VJP: cannot undo [%d:%d] on axis %d of %v", starts[i], ends[i], ax, x))
			}
			pads[ax], pads[r+ax] = before, after
		}
		return []*Value{g.Pad(dy, pads...), nil, nil, nil}
	})
	defOp("Pad", func(g *Graph, n *Node, dy *Value, needs []bool) []*Value {
		x, pads := n.Inputs[0], constInts(n.Inputs[1])
		r := x.Rank()
		var starts, ends, axes []int64
		for i := 0; i < r; i++ {
			if pads[i] != 0 || pads[r+i] != 0 {
				starts = append(starts, pads[i])
				ends = append(ends, -pads[r+i]) // exact for static and symbolic sizes
				if pads[r+i] == 0 {
					ends[len(ends)-1] = math.MaxInt64
				}
				axes = append(axes, int64(i))
			}
		}
		if len(axes) == 0 {
			return []*Value{dy, nil}
		}
		return []*Value{g.Slice(dy, starts, ends, axes), nil}
	})
	defOp("Expand", func(g *Graph, n *Node, dy *Value, needs []bool) []*Value {
		return []*Value{unbroadcast(g, dy, n.Inputs[0].shape), nil}
	})
}
