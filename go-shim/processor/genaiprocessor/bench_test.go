//go:build cgo

package genaiprocessor

import (
	"context"
	"runtime"
	"testing"
	"time"

	"go.opentelemetry.io/collector/consumer/consumertest"
	"go.opentelemetry.io/collector/pdata/ptrace"
	"go.opentelemetry.io/collector/processor/processortest"

	"github.com/tollbooth-dev/tollbooth/go-shim/internal/engine"
	"github.com/tollbooth-dev/tollbooth/go-shim/internal/testbatch"
	"github.com/tollbooth-dev/tollbooth/go-shim/processor/genaiprocessor/internal/metadata"
)

const benchTraces = 128 // 1024 spans a batch

// report adds spans/s and allocations per span (allocs/op counts the whole 1024-span batch).
func report(b *testing.B, spansPerOp int, mallocsBefore uint64) {
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	spans := float64(spansPerOp * b.N)
	b.ReportMetric(spans/b.Elapsed().Seconds(), "spans/s")
	b.ReportMetric(float64(ms.Mallocs-mallocsBefore)/spans, "allocs/span")
}

func mallocs() uint64 {
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return ms.Mallocs
}

// BenchmarkConsumeTraces: the whole processor path (marshal, one cgo call, edits applied).
func BenchmarkConsumeTraces(b *testing.B) {
	proc, err := NewFactory().CreateTraces(context.Background(), processortest.NewNopSettings(metadata.Type),
		createDefaultConfig(), consumertest.NewNop())
	if err != nil {
		b.Fatal(err)
	}
	defer func() { _ = proc.Shutdown(context.Background()) }()
	src := testbatch.Batch(benchTraces)
	// Fresh copies so every iteration does the same work (the processor mutates its input).
	copies := make([]ptrace.Traces, 64)
	b.ReportAllocs()
	b.ResetTimer()
	before := mallocs()
	for i := 0; i < b.N; i++ {
		if i%len(copies) == 0 {
			b.StopTimer()
			m := mallocs()
			for j := range copies {
				copies[j] = ptrace.NewTraces()
				src.CopyTo(copies[j])
			}
			before += mallocs() - m // copying is set-up, not the processor's work
			b.StartTimer()
		}
		if err := proc.ConsumeTraces(context.Background(), copies[i%len(copies)]); err != nil {
			b.Fatal(err)
		}
	}
	report(b, src.SpanCount(), before)
}

// BenchmarkFloor: pdata marshal plus Rust decode of the same batch, no stage.
func BenchmarkFloor(b *testing.B) {
	src := testbatch.Batch(benchTraces)
	var m ptrace.ProtoMarshaler
	b.ReportAllocs()
	b.ResetTimer()
	before := mallocs()
	for i := 0; i < b.N; i++ {
		buf, err := m.MarshalTraces(src)
		if err != nil {
			b.Fatal(err)
		}
		if err := engine.ValidateTraces(buf); err != nil {
			b.Fatal(err)
		}
	}
	report(b, src.SpanCount(), before)
}

// BenchmarkEngineProcess: the Rust side alone (one cgo call), without Go marshal or edits.
func BenchmarkEngineProcess(b *testing.B) {
	eng, err := engine.New(nil, time.Now())
	if err != nil {
		b.Fatal(err)
	}
	defer eng.Close()
	buf, _ := (&ptrace.ProtoMarshaler{}).MarshalTraces(testbatch.Batch(benchTraces))
	b.SetBytes(int64(len(buf)))
	b.ReportAllocs()
	b.ResetTimer()
	before := mallocs()
	for i := 0; i < b.N; i++ {
		if err := eng.Process(buf, time.Now(), func([]byte) error { return nil }); err != nil {
			b.Fatal(err)
		}
	}
	report(b, benchTraces*testbatch.SpansPerTrace, before)
}
