package weights

import (
	"encoding/binary"
	"math"
	"sync"
)

// DType is a safetensors element type, spelled as in the file header ("F32", "BF16", ...).
type DType string

// The element types Load converts to float32 (all four) and Save writes (all but F64).
const (
	F32  DType = "F32"
	F16  DType = "F16"
	BF16 DType = "BF16"
	F64  DType = "F64"
)

// Size is the bytes per element of d, 0 for a dtype safetensors does not define or one
// narrower than a byte (F4, F6 packings). Header checks use it for every tensor, including
// the integer and 8-bit float ones Load cannot read.
func (d DType) Size() int {
	switch d {
	case "BOOL", "U8", "I8", "F8_E5M2", "F8_E4M3", "F8_E8M0":
		return 1
	case "I16", "U16", F16, BF16:
		return 2
	case "I32", "U32", F32:
		return 4
	case "I64", "U64", F64, "C64":
		return 8
	}
	return 0
}

// readable reports whether Load can convert d to float32.
func (d DType) readable() bool { return d == F32 || d == F16 || d == BF16 || d == F64 }

// writable reports whether Save can write d.
func (d DType) writable() bool { return d == F32 || d == F16 || d == BF16 }

func (d DType) orF32() DType {
	if d == "" {
		return F32
	}
	return d
}

// decode converts little-endian elements of type d in src to dst; len(src) is
// len(dst)*d.Size() and d is readable.
func decode(dst []float32, src []byte, d DType) {
	switch d {
	case F32:
		src = src[:4*len(dst)]
		for i := range dst {
			dst[i] = math.Float32frombits(binary.LittleEndian.Uint32(src[4*i:]))
		}
	case F16:
		table := float16Table()
		src = src[:2*len(dst)]
		for i := range dst {
			dst[i] = math.Float32frombits(table[binary.LittleEndian.Uint16(src[2*i:])])
		}
	case BF16:
		src = src[:2*len(dst)]
		for i := range dst {
			dst[i] = math.Float32frombits(uint32(binary.LittleEndian.Uint16(src[2*i:])) << 16)
		}
	case F64:
		src = src[:8*len(dst)]
		for i := range dst {
			dst[i] = float32(math.Float64frombits(binary.LittleEndian.Uint64(src[8*i:])))
		}
	default:
		panic("weights: decode: unreadable dtype " + string(d))
	}
}

// encode converts src to little-endian elements of type d in dst; len(dst) is
// len(src)*d.Size() and d is writable.
func encode(dst []byte, src []float32, d DType) {
	switch d {
	case F32:
		dst = dst[:4*len(src)]
		for i, v := range src {
			binary.LittleEndian.PutUint32(dst[4*i:], math.Float32bits(v))
		}
	case F16:
		dst = dst[:2*len(src)]
		for i, v := range src {
			binary.LittleEndian.PutUint16(dst[2*i:], float32ToFloat16(v))
		}
	case BF16:
		dst = dst[:2*len(src)]
		for i, v := range src {
			binary.LittleEndian.PutUint16(dst[2*i:], float32ToBFloat16(v))
		}
	default:
		panic("weights: encode: unwritable dtype " + string(d))
	}
}

// float16Table maps every IEEE half-precision bit pattern to its float32 bits; a lookup
// decodes F16 checkpoints several times faster than converting each value.
var float16Table = sync.OnceValue(func() *[1 << 16]uint32 {
	var t [1 << 16]uint32
	for h := range t {
		t[h] = math.Float32bits(float16ToFloat32(uint16(h)))
	}
	return &t
})

// float16ToFloat32 widens an IEEE 754 binary16 value exactly; NaN payloads are kept.
func float16ToFloat32(h uint16) float32 {
	sign := uint32(h&0x8000) << 16
	exp := uint32(h>>10) & 0x1f
	mant := uint32(h) & 0x3ff
	switch {
	case exp == 0x1f: // infinity or NaN
		return math.Float32frombits(sign | 0x7f800000 | mant<<13)
	case exp != 0: // normal: rebias the exponent from 15 to 127
		return math.Float32frombits(sign | (exp+127-15)<<23 | mant<<13)
	}
	// Zero or subnormal: mant·2^-24, exact in float32.
	f := float32(mant) * 0x1p-24
	if sign != 0 {
		f = -f
	}
	return f
}

// float32ToFloat16 narrows f to binary16, rounding to nearest with ties to even, as
// PyTorch's .half() does: magnitudes past 65504 round to infinity, tiny ones to
// subnormals or zero, and a NaN stays a (quiet) NaN.
func float32ToFloat16(f float32) uint16 {
	b := math.Float32bits(f)
	sign := uint16(b>>16) & 0x8000
	exp := int(b>>23) & 0xff
	mant := b & 0x7fffff
	if exp == 0xff {
		if mant == 0 {
			return sign | 0x7c00
		}
		return sign | 0x7e00 | uint16(mant>>13) // quiet bit set, top payload bits kept
	}
	e := exp - 127 + 15 // the exponent rebiased for binary16
	if e >= 0x1f {
		return sign | 0x7c00
	}
	if e <= 0 {
		// A binary16 subnormal m·2^-24: shift the 24-bit significand right by 14-e.
		shift := uint(14 - e)
		if shift > 24 {
			return sign // below half the smallest subnormal: rounds to zero
		}
		sig := mant | 0x800000
		m := sig >> shift
		rem := sig & (1<<shift - 1)
		half := uint32(1) << (shift - 1)
		if rem > half || rem == half && m&1 == 1 {
			m++ // may carry into the smallest normal, whose encoding is the next integer
		}
		return sign | uint16(m)
	}
	h := uint32(e)<<10 | mant>>13
	rem := mant & 0x1fff
	if rem > 0x1000 || rem == 0x1000 && h&1 == 1 {
		h++ // a carry out of the mantissa bumps the exponent, up to infinity
	}
	return sign | uint16(h)
}

// float32ToBFloat16 keeps the top 16 bits of f, rounding to nearest with ties to even as
// PyTorch's .bfloat16() does; a NaN stays a (quiet) NaN.
func float32ToBFloat16(f float32) uint16 {
	b := math.Float32bits(f)
	if b&0x7fffffff > 0x7f800000 {
		return uint16(b>>16) | 0x40
	}
	return uint16((b + 0x7fff + (b>>16)&1) >> 16)
}
