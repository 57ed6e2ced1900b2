//go:build cgo

package genaiprocessor

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component/componenttest"
	"go.opentelemetry.io/collector/consumer/consumertest"
	"go.opentelemetry.io/collector/pdata/ptrace"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
	"go.opentelemetry.io/otel/sdk/metric/metricdata/metricdatatest"

	"github.com/tollbooth-dev/tollbooth/go-shim/processor/genaiprocessor/internal/metadatatest"
)

func batch(promptValue string) ptrace.Traces {
	td := ptrace.NewTraces()
	rs := td.ResourceSpans().AppendEmpty()
	rs.Resource().Attributes().PutStr("service.name", "agent")
	spans := rs.ScopeSpans().AppendEmpty().Spans()
	spans.AppendEmpty().SetName("GET /")
	chat := spans.AppendEmpty()
	chat.SetName("chat")
	chat.Attributes().PutStr("gen_ai.system", "anthropic")
	chat.Attributes().PutStr("gen_ai.operation.name", "chat")
	chat.Attributes().PutStr("gen_ai.prompt.0.content", promptValue)
	return td
}

func newTestProcessor(t *testing.T, cfg *Config) (*consumertest.TracesSink, *componenttest.Telemetry, func(context.Context, ptrace.Traces) error) {
	tel := componenttest.NewTelemetry()
	t.Cleanup(func() { require.NoError(t, tel.Shutdown(context.Background())) })
	sink := new(consumertest.TracesSink)
	proc, err := createTracesProcessor(context.Background(), metadatatest.NewSettings(tel), cfg, sink)
	require.NoError(t, err)
	require.NoError(t, proc.Start(context.Background(), componenttest.NewNopHost()))
	t.Cleanup(func() { require.NoError(t, proc.Shutdown(context.Background())) })
	return sink, tel, proc.ConsumeTraces
}

func TestRecognisedSpanGetsLatestProviderName(t *testing.T) {
	sink, tel, consume := newTestProcessor(t, &Config{WriteLatestNames: true})
	require.NoError(t, consume(context.Background(), batch("hello")))
	require.Len(t, sink.AllTraces(), 1)
	out := sink.AllTraces()[0]
	assert.Equal(t, 2, out.SpanCount())
	chat := out.ResourceSpans().At(0).ScopeSpans().At(0).Spans().At(1)
	v, ok := chat.Attributes().Get("gen_ai.provider.name")
	require.True(t, ok)
	assert.Equal(t, "anthropic", v.Str())
	orig, _ := chat.Attributes().Get("gen_ai.system")
	assert.Equal(t, "anthropic", orig.Str(), "originals are kept")
	metadatatest.AssertEqualProcessorGenaiSpansRecognized(t, tel,
		[]metricdata.DataPoint[int64]{{Value: 1}}, metricdatatest.IgnoreTimestamp())
}

func TestWriteLatestNamesOff(t *testing.T) {
	sink, _, consume := newTestProcessor(t, &Config{WriteLatestNames: false})
	require.NoError(t, consume(context.Background(), batch("hello")))
	chat := sink.AllTraces()[0].ResourceSpans().At(0).ScopeSpans().At(0).Spans().At(1)
	_, ok := chat.Attributes().Get("gen_ai.provider.name")
	assert.False(t, ok)
}

// Invariant 1 and the fail-open case: invalid UTF-8 that pdata carries but prost
// refuses. The batch must reach the next consumer unchanged, and be counted.
func TestUndecodableBatchPassesThroughUnchangedAndCounted(t *testing.T) {
	sink, tel, consume := newTestProcessor(t, &Config{WriteLatestNames: true})
	in := batch("caf\xe9 \xff")
	want := ptrace.NewTraces()
	in.CopyTo(want)
	require.NoError(t, consume(context.Background(), in))
	require.Len(t, sink.AllTraces(), 1)
	assert.Equal(t, want, sink.AllTraces()[0])
	reason := attribute.NewSet(attribute.String("reason", "undecodable"))
	metadatatest.AssertEqualProcessorGenaiBatchesFailedOpen(t, tel,
		[]metricdata.DataPoint[int64]{{Value: 1, Attributes: reason}}, metricdatatest.IgnoreTimestamp())
	metadatatest.AssertEqualProcessorGenaiSpansFailedOpen(t, tel,
		[]metricdata.DataPoint[int64]{{Value: 2, Attributes: reason}}, metricdatatest.IgnoreTimestamp())
}
