package graphs

import (
	"math/rand/v2"
	"testing"

	ortgo "github.com/yalue/onnxruntime_go"
)

// BenchmarkEmbeddingGrad compares the two ways of computing an embedding table's gradient
// for 1024 tokens into a 32000 x 256 table: scatter-add (what Gather's VJP emits) and a
// one-hot matrix product (onehot^T @ dY, built from Equal and Cast).
func BenchmarkEmbeddingGrad(b *testing.B) {
	const v, d, n = 32000, 256, 1024
	for _, method := range []string{"scatter-add", "one-hot-matmul"} {
		b.Run(method, func(b *testing.B) {
			g := New("embgrad")
			table := g.Input("table", Float32, Dims(v, d))
			ids := g.Input("ids", Int64, Dims(n))
			dy := g.Input("dy", Float32, Dims(n, d))
			var grad *Value
			if method == "scatter-add" {
				idx := g.Expand(g.Reshape(ids, -1, 1), g.Ints(n, d), Dims(n, d))
				grad = g.ScatterAdd(g.ZerosLike(table), idx, dy, 0)
			} else {
				vocab := g.Range(g.Scalar(Int64, 0), g.Scalar(Int64, v), g.Scalar(Int64, 1), D(v))
				onehot := g.Cast(g.Equal(g.Unsqueeze(ids, 1), g.Unsqueeze(vocab, 0)), Float32) // [n, v]
				grad = g.MatMul(g.TransposeLast2(onehot), dy)
			}
			g.Output("grad", grad)
			r := newRunner(b, g)
			rng := rand.New(rand.NewPCG(1, 1))
			idData := make([]int64, n)
			for i := range idData {
				idData[i] = int64(rng.IntN(v))
			}
			tableData, dyData := make([]float32, v*d), make([]float32, n*d)
			shapes := [][]int64{{v, d}, {n}, {n, d}}
			in := []ortgo.Value{}
			for i, data := range []any{tableData, idData, dyData} {
				var t ortgo.Value
				var err error
				switch x := data.(type) {
				case []float32:
					t, err = ortgo.NewTensor(ortgo.NewShape(shapes[i]...), x)
				case []int64:
					t, err = ortgo.NewTensor(ortgo.NewShape(shapes[i]...), x)
				}
				if err != nil {
					b.Fatal(err)
				}
				in = append(in, t)
			}
			out, err := ortgo.NewTensor(ortgo.NewShape(v, d), make([]float32, v*d))
			if err != nil {
				b.Fatal(err)
			}
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				if err := r.sess.Run(in, []ortgo.Value{out}); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
