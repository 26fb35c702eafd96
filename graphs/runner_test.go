package graphs

import (
	"fmt"
	"testing"

	"github.com/stretchr/testify/require"
	ortgo "github.com/yalue/onnxruntime_go"

	"github.com/l3m/l3m-engine/engine/ort"
)

// runner runs a built graph on ONNX Runtime's CPU provider with float64 or float32 inputs,
// for the gradient checks. Integer inputs are int64.
type runner struct {
	t       testing.TB
	sess    *ortgo.DynamicAdvancedSession
	inputs  []*Value
	outputs []*Value
	shapes  [][]int64 // output shapes of the last run
}

func newRunner(t testing.TB, g *Graph) *runner {
	t.Helper()
	require.NoError(t, ort.Init(""))
	model, err := g.Marshal()
	require.NoError(t, err)
	var in, out []string
	for _, v := range g.inputs {
		in = append(in, v.name)
	}
	for _, v := range g.outputs {
		out = append(out, v.name)
	}
	opts, err := ortgo.NewSessionOptions()
	require.NoError(t, err)
	defer opts.Destroy()
	require.NoError(t, opts.SetIntraOpNumThreads(1))
	sess, err := ortgo.NewDynamicAdvancedSessionWithONNXData(model, in, out, opts)
	require.NoError(t, err, "graph %s", g.Name)
	t.Cleanup(func() { sess.Destroy() })
	return &runner{t: t, sess: sess, inputs: g.inputs, outputs: g.outputs}
}

// run feeds data (one slice per input, shaped by shapes) and returns every output as float64.
func (r *runner) run(shapes [][]int64, data []any) [][]float64 {
	r.t.Helper()
	vals := make([]ortgo.Value, len(data))
	for i, d := range data {
		var err error
		switch x := d.(type) {
		case []float64:
			vals[i], err = ortgo.NewTensor(ortgo.NewShape(shapes[i]...), x)
		case []float32:
			vals[i], err = ortgo.NewTensor(ortgo.NewShape(shapes[i]...), x)
		case []int64:
			vals[i], err = ortgo.NewTensor(ortgo.NewShape(shapes[i]...), x)
		case []bool:
			vals[i], err = ortgo.NewTensor(ortgo.NewShape(shapes[i]...), x)
		default:
			err = fmt.Errorf("unsupported input %T", d)
		}
		require.NoError(r.t, err)
		defer vals[i].Destroy()
	}
	outs := make([]ortgo.Value, len(r.outputs))
	require.NoError(r.t, r.sess.Run(vals, outs))
	result := make([][]float64, len(outs))
	r.shapes = make([][]int64, len(outs))
	for i, o := range outs {
		r.shapes[i] = o.GetShape()
		switch x := o.(type) {
		case *ortgo.Tensor[float64]:
			result[i] = append([]float64(nil), x.GetData()...)
		case *ortgo.Tensor[float32]:
			for _, f := range x.GetData() {
				result[i] = append(result[i], float64(f))
			}
		case *ortgo.Tensor[int64]:
			for _, f := range x.GetData() {
				result[i] = append(result[i], float64(f))
			}
		default:
			r.t.Fatalf("unsupported output %T", o)
		}
		o.Destroy()
	}
	return result
}
