package benchutil

import (
	"fmt"
	"math"
	"os"
	"strconv"
	"strings"
)

// BenchBytesEnv names the variable that sets the size of a benchmark's generated file.
const BenchBytesEnv = "L3M_BENCH_BYTES"

// BenchBytes is the size of a benchmark's generated file: L3M_BENCH_BYTES as ParseBytes
// reads it, or def where it is unset or blank.
func BenchBytes(def int64) (int64, error) {
	env := os.Getenv(BenchBytesEnv)
	if strings.TrimSpace(env) == "" {
		return def, nil
	}
	n, err := ParseBytes(env)
	if err != nil {
		return 0, fmt.Errorf("benchutil: %s: %w", BenchBytesEnv, err)
	}
	return n, nil
}

// ParseBytes reads a positive size in bytes, or with a K, M or G suffix in either case
// for a power of 1024: "67108864", "64M" and "64m" are all 64 MiB.
func ParseBytes(s string) (int64, error) {
	digits := strings.ToUpper(strings.TrimSpace(s))
	shift := 0
	switch {
	case strings.HasSuffix(digits, "K"):
		shift = 10
	case strings.HasSuffix(digits, "M"):
		shift = 20
	case strings.HasSuffix(digits, "G"):
		shift = 30
	}
	if shift > 0 {
		digits = digits[:len(digits)-1]
	}
	n, err := strconv.ParseInt(digits, 10, 64)
	if err != nil || n <= 0 || n > math.MaxInt64>>shift {
		return 0, fmt.Errorf("%q is not a size; want bytes or a K, M or G suffix, such as 67108864, 64M or 1G", s)
	}
	return n << shift, nil
}
