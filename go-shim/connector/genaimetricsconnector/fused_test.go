//go:build cgo

package genaimetricsconnector

import (
	"context"
	"testing"
	"time"

	"github.com/jonboulle/clockwork"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/component/componenttest"
	"go.opentelemetry.io/collector/confmap"
	"go.opentelemetry.io/collector/connector/connectortest"
	"go.opentelemetry.io/collector/consumer/consumertest"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/processor"
	"go.opentelemetry.io/collector/processor/processortest"

	"github.com/tollbooth-dev/tollbooth/go-shim/connector/genaimetricsconnector/internal/metadata"
	"github.com/tollbooth-dev/tollbooth/go-shim/internal/fuse"
	"github.com/tollbooth-dev/tollbooth/go-shim/processor/genaiprocessor"
)

var genaiType = component.MustNewType("genai")

// fusedConnector creates a connector that counts in processor `name`'s pass.
func fusedConnector(t *testing.T, name string, sink *consumertest.MetricsSink) (*genaiMetricsConnector, error) {
	t.Helper()
	cfg := createDefaultConfig().(*Config)
	cfg.MetricsFlushInterval = time.Hour
	cfg.Processor = component.NewIDWithName(genaiType, name).String()
	require.NoError(t, confmap.Validate(cfg))
	return newConnector(connectortest.NewNopSettings(metadata.Type), cfg, sink, clockwork.NewRealClock())
}

func genaiProcessor(t *testing.T, name string, next *consumertest.TracesSink) (processor.Traces, error) {
	t.Helper()
	f := genaiprocessor.NewFactory()
	set := processortest.NewNopSettings(genaiType)
	set.ID = component.NewIDWithName(genaiType, name)
	return f.CreateTraces(context.Background(), set, f.CreateDefaultConfig(), next)
}

// Built in the collector's order (the connector, an exporter of the pipeline, first), the
// processor counts in its own pass, the connector ignores the batches it is handed, and its
// final flush - after the processor has shut down - exports what a separate connector counts.
func TestFusedCountsInTheProcessorsPass(t *testing.T) {
	ctx, host := context.Background(), componenttest.NewNopHost()
	fusedSink, traces := new(consumertest.MetricsSink), new(consumertest.TracesSink)
	conn, err := fusedConnector(t, "fused", fusedSink)
	require.NoError(t, err)
	key := fuse.KeyOf(pcommon.NewResource(), component.NewIDWithName(genaiType, "fused"))
	require.True(t, fuse.Registered(key))
	proc, err := genaiProcessor(t, "fused", traces)
	require.NoError(t, err)
	require.NoError(t, conn.Start(ctx, host))
	require.NoError(t, proc.Start(ctx, host))

	// The separate wiring, for comparison: a processor with no connector, then a connector.
	sepSink, sepTraces := new(consumertest.MetricsSink), new(consumertest.TracesSink)
	sepProc, err := genaiProcessor(t, "separate", sepTraces)
	require.NoError(t, err)
	sepCfg := createDefaultConfig().(*Config)
	sepCfg.MetricsFlushInterval = time.Hour
	sepConn, err := newConnector(connectortest.NewNopSettings(metadata.Type), sepCfg, sepSink, clockwork.NewRealClock())
	require.NoError(t, err)
	require.NoError(t, sepProc.Start(ctx, host))
	require.NoError(t, sepConn.Start(ctx, host))

	for _, models := range [][]string{{"gpt-4o", "gpt-4o-mini"}, {"gpt-4o"}, {"claude-sonnet-4-5"}} {
		td := calls(models...)
		same := calls()
		td.CopyTo(same)
		require.NoError(t, proc.ConsumeTraces(ctx, td))
		require.NoError(t, sepProc.ConsumeTraces(ctx, same))
	}
	for _, td := range traces.AllTraces() {
		require.NoError(t, conn.ConsumeTraces(ctx, td))
	}
	for _, td := range sepTraces.AllTraces() {
		require.NoError(t, sepConn.ConsumeTraces(ctx, td))
	}
	_, priced := traces.AllTraces()[0].ResourceSpans().At(0).ScopeSpans().At(0).Spans().At(1).Attributes().Get("gen_ai.usage.cost")
	assert.True(t, priced, "the processor still prices the spans it hands on")

	// The collector shuts the processor down before the connector.
	require.NoError(t, proc.Shutdown(ctx))
	require.NoError(t, conn.Shutdown(ctx))
	require.NoError(t, sepProc.Shutdown(ctx))
	require.NoError(t, sepConn.Shutdown(ctx))
	assert.False(t, fuse.Registered(key), "the request is removed at shutdown")
	want := map[string]int64{"gpt-4o": 2, "gpt-4o-mini": 1, "claude-sonnet-4-5": 1}
	assert.Equal(t, want, requestsByModel(t, sepSink.AllMetrics()))
	assert.Equal(t, want, requestsByModel(t, fusedSink.AllMetrics()),
		"the final flush reads the processor's engine after the processor shut down")
}

func TestFusedWithoutItsProcessorFailsAtStart(t *testing.T) {
	conn, err := fusedConnector(t, "absent", new(consumertest.MetricsSink))
	require.NoError(t, err)
	err = conn.Start(context.Background(), componenttest.NewNopHost())
	require.ErrorContains(t, err, `must be an exporter of a pipeline whose processors include "genai/absent"`)
	require.NoError(t, conn.Shutdown(context.Background()))
	assert.False(t, fuse.Registered(fuse.KeyOf(pcommon.NewResource(), component.NewIDWithName(genaiType, "absent"))))
}

func TestFusedProcessorInTwoPipelinesIsAnError(t *testing.T) {
	conn, err := fusedConnector(t, "twice", new(consumertest.MetricsSink))
	require.NoError(t, err)
	defer func() { require.NoError(t, conn.Shutdown(context.Background())) }()
	first, err := genaiProcessor(t, "twice", new(consumertest.TracesSink))
	require.NoError(t, err)
	defer func() { require.NoError(t, first.Shutdown(context.Background())) }()
	_, err = genaiProcessor(t, "twice", new(consumertest.TracesSink))
	require.ErrorContains(t, err, "genai_metrics counts in genai/twice's pass, but genai/twice is in more than one pipeline")
}

func TestTwoConnectorsOnOneProcessorIsAnError(t *testing.T) {
	conn, err := fusedConnector(t, "shared", new(consumertest.MetricsSink))
	require.NoError(t, err)
	defer func() { require.NoError(t, conn.Shutdown(context.Background())) }()
	_, err = fusedConnector(t, "shared", new(consumertest.MetricsSink))
	require.ErrorContains(t, err, "another genai_metrics connector already counts in its pass")
}

// A processor built without a connector asking for it is not fused, whatever its ID, and a
// connector abandoned before Start leaves nothing behind.
func TestUnfusedProcessorAndAbandonedConnector(t *testing.T) {
	conn, err := fusedConnector(t, "abandoned", new(consumertest.MetricsSink))
	require.NoError(t, err)
	conn.Close()
	key := fuse.KeyOf(pcommon.NewResource(), component.NewIDWithName(genaiType, "abandoned"))
	assert.False(t, fuse.Registered(key))
	proc, err := genaiProcessor(t, "abandoned", new(consumertest.TracesSink))
	require.NoError(t, err)
	require.NoError(t, proc.Shutdown(context.Background()))
}

func TestProcessorKeyValidation(t *testing.T) {
	cfg := createDefaultConfig().(*Config)
	cfg.Processor = "genai/tier1"
	require.NoError(t, cfg.Validate())
	cfg.Dedupe = map[string]any{"enabled": false}
	assert.ErrorContains(t, cfg.Validate(), "dedupe: with `processor:` set the calls are judged once")
	cfg.Dedupe = nil
	cfg.Processor = "batch"
	assert.ErrorContains(t, cfg.Validate(), `processor: "batch" must name a genai processor`)
	cfg.Processor = "genai/"
	assert.ErrorContains(t, cfg.Validate(), "is not a component ID")
}
