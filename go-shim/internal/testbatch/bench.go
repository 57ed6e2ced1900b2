package testbatch

import (
	"context"
	"encoding/binary"
	"runtime"
	"testing"
	"time"

	"go.opentelemetry.io/collector/pdata/pcommon"
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
// Every copy carries trace IDs of its own: the same batch sent again would be recognised as
// duplicate calls (exactly-once accounting), and the benchmark would measure that shortcut
// instead of pricing and counting a stream of new calls.
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
				Renumber(copies[j], uint32(i+j))
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

// Renumber makes td the batch of round: the first four bytes of each trace ID become round,
// and every span moves round × 200 s later (a batch covers 128 s), so rounds share no trace
// and no two rounds' calls end at the same moment, as in a real stream of calls.
func Renumber(td ptrace.Traces, round uint32) {
	shift := pcommon.Timestamp(uint64(round) * 200 * uint64(time.Second))
	rss := td.ResourceSpans()
	for i := 0; i < rss.Len(); i++ {
		sss := rss.At(i).ScopeSpans()
		for j := 0; j < sss.Len(); j++ {
			spans := sss.At(j).Spans()
			for k := 0; k < spans.Len(); k++ {
				s := spans.At(k)
				tid := s.TraceID()
				binary.BigEndian.PutUint32(tid[:4], round)
				s.SetTraceID(tid)
				s.SetStartTimestamp(s.StartTimestamp() + shift)
				s.SetEndTimestamp(s.EndTimestamp() + shift)
			}
		}
	}
}
