package ort

import (
	"fmt"

	"google.golang.org/protobuf/proto"

	"github.com/l3m/l3m-engine/graphs/onnxpb"
)

// singleNodeModel serializes an ONNX model (IR version 10, opset 21) whose graph is one
// opType node from inputs to outputs. A dimension of -1 becomes the symbolic dimension
// "d<axis>", shared by every value, so elementwise ops see matching batch sizes. It builds
// the MatMul of MeasureMatMulPeak and the models the tests run; real graphs come from
// package graphs.
func singleNodeModel(opType string, inputs, outputs []IOInfo) ([]byte, error) {
	graph := &onnxpb.GraphProto{
		Name: proto.String(opType),
		Node: []*onnxpb.NodeProto{{
			OpType: proto.String(opType),
			Input:  names(inputs),
			Output: names(outputs),
		}},
	}
	for _, in := range inputs {
		graph.Input = append(graph.Input, valueInfo(in))
	}
	for _, out := range outputs {
		graph.Output = append(graph.Output, valueInfo(out))
	}
	model := &onnxpb.ModelProto{
		IrVersion:    proto.Int64(10),
		ProducerName: proto.String("l3m-engine/engine/ort"),
		OpsetImport:  []*onnxpb.OperatorSetIdProto{{Domain: proto.String(""), Version: proto.Int64(21)}},
		Graph:        graph,
	}
	data, err := proto.Marshal(model)
	if err != nil {
		return nil, fmt.Errorf("ort: marshal %s model: %w", opType, err)
	}
	return data, nil
}

func valueInfo(info IOInfo) *onnxpb.ValueInfoProto {
	shape := &onnxpb.TensorShapeProto{}
	for axis, d := range info.Dims {
		dim := &onnxpb.TensorShapeProto_Dimension{}
		if d < 0 {
			dim.Value = &onnxpb.TensorShapeProto_Dimension_DimParam{DimParam: fmt.Sprintf("d%d", axis)}
		} else {
			dim.Value = &onnxpb.TensorShapeProto_Dimension_DimValue{DimValue: d}
		}
		shape.Dim = append(shape.Dim, dim)
	}
	return &onnxpb.ValueInfoProto{
		Name: proto.String(info.Name),
		Type: &onnxpb.TypeProto{Value: &onnxpb.TypeProto_TensorType{TensorType: &onnxpb.TypeProto_Tensor{
			ElemType: proto.Int32(int32(info.ElemType)),
			Shape:    shape,
		}}},
	}
}
