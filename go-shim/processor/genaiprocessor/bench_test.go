//go:build cgo

package genaiprocessor

import (
	"context"
	"testing"
	"time"

	"go.opentelemetry.io/collector/consumer/consumertest"
	"go.opentelemetry.io/collector/pdata/ptrace"
	"go.opentelemetry.io/collector/processor/processortest"

	"github.com/tollbooth-dev/tollbooth/go-shim/internal/engine"
	"github.com/tollbooth-dev/tollbooth/go-shim/internal/testbatch"
	"github.com/tollbooth-dev/tollbooth/go-shim/processor/genaiprocessor/internal/metadata"
)

// BenchmarkConsumeTraces: the whole processor path (marshal, one cgo call, edits applied).
func BenchmarkConsumeTraces(b *testing.B) {
	proc, err := NewFactory().CreateTraces(context.Background(), processortest.NewNopSettings(metadata.Type),
		createDefaultConfig(), consumertest.NewNop())
	if err != nil {
		b.Fatal(err)
	}
	defer func() { _ = proc.Shutdown(context.Background()) }()
	testbatch.BenchConsume(b, proc.ConsumeTraces)
}

// BenchmarkFloor: pdata marshal plus Rust decode of the same batch, no stage.
func BenchmarkFloor(b *testing.B) {
	src := testbatch.Batch(testbatch.Traces)
	var m ptrace.ProtoMarshaler
	b.ReportAllocs()
	b.ResetTimer()
	before := testbatch.Mallocs()
	for i := 0; i < b.N; i++ {
		buf, err := m.MarshalTraces(src)
		if err != nil {
			b.Fatal(err)
		}
		if err := engine.ValidateTraces(buf); err != nil {
			b.Fatal(err)
		}
	}
	testbatch.Report(b, src.SpanCount(), before)
}

// BenchmarkEngineProcess: the Rust side alone (one cgo call), without Go marshal or edits.
func BenchmarkEngineProcess(b *testing.B) {
	eng, err := engine.New(nil, time.Now())
	if err != nil {
		b.Fatal(err)
	}
	defer eng.Close()
	buf, _ := (&ptrace.ProtoMarshaler{}).MarshalTraces(testbatch.Batch(testbatch.Traces))
	b.SetBytes(int64(len(buf)))
	b.ReportAllocs()
	b.ResetTimer()
	before := testbatch.Mallocs()
	for i := 0; i < b.N; i++ {
		if err := eng.Process(buf, time.Now(), func([]byte) error { return nil }); err != nil {
			b.Fatal(err)
		}
	}
	testbatch.Report(b, testbatch.Traces*testbatch.SpansPerTrace, before)
}
