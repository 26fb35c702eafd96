// Package weights holds a model's parameters and reads and writes them as Hugging Face
// safetensors checkpoints, so that the engine trains the same files transformers loads.
//
// # The store
//
// A Store keeps every parameter of a llama.Config as float32, back to back in config order
// in one flat slice. Get returns a view into that slice, which ONNX Runtime takes as a
// zero-copy input; Flat returns all of it, which an optimizer sweeps in parallel chunks.
// Checksum hashes the values, so tests can check that a resumed run starts from exactly
// the weights it saved.
//
// # The safetensors format
//
// A file is an 8-byte little-endian header length N, N bytes of JSON mapping each tensor
// name to {"dtype", "shape", "data_offsets": [begin, end]} (offsets into the data buffer
// that follows the header) plus an optional "__metadata__" map of strings, then the data.
// Save writes compact JSON with __metadata__ first ({"format": "pt"}), tensors in store
// order, each with keys dtype, shape, data_offsets, padded with spaces to a multiple of
// 8 bytes as the reference implementation does.
//
// A sharded checkpoint is model-00001-of-0000N.safetensors ... plus
// model.safetensors.index.json, {"metadata": {"total_size": bytes}, "weight_map":
// {tensor: file}}, written with two-space indentation and sorted keys like transformers.
//
// # Loading
//
// Load reads dir/model.safetensors when it exists, else the files the index names, and
// takes exactly the tensors cfg.Params lists. Each must be present with the config's
// shape; errors name the file and the tensor. Tensors cfg does not list are handled so:
//
//   - rotary-embedding buffers (…rotary_emb.inv_freq, as older transformers saved) are
//     skipped: the graphs recompute them from rope_theta;
//   - lm_head.weight in a checkpoint whose config ties word embeddings is skipped: the LM
//     head is the embedding;
//   - anything else makes Load fail, because it means the config does not describe the
//     checkpoint (a model with more layers, with biases, of another family). LoadWithInfo
//     skips such tensors instead and lists every skipped tensor with its reason.
//
// F32, F16, BF16 and F64 tensors are converted to float32 (F16 and BF16 exactly, F64
// rounded to nearest); other dtypes are an error. Reading streams each tensor in chunks
// of at most 4 MiB straight into the store on GOMAXPROCS workers, so loading needs no
// memory beyond the store itself. Headers are checked before any data is read (length
// under 100 MB, valid JSON, offsets inside the file and not overlapping, byte counts
// matching dtype and shape), so a truncated or corrupt file gives an error, never a
// panic or a huge allocation.
//
// # Saving
//
// Save writes F32 by default, or F16 or BF16 rounded to nearest with ties to even (F16
// overflows to infinity past 65504; NaN stays NaN). Each file is written to a temporary
// file in the same directory, synced and renamed into place.
//
// # Initialization
//
// InitRandom draws a fresh model the way transformers initializes a LlamaForCausalLM:
// normal(0, 0.02) weights and ones for the RMSNorm scales. The values depend only on the
// seed and the tensor names, identically on every machine and core count.
package weights
