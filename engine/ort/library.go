package ort

import (
	"debug/elf"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"

	ortgo "github.com/yalue/onnxruntime_go"
)

const (
	// libName is the soname dlopen looks up on the system library path.
	libName = "libonnxruntime.so.1"
	// cacheRel is where `make setup` (tools/setup-ort.sh) caches the library, relative to
	// the repository root.
	cacheRel = ".cache/ort/libonnxruntime.so.1"
	// wantVersion is the ONNX Runtime major.minor the binding's C API (version 31) and
	// tools/setup-ort.sh pin; any patch release of it is accepted.
	wantVersion = "1.31"
)

// The four places Init looks for the library, in order; every failure message names them.
const (
	placeFlag   = "--ort-lib flag"
	placeEnv    = "ONNXRUNTIME_LIB"
	placeCache  = "project cache"
	placeSystem = "system library path"
)

// lib is the process-wide ONNX Runtime, set once by a successful Init.
var lib struct {
	sync.Mutex
	path, place, version string
}

// Init loads ONNX Runtime and creates its process-wide environment. Every Session, Tensor
// and ValidateModel call needs it; calling it again, from any goroutine, is a no-op.
//
// libPath is the CLI's --ort-lib flag and may be empty. Init tries, in order: libPath, the
// ONNXRUNTIME_LIB environment variable, .cache/ort/libonnxruntime.so.1 in the working
// directory, the executable's directory or any of their parents (where `make setup` puts
// it), and libonnxruntime.so.1 on the system library path. The first candidate that loads
// and is ONNX Runtime 1.31.x wins. If none does, the error lists what each place held and
// why it failed. A failed Init may be retried.
func Init(libPath string) error {
	lib.Lock()
	defer lib.Unlock()
	if lib.path != "" {
		if libPath != "" && libPath != lib.path {
			return fmt.Errorf("ort: ONNX Runtime is already loaded from %s; cannot switch to %s in the same process", lib.path, libPath)
		}
		return nil
	}
	logLevel, err := logLevelOption()
	if err != nil {
		return fmt.Errorf("ort: %w", err)
	}
	load := func(path string) error { return loadLibrary(path, logLevel) }
	found, err := loadFirst(candidates(libPath, os.Getenv("ONNXRUNTIME_LIB"), searchStarts()), load)
	if err != nil {
		return err
	}
	lib.path, lib.place, lib.version = found.path, found.place, ortgo.GetVersion()
	return nil
}

// Version returns the loaded ONNX Runtime's version, such as "1.31.1", or "" before Init.
func Version() string {
	lib.Lock()
	defer lib.Unlock()
	return lib.version
}

// LibraryPath returns the library Init loaded: a file path, or the bare soname when it came
// from the system library path. It is "" before Init.
func LibraryPath() string {
	lib.Lock()
	defer lib.Unlock()
	return lib.path
}

// loaded returns where the library came from, for messages that must say which one runs.
func loaded() (path, place string) {
	lib.Lock()
	defer lib.Unlock()
	return lib.path, lib.place
}

// candidate is one thing Init may dlopen; a place with nothing to offer has no path and
// says why in absent.
type candidate struct {
	place  string
	path   string
	absent string
}

// candidates lists, in Init's order, what the four places hold. flag and env are the
// --ort-lib and ONNXRUNTIME_LIB values; starts are the directories whose ancestors may hold
// the project cache (the working directory and the executable's directory).
func candidates(flag, env string, starts []string) []candidate {
	var list []candidate
	add := func(place, value string) {
		if value == "" {
			list = append(list, candidate{place: place, absent: "not set"})
			return
		}
		list = append(list, candidate{place: place, path: value})
	}
	add(placeFlag, flag)
	add(placeEnv, env)
	cached := findCached(starts)
	for _, p := range cached {
		list = append(list, candidate{place: placeCache, path: p})
	}
	if len(cached) == 0 {
		list = append(list, candidate{place: placeCache,
			absent: fmt.Sprintf("no %s in %s or their parents", cacheRel, strings.Join(starts, ", "))})
	}
	return append(list, candidate{place: placeSystem, path: libName})
}

// findCached walks up from each start directory and returns the first cached library found
// on each walk, without duplicates.
func findCached(starts []string) []string {
	var found []string
	for _, dir := range starts {
		for {
			p := filepath.Join(dir, cacheRel)
			if info, err := os.Stat(p); err == nil && info.Mode().IsRegular() {
				if !slices.Contains(found, p) {
					found = append(found, p)
				}
				break
			}
			parent := filepath.Dir(dir)
			if parent == dir {
				break
			}
			dir = parent
		}
	}
	return found
}

// searchStarts returns the working directory and the executable's directory, those of the
// two that can be determined.
func searchStarts() []string {
	var starts []string
	if wd, err := os.Getwd(); err == nil {
		starts = append(starts, wd)
	}
	if exe, err := os.Executable(); err == nil {
		if dir := filepath.Dir(exe); !slices.Contains(starts, dir) {
			starts = append(starts, dir)
		}
	}
	return starts
}

// loadFirst tries each candidate with load and returns the first that works, or one error
// that accounts for every place.
func loadFirst(list []candidate, load func(path string) error) (candidate, error) {
	var tried []string
	for _, c := range list {
		if c.path == "" {
			tried = append(tried, fmt.Sprintf("  %s: %s", c.place, c.absent))
			continue
		}
		err := load(c.path)
		if err == nil {
			return c, nil
		}
		msg := err.Error()
		if !strings.Contains(msg, c.path) {
			msg = c.path + ": " + msg
		}
		tried = append(tried, fmt.Sprintf("  %s: %s", c.place, msg))
	}
	return candidate{}, fmt.Errorf("ort: cannot load ONNX Runtime %s.x; tried:\n%s\n"+
		"run `make setup` to fetch it into %s, or pass --ort-lib / set ONNXRUNTIME_LIB to its libonnxruntime.so.1",
		wantVersion, strings.Join(tried, "\n"), cacheRel)
}

// loadLibrary dlopens path and creates the ONNX Runtime environment, undoing both when the
// library is not the pinned version. A file path is checked first, since dlopen crashes the
// process on some corrupt files; errors from dlopen already name the file.
func loadLibrary(path string, logLevel ortgo.EnvironmentOption) error {
	if strings.Contains(path, "/") {
		if err := checkLibraryFile(path); err != nil {
			return err
		}
	}
	ortgo.SetSharedLibraryPath(path)
	if err := ortgo.InitializeEnvironment(logLevel); err != nil {
		msg := strings.TrimPrefix(innermost(err).Error(), `Error loading ONNX shared library "`+path+`": `)
		switch {
		case strings.HasPrefix(msg, "Error looking up OrtGetApiBase"):
			msg = "not ONNX Runtime (no OrtGetApiBase symbol)"
		case msg == "Error setting ORT API base: 2":
			msg = fmt.Sprintf("older than ONNX Runtime %s (no C API version 31)", wantVersion)
		}
		return errors.New(msg)
	}
	if v := ortgo.GetVersion(); !strings.HasPrefix(v, wantVersion+".") {
		if err := ortgo.DestroyEnvironment(); err != nil {
			return fmt.Errorf("ONNX Runtime %s, want %s.x (and unloading it failed: %v)", v, wantVersion, err)
		}
		return fmt.Errorf("ONNX Runtime %s, want %s.x", v, wantVersion)
	}
	return nil
}

// LogEnv names the environment variable that sets ONNX Runtime's own logging: verbose,
// info, warning, error or fatal (the default). Every ORT error also comes back as an
// error from this package, so by default ORT prints only what ends the process.
const LogEnv = "L3M_ORT_LOG"

func logLevelOption() (ortgo.EnvironmentOption, error) {
	switch v := strings.ToLower(os.Getenv(LogEnv)); v {
	case "", "fatal":
		return ortgo.WithLogLevelFatal(), nil
	case "error":
		return ortgo.WithLogLevelError(), nil
	case "warning":
		return ortgo.WithLogLevelWarning(), nil
	case "info":
		return ortgo.WithLogLevelInfo(), nil
	case "verbose":
		return ortgo.WithLogLevelVerbose(), nil
	default:
		return nil, fmt.Errorf("%s=%q: want verbose, info, warning, error or fatal", LogEnv, v)
	}
}

// elfMachines maps GOARCH to the ELF machine a library must be built for.
var elfMachines = map[string]elf.Machine{"amd64": elf.EM_X86_64, "arm64": elf.EM_AARCH64}

// checkLibraryFile rejects what would make dlopen fail badly or load the wrong thing: a file
// that is not a shared library for this machine, one cut short (dlopen maps it and dies of
// SIGBUS on the missing pages), or one without ONNX Runtime's entry point OrtGetApiBase.
func checkLibraryFile(path string) error {
	file, err := os.Open(path)
	if errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("%s: no such file", path)
	}
	if err != nil {
		return err
	}
	defer file.Close()
	info, err := file.Stat()
	if err != nil {
		return err
	}
	var magic [len(elf.ELFMAG)]byte
	if _, err := file.ReadAt(magic[:], 0); err != nil || string(magic[:]) != elf.ELFMAG {
		return fmt.Errorf("%s: not a shared library (no ELF header)", path)
	}
	f, err := elf.NewFile(file)
	if err != nil {
		return fmt.Errorf("%s: truncated or corrupt ELF file (%v); fetch it again", path, err)
	}
	if f.Type != elf.ET_DYN {
		return fmt.Errorf("%s: not a shared library (ELF type %v)", path, f.Type)
	}
	if want, ok := elfMachines[runtime.GOARCH]; ok && f.Machine != want {
		return fmt.Errorf("%s: built for %v, not %s", path, f.Machine, runtime.GOARCH)
	}
	for _, p := range f.Progs {
		if end := p.Off + p.Filesz; p.Type == elf.PT_LOAD && end > uint64(info.Size()) {
			return fmt.Errorf("%s: truncated: a segment ends at byte %d of %d; fetch it again", path, end, info.Size())
		}
	}
	symbols, err := f.DynamicSymbols()
	if err != nil {
		return fmt.Errorf("%s: corrupt symbol table: %v", path, err)
	}
	for _, s := range symbols {
		if s.Name == "OrtGetApiBase" && s.Section != elf.SHN_UNDEF {
			return nil
		}
	}
	return fmt.Errorf("%s: not ONNX Runtime (no OrtGetApiBase symbol)", path)
}

// innermost strips the binding's wrapping ("Error running network: ...") down to the
// message ONNX Runtime or dlopen gave, so ours can name the thing instead.
func innermost(err error) error {
	for {
		inner := errors.Unwrap(err)
		if inner == nil {
			return err
		}
		err = inner
	}
}
