package weights

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/l3m/l3m-engine/graphs/llama"
)

// File names Hugging Face gives a checkpoint's weights.
const (
	SingleFileName = "model.safetensors"
	IndexFileName  = "model.safetensors.index.json"
)

// chunkBytes bounds the bytes each worker converts at once, loading or saving, whatever
// the tensor size.
const chunkBytes = 4 << 20

// LoadInfo describes the checkpoint LoadWithInfo read.
type LoadInfo struct {
	Files    []string          // the data files read, by path, in name order
	Metadata map[string]string // __metadata__ of the first data file
	DType    DType             // the dtype the parameters were stored in; "" when they mix dtypes
	Skipped  []Skipped         // tensors in the checkpoint that were not loaded, by file and name
}

// Skipped is a checkpoint tensor that was not loaded, and why.
type Skipped struct {
	File   string // path of the file holding it
	Tensor string
	Reason string
}

// Load reads the parameters cfg lists from the Hugging Face checkpoint in dir, converting
// them to float32. It refuses a checkpoint holding tensors cfg does not name, other than
// rotary-embedding buffers and a tied LM head: such tensors mean the config does not
// describe the checkpoint (more layers, biases, another architecture). LoadWithInfo loads
// such a checkpoint anyway and lists what it skipped.
func Load(dir string, cfg llama.Config) (*Store, error) {
	s, _, err := load(dir, cfg, false)
	return s, err
}

// LoadWithInfo is Load that skips tensors cfg does not name instead of failing, and
// reports them with the files, metadata and dtype it found.
func LoadWithInfo(dir string, cfg llama.Config) (*Store, LoadInfo, error) {
	return load(dir, cfg, true)
}

// location is where a tensor's bytes are: a tensor of an open data file.
type location struct {
	file   *dataFile
	tensor tensorInfo
}

// dataFile is an open safetensors file and its checked header.
type dataFile struct {
	path   string
	f      *os.File
	header *header
}

func load(dir string, cfg llama.Config, skipUnknown bool) (*Store, LoadInfo, error) {
	if err := cfg.Validate(); err != nil {
		return nil, LoadInfo{}, fmt.Errorf("weights: invalid config: %w", err)
	}
	names, weightMap, err := checkpointFiles(dir)
	if err != nil {
		return nil, LoadInfo{}, err
	}
	var files []*dataFile
	defer func() {
		for _, df := range files {
			df.f.Close()
		}
	}()
	found := map[string]location{}
	for _, name := range names {
		df, err := openDataFile(filepath.Join(dir, name))
		if err != nil {
			return nil, LoadInfo{}, err
		}
		files = append(files, df)
		for _, t := range df.header.Tensors {
			if prev, dup := found[t.Name]; dup {
				return nil, LoadInfo{}, &Error{File: df.path, Tensor: t.Name, Err: fmt.Errorf("is also in %s; the checkpoint is inconsistent", prev.file.path)}
			}
			found[t.Name] = location{df, t}
		}
	}

	params := cfg.Params()
	info := LoadInfo{Metadata: files[0].header.Metadata}
	for _, df := range files {
		info.Files = append(info.Files, df.path)
	}
	wanted := make(map[string]bool, len(params))
	for i, p := range params {
		wanted[p.Name] = true
		loc, ok := found[p.Name]
		if !ok {
			return nil, LoadInfo{}, missingError(dir, names, weightMap, p, cfg)
		}
		t := loc.tensor
		if !slices.Equal(t.Shape, p.Shape) {
			return nil, LoadInfo{}, &Error{File: loc.file.path, Tensor: p.Name, Err: fmt.Errorf("has shape %v, config wants %v", t.Shape, p.Shape)}
		}
		if !t.DType.readable() {
			return nil, LoadInfo{}, &Error{File: loc.file.path, Tensor: p.Name, Err: fmt.Errorf("has dtype %s; weights reads F32, F16, BF16 and F64", t.DType)}
		}
		if i == 0 {
			info.DType = t.DType
		} else if info.DType != t.DType {
			info.DType = ""
		}
	}
	var unknown []Skipped
	for _, df := range files {
		for _, t := range df.header.Tensors {
			if wanted[t.Name] {
				continue
			}
			reason, known := skipReason(t.Name, cfg)
			sk := Skipped{File: df.path, Tensor: t.Name, Reason: reason}
			info.Skipped = append(info.Skipped, sk)
			if !known {
				unknown = append(unknown, sk)
			}
		}
	}
	slices.SortFunc(info.Skipped, func(a, b Skipped) int {
		return strings.Compare(a.File+"\x00"+a.Tensor, b.File+"\x00"+b.Tensor)
	})
	if len(unknown) > 0 && !skipUnknown {
		more := ""
		if len(unknown) > 1 {
			more = fmt.Sprintf(" (nor are %d other tensors)", len(unknown)-1)
		}
		return nil, LoadInfo{}, &Error{File: unknown[0].File, Tensor: unknown[0].Tensor, Err: fmt.Errorf(
			"is not a parameter of this config%s; check that config.json belongs to this checkpoint, or use LoadWithInfo to skip them", more)}
	}

	s := NewStore(params)
	var pieces []readPiece
	for _, p := range params {
		loc := found[p.Name]
		size := loc.tensor.DType.Size()
		step := chunkBytes / size
		dst := s.Get(p.Name)
		for start := 0; start < len(dst); start += step {
			end := min(start+step, len(dst))
			pieces = append(pieces, readPiece{
				file:   loc.file,
				tensor: loc.tensor,
				offset: loc.file.header.DataStart + loc.tensor.Begin + int64(start*size),
				dst:    dst[start:end],
			})
		}
	}
	if err := readPieces(pieces); err != nil {
		return nil, LoadInfo{}, err
	}
	return s, info, nil
}

// checkpointFiles lists the data files of the checkpoint in dir, preferring
// model.safetensors to a sharded index as transformers does. weightMap is the index's
// tensor-to-file map, nil for a single file.
func checkpointFiles(dir string) (names []string, weightMap map[string]string, err error) {
	single := filepath.Join(dir, SingleFileName)
	if _, err := os.Stat(single); err == nil {
		return []string{SingleFileName}, nil, nil
	} else if !errors.Is(err, fs.ErrNotExist) {
		return nil, nil, &Error{File: single, Err: err}
	}
	indexPath := filepath.Join(dir, IndexFileName)
	b, err := os.ReadFile(indexPath)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil, &Error{File: dir, Err: fmt.Errorf("holds neither %s nor %s: %w", SingleFileName, IndexFileName, fs.ErrNotExist)}
	}
	if err != nil {
		return nil, nil, &Error{File: indexPath, Err: err}
	}
	var index struct {
		WeightMap map[string]string `json:"weight_map"`
	}
	if err := json.Unmarshal(b, &index); err != nil {
		return nil, nil, &Error{File: indexPath, Err: fmt.Errorf("is not valid index JSON: %v", err)}
	}
	if len(index.WeightMap) == 0 {
		return nil, nil, &Error{File: indexPath, Err: errors.New(`has no "weight_map" entries`)}
	}
	seen := map[string]bool{}
	for tensor, file := range index.WeightMap {
		if !filepath.IsLocal(file) {
			return nil, nil, &Error{File: indexPath, Tensor: tensor, Err: fmt.Errorf("is mapped to %q, which is not a file inside the checkpoint directory", file)}
		}
		if !seen[file] {
			seen[file] = true
			names = append(names, file)
		}
	}
	slices.Sort(names)
	return names, index.WeightMap, nil
}

func openDataFile(path string) (*dataFile, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, &Error{File: path, Err: err}
	}
	st, err := f.Stat()
	if err == nil && !st.Mode().IsRegular() {
		err = errors.New("is not a regular file")
	}
	var h *header
	if err == nil {
		h, err = readHeader(f, st.Size())
	}
	if err != nil {
		f.Close()
		return nil, fileError(path, err)
	}
	return &dataFile{path: path, f: f, header: h}, nil
}

// missingError says where a parameter should have been and was not.
func missingError(dir string, names []string, weightMap map[string]string, p llama.Param, cfg llama.Config) error {
	hint := ""
	if p.Name == "lm_head.weight" && !cfg.TieWordEmbeddings {
		hint = "; if the checkpoint ties it to the embedding, set tie_word_embeddings in config.json"
	}
	if weightMap == nil {
		return &Error{File: filepath.Join(dir, names[0]), Tensor: p.Name, Err: fmt.Errorf("is missing (config wants shape %v)%s", p.Shape, hint)}
	}
	file, listed := weightMap[p.Name]
	if !listed {
		return &Error{File: filepath.Join(dir, IndexFileName), Tensor: p.Name, Err: fmt.Errorf("is not in weight_map (config wants shape %v)%s", p.Shape, hint)}
	}
	return &Error{File: filepath.Join(dir, file), Tensor: p.Name, Err: fmt.Errorf("is missing, though %s places it in this file", IndexFileName)}
}

// skipReason says why a tensor cfg does not name is in the checkpoint; known is false
// when no harmless explanation fits.
func skipReason(name string, cfg llama.Config) (reason string, known bool) {
	switch {
	case strings.HasSuffix(name, "rotary_emb.inv_freq"),
		strings.HasSuffix(name, "rotary_emb.cos_cached"),
		strings.HasSuffix(name, "rotary_emb.sin_cached"):
		return "rotary embedding buffer, recomputed from rope_theta", true
	case name == "lm_head.weight" && cfg.TieWordEmbeddings:
		return "tie_word_embeddings: the LM head is model.embed_tokens.weight", true
	}
	return "not a parameter of this config", false
}

// readPiece is a run of one tensor's elements, at most chunkBytes of file data.
type readPiece struct {
	file   *dataFile
	tensor tensorInfo
	offset int64 // file offset of the first element
	dst    []float32
}

// readPieces reads and converts pieces on GOMAXPROCS workers, each holding one
// chunkBytes buffer. It returns the error of the first failing piece in order.
func readPieces(pieces []readPiece) error {
	errs := make([]error, len(pieces))
	var next atomic.Int64
	var failed atomic.Bool
	var wg sync.WaitGroup
	for range min(runtime.GOMAXPROCS(0), len(pieces)) {
		wg.Go(func() {
			buf := make([]byte, chunkBytes)
			for !failed.Load() {
				i := int(next.Add(1) - 1)
				if i >= len(pieces) {
					return
				}
				p := pieces[i]
				b := buf[:len(p.dst)*p.tensor.DType.Size()]
				if n, err := p.file.f.ReadAt(b, p.offset); n < len(b) {
					if err == io.EOF || err == nil {
						err = io.ErrUnexpectedEOF
					}
					errs[i] = &Error{File: p.file.path, Tensor: p.tensor.Name, Err: fmt.Errorf("could not be read: %w", err)}
					failed.Store(true)
					return
				}
				decode(p.dst, b, p.tensor.DType)
			}
		})
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}
