package weights

import (
	"encoding/json"
	"fmt"
	"io"
	"io/fs"
	"maps"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/l3m/l3m-engine/graphs/llama"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestSaveLoadF32IsBitExact(t *testing.T) {
	cfg := tinyConfig()
	s := InitRandom(cfg, 7)
	s.Get("model.norm.weight")[0] = float32(math.NaN())
	s.Get("model.norm.weight")[1] = float32(math.Inf(-1))
	s.Get("model.norm.weight")[2] = 0x1p-149
	dir := t.TempDir()
	require.NoError(t, Save(dir, s, SaveOptions{}))
	got, info, err := LoadWithInfo(dir, cfg)
	require.NoError(t, err)
	assert.Equal(t, s.Checksum(), got.Checksum())
	assert.Equal(t, s.Params(), got.Params())
	assert.Equal(t, F32, info.DType)
	assert.Equal(t, map[string]string{"format": "pt"}, info.Metadata)
	assert.Equal(t, []string{filepath.Join(dir, SingleFileName)}, info.Files)
	assert.Empty(t, info.Skipped)
	assert.Equal(t, int64(8)+CountBytes(cfg.Params(), F32), fileSize(t, filepath.Join(dir, SingleFileName))-headerLen(t, filepath.Join(dir, SingleFileName)))
}

func TestSaveLoadHalfPrecision(t *testing.T) {
	cfg := tinyConfig()
	s := filledStore(cfg.Params())
	special := s.Get("model.layers.0.input_layernorm.weight")
	copy(special, []float32{1, -2.5, 65504, 0x1p-24, float32(math.NaN()), float32(math.Inf(1)), 0, 3})
	for _, c := range []struct {
		dtype  DType
		relTol float64 // half an ulp, relative
	}{
		{F16, 0x1p-11},
		{BF16, 0x1p-8},
	} {
		t.Run(string(c.dtype), func(t *testing.T) {
			dir := t.TempDir()
			require.NoError(t, Save(dir, s, SaveOptions{DType: c.dtype}))
			got, info, err := LoadWithInfo(dir, cfg)
			require.NoError(t, err)
			assert.Equal(t, c.dtype, info.DType)
			for i, want := range s.Flat() {
				v := got.Flat()[i]
				switch {
				case math.IsNaN(float64(want)):
					assert.True(t, math.IsNaN(float64(v)), "NaN stays NaN")
				case math.IsInf(float64(want), 0):
					assert.Equal(t, want, v)
				default:
					assert.InDelta(t, want, v, c.relTol*math.Abs(float64(want))+0x1p-25, "value %d", i)
				}
			}
			g := got.Get("model.layers.0.input_layernorm.weight")
			assert.Equal(t, []float32{1, -2.5}, g[:2])
			if c.dtype == F16 {
				assert.Equal(t, []float32{65504, 0x1p-24}, g[2:4], "F16 keeps its largest and smallest values")
			} else {
				assert.Equal(t, float32(65536), g[2], "BF16 rounds 65504 to 65536")
			}
			// Saving what was loaded again gives the same bytes: the conversion is stable.
			dir2 := t.TempDir()
			require.NoError(t, Save(dir2, got, SaveOptions{DType: c.dtype}))
			assert.Equal(t, readFile(t, filepath.Join(dir, SingleFileName)), readFile(t, filepath.Join(dir2, SingleFileName)))
		})
	}
}

func TestSaveLoadSharded(t *testing.T) {
	cfg := tinyConfig()
	s := InitRandom(cfg, 3)
	dir := t.TempDir()
	const maxShard = 1024 // the embedding alone is 1024 bytes
	require.NoError(t, Save(dir, s, SaveOptions{MaxShardBytes: maxShard, Metadata: map[string]string{"step": "12"}}))

	raw := readFile(t, filepath.Join(dir, IndexFileName))
	assert.True(t, strings.HasPrefix(raw, "{\n  \"metadata\": {\n    \"total_size\": 6816\n  },\n  \"weight_map\": {\n    \"lm_head.weight\": \"model-"), raw)
	assert.True(t, strings.HasSuffix(raw, "\n  }\n}\n"), "transformers' json.dumps(indent=2, sort_keys=True) layout")
	var index struct {
		Metadata  map[string]int64  `json:"metadata"`
		WeightMap map[string]string `json:"weight_map"`
	}
	require.NoError(t, json.Unmarshal([]byte(raw), &index))
	assert.Equal(t, map[string]int64{"total_size": 6816}, index.Metadata)
	require.Len(t, index.WeightMap, len(cfg.Params()))

	entries, err := os.ReadDir(dir)
	require.NoError(t, err)
	var shards []string
	for _, e := range entries {
		if e.Name() != IndexFileName {
			shards = append(shards, e.Name())
		}
	}
	n := len(shards)
	require.Greater(t, n, 5)
	for k, name := range shards {
		assert.Equal(t, shardFileName(k+1, n), name)
		path := filepath.Join(dir, name)
		assert.LessOrEqual(t, fileSize(t, path)-8-headerLen(t, path), int64(maxShard), name)
	}
	// Shards follow store order, so the embedding is in the first one and the head in the last.
	assert.Equal(t, shardFileName(1, n), index.WeightMap["model.embed_tokens.weight"])
	assert.Equal(t, shardFileName(n, n), index.WeightMap["lm_head.weight"])

	got, info, err := LoadWithInfo(dir, cfg)
	require.NoError(t, err)
	assert.Equal(t, s.Checksum(), got.Checksum())
	assert.Len(t, info.Files, n)
	assert.Equal(t, map[string]string{"format": "pt", "step": "12"}, info.Metadata)
}

func TestOneShardIsWrittenAsASingleFile(t *testing.T) {
	s := InitRandom(tinyConfig(), 1)
	dir := t.TempDir()
	require.NoError(t, Save(dir, s, SaveOptions{MaxShardBytes: 1 << 20}))
	assert.Equal(t, []string{SingleFileName}, dirNames(t, dir))
}

func TestSaveReplacesTheOtherLayout(t *testing.T) {
	cfg := tinyConfig()
	dir := t.TempDir()
	first := InitRandom(cfg, 1)
	require.NoError(t, Save(dir, first, SaveOptions{}))
	second := InitRandom(cfg, 2)
	require.NoError(t, Save(dir, second, SaveOptions{MaxShardBytes: 2048}))
	names := dirNames(t, dir)
	assert.NotContains(t, names, SingleFileName, "a stale model.safetensors would shadow the shards")
	got, err := Load(dir, cfg)
	require.NoError(t, err)
	assert.Equal(t, second.Checksum(), got.Checksum())

	third := InitRandom(cfg, 3)
	require.NoError(t, Save(dir, third, SaveOptions{MaxShardBytes: 4096}))
	var index struct {
		WeightMap map[string]string `json:"weight_map"`
	}
	require.NoError(t, json.Unmarshal([]byte(readFile(t, filepath.Join(dir, IndexFileName))), &index))
	for _, name := range dirNames(t, dir) {
		if name != IndexFileName {
			assert.Contains(t, slices.Collect(maps.Values(index.WeightMap)), name, "shards of the earlier save are gone")
		}
	}
	require.NoError(t, Save(dir, third, SaveOptions{}))
	assert.Equal(t, []string{SingleFileName}, dirNames(t, dir))
}

func TestSaveRejectsBadOptions(t *testing.T) {
	s := NewStore(tinyConfig().Params())
	assert.EqualError(t, Save(t.TempDir(), s, SaveOptions{DType: F64}), `weights: cannot save as dtype "F64"; use F32, F16 or BF16`)
	assert.EqualError(t, Save(t.TempDir(), s, SaveOptions{MaxShardBytes: -1}), "weights: MaxShardBytes must not be negative, got -1")
}

func TestLoadConvertsF64AndMixedDTypes(t *testing.T) {
	cfg := tinyConfig()
	s := filledStore(cfg.Params())
	dir := t.TempDir()
	dtypes := map[string]DType{}
	for k, name := range s.Names() {
		dtypes[name] = []DType{F64, F32, F16, BF16}[k%4]
	}
	writeRaw(t, filepath.Join(dir, SingleFileName), s, func(name string) DType { return dtypes[name] })
	got, info, err := LoadWithInfo(dir, cfg)
	require.NoError(t, err)
	assert.Equal(t, DType(""), info.DType, "mixed dtypes")
	for k, want := range s.Flat() {
		assert.InDelta(t, want, got.Flat()[k], 0x1p-8*math.Abs(float64(want))+1e-7)
	}
	assert.Equal(t, F64, dtypes["model.embed_tokens.weight"])
	assert.Equal(t, s.Get("model.embed_tokens.weight"), got.Get("model.embed_tokens.weight"), "F64 of a float32 value is exact")
}

func TestLoadErrorsNameFileAndTensor(t *testing.T) {
	cfg := tinyConfig()
	const up = "model.layers.1.mlp.up_proj.weight"
	save := func(t *testing.T, params []llama.Param) string {
		dir := t.TempDir()
		require.NoError(t, Save(dir, filledStore(params), SaveOptions{}))
		return dir
	}
	t.Run("wrong shape", func(t *testing.T) {
		dir := save(t, withParam(cfg.Params(), up, llama.Param{Name: up, Shape: []int64{16, 7}}))
		_, err := Load(dir, cfg)
		assert.EqualError(t, err, "weights: "+filepath.Join(dir, SingleFileName)+`: tensor "model.layers.1.mlp.up_proj.weight" has shape [16 7], config wants [16 8]`)
	})
	t.Run("missing tensor", func(t *testing.T) {
		dir := save(t, withParam(cfg.Params(), up, llama.Param{}))
		_, err := Load(dir, cfg)
		assert.EqualError(t, err, "weights: "+filepath.Join(dir, SingleFileName)+`: tensor "model.layers.1.mlp.up_proj.weight" is missing (config wants shape [16 8])`)
	})
	t.Run("missing untied head", func(t *testing.T) {
		dir := save(t, withParam(cfg.Params(), "lm_head.weight", llama.Param{}))
		_, err := Load(dir, cfg)
		assert.ErrorContains(t, err, `tensor "lm_head.weight" is missing (config wants shape [32 8]); if the checkpoint ties it to the embedding, set tie_word_embeddings in config.json`)
	})
	t.Run("unreadable dtype", func(t *testing.T) {
		dir := t.TempDir()
		writeRaw(t, filepath.Join(dir, SingleFileName), filledStore(cfg.Params()), func(name string) DType {
			if name == up {
				return "I32"
			}
			return F32
		})
		_, err := Load(dir, cfg)
		assert.ErrorContains(t, err, SingleFileName+`: tensor "model.layers.1.mlp.up_proj.weight" has dtype I32; weights reads F32, F16, BF16 and F64`)
	})
	t.Run("truncated data", func(t *testing.T) {
		dir := save(t, cfg.Params())
		path := filepath.Join(dir, SingleFileName)
		require.NoError(t, os.Truncate(path, fileSize(t, path)-4))
		_, err := Load(dir, cfg)
		assert.EqualError(t, err, "weights: "+path+`: tensor "lm_head.weight" has data_offsets [5792 6816] past the end of the data (6812 bytes); the file is truncated`)
		var fe *Error
		require.ErrorAs(t, err, &fe)
		assert.Equal(t, path, fe.File)
		assert.Equal(t, "lm_head.weight", fe.Tensor)
	})
	t.Run("corrupt header", func(t *testing.T) {
		dir := save(t, cfg.Params())
		path := filepath.Join(dir, SingleFileName)
		f, err := os.OpenFile(path, os.O_WRONLY, 0)
		require.NoError(t, err)
		_, err = f.WriteAt([]byte("garbage"), 20)
		require.NoError(t, err)
		require.NoError(t, f.Close())
		_, err = Load(dir, cfg)
		assert.ErrorContains(t, err, "weights: "+path+": header is not a JSON object")
	})
	t.Run("no checkpoint", func(t *testing.T) {
		dir := t.TempDir()
		_, err := Load(dir, cfg)
		assert.EqualError(t, err, "weights: "+dir+": holds neither model.safetensors nor model.safetensors.index.json: file does not exist")
		assert.ErrorIs(t, err, fs.ErrNotExist)
	})
	t.Run("invalid config", func(t *testing.T) {
		_, err := Load(t.TempDir(), llama.Config{})
		assert.EqualError(t, err, "weights: invalid config: vocab_size must be positive, got 0")
	})
}

func TestReadErrorsAreReported(t *testing.T) {
	// The file shrinks after its header was checked.
	cfg := tinyConfig()
	dir := t.TempDir()
	require.NoError(t, Save(dir, filledStore(cfg.Params()), SaveOptions{}))
	df, err := openDataFile(filepath.Join(dir, SingleFileName))
	require.NoError(t, err)
	defer df.f.Close()
	require.NoError(t, os.Truncate(df.path, df.header.DataStart+10))
	lm := df.header.Tensors[len(df.header.Tensors)-1]
	err = readPieces([]readPiece{{file: df, tensor: lm, offset: df.header.DataStart + lm.Begin, dst: make([]float32, 4)}})
	assert.EqualError(t, err, "weights: "+df.path+`: tensor "lm_head.weight" could not be read: unexpected EOF`)
	assert.ErrorIs(t, err, io.ErrUnexpectedEOF)
}

func TestShardedLoadErrors(t *testing.T) {
	cfg := tinyConfig()
	sharded := func(t *testing.T) string {
		dir := t.TempDir()
		require.NoError(t, Save(dir, filledStore(cfg.Params()), SaveOptions{MaxShardBytes: 2048}))
		return dir
	}
	rewriteIndex := func(t *testing.T, dir string, edit func(map[string]string)) {
		var index map[string]any
		require.NoError(t, json.Unmarshal([]byte(readFile(t, filepath.Join(dir, IndexFileName))), &index))
		wm := map[string]string{}
		for k, v := range index["weight_map"].(map[string]any) {
			wm[k] = v.(string)
		}
		edit(wm)
		index["weight_map"] = wm
		b, err := json.Marshal(index)
		require.NoError(t, err)
		require.NoError(t, os.WriteFile(filepath.Join(dir, IndexFileName), b, 0o644))
	}
	t.Run("missing shard", func(t *testing.T) {
		dir := sharded(t)
		last := filepath.Join(dir, lastShard(t, dir))
		require.NoError(t, os.Remove(last))
		_, err := Load(dir, cfg)
		assert.ErrorContains(t, err, "weights: "+last+": open "+last+": no such file or directory")
	})
	t.Run("truncated shard", func(t *testing.T) {
		dir := sharded(t)
		last := filepath.Join(dir, lastShard(t, dir))
		require.NoError(t, os.Truncate(last, fileSize(t, last)-1))
		_, err := Load(dir, cfg)
		assert.ErrorContains(t, err, "weights: "+last+`: tensor "lm_head.weight" has data_offsets`)
	})
	t.Run("index misplaces a tensor", func(t *testing.T) {
		dir := sharded(t)
		var first string
		rewriteIndex(t, dir, func(wm map[string]string) {
			first = wm["model.embed_tokens.weight"]
			wm["lm_head.weight"] = first
		})
		require.NoError(t, os.Remove(filepath.Join(dir, lastShard(t, dir))))
		_, err := Load(dir, cfg)
		assert.EqualError(t, err, "weights: "+filepath.Join(dir, first)+`: tensor "lm_head.weight" is missing, though model.safetensors.index.json places it in this file`)
	})
	t.Run("index omits a tensor", func(t *testing.T) {
		dir := sharded(t)
		var last string
		rewriteIndex(t, dir, func(wm map[string]string) {
			last = wm["lm_head.weight"]
			for k, v := range wm {
				if v == last {
					delete(wm, k)
				}
			}
		})
		_, err := Load(dir, cfg)
		assert.EqualError(t, err, "weights: "+filepath.Join(dir, IndexFileName)+`: tensor "lm_head.weight" is not in weight_map (config wants shape [32 8]); if the checkpoint ties it to the embedding, set tie_word_embeddings in config.json`)
	})
	t.Run("index escapes the directory", func(t *testing.T) {
		dir := sharded(t)
		rewriteIndex(t, dir, func(wm map[string]string) { wm["lm_head.weight"] = "../x.safetensors" })
		_, err := Load(dir, cfg)
		assert.ErrorContains(t, err, `tensor "lm_head.weight" is mapped to "../x.safetensors", which is not a file inside the checkpoint directory`)
	})
	t.Run("index is not JSON", func(t *testing.T) {
		dir := sharded(t)
		require.NoError(t, os.WriteFile(filepath.Join(dir, IndexFileName), []byte("{"), 0o644))
		_, err := Load(dir, cfg)
		assert.ErrorContains(t, err, IndexFileName+": is not valid index JSON")
	})
	t.Run("tensor in two shards", func(t *testing.T) {
		dir := t.TempDir()
		s := filledStore(cfg.Params())
		require.NoError(t, Save(dir, s, SaveOptions{MaxShardBytes: 2048}))
		dup := NewStore([]llama.Param{{Name: "model.norm.weight", Shape: []int64{8}}})
		writeRaw(t, filepath.Join(dir, shardFileName(1, len(dirNames(t, dir))-1)), dup, func(string) DType { return F32 })
		rewriteIndex(t, dir, func(map[string]string) {})
		_, err := Load(dir, cfg)
		assert.ErrorContains(t, err, `tensor "model.norm.weight" is also in`)
	})
}

func TestLoadSkipsBuffersAndTiedHead(t *testing.T) {
	untied := tinyConfig()
	tied := untied
	tied.TieWordEmbeddings = true
	params := append(untied.Params(), llama.Param{Name: "model.layers.0.self_attn.rotary_emb.inv_freq", Shape: []int64{2}})
	s := filledStore(params)
	dir := t.TempDir()
	require.NoError(t, Save(dir, s, SaveOptions{}))

	got, err := Load(dir, tied)
	require.NoError(t, err)
	assert.Equal(t, tied.Params(), got.Params())
	assert.Equal(t, s.Get("model.norm.weight"), got.Get("model.norm.weight"))

	_, info, err := LoadWithInfo(dir, tied)
	require.NoError(t, err)
	path := filepath.Join(dir, SingleFileName)
	assert.Equal(t, []Skipped{
		{path, "lm_head.weight", "tie_word_embeddings: the LM head is model.embed_tokens.weight"},
		{path, "model.layers.0.self_attn.rotary_emb.inv_freq", "rotary embedding buffer, recomputed from rope_theta"},
	}, info.Skipped)
}

func TestLoadRefusesUnknownTensorsUnlessAsked(t *testing.T) {
	small := tinyConfig()
	big := small
	big.NumHiddenLayers = 3
	s := InitRandom(big, 5)
	dir := t.TempDir()
	require.NoError(t, Save(dir, s, SaveOptions{}))
	path := filepath.Join(dir, SingleFileName)

	_, err := Load(dir, small)
	assert.EqualError(t, err, "weights: "+path+`: tensor "model.layers.2.input_layernorm.weight" is not a parameter of this config (nor are 8 other tensors); check that config.json belongs to this checkpoint, or use LoadWithInfo to skip them`)

	got, info, err := LoadWithInfo(dir, small)
	require.NoError(t, err)
	assert.Len(t, info.Skipped, 9)
	for _, sk := range info.Skipped {
		assert.True(t, strings.HasPrefix(sk.Tensor, "model.layers.2."), sk.Tensor)
		assert.Equal(t, "not a parameter of this config", sk.Reason)
	}
	assert.Equal(t, s.Get("model.layers.1.mlp.down_proj.weight"), got.Get("model.layers.1.mlp.down_proj.weight"))
}

func TestSaveLeavesNoTemporaryFiles(t *testing.T) {
	dir := t.TempDir()
	require.NoError(t, Save(dir, InitRandom(tinyConfig(), 1), SaveOptions{MaxShardBytes: 2048}))
	for _, name := range dirNames(t, dir) {
		assert.False(t, strings.HasPrefix(name, "."), name)
	}
	st, err := os.Stat(filepath.Join(dir, IndexFileName))
	require.NoError(t, err)
	assert.Equal(t, fs.FileMode(0o644), st.Mode().Perm())
}

func TestSaveReportsUnwritableDirectory(t *testing.T) {
	file := filepath.Join(t.TempDir(), "file")
	require.NoError(t, os.WriteFile(file, nil, 0o644))
	err := Save(filepath.Join(file, "sub"), NewStore(tinyConfig().Params()), SaveOptions{})
	assert.ErrorContains(t, err, "not a directory")
}

func shardFileName(k, n int) string { return fmt.Sprintf("model-%05d-of-%05d.safetensors", k, n) }

func lastShard(t *testing.T, dir string) string {
	names := dirNames(t, dir)
	return names[len(names)-2] // the index sorts last
}

func dirNames(t *testing.T, dir string) []string {
	t.Helper()
	entries, err := os.ReadDir(dir)
	require.NoError(t, err)
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	return names
}

func readFile(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	require.NoError(t, err)
	return string(b)
}

func fileSize(t testing.TB, path string) int64 {
	t.Helper()
	st, err := os.Stat(path)
	require.NoError(t, err)
	return st.Size()
}

func headerLen(t *testing.T, path string) int64 {
	t.Helper()
	b := []byte(readFile(t, path))
	require.GreaterOrEqual(t, len(b), 8)
	n := int64(0)
	for i := 7; i >= 0; i-- {
		n = n<<8 | int64(b[i])
	}
	return n
}
