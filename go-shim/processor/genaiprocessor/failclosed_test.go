//go:build cgo

package genaiprocessor

import (
	"context"
	"testing"
	"time"

	"github.com/jonboulle/clockwork"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component/componenttest"
	"go.opentelemetry.io/collector/consumer"
	"go.opentelemetry.io/collector/consumer/consumertest"
	"go.opentelemetry.io/collector/pdata/ptrace"
	"go.opentelemetry.io/collector/processor/processorhelper"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
	"go.opentelemetry.io/otel/sdk/metric/metricdata/metricdatatest"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	"go.uber.org/zap/zaptest/observer"

	"github.com/tollbooth-dev/tollbooth/go-shim/internal/engine"
	"github.com/tollbooth-dev/tollbooth/go-shim/processor/genaiprocessor/internal/metadatatest"
)

// failingPipeline is the processor in a processorhelper pipeline whose engine call is replaced
// by `process`, with its log lines observed.
func failingPipeline(t *testing.T, cfg *Config, process func([]byte, time.Time, func([]byte) error) error) (
	*consumertest.TracesSink, *componenttest.Telemetry, *observer.ObservedLogs, consumer.Traces, *genaiProcessor,
) {
	tel := componenttest.NewTelemetry()
	t.Cleanup(func() { require.NoError(t, tel.Shutdown(context.Background())) })
	core, logs := observer.New(zapcore.DebugLevel)
	set := metadatatest.NewSettings(tel)
	set.Logger = zap.New(core)
	p, err := newGenAIProcessor(set, cfg, clockwork.NewRealClock())
	require.NoError(t, err)
	p.Process = process
	sink := new(consumertest.TracesSink)
	proc, err := processorhelper.NewTraces(context.Background(), set, cfg, sink, p.processTraces,
		processorhelper.WithStart(p.Start), processorhelper.WithShutdown(p.Shutdown))
	require.NoError(t, err)
	require.NoError(t, proc.Start(context.Background(), componenttest.NewNopHost()))
	t.Cleanup(func() { require.NoError(t, proc.Shutdown(context.Background())) })
	return sink, tel, logs, proc, p
}

func panicking([]byte, time.Time, func([]byte) error) error {
	return &engine.Error{Op: "process", Status: engine.StatusPanic, Message: "boom"}
}

// badEdits hands the processor an edit list that does not decode.
func badEdits(_ []byte, _ time.Time, fn func([]byte) error) error {
	return fn([]byte("TBE1\x00\x01\x00\x00\x00\x63"))
}

func redacting(extra map[string]any) *Config {
	r := map[string]any{"allow_all_keys": true, "detectors": []any{"email"}}
	for k, v := range extra {
		r[k] = v
	}
	return &Config{WriteLatestNames: true, Redaction: r}
}

func reasonSet(r string) attribute.Set { return attribute.NewSet(attribute.String("reason", r)) }

// Invariant 2: a batch redaction could not run on never leaves; it is counted and logged.
func TestRedactionFailureDropsTheBatchAndCountsIt(t *testing.T) {
	for name, tc := range map[string]struct {
		process func([]byte, time.Time, func([]byte) error) error
		reason  string
	}{
		"panic":     {panicking, "panic"},
		"bad edits": {badEdits, "bad_edits"},
	} {
		t.Run(name, func(t *testing.T) {
			sink, tel, logs, proc, _ := failingPipeline(t, redacting(nil), tc.process)
			require.NoError(t, proc.ConsumeTraces(context.Background(), batch("mail jane.doe@example.com")))
			assert.Empty(t, sink.AllTraces(), "nothing forwarded")
			metadatatest.AssertEqualProcessorGenaiBatchesDropped(t, tel,
				[]metricdata.DataPoint[int64]{{Value: 1, Attributes: reasonSet(tc.reason)}}, metricdatatest.IgnoreTimestamp())
			metadatatest.AssertEqualProcessorGenaiSpansDropped(t, tel,
				[]metricdata.DataPoint[int64]{{Value: 2, Attributes: reasonSet(tc.reason)}}, metricdatatest.IgnoreTimestamp())
			_, err := tel.GetMetric("otelcol_processor_genai_batches_failed_open")
			assert.Error(t, err, "not counted as passed on")
			errs := logs.FilterLevelExact(zapcore.ErrorLevel).All()
			require.Len(t, errs, 1)
			assert.Contains(t, errs[0].Message, "dropped")
		})
	}
}

func TestRedactionFailureIsLoggedAtMostOncePerInterval(t *testing.T) {
	_, _, logs, proc, p := failingPipeline(t, redacting(nil), panicking)
	clock := time.Unix(1_700_000_000, 0)
	p.errLog.now = func() time.Time { return clock }
	for i := 0; i < 5; i++ {
		require.NoError(t, proc.ConsumeTraces(context.Background(), batch("x")))
	}
	require.Equal(t, 1, logs.FilterLevelExact(zapcore.ErrorLevel).Len(), "one line for a burst")
	clock = clock.Add(time.Minute)
	require.NoError(t, proc.ConsumeTraces(context.Background(), batch("x")))
	errs := logs.FilterLevelExact(zapcore.ErrorLevel).All()
	require.Len(t, errs, 2)
	assert.Equal(t, int64(4), errs[1].ContextMap()["similar_events_not_logged"])
}

func TestOnErrorPassForwardsUnredactedAndCounts(t *testing.T) {
	sink, tel, logs, proc, _ := failingPipeline(t, redacting(map[string]any{"on_error": "pass"}), panicking)
	in := batch("mail jane.doe@example.com")
	want := ptrace.NewTraces()
	in.CopyTo(want)
	require.NoError(t, proc.ConsumeTraces(context.Background(), in))
	require.Len(t, sink.AllTraces(), 1)
	assert.Equal(t, want, sink.AllTraces()[0], "forwarded as received (the user opted in)")
	metadatatest.AssertEqualProcessorGenaiBatchesFailedOpen(t, tel,
		[]metricdata.DataPoint[int64]{{Value: 1, Attributes: reasonSet("panic")}}, metricdatatest.IgnoreTimestamp())
	_, err := tel.GetMetric("otelcol_processor_genai_batches_dropped")
	assert.Error(t, err)
	assert.Equal(t, 1, logs.FilterLevelExact(zapcore.ErrorLevel).Len(), "unredacted output is an error")
}

// Without redaction nothing secret is at stake: cost and metrics fail open, as before.
func TestWithoutRedactionFailuresPassOn(t *testing.T) {
	sink, tel, logs, proc, _ := failingPipeline(t, &Config{WriteLatestNames: true}, badEdits)
	require.NoError(t, proc.ConsumeTraces(context.Background(), batch("hello")))
	require.Len(t, sink.AllTraces(), 1)
	metadatatest.AssertEqualProcessorGenaiSpansFailedOpen(t, tel,
		[]metricdata.DataPoint[int64]{{Value: 2, Attributes: reasonSet("bad_edits")}}, metricdatatest.IgnoreTimestamp())
	assert.Zero(t, logs.FilterLevelExact(zapcore.ErrorLevel).Len())
}

func TestRedactionOffSwitchMeansFailOpen(t *testing.T) {
	cfg := redacting(map[string]any{"enabled": false})
	sink, _, _, proc, _ := failingPipeline(t, cfg, panicking)
	require.NoError(t, proc.ConsumeTraces(context.Background(), batch("x")))
	require.Len(t, sink.AllTraces(), 1)
}

func TestOnErrorIsValidated(t *testing.T) {
	for _, v := range []any{"ignore", true, ""} {
		err := redacting(map[string]any{"on_error": v}).Validate()
		require.Error(t, err, "%v", v)
		assert.Contains(t, err.Error(), "redaction.on_error")
	}
	for _, v := range []string{"drop", "pass"} {
		require.NoError(t, redacting(map[string]any{"on_error": v}).Validate())
	}
	// A switched-off section is not checked, like its other keys.
	require.NoError(t, redacting(map[string]any{"enabled": false, "on_error": 1}).Validate())
	policy, err := onErrorPolicy(map[string]any{})
	require.NoError(t, err)
	assert.Equal(t, onErrorDrop, policy, "drop is the default")
}
