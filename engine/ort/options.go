package ort

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	ortgo "github.com/yalue/onnxruntime_go"
)

// cudaProviderLib is the CUDA execution provider, which ONNX Runtime loads from the
// directory of libonnxruntime.so.1. The npm build `make setup` fetches does not ship it.
const cudaProviderLib = "libonnxruntime_providers_cuda.so"

// Options configures a Session. The zero value runs on the CPU with ONNX Runtime's default
// thread count, every graph optimization and sleeping (not spinning) worker threads.
type Options struct {
	// Device is "cpu" (the default, also ""), "cuda" (GPU 0) or "cuda:N" (GPU N).
	Device string
	// Threads is the intra-op thread count; 0 (the default) lets ONNX Runtime pick one
	// thread per physical core.
	Threads int
	// OptLevel is the graph optimization level: "all" (the default, also ""), "extended",
	// "basic" or "disable".
	OptLevel string
	// AllowSpinning lets idle intra-op threads busy-wait for the next op. The default, false,
	// lets them sleep: a little latency per op, but the cores go back to Go between Runs.
	AllowSpinning bool
}

// ProfileEnv names the environment variable that turns on ONNX Runtime's profiler: every
// session then writes a Chrome-trace JSON of each node's run times to PREFIX_<date>.json
// when it closes (for finding where a step's time goes; it slows the runs a little).
const ProfileEnv = "L3M_ORT_PROFILE"

// Device is a parsed Options.Device.
type Device struct {
	// CUDA is false for the CPU.
	CUDA bool
	// ID is the CUDA device ordinal; 0 for the CPU.
	ID int
}

// String returns the canonical form: "cpu" or "cuda:N".
func (d Device) String() string {
	if !d.CUDA {
		return "cpu"
	}
	return "cuda:" + strconv.Itoa(d.ID)
}

// ParseDevice parses an Options.Device string.
func ParseDevice(s string) (Device, error) {
	d, err := parseDevice(s)
	if err != nil {
		return Device{}, fmt.Errorf("ort: %w", err)
	}
	return d, nil
}

func parseDevice(s string) (Device, error) {
	switch s {
	case "", "cpu":
		return Device{}, nil
	case "cuda":
		return Device{CUDA: true}, nil
	}
	if idText, ok := strings.CutPrefix(s, "cuda:"); ok {
		if id, err := strconv.Atoi(idText); err == nil && id >= 0 {
			return Device{CUDA: true, ID: id}, nil
		}
	}
	return Device{}, fmt.Errorf("device %q: want cpu, cuda or cuda:N with N a GPU number >= 0", s)
}

var optLevels = map[string]ortgo.GraphOptimizationLevel{
	"":         ortgo.GraphOptimizationLevelEnableAll,
	"all":      ortgo.GraphOptimizationLevelEnableAll,
	"extended": ortgo.GraphOptimizationLevelEnableExtended,
	"basic":    ortgo.GraphOptimizationLevelEnableBasic,
	"disable":  ortgo.GraphOptimizationLevelDisableAll,
}

// sessionOptions checks opts and turns them into ONNX Runtime's; the caller destroys the
// result.
func sessionOptions(opts Options) (*ortgo.SessionOptions, error) {
	device, err := parseDevice(opts.Device)
	if err != nil {
		return nil, err
	}
	level, ok := optLevels[opts.OptLevel]
	if !ok {
		return nil, fmt.Errorf("OptLevel %q: want all, extended, basic or disable", opts.OptLevel)
	}
	if opts.Threads < 0 {
		return nil, fmt.Errorf("Threads %d: want 0 (ONNX Runtime's default) or more", opts.Threads)
	}
	so, err := ortgo.NewSessionOptions()
	if err != nil {
		return nil, fmt.Errorf("session options: %w", err)
	}
	spinning := "0"
	if opts.AllowSpinning {
		spinning = "1"
	}
	err = so.SetIntraOpNumThreads(opts.Threads)
	if err == nil {
		err = so.SetGraphOptimizationLevel(level)
	}
	if err == nil {
		err = so.AddSessionConfigEntry("session.intra_op.allow_spinning", spinning)
	}
	if prefix := os.Getenv(ProfileEnv); err == nil && prefix != "" {
		err = so.EnableProfiling(prefix)
	}
	if err == nil && device.CUDA {
		err = appendCUDA(so, device)
	}
	if err != nil {
		so.Destroy()
		return nil, err
	}
	return so, nil
}

// appendCUDA adds the CUDA execution provider for device. It first looks for the provider
// library beside the loaded ONNX Runtime, because a CPU-only build otherwise fails deep in
// ONNX Runtime with a message about libonnxruntime_providers_shared.so.
func appendCUDA(so *ortgo.SessionOptions, device Device) error {
	path, place := loaded()
	howTo := fmt.Sprintf("set ONNXRUNTIME_LIB (or --ort-lib) to libonnxruntime.so.1 of a GPU build of ONNX Runtime %s.x, "+
		"with %s beside it, or use device cpu", wantVersion, cudaProviderLib)
	if place != placeSystem {
		provider := filepath.Join(filepath.Dir(path), cudaProviderLib)
		if _, err := os.Stat(provider); err != nil {
			return fmt.Errorf("device %s: CUDA EP library %s was not found next to %s (found via %s); "+
				"that ONNX Runtime build is CPU-only: %s", device, cudaProviderLib, path, place, howTo)
		}
	}
	cuda, err := ortgo.NewCUDAProviderOptions()
	if err == nil {
		defer cuda.Destroy()
		err = cuda.Update(map[string]string{"device_id": strconv.Itoa(device.ID)})
	}
	if err == nil {
		err = so.AppendExecutionProviderCUDA(cuda)
	}
	if err != nil {
		return fmt.Errorf("device %s: enable the CUDA execution provider of %s: %v; %s", device, path, err, howTo)
	}
	return nil
}
