package weights

import (
	"encoding/binary"
	"math"
	"os"
	"testing"

	"github.com/l3m/l3m-engine/graphs/llama"
	"github.com/stretchr/testify/require"
)

// tinyConfig is a 1704-parameter LLaMA: vocab 32, hidden 8, intermediate 16, 2 layers,
// 2 heads of 4 sharing one key/value head.
func tinyConfig() llama.Config {
	cfg := llama.Config{VocabSize: 32, HiddenSize: 8, IntermediateSize: 16, NumHiddenLayers: 2, NumAttentionHeads: 2, NumKeyValueHeads: 1}
	if err := cfg.Validate(); err != nil {
		panic(err)
	}
	return cfg
}

// filledStore returns a store for params holding varied values of magnitude up to 5.
func filledStore(params []llama.Param) *Store {
	s := NewStore(params)
	for i := range s.Flat() {
		s.Flat()[i] = float32(math.Sin(float64(i)*0.37)) * float32(1+i%5)
	}
	return s
}

// writeRaw writes a safetensors file holding s's tensors, each stored as dtypeOf(name),
// which may be F64 (which Save does not write) or any dtype of the right size (whose bytes
// are then zero).
func writeRaw(t testing.TB, path string, s *Store, dtypeOf func(name string) DType) {
	t.Helper()
	var tensors []tensorInfo
	var data []byte
	for _, name := range s.Names() {
		d := dtypeOf(name)
		values := s.Get(name)
		begin := int64(len(data))
		switch d {
		case F64:
			for _, v := range values {
				data = binary.LittleEndian.AppendUint64(data, math.Float64bits(float64(v)))
			}
		case F32, F16, BF16:
			b := make([]byte, len(values)*d.Size())
			encode(b, values, d)
			data = append(data, b...)
		default:
			data = append(data, make([]byte, len(values)*d.Size())...)
		}
		tensors = append(tensors, tensorInfo{Name: name, DType: d, Shape: s.Shape(name), Begin: begin, End: int64(len(data))})
	}
	file := append(encodeHeader(tensors, map[string]string{"format": "pt"}), data...)
	require.NoError(t, os.WriteFile(path, file, 0o644))
}

// withParam returns params with the one named name replaced by p (dropped when p.Name is
// empty).
func withParam(params []llama.Param, name string, p llama.Param) []llama.Param {
	var out []llama.Param
	for _, q := range params {
		switch {
		case q.Name != name:
			out = append(out, q)
		case p.Name != "":
			out = append(out, p)
		}
	}
	return out
}
