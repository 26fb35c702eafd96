package ort

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestParseDevice(t *testing.T) {
	for in, want := range map[string]Device{
		"": {}, "cpu": {}, "cuda": {CUDA: true}, "cuda:0": {CUDA: true}, "cuda:3": {CUDA: true, ID: 3},
	} {
		got, err := ParseDevice(in)
		require.NoError(t, err, in)
		assert.Equal(t, want, got, in)
	}
	for _, bad := range []string{"gpu", "CUDA", "cuda:", "cuda:-1", "cuda:x", "cpu:0", " cpu"} {
		_, err := ParseDevice(bad)
		assert.EqualError(t, err, `ort: device "`+bad+`": want cpu, cuda or cuda:N with N a GPU number >= 0`)
	}
	assert.Equal(t, "cuda:2", Device{CUDA: true, ID: 2}.String())
	assert.Equal(t, "cpu", Device{}.String())
}

func TestOptionsAreApplied(t *testing.T) {
	requireInit(t)
	model, err := singleNodeModel("Add",
		[]IOInfo{{"x", ElemInt64, []int64{2}}, {"y", ElemInt64, []int64{2}}},
		[]IOInfo{{"z", ElemInt64, []int64{2}}})
	require.NoError(t, err)
	x := newTestTensor(t, []int64{2}, []int64{1, 2})
	z := newTestTensor(t, []int64{2}, make([]int64, 2))
	for _, level := range []string{"", "all", "extended", "basic", "disable"} {
		for _, spin := range []bool{false, true} {
			s, err := NewSession("add_int64", model, Options{Device: "cpu", Threads: 2, OptLevel: level, AllowSpinning: spin})
			require.NoError(t, err, "OptLevel %q, AllowSpinning %v", level, spin)
			require.NoError(t, s.Run([]Value{x, x}, []Value{z}))
			assert.Equal(t, []int64{2, 4}, z.Data())
			require.NoError(t, s.Close())
		}
	}
}

func TestOptionsErrors(t *testing.T) {
	requireInit(t)
	model, err := singleNodeModel("Identity", []IOInfo{{"x", ElemFloat32, []int64{1}}}, []IOInfo{{"y", ElemFloat32, []int64{1}}})
	require.NoError(t, err)
	for opts, want := range map[Options]string{
		{Device: "tpu"}:   `ort: load m: device "tpu": want cpu, cuda or cuda:N with N a GPU number >= 0`,
		{OptLevel: "max"}: `ort: load m: OptLevel "max": want all, extended, basic or disable`,
		{Threads: -1}:     `ort: load m: Threads -1: want 0 (ONNX Runtime's default) or more`,
	} {
		_, err := NewSession("m", model, opts)
		assert.EqualError(t, err, want)
	}
}

// TestCUDAWithoutProvider asks the CPU-only build for CUDA and checks the error says what is
// missing and how to get it.
func TestCUDAWithoutProvider(t *testing.T) {
	requireInit(t)
	path, place := loaded()
	if provider := filepath.Join(filepath.Dir(path), cudaProviderLib); place != placeSystem {
		if _, err := os.Stat(provider); err == nil {
			t.Skipf("%s is present: this ONNX Runtime has the CUDA provider, so there is no missing-provider error to check", provider)
		}
	} else {
		t.Skipf("ONNX Runtime came from the system library path; cannot tell whether %s is beside it", cudaProviderLib)
	}
	model, err := singleNodeModel("Identity", []IOInfo{{"x", ElemFloat32, []int64{1}}}, []IOInfo{{"y", ElemFloat32, []int64{1}}})
	require.NoError(t, err)
	for device, name := range map[string]string{"cuda": "cuda:0", "cuda:1": "cuda:1"} {
		_, err = NewSession("m", model, Options{Device: device})
		require.Error(t, err)
		for _, want := range []string{
			"ort: load m: device " + name + ": CUDA EP library libonnxruntime_providers_cuda.so was not found next to " + path,
			"set ONNXRUNTIME_LIB", "GPU build of ONNX Runtime 1.31.x",
		} {
			assert.Contains(t, err.Error(), want)
		}
	}
}
