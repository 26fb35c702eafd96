package weights

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"regexp"
)

// SaveOptions controls how Save writes a checkpoint. The zero value writes one F32
// model.safetensors.
type SaveOptions struct {
	// DType is the stored element type: F32 (the default, exact), F16 or BF16 (rounded to
	// nearest, ties to even; F16 turns magnitudes past 65504 into infinities).
	DType DType
	// MaxShardBytes, when positive, splits the data into model-0000K-of-0000N.safetensors
	// files of at most this many tensor bytes each plus model.safetensors.index.json, as
	// transformers' max_shard_size does: tensors stay whole and in store order, and one
	// bigger than the limit gets a shard of its own. A checkpoint that fits in one shard is
	// written as model.safetensors. 0 (the default) always writes one file.
	MaxShardBytes int64
	// Metadata is added to every file's __metadata__, which holds {"format": "pt"} by
	// default so that transformers accepts the file; a "format" key here replaces it.
	Metadata map[string]string
}

// Save writes s to dir as a Hugging Face safetensors checkpoint, creating dir if needed.
// Each file is written to a temporary file in dir, synced and renamed into place, so a
// crash leaves every file either old or new. Save replaces a checkpoint already in dir:
// it removes the files of the other layout (model.safetensors after a sharded save, the
// index after a single-file one) and shards the new index does not list, so that Load
// cannot pick up stale weights. Saving to a fresh directory and renaming it makes a whole
// checkpoint atomic.
func Save(dir string, s *Store, opt SaveOptions) error {
	dtype := opt.DType.orF32()
	if !dtype.writable() {
		return fmt.Errorf("weights: cannot save as dtype %q; use F32, F16 or BF16", opt.DType)
	}
	if opt.MaxShardBytes < 0 {
		return fmt.Errorf("weights: MaxShardBytes must not be negative, got %d", opt.MaxShardBytes)
	}
	metadata := map[string]string{"format": "pt"}
	maps.Copy(metadata, opt.Metadata)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("weights: %w", err)
	}

	shards := planShards(s, dtype, opt.MaxShardBytes)
	keep := map[string]bool{}
	weightMap := map[string]string{}
	var totalSize int64
	for k, shard := range shards {
		name := SingleFileName
		if len(shards) > 1 {
			name = fmt.Sprintf("model-%05d-of-%05d.safetensors", k+1, len(shards))
		}
		keep[name] = true
		for _, t := range shard {
			weightMap[t.Name] = name
			totalSize += t.End - t.Begin
		}
		if err := writeDataFile(filepath.Join(dir, name), s, shard, metadata); err != nil {
			return err
		}
	}
	if len(shards) > 1 {
		index := struct {
			Metadata  map[string]int64  `json:"metadata"`
			WeightMap map[string]string `json:"weight_map"`
		}{map[string]int64{"total_size": totalSize}, weightMap}
		b, err := json.MarshalIndent(index, "", "  ")
		if err != nil {
			return fmt.Errorf("weights: %w", err)
		}
		keep[IndexFileName] = true
		if err := writeAtomic(filepath.Join(dir, IndexFileName), append(b, '\n'), nil); err != nil {
			return err
		}
	}
	if err := removeStale(dir, keep); err != nil {
		return err
	}
	return syncDir(dir)
}

// planShards lays the store's tensors out as dtype in files of at most maxBytes data
// bytes (one file when maxBytes is 0), each tensor's offsets relative to its file.
func planShards(s *Store, dtype DType, maxBytes int64) [][]tensorInfo {
	var shards [][]tensorInfo
	var cur []tensorInfo
	var curBytes int64
	for i, name := range s.names {
		n := int64(s.offsets[i+1]-s.offsets[i]) * int64(dtype.Size())
		if maxBytes > 0 && len(cur) > 0 && curBytes+n > maxBytes {
			shards = append(shards, cur)
			cur, curBytes = nil, 0
		}
		cur = append(cur, tensorInfo{Name: name, DType: dtype, Shape: s.shapes[i], Begin: curBytes, End: curBytes + n})
		curBytes += n
	}
	if len(cur) > 0 || len(shards) == 0 {
		shards = append(shards, cur)
	}
	return shards
}

// writeDataFile writes one safetensors file holding tensors, converting from the store
// one chunk at a time.
func writeDataFile(path string, s *Store, tensors []tensorInfo, metadata map[string]string) error {
	return writeAtomic(path, encodeHeader(tensors, metadata), func(w *bufio.Writer) error {
		buf := make([]byte, chunkBytes)
		for _, t := range tensors {
			size := t.DType.Size()
			step := len(buf) / size
			values := s.Get(t.Name)
			for start := 0; start < len(values); start += step {
				chunk := values[start:min(start+step, len(values))]
				b := buf[:len(chunk)*size]
				encode(b, chunk, t.DType)
				if _, err := w.Write(b); err != nil {
					return err
				}
			}
		}
		return nil
	})
}

// writeAtomic writes head and then whatever body writes to a temporary file next to
// path, syncs it and renames it to path.
func writeAtomic(path string, head []byte, body func(*bufio.Writer) error) (err error) {
	dir, base := filepath.Split(path)
	if dir == "" {
		dir = "."
	}
	f, err := os.CreateTemp(dir, "."+base+".tmp-*")
	if err != nil {
		return &Error{File: path, Err: err}
	}
	defer func() {
		if err != nil {
			f.Close()
			os.Remove(f.Name())
			err = &Error{File: path, Err: err}
		}
	}()
	w := bufio.NewWriterSize(f, 1<<20)
	if _, err := w.Write(head); err != nil {
		return err
	}
	if body != nil {
		if err := body(w); err != nil {
			return err
		}
	}
	if err := w.Flush(); err != nil {
		return err
	}
	if err := f.Chmod(0o644); err != nil {
		return err
	}
	if err := f.Sync(); err != nil {
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	return os.Rename(f.Name(), path)
}

// shardName matches the data files of a sharded Hugging Face checkpoint.
var shardName = regexp.MustCompile(`^model-[0-9]{5}-of-[0-9]{5}\.safetensors$`)

// removeStale deletes checkpoint files in dir that the save just made did not write.
func removeStale(dir string, keep map[string]bool) error {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return fmt.Errorf("weights: %w", err)
	}
	for _, e := range entries {
		name := e.Name()
		stale := name == SingleFileName || name == IndexFileName || shardName.MatchString(name)
		if !stale || keep[name] {
			continue
		}
		if err := os.Remove(filepath.Join(dir, name)); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("weights: removing a stale checkpoint file: %w", err)
		}
	}
	return nil
}

// syncDir makes the renames in dir durable.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("weights: %w", err)
	}
	defer d.Close()
	if err := d.Sync(); err != nil {
		return fmt.Errorf("weights: syncing %s: %w", dir, err)
	}
	return nil
}
