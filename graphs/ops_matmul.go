package graphs

import "fmt"

// MatMul is the numpy-style batched matrix product of a [..., M, K] and b [..., K, N];
// leading (batch) dimensions broadcast. Both operands must have rank >= 2.
func (g *Graph) MatMul(a, b *Value) *Value {
	g.check(a, b)
	if a.Rank() < 2 || b.Rank() < 2 {
		panic(fmt.Sprintf("graphs: MatMul: operands need rank >= 2, got %v and %v", a, b))
	}
	if a.dtype != b.dtype {
		panic(fmt.Sprintf("graphs: MatMul: element types differ: %v and %v", a, b))
	}
	k1, k2 := a.shape[a.Rank()-1], b.shape[b.Rank()-2]
	if k1.Static() && k2.Static() && k1 != k2 {
		panic(fmt.Sprintf("graphs: MatMul: inner dimensions differ: %v and %v", a, b))
	}
	batch := broadcastShapes("MatMul", a.shape[:a.Rank()-2], b.shape[:b.Rank()-2])
	shape := append(batch, a.shape[a.Rank()-2], b.shape[b.Rank()-1])
	return g.emit("MatMul", []*Value{a, b}, nil, a.dtype, shape)
}

// TransposeLast2 swaps the last two dimensions.
func (g *Graph) TransposeLast2(x *Value) *Value {
	perm := make([]int64, x.Rank())
	for i := range perm {
		perm[i] = int64(i)
	}
	r := x.Rank()
	perm[r-2], perm[r-1] = perm[r-1], perm[r-2]
	return g.Transpose(x, perm...)
}

func init() {
	// y = a @ b: da = dy @ b^T, db = a^T @ dy, each summed over broadcast batch dimensions.
	defOp("MatMul", func(g *Graph, n *Node, dy *Value, needs []bool) []*Value {
		a, b := n.Inputs[0], n.Inputs[1]
		return []*Value{
			when(needs[0], func() *Value { return unbroadcast(g, g.MatMul(dy, g.TransposeLast2(b)), a.shape) }),
			when(needs[1], func() *Value { return unbroadcast(g, g.MatMul(g.TransposeLast2(a), dy), b.shape) }),
		}
	})
}
