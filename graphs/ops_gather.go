package graphs

import "fmt"

// Indexing ops and their VJPs. Gradients of gathers scatter-add into zeros with
// ScatterElements(reduction="add"), which ONNX Runtime's CPU kernel applies serially, so
// duplicate indices (a token appearing twice in a batch) accumulate correctly. ScatterND
// with reduction is avoided: its CPU kernel races on duplicate indices.

// Gather takes slices of data along axis at integer indices; Gather(table, ids, 0) is an
// embedding lookup.
func (g *Graph) Gather(data, indices *Value, axis int) *Value {
	g.check(data, indices)
	axis = normAxis("Gather", axis, data.Rank())
	shape := append(append(data.shape[:axis:axis], indices.shape...), data.shape[axis+1:]...)
	return g.emit("Gather", []*Value{data, indices}, map[string]any{"axis": int64(axis)}, data.dtype, shape)
}

// GatherElements picks data[..., indices[i], ...] along axis; the result has the indices'
// shape. With axis = last and one index per row it selects each row's target log-probability.
func (g *Graph) GatherElements(data, indices *Value, axis int) *Value {
	g.check(data, indices)
	if data.Rank() != indices.Rank() {
		panic(fmt.Sprintf("graphs: GatherElements: ranks differ: %v and %v", data, indices))
	}
	axis = normAxis("GatherElements", axis, data.Rank())
	return g.emit("GatherElements", []*Value{data, indices}, map[string]any{"axis": int64(axis)}, data.dtype, indices.shape)
}

// ScatterAdd returns data with updates added at indices along axis (ScatterElements with
// reduction "add"); indices and updates have the same shape.
func (g *Graph) ScatterAdd(data, indices, updates *Value, axis int) *Value {
	g.check(data, indices, updates)
	axis = normAxis("ScatterElements", axis, data.Rank())
	attrs := map[string]any{"axis": int64(axis), "reduction": "add"}
	return g.emit("ScatterElements", []*Value{data, indices, updates}, attrs, data.dtype, data.shape)
}

func init() {
	// Gather along axis 0: scatter-add the rows of dy back into a zero table.
	defOp("Gather", func(g *Graph, n *Node, dy *Value, needs []bool) []*Value {
		data, indices := n.Inputs[0], n.Inputs[1]
		if n.Attrs["axis"] != int64(0) {
			panic("graphs: Gather VJP supports axis 0 only")
		}
		if !data.shape[1:].Static() {
			panic(fmt.Sprintf("graphs: Gather VJP needs static row dimensions, got %v", data))
		}
		rows := g.Reshape(dy, append([]int64{-1}, data.shape[1:].Ints()...)...)
		idx := g.Reshape(indices, append([]int64{-1}, ones(data.Rank()-1)...)...)
		idx = g.Expand(idx, g.ShapeOf(rows), rows.shape)
		return []*Value{g.ScatterAdd(g.ZerosLike(data), idx, rows, 0), nil}
	})
	defOp("GatherElements", func(g *Graph, n *Node, dy *Value, needs []bool) []*Value {
		data, indices := n.Inputs[0], n.Inputs[1]
		axis := int(n.Attrs["axis"].(int64))
		return []*Value{g.ScatterAdd(g.ZerosLike(data), indices, dy, axis), nil}
	})
	// y = data + scatter(updates): ddata = dy, dupdates = dy gathered at indices.
	defOp("ScatterElements", func(g *Graph, n *Node, dy *Value, needs []bool) []*Value {
		if n.Attrs["reduction"] != "add" {
			panic("graphs: ScatterElements VJP supports reduction add only")
		}
		indices := n.Inputs[1]
		axis := int(n.Attrs["axis"].(int64))
		return []*Value{
			when(needs[0], func() *Value { return dy }),
			nil,
			when(needs[2], func() *Value { return g.GatherElements(dy, indices, axis) }),
		}
	})
}

func ones(n int) []int64 {
	s := make([]int64, n)
	for i := range s {
		s[i] = 1
	}
	return s
}
