// Package benchutil holds what the project's benchmarks share: the size of the files they
// generate, the process's resident set size, and a generator of UltraChat-style Parquet
// files.
//
// # Sizes
//
// BenchBytes reads L3M_BENCH_BYTES, so that one benchmark can be run at 64M and at 1G
// and the two compared.
//
// # Memory
//
// ResetPeakRSS, PeakRSSMB and RSSMB read /proc/self/status (Linux). Elsewhere the
// readings are 0 and the peak cannot be reset.
//
// # Data
//
// WriteUltraChatParquet writes a file of any size in flat memory, from the words that
// Words takes from a committed dataset.
//
// The package imports only Arrow and the standard library, so that the benchmarks of any
// package, data included, can use it without an import cycle.
package benchutil
