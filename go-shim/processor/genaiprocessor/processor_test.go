//go:build cgo

package genaiprocessor

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/jonboulle/clockwork"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component/componenttest"
	"go.opentelemetry.io/collector/consumer/consumertest"
	"go.opentelemetry.io/collector/pdata/ptrace"
	"go.opentelemetry.io/collector/processor"
	"go.opentelemetry.io/collector/processor/processortest"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
	"go.opentelemetry.io/otel/sdk/metric/metricdata/metricdatatest"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	"go.uber.org/zap/zaptest/observer"

	"github.com/tollbooth-dev/tollbooth/go-shim/internal/engine"

	"github.com/tollbooth-dev/tollbooth/go-shim/processor/genaiprocessor/internal/metadata"
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

func TestCostIsWrittenOnModelCalls(t *testing.T) {
	sink, tel, consume := newTestProcessor(t, &Config{Cost: map[string]any{}})
	td := batch("hello")
	chat := td.ResourceSpans().At(0).ScopeSpans().At(0).Spans().At(1)
	chat.Attributes().PutStr("gen_ai.request.model", "claude-3-5-haiku-20241022")
	chat.Attributes().PutInt("gen_ai.usage.input_tokens", 1_000_000)
	chat.Attributes().PutInt("gen_ai.usage.output_tokens", 0)
	unknown := td.ResourceSpans().At(0).ScopeSpans().At(0).Spans().AppendEmpty()
	chat.CopyTo(unknown)
	unknown.Attributes().PutStr("gen_ai.request.model", "acme-llm-9000")
	require.NoError(t, consume(context.Background(), td))
	// Two distinct models were looked up: the pricing cache reports them.
	metadatatest.AssertEqualProcessorGenaiPricingCacheEntries(t, tel,
		[]metricdata.DataPoint[int64]{{Value: 2}}, metricdatatest.IgnoreTimestamp())
	spans := sink.AllTraces()[0].ResourceSpans().At(0).ScopeSpans().At(0).Spans()
	attrs := spans.At(1).Attributes()
	status, _ := attrs.Get("tollbooth.cost.status")
	assert.Equal(t, "priced", status.Str())
	cost, ok := attrs.Get("gen_ai.usage.cost")
	require.True(t, ok)
	assert.InDelta(t, 0.8, cost.Double(), 1e-12, "1M input tokens of claude-3-5-haiku at $0.80/M")
	status, _ = spans.At(2).Attributes().Get("tollbooth.cost.status")
	assert.Equal(t, "unpriced", status.Str())
	_, hasCost := spans.At(2).Attributes().Get("gen_ai.usage.cost")
	assert.False(t, hasCost, "an unknown model is unpriced, never $0")
	metadatatest.AssertEqualProcessorGenaiCostCalls(t, tel, []metricdata.DataPoint[int64]{
		{Value: 1, Attributes: attribute.NewSet(attribute.String("status", "priced"))},
		{Value: 1, Attributes: attribute.NewSet(attribute.String("status", "unpriced"))},
	}, metricdatatest.IgnoreTimestamp())
}

func TestRedactionMasksNestedValuesAndCounts(t *testing.T) {
	sink, tel, consume := newTestProcessor(t, &Config{Redaction: map[string]any{
		"allow_all_keys": true, "detectors": []any{"email"},
	}})
	td := batch("write to jane.doe@example.com please")
	tool := td.ResourceSpans().At(0).ScopeSpans().At(0).Spans().At(1).Attributes().PutEmptySlice("tool.recipients")
	tool.AppendEmpty().SetStr("bob@example.org")
	tool.AppendEmpty().SetStr("not an address")
	require.NoError(t, consume(context.Background(), td))
	attrs := sink.AllTraces()[0].ResourceSpans().At(0).ScopeSpans().At(0).Spans().At(1).Attributes()
	prompt, _ := attrs.Get("gen_ai.prompt.0.content")
	assert.NotContains(t, prompt.Str(), "jane.doe@example.com")
	assert.Contains(t, prompt.Str(), "write to")
	recipients, _ := attrs.Get("tool.recipients")
	require.Equal(t, 2, recipients.Slice().Len(), "array structure kept")
	assert.NotContains(t, recipients.Slice().At(0).Str(), "bob@example.org")
	assert.Equal(t, "not an address", recipients.Slice().At(1).Str())
	got, err := tel.GetMetric("otelcol_processor_genai_redactions")
	require.NoError(t, err)
	assert.NotEmpty(t, got.Data)
}

func TestBadStageKeyFailsAtStartNamingIt(t *testing.T) {
	_, err := NewFactory().CreateTraces(context.Background(), processortest.NewNopSettings(metadata.Type),
		&Config{Cost: map[string]any{"pricng": map[string]any{}}}, consumertest.NewNop())
	require.Error(t, err)
	assert.Contains(t, err.Error(), "pricng")
	_, err = NewFactory().CreateTraces(context.Background(), processortest.NewNopSettings(metadata.Type),
		&Config{Redaction: map[string]any{"blocked_values": []any{"(unclosed"}}}, consumertest.NewNop())
	require.Error(t, err)
	assert.Contains(t, err.Error(), "blocked_values")
}

func TestWriteLatestNamesOff(t *testing.T) {
	sink, _, consume := newTestProcessor(t, &Config{WriteLatestNames: false})
	require.NoError(t, consume(context.Background(), batch("hello")))
	chat := sink.AllTraces()[0].ResourceSpans().At(0).ScopeSpans().At(0).Spans().At(1)
	_, ok := chat.Attributes().Get("gen_ai.provider.name")
	assert.False(t, ok)
}

// Issue 9: bytes that are not UTF-8 in one span (pdata carries them, a strict decoder refuses
// them) no longer switch the engine off for the batch: every span is enriched and redacted,
// the invalid value holding a secret is masked, a clean invalid value is left as it was, and
// nothing fails open or is dropped.
func TestInvalidUTF8BatchIsEnrichedAndRedacted(t *testing.T) {
	sink, tel, consume := newTestProcessor(t, &Config{WriteLatestNames: true,
		Redaction: map[string]any{"allow_all_keys": true, "detectors": []any{"email"}}})
	in := batch("caf\xe9 \xff mail jane.doe@example.com")
	get := in.ResourceSpans().At(0).ScopeSpans().At(0).Spans().At(0)
	get.SetName("GET /users/bob@example.org")
	get.Attributes().PutStr("note", "\xff only invalid bytes")
	require.NoError(t, consume(context.Background(), in))
	require.Len(t, sink.AllTraces(), 1)
	spans := sink.AllTraces()[0].ResourceSpans().At(0).ScopeSpans().At(0).Spans()
	require.Equal(t, 2, spans.Len())
	assert.Equal(t, "GET /users/<REDACTED:email>", spans.At(0).Name())
	note, _ := spans.At(0).Attributes().Get("note")
	assert.Equal(t, "\xff only invalid bytes", note.Str(), "nothing to mask: left as sent")
	chat := spans.At(1).Attributes()
	prompt, _ := chat.Get("gen_ai.prompt.0.content")
	assert.Equal(t, "caf\uFFFD \uFFFD mail <REDACTED:email>", prompt.Str())
	provider, _ := chat.Get("gen_ai.provider.name")
	assert.Equal(t, "anthropic", provider.Str(), "enriched too")
	for _, m := range []string{"otelcol_processor_genai_batches_failed_open", "otelcol_processor_genai_batches_dropped"} {
		_, err := tel.GetMetric(m)
		assert.Error(t, err, "%s must not move", m)
	}
}

// newClockedProcessor starts the processor on a fake clock that drives both the engine's
// time and the reload watch, with its log lines at level and above observed.
func newClockedProcessor(t *testing.T, cfg *Config, level zapcore.Level) (processor.Traces, *clockwork.FakeClock, *observer.ObservedLogs) {
	core, logs := observer.New(level)
	tel := componenttest.NewTelemetry()
	t.Cleanup(func() { require.NoError(t, tel.Shutdown(context.Background())) })
	set := metadatatest.NewSettings(tel)
	set.Logger = zap.New(core)
	clock := clockwork.NewFakeClockAt(time.Now())
	proc, err := newTracesProcessor(context.Background(), set, cfg, new(consumertest.TracesSink), clock)
	require.NoError(t, err)
	require.NoError(t, proc.Start(context.Background(), componenttest.NewNopHost()))
	t.Cleanup(func() { require.NoError(t, proc.Shutdown(context.Background())) })
	require.NoError(t, clock.BlockUntilContext(t.Context(), 1), "the reload watch is ticking")
	return proc, clock, logs
}

// watched advances the clock to the reload watch's next tick and returns the one warning it
// logs.
func watched(t *testing.T, clock *clockwork.FakeClock, logs *observer.ObservedLogs, snippet string) []observer.LoggedEntry {
	clock.Advance(reloadWatchInterval)
	require.Eventually(t, func() bool { return logs.FilterMessageSnippet(snippet).Len() > 0 }, 5*time.Second, time.Millisecond)
	clock.Advance(reloadWatchInterval)
	warnings := logs.FilterMessageSnippet(snippet).All()
	require.Len(t, warnings, 1, "one warning per failed reload")
	return warnings
}

// The collected metrics are the engine's counters, read at collection time: after known
// batches they equal what the engine reports, with a series per status and detector that
// moved.
func TestCollectedMetricsEqualTheEngineCounters(t *testing.T) {
	tel := componenttest.NewTelemetry()
	t.Cleanup(func() { require.NoError(t, tel.Shutdown(context.Background())) })
	cfg := &Config{WriteLatestNames: true, Cost: map[string]any{},
		Redaction: map[string]any{"allow_all_keys": true, "detectors": []any{"email"}}}
	p, err := newGenAIProcessor(metadatatest.NewSettings(tel), cfg, clockwork.NewRealClock())
	require.NoError(t, err)
	t.Cleanup(func() { require.NoError(t, p.Shutdown(context.Background())) })
	for i := 0; i < 3; i++ {
		td := batch("mail jane.doe@example.com")
		chat := td.ResourceSpans().At(0).ScopeSpans().At(0).Spans().At(1)
		chat.Attributes().PutStr("gen_ai.request.model", "claude-3-5-haiku-20241022")
		chat.Attributes().PutInt("gen_ai.usage.input_tokens", int64(10+i))
		_, err := p.processTraces(context.Background(), td)
		require.NoError(t, err)
	}
	var c engine.Counters
	require.NoError(t, p.Engine.ReadCounters(&c))
	require.Equal(t, uint64(3), c.CostPriced)
	metadatatest.AssertEqualProcessorGenaiSpansRecognized(t, tel,
		[]metricdata.DataPoint[int64]{{Value: int64(c.GenAISpans)}}, metricdatatest.IgnoreTimestamp())
	metadatatest.AssertEqualProcessorGenaiCostCalls(t, tel, []metricdata.DataPoint[int64]{
		{Value: int64(c.CostPriced), Attributes: attribute.NewSet(attribute.String("status", "priced"))},
	}, metricdatatest.IgnoreTimestamp())
	var want []metricdata.DataPoint[int64]
	c.Redaction.Named(func(name string, n uint64) {
		if n > 0 {
			want = append(want, metricdata.DataPoint[int64]{Value: int64(n),
				Attributes: attribute.NewSet(attribute.String("detector", name))})
		}
	})
	require.NotEmpty(t, want)
	metadatatest.AssertEqualProcessorGenaiRedactions(t, tel, want, metricdatatest.IgnoreTimestamp())
	metadatatest.AssertEqualProcessorGenaiPricingCacheEntries(t, tel,
		[]metricdata.DataPoint[int64]{{Value: int64(c.PricingCacheEntries)}}, metricdatatest.IgnoreTimestamp())
}

// A pricing file that breaks after start keeps the last good table, and the warning says
// which file and why (the reason travels in the engine stats).
func TestPricingReloadWarningNamesTheFileAndTheReason(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "prices.json")
	good := `{"tollbooth_pricing":1,"source":"mine","providers":[{"id":"anthropic","models":[` +
		`{"id":"acme-llm-9000","prices":{"input_mtok":"1","output_mtok":"1"}}]}]}`
	require.NoError(t, os.WriteFile(file, []byte(good), 0o600))
	cfg := &Config{Cost: map[string]any{"pricing": map[string]any{
		"files": []any{file}, "reload_interval_seconds": 1}}}
	proc, clock, logs := newClockedProcessor(t, cfg, zap.WarnLevel)

	require.NoError(t, os.WriteFile(file, []byte("{ not json"), 0o600))
	// The engine looks at its files at most once per reload interval (1 s of the clock).
	clock.Advance(1100 * time.Millisecond)
	require.NoError(t, proc.ConsumeTraces(context.Background(), batch("hello")))
	assert.Empty(t, logs.FilterMessageSnippet("could not be reloaded").All(), "warned by the watch, not the batch")
	warnings := watched(t, clock, logs, "could not be reloaded")
	reason := warnings[0].ContextMap()["error"]
	assert.Contains(t, reason, "prices.json")
	assert.Contains(t, reason, "not valid JSON")
}

// Secret rules: the start log names what was loaded and the rules skipped for needing a file
// path; a rules file that breaks after start keeps the last good rules, and the warning says
// which file.
func TestSecretRulesAreLoggedAtStartAndABrokenReloadIsNamed(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "acme-rules.toml")
	good := "[[rules]]\nid = \"acme-token\"\nregex = '''acme_[a-z0-9]{16}'''\nkeywords = [\"acme_\"]\n"
	require.NoError(t, os.WriteFile(file, []byte(good), 0o600))
	cfg := &Config{Redaction: map[string]any{"allow_all_keys": true, "secret_rules": map[string]any{
		"files": []any{file}, "reload_interval_seconds": 1}}}
	proc, clock, logs := newClockedProcessor(t, cfg, zap.InfoLevel)

	loaded := logs.FilterMessage("redaction secret rules loaded").All()
	require.Len(t, loaded, 1)
	fields := loaded[0].ContextMap()
	assert.Greater(t, fields["rules"], int64(200), "the bundled gitleaks rules plus ours")
	assert.NotEmpty(t, fields["skipped_need_file_path"])
	assert.Contains(t, fields["files"], file)

	// The first batch starts the reload clock; the rules are checked once per interval after.
	require.NoError(t, proc.ConsumeTraces(context.Background(), batch("hello")))
	require.NoError(t, os.WriteFile(file, []byte("[[rules]]\nid = \"broken\"\nregex = '''(unclosed'''\n"), 0o600))
	clock.Advance(1100 * time.Millisecond)
	require.NoError(t, proc.ConsumeTraces(context.Background(), batch("hello")))
	warnings := watched(t, clock, logs, "secret rules file could not be reloaded")
	assert.Contains(t, warnings[0].ContextMap()["error"], "acme-rules.toml")
}

// The Rust heap gauge reports what the engines hold, read at collection time: a second
// processor (its own engine and price table) raises it, and shutting it down lowers it again.
func TestRustHeapGaugeFollowsWhatTheEnginesHold(t *testing.T) {
	tel := componenttest.NewTelemetry()
	t.Cleanup(func() { require.NoError(t, tel.Shutdown(context.Background())) })
	cfg := NewFactory().CreateDefaultConfig().(*Config) // pricing on, with the bundled table
	start := func() processor.Traces {
		p, err := createTracesProcessor(context.Background(), metadatatest.NewSettings(tel), cfg, new(consumertest.TracesSink))
		require.NoError(t, err)
		require.NoError(t, p.Start(context.Background(), componenttest.NewNopHost()))
		return p
	}
	first := start()
	t.Cleanup(func() { require.NoError(t, first.Shutdown(context.Background())) })

	heap := func() int64 {
		m, err := tel.GetMetric("otelcol_processor_genai_rust_heap_bytes")
		require.NoError(t, err)
		g := m.Data.(metricdata.Gauge[int64])
		require.NotEmpty(t, g.DataPoints)
		return g.DataPoints[0].Value
	}
	one := heap()
	assert.Greater(t, one, int64(1<<20), "an engine with the bundled price table holds megabytes")
	second := start()
	two := heap()
	assert.Greater(t, two, one+one/2, "a second engine shows in the same process-wide gauge")
	require.NoError(t, second.Shutdown(context.Background()))
	assert.Less(t, heap(), two-one/2, "and its memory is given back when it shuts down")
}
