package graphs

import "fmt"

// Reductions and normalisations along axes, and their VJPs.

func (g *Graph) reduce(op string, x *Value, axes []int64, keepDims bool) *Value {
	g.check(x)
	reduced := map[int]bool{}
	for _, a := range axes {
		reduced[normAxis(op, int(a), x.Rank())] = true
	}
	all := len(axes) == 0
	var shape Shape
	for i, d := range x.shape {
		switch {
		case !all && !reduced[i]:
			shape = append(shape, d)
		case keepDims:
			shape = append(shape, D(1))
		}
	}
	attrs := map[string]any{"keepdims": boolInt(keepDims)}
	inputs := []*Value{x}
	if !all {
		inputs = append(inputs, g.Ints(axes...))
	}
	return g.emit(op, inputs, attrs, x.dtype, shape)
}

// ReduceSum sums over axes (all axes when none are given).
func (g *Graph) ReduceSum(x *Value, axes []int64, keepDims bool) *Value {
	return g.reduce("ReduceSum", x, axes, keepDims)
}

// ReduceMean averages over axes (all axes when none are given).
func (g *Graph) ReduceMean(x *Value, axes []int64, keepDims bool) *Value {
	return g.reduce("ReduceMean", x, axes, keepDims)
}

// ReduceMax is the maximum over axes; it carries no gradient (use it for stabilising
// constants only).
func (g *Graph) ReduceMax(x *Value, axes []int64, keepDims bool) *Value {
	return g.reduce("ReduceMax", x, axes, keepDims)
}

// Softmax normalises exp(x) along axis.
func (g *Graph) Softmax(x *Value, axis int) *Value {
	g.check(x)
	axis = normAxis("Softmax", axis, x.Rank())
	return g.emit("Softmax", []*Value{x}, map[string]any{"axis": int64(axis)}, x.dtype, x.shape)
}

// LogSoftmax is log(Softmax(x)) computed stably.
func (g *Graph) LogSoftmax(x *Value, axis int) *Value {
	g.check(x)
	axis = normAxis("LogSoftmax", axis, x.Rank())
	return g.emit("LogSoftmax", []*Value{x}, map[string]any{"axis": int64(axis)}, x.dtype, x.shape)
}

// CumSum is the inclusive cumulative sum along axis.
func (g *Graph) CumSum(x *Value, axis int) *Value {
	return g.cumSum(x, axis, false)
}

func (g *Graph) cumSum(x *Value, axis int, reverse bool) *Value {
	g.check(x)
	axis = normAxis("CumSum", axis, x.Rank())
	attrs := map[string]any{"reverse": boolInt(reverse)}
	return g.emit("CumSum", []*Value{x, g.Scalar(Int64, float64(axis))}, attrs, x.dtype, x.shape)
}

func boolInt(b bool) int64 {
	if b {
		return 1
	}
	return 0
}

// reducedAxes returns the axes a Reduce* node reduced over (all when it has no axes input).
func reducedAxes(n *Node) []int64 {
	x := n.Inputs[0]
	if len(n.Inputs) < 2 || n.Inputs[1] == nil {
		axes := make([]int64, x.Rank())
		for i := range axes {
			axes[i] = int64(i)
		}
		return axes
	}
	axes := append([]int64(nil), constInts(n.Inputs[1])...)
	for i, a := range axes {
		axes[i] = int64(normAxis(n.Op, int(a), x.Rank()))
	}
	return axes
}

// expandReduced broadcasts the gradient of a reduction back to the input's shape.
func expandReduced(g *Graph, n *Node, dy *Value) *Value {
	x := n.Inputs[0]
	if n.Attrs["keepdims"] == int64(0) && dy.Rank() > 0 {
		dy = g.Unsqueeze(dy, reducedAxes(n)...)
	}
	return g.Expand(dy, g.ShapeOf(x), x.shape)
}

// constInts reads the data of an int64 constant built by this package.
func constInts(v *Value) []int64 {
	if d, ok := v.g.constData[v].([]int64); ok {
		return d
	}
	panic(fmt.Sprintf("graphs: %s is not an int64 constant", v.name))
}

func init() {
	defOp("ReduceSum", func(g *Graph, n *Node, dy *Value, needs []bool) []*Value {
		return []*Value{expandReduced(g, n, dy), nil}
	})
	defOp("ReduceMean", func(g *Graph, n *Node, dy *Value, needs []bool) []*Value {
		x, y := n.Inputs[0], n.Outputs[0]
		var count *Value
		if in, out := x.shape.Size(), y.shape.Size(); in > 0 && out > 0 {
			count = x.ScalarLike(float64(in / out))
		} else {
			count = g.Cast(g.Div(g.SizeOf(x), g.SizeOf(y)), x.dtype)
		}
		return []*Value{g.Div(expandReduced(g, n, dy), count), nil}
	})
	defNonDiffOp("ReduceMax")
	// y = softmax(x): dx = y * (dy - sum(dy * y))
	defOp("Softmax", func(g *Graph, n *Node, dy *Value, needs []bool) []*Value {
		y, axis := n.Outputs[0], n.Attrs["axis"].(int64)
		s := g.ReduceSum(g.Mul(dy, y), []int64{axis}, true)
		return []*Value{g.Mul(y, g.Sub(dy, s))}
	})
	// y = logsoftmax(x): dx = dy - exp(y) * sum(dy)
	// dx = dy - softmax * sum(dy). When dy is sparse, a scatter-add of updates into zeros
	// along the same axis (the VJP of GatherElements picking each row's target: the
	// cross-entropy), sum(dy) is the updates' sum and dx = scatter-add(-softmax * sum,
	// updates): the dense zeros and one full-size pass are never made. On the LM head of a
	// 32000-token vocabulary that is most of the non-MatMul time of a train step.
	defOp("LogSoftmax", func(g *Graph, n *Node, dy *Value, needs []bool) []*Value {
		y, axis := n.Outputs[0], n.Attrs["axis"].(int64)
		if idx, upd, ok := scatteredIntoZeros(dy, int(axis)); ok {
			s := g.ReduceSum(upd, []int64{axis}, true)
			return []*Value{g.ScatterAdd(g.Mul(g.Exp(y), g.Neg(s)), idx, upd, int(axis))}
		}
		s := g.ReduceSum(dy, []int64{axis}, true)
		return []*Value{g.Sub(dy, g.Mul(g.Exp(y), s))}
	})
	// The adjoint of an inclusive cumulative sum is the reverse cumulative sum.
	defOp("CumSum", func(g *Graph, n *Node, dy *Value, needs []bool) []*Value {
		axis := int(constInts(n.Inputs[1])[0])
		reverse := n.Attrs["reverse"] == int64(1)
		return []*Value{g.cumSum(dy, axis, !reverse), nil}
	})
}

// scatteredIntoZeros reports whether v is ScatterAdd(ZerosLike(...), indices, updates) along
// axis, with updates as large as v on every other axis (so each row's sum along axis is
// the sum of its updates), and returns the indices and updates.
func scatteredIntoZeros(v *Value, axis int) (indices, updates *Value, ok bool) {
	n := v.node
	if n == nil || n.Op != "ScatterElements" || n.Attrs["reduction"] != "add" || n.Attrs["axis"] != int64(axis) {
		return nil, nil, false
	}
	if zeros := n.Inputs[0].node; zeros == nil || zeros.Op != "ConstantOfShape" {
		return nil, nil, false
	}
	indices, updates = n.Inputs[1], n.Inputs[2]
	for i, d := range updates.shape {
		if i != axis && d != v.shape[i] {
			return nil, nil, false
		}
	}
	return indices, updates, true
}
