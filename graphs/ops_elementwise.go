package graphs

import "fmt"

// Element-wise ops with numpy broadcasting, and their VJPs.

func (g *Graph) binary(op string, a, b *Value) *Value {
	g.check(a, b)
	if a.dtype != b.dtype {
		panic(fmt.Sprintf("graphs: %s: element types differ: %v and %v", op, a, b))
	}
	return g.emit(op, []*Value{a, b}, nil, a.dtype, broadcastShapes(op, a.shape, b.shape))
}

func (g *Graph) unary(op string, x *Value) *Value {
	g.check(x)
	return g.emit(op, []*Value{x}, nil, x.dtype, x.shape)
}

// Add is a + b.
func (g *Graph) Add(a, b *Value) *Value { return g.binary("Add", a, b) }

// Sub is a - b.
func (g *Graph) Sub(a, b *Value) *Value { return g.binary("Sub", a, b) }

// Mul is a * b.
func (g *Graph) Mul(a, b *Value) *Value { return g.binary("Mul", a, b) }

// Div is a / b.
func (g *Graph) Div(a, b *Value) *Value { return g.binary("Div", a, b) }

// Pow is a ** b.
func (g *Graph) Pow(a, b *Value) *Value { return g.binary("Pow", a, b) }

// Neg is -x.
func (g *Graph) Neg(x *Value) *Value { return g.unary("Neg", x) }

// Sqrt is the element-wise square root.
func (g *Graph) Sqrt(x *Value) *Value { return g.unary("Sqrt", x) }

// Reciprocal is 1/x.
func (g *Graph) Reciprocal(x *Value) *Value { return g.unary("Reciprocal", x) }

// Exp is e**x.
func (g *Graph) Exp(x *Value) *Value { return g.unary("Exp", x) }

// Log is the natural logarithm.
func (g *Graph) Log(x *Value) *Value { return g.unary("Log", x) }

// Sigmoid is 1/(1+e**-x).
func (g *Graph) Sigmoid(x *Value) *Value { return g.unary("Sigmoid", x) }

// Tanh is the hyperbolic tangent.
func (g *Graph) Tanh(x *Value) *Value { return g.unary("Tanh", x) }

// Cos is the cosine.
func (g *Graph) Cos(x *Value) *Value { return g.unary("Cos", x) }

// Sin is the sine.
func (g *Graph) Sin(x *Value) *Value { return g.unary("Sin", x) }

// Identity passes x through unchanged.
func (g *Graph) Identity(x *Value) *Value { return g.unary("Identity", x) }

// Cast converts x to another element type.
func (g *Graph) Cast(x *Value, to DType) *Value {
	g.check(x)
	if x.dtype == to {
		return x
	}
	return g.emit("Cast", []*Value{x}, map[string]any{"to": int64(to)}, to, x.shape)
}

// Where selects a where cond is true and b elsewhere.
func (g *Graph) Where(cond, a, b *Value) *Value {
	g.check(cond, a, b)
	if cond.dtype != Bool || a.dtype != b.dtype {
		panic(fmt.Sprintf("graphs: Where: want bool condition and equal branch types, got %v, %v, %v", cond, a, b))
	}
	return g.emit("Where", []*Value{cond, a, b}, nil, a.dtype, broadcastShapes("Where", cond.shape, a.shape, b.shape))
}

func (g *Graph) compare(op string, a, b *Value) *Value {
	g.check(a, b)
	if a.dtype != b.dtype {
		panic(fmt.Sprintf("graphs: %s: element types differ: %v and %v", op, a, b))
	}
	return g.emit(op, []*Value{a, b}, nil, Bool, broadcastShapes(op, a.shape, b.shape))
}

// Equal is a == b, as bool.
func (g *Graph) Equal(a, b *Value) *Value { return g.compare("Equal", a, b) }

// Less is a < b, as bool.
func (g *Graph) Less(a, b *Value) *Value { return g.compare("Less", a, b) }

// LessOrEqual is a <= b, as bool.
func (g *Graph) LessOrEqual(a, b *Value) *Value { return g.compare("LessOrEqual", a, b) }

// Greater is a > b, as bool.
func (g *Graph) Greater(a, b *Value) *Value { return g.compare("Greater", a, b) }

// And is the logical and of two bool tensors.
func (g *Graph) And(a, b *Value) *Value { return g.compare("And", a, b) }

// Not is the logical negation.
func (g *Graph) Not(x *Value) *Value { return g.unary("Not", x) }

func init() {
	defOp("Add", func(g *Graph, n *Node, dy *Value, needs []bool) []*Value {
		a, b := n.Inputs[0], n.Inputs[1]
		return []*Value{
			when(needs[0], func() *Value { return unbroadcast(g, dy, a.shape) }),
			when(needs[1], func() *Value { return unbroadcast(g, dy, b.shape) }),
		}
	})
	defOp("Sub", func(g *Graph, n *Node, dy *Value, needs []bool) []*Value {
		a, b := n.Inputs[0], n.Inputs[1]
		return []*Value{
			when(needs[0], func() *Value { return unbroadcast(g, dy, a.shape) }),
			when(needs[1], func() *Value { return unbroadcast(g, g.Neg(dy), b.shape) }),
		}
	})
	defOp("Mul", func(g *Graph, n *Node, dy *Value, needs []bool) []*Value {
		a, b := n.Inputs[0], n.Inputs[1]
		return []*Value{
			when(needs[0], func() *Value { return unbroadcast(g, g.Mul(dy, b), a.shape) }),
			when(needs[1], func() *Value { return unbroadcast(g, g.Mul(dy, a), b.shape) }),
		}
	})
	defOp("Div", func(g *Graph, n *Node, dy *Value, needs []bool) []*Value {
		a, b, y := n.Inputs[0], n.Inputs[1], n.Outputs[0]
		return []*Value{
			when(needs[0], func() *Value { return unbroadcast(g, g.Div(dy, b), a.shape) }),
			// d(a/b)/db = -a/b^2 = -y/b
			when(needs[1], func() *Value { return unbroadcast(g, g.Neg(g.Div(g.Mul(dy, y), b)), b.shape) }),
		}
	})
	defOp("Pow", func(g *Graph, n *Node, dy *Value, needs []bool) []*Value {
		a, b, y := n.Inputs[0], n.Inputs[1], n.Outputs[0]
		return []*Value{
			// d(a^b)/da = b * a^(b-1)
			when(needs[0], func() *Value {
				return unbroadcast(g, g.Mul(dy, g.Mul(b, g.Pow(a, g.Sub(b, b.ScalarLike(1))))), a.shape)
			}),
			// d(a^b)/db = a^b * log(a)
			when(needs[1], func() *Value { return unbroadcast(g, g.Mul(dy, g.Mul(y, g.Log(a))), b.shape) }),
		}
	})
	defOp("Neg", func(g *Graph, n *Node, dy *Value, needs []bool) []*Value {
		return []*Value{g.Neg(dy)}
	})
	defOp("Sqrt", func(g *Graph, n *Node, dy *Value, needs []bool) []*Value {
		y := n.Outputs[0]
		return []*Value{g.Div(g.Mul(dy, y.ScalarLike(0.5)), y)}
	})
	defOp("Reciprocal", func(g *Graph, n *Node, dy *Value, needs []bool) []*Value {
		y := n.Outputs[0]
		return []*Value{g.Neg(g.Mul(dy, g.Mul(y, y)))}
	})
	defOp("Exp", func(g *Graph, n *Node, dy *Value, needs []bool) []*Value {
		return []*Value{g.Mul(dy, n.Outputs[0])}
	})
	defOp("Log", func(g *Graph, n *Node, dy *Value, needs []bool) []*Value {
		return []*Value{g.Div(dy, n.Inputs[0])}
	})
	defOp("Sigmoid", func(g *Graph, n *Node, dy *Value, needs []bool) []*Value {
		y := n.Outputs[0]
		return []*Value{g.Mul(dy, g.Mul(y, g.Sub(y.ScalarLike(1), y)))}
	})
	defOp("Tanh", func(g *Graph, n *Node, dy *Value, needs []bool) []*Value {
		y := n.Outputs[0]
		return []*Value{g.Mul(dy, g.Sub(y.ScalarLike(1), g.Mul(y, y)))}
	})
	defOp("Cos", func(g *Graph, n *Node, dy *Value, needs []bool) []*Value {
		return []*Value{g.Neg(g.Mul(dy, g.Sin(n.Inputs[0])))}
	})
	defOp("Sin", func(g *Graph, n *Node, dy *Value, needs []bool) []*Value {
		return []*Value{g.Mul(dy, g.Cos(n.Inputs[0]))}
	})
	defOp("Identity", func(g *Graph, n *Node, dy *Value, needs []bool) []*Value {
		return []*Value{dy}
	})
	defOp("Cast", func(g *Graph, n *Node, dy *Value, needs []bool) []*Value {
		return []*Value{g.Cast(dy, n.Inputs[0].dtype)}
	})
	defOp("Where", func(g *Graph, n *Node, dy *Value, needs []bool) []*Value {
		cond, a, b := n.Inputs[0], n.Inputs[1], n.Inputs[2]
		zero := dy.ScalarLike(0)
		return []*Value{
			nil,
			when(needs[1], func() *Value { return unbroadcast(g, g.Where(cond, dy, zero), a.shape) }),
			when(needs[2], func() *Value { return unbroadcast(g, g.Where(cond, zero, dy), b.shape) }),
		}
	})
	for _, op := range []string{"Equal", "Less", "LessOrEqual", "Greater", "And", "Not"} {
		defNonDiffOp(op)
	}
}

// when builds a gradient only if it is needed.
func when(need bool, build func() *Value) *Value {
	if !need {
		return nil
	}
	return build()
}
