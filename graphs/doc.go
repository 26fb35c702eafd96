// Package graphs is a small typed ONNX graph IR with a builder, reverse-mode automatic
// differentiation and the LLaMA model graphs that l3m-engine trains.
//
// # Building
//
// A [Graph] holds named inputs (with static or symbolic dimensions), constants, nodes and
// outputs. Builder methods such as [Graph.MatMul] or [Graph.Add] append one ONNX node each
// and infer the static shape of the result, so that mistakes surface while building, as a
// panic whose message starts with "graphs:". Exported entry points that build whole graphs
// recover such panics and return them as errors.
//
// # Differentiating
//
// [Graph.Grad] appends the backward pass to the same graph: one ONNX Runtime Run then
// computes the loss and every requested gradient. Each op's vector-Jacobian product (VJP)
// lives in the same file as its builder (ops_elementwise.go, ops_matmul.go, ...), and is
// registered in one table; an op is either differentiable or explicitly marked as not.
// Composite functions (SiLU, RMSNorm, RoPE, cross-entropy) are built from primitives and
// need no VJP of their own. Only kernels that standard ORT builds ship are emitted: no
// training-only ops.
//
// # Serialising
//
// [Graph.Model] returns the ONNX ModelProto (opset 21, IR version 10), [Graph.Marshal] its
// bytes. This package does not know ONNX Runtime; package engine runs what it builds.
package graphs
