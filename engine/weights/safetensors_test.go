package weights

import (
	"bytes"
	"encoding/binary"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/l3m/l3m-engine/graphs/llama"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestSaveMatchesTheSpecByteForByte checks a tiny file against bytes computed by hand from
// the format description: header length, compact JSON with __metadata__ first, space
// padding to a multiple of 8, then little-endian data.
func TestSaveMatchesTheSpecByteForByte(t *testing.T) {
	s := NewStore([]llama.Param{{Name: "a", Shape: []int64{2}}, {Name: "b", Shape: []int64{1, 1}}})
	copy(s.Flat(), []float32{1, -2, 0.5})
	dir := t.TempDir()
	require.NoError(t, Save(dir, s, SaveOptions{}))
	got, err := os.ReadFile(filepath.Join(dir, SingleFileName))
	require.NoError(t, err)

	// {  "__metadata__"  :  {"format":"pt"}  ,  "a"  :  {...a...}  ,  "b"  :  {...b...}  }
	// 1 + 14           + 1 + 15             + 1 + 3  + 1 + 48     + 1 + 3  + 1 + 51     + 1 = 141,
	// padded with 3 spaces to 144 = 0x90.
	json := `{"__metadata__":{"format":"pt"},` +
		`"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},` +
		`"b":{"dtype":"F32","shape":[1,1],"data_offsets":[8,12]}}`
	require.Len(t, json, 141)
	want := []byte{0x90, 0, 0, 0, 0, 0, 0, 0}
	want = append(want, json+"   "...)
	want = append(want,
		0x00, 0x00, 0x80, 0x3f, // 1.0
		0x00, 0x00, 0x00, 0xc0, // -2.0
		0x00, 0x00, 0x00, 0x3f, // 0.5
	)
	assert.Equal(t, string(want), string(got))
}

func TestSaveF16MatchesTheSpecByteForByte(t *testing.T) {
	s := NewStore([]llama.Param{{Name: "w", Shape: []int64{3}}})
	copy(s.Flat(), []float32{1, -2.5, 65504})
	dir := t.TempDir()
	require.NoError(t, Save(dir, s, SaveOptions{DType: F16, Metadata: map[string]string{"step": "7"}}))
	got, err := os.ReadFile(filepath.Join(dir, SingleFileName))
	require.NoError(t, err)
	// 1 + 14 + 1 + 26 + 1 + 3 + 1 + 48 + 1 = 96, a multiple of 8: no padding.
	json := `{"__metadata__":{"format":"pt","step":"7"},"w":{"dtype":"F16","shape":[3],"data_offsets":[0,6]}}`
	require.Len(t, json, 96)
	want := append([]byte{96, 0, 0, 0, 0, 0, 0, 0}, json...)
	want = append(want, 0x00, 0x3c, 0x00, 0xc1, 0xff, 0x7b)
	assert.Equal(t, string(want), string(got))
}

func TestHeaderEscapesNamesAsJSON(t *testing.T) {
	h := encodeHeader([]tensorInfo{{Name: `a"b<c>\`, DType: F32, Shape: []int64{}, Begin: 0, End: 4}}, nil)
	assert.Contains(t, string(h), `"a\"b<c>\\":{"dtype":"F32","shape":[],"data_offsets":[0,4]}`)
	parsed, err := parseHeader(h[8:], 4)
	require.NoError(t, err)
	assert.Equal(t, `a"b<c>\`, parsed.Tensors[0].Name)
}

func TestReadHeaderRejectsCorruptFiles(t *testing.T) {
	withLength := func(n uint64, rest string) string {
		return string(binary.LittleEndian.AppendUint64(nil, n)) + rest
	}
	entry := func(body string) string { h := `{"t":` + body + `}`; return withLength(uint64(len(h)), h) }
	for _, c := range []struct {
		name, file, want string
	}{
		{"empty", "", "is 0 bytes, too short for a safetensors file"},
		{"short", "abc", "is 3 bytes, too short"},
		{"huge header length", withLength(1<<40, "{}"), "header length 1099511627776 exceeds the 104857600-byte limit"},
		{"header past end", withLength(100, "{}"), "header length 100 runs past the end of the 10-byte file; truncated?"},
		{"not json", withLength(3, "{{{"), "header is not a JSON object"},
		{"json array", withLength(2, "[]"), "header is not a JSON object"},
		{"no dtype", entry(`{"shape":[1],"data_offsets":[0,4]}`), `tensor "t" has a header entry without dtype, shape and two data_offsets`},
		{"one offset", entry(`{"dtype":"F32","shape":[1],"data_offsets":[0]}`), "without dtype, shape and two data_offsets"},
		{"shape of strings", entry(`{"dtype":"F32","shape":["x"],"data_offsets":[0,4]}`), `tensor "t" has a malformed header entry`},
		{"negative dim", entry(`{"dtype":"F32","shape":[-1],"data_offsets":[0,0]}`), "has invalid shape [-1]"},
		{"reversed offsets", entry(`{"dtype":"F32","shape":[1],"data_offsets":[4,0]}`), "has invalid data_offsets [4 0]"},
		{"truncated data", entry(`{"dtype":"F32","shape":[1],"data_offsets":[0,4]}`) + "ab", "past the end of the data (2 bytes); the file is truncated"},
		{"size mismatch", entry(`{"dtype":"F32","shape":[2],"data_offsets":[0,4]}`) + "abcd", "has 4 data bytes, but F32 [2] needs 8"},
		{"overflowing shape", entry(`{"dtype":"F32","shape":[4294967296,4294967296],"data_offsets":[0,4]}`) + "abcd", "invalid shape"},
		{"bad metadata", withLength(28, `{"__metadata__":{"step":7}} `), "__metadata__ must map strings to strings"},
		{"overlap", func() string {
			h := `{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}`
			return withLength(uint64(len(h)), h) + "abcdefgh"
		}(), `tensor "b" has data_offsets [4 8] overlapping tensor "a" [0 8]; the file is corrupt`},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, err := readHeader(strings.NewReader(c.file), int64(len(c.file)))
			require.Error(t, err)
			assert.Contains(t, err.Error(), c.want)
		})
	}
}

func TestReadHeaderAcceptsUnknownDTypesAndGaps(t *testing.T) {
	h := `{"b":{"dtype":"F8_E4M3","shape":[2],"data_offsets":[6,8]},"a":{"dtype":"F4","shape":[3],"data_offsets":[0,2]}}`
	file := string(binary.LittleEndian.AppendUint64(nil, uint64(len(h)))) + h + "01234567"
	got, err := readHeader(strings.NewReader(file), int64(len(file)))
	require.NoError(t, err)
	require.Len(t, got.Tensors, 2)
	assert.Equal(t, "a", got.Tensors[0].Name, "tensors come in data order")
	assert.Equal(t, DType("F8_E4M3"), got.Tensors[1].DType)
	assert.Equal(t, int64(8+len(h)), got.DataStart)
}

// FuzzReadHeader checks that no header, however corrupt, panics the reader or yields
// offsets outside the file.
func FuzzReadHeader(f *testing.F) {
	s := NewStore([]llama.Param{{Name: "a", Shape: []int64{2}}, {Name: "b", Shape: []int64{1, 1}}})
	dir := f.TempDir()
	require.NoError(f, Save(dir, s, SaveOptions{Metadata: map[string]string{"k": "v"}}))
	good, err := os.ReadFile(filepath.Join(dir, SingleFileName))
	require.NoError(f, err)
	f.Add(good)
	f.Add(good[:len(good)-1])
	f.Add([]byte{})
	f.Add(bytes.Repeat([]byte{0xff}, 16))
	f.Fuzz(func(t *testing.T, file []byte) {
		h, err := readHeader(bytes.NewReader(file), int64(len(file)))
		if err != nil {
			return
		}
		for _, tensor := range h.Tensors {
			if tensor.Begin < 0 || tensor.End < tensor.Begin || h.DataStart+tensor.End > int64(len(file)) {
				t.Fatalf("tensor %q has offsets [%d %d] outside the file", tensor.Name, tensor.Begin, tensor.End)
			}
		}
	})
}
