package ort

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestInitIsIdempotent(t *testing.T) {
	requireInit(t)
	var wg sync.WaitGroup
	errs := make([]error, 8)
	for i := range errs {
		wg.Go(func() { errs[i] = Init("") })
	}
	wg.Wait()
	for _, err := range errs {
		assert.NoError(t, err)
	}
	assert.True(t, strings.HasPrefix(Version(), wantVersion+"."), "version %q", Version())
	assert.NotEmpty(t, LibraryPath())
	assert.NoError(t, Init(LibraryPath()))
	err := Init("/elsewhere/libonnxruntime.so.1")
	require.Error(t, err)
	assert.Contains(t, err.Error(), "already loaded from "+LibraryPath())
}

func TestCandidates(t *testing.T) {
	repo := t.TempDir()
	cached := filepath.Join(repo, cacheRel)
	require.NoError(t, os.MkdirAll(filepath.Dir(cached), 0o755))
	require.NoError(t, os.WriteFile(cached, nil, 0o644))
	deep := filepath.Join(repo, "cmd", "tool")
	require.NoError(t, os.MkdirAll(deep, 0o755))
	elsewhere := t.TempDir()

	tests := []struct {
		name      string
		flag, env string
		starts    []string
		want      []candidate
	}{
		{"all places", "/flag/lib.so", "/env/lib.so", []string{deep, elsewhere}, []candidate{
			{place: placeFlag, path: "/flag/lib.so"},
			{place: placeEnv, path: "/env/lib.so"},
			{place: placeCache, path: cached},
			{place: placeSystem, path: libName},
		}},
		{"cache found from both starts once", "", "", []string{deep, repo}, []candidate{
			{place: placeFlag, absent: "not set"},
			{place: placeEnv, absent: "not set"},
			{place: placeCache, path: cached},
			{place: placeSystem, path: libName},
		}},
		{"no cache", "", "/env/lib.so", []string{elsewhere}, []candidate{
			{place: placeFlag, absent: "not set"},
			{place: placeEnv, path: "/env/lib.so"},
			{place: placeCache, absent: "no " + cacheRel + " in " + elsewhere + " or their parents"},
			{place: placeSystem, path: libName},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.Equal(t, tt.want, candidates(tt.flag, tt.env, tt.starts))
		})
	}
}

func TestLoadFirst(t *testing.T) {
	list := candidates("/flag/lib.so", "", []string{t.TempDir()})
	var tried []string
	failing := func(path string) error {
		tried = append(tried, path)
		return errors.New("cannot open")
	}
	_, err := loadFirst(list, failing)
	require.Error(t, err)
	assert.Equal(t, []string{"/flag/lib.so", libName}, tried, "absent places are not loaded")
	for _, want := range []string{
		placeFlag + ": /flag/lib.so: cannot open",
		placeEnv + ": not set",
		placeCache + ": no " + cacheRel,
		placeSystem + ": " + libName + ": cannot open",
		"run `make setup`",
	} {
		assert.Contains(t, err.Error(), want)
	}

	succeedOnSystem := func(path string) error {
		if path == libName {
			return nil
		}
		return errors.New("no")
	}
	found, err := loadFirst(list, succeedOnSystem)
	require.NoError(t, err)
	assert.Equal(t, candidate{place: placeSystem, path: libName}, found)
}

// initHelperEnv makes the test binary, run by TestInitReportsBadLibraries, call Init with
// the variable's value as --ort-lib and print the error.
const initHelperEnv = "L3M_ORT_INIT_HELPER_FLAG"

func TestInitHelperProcess(t *testing.T) {
	flag, ok := os.LookupEnv(initHelperEnv)
	if !ok {
		t.Skip("runs only as TestInitReportsBadLibraries' subprocess")
	}
	if err := Init(flag); err != nil {
		os.Stdout.WriteString(err.Error() + "\n")
		return
	}
	os.Stdout.WriteString("LOADED " + LibraryPath() + "\n")
}

// TestInitReportsBadLibraries runs Init in fresh processes (Init is once per process) where
// every place holds something broken: a missing file, a text file, a truncated copy of the
// real library, a shared library that is not ONNX Runtime.
func TestInitReportsBadLibraries(t *testing.T) {
	requireInit(t)
	dir := t.TempDir()
	missing := filepath.Join(dir, "missing", "libonnxruntime.so.1")
	text := filepath.Join(dir, "libonnxruntime.so")
	require.NoError(t, os.WriteFile(text, []byte(strings.Repeat("not a shared library\n", 200)), 0o644))
	truncated := filepath.Join(dir, cacheRel)
	real, err := os.ReadFile(LibraryPath())
	require.NoError(t, err)
	require.NoError(t, os.MkdirAll(filepath.Dir(truncated), 0o755))
	require.NoError(t, os.WriteFile(truncated, real[:len(real)/8], 0o644))

	tests := []struct {
		name      string
		flag, env string
		logLevel  string
		want      []string
	}{
		{"missing, text, truncated", missing, text, "", []string{
			placeFlag + ": " + missing + ": no such file",
			placeEnv + ": " + text + ": not a shared library (no ELF header)",
			placeCache + ": " + truncated + ": truncated or corrupt ELF file",
		}},
		{"bad log level", LibraryPath(), "", "loud", []string{`ort: L3M_ORT_LOG="loud": want verbose, info, warning, error or fatal`}},
		{"not onnxruntime", "libm.so.6", "", "", []string{
			placeFlag + ": libm.so.6: not ONNX Runtime (no OrtGetApiBase symbol)",
			placeEnv + ": not set",
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cmd := exec.Command(os.Args[0], "-test.run=^TestInitHelperProcess$")
			cmd.Dir = dir
			cmd.Env = append(os.Environ(), initHelperEnv+"="+tt.flag, "ONNXRUNTIME_LIB="+tt.env, LogEnv+"="+tt.logLevel)
			out, err := cmd.CombinedOutput()
			require.NoError(t, err, "helper process: %s", out)
			msg := string(out)
			if strings.HasPrefix(msg, "LOADED ") {
				t.Skipf("a library outside the project loaded (%s); cannot provoke the error", msg)
			}
			if tt.logLevel != "" {
				assert.True(t, strings.HasPrefix(msg, tt.want[0]+"\n"), "got %q", msg)
				return
			}
			for _, want := range append(tt.want, placeSystem+": "+libName+": ", "run `make setup`") {
				assert.Contains(t, msg, want)
			}
			t.Logf("Init's error:\n%s", msg)
		})
	}
}
