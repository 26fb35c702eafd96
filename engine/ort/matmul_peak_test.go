package ort

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestMeasureMatMulPeak(t *testing.T) {
	gflops, err := MeasureMatMulPeak(1, 64)
	require.NoError(t, err)
	assert.Greater(t, gflops, 0.0)
	_, err = MeasureMatMulPeak(1, 0)
	assert.EqualError(t, err, "ort: matmul size 0: want > 0")
}

// BenchmarkMatMulPeak measures fp32 MatMul throughput on PeakMatMulSize² matrices with
// BenchThreads threads: the yardstick for the engine's other benchmarks.
func BenchmarkMatMulPeak(b *testing.B) {
	requireInit(b)
	mm, err := newMatMul(BenchThreads, PeakMatMulSize)
	require.NoError(b, err)
	defer mm.close()
	require.NoError(b, mm.run(), "warm-up")
	for b.Loop() {
		if err := mm.run(); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(mm.flops()*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
}
