// Package ort runs ONNX graphs with ONNX Runtime (1.31.x, through
// github.com/yalue/onnxruntime_go). It is the engine's only door to ONNX Runtime: graphs are
// built once by package graphs, loaded here as Sessions, and run many times.
//
// # Loading the library
//
// Init loads libonnxruntime.so.1 once per process, from the --ort-lib flag, ONNXRUNTIME_LIB,
// the project cache .cache/ort that `make setup` fills, or the system library path, and says
// what each place held when none works. A missing, corrupt or wrong-version library is an
// error, never a crash.
//
// # One Run per micro-batch
//
// A Session wraps one model. Session.Run executes the whole graph (forward, backward, the
// optimizer update, whatever the graph holds) in a single call, so the cost of crossing
// into C is paid once per micro-batch, not per op. Run checks every input and output
// against the model first, so a wrong dtype or shape is reported with the tensor's name
// instead of as an ONNX Runtime failure deep inside the graph.
//
// # Weights as zero-copy inputs
//
// Parameters, optimizer state and batches live in Go slices owned by the engine. NewTensor
// wraps a slice without copying it, and the model takes weights as graph inputs rather than
// initializers, so updating a weight is writing to its slice: the next Run reads the new
// values, and nothing is serialized or reloaded between steps.
//
// # Outputs pre-allocated
//
// Outputs are Tensors too, allocated once by the caller and passed to every Run. ONNX
// Runtime writes results straight into their slices, so a training loop allocates nothing
// per step and reads logits, losses and gradients in place.
//
// # Options
//
// Options picks the device ("cpu", "cuda", "cuda:N"), intra-op threads, graph optimization
// level and thread spinning; the zero value is the CPU with ONNX Runtime's defaults and no
// spinning. The build `make setup` fetches is CPU-only; asking it for CUDA returns an error
// that says how to get a GPU build. ONNX Runtime's training API is never used: gradients
// and optimizer updates are ordinary ONNX ops built by package graphs.
//
// MeasureMatMulPeak and BenchmarkMatMulPeak measure the fp32 MatMul throughput of this
// machine, the yardstick for the engine's other benchmarks.
package ort
