package weights

import (
	"crypto/sha256"
	"encoding/hex"
	"testing"

	"github.com/l3m/l3m-engine/graphs/llama"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestStoreLayoutFollowsConfigOrder(t *testing.T) {
	cfg := tinyConfig()
	s := NewStore(cfg.Params())
	require.Equal(t, int(cfg.NumParams()), s.Len())
	assert.Equal(t, 1704, s.Len())
	assert.Equal(t, cfg.Params(), s.Params())
	offset := 0
	for i, p := range cfg.Params() {
		assert.Equal(t, p.Name, s.Names()[i])
		assert.Equal(t, p.Shape, s.Shape(p.Name))
		assert.Equal(t, offset, s.Offset(p.Name), p.Name)
		n, _ := numElements(p.Shape)
		assert.Len(t, s.Get(p.Name), int(n))
		offset += int(n)
	}
	assert.Equal(t, s.Len(), offset)
}

func TestStoreGetIsAViewOfFlat(t *testing.T) {
	s := NewStore(tinyConfig().Params())
	q := s.Get("model.layers.1.self_attn.q_proj.weight")
	q[3] = 7
	assert.Equal(t, float32(7), s.Flat()[s.Offset("model.layers.1.self_attn.q_proj.weight")+3])
	assert.Same(t, &s.Flat()[s.Offset("model.layers.1.self_attn.q_proj.weight")], &q[0])
	// An append must not write into the next tensor.
	_ = append(q, 99)
	assert.Equal(t, float32(0), s.Get("model.layers.1.self_attn.k_proj.weight")[0])
}

func TestStoreAccessorsReturnCopies(t *testing.T) {
	s := NewStore(tinyConfig().Params())
	s.Shape("model.norm.weight")[0] = 99
	s.Names()[0] = "changed"
	assert.Equal(t, []int64{8}, s.Shape("model.norm.weight"))
	assert.Equal(t, "model.embed_tokens.weight", s.Names()[0])
}

func TestStoreCloneIsIndependent(t *testing.T) {
	s := filledStore(tinyConfig().Params())
	c := s.Clone()
	assert.Equal(t, s.Checksum(), c.Checksum())
	c.Get("model.norm.weight")[0] = 42
	assert.NotEqual(t, s.Checksum(), c.Checksum())
	assert.NotEqual(t, float32(42), s.Get("model.norm.weight")[0])
}

func TestStoreChecksumHashesLittleEndianFloats(t *testing.T) {
	s := NewStore([]llama.Param{{Name: "a", Shape: []int64{2}}})
	copy(s.Flat(), []float32{1, -2})
	want := sha256.Sum256([]byte{0, 0, 0x80, 0x3f, 0, 0, 0, 0xc0})
	assert.Equal(t, hex.EncodeToString(want[:]), s.Checksum())
}

func TestStoreChecksumCoversLargeStores(t *testing.T) {
	s := NewStore([]llama.Param{{Name: "a", Shape: []int64{100_000}}})
	before := s.Checksum()
	s.Flat()[99_999] = 1 // past the first 64 KiB hashing chunk
	assert.NotEqual(t, before, s.Checksum())
}

func TestStoreMisusePanics(t *testing.T) {
	s := NewStore(tinyConfig().Params())
	assert.PanicsWithValue(t, `weights: no parameter "nope" in the store`, func() { s.Get("nope") })
	assert.False(t, s.Has("nope"))
	assert.True(t, s.Has("lm_head.weight"))
	assert.PanicsWithValue(t, `weights: parameter "a" listed twice`, func() {
		NewStore([]llama.Param{{Name: "a", Shape: []int64{1}}, {Name: "a", Shape: []int64{2}}})
	})
	assert.PanicsWithValue(t, `weights: parameter "a" has invalid shape [2 -1]`, func() {
		NewStore([]llama.Param{{Name: "a", Shape: []int64{2, -1}}})
	})
}

func TestCountBytes(t *testing.T) {
	params := tinyConfig().Params()
	assert.Equal(t, int64(1704*4), CountBytes(params, ""))
	assert.Equal(t, int64(1704*4), CountBytes(params, F32))
	assert.Equal(t, int64(1704*2), CountBytes(params, BF16))
	assert.Equal(t, int64(1704*2), CountBytes(params, F16))
	assert.Panics(t, func() { CountBytes(params, "I8") })
}
