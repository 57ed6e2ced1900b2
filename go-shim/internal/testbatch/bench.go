package testbatch

import (
	"context"
	"runtime"
	"testing"

	"go.opentelemetry.io/collector/pdata/ptrace"
)

// Traces is the number of agent traces in the standard benchmark batch (1024 spans).
const Traces = 128

// Mallocs is the process's cumulative heap allocation count.
func Mallocs() uint64 {
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return ms.Mallocs
}

// Report adds spans/s, ns/span and allocations per span (the -benchmem columns count the whole
// batch), counting allocations since mallocsBefore.
func Report(b *testing.B, spansPerOp int, mallocsBefore uint64) {
	spans := float64(spansPerOp * b.N)
	b.ReportMetric(spans/b.Elapsed().Seconds(), "spans/s")
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/spans, "ns/span")
	b.ReportMetric(float64(Mallocs()-mallocsBefore)/spans, "allocs/span")
}

// BenchConsume runs consume over fresh copies of the standard batch (processors mutate their
// input, so every iteration must see the original). Copying is excluded from time and allocs.
func BenchConsume(b *testing.B, consume func(context.Context, ptrace.Traces) error) {
	src := Batch(Traces)
	copies := make([]ptrace.Traces, 64)
	ctx := context.Background()
	b.ReportAllocs()
	b.ResetTimer()
	before := Mallocs()
	for i := 0; i < b.N; i++ {
		if i%len(copies) == 0 {
			b.StopTimer()
			m := Mallocs()
			for j := range copies {
				copies[j] = ptrace.NewTraces()
				src.CopyTo(copies[j])
			}
			before += Mallocs() - m
			b.StartTimer()
		}
		if err := consume(ctx, copies[i%len(copies)]); err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	Report(b, src.SpanCount(), before)
}
