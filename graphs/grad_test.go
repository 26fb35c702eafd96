package graphs

import (
	"math"
	"math/rand/v2"
	"sort"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// input describes one graph input of a gradient check.
type input struct {
	shape  []int64
	syms   []string // optional symbolic names per dimension ("" = static)
	lo, hi float64  // uniform range for float inputs (default -1..1)
	ints   []int64  // fixed integer data (int64 input)
	bools  []bool   // fixed boolean data
	seed   uint64   // extra seed
}

type gradCase struct {
	name   string
	inputs []input
	build  func(g *Graph, in []*Value) *Value
	tol64  float64 // float64 tolerance when the forward itself is not float64-exact (Cast)
	step   float64 // finite-difference step relative to max(1,|x|); default 1e-6
}

func fl(shape ...int64) input  { return input{shape: shape, lo: -1, hi: 1} }
func pos(shape ...int64) input { return input{shape: shape, lo: 0.5, hi: 2} }

// gradCases covers every differentiable op, with broadcasting, symbolic dimensions and
// duplicate indices where the op supports them.
var gradCases = []gradCase{
	{name: "Add/broadcast", inputs: []input{fl(2, 3), fl(3)}, build: func(g *Graph, in []*Value) *Value { return g.Add(in[0], in[1]) }},
	{name: "Sub/broadcast", inputs: []input{fl(2, 3), fl(2, 1)}, build: func(g *Graph, in []*Value) *Value { return g.Sub(in[0], in[1]) }},
	{name: "Mul/broadcast", inputs: []input{fl(2, 1, 3), fl(4, 1)}, build: func(g *Graph, in []*Value) *Value { return g.Mul(in[0], in[1]) }},
	{name: "Div", inputs: []input{fl(2, 3), pos(2, 3)}, build: func(g *Graph, in []*Value) *Value { return g.Div(in[0], in[1]) }},
	{name: "Pow", inputs: []input{pos(2, 3), pos(1)}, build: func(g *Graph, in []*Value) *Value { return g.Pow(in[0], in[1]) }},
	{name: "Neg", inputs: []input{fl(2, 3)}, build: func(g *Graph, in []*Value) *Value { return g.Neg(in[0]) }},
	{name: "Sqrt", inputs: []input{pos(2, 3)}, build: func(g *Graph, in []*Value) *Value { return g.Sqrt(in[0]) }},
	{name: "Reciprocal", inputs: []input{pos(2, 3)}, build: func(g *Graph, in []*Value) *Value { return g.Reciprocal(in[0]) }},
	{name: "Exp", inputs: []input{fl(2, 3)}, build: func(g *Graph, in []*Value) *Value { return g.Exp(in[0]) }},
	{name: "Log", inputs: []input{pos(2, 3)}, build: func(g *Graph, in []*Value) *Value { return g.Log(in[0]) }},
	{name: "Sigmoid", inputs: []input{fl(2, 3)}, build: func(g *Graph, in []*Value) *Value { return g.Sigmoid(in[0]) }},
	{name: "Tanh", inputs: []input{fl(2, 3)}, build: func(g *Graph, in []*Value) *Value { return g.Tanh(in[0]) }},
	{name: "Cos", inputs: []input{fl(2, 3)}, build: func(g *Graph, in []*Value) *Value { return g.Cos(in[0]) }},
	{name: "Sin", inputs: []input{fl(2, 3)}, build: func(g *Graph, in []*Value) *Value { return g.Sin(in[0]) }},
	{name: "Identity", inputs: []input{fl(2, 3)}, build: func(g *Graph, in []*Value) *Value { return g.Identity(in[0]) }},
	// The float64 run of Cast rounds through float32, so its finite differences use a wide
	// step (exact for this quadratic) and a looser tolerance.
	{name: "Cast/float32-roundtrip", tol64: 1e-4, step: 1e-2, inputs: []input{fl(2, 3)}, build: func(g *Graph, in []*Value) *Value {
		return g.Cast(g.Mul(g.Cast(in[0], other(in[0].dtype)), g.Cast(in[0], other(in[0].dtype))), in[0].dtype)
	}},
	{name: "Where/broadcast", inputs: []input{{shape: []int64{2, 3}, bools: []bool{true, false, true, false, false, true}}, fl(2, 3), fl(3)},
		build: func(g *Graph, in []*Value) *Value { return g.Where(in[0], in[1], in[2]) }},
	{name: "MatMul", inputs: []input{fl(3, 4), fl(4, 5)}, build: func(g *Graph, in []*Value) *Value { return g.MatMul(in[0], in[1]) }},
	{name: "MatMul/batched-broadcast", inputs: []input{fl(2, 1, 3, 4), fl(3, 4, 2)}, build: func(g *Graph, in []*Value) *Value { return g.MatMul(in[0], in[1]) }},
	{name: "MatMul/symbolic", inputs: []input{{shape: []int64{2, 3, 4}, syms: []string{"B", "T", ""}, lo: -1, hi: 1}, fl(4, 2)},
		build: func(g *Graph, in []*Value) *Value { return g.MatMul(in[0], in[1]) }},
	{name: "ReduceSum/axis", inputs: []input{fl(2, 3, 4)}, build: func(g *Graph, in []*Value) *Value { return g.ReduceSum(in[0], []int64{1}, false) }},
	{name: "ReduceSum/all", inputs: []input{fl(2, 3)}, build: func(g *Graph, in []*Value) *Value { return g.Reshape(g.ReduceSum(in[0], nil, false), 1) }},
	{name: "ReduceMean/keepdims", inputs: []input{fl(2, 3, 4)}, build: func(g *Graph, in []*Value) *Value { return g.ReduceMean(in[0], []int64{0, 2}, true) }},
	{name: "ReduceMean/symbolic", inputs: []input{{shape: []int64{2, 3}, syms: []string{"B", "T"}, lo: -1, hi: 1}},
		build: func(g *Graph, in []*Value) *Value { return g.ReduceMean(in[0], []int64{-1}, false) }},
	{name: "Softmax", inputs: []input{fl(2, 5)}, build: func(g *Graph, in []*Value) *Value { return g.Softmax(in[0], -1) }},
	{name: "LogSoftmax", inputs: []input{fl(3, 4, 2)}, build: func(g *Graph, in []*Value) *Value { return g.LogSoftmax(in[0], 1) }},
	// Picking entries of each row (two per row, one row picking the same entry twice): the
	// VJP's sparse path, which scatters into -softmax*sum instead of into zeros.
	{name: "LogSoftmax/picked", inputs: []input{fl(3, 5), {shape: []int64{3, 2}, ints: []int64{4, 4, 0, 1, 3, 2}}},
		build: func(g *Graph, in []*Value) *Value { return g.GatherElements(g.LogSoftmax(in[0], 1), in[1], 1) }},
	{name: "CumSum", inputs: []input{fl(2, 4)}, build: func(g *Graph, in []*Value) *Value { return g.CumSum(in[0], 1) }},
	{name: "Reshape", inputs: []input{fl(2, 3, 2)}, build: func(g *Graph, in []*Value) *Value { return g.Reshape(in[0], 0, -1) }},
	{name: "Reshape/symbolic", inputs: []input{{shape: []int64{2, 3, 2}, syms: []string{"B", "T", ""}, lo: -1, hi: 1}},
		build: func(g *Graph, in []*Value) *Value { return g.Reshape(in[0], -1, 2) }},
	{name: "Transpose", inputs: []input{fl(2, 3, 4)}, build: func(g *Graph, in []*Value) *Value { return g.Transpose(in[0], 2, 0, 1) }},
	{name: "Unsqueeze", inputs: []input{fl(2, 3)}, build: func(g *Graph, in []*Value) *Value { return g.Unsqueeze(in[0], 0, 2) }},
	{name: "Squeeze", inputs: []input{fl(2, 1, 3)}, build: func(g *Graph, in []*Value) *Value { return g.Squeeze(in[0], 1) }},
	{name: "Concat", inputs: []input{fl(2, 3), fl(2, 2)}, build: func(g *Graph, in []*Value) *Value { return g.Concat(1, in[0], in[1]) }},
	{name: "Slice", inputs: []input{fl(3, 6)}, build: func(g *Graph, in []*Value) *Value {
		return g.Slice(in[0], []int64{1, -4}, []int64{math.MaxInt64, 5}, []int64{0, 1})
	}},
	{name: "Slice/symbolic", inputs: []input{{shape: []int64{2, 5}, syms: []string{"B", "T"}, lo: -1, hi: 1}}, build: func(g *Graph, in []*Value) *Value {
		return g.Slice(g.Slice(in[0], []int64{0}, []int64{-1}, []int64{1}), []int64{1}, []int64{math.MaxInt64}, []int64{1})
	}},
	{name: "Pad", inputs: []input{fl(2, 3)}, build: func(g *Graph, in []*Value) *Value { return g.Pad(in[0], 1, 0, 0, 2) }},
	{name: "Expand", inputs: []input{fl(3, 1)}, build: func(g *Graph, in []*Value) *Value {
		return g.Expand(in[0], g.Ints(2, 3, 4), Dims(2, 3, 4))
	}},
	{name: "Gather/embedding-duplicates", inputs: []input{fl(5, 3), {shape: []int64{2, 3}, ints: []int64{0, 4, 0, 2, 2, 0}}},
		build: func(g *Graph, in []*Value) *Value { return g.Gather(in[0], in[1], 0) }},
	{name: "GatherElements", inputs: []input{fl(3, 5), {shape: []int64{3, 2}, ints: []int64{4, 4, 0, 1, 3, 2}}},
		build: func(g *Graph, in []*Value) *Value { return g.GatherElements(in[0], in[1], 1) }},
	{name: "ScatterElements/add", inputs: []input{fl(3, 4), {shape: []int64{2, 4}, ints: []int64{0, 2, 2, 1, 0, 0, 1, 1}}, fl(2, 4)},
		build: func(g *Graph, in []*Value) *Value { return g.ScatterAdd(in[0], in[1], in[2], 0) }},
}

func other(d DType) DType {
	if d == Float64 {
		return Float32
	}
	return Float64
}

// checkResult is the outcome of one gradient check.
type checkResult struct {
	analytic [][]float64 // per float input
	maxRel   float64     // vs central finite differences (float64 only)
}

// inputData makes the deterministic data of a case's inputs in dtype.
func inputData(c gradCase, dtype DType) ([][]int64, []any) {
	shapes := make([][]int64, len(c.inputs))
	data := make([]any, len(c.inputs))
	for i, in := range c.inputs {
		shapes[i] = in.shape
		switch {
		case in.ints != nil:
			data[i] = in.ints
		case in.bools != nil:
			data[i] = in.bools
		default:
			n := int64(1)
			for _, d := range in.shape {
				n *= d
			}
			rng := rand.New(rand.NewPCG(uint64(i)+1, in.seed+uint64(len(c.name))))
			x := make([]float64, n)
			for j := range x {
				x[j] = in.lo + (in.hi-in.lo)*rng.Float64()
			}
			data[i] = convert(x, dtype)
		}
	}
	return shapes, data
}

func convert(x []float64, dtype DType) any {
	if dtype == Float64 {
		return x
	}
	f := make([]float32, len(x))
	for i, v := range x {
		f[i] = float32(v)
	}
	return f
}

func declare(g *Graph, c gradCase, dtype DType) []*Value {
	vals := make([]*Value, len(c.inputs))
	for i, in := range c.inputs {
		shape := make(Shape, len(in.shape))
		for j, d := range in.shape {
			if in.syms != nil && in.syms[j] != "" {
				shape[j] = S(in.syms[j])
			} else {
				shape[j] = D(d)
			}
		}
		dt := dtype
		switch {
		case in.ints != nil:
			dt = Int64
		case in.bools != nil:
			dt = Bool
		}
		vals[i] = g.Input(string(rune('a'+i)), dt, shape)
	}
	return vals
}

// runGradCheck builds loss = sum(op(inputs) * R) for a fixed random R, computes the
// gradient of every float input with Grad and, in float64, compares it with central
// finite differences.
func runGradCheck(t *testing.T, c gradCase, dtype DType) checkResult {
	// Forward once to learn the output's shape.
	fg := New("forward")
	fg.Output("y", c.build(fg, declare(fg, c, dtype)))
	shapes, data := inputData(c, dtype)
	yShape := outputShape(t, newRunner(t, fg), shapes, data)

	g := New("gradcheck")
	in := declare(g, c, dtype)
	y := c.build(g, in)
	r := g.Input("r", dtype, Dims(toAny(yShape)...))
	// onnxruntime_go cannot return rank-0 tensors, so the loss is shaped [1].
	loss := g.Output("loss", g.Reshape(g.ReduceSum(g.Mul(y, r), nil, false), 1))
	var wrt []*Value
	var wrtIdx []int
	for i, v := range in {
		if v.dtype.IsFloat() {
			wrt = append(wrt, v)
			wrtIdx = append(wrtIdx, i)
		}
	}
	for i, gr := range g.Grad(loss, wrt...) {
		g.Output("grad_"+wrt[i].name, gr)
	}
	run := newRunner(t, g)
	rng := rand.New(rand.NewPCG(7, 7))
	rData := make([]float64, prod(yShape))
	for i := range rData {
		rData[i] = rng.NormFloat64()
	}
	shapes = append(shapes, yShape)
	data = append(data, convert(rData, dtype))
	outs := run.run(shapes, data)
	res := checkResult{analytic: outs[1:]}
	if dtype != Float64 {
		return res
	}
	for k, i := range wrtIdx {
		x := data[i].([]float64)
		fd := make([]float64, len(x))
		for j := range x {
			orig := x[j]
			step := 1e-6
			if c.step > 0 {
				step = c.step
			}
			h := step * math.Max(1, math.Abs(orig))
			x[j] = orig + h
			up := run.run(shapes, data)[0][0]
			x[j] = orig - h
			down := run.run(shapes, data)[0][0]
			x[j] = orig
			fd[j] = (up - down) / (2 * h)
		}
		res.maxRel = math.Max(res.maxRel, relErr(res.analytic[k], fd))
	}
	return res
}

func outputShape(t *testing.T, r *runner, shapes [][]int64, data []any) []int64 {
	t.Helper()
	r.run(shapes, data)
	return r.shapes[0]
}

func toAny(s []int64) []any {
	out := make([]any, len(s))
	for i, d := range s {
		out[i] = d
	}
	return out
}

func prod(s []int64) int64 {
	n := int64(1)
	for _, d := range s {
		n *= d
	}
	return n
}

// relErr is max|a-b| / max(max|b|, 1e-12): the error relative to the gradient's scale.
func relErr(a, b []float64) float64 {
	var diff, scale float64
	for i := range a {
		diff = math.Max(diff, math.Abs(a[i]-b[i]))
		scale = math.Max(scale, math.Abs(b[i]))
	}
	return diff / math.Max(scale, 1e-12)
}

func TestGradients(t *testing.T) {
	const tol32 = 1e-4 // float32 gradients vs the float64 ones, relative to scale
	report := map[string]float64{}
	for _, c := range gradCases {
		t.Run(c.name, func(t *testing.T) {
			r64 := runGradCheck(t, c, Float64)
			tol := 1e-6
			if c.tol64 > 0 {
				tol = c.tol64
			}
			require.LessOrEqualf(t, r64.maxRel, tol, "float64 gradient vs finite differences")
			r32 := runGradCheck(t, c, Float32)
			for i := range r64.analytic {
				require.LessOrEqualf(t, relErr(r32.analytic[i], r64.analytic[i]), tol32, "float32 gradient %d vs float64", i)
			}
			op := strings.SplitN(c.name, "/", 2)[0]
			report[op] = math.Max(report[op], r64.maxRel)
		})
	}
	ops := make([]string, 0, len(report))
	for op := range report {
		ops = append(ops, op)
	}
	sort.Strings(ops)
	for _, op := range ops {
		t.Logf("%-16s max relative gradient error (float64 vs central FD): %.2e", op, report[op])
	}
}

// TestEveryDifferentiableOpIsChecked fails when an op gains a VJP without a gradient check.
func TestEveryDifferentiableOpIsChecked(t *testing.T) {
	covered := map[string]bool{}
	for _, c := range gradCases {
		g := New("cover")
		c.build(g, declare(g, c, Float64))
		for _, n := range g.nodes {
			covered[n.Op] = true
		}
	}
	for _, op := range OpTypes() {
		diff, _ := Differentiable(op)
		if diff && !covered[op] {
			t.Errorf("op %s has a VJP but no gradient check in gradCases", op)
		}
	}
}

// TestCrossEntropyGradientIsSparse: the gradient of picked log-probabilities is one scatter
// per row into -softmax*sum; the dense zeros of the general path are not in the model.
func TestCrossEntropyGradientIsSparse(t *testing.T) {
	g := New("ce")
	x := g.Input("x", Float32, Dims("N", 7))
	labels := g.Input("labels", Int64, Dims("N", 1))
	loss := g.ReduceSum(g.GatherElements(g.LogSoftmax(x, -1), labels, 1), nil, false)
	g.Output("dx", g.Grad(g.Reshape(loss, 1), x)[0])
	nodes, _ := g.LiveNodes()
	var ops []string
	for _, n := range nodes {
		ops = append(ops, n.Op)
	}
	require.NotContains(t, ops, "ConstantOfShape", "live ops %v", ops)
	require.Contains(t, ops, "ScatterElements")
	require.Less(t, len(nodes), len(g.Nodes()), "the replaced general path is pruned")
}

// TestGradientMLPCrossEntropy checks a composite: a 2-layer MLP with softmax cross-entropy
// built from primitives, every parameter against central finite differences.
func TestGradientMLPCrossEntropy(t *testing.T) {
	c := gradCase{
		name: "MLP",
		inputs: []input{
			fl(4, 5), fl(5, 6), fl(6), fl(6, 3), fl(3),
			{shape: []int64{4, 1}, ints: []int64{0, 2, 1, 2}},
		},
		build: func(g *Graph, in []*Value) *Value {
			x, w1, b1, w2, b2, labels := in[0], in[1], in[2], in[3], in[4], in[5]
			h := g.Tanh(g.Add(g.MatMul(x, w1), b1))
			logp := g.LogSoftmax(g.Add(g.MatMul(h, w2), b2), -1)
			nll := g.Neg(g.ReduceMean(g.GatherElements(logp, labels, 1), nil, false))
			return g.Reshape(nll, 1)
		},
	}
	r64 := runGradCheck(t, c, Float64)
	require.LessOrEqual(t, r64.maxRel, 1e-6)
	r32 := runGradCheck(t, c, Float32)
	for i := range r64.analytic {
		require.LessOrEqual(t, relErr(r32.analytic[i], r64.analytic[i]), 1e-4)
	}
	t.Logf("MLP cross-entropy: max relative gradient error %.2e", r64.maxRel)
}
