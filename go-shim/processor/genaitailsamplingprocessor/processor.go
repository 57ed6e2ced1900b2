package genaitailsamplingprocessor // import "github.com/tollbooth-dev/tollbooth/go-shim/processor/genaitailsamplingprocessor"

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/jonboulle/clockwork"
	"go.opentelemetry.io/collector/consumer"
	"go.opentelemetry.io/collector/pdata/pmetric"
	"go.opentelemetry.io/collector/pdata/ptrace"
	"go.opentelemetry.io/collector/processor"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"
	"go.uber.org/zap"

	"github.com/tollbooth-dev/tollbooth/go-shim/internal/base"
	"github.com/tollbooth-dev/tollbooth/go-shim/internal/engine"
	"github.com/tollbooth-dev/tollbooth/go-shim/processor/genaitailsamplingprocessor/internal/metadata"
)

// tailSampler hands every batch to the Rust engine, which buffers it by trace ID; a ticker
// goroutine collects the traces the engine has decided to keep and sends them on. The engine
// makes decisions inside Release, off the ingest path, so ConsumeTraces never waits for a
// decision and a slow tick never blocks ingestion (the engine's buffer is sharded).
type tailSampler struct {
	*base.Component
	logger    *zap.Logger
	next      consumer.Traces
	telemetry *metadata.TelemetryBuilder
	maxBytes  int64
	limits    chunkLimits

	// policies reads the per-policy tallies for the async instruments (telemetry.go).
	policies *policyReader

	// releaseMu serialises releases so the final flush cannot race a tick; it guards refused.
	releaseMu sync.Mutex
	refused   refusedReleases
}

var _ processor.Traces = (*tailSampler)(nil)

func newTailSampler(set processor.Settings, cfg *Config, next consumer.Traces, clock clockwork.Clock) (*tailSampler, error) {
	conf, err := cfg.engineJSON()
	if err != nil {
		return nil, err
	}
	b, err := base.New(conf, clock)
	if err != nil {
		var engErr *engine.Error
		if errors.As(err, &engErr) && engErr.Status == engine.StatusInvalidConfig {
			return nil, fmt.Errorf("genai_tail_sampling: invalid configuration: %s", engErr.Message)
		}
		return nil, fmt.Errorf("genai_tail_sampling: %w", err)
	}
	tb, err := metadata.NewTelemetryBuilder(set.TelemetrySettings)
	if err != nil {
		b.Close()
		return nil, err
	}
	b.OnClose(tb.Shutdown)
	p := &tailSampler{
		Component: b,
		logger:    set.Logger,
		next:      next,
		telemetry: tb,
		maxBytes:  cfg.maxBufferedBytes(),
		limits:    chunkLimits{maxSpans: cfg.Release.MaxSpans, maxBytes: cfg.Release.MaxBytes},
	}
	if p.policies, err = newPolicyReader(b.Engine); err != nil {
		b.Close()
		return nil, err
	}
	reg, err := p.registerCallback(metadata.Meter(set.TelemetrySettings))
	if err != nil {
		b.Close()
		return nil, err
	}
	b.OnClose(func() { _ = reg.Unregister() })
	b.Every(cfg.ReleaseInterval, func() { p.release(context.Background(), false) })
	// Shutdown decides and forwards every pending trace (the engine drops them instead when
	// drop_pending_traces_on_shutdown is set) before the engine is freed.
	b.AtShutdown(func(ctx context.Context) { p.release(ctx, true) })
	return p, nil
}

func (p *tailSampler) Capabilities() consumer.Capabilities {
	// Held batches are copied by the engine; fail-open batches are forwarded unchanged.
	return consumer.Capabilities{MutatesData: false}
}

// ConsumeTraces gives the batch to the engine. A held batch is the engine's now; any failure
// forwards the batch unchanged (fail-open) and counts it: nothing is lost by us.
func (p *tailSampler) ConsumeTraces(ctx context.Context, td ptrace.Traces) error {
	res, reason, err := p.Consume(td, true)
	if err != nil {
		return p.failOpen(ctx, td, reason, err)
	}
	if !res.Held {
		// Not expected with a sampler configured; never lose the batch.
		return p.next.ConsumeTraces(ctx, td)
	}
	return nil
}

func (p *tailSampler) failOpen(ctx context.Context, td ptrace.Traces, reason string, err error) error {
	attrs := metric.WithAttributeSet(attribute.NewSet(attribute.String("reason", reason)))
	p.telemetry.ProcessorGenaiTailSamplingBatchesFailedOpen.Add(ctx, 1, attrs)
	p.telemetry.ProcessorGenaiTailSamplingSpansFailedOpen.Add(ctx, int64(td.SpanCount()), attrs)
	p.logger.Debug("batch passed on unsampled (fail-open)", zap.String("reason", reason), zap.Error(err))
	return p.next.ConsumeTraces(ctx, td)
}

// release collects the decided-and-kept traces and sends them on in chunks within
// release.max_spans and release.max_bytes (release.go). The engine hands a release over in
// pieces of at most a few MiB (src/sampling/sampler.rs RELEASE_PIECE_BYTES), so a trace
// larger than the whole buffer never exists twice in memory; each piece is copied into Go
// memory before decoding, sent, and dropped before the next is asked for.
func (p *tailSampler) release(ctx context.Context, flushAll bool) {
	p.releaseMu.Lock()
	defer p.releaseMu.Unlock()
	// The engine decides on the component's clock; the duration histogram measures real time.
	now, started := p.Clock.Now(), time.Now()
	defer func() {
		p.telemetry.ProcessorGenaiTailSamplingReleaseDuration.Record(ctx, time.Since(started).Seconds())
	}()
	for {
		var out ptrace.Traces
		var have bool
		var encodedSize int
		err := p.Engine.Release(now, flushAll, func(b []byte) error {
			if len(b) == 0 {
				return nil
			}
			var u ptrace.ProtoUnmarshaler
			td, err := u.UnmarshalTraces(bytes.Clone(b))
			if err != nil {
				return err
			}
			out, have, encodedSize = td, true, len(b)
			return nil
		})
		if err != nil {
			if !errors.Is(err, engine.ErrClosed) {
				p.telemetry.ProcessorGenaiTailSamplingReleaseFailures.Add(ctx, 1)
				p.logger.Error("tail sampling release failed", zap.Error(err))
			}
			return
		}
		if !have {
			break
		}
		p.forward(ctx, out, encodedSize, flushAll)
	}
	// The traces decided by this release are in the engine's run costs now; a release that
	// failed leaves them there for the next one.
	p.collectRunCosts(ctx)
}

// collectRunCosts takes the cost of each trace decided by the release just made and records
// it in the cost-per-trace histogram.
func (p *tailSampler) collectRunCosts(ctx context.Context) {
	err := p.Engine.CollectMetrics(p.Clock.Now(), func(b []byte) error {
		if len(b) == 0 {
			return nil
		}
		var u pmetric.ProtoUnmarshaler
		md, err := u.UnmarshalMetrics(bytes.Clone(b))
		if err != nil {
			return err
		}
		p.recordRunCosts(ctx, md)
		return nil
	})
	if err != nil && !errors.Is(err, engine.ErrClosed) {
		p.logger.Warn("collecting the cost of decided traces failed", zap.Error(err))
	}
}
