package genaimetricsconnector // import "github.com/tollbooth-dev/tollbooth/go-shim/connector/genaimetricsconnector"

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/jonboulle/clockwork"
	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/connector"
	"go.opentelemetry.io/collector/consumer"
	"go.opentelemetry.io/collector/pdata/pmetric"
	"go.opentelemetry.io/collector/pdata/ptrace"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"
	"go.uber.org/zap"

	"github.com/tollbooth-dev/tollbooth/go-shim/connector/genaimetricsconnector/internal/metadata"
	"github.com/tollbooth-dev/tollbooth/go-shim/internal/base"
	"github.com/tollbooth-dev/tollbooth/go-shim/internal/fuse"
)

// genaiMetricsConnector aggregates every batch in Rust and exports the aggregate on its
// ticker and once more at shutdown; lifecycle, batch path and ticker are base.Component's.
//
// Fused (`processor:` set), it has no engine of its own: the genai processor it names counts
// in its own pass (internal/fuse), the connector ignores the batches it receives and exports
// what that shared engine aggregated. The connector has no telemetry read from the engine,
// so nothing is counted twice: the processor's telemetry covers the pass, including batches
// the engine could not process (its batches_failed_open / batches_dropped).
type genaiMetricsConnector struct {
	*base.Component
	logger    *zap.Logger
	next      consumer.Metrics
	telemetry *metadata.TelemetryBuilder
	// fused is the request to count in a genai processor's pass, when `processor:` is set.
	fused     *fuse.Request
	processor component.ID
}

var _ connector.Traces = (*genaiMetricsConnector)(nil)

func newConnector(set connector.Settings, cfg *Config, next consumer.Metrics, clock clockwork.Clock) (*genaiMetricsConnector, error) {
	var b *base.Component
	var req *fuse.Request
	var procID component.ID
	if cfg.Processor != "" {
		id, err := cfg.processorID()
		if err != nil {
			return nil, err
		}
		metrics, err := json.Marshal(cfg.engineMetrics())
		if err != nil {
			return nil, err
		}
		if req, err = fuse.Register(fuse.KeyOf(set.Resource, id), metrics); err != nil {
			return nil, err
		}
		b, procID = base.NewShared(clock), id
		b.OnClose(req.Unregister)
	} else {
		conf, err := cfg.engineJSON()
		if err != nil {
			return nil, err
		}
		if b, err = base.New(conf, clock); err != nil {
			return nil, err
		}
	}
	tb, err := metadata.NewTelemetryBuilder(set.TelemetrySettings)
	if err != nil {
		b.Close()
		return nil, err
	}
	b.OnClose(tb.Shutdown)
	c := &genaiMetricsConnector{Component: b, logger: set.Logger, next: next, telemetry: tb, fused: req, processor: procID}
	b.Every(cfg.MetricsFlushInterval, func() { c.export(context.Background()) })
	b.AtShutdown(c.export)
	return c, nil
}

// Start takes the engine of the genai processor a fused connector counts in, then starts the
// flush ticker.
func (c *genaiMetricsConnector) Start(ctx context.Context, host component.Host) error {
	if c.fused != nil && c.Engine == nil {
		eng := c.fused.Take()
		if eng == nil {
			return fmt.Errorf("genai_metrics: processor %q counts for this connector, but no such genai processor was built "+
				"before it: the connector must be an exporter of a pipeline whose processors include %q "+
				"(or remove `processor:` to count separately)", c.processor, c.processor)
		}
		c.Attach(eng)
	}
	return c.Component.Start(ctx, host)
}

func (c *genaiMetricsConnector) Capabilities() consumer.Capabilities {
	return consumer.Capabilities{MutatesData: false}
}

// ConsumeTraces aggregates the batch in Rust; the connector emits metrics only on its ticker.
// Fused, the processor has counted the batch already: nothing to do.
func (c *genaiMetricsConnector) ConsumeTraces(ctx context.Context, td ptrace.Traces) error {
	if c.fused != nil {
		return nil
	}
	if _, reason, err := c.Consume(td, false); err != nil {
		c.telemetry.ConnectorGenaiMetricsBatchesFailedOpen.Add(ctx, 1,
			metric.WithAttributeSet(attribute.NewSet(attribute.String("reason", reason))))
		c.logger.Debug("batch not aggregated", zap.String("reason", reason), zap.Error(err))
	}
	// Aggregation problems never fail the traces pipeline.
	return nil
}

// export collects the aggregated metrics and sends them to the metrics pipeline.
func (c *genaiMetricsConnector) export(ctx context.Context) {
	if c.Engine == nil {
		return // fused and never started: no engine was taken, nothing was counted
	}
	var md pmetric.Metrics
	have := false
	var unmarshaler pmetric.ProtoUnmarshaler
	err := c.Engine.CollectMetrics(c.Clock.Now(), func(buf []byte) error {
		if len(buf) == 0 {
			return nil
		}
		var err error
		// pdata copies every field, so the Rust buffer can be freed right after.
		md, err = unmarshaler.UnmarshalMetrics(buf)
		have = err == nil
		return err
	})
	if have && md.MetricCount() > 0 {
		err = c.next.ConsumeMetrics(ctx, md)
	}
	if err != nil {
		c.telemetry.ConnectorGenaiMetricsExportsFailed.Add(ctx, 1)
		c.logger.Warn("exporting GenAI metrics failed", zap.Error(err))
	}
}
