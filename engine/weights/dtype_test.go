package weights

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestFloat16KnownValues(t *testing.T) {
	for _, c := range []struct {
		f    float32
		bits uint16
	}{
		{1, 0x3c00},
		{-2.5, 0xc100},
		{0.1, 0x2e66},
		{65504, 0x7bff}, // largest finite
		{65519, 0x7bff}, // just under halfway to 65536: rounds down
		{65520, 0x7c00}, // halfway, ties to even: the even neighbour is infinity
		{1e6, 0x7c00},   // overflow
		{-1e6, 0xfc00},
		{float32(math.Inf(1)), 0x7c00},
		{float32(math.Inf(-1)), 0xfc00},
		{0x1p-14, 0x0400},     // smallest normal
		{0x1p-24, 0x0001},     // smallest subnormal
		{0x1.8p-25, 0x0001},   // 0.75 of it rounds up
		{0x1p-25, 0x0000},     // half of it ties to even: zero
		{0x1.ffcp-15, 0x0400}, // largest subnormal plus half an ulp, a tie, carries into the smallest normal
		{1 + 0x1p-11, 0x3c00}, // tie, to even
		{1 + 0x3p-11, 0x3c02}, // tie, to even (up)
		{float32(math.Copysign(0, -1)), 0x8000},
		{0x1p-149, 0x0000}, // float32 subnormals vanish
	} {
		t.Run(fmt.Sprint(c.f), func(t *testing.T) {
			assert.Equal(t, fmt.Sprintf("%#04x", c.bits), fmt.Sprintf("%#04x", float32ToFloat16(c.f)))
		})
	}
	assert.Equal(t, float32(1), float16ToFloat32(0x3c00))
	assert.Equal(t, float32(-2.5), float16ToFloat32(0xc100))
	assert.Equal(t, float32(65504), float16ToFloat32(0x7bff))
	assert.Equal(t, float32(0x1p-24), float16ToFloat32(0x0001))
	assert.Equal(t, float32(-0x1p-24), float16ToFloat32(0x8001))
	assert.Equal(t, float32(0x3ffp-24), float16ToFloat32(0x03ff))
	assert.True(t, math.IsInf(float64(float16ToFloat32(0xfc00)), -1))
}

func TestBFloat16KnownValues(t *testing.T) {
	for _, c := range []struct {
		f    float32
		bits uint16
	}{
		{1, 0x3f80},
		{-2.5, 0xc020},
		{65504, 0x4780}, // rounds up to 65536
		{1 + 0x1p-8, 0x3f80},
		{1 + 0x3p-8, 0x3f82},
		{math.MaxFloat32, 0x7f80}, // rounds to infinity
		{float32(math.Inf(-1)), 0xff80},
		{0x1p-149, 0x0000},
		{0x1p-133, 0x0001}, // a bfloat16 subnormal
	} {
		t.Run(fmt.Sprint(c.f), func(t *testing.T) {
			assert.Equal(t, fmt.Sprintf("%#04x", c.bits), fmt.Sprintf("%#04x", float32ToBFloat16(c.f)))
		})
	}
}

func TestNaNStaysNaN(t *testing.T) {
	for _, bits := range []uint32{0x7fc00000, 0xffc00000, 0x7f800001, 0x7f802000, 0xff800001} {
		nan := math.Float32frombits(bits)
		h := float32ToFloat16(nan)
		assert.True(t, h&0x7c00 == 0x7c00 && h&0x3ff != 0, "F16 %#x from %#x", h, bits)
		assert.True(t, math.IsNaN(float64(float16ToFloat32(h))))
		b := float32ToBFloat16(nan)
		assert.True(t, b&0x7f80 == 0x7f80 && b&0x7f != 0, "BF16 %#x from %#x", b, bits)
		assert.Equal(t, bits>>31, uint32(h>>15), "F16 keeps the sign")
		assert.Equal(t, bits>>31, uint32(b>>15), "BF16 keeps the sign")
	}
}

// Every half-precision value survives widening and narrowing unchanged.
func TestHalfPrecisionRoundTripsEveryValue(t *testing.T) {
	for h := range 1 << 16 {
		f := float16ToFloat32(uint16(h))
		if math.IsNaN(float64(f)) {
			assert.True(t, math.IsNaN(float64(float16ToFloat32(float32ToFloat16(f)))))
			continue
		}
		if got := float32ToFloat16(f); got != uint16(h) {
			t.Fatalf("F16 %#04x -> %g -> %#04x", h, f, got)
		}
		var bf [2]byte
		encode(bf[:], []float32{math.Float32frombits(uint32(h) << 16)}, BF16)
		var back [1]float32
		decode(back[:], bf[:], BF16)
		if b := math.Float32bits(back[0]); b != uint32(h)<<16 && !math.IsNaN(float64(back[0])) {
			t.Fatalf("BF16 %#04x -> %#08x", h, b)
		}
	}
}

// Narrowing is rounding to nearest: the error is at most half an ulp of the format.
func TestHalfPrecisionRoundingError(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for range 100_000 {
		f := float32(r.NormFloat64() * math.Pow(2, float64(r.IntN(20)-10)))
		ulp16 := math.Pow(2, math.Floor(math.Log2(math.Abs(float64(f))))-10)
		ulp16 = math.Max(ulp16, 0x1p-24)
		ulpBF := math.Pow(2, math.Floor(math.Log2(math.Abs(float64(f))))-7)
		if back := float16ToFloat32(float32ToFloat16(f)); math.Abs(float64(back-f)) > ulp16/2 {
			t.Fatalf("F16 rounds %g to %g", f, back)
		}
		if back := math.Float32frombits(uint32(float32ToBFloat16(f)) << 16); math.Abs(float64(back-f)) > ulpBF/2 {
			t.Fatalf("BF16 rounds %g to %g", f, back)
		}
	}
}

func TestDecodeF64Rounds(t *testing.T) {
	var src [16]byte
	encodeF64 := func(i int, v float64) {
		b := math.Float64bits(v)
		for k := range 8 {
			src[8*i+k] = byte(b >> (8 * k))
		}
	}
	encodeF64(0, 1+0x1p-30) // rounds to 1 in float32
	encodeF64(1, -1e300)    // overflows to -Inf
	dst := make([]float32, 2)
	decode(dst, src[:], F64)
	assert.Equal(t, float32(1), dst[0])
	assert.True(t, math.IsInf(float64(dst[1]), -1))
}

func TestDTypeSizes(t *testing.T) {
	assert.Equal(t, 4, F32.Size())
	assert.Equal(t, 2, F16.Size())
	assert.Equal(t, 2, BF16.Size())
	assert.Equal(t, 8, F64.Size())
	assert.Equal(t, 1, DType("I8").Size())
	assert.Equal(t, 0, DType("F4").Size())
}
