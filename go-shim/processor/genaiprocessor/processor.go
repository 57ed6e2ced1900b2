package genaiprocessor // import "github.com/tollbooth-dev/tollbooth/go-shim/processor/genaiprocessor"

import (
	"context"
	"encoding/json"

	"github.com/jonboulle/clockwork"
	"go.opentelemetry.io/collector/pdata/ptrace"
	"go.opentelemetry.io/collector/processor"
	"go.opentelemetry.io/collector/processor/processorhelper"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"
	"go.uber.org/zap"

	"github.com/tollbooth-dev/tollbooth/go-shim/internal/base"
	"github.com/tollbooth-dev/tollbooth/go-shim/internal/fuse"
	"github.com/tollbooth-dev/tollbooth/go-shim/processor/genaiprocessor/internal/metadata"
)

// genaiProcessor runs each batch through the engine and applies the edits it returns;
// lifecycle, batch path and the reload watch's ticker are base.Component's.
type genaiProcessor struct {
	*base.Component
	logger    *zap.Logger
	telemetry *metadata.TelemetryBuilder
	// redacting is set when redaction is configured; then onError decides what a batch the
	// engine could not process becomes (failclosed.go).
	redacting bool
	onError   string
	errLog    *errorLog
	// ruleCounts is set when secret rules are configured: their per-rule counts have no
	// fixed place in the counters and are read from the engine's JSON report.
	ruleCounts bool
	watch      reloadWatch
}

func newGenAIProcessor(set processor.Settings, cfg *Config, clock clockwork.Clock) (*genaiProcessor, error) {
	conf, err := cfg.engineJSON()
	if err != nil {
		return nil, err
	}
	// A genai_metrics connector downstream (built before us) may count in our pass.
	req, err := fuse.Claim(fuse.KeyOf(set.Resource, set.ID))
	if err != nil {
		return nil, err
	}
	if req != nil {
		if conf, err = withMetrics(conf, req.Metrics()); err != nil {
			return nil, err
		}
	}
	b, err := base.New(conf, clock)
	if err != nil {
		return nil, err
	}
	if req != nil {
		// The connector takes a share of the engine at its Start: it flushes after we shut down.
		req.Publish(b.Engine)
	}
	tb, err := metadata.NewTelemetryBuilder(set.TelemetrySettings)
	if err != nil {
		b.Close()
		return nil, err
	}
	b.OnClose(tb.Shutdown)
	p := &genaiProcessor{
		Component: b, logger: set.Logger, telemetry: tb,
		redacting: enabled(cfg.Redaction), errLog: newErrorLog(set.Logger),
	}
	if p.redacting {
		if p.onError, err = onErrorPolicy(cfg.Redaction); err != nil {
			b.Close()
			return nil, err
		}
	}
	p.logSecretRules()
	reg, err := p.registerCallback(metadata.Meter(set.TelemetrySettings))
	if err != nil {
		b.Close()
		return nil, err
	}
	b.OnClose(func() { _ = reg.Unregister() })
	b.Every(reloadWatchInterval, p.checkReloads)
	b.AtShutdown(func(context.Context) { p.checkReloads() })
	return p, nil
}

// withMetrics adds a fused genai_metrics connector's metrics block to our engine
// configuration; exactly-once accounting stays ours (our dedupe block).
func withMetrics(conf []byte, metrics json.RawMessage) ([]byte, error) {
	var m map[string]json.RawMessage
	if err := json.Unmarshal(conf, &m); err != nil {
		return nil, err
	}
	m["metrics"] = metrics
	return json.Marshal(m)
}

// logSecretRules says at start which secret rules redaction runs with, and names the rules
// skipped because they need a file path (they cannot match telemetry).
func (p *genaiProcessor) logSecretRules() {
	report, err := p.Engine.Report()
	if err != nil || report.SecretRules == nil {
		return
	}
	p.ruleCounts = true
	r := report.SecretRules
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
// (fail-open). Either way it is counted. The engine's own counters are not read here: the
// collector reads them when it collects its telemetry (telemetry.go).
func (p *genaiProcessor) processTraces(ctx context.Context, td ptrace.Traces) (ptrace.Traces, error) {
	applied, reason, err := p.Consume(td, true)
	if err != nil {
		return p.failed(ctx, td, reason, err)
	}
	p.telemetry.ProcessorGenaiEditsApplied.Add(ctx, int64(applied.Applied))
	return td, nil
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
