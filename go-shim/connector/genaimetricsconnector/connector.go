package genaimetricsconnector // import "github.com/tollbooth-dev/tollbooth/go-shim/connector/genaimetricsconnector"

import (
	"context"

	"github.com/jonboulle/clockwork"
	"go.opentelemetry.io/collector/connector"
	"go.opentelemetry.io/collector/consumer"
	"go.opentelemetry.io/collector/pdata/pmetric"
	"go.opentelemetry.io/collector/pdata/ptrace"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"
	"go.uber.org/zap"

	"github.com/tollbooth-dev/tollbooth/go-shim/connector/genaimetricsconnector/internal/metadata"
	"github.com/tollbooth-dev/tollbooth/go-shim/internal/base"
)

// genaiMetricsConnector aggregates every batch in Rust and exports the aggregate on its
// ticker and once more at shutdown; lifecycle, batch path and ticker are base.Component's.
type genaiMetricsConnector struct {
	*base.Component
	logger    *zap.Logger
	next      consumer.Metrics
	telemetry *metadata.TelemetryBuilder
}

var _ connector.Traces = (*genaiMetricsConnector)(nil)

func newConnector(set connector.Settings, cfg *Config, next consumer.Metrics, clock clockwork.Clock) (*genaiMetricsConnector, error) {
	conf, err := cfg.engineJSON()
	if err != nil {
		return nil, err
	}
	b, err := base.New(conf, clock)
	if err != nil {
		return nil, err
	}
	tb, err := metadata.NewTelemetryBuilder(set.TelemetrySettings)
	if err != nil {
		b.Close()
		return nil, err
	}
	b.OnClose(tb.Shutdown)
	c := &genaiMetricsConnector{Component: b, logger: set.Logger, next: next, telemetry: tb}
	b.Every(cfg.MetricsFlushInterval, func() { c.export(context.Background()) })
	b.AtShutdown(c.export)
	return c, nil
}

func (c *genaiMetricsConnector) Capabilities() consumer.Capabilities {
	return consumer.Capabilities{MutatesData: false}
}

// ConsumeTraces aggregates the batch in Rust; the connector emits metrics only on its ticker.
func (c *genaiMetricsConnector) ConsumeTraces(ctx context.Context, td ptrace.Traces) error {
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
