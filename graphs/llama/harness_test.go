package llama

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/l3m/l3m-engine/engine/ort"
	"github.com/l3m/l3m-engine/graphs"
)

// tinyConfig is a test-sized model with grouped-query attention.
func tinyConfig() Config {
	c := Config{VocabSize: 11, HiddenSize: 8, IntermediateSize: 12, NumHiddenLayers: 2,
		NumAttentionHeads: 2, NumKeyValueHeads: 1, RMSNormEps: 1e-6, RopeTheta: 10000}
	if err := c.Validate(); err != nil {
		panic(err)
	}
	return c
}

// session loads a built graph into ONNX Runtime (CPU, 1 thread).
func session(t testing.TB, g *graphs.Graph, err error) *ort.Session {
	t.Helper()
	require.NoError(t, err)
	require.NoError(t, ort.Init(""))
	model, err := g.Marshal()
	require.NoError(t, err)
	s, err := ort.NewSession(g.Name, model, ort.Options{Threads: 1})
	require.NoError(t, err)
	t.Cleanup(func() { s.Close() })
	return s
}

// feed holds named input data; run allocates outputs from the given shapes.
type feed map[string]any

func tensor(t testing.TB, shape []int64, data any) ort.Value {
	t.Helper()
	var v ort.Value
	var err error
	switch d := data.(type) {
	case []float32:
		v, err = ort.NewTensor(shape, d)
	case []float64:
		v, err = ort.NewTensor(shape, d)
	case []int64:
		v, err = ort.NewTensor(shape, d)
	default:
		t.Fatalf("unsupported %T", data)
	}
	require.NoError(t, err)
	return v
}

// run feeds inputs by name (shapes from shapes) and returns float32 outputs as float64 by
// name; outShapes gives each output's shape.
func run(t testing.TB, s *ort.Session, shapes map[string][]int64, in feed, outShapes map[string][]int64) map[string][]float64 {
	return runTyped(t, s, shapes, in, outShapes, graphs.Float32)
}

// runTyped is run for graphs whose float outputs have type dt.
func runTyped(t testing.TB, s *ort.Session, shapes map[string][]int64, in feed, outShapes map[string][]int64, dt graphs.DType) map[string][]float64 {
	t.Helper()
	var inputs []ort.Value
	for _, info := range s.Inputs() {
		d, ok := in[info.Name]
		require.True(t, ok, "no data for input %s", info.Name)
		v := tensor(t, shapes[info.Name], d)
		defer v.(interface{ Close() error }).Close()
		inputs = append(inputs, v)
	}
	outputs := make([]ort.Value, len(s.Outputs()))
	read := make([]func() []float64, len(s.Outputs()))
	for i, info := range s.Outputs() {
		shape, ok := outShapes[info.Name]
		require.True(t, ok, "no shape for output %s", info.Name)
		n := int64(1)
		for _, d := range shape {
			n *= d
		}
		if dt == graphs.Float64 {
			buf := make([]float64, n)
			outputs[i] = tensor(t, shape, buf)
			read[i] = func() []float64 { return buf }
		} else {
			buf := make([]float32, n)
			outputs[i] = tensor(t, shape, buf)
			read[i] = func() []float64 {
				f := make([]float64, len(buf))
				for j, x := range buf {
					f[j] = float64(x)
				}
				return f
			}
		}
		defer outputs[i].(interface{ Close() error }).Close()
	}
	require.NoError(t, s.Run(inputs, outputs))
	res := map[string][]float64{}
	for i, info := range s.Outputs() {
		res[info.Name] = read[i]()
	}
	return res
}
