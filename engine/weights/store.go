package weights

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"math"
	"slices"

	"github.com/l3m/l3m-engine/graphs/llama"
)

// Store holds every parameter of a model as a float32 tensor, all in one contiguous buffer
// in config order. One buffer lets an optimizer sweep all parameters (and their moments,
// laid out alike) in parallel chunks, and lets ONNX Runtime take each tensor as a zero-copy
// view. The layout (names, shapes, offsets) is fixed at creation; only the values change.
type Store struct {
	flat    []float32
	names   []string
	shapes  [][]int64
	offsets []int // offsets[i] is where tensor i starts; offsets[len(names)] == len(flat)
	index   map[string]int
}

// NewStore allocates a zero-filled store for params, keeping their order. It panics on a
// duplicate name or a negative dimension, which are programming errors (llama.Config.Params
// produces neither).
func NewStore(params []llama.Param) *Store {
	s := &Store{
		names:   make([]string, len(params)),
		shapes:  make([][]int64, len(params)),
		offsets: make([]int, len(params)+1),
		index:   make(map[string]int, len(params)),
	}
	total := 0
	for i, p := range params {
		if _, dup := s.index[p.Name]; dup {
			panic(fmt.Sprintf("weights: parameter %q listed twice", p.Name))
		}
		n, ok := numElements(p.Shape)
		if !ok || n > math.MaxInt-int64(total) {
			panic(fmt.Sprintf("weights: parameter %q has invalid shape %v", p.Name, p.Shape))
		}
		s.index[p.Name] = i
		s.names[i] = p.Name
		s.shapes[i] = slices.Clone(p.Shape)
		s.offsets[i] = total
		total += int(n)
	}
	s.offsets[len(params)] = total
	s.flat = make([]float32, total)
	return s
}

// numElements is the product of shape's dimensions; ok is false for a negative dimension
// or a product past 2^62, which no real tensor reaches.
func numElements(shape []int64) (n int64, ok bool) {
	n = 1
	for _, d := range shape {
		if d < 0 || (d > 0 && n > (1<<62)/d) {
			return 0, false
		}
		n *= d
	}
	return n, true
}

// Names lists the parameters in config order.
func (s *Store) Names() []string { return slices.Clone(s.names) }

// Params lists the parameters and their shapes in config order, as llama.Config.Params
// does for the config the store was made from.
func (s *Store) Params() []llama.Param {
	ps := make([]llama.Param, len(s.names))
	for i, name := range s.names {
		ps[i] = llama.Param{Name: name, Shape: slices.Clone(s.shapes[i])}
	}
	return ps
}

// Has reports whether the store holds a parameter named name.
func (s *Store) Has(name string) bool {
	_, ok := s.index[name]
	return ok
}

// Get returns the parameter's values as a view into the flat buffer: writes through it
// change the store. Its capacity ends with the tensor, so an append cannot spill into the
// next one. Get panics on a name the store does not hold.
func (s *Store) Get(name string) []float32 {
	i := s.mustIndex(name)
	return s.flat[s.offsets[i]:s.offsets[i+1]:s.offsets[i+1]]
}

// Shape returns a copy of the parameter's shape. It panics on an unknown name.
func (s *Store) Shape(name string) []int64 { return slices.Clone(s.shapes[s.mustIndex(name)]) }

// Offset is where the parameter starts in Flat. It panics on an unknown name.
func (s *Store) Offset(name string) int { return s.offsets[s.mustIndex(name)] }

// Flat returns the whole buffer, every parameter back to back in config order.
func (s *Store) Flat() []float32 { return s.flat }

// Len is the total number of parameter values, len(Flat()).
func (s *Store) Len() int { return len(s.flat) }

// Clone returns a store with the same layout and a copy of the values.
func (s *Store) Clone() *Store {
	c := *s // names, shapes, offsets and index are never mutated, so they are shared
	c.flat = slices.Clone(s.flat)
	return &c
}

// Checksum is the hex SHA-256 of the values as little-endian float32 bytes, in Flat order.
// Two stores with the same layout and bit-identical values have the same checksum, so
// tests use it to check that a resumed run continues from exactly the saved weights.
func (s *Store) Checksum() string {
	h := sha256.New()
	buf := make([]byte, 0, 64<<10)
	for _, v := range s.flat {
		buf = binary.LittleEndian.AppendUint32(buf, math.Float32bits(v))
		if len(buf) == cap(buf) {
			h.Write(buf)
			buf = buf[:0]
		}
	}
	h.Write(buf)
	return hex.EncodeToString(h.Sum(nil))
}

func (s *Store) mustIndex(name string) int {
	i, ok := s.index[name]
	if !ok {
		panic(fmt.Sprintf("weights: no parameter %q in the store", name))
	}
	return i
}

// CountBytes is how many bytes params take stored as dtype ("" means F32): the memory of
// a Store with F32, the data size of a checkpoint with F16 or BF16. It lets a caller size
// a model before allocating it. CountBytes panics on a dtype other than F32, F16, BF16
// and F64.
func CountBytes(params []llama.Param, dtype DType) int64 {
	dtype = dtype.orF32()
	if !dtype.readable() {
		panic(fmt.Sprintf("weights: CountBytes: unsupported dtype %q", dtype))
	}
	var n int64
	for _, p := range params {
		e, ok := numElements(p.Shape)
		if !ok {
			panic(fmt.Sprintf("weights: CountBytes: parameter %q has invalid shape %v", p.Name, p.Shape))
		}
		n += e
	}
	return n * int64(dtype.Size())
}
