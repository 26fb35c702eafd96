package graphs

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"google.golang.org/protobuf/proto"

	"github.com/l3m/l3m-engine/graphs/onnxpb"
)

// protobufLimit is the largest message protobuf serialises: models past it must keep their
// weights in ONNX external data.
const protobufLimit = 2<<30 - 1

// externalMinBytes is the smallest initializer moved to external data.
const externalMinBytes = 1024

// SaveModel writes the graph to path atomically (temporary file, sync, rename). Constants
// stay inside the file unless external is true or the model would exceed protobuf's 2 GB
// limit; then every constant of at least 1 KB goes to path+".data" as ONNX external data
// (location relative to the model file), which ONNX Runtime reads when loading the file.
// It reports whether external data was written.
func (g *Graph) SaveModel(path string, external bool) (usedExternal bool, err error) {
	m := g.Model()
	if !external {
		size := 0
		for _, t := range m.Graph.Initializer {
			size += len(t.RawData)
		}
		external = size > protobufLimit-64<<20
	}
	dataPath := path + ".data"
	if external {
		if err := writeExternal(m, dataPath); err != nil {
			return false, fmt.Errorf("graphs: save %s: %w", path, err)
		}
	} else if err := os.Remove(dataPath); err != nil && !errors.Is(err, os.ErrNotExist) {
		return false, fmt.Errorf("graphs: save %s: %w", path, err)
	}
	b, err := proto.Marshal(m)
	if err != nil {
		return false, fmt.Errorf("graphs: save %s: %w", path, err)
	}
	if err := writeAtomic(path, func(w *bufio.Writer) error { _, err := w.Write(b); return err }); err != nil {
		return false, fmt.Errorf("graphs: save %s: %w", path, err)
	}
	return external, nil
}

// writeExternal moves large initializers' bytes into dataPath and points the tensors at it.
func writeExternal(m *onnxpb.ModelProto, dataPath string) error {
	location := filepath.Base(dataPath)
	return writeAtomic(dataPath, func(w *bufio.Writer) error {
		var offset int64
		for _, t := range m.Graph.Initializer {
			if len(t.RawData) < externalMinBytes {
				continue
			}
			if _, err := w.Write(t.RawData); err != nil {
				return err
			}
			n := int64(len(t.RawData))
			t.RawData = nil
			t.DataLocation = onnxpb.TensorProto_EXTERNAL.Enum()
			t.ExternalData = []*onnxpb.StringStringEntryProto{
				{Key: proto.String("location"), Value: proto.String(location)},
				{Key: proto.String("offset"), Value: proto.String(fmt.Sprint(offset))},
				{Key: proto.String("length"), Value: proto.String(fmt.Sprint(n))},
			}
			offset += n
		}
		return nil
	})
}

func writeAtomic(path string, write func(*bufio.Writer) error) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	w := bufio.NewWriterSize(tmp, 1<<20)
	if err := errors.Join(write(w), w.Flush(), tmp.Sync()); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	if err := os.Chmod(tmp.Name(), 0o644); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}

// Initializer adds a named constant: a frozen weight stored in the model (see SaveModel
// for models past 2 GB).
func (g *Graph) Initializer(name string, shape Shape, data []float32) *Value {
	g.claim(name)
	if !shape.Static() || shape.Size() != int64(len(data)) {
		panic(fmt.Sprintf("graphs: Initializer %s: shape %v does not hold %d elements", name, shape, len(data)))
	}
	v := &Value{g: g, name: name, dtype: Float32, shape: shape.clone()}
	g.consts = append(g.consts, &constant{value: v, data: data})
	g.constData[v] = data
	return v
}
