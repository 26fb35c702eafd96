// Package engine trains and runs the graphs that package graphs builds, on ONNX Runtime
// inference sessions: one Run per micro-batch computes the loss and every gradient.
//
// # Steps
//
// [TrainStep] runs the train graph: parameters are zero-copy views of a [weights.Store]'s
// flat buffer, gradients land in a second store of the same layout, so the optimizer sweeps
// flat buffers. [Scorer] runs the forward-only score graph. Batches are padded row-major
// [B, T] arrays ([Batch]); the data pipeline fills them.
package engine
