package graphs

import (
	"fmt"
	"math"
	"sort"
)

// Graph is an ONNX graph under construction. Nodes are kept in the order they were built,
// which is a topological order.
type Graph struct {
	Name string

	inputs    []*Value
	outputs   []*Value
	nodes     []*Node
	consts    []*constant
	constData map[*Value]any
	names     map[string]bool
	counter   int
	scalars   map[scalarKey]*Value
}

// Value is a tensor in a graph: a graph input, a constant or a node output.
type Value struct {
	g     *Graph
	name  string
	dtype DType
	shape Shape
	node  *Node // producer; nil for inputs and constants
}

// Node is one ONNX operator application.
type Node struct {
	Op      string
	Inputs  []*Value // nil entries are omitted optional inputs
	Outputs []*Value
	Attrs   map[string]any // int64, float32, string, []int64, []float32
}

type constant struct {
	value *Value
	data  any // []float32, []float64, []int64, []int32, []bool
}

type scalarKey struct {
	dtype DType
	bits  uint64
}

// New starts an empty graph.
func New(name string) *Graph {
	return &Graph{Name: name, names: map[string]bool{}, constData: map[*Value]any{}, scalars: map[scalarKey]*Value{}}
}

// Name is the value's name in the ONNX graph.
func (v *Value) Name() string { return v.name }

// DType is the element type.
func (v *Value) DType() DType { return v.dtype }

// Shape is the inferred shape; do not modify it.
func (v *Value) Shape() Shape { return v.shape }

// Rank is the number of dimensions.
func (v *Value) Rank() int { return len(v.shape) }

// Graph is the graph the value belongs to.
func (v *Value) Graph() *Graph { return v.g }

func (v *Value) String() string { return fmt.Sprintf("%s:%s%v", v.name, v.dtype, v.shape) }

func (g *Graph) uniqueName(base string) string {
	for {
		g.counter++
		name := fmt.Sprintf("%s_%d", base, g.counter)
		if !g.names[name] {
			g.names[name] = true
			return name
		}
	}
}

func (g *Graph) claim(name string) {
	if name == "" {
		panic("graphs: empty value name")
	}
	if g.names[name] {
		panic(fmt.Sprintf("graphs: value name %q used twice", name))
	}
	g.names[name] = true
}

// Input declares a graph input. Use symbolic dimensions (S("B")) for sizes that vary.
func (g *Graph) Input(name string, dtype DType, shape Shape) *Value {
	g.claim(name)
	v := &Value{g: g, name: name, dtype: dtype, shape: shape.clone()}
	g.inputs = append(g.inputs, v)
	return v
}

// Output marks v as a graph output under the given name.
func (g *Graph) Output(name string, v *Value) *Value {
	g.check(v)
	out := g.emitNamed("Identity", name, []*Value{v}, nil, v.dtype, v.shape)
	g.outputs = append(g.outputs, out)
	return out
}

// Inputs returns the graph inputs in declaration order.
func (g *Graph) Inputs() []*Value { return g.inputs }

// Outputs returns the graph outputs in declaration order.
func (g *Graph) Outputs() []*Value { return g.outputs }

// Nodes returns the nodes in topological order.
func (g *Graph) Nodes() []*Node { return g.nodes }

// Const adds a constant tensor; data is []float32, []float64, []int64, []int32 or []bool and
// must hold shape's number of elements.
func (g *Graph) Const(shape Shape, data any) *Value {
	var dtype DType
	var n int
	switch d := data.(type) {
	case []float32:
		dtype, n = Float32, len(d)
	case []float64:
		dtype, n = Float64, len(d)
	case []int64:
		dtype, n = Int64, len(d)
	case []int32:
		dtype, n = Int32, len(d)
	case []bool:
		dtype, n = Bool, len(d)
	default:
		panic(fmt.Sprintf("graphs: Const: unsupported data %T", data))
	}
	if !shape.Static() || shape.Size() != int64(n) {
		panic(fmt.Sprintf("graphs: Const: shape %v does not hold %d elements", shape, n))
	}
	v := &Value{g: g, name: g.uniqueName("const"), dtype: dtype, shape: shape.clone()}
	g.consts = append(g.consts, &constant{value: v, data: data})
	g.constData[v] = data
	return v
}

// Ints is a 1-D int64 constant, the usual form of axes and shapes.
func (g *Graph) Ints(values ...int64) *Value {
	return g.Const(Shape{D(int64(len(values)))}, append([]int64(nil), values...))
}

// Scalar is a rank-0 constant of the given type; repeated requests share one constant.
func (g *Graph) Scalar(dtype DType, x float64) *Value {
	key := scalarKey{dtype, math.Float64bits(x)}
	if v, ok := g.scalars[key]; ok {
		return v
	}
	var data any
	switch dtype {
	case Float32:
		data = []float32{float32(x)}
	case Float64:
		data = []float64{x}
	case Int64:
		data = []int64{int64(x)}
	case Int32:
		data = []int32{int32(x)}
	case Bool:
		data = []bool{x != 0}
	default:
		panic(fmt.Sprintf("graphs: Scalar: unsupported dtype %v", dtype))
	}
	v := g.Const(Shape{}, data)
	g.scalars[key] = v
	return v
}

// ScalarLike is Scalar with v's element type.
func (v *Value) ScalarLike(x float64) *Value { return v.g.Scalar(v.dtype, x) }

func (g *Graph) check(vs ...*Value) {
	for _, v := range vs {
		if v == nil {
			continue
		}
		if v.g != g {
			panic(fmt.Sprintf("graphs: value %s belongs to another graph", v.name))
		}
	}
}

// emit appends a node with one output of the given type and shape.
func (g *Graph) emit(op string, inputs []*Value, attrs map[string]any, dtype DType, shape Shape) *Value {
	return g.emitNamed(op, "", inputs, attrs, dtype, shape)
}

func (g *Graph) emitNamed(op, name string, inputs []*Value, attrs map[string]any, dtype DType, shape Shape) *Value {
	if _, ok := opTable[op]; !ok {
		panic(fmt.Sprintf("graphs: op %s is not registered (add it with its VJP to an ops_*.go file)", op))
	}
	g.check(inputs...)
	if name == "" {
		name = g.uniqueName(op)
	} else {
		g.claim(name)
	}
	n := &Node{Op: op, Inputs: inputs, Attrs: attrs}
	out := &Value{g: g, name: name, dtype: dtype, shape: shape.clone(), node: n}
	n.Outputs = []*Value{out}
	g.nodes = append(g.nodes, n)
	return out
}

// sortedAttrNames gives attribute names in a stable order for serialisation.
func sortedAttrNames(attrs map[string]any) []string {
	names := make([]string, 0, len(attrs))
	for k := range attrs {
		names = append(names, k)
	}
	sort.Strings(names)
	return names
}
