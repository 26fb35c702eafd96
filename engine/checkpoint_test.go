package engine

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/l3m/l3m-engine/engine/weights"
)

func TestCheckpointRoundTripAndPrune(t *testing.T) {
	cfg := tinyConfig()
	out := t.TempDir()
	params := weights.InitRandom(cfg, 7)
	opt := NewAdamW(params.Len(), AdamWConfig{}, nil)
	for i := range opt.M {
		opt.M[i], opt.V[i] = float32(i)*1e-3, float32(i)*1e-6
	}
	opt.Step = 3
	for step := 1; step <= 4; step++ {
		_, err := SaveCheckpoint(out, cfg, params, opt, TrainerState{Step: step, RNG: []byte{1, 2}, Method: []byte(`{"row":5}`)}, nil, 2)
		require.NoError(t, err)
	}
	dirs, err := ListCheckpoints(out)
	require.NoError(t, err)
	require.Len(t, dirs, 2, "keep 2")
	latest, err := LatestCheckpoint(out)
	require.NoError(t, err)
	require.True(t, strings.HasSuffix(latest, checkpointName(4)))
	cp, gotCfg, err := LoadCheckpoint(latest)
	require.NoError(t, err)
	require.Equal(t, cfg.HiddenSize, gotCfg.HiddenSize)
	require.Equal(t, params.Checksum(), cp.Params.Checksum())
	require.Equal(t, opt.M, cp.M)
	require.Equal(t, opt.V, cp.V)
	require.Equal(t, int64(3), cp.State.OptimizerStep)
	require.JSONEq(t, `{"row":5}`, string(cp.State.Method))
}

// TestCheckpointDiskFull simulates ENOSPC at every file of a checkpoint: the save fails
// with a clear error, no checkpoint directory appears, and the previous one still loads.
func TestCheckpointDiskFull(t *testing.T) {
	cfg := tinyConfig()
	params := weights.InitRandom(cfg, 7)
	opt := NewAdamW(params.Len(), AdamWConfig{}, nil)
	for _, victim := range []string{weights.SingleFileName, optimizerFile, trainerStateFile} {
		t.Run(victim, func(t *testing.T) {
			out := t.TempDir()
			_, err := SaveCheckpoint(out, cfg, params, opt, TrainerState{Step: 1}, nil, 0)
			require.NoError(t, err)
			writeHook = func(path string) error {
				if filepath.Base(path) == victim {
					return &os.PathError{Op: "write", Path: path, Err: syscall.ENOSPC}
				}
				return nil
			}
			defer func() { writeHook = nil }()
			_, err = SaveCheckpoint(out, cfg, params, opt, TrainerState{Step: 2}, nil, 0)
			require.Error(t, err)
			require.True(t, errors.Is(err, syscall.ENOSPC))
			require.Contains(t, err.Error(), "previous one is intact")
			latest, err := LatestCheckpoint(out)
			require.NoError(t, err)
			require.True(t, strings.HasSuffix(latest, checkpointName(1)))
			_, _, err = LoadCheckpoint(latest)
			require.NoError(t, err)
			entries, _ := os.ReadDir(out)
			require.Len(t, entries, 1, "no temporary directory left behind")
		})
	}
}

// TestCheckpointCorruptRefused flips a byte of the optimizer state: resume must refuse it.
func TestCheckpointCorruptRefused(t *testing.T) {
	cfg := tinyConfig()
	out := t.TempDir()
	params := weights.InitRandom(cfg, 7)
	opt := NewAdamW(params.Len(), AdamWConfig{}, nil)
	dir, err := SaveCheckpoint(out, cfg, params, opt, TrainerState{Step: 1}, nil, 0)
	require.NoError(t, err)
	path := filepath.Join(dir, optimizerFile)
	b, err := os.ReadFile(path)
	require.NoError(t, err)
	b[10] ^= 0xff
	require.NoError(t, os.WriteFile(path, b, 0o644))
	_, _, err = LoadCheckpoint(dir)
	require.ErrorContains(t, err, "checksum")
}
