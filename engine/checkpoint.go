package engine

import (
	"bufio"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"math"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/l3m/l3m-engine/engine/weights"
	"github.com/l3m/l3m-engine/graphs/llama"
)

// Checkpoint file names inside a checkpoint directory.
const (
	checkpointPrefix  = "checkpoint-"
	trainerStateFile  = "trainer_state.json"
	optimizerFile     = "optimizer.bin"
	modelConfigFile   = "config.json"
	checkpointTmpMark = ".tmp"
)

// TrainerState is everything besides the weights and optimizer moments that an exact
// resume needs. Method is opaque JSON owned by the method (its data positions,
// multipliers, EMAs).
type TrainerState struct {
	Step          int             `json:"step"`        // optimizer steps completed
	TotalSteps    int             `json:"total_steps"` // planned optimizer steps
	Epoch         int             `json:"epoch"`       // current epoch (0-based)
	RNG           []byte          `json:"rng"`         // trainer RNG (PCG) state, MarshalBinary form
	Method        json.RawMessage `json:"method,omitempty"`
	OptimizerStep int64           `json:"optimizer_step"`
	WeightsSHA256 string          `json:"weights_sha256"`
	OptimSHA256   string          `json:"optimizer_sha256"`
}

// Checkpoint is a loaded checkpoint.
type Checkpoint struct {
	Dir    string
	State  TrainerState
	Params *weights.Store
	M, V   []float32
}

// checkpointName is the directory name of step's checkpoint; it sorts by step.
func checkpointName(step int) string { return fmt.Sprintf("%s%08d", checkpointPrefix, step) }

// writeHook, when set (tests), is called before each checkpoint file is written; an error
// it returns simulates a failed write such as a full disk.
var writeHook func(path string) error

// SaveCheckpoint writes a complete checkpoint of step into out atomically: everything goes
// into a temporary directory that is synced and then renamed to checkpoint-<step>, so a
// crash or a failed write never leaves a directory that --resume would load. extra holds
// files (tokenizer.json, ...) written beside the weights, by name. Older checkpoints beyond
// keep are then removed (keep <= 0 keeps all).
func SaveCheckpoint(out string, cfg llama.Config, params *weights.Store, opt *AdamW, st TrainerState, extra map[string][]byte, keep int) (string, error) {
	final := filepath.Join(out, checkpointName(st.Step))
	tmp := final + checkpointTmpMark
	if err := os.RemoveAll(tmp); err != nil {
		return "", fmt.Errorf("engine: checkpoint: %w", err)
	}
	if err := writeCheckpointFiles(tmp, cfg, params, opt, st, extra); err != nil {
		os.RemoveAll(tmp)
		return "", fmt.Errorf("engine: checkpoint step %d: %w (no checkpoint was written; the previous one is intact)", st.Step, err)
	}
	if _, err := os.Stat(final); err == nil {
		// Re-saving a step (after a resume): move the old one aside first.
		old := final + ".old"
		os.RemoveAll(old)
		if err := os.Rename(final, old); err != nil {
			os.RemoveAll(tmp)
			return "", fmt.Errorf("engine: checkpoint: %w", err)
		}
		defer os.RemoveAll(old)
	}
	if err := os.Rename(tmp, final); err != nil {
		os.RemoveAll(tmp)
		return "", fmt.Errorf("engine: checkpoint: %w", err)
	}
	if err := syncDir(out); err != nil {
		return "", fmt.Errorf("engine: checkpoint: %w", err)
	}
	return final, pruneCheckpoints(out, keep)
}

func writeCheckpointFiles(dir string, cfg llama.Config, params *weights.Store, opt *AdamW, st TrainerState, extra map[string][]byte) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	hook := func(name string) error {
		if writeHook != nil {
			return writeHook(filepath.Join(dir, name))
		}
		return nil
	}
	if err := hook(weights.SingleFileName); err != nil {
		return err
	}
	if err := weights.Save(dir, params, weights.SaveOptions{}); err != nil {
		return err
	}
	if err := hook(optimizerFile); err != nil {
		return err
	}
	sum, err := writeFloats(filepath.Join(dir, optimizerFile), opt.M, opt.V)
	if err != nil {
		return err
	}
	st.OptimSHA256, st.WeightsSHA256, st.OptimizerStep = sum, params.Checksum(), opt.Step
	if err := cfg.Save(filepath.Join(dir, modelConfigFile)); err != nil {
		return err
	}
	for _, name := range slices.Sorted(maps.Keys(extra)) {
		if err := hook(name); err != nil {
			return err
		}
		if err := writeFileSync(filepath.Join(dir, name), extra[name]); err != nil {
			return err
		}
	}
	if err := hook(trainerStateFile); err != nil {
		return err
	}
	b, err := json.MarshalIndent(st, "", "  ")
	if err != nil {
		return err
	}
	if err := writeFileSync(filepath.Join(dir, trainerStateFile), b); err != nil {
		return err
	}
	return syncDir(dir)
}

// writeFloats writes the slices little-endian, synced, and returns their sha256.
func writeFloats(path string, slices ...[]float32) (string, error) {
	f, err := os.Create(path)
	if err != nil {
		return "", err
	}
	h := sha256.New()
	w := bufio.NewWriterSize(io.MultiWriter(f, h), 1<<20)
	var buf [4]byte
	for _, s := range slices {
		for _, x := range s {
			binary.LittleEndian.PutUint32(buf[:], math.Float32bits(x))
			w.Write(buf[:])
		}
	}
	if err := errors.Join(w.Flush(), f.Sync()); err != nil {
		f.Close()
		return "", err
	}
	return hex.EncodeToString(h.Sum(nil)), f.Close()
}

// readFloats fills the slices from path and checks the sha256.
func readFloats(path, wantSHA string, slices ...[]float32) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	h := sha256.New()
	r := bufio.NewReaderSize(io.TeeReader(f, h), 1<<20)
	var buf [4]byte
	for _, s := range slices {
		for i := range s {
			if _, err := io.ReadFull(r, buf[:]); err != nil {
				return fmt.Errorf("%s: %w", path, err)
			}
			s[i] = math.Float32frombits(binary.LittleEndian.Uint32(buf[:]))
		}
	}
	if n, _ := io.Copy(io.Discard, r); n != 0 {
		return fmt.Errorf("%s: %d unexpected trailing bytes", path, n)
	}
	if got := hex.EncodeToString(h.Sum(nil)); got != wantSHA {
		return fmt.Errorf("%s: checksum %s does not match trainer_state.json (%s)", path, got, wantSHA)
	}
	return nil
}

func writeFileSync(path string, b []byte) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if _, err := f.Write(b); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}

// ListCheckpoints returns the complete checkpoints in out, oldest first.
func ListCheckpoints(out string) ([]string, error) {
	entries, err := os.ReadDir(out)
	if err != nil {
		return nil, err
	}
	type cp struct {
		step int
		dir  string
	}
	var cps []cp
	for _, e := range entries {
		name := e.Name()
		if !e.IsDir() || !strings.HasPrefix(name, checkpointPrefix) {
			continue
		}
		step, err := strconv.Atoi(strings.TrimPrefix(name, checkpointPrefix))
		if err != nil { // temporary or moved-aside directories
			continue
		}
		cps = append(cps, cp{step, filepath.Join(out, name)})
	}
	sort.Slice(cps, func(i, j int) bool { return cps[i].step < cps[j].step })
	dirs := make([]string, len(cps))
	for i, c := range cps {
		dirs[i] = c.dir
	}
	return dirs, nil
}

func pruneCheckpoints(out string, keep int) error {
	if keep <= 0 {
		return nil
	}
	dirs, err := ListCheckpoints(out)
	if err != nil {
		return err
	}
	for len(dirs) > keep {
		if err := os.RemoveAll(dirs[0]); err != nil {
			return fmt.Errorf("engine: removing old checkpoint: %w", err)
		}
		dirs = dirs[1:]
	}
	return nil
}

// LoadCheckpoint reads a checkpoint directory and verifies its checksums, so a damaged
// checkpoint is refused rather than resumed from.
func LoadCheckpoint(dir string) (*Checkpoint, llama.Config, error) {
	b, err := os.ReadFile(filepath.Join(dir, trainerStateFile))
	if err != nil {
		return nil, llama.Config{}, fmt.Errorf("engine: resume: %w", err)
	}
	var st TrainerState
	if err := json.Unmarshal(b, &st); err != nil {
		return nil, llama.Config{}, fmt.Errorf("engine: resume: %s: %w", filepath.Join(dir, trainerStateFile), err)
	}
	cfg, err := llama.LoadConfig(filepath.Join(dir, modelConfigFile))
	if err != nil {
		return nil, llama.Config{}, fmt.Errorf("engine: resume: %w", err)
	}
	params, err := weights.Load(dir, cfg)
	if err != nil {
		return nil, llama.Config{}, fmt.Errorf("engine: resume: %w", err)
	}
	if got := params.Checksum(); got != st.WeightsSHA256 {
		return nil, llama.Config{}, fmt.Errorf("engine: resume: %s: weights checksum %s does not match trainer_state.json (%s)", dir, got, st.WeightsSHA256)
	}
	m, v := make([]float32, params.Len()), make([]float32, params.Len())
	if err := readFloats(filepath.Join(dir, optimizerFile), st.OptimSHA256, m, v); err != nil {
		return nil, llama.Config{}, fmt.Errorf("engine: resume: %w", err)
	}
	return &Checkpoint{Dir: dir, State: st, Params: params, M: m, V: v}, cfg, nil
}

// LatestCheckpoint returns the newest complete checkpoint directory in out, or "" if none.
func LatestCheckpoint(out string) (string, error) {
	dirs, err := ListCheckpoints(out)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return "", nil
		}
		return "", err
	}
	if len(dirs) == 0 {
		return "", nil
	}
	return dirs[len(dirs)-1], nil
}
