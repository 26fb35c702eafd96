package ort

import (
	"errors"
	"fmt"
	"time"
)

// BenchThreads is the intra-op thread count of BenchmarkMatMulPeak. Benchmarks elsewhere in
// the engine use it too, so their GFLOP/s compare with the peak measured in the same run.
// It is 2, not runtime.NumCPU(), so numbers from the 2-core CI machines and from larger
// workstations mean the same thing.
const BenchThreads = 2

// PeakMatMulSize is the matrix size of BenchmarkMatMulPeak: 2048, big enough that the
// MatMul kernel, not the Run overhead, sets the time.
const PeakMatMulSize = 2048

// peakRuns is how many timed Runs MeasureMatMulPeak takes the best of.
const peakRuns = 5

// MeasureMatMulPeak returns the fp32 GFLOP/s ONNX Runtime reaches on the CPU multiplying two
// n×n matrices with the given intra-op thread count (0: ONNX Runtime's default): the fastest
// of a few Runs after a warm-up. It is the ceiling an engine graph can approach on this
// machine, so other benchmarks report their throughput against it. It calls Init("") first.
func MeasureMatMulPeak(threads, n int) (gflops float64, err error) {
	if err := Init(""); err != nil {
		return 0, err
	}
	mm, err := newMatMul(threads, n)
	if err != nil {
		return 0, err
	}
	defer mm.close()
	if err := mm.run(); err != nil {
		return 0, err
	}
	best := time.Duration(0)
	for range peakRuns {
		start := time.Now()
		if err := mm.run(); err != nil {
			return 0, err
		}
		if took := time.Since(start); best == 0 || took < best {
			best = took
		}
	}
	return mm.flops() / best.Seconds() / 1e9, nil
}

// matMul is a loaded n×n MatMul session with its tensors, ready to run.
type matMul struct {
	n       int
	session *Session
	tensors []*Tensor[float32] // a, b, c
}

func newMatMul(threads, n int) (*matMul, error) {
	if n <= 0 {
		return nil, fmt.Errorf("ort: matmul size %d: want > 0", n)
	}
	dims := []int64{int64(n), int64(n)}
	model, err := singleNodeModel("MatMul",
		[]IOInfo{{"a", ElemFloat32, dims}, {"b", ElemFloat32, dims}},
		[]IOInfo{{"c", ElemFloat32, dims}})
	if err != nil {
		return nil, err
	}
	mm := &matMul{n: n}
	mm.session, err = NewSession(fmt.Sprintf("matmul%d", n), model, Options{Threads: threads})
	if err != nil {
		return nil, err
	}
	for i := range 3 {
		data := make([]float32, n*n)
		if i < 2 {
			for j := range data {
				data[j] = float32(j%7-3) * 0.25
			}
		}
		t, err := NewTensor(dims, data)
		if err != nil {
			mm.close()
			return nil, err
		}
		mm.tensors = append(mm.tensors, t)
	}
	return mm, nil
}

func (mm *matMul) run() error {
	a, b, c := mm.tensors[0], mm.tensors[1], mm.tensors[2]
	return mm.session.Run([]Value{a, b}, []Value{c})
}

// flops is the floating-point operations of one run: n² dot products of length n.
func (mm *matMul) flops() float64 { return 2 * float64(mm.n) * float64(mm.n) * float64(mm.n) }

func (mm *matMul) close() error {
	errs := []error{mm.session.Close()}
	for _, t := range mm.tensors {
		errs = append(errs, t.Close())
	}
	return errors.Join(errs...)
}
