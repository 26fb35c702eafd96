// Package onnxpb holds the ONNX protobuf message types (ModelProto, GraphProto, NodeProto,
// TensorProto, ...) generated from onnx.proto, which is copied from Debian's libonnx-dev
// (ONNX 1.12, proto2, IR version 8 schema; newer IR versions only add fields we do not use).
//
// Regenerate with `go generate ./graphs/onnxpb` (needs protoc from protobuf-compiler).
package onnxpb

//go:generate sh -c "protoc --plugin=protoc-gen-go=$(go tool -n protoc-gen-go) --go_out=. --go_opt=paths=source_relative --go_opt=Monnx.proto=github.com/l3m/l3m-engine/graphs/onnxpb onnx.proto"
