//go:build cgo

package genaitailsamplingprocessor

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component/componenttest"
	"go.opentelemetry.io/collector/consumer"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/ptrace"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
	"go.opentelemetry.io/otel/sdk/metric/metricdata/metricdatatest"
	"go.uber.org/zap"
	"go.uber.org/zap/zaptest/observer"

	"github.com/tollbooth-dev/tollbooth/go-shim/processor/genaitailsamplingprocessor/internal/metadatatest"
)

// recordingSink records every ConsumeTraces call: its span count, its encoded size and the
// span IDs it carried. failCall (1-based) makes that call fail, as an exporter's permanent error.
type recordingSink struct {
	mu       sync.Mutex
	failCall int
	calls    []sinkCall
	seen     map[pcommon.SpanID]int
	total    int
}

type sinkCall struct {
	spans, bytes, traces int
	failed               bool
}

func newRecordingSink(failCall int) *recordingSink {
	return &recordingSink{failCall: failCall, seen: map[pcommon.SpanID]int{}}
}

func (s *recordingSink) Capabilities() consumer.Capabilities { return consumer.Capabilities{} }

func (s *recordingSink) ConsumeTraces(_ context.Context, td ptrace.Traces) error {
	var m ptrace.ProtoMarshaler
	s.mu.Lock()
	defer s.mu.Unlock()
	c := sinkCall{spans: td.SpanCount(), bytes: m.TracesSize(td)}
	traces := map[pcommon.TraceID]struct{}{}
	forEachSpan(td, func(sp ptrace.Span) { traces[sp.TraceID()] = struct{}{} })
	c.traces = len(traces)
	if len(s.calls)+1 == s.failCall {
		c.failed = true
		s.calls = append(s.calls, c)
		return errors.New("rpc error: code = ResourceExhausted desc = grpc: received message larger than max")
	}
	s.calls = append(s.calls, c)
	forEachSpan(td, func(sp ptrace.Span) { s.seen[sp.SpanID()]++ })
	s.total += c.spans
	return nil
}

func (s *recordingSink) snapshot() ([]sinkCall, map[pcommon.SpanID]int, int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]sinkCall(nil), s.calls...), s.seen, s.total
}

func (s *recordingSink) received() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.total
}

func forEachSpan(td ptrace.Traces, fn func(ptrace.Span)) {
	rss := td.ResourceSpans()
	for i := 0; i < rss.Len(); i++ {
		sss := rss.At(i).ScopeSpans()
		for j := 0; j < sss.Len(); j++ {
			spans := sss.At(j).Spans()
			for k := 0; k < spans.Len(); k++ {
				fn(spans.At(k))
			}
		}
	}
}

func keepAll(decisionWait string) map[string]any {
	return map[string]any{
		"decision_wait": decisionWait,
		"policies":      []any{map[string]any{"name": "keep", "type": "always_sample"}},
	}
}

func newLimitedProcessor(t *testing.T, sampling map[string]any, next consumer.Traces, lim ReleaseConfig,
	tel *componenttest.Telemetry, logger *zap.Logger) *tailSampler {
	t.Helper()
	cfg := createDefaultConfig().(*Config)
	cfg.ReleaseInterval = 10 * time.Millisecond
	cfg.Release = lim
	cfg.Sampling = sampling
	require.NoError(t, cfg.Validate())
	set := metadatatest.NewSettings(tel)
	if logger != nil {
		set.Logger = logger
	}
	p, err := NewFactory().CreateTraces(context.Background(), set, cfg, next)
	require.NoError(t, err)
	require.NoError(t, p.Start(context.Background(), componenttest.NewNopHost()))
	return p.(*tailSampler)
}

// checkCalls asserts every call is within lim and every span of want arrived exactly once.
func checkCalls(t *testing.T, sink *recordingSink, lim ReleaseConfig, want int) []sinkCall {
	t.Helper()
	calls, seen, total := sink.snapshot()
	maxSpans, maxBytes := 0, 0
	for i, c := range calls {
		assert.LessOrEqual(t, c.spans, lim.MaxSpans, "call %d spans", i)
		assert.LessOrEqual(t, c.bytes, lim.MaxBytes, "call %d bytes", i)
		maxSpans, maxBytes = max(maxSpans, c.spans), max(maxBytes, c.bytes)
	}
	assert.Equal(t, want, total, "spans received")
	assert.Len(t, seen, want, "distinct spans received")
	for id, n := range seen {
		if n != 1 {
			t.Fatalf("span %v arrived %d times", id, n)
		}
	}
	t.Logf("%d spans in %d calls; largest call %d spans, %d bytes (limits %d spans, %d bytes)",
		total, len(calls), maxSpans, maxBytes, lim.MaxSpans, lim.MaxBytes)
	return calls
}

func manyTraces(traces, spansPer, attrBytes int) ptrace.Traces {
	pad := strings.Repeat("x", attrBytes)
	var spans []spanOpts
	for tr := 0; tr < traces; tr++ {
		for s := 0; s < spansPer; s++ {
			o := spanOpts{trace: tr, span: s}
			if attrBytes > 0 {
				o.attrs = map[string]any{"pad": pad}
			}
			spans = append(spans, o)
		}
	}
	return batch(spans...)
}

// (a) Many small traces decided in one release: every call within the limits, every span once,
// and no small trace is split.
func TestReleaseManySmallTracesInBoundedCalls(t *testing.T) {
	sink := newRecordingSink(0)
	lim := ReleaseConfig{MaxSpans: 1000, MaxBytes: 64 << 10}
	p := newLimitedProcessor(t, keepAll("100ms"), sink, lim, componenttest.NewTelemetry(), nil)
	defer func() { require.NoError(t, p.Shutdown(context.Background())) }()
	const traces, per = 5000, 3
	require.NoError(t, p.ConsumeTraces(context.Background(), manyTraces(traces, per, 0)))
	require.Eventually(t, func() bool { return sink.received() == traces*per }, deadline, 10*time.Millisecond)
	calls := checkCalls(t, sink, lim, traces*per)
	assert.Greater(t, len(calls), 1)
	tracesSeen := 0
	for _, c := range calls {
		tracesSeen += c.traces
	}
	assert.Equal(t, traces, tracesSeen, "whole traces per call: each trace is in exactly one call")
}

// (b) One trace of 30,000 spans with ~1 KB attributes (~32 MB): split into chunks under
// max_bytes, every span once.
func TestReleaseSplitsOneHugeTrace(t *testing.T) {
	sink := newRecordingSink(0)
	lim := ReleaseConfig{MaxSpans: defaultReleaseMaxSpans, MaxBytes: defaultReleaseMaxBytes}
	p := newLimitedProcessor(t, keepAll("200ms"), sink, lim, componenttest.NewTelemetry(), nil)
	defer func() { require.NoError(t, p.Shutdown(context.Background())) }()
	const spans = 30000
	pad := strings.Repeat("y", 1000)
	// One batch, so the whole trace is decided in one release whatever the machine's speed
	// (spans arriving after the decision would be released as late spans in later ticks).
	os := make([]spanOpts, 0, spans)
	for s := 0; s < spans; s++ {
		os = append(os, spanOpts{trace: 7, span: s, attrs: map[string]any{"pad": pad}})
	}
	require.NoError(t, p.ConsumeTraces(context.Background(), batch(os...)))
	require.Eventually(t, func() bool { return sink.received() == spans }, deadline, 10*time.Millisecond)
	calls := checkCalls(t, sink, lim, spans)
	assert.GreaterOrEqual(t, len(calls), 15, "~32 MB in 2 MiB chunks")
	total := 0
	for _, c := range calls {
		total += c.bytes
	}
	// Chunks are packed close to the limit: no more than one extra call over the ideal.
	assert.LessOrEqual(t, len(calls), total/lim.MaxBytes+2)
}

// (c) Shutdown flushes a large buffer in bounded chunks.
func TestReleaseShutdownFlushIsBounded(t *testing.T) {
	sink := newRecordingSink(0)
	lim := ReleaseConfig{MaxSpans: defaultReleaseMaxSpans, MaxBytes: 1 << 20}
	p := newLimitedProcessor(t, keepAll("1h"), sink, lim, componenttest.NewTelemetry(), nil)
	const traces, per = 20000, 5
	for part := 0; part < 4; part++ {
		td := manyTraces(traces/4, per, 200)
		// Distinct trace numbers per part.
		forEachSpan(td, func(sp ptrace.Span) {
			id := sp.TraceID()
			id[0] = byte(part + 1)
			sp.SetTraceID(id)
			sid := sp.SpanID()
			sid[0] = byte(part + 1)
			sp.SetSpanID(sid)
		})
		require.NoError(t, p.ConsumeTraces(context.Background(), td))
	}
	assert.Equal(t, 0, sink.received())
	require.NoError(t, p.Shutdown(context.Background()))
	calls := checkCalls(t, sink, lim, traces*per)
	assert.Greater(t, len(calls), 10)
}

// (d) A refused chunk does not abandon the others; its spans are counted and warned about once.
func TestReleaseRefusedChunkIsCountedAndOthersArrive(t *testing.T) {
	sink := newRecordingSink(2)
	tel := componenttest.NewTelemetry()
	core, logs := observer.New(zap.WarnLevel)
	lim := ReleaseConfig{MaxSpans: 500, MaxBytes: 64 << 10}
	p := newLimitedProcessor(t, keepAll("1h"), sink, lim, tel, zap.New(core))
	const traces, per = 1000, 2
	require.NoError(t, p.ConsumeTraces(context.Background(), manyTraces(traces, per, 0)))
	require.NoError(t, p.Shutdown(context.Background()))

	calls, seen, total := sink.snapshot()
	require.Greater(t, len(calls), 2, "the calls after the refused one were made")
	require.True(t, calls[1].failed)
	failed := calls[1].spans
	assert.Equal(t, traces*per-failed, total)
	assert.Len(t, seen, traces*per-failed)
	metadatatest.AssertEqualProcessorGenaiTailSamplingSpansReleaseFailed(t, tel,
		[]metricdata.DataPoint[int64]{{Value: int64(failed)}}, metricdatatest.IgnoreTimestamp())
	metadatatest.AssertEqualProcessorGenaiTailSamplingReleaseBatches(t, tel,
		[]metricdata.DataPoint[int64]{{Value: int64(len(calls))}}, metricdatatest.IgnoreTimestamp())
	warns := logs.FilterMessageSnippet("refused released").All()
	require.Len(t, warns, 1)
	assert.Equal(t, int64(failed), warns[0].ContextMap()["spans"])
	t.Logf("%d calls, call 2 refused with %d spans; %d spans arrived", len(calls), failed, total)
	require.NoError(t, tel.Shutdown(context.Background()))
}

// The warning about refused chunks is limited to one a minute between ticks.
func TestReleaseRefusedWarningIsRateLimited(t *testing.T) {
	core, logs := observer.New(zap.WarnLevel)
	p := &tailSampler{logger: zap.New(core)}
	for i := 0; i < 5; i++ {
		p.refused.chunks++
		p.refused.spans += 10
		p.warnRefused(false)
	}
	require.Equal(t, 1, logs.Len())
	p.refused.lastWarn = time.Now().Add(-2 * releaseWarnEvery)
	p.warnRefused(false)
	require.Equal(t, 2, logs.Len())
	assert.Equal(t, int64(40), logs.All()[1].ContextMap()["spans"], "the suppressed refusals are reported next time")
}
