package benchutil

import (
	"fmt"
	"os"
	"runtime"
	"runtime/debug"
	"strconv"
	"strings"
)

// ResetPeakRSS returns freed memory to the system and starts a fresh high-water mark, so
// that PeakRSSMB measures what runs next and not what came before, such as generating a
// file. It needs Linux 4.0 or later; where it fails, the peak stays the process's and the
// error says so.
func ResetPeakRSS() error {
	runtime.GC()
	debug.FreeOSMemory()
	if err := os.WriteFile("/proc/self/clear_refs", []byte("5"), 0); err != nil {
		return fmt.Errorf("benchutil: cannot reset the peak RSS, so it includes what ran before: %w", err)
	}
	return nil
}

// PeakRSSMB is the peak resident set size (VmHWM) since the process started or since
// ResetPeakRSS, in MiB; 0 where /proc/self/status cannot tell.
func PeakRSSMB() float64 { return procStatusMB("VmHWM") }

// RSSMB is the resident set size now (VmRSS), in MiB; 0 where /proc/self/status cannot
// tell.
func RSSMB() float64 { return procStatusMB("VmRSS") }

// procStatusMB reads a field of /proc/self/status given in kB, such as "VmHWM:  1024 kB",
// in MiB.
func procStatusMB(field string) float64 {
	status, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for line := range strings.Lines(string(status)) {
		value, ok := strings.CutPrefix(line, field+":")
		if !ok {
			continue
		}
		kb, err := strconv.ParseFloat(strings.TrimSuffix(strings.TrimSpace(value), " kB"), 64)
		if err != nil {
			return 0
		}
		return kb / 1024
	}
	return 0
}
