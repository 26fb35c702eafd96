package graphs

import (
	"encoding/binary"
	"fmt"
	"math"

	"google.golang.org/protobuf/proto"

	"github.com/l3m/l3m-engine/graphs/onnxpb"
)

// Versions of the ONNX format this package emits. ONNX Runtime 1.31 reads both.
const (
	IRVersion = 10
	Opset     = 21
)

// Model returns the graph as an ONNX ModelProto.
func (g *Graph) Model() *onnxpb.ModelProto {
	gp := &onnxpb.GraphProto{Name: proto.String(g.Name)}
	nodes, used := g.LiveNodes()
	for _, c := range g.consts {
		if used[c.value] {
			gp.Initializer = append(gp.Initializer, tensorProto(c.value.name, c.value.dtype, c.value.shape, c.data))
		}
	}
	for _, v := range g.inputs {
		gp.Input = append(gp.Input, valueInfo(v))
	}
	for _, v := range g.outputs {
		gp.Output = append(gp.Output, valueInfo(v))
	}
	for _, n := range nodes {
		gp.Node = append(gp.Node, nodeProto(n))
	}
	return &onnxpb.ModelProto{
		IrVersion:    proto.Int64(IRVersion),
		ProducerName: proto.String("l3m-engine"),
		OpsetImport:  []*onnxpb.OperatorSetIdProto{{Domain: proto.String(""), Version: proto.Int64(Opset)}},
		Graph:        gp,
	}
}

// LiveNodes returns, in build order, the nodes that the graph's outputs depend on, and the
// set of values they (and the outputs) read. Model emits only these: builders and Grad may
// leave nodes nobody reads, such as a gradient path that a VJP replaced by a cheaper one.
func (g *Graph) LiveNodes() ([]*Node, map[*Value]bool) {
	used := map[*Value]bool{}
	liveNode := map[*Node]bool{}
	var visit func(v *Value)
	visit = func(v *Value) {
		if v == nil || used[v] {
			return
		}
		used[v] = true
		if n := v.node; n != nil && !liveNode[n] {
			liveNode[n] = true
			for _, in := range n.Inputs {
				visit(in)
			}
		}
	}
	for _, v := range g.outputs {
		visit(v)
	}
	var nodes []*Node
	for _, n := range g.nodes {
		if liveNode[n] {
			nodes = append(nodes, n)
		}
	}
	return nodes, used
}

// Marshal serialises the graph to ONNX bytes.
func (g *Graph) Marshal() ([]byte, error) {
	b, err := proto.Marshal(g.Model())
	if err != nil {
		return nil, fmt.Errorf("graphs: marshal %s: %w", g.Name, err)
	}
	return b, nil
}

func valueInfo(v *Value) *onnxpb.ValueInfoProto {
	shape := &onnxpb.TensorShapeProto{}
	for _, d := range v.shape {
		dim := &onnxpb.TensorShapeProto_Dimension{}
		if d.Static() {
			dim.Value = &onnxpb.TensorShapeProto_Dimension_DimValue{DimValue: d.Size}
		} else {
			dim.Value = &onnxpb.TensorShapeProto_Dimension_DimParam{DimParam: d.Sym}
		}
		shape.Dim = append(shape.Dim, dim)
	}
	return &onnxpb.ValueInfoProto{
		Name: proto.String(v.name),
		Type: &onnxpb.TypeProto{Value: &onnxpb.TypeProto_TensorType{TensorType: &onnxpb.TypeProto_Tensor{
			ElemType: proto.Int32(int32(v.dtype)),
			Shape:    shape,
		}}},
	}
}

func nodeProto(n *Node) *onnxpb.NodeProto {
	np := &onnxpb.NodeProto{OpType: proto.String(n.Op), Name: proto.String(n.Outputs[0].name)}
	for _, in := range n.Inputs {
		if in == nil {
			np.Input = append(np.Input, "")
		} else {
			np.Input = append(np.Input, in.name)
		}
	}
	for _, out := range n.Outputs {
		np.Output = append(np.Output, out.name)
	}
	for _, k := range sortedAttrNames(n.Attrs) {
		np.Attribute = append(np.Attribute, attribute(k, n.Attrs[k]))
	}
	return np
}

func attribute(name string, v any) *onnxpb.AttributeProto {
	a := &onnxpb.AttributeProto{Name: proto.String(name)}
	switch x := v.(type) {
	case int:
		a.Type, a.I = onnxpb.AttributeProto_INT.Enum(), proto.Int64(int64(x))
	case int64:
		a.Type, a.I = onnxpb.AttributeProto_INT.Enum(), proto.Int64(x)
	case float32:
		a.Type, a.F = onnxpb.AttributeProto_FLOAT.Enum(), proto.Float32(x)
	case float64:
		a.Type, a.F = onnxpb.AttributeProto_FLOAT.Enum(), proto.Float32(float32(x))
	case string:
		a.Type, a.S = onnxpb.AttributeProto_STRING.Enum(), []byte(x)
	case []int64:
		a.Type, a.Ints = onnxpb.AttributeProto_INTS.Enum(), x
	case []float32:
		a.Type, a.Floats = onnxpb.AttributeProto_FLOATS.Enum(), x
	case *onnxpb.TensorProto:
		a.Type, a.T = onnxpb.AttributeProto_TENSOR.Enum(), x
	default:
		panic(fmt.Sprintf("graphs: attribute %s: unsupported type %T", name, v))
	}
	return a
}

// tensorProto encodes data little-endian in raw_data.
func tensorProto(name string, dtype DType, shape Shape, data any) *onnxpb.TensorProto {
	t := &onnxpb.TensorProto{Name: proto.String(name), DataType: proto.Int32(int32(dtype)), Dims: shape.Ints()}
	var raw []byte
	switch d := data.(type) {
	case []float32:
		raw = make([]byte, 4*len(d))
		for i, x := range d {
			binary.LittleEndian.PutUint32(raw[4*i:], math.Float32bits(x))
		}
	case []float64:
		raw = make([]byte, 8*len(d))
		for i, x := range d {
			binary.LittleEndian.PutUint64(raw[8*i:], math.Float64bits(x))
		}
	case []int64:
		raw = make([]byte, 8*len(d))
		for i, x := range d {
			binary.LittleEndian.PutUint64(raw[8*i:], uint64(x))
		}
	case []int32:
		raw = make([]byte, 4*len(d))
		for i, x := range d {
			binary.LittleEndian.PutUint32(raw[4*i:], uint32(x))
		}
	case []bool:
		raw = make([]byte, len(d))
		for i, x := range d {
			if x {
				raw[i] = 1
			}
		}
	case []uint16: // float16 / bfloat16 bits
		raw = make([]byte, 2*len(d))
		for i, x := range d {
			binary.LittleEndian.PutUint16(raw[2*i:], x)
		}
	default:
		panic(fmt.Sprintf("graphs: tensor %s: unsupported data %T", name, data))
	}
	t.RawData = raw
	return t
}

// zeroTensor is a one-element zero of dtype, the fill value of ConstantOfShape.
func zeroTensor(dtype DType) *onnxpb.TensorProto {
	var data any
	switch dtype {
	case Float32:
		data = []float32{0}
	case Float64:
		data = []float64{0}
	case Int64:
		data = []int64{0}
	case Int32:
		data = []int32{0}
	case Bool:
		data = []bool{false}
	default:
		panic(fmt.Sprintf("graphs: no zero of %v", dtype))
	}
	return tensorProto("", dtype, Shape{D(1)}, data)
}
