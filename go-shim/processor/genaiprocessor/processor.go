package genaiprocessor // import "github.com/tollbooth-dev/tollbooth/go-shim/processor/genaiprocessor"

import (
	"context"
	"errors"
	"sync"
	"time"

	"go.opentelemetry.io/collector/pdata/ptrace"
	"go.opentelemetry.io/collector/processor"
	"go.opentelemetry.io/collector/processor/processorhelper"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"
	"go.uber.org/zap"

	"github.com/tollbooth-dev/tollbooth/go-shim/internal/engine"
	"github.com/tollbooth-dev/tollbooth/go-shim/processor/genaiprocessor/internal/metadata"
)

type genaiProcessor struct {
	logger    *zap.Logger
	engine    *engine.Engine
	telemetry *metadata.TelemetryBuilder
	marshaler ptrace.ProtoMarshaler
	// process is engine.Process; tests replace it to make the engine fail.
	process func(batch []byte, now time.Time, fn func(edits []byte) error) error
	// redacting is set when redaction is configured; then onError decides what a batch the
	// engine could not process becomes (failclosed.go).
	redacting bool
	onError   string
	errLog    *errorLog
	// last is the engine's cumulative counters as last reported, to turn them into increments.
	mu   sync.Mutex
	last engine.Stats
}

func newGenAIProcessor(set processor.Settings, cfg *Config) (*genaiProcessor, error) {
	conf, err := cfg.engineJSON()
	if err != nil {
		return nil, err
	}
	eng, err := engine.New(conf, time.Now())
	if err != nil {
		return nil, err
	}
	tb, err := metadata.NewTelemetryBuilder(set.TelemetrySettings)
	if err != nil {
		eng.Close()
		return nil, err
	}
	p := &genaiProcessor{
		logger: set.Logger, engine: eng, telemetry: tb, process: eng.Process,
		redacting: enabled(cfg.Redaction), errLog: newErrorLog(set.Logger),
	}
	if p.redacting {
		if p.onError, err = onErrorPolicy(cfg.Redaction); err != nil {
			tb.Shutdown()
			eng.Close()
			return nil, err
		}
	}
	p.logSecretRules()
	// The pricing cache's size is a gauge, read from the counters of the last batch.
	gauge := func(f func(s engine.Stats) uint64) metric.Int64Callback {
		return func(_ context.Context, o metric.Int64Observer) error {
			p.mu.Lock()
			v := f(p.last)
			p.mu.Unlock()
			o.Observe(int64(v))
			return nil
		}
	}
	if err := errors.Join(
		tb.RegisterProcessorGenaiPricingCacheEntriesCallback(gauge(func(s engine.Stats) uint64 { return s.PricingCacheEntries })),
		tb.RegisterProcessorGenaiPricingCacheBytesCallback(gauge(func(s engine.Stats) uint64 { return s.PricingCacheBytes })),
		tb.RegisterProcessorGenaiDedupeWindowEntriesCallback(gauge(func(s engine.Stats) uint64 { return s.DedupeWindowEntries })),
		tb.RegisterProcessorGenaiDedupeWindowBytesCallback(gauge(func(s engine.Stats) uint64 { return s.DedupeWindowBytes })),
		// Read at each collection, not from the last batch: the heap changes while idle too
		// (the sampler releasing, metrics expiring).
		tb.RegisterProcessorGenaiRustHeapBytesCallback(func(_ context.Context, o metric.Int64Observer) error {
			if st, err := p.engine.Stats(); err == nil {
				o.Observe(int64(st.RustHeapBytes))
			}
			return nil
		}),
	); err != nil {
		tb.Shutdown()
		eng.Close()
		return nil, err
	}
	return p, nil
}

// logSecretRules says at start which secret rules redaction runs with, and names the rules
// skipped because they need a file path (they cannot match telemetry).
func (p *genaiProcessor) logSecretRules() {
	stats, err := p.engine.Stats()
	if err != nil || stats.SecretRules == nil {
		return
	}
	r := stats.SecretRules
	skipped := make([]string, 0, len(r.Skipped))
	for _, s := range r.Skipped {
		skipped = append(skipped, s.ID)
	}
	p.logger.Info("redaction secret rules loaded",
		zap.Int("rules", r.Rules), zap.Strings("files", r.Files),
		zap.String("bundled", r.BundledSource), zap.Strings("skipped_need_file_path", skipped))
}

// processTraces hands the batch to the engine once and applies the edits it returns. A batch
// the engine cannot process is dropped when redaction is configured (fail closed: it would
// leave unredacted) unless `redaction.on_error: pass`; otherwise it passes on unchanged
// (fail-open). Either way it is counted.
func (p *genaiProcessor) processTraces(ctx context.Context, td ptrace.Traces) (ptrace.Traces, error) {
	buf, err := p.marshaler.MarshalTraces(td)
	if err != nil {
		return p.failed(ctx, td, "marshal", err)
	}
	var applied engine.EditResult
	err = p.process(buf, time.Now(), func(edits []byte) error {
		var applyErr error
		applied, applyErr = engine.ApplyEdits(td, edits)
		return applyErr
	})
	if err != nil {
		return p.failed(ctx, td, engine.FailReason(err), err)
	}
	p.telemetry.ProcessorGenaiEditsApplied.Add(ctx, int64(applied.Applied))
	p.reportStats(ctx)
	return td, nil
}

// reportStats forwards the engine's cumulative counters to the collector's telemetry as
// increments since the last report.
func (p *genaiProcessor) reportStats(ctx context.Context) {
	stats, err := p.engine.Stats()
	if err != nil {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	prev := p.last
	p.last = stats
	add := func(c metric.Int64Counter, now, before uint64, opts ...metric.AddOption) {
		if now > before {
			c.Add(ctx, int64(now-before), opts...)
		}
	}
	t := p.telemetry
	add(t.ProcessorGenaiSpansRecognized, stats.GenAISpans, prev.GenAISpans)
	status := func(s string) metric.AddOption {
		return metric.WithAttributeSet(attribute.NewSet(attribute.String("status", s)))
	}
	add(t.ProcessorGenaiCostCalls, stats.CostPriced, prev.CostPriced, status("priced"))
	add(t.ProcessorGenaiCostCalls, stats.CostUnpriced, prev.CostUnpriced, status("unpriced"))
	add(t.ProcessorGenaiCostCalls, stats.CostNoUsage, prev.CostNoUsage, status("no_usage"))
	add(t.ProcessorGenaiCostCalls, stats.CostProviderReported, prev.CostProviderReported, status("provider_reported"))
	add(t.ProcessorGenaiCostCalls, stats.CostEstimated, prev.CostEstimated, status("estimated"))
	add(t.ProcessorGenaiCostCalls, stats.DuplicateCalls, prev.DuplicateCalls, status("duplicate"))
	add(t.ProcessorGenaiDedupeEvictions, stats.DedupeWindowEvictions, prev.DedupeWindowEvictions)
	add(t.ProcessorGenaiPricingReloads, stats.PricingReloads, prev.PricingReloads)
	if stats.PricingReloadErrors > prev.PricingReloadErrors {
		p.logger.Warn("a pricing file could not be reloaded; the last good price table stays in use",
			zap.String("error", stats.PricingLastReloadError))
	}
	add(t.ProcessorGenaiPricingReloadErrors, stats.PricingReloadErrors, prev.PricingReloadErrors)
	if r := stats.SecretRules; r != nil && (prev.SecretRules == nil || r.ReloadErrors > prev.SecretRules.ReloadErrors) && r.ReloadErrors > 0 {
		p.logger.Warn("a secret rules file could not be reloaded; the last good rules stay in use",
			zap.String("error", r.LastError))
	}
	for name, n := range stats.Redaction {
		add(t.ProcessorGenaiRedactions, n, prev.Redaction[name],
			metric.WithAttributeSet(attribute.NewSet(attribute.String("detector", name))))
	}
}

// failed decides what becomes of a batch the engine could not process. ApplyEdits validates
// a whole edit list before applying any of it, so td is still the batch as received.
func (p *genaiProcessor) failed(ctx context.Context, td ptrace.Traces, reason string, err error) (ptrace.Traces, error) {
	attrs := metric.WithAttributeSet(attribute.NewSet(attribute.String("reason", reason)))
	spans := int64(td.SpanCount())
	fields := []zap.Field{zap.String("reason", reason), zap.Int64("spans", spans), zap.Error(err)}
	if p.redacting && p.onError == onErrorDrop {
		p.telemetry.ProcessorGenaiBatchesDropped.Add(ctx, 1, attrs)
		p.telemetry.ProcessorGenaiSpansDropped.Add(ctx, spans, attrs)
		p.errLog.error("redaction could not run on a batch: dropped it (redaction.on_error: drop)", fields...)
		return td, processorhelper.ErrSkipProcessingData
	}
	p.telemetry.ProcessorGenaiBatchesFailedOpen.Add(ctx, 1, attrs)
	p.telemetry.ProcessorGenaiSpansFailedOpen.Add(ctx, spans, attrs)
	if p.redacting {
		p.errLog.error("redaction could not run on a batch: passed it on UNREDACTED (redaction.on_error: pass)", fields...)
	} else {
		p.logger.Debug("batch passed on unchanged (fail-open)", fields...)
	}
	return td, nil
}

func (p *genaiProcessor) shutdown(context.Context) error {
	p.engine.Close()
	p.telemetry.Shutdown()
	return nil
}
