package weights

import (
	"bytes"
	"cmp"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"
)

// maxHeaderBytes bounds the JSON header, as the reference implementation does (100 MB), so
// that a corrupt length cannot make us allocate gigabytes.
const maxHeaderBytes = 100 << 20

// metadataKey is the header entry holding free-form string metadata rather than a tensor.
const metadataKey = "__metadata__"

// Error is a problem with one checkpoint file: its path, the tensor at fault when there is
// one, and the cause. Err reads as a predicate of the tensor when Tensor is set ("has shape
// [2 3], config wants [3 2]").
type Error struct {
	File   string
	Tensor string
	Err    error
}

func (e *Error) Error() string {
	if e.Tensor == "" {
		return fmt.Sprintf("weights: %s: %v", e.File, e.Err)
	}
	return fmt.Sprintf("weights: %s: tensor %q %v", e.File, e.Tensor, e.Err)
}

func (e *Error) Unwrap() error { return e.Err }

// tensorInfo is one tensor's header entry.
type tensorInfo struct {
	Name  string
	DType DType
	Shape []int64
	Begin int64 // byte offsets in the data buffer, which starts after the header
	End   int64
}

// header is a parsed safetensors header.
type header struct {
	DataStart int64        // file offset of the data buffer: 8 + header length
	Tensors   []tensorInfo // in data order
	Metadata  map[string]string
}

// readHeader reads and checks the header of a safetensors file of the given size. Every
// tensor's bytes are checked to lie inside the file, so reads that follow cannot run past
// its end unless the file shrinks meanwhile.
func readHeader(r io.ReaderAt, size int64) (*header, error) {
	if size < 8 {
		return nil, fmt.Errorf("is %d bytes, too short for a safetensors file (the header length alone is 8)", size)
	}
	var lenBytes [8]byte
	if _, err := r.ReadAt(lenBytes[:], 0); err != nil {
		return nil, fmt.Errorf("reading the header length: %w", err)
	}
	n := binary.LittleEndian.Uint64(lenBytes[:])
	if n > maxHeaderBytes {
		return nil, fmt.Errorf("header length %d exceeds the %d-byte limit; not a safetensors file, or a corrupt one", n, maxHeaderBytes)
	}
	if int64(n) > size-8 {
		return nil, fmt.Errorf("header length %d runs past the end of the %d-byte file; truncated?", n, size)
	}
	js := make([]byte, n)
	if _, err := r.ReadAt(js, 8); err != nil {
		return nil, fmt.Errorf("reading the header: %w", err)
	}
	h, err := parseHeader(js, size-8-int64(n))
	if err != nil {
		return nil, err
	}
	h.DataStart = 8 + int64(n)
	return h, nil
}

// parseHeader decodes the JSON header and checks each tensor against the dataSize bytes
// that follow it: offsets in range and not overlapping, byte length matching dtype and
// shape. Gaps between tensors are allowed.
func parseHeader(js []byte, dataSize int64) (*header, error) {
	var entries map[string]json.RawMessage
	if err := json.Unmarshal(js, &entries); err != nil {
		return nil, fmt.Errorf("header is not a JSON object: %v", err)
	}
	h := &header{}
	for _, name := range slices.Sorted(maps.Keys(entries)) {
		raw := entries[name]
		if name == metadataKey {
			if err := json.Unmarshal(raw, &h.Metadata); err != nil {
				return nil, fmt.Errorf("header: %s must map strings to strings: %v", metadataKey, err)
			}
			continue
		}
		t, err := parseTensorInfo(name, raw, dataSize)
		if err != nil {
			return nil, &Error{Tensor: name, Err: err}
		}
		h.Tensors = append(h.Tensors, t)
	}
	slices.SortFunc(h.Tensors, func(a, b tensorInfo) int {
		return cmp.Or(cmp.Compare(a.Begin, b.Begin), cmp.Compare(a.End, b.End), strings.Compare(a.Name, b.Name))
	})
	for i := 1; i < len(h.Tensors); i++ {
		prev, t := h.Tensors[i-1], h.Tensors[i]
		if t.Begin < prev.End {
			return nil, &Error{Tensor: t.Name, Err: fmt.Errorf("has data_offsets [%d %d] overlapping tensor %q [%d %d]; the file is corrupt",
				t.Begin, t.End, prev.Name, prev.Begin, prev.End)}
		}
	}
	return h, nil
}

func parseTensorInfo(name string, raw json.RawMessage, dataSize int64) (tensorInfo, error) {
	var e struct {
		DType       *string `json:"dtype"`
		Shape       []int64 `json:"shape"`
		DataOffsets []int64 `json:"data_offsets"`
	}
	if err := json.Unmarshal(raw, &e); err != nil {
		return tensorInfo{}, fmt.Errorf("has a malformed header entry: %v", err)
	}
	if e.DType == nil || e.Shape == nil || len(e.DataOffsets) != 2 {
		return tensorInfo{}, errors.New("has a header entry without dtype, shape and two data_offsets")
	}
	t := tensorInfo{Name: name, DType: DType(*e.DType), Shape: e.Shape, Begin: e.DataOffsets[0], End: e.DataOffsets[1]}
	if t.Begin < 0 || t.End < t.Begin {
		return tensorInfo{}, fmt.Errorf("has invalid data_offsets [%d %d]", t.Begin, t.End)
	}
	if t.End > dataSize {
		return tensorInfo{}, fmt.Errorf("has data_offsets [%d %d] past the end of the data (%d bytes); the file is truncated", t.Begin, t.End, dataSize)
	}
	elems, ok := numElements(t.Shape)
	if !ok {
		return tensorInfo{}, fmt.Errorf("has invalid shape %v", t.Shape)
	}
	if size := int64(t.DType.Size()); size > 0 && elems*size != t.End-t.Begin {
		return tensorInfo{}, fmt.Errorf("has %d data bytes, but %s %v needs %d", t.End-t.Begin, t.DType, t.Shape, elems*size)
	}
	return t, nil
}

// encodeHeader renders the 8-byte length and the JSON header the way the reference
// implementation does: compact JSON, __metadata__ first, then the tensors in data order with
// keys dtype, shape, data_offsets, padded with spaces to a multiple of 8 bytes so that the
// data buffer starts 8-byte aligned.
func encodeHeader(tensors []tensorInfo, metadata map[string]string) []byte {
	var b bytes.Buffer
	b.WriteByte('{')
	if len(metadata) > 0 {
		b.WriteString(jsonString(metadataKey) + ":{")
		for i, k := range slices.Sorted(maps.Keys(metadata)) {
			if i > 0 {
				b.WriteByte(',')
			}
			b.WriteString(jsonString(k) + ":" + jsonString(metadata[k]))
		}
		b.WriteByte('}')
	}
	for i, t := range tensors {
		if i > 0 || len(metadata) > 0 {
			b.WriteByte(',')
		}
		dims := make([]string, len(t.Shape))
		for j, d := range t.Shape {
			dims[j] = fmt.Sprint(d)
		}
		fmt.Fprintf(&b, `%s:{"dtype":%s,"shape":[%s],"data_offsets":[%d,%d]}`,
			jsonString(t.Name), jsonString(string(t.DType)), strings.Join(dims, ","), t.Begin, t.End)
	}
	b.WriteByte('}')
	for b.Len()%8 != 0 {
		b.WriteByte(' ')
	}
	out := binary.LittleEndian.AppendUint64(make([]byte, 0, 8+b.Len()), uint64(b.Len()))
	return append(out, b.Bytes()...)
}

// jsonString quotes s as JSON without Go's HTML escaping, as serde_json would.
func jsonString(s string) string {
	var b strings.Builder
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(s); err != nil {
		panic(err) // a string always encodes
	}
	return strings.TrimSuffix(b.String(), "\n")
}

// fileError attaches path to err, keeping the tensor name when err already carries one.
func fileError(path string, err error) error {
	if e, ok := err.(*Error); ok && e.File == "" {
		return &Error{File: path, Tensor: e.Tensor, Err: e.Err}
	}
	return &Error{File: path, Err: err}
}
