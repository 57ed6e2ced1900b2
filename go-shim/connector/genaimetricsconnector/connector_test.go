//go:build cgo

package genaimetricsconnector

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jonboulle/clockwork"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component/componenttest"
	"go.opentelemetry.io/collector/connector/connectortest"
	"go.opentelemetry.io/collector/consumer/consumertest"
	"go.opentelemetry.io/collector/pdata/pmetric"
	"go.opentelemetry.io/collector/pdata/ptrace"

	"github.com/tollbooth-dev/tollbooth/go-shim/connector/genaimetricsconnector/internal/metadata"
)

// callSeq gives every test call its own usage: one call reported twice (same usage, nested
// times) is counted once, and a span without usage is not a request.
var callSeq atomic.Int64

func calls(models ...string) ptrace.Traces {
	td := ptrace.NewTraces()
	rs := td.ResourceSpans().AppendEmpty()
	rs.Resource().Attributes().PutStr("service.name", "svc")
	spans := rs.ScopeSpans().AppendEmpty().Spans()
	root := spans.AppendEmpty()
	root.SetName("invoke_agent planner")
	root.Attributes().PutStr("gen_ai.operation.name", "invoke_agent")
	for _, m := range models {
		s := spans.AppendEmpty()
		s.SetName("chat " + m)
		s.Attributes().PutStr("gen_ai.provider.name", "openai")
		s.Attributes().PutStr("gen_ai.operation.name", "chat")
		s.Attributes().PutStr("gen_ai.request.model", m)
		s.Attributes().PutInt("gen_ai.usage.input_tokens", 100+callSeq.Add(1))
		s.Attributes().PutInt("gen_ai.usage.output_tokens", 10)
	}
	return td
}

func requestsByModel(t *testing.T, all []pmetric.Metrics) map[string]int64 {
	require.NotEmpty(t, all)
	last := all[len(all)-1] // cumulative: the last export holds the totals
	out := map[string]int64{}
	ms := last.ResourceMetrics().At(0).ScopeMetrics().At(0).Metrics()
	var m pmetric.Metric
	for i := 0; i < ms.Len(); i++ {
		if ms.At(i).Name() == "tollbooth.genai.requests" {
			m = ms.At(i)
		}
	}
	require.Equal(t, "tollbooth.genai.requests", m.Name())
	for i := 0; i < m.Sum().DataPoints().Len(); i++ {
		dp := m.Sum().DataPoints().At(i)
		model, _ := dp.Attributes().Get("gen_ai.request.model")
		out[model.Str()] = dp.IntValue()
	}
	return out
}

// Every model call is counted; the agent span that wraps them is not a call.
func TestCountsEveryCallAndFlushesOnShutdown(t *testing.T) {
	sink := new(consumertest.MetricsSink)
	cfg := createDefaultConfig().(*Config)
	cfg.MetricsFlushInterval = time.Hour
	conn, err := NewFactory().CreateTracesToMetrics(context.Background(),
		connectortest.NewNopSettings(metadata.Type), cfg, sink)
	require.NoError(t, err)
	require.NoError(t, conn.Start(context.Background(), componenttest.NewNopHost()))
	require.NoError(t, conn.ConsumeTraces(context.Background(), calls("gpt-4o", "gpt-4o-mini")))
	require.NoError(t, conn.ConsumeTraces(context.Background(), calls("gpt-4o")))
	assert.Empty(t, sink.AllMetrics(), "nothing before the flush interval")
	require.NoError(t, conn.Shutdown(context.Background()))
	assert.Equal(t, map[string]int64{"gpt-4o": 2, "gpt-4o-mini": 1}, requestsByModel(t, sink.AllMetrics()))
}

func TestExportsOnTheFlushInterval(t *testing.T) {
	sink := new(consumertest.MetricsSink)
	cfg := createDefaultConfig().(*Config)
	clock := clockwork.NewFakeClock()
	conn, err := newConnector(connectortest.NewNopSettings(metadata.Type), cfg, sink, clock)
	require.NoError(t, err)
	require.NoError(t, conn.Start(context.Background(), componenttest.NewNopHost()))
	defer func() { require.NoError(t, conn.Shutdown(context.Background())) }()
	require.NoError(t, clock.BlockUntilContext(t.Context(), 1), "the flush ticker is waiting")
	require.NoError(t, conn.ConsumeTraces(context.Background(), calls("gpt-4o")))
	clock.Advance(cfg.MetricsFlushInterval - time.Millisecond)
	assert.Empty(t, sink.AllMetrics(), "nothing before the interval")
	clock.Advance(time.Millisecond)
	require.Eventually(t, func() bool { return len(sink.AllMetrics()) > 0 }, 5*time.Second, time.Millisecond)
	assert.Equal(t, map[string]int64{"gpt-4o": 1}, requestsByModel(t, sink.AllMetrics()))
}

// A batch Rust cannot decode does not fail the traces pipeline.
// Invalid UTF-8 in a string field (pdata carries it, prost refuses it): the calls in the batch
// are still counted.
func TestInvalidUTF8BatchIsCounted(t *testing.T) {
	sink := new(consumertest.MetricsSink)
	conn, err := NewFactory().CreateTracesToMetrics(context.Background(),
		connectortest.NewNopSettings(metadata.Type), createDefaultConfig(), sink)
	require.NoError(t, err)
	require.NoError(t, conn.Start(context.Background(), componenttest.NewNopHost()))
	td := calls("gpt-4o")
	td.ResourceSpans().At(0).ScopeSpans().At(0).Spans().At(1).Attributes().PutStr("x", "\xff")
	require.NoError(t, conn.ConsumeTraces(context.Background(), td))
	require.NoError(t, conn.Shutdown(context.Background()))
	assert.NotEmpty(t, sink.AllMetrics(), "flushed at shutdown")
}
