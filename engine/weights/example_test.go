package weights_test

import (
	"fmt"
	"os"

	"github.com/l3m/l3m-engine/engine/weights"
	"github.com/l3m/l3m-engine/graphs/llama"
)

// A model is initialized, saved as a sharded BF16 checkpoint that transformers can load,
// and read back into float32.
func ExampleSave() {
	cfg := llama.Config{VocabSize: 32, HiddenSize: 8, IntermediateSize: 16, NumHiddenLayers: 2,
		NumAttentionHeads: 2, NumKeyValueHeads: 1}
	if err := cfg.Validate(); err != nil {
		fmt.Println(err)
		return
	}
	dir, err := os.MkdirTemp("", "checkpoint")
	if err != nil {
		fmt.Println(err)
		return
	}
	defer os.RemoveAll(dir)

	s := weights.InitRandom(cfg, 1)
	fmt.Println(s.Len(), "parameters,", weights.CountBytes(s.Params(), weights.BF16), "bytes as BF16")
	opt := weights.SaveOptions{DType: weights.BF16, MaxShardBytes: 1024, Metadata: map[string]string{"step": "100"}}
	if err := weights.Save(dir, s, opt); err != nil {
		fmt.Println(err)
		return
	}
	loaded, info, err := weights.LoadWithInfo(dir, cfg)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(len(info.Files), "shards of", info.DType, "with step", info.Metadata["step"])
	fmt.Println(loaded.Shape("model.layers.1.self_attn.k_proj.weight"), loaded.Get("model.norm.weight")[:3])
	// Output:
	// 1704 parameters, 3408 bytes as BF16
	// 4 shards of BF16 with step 100
	// [4 8] [1 1 1]
}
