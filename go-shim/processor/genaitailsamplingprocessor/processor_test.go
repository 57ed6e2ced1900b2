//go:build cgo

package genaitailsamplingprocessor

import (
	"context"
	"encoding/binary"
	"sort"
	"testing"
	"time"

	"github.com/jonboulle/clockwork"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component/componenttest"
	"go.opentelemetry.io/collector/confmap"
	"go.opentelemetry.io/collector/consumer/consumertest"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/ptrace"
	"go.opentelemetry.io/collector/processor"
	"go.opentelemetry.io/collector/processor/processortest"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
	"go.opentelemetry.io/otel/sdk/metric/metricdata/metricdatatest"

	"github.com/tollbooth-dev/tollbooth/go-shim/internal/engine"
	"github.com/tollbooth-dev/tollbooth/go-shim/processor/genaitailsamplingprocessor/internal/metadata"
	"github.com/tollbooth-dev/tollbooth/go-shim/processor/genaitailsamplingprocessor/internal/metadatatest"
)

// Generous deadlines: the tests wait for outcomes, never for a fixed time.
const deadline = 20 * time.Second

func traceID(n int) pcommon.TraceID {
	var t pcommon.TraceID
	binary.BigEndian.PutUint64(t[0:8], 0xabc0000+uint64(n))
	binary.BigEndian.PutUint64(t[8:16], 0x9e3779b97f4a7c15*uint64(n+1))
	return t
}

// spanOpts describes one test span.
type spanOpts struct {
	trace, span int
	errStatus   bool
	name        string
	attrs       map[string]any
}

func batch(spans ...spanOpts) ptrace.Traces {
	td := ptrace.NewTraces()
	rs := td.ResourceSpans().AppendEmpty()
	rs.Resource().Attributes().PutStr("service.name", "svc")
	ss := rs.ScopeSpans().AppendEmpty()
	for _, o := range spans {
		s := ss.Spans().AppendEmpty()
		s.SetTraceID(traceID(o.trace))
		var sid pcommon.SpanID
		binary.BigEndian.PutUint64(sid[:], uint64(o.trace)<<16|uint64(o.span+1))
		s.SetSpanID(sid)
		if o.span > 0 {
			var psid pcommon.SpanID
			binary.BigEndian.PutUint64(psid[:], uint64(o.trace)<<16|1)
			s.SetParentSpanID(psid)
		}
		s.SetName(o.name)
		if s.Name() == "" {
			s.SetName("op")
		}
		s.SetStartTimestamp(1_760_000_000_000_000_000)
		s.SetEndTimestamp(1_760_000_000_100_000_000)
		if o.errStatus {
			s.Status().SetCode(ptrace.StatusCodeError)
		}
		require.NoError(nil, s.Attributes().FromRaw(o.attrs))
	}
	return td
}

func newProcessor(t *testing.T, sampling map[string]any, sink *consumertest.TracesSink) *tailSampler {
	t.Helper()
	return startProcessor(t, processortest.NewNopSettings(metadata.Type), sampling, sink, clockwork.NewRealClock())
}

// tick advances the fake clock by d, which must reach the next release tick, and waits until
// that tick's release has reached the engine (so the next tick cannot be lost to a full
// ticker channel).
func tick(t *testing.T, clock *clockwork.FakeClock, p *tailSampler, d time.Duration) {
	t.Helper()
	before := sampling(t, p).ReleaseCalls
	clock.Advance(d)
	require.Eventually(t, func() bool { return sampling(t, p).ReleaseCalls > before }, deadline, time.Millisecond)
}

// newClockedProcessor is newProcessor on a fake clock: the engine decides on its time and
// the release ticker ticks on it, so a test advances it instead of waiting.
func newClockedProcessor(t *testing.T, sampling map[string]any, sink *consumertest.TracesSink) (*tailSampler, *clockwork.FakeClock) {
	t.Helper()
	clock := clockwork.NewFakeClockAt(time.Now())
	p := startProcessor(t, processortest.NewNopSettings(metadata.Type), sampling, sink, clock)
	require.NoError(t, clock.BlockUntilContext(t.Context(), 1), "the release ticker is waiting")
	return p, clock
}

// newMeasuredProcessor is newProcessor with its self-telemetry collected by tel.
func newMeasuredProcessor(t *testing.T, sampling map[string]any, sink *consumertest.TracesSink) (*tailSampler, *componenttest.Telemetry) {
	t.Helper()
	tel := componenttest.NewTelemetry()
	t.Cleanup(func() { require.NoError(t, tel.Shutdown(context.Background())) })
	return startProcessor(t, metadatatest.NewSettings(tel), sampling, sink, clockwork.NewRealClock()), tel
}

func startProcessor(t *testing.T, set processor.Settings, sampling map[string]any, sink *consumertest.TracesSink, clock clockwork.Clock) *tailSampler {
	cfg := createDefaultConfig().(*Config)
	require.NoError(t, confmap.NewFromStringMap(map[string]any{"release_interval": "10ms"}).Unmarshal(cfg))
	cfg.Sampling = sampling
	p, err := newTailSampler(set, cfg, sink, clock)
	require.NoError(t, err)
	require.NoError(t, p.Start(context.Background(), componenttest.NewNopHost()))
	return p
}

// spansByTrace counts the spans the sink received per trace number.
func spansByTrace(sink *consumertest.TracesSink) map[pcommon.TraceID]int {
	out := map[pcommon.TraceID]int{}
	for _, td := range sink.AllTraces() {
		rss := td.ResourceSpans()
		for i := 0; i < rss.Len(); i++ {
			sss := rss.At(i).ScopeSpans()
			for j := 0; j < sss.Len(); j++ {
				spans := sss.At(j).Spans()
				for k := 0; k < spans.Len(); k++ {
					out[spans.At(k).TraceID()]++
				}
			}
		}
	}
	return out
}

// sampling reads the engine's sampling counters, as the async instruments do.
func sampling(t *testing.T, p *tailSampler) engine.SamplingCounters {
	var c engine.Counters
	require.NoError(t, p.Engine.ReadCounters(&c))
	return c.Sampling
}

func errorsAndAttr(decisionWait string) map[string]any {
	return map[string]any{
		"decision_wait": decisionWait,
		"policies": []any{
			map[string]any{"name": "errors", "type": "status_code", "status_code": map[string]any{"status_codes": []any{"ERROR"}}},
			map[string]any{"name": "vip", "type": "string_attribute", "string_attribute": map[string]any{"key": "tier", "values": []any{"vip"}}},
		},
	}
}

func TestPoliciesDecideAndSpansStayTogether(t *testing.T) {
	sink := new(consumertest.TracesSink)
	p, clock := newClockedProcessor(t, errorsAndAttr("200ms"), sink)
	defer func() { require.NoError(t, p.Shutdown(context.Background())) }()
	ctx := context.Background()

	// Trace 1 errors in its second batch; trace 2 is a VIP; trace 3 matches nothing.
	require.NoError(t, p.ConsumeTraces(ctx, batch(spanOpts{trace: 1, span: 0}, spanOpts{trace: 2, span: 0, attrs: map[string]any{"tier": "vip"}}, spanOpts{trace: 3, span: 0})))
	require.NoError(t, p.ConsumeTraces(ctx, batch(spanOpts{trace: 1, span: 1, errStatus: true}, spanOpts{trace: 3, span: 1})))
	require.NoError(t, p.ConsumeTraces(ctx, batch(spanOpts{trace: 1, span: 2}, spanOpts{trace: 2, span: 1})))
	tick(t, clock, p, 100*time.Millisecond)
	assert.Equal(t, 0, sink.SpanCount(), "held batches are not forwarded before a decision")

	// The tick after decision_wait decides every trace and releases the kept ones.
	tick(t, clock, p, 100*time.Millisecond)
	require.Eventually(t, func() bool { return sink.SpanCount() == 5 }, deadline, time.Millisecond)
	got := spansByTrace(sink)
	assert.Equal(t, map[pcommon.TraceID]int{traceID(1): 3, traceID(2): 2}, got)
	s := sampling(t, p)
	assert.Equal(t, [3]uint64{2, 1, 2}, [3]uint64{s.TracesSampled, s.TracesNotSampled, s.SpansNotSampled})
}

func TestLateSpansFollowTheirTracesDecision(t *testing.T) {
	sink := new(consumertest.TracesSink)
	p, clock := newClockedProcessor(t, errorsAndAttr("100ms"), sink)
	defer func() { require.NoError(t, p.Shutdown(context.Background())) }()
	ctx := context.Background()

	require.NoError(t, p.ConsumeTraces(ctx, batch(spanOpts{trace: 1, span: 0, errStatus: true}, spanOpts{trace: 2, span: 0})))
	tick(t, clock, p, 100*time.Millisecond)
	require.Eventually(t, func() bool { return sink.SpanCount() == 1 }, deadline, time.Millisecond)
	s := sampling(t, p)
	require.Equal(t, [2]uint64{1, 1}, [2]uint64{s.TracesSampled, s.TracesNotSampled})

	// Late spans: the kept trace's late span is forwarded, the dropped trace's is dropped, even
	// though the late span of trace 2 now carries an error (no second, independent decision).
	require.NoError(t, p.ConsumeTraces(ctx, batch(spanOpts{trace: 1, span: 5}, spanOpts{trace: 2, span: 5, errStatus: true})))
	s = sampling(t, p)
	assert.Equal(t, [2]uint64{1, 1}, [2]uint64{s.LateSpansSampled, s.LateSpansDropped})
	tick(t, clock, p, 10*time.Millisecond)
	require.Eventually(t, func() bool { return sink.SpanCount() == 2 }, deadline, time.Millisecond)
	assert.Equal(t, map[pcommon.TraceID]int{traceID(1): 2}, spansByTrace(sink))
}

func TestShutdownDecidesAndFlushesPendingTraces(t *testing.T) {
	sink := new(consumertest.TracesSink)
	p := newProcessor(t, errorsAndAttr("1h"), sink)
	ctx := context.Background()
	require.NoError(t, p.ConsumeTraces(ctx, batch(spanOpts{trace: 1, span: 0, errStatus: true}, spanOpts{trace: 1, span: 1}, spanOpts{trace: 2, span: 0})))
	assert.Equal(t, 0, sink.SpanCount())
	require.NoError(t, p.Shutdown(ctx))
	assert.Equal(t, map[pcommon.TraceID]int{traceID(1): 2}, spansByTrace(sink))
	// After shutdown a batch is passed on rather than lost.
	require.NoError(t, p.ConsumeTraces(ctx, batch(spanOpts{trace: 9, span: 0})))
	assert.Equal(t, 3, sink.SpanCount())
}

func TestShutdownDropsPendingTracesWhenConfigured(t *testing.T) {
	sink := new(consumertest.TracesSink)
	sampling := errorsAndAttr("1h")
	sampling["drop_pending_traces_on_shutdown"] = true
	p := newProcessor(t, sampling, sink)
	ctx := context.Background()
	require.NoError(t, p.ConsumeTraces(ctx, batch(spanOpts{trace: 1, span: 0, errStatus: true})))
	require.NoError(t, p.Shutdown(ctx))
	assert.Equal(t, 0, sink.SpanCount())
}

func TestShutdownWithoutStart(t *testing.T) {
	cfg := createDefaultConfig().(*Config)
	cfg.Sampling = errorsAndAttr("1s")
	p, err := NewFactory().CreateTraces(context.Background(), processortest.NewNopSettings(metadata.Type), cfg, consumertest.NewNop())
	require.NoError(t, err)
	require.NoError(t, p.Shutdown(context.Background()))
	require.NoError(t, p.Shutdown(context.Background()))
}

// Invalid UTF-8 in a string field, which pdata carries and prost refuses: the batch is still
// sampled like any other (the policies read each invalid sequence as U+FFFD).
func TestInvalidUTF8BatchIsSampledNotPassedOn(t *testing.T) {
	sink := new(consumertest.TracesSink)
	p := newProcessor(t, errorsAndAttr("100ms"), sink)
	defer func() { require.NoError(t, p.Shutdown(context.Background())) }()
	td := batch(spanOpts{trace: 1, span: 0, name: "bad \xff\xfe name", errStatus: true},
		spanOpts{trace: 2, span: 0, name: "dull \xff"})
	require.NoError(t, p.ConsumeTraces(context.Background(), td))
	assert.Equal(t, 0, sink.SpanCount(), "held for a decision, not passed on")
	require.Eventually(t, func() bool { return sink.SpanCount() == 1 }, deadline, 10*time.Millisecond)
	// Held as the bytes it arrived as, so it leaves as it came: pdata carries such bytes and so
	// do contrib's components; only the policies read a lossy copy.
	assert.Equal(t, "bad \xff\xfe name", sink.AllTraces()[0].ResourceSpans().At(0).ScopeSpans().At(0).Spans().At(0).Name())
}

func TestProbabilisticIsDeterministicAndNeverSplitsTraces(t *testing.T) {
	sampling := map[string]any{
		"decision_wait": "100ms",
		"policies": []any{map[string]any{"name": "half", "type": "probabilistic",
			"probabilistic": map[string]any{"sampling_percentage": 50, "hash_salt": "s"}}},
	}
	run := func() []pcommon.TraceID {
		sink := new(consumertest.TracesSink)
		p := newProcessor(t, sampling, sink)
		ctx := context.Background()
		for part := 0; part < 3; part++ {
			var spans []spanOpts
			for tr := 0; tr < 200; tr++ {
				spans = append(spans, spanOpts{trace: tr, span: part})
			}
			require.NoError(t, p.ConsumeTraces(ctx, batch(spans...)))
		}
		require.NoError(t, p.Shutdown(ctx))
		var ids []pcommon.TraceID
		for id, n := range spansByTrace(sink) {
			require.Equal(t, 3, n, "a kept trace keeps all its spans")
			ids = append(ids, id)
		}
		sort.Slice(ids, func(i, j int) bool { return string(ids[i][:]) < string(ids[j][:]) })
		return ids
	}
	a, b := run(), run()
	assert.Equal(t, a, b)
	assert.Greater(t, len(a), 50)
	assert.Less(t, len(a), 150)
}

func TestInvalidConfigNamesTheKey(t *testing.T) {
	for _, tc := range []struct {
		name     string
		sampling map[string]any
		want     []string
	}{
		{"typo", map[string]any{"decison_wait": "1s", "policies": []any{map[string]any{"name": "a", "type": "always_sample"}}}, []string{"decison_wait"}},
		{"ottl", map[string]any{"policies": []any{map[string]any{"name": "o", "type": "ottl_condition"}}}, []string{"ottl_condition"}},
		{"no policies", map[string]any{}, []string{"policies"}},
		{"bad regex", map[string]any{"policies": []any{map[string]any{"name": "r", "type": "string_attribute",
			"string_attribute": map[string]any{"key": "k", "values": []any{"("}, "enabled_regex_matching": true}}}}, []string{"r"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := createDefaultConfig().(*Config)
			cfg.Sampling = tc.sampling
			_, err := NewFactory().CreateTraces(context.Background(), processortest.NewNopSettings(metadata.Type), cfg, consumertest.NewNop())
			require.Error(t, err)
			for _, w := range tc.want {
				assert.Contains(t, err.Error(), w)
			}
			t.Log(err)
		})
	}
}

// Every decided trace with model calls is recorded in the cost-per-trace histogram, kept or
// not, by service and root span name; the kept trace's root carries its totals.
func TestCostPerRunIsRecordedForEveryTraceAndWrittenOnKeptRoots(t *testing.T) {
	sink := new(consumertest.TracesSink)
	p, tel := newMeasuredProcessor(t, errorsAndAttr("100ms"), sink)
	call := func(trace int, cost float64) spanOpts {
		return spanOpts{trace: trace, span: 1, attrs: map[string]any{
			"gen_ai.operation.name": "chat", "tollbooth.cost.status": "priced",
			"gen_ai.usage.cost": cost, "gen_ai.usage.input_tokens": 100, "gen_ai.usage.output_tokens": 10,
		}}
	}
	require.NoError(t, p.ConsumeTraces(context.Background(), batch(
		spanOpts{trace: 1, span: 0, name: "agent", attrs: map[string]any{"tier": "vip"}}, call(1, 0.25),
		spanOpts{trace: 2, span: 0, name: "agent"}, call(2, 0.5),
	)))
	require.Eventually(t, func() bool { return len(spansByTrace(sink)) == 1 }, deadline, 5*time.Millisecond)
	require.NoError(t, p.Shutdown(context.Background()))

	metadatatest.AssertEqualProcessorGenaiTailSamplingTraceCost(t, tel, []metricdata.HistogramDataPoint[float64]{{
		Attributes: attribute.NewSet(attribute.String("service.name", "svc"), attribute.String("tollbooth.trace.root", "agent")),
		Count:      2,
		Sum:        0.75,
	}}, metricdatatest.IgnoreTimestamp(), metricdatatest.IgnoreExemplars(), metricdatatest.IgnoreValue())
	got, err := tel.GetMetric("otelcol_processor_genai_tail_sampling_trace_cost")
	require.NoError(t, err)
	dp := got.Data.(metricdata.Histogram[float64]).DataPoints[0]
	assert.Equal(t, uint64(2), dp.Count, "the dropped trace is recorded too")
	assert.InDelta(t, 0.75, dp.Sum, 1e-12)

	root := sink.AllTraces()[0].ResourceSpans().At(0).ScopeSpans().At(0).Spans().At(0)
	require.Equal(t, "agent", root.Name())
	v, ok := root.Attributes().Get("tollbooth.trace.cost")
	require.True(t, ok)
	assert.Equal(t, 0.25, v.Double())
	n, _ := root.Attributes().Get("tollbooth.trace.llm_calls")
	assert.Equal(t, int64(1), n.Int())
}

// The sampler's instruments are read from the engine at collection time: after known
// batches and a decision, what the collector collects equals the engine's counters.
func TestCollectedMetricsEqualTheEngineCounters(t *testing.T) {
	sink := new(consumertest.TracesSink)
	p, tel := newMeasuredProcessor(t, errorsAndAttr("100ms"), sink)
	defer func() { require.NoError(t, p.Shutdown(context.Background())) }()
	require.NoError(t, p.ConsumeTraces(context.Background(), batch(
		spanOpts{trace: 1, span: 0, errStatus: true}, spanOpts{trace: 2, span: 0}, spanOpts{trace: 3, span: 0, attrs: map[string]any{"tier": "vip"}})))
	require.Eventually(t, func() bool { return sink.SpanCount() == 2 }, deadline, 5*time.Millisecond)

	s := sampling(t, p)
	require.Equal(t, uint64(2), s.TracesSampled)
	decision := func(d string, n uint64) metricdata.DataPoint[int64] {
		return metricdata.DataPoint[int64]{Value: int64(n), Attributes: attribute.NewSet(attribute.String("decision", d))}
	}
	metadatatest.AssertEqualProcessorGenaiTailSamplingTraces(t, tel, []metricdata.DataPoint[int64]{
		decision("sampled", s.TracesSampled), decision("not_sampled", s.TracesNotSampled),
		decision("dropped", s.TracesDropped), decision("dropped_on_shutdown", s.ShutdownDroppedTraces),
	}, metricdatatest.IgnoreTimestamp())
	policy := func(name string, n uint64) metricdata.DataPoint[int64] {
		return metricdata.DataPoint[int64]{Value: int64(n), Attributes: attribute.NewSet(attribute.String("policy", name))}
	}
	metadatatest.AssertEqualProcessorGenaiTailSamplingPolicyTracesKept(t, tel, []metricdata.DataPoint[int64]{
		policy("errors", 1), policy("vip", 1),
	}, metricdatatest.IgnoreTimestamp())
	metadatatest.AssertEqualProcessorGenaiTailSamplingSpansBuffered(t, tel, []metricdata.DataPoint[int64]{
		{Value: int64(s.SpansBuffered)},
	}, metricdatatest.IgnoreTimestamp())
}
