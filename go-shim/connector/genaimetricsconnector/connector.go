package genaimetricsconnector // import "github.com/tollbooth-dev/tollbooth/go-shim/connector/genaimetricsconnector"

import (
	"context"
	"sync"
	"time"

	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/connector"
	"go.opentelemetry.io/collector/consumer"
	"go.opentelemetry.io/collector/pdata/pmetric"
	"go.opentelemetry.io/collector/pdata/ptrace"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"
	"go.uber.org/zap"

	"github.com/tollbooth-dev/tollbooth/go-shim/connector/genaimetricsconnector/internal/metadata"
	"github.com/tollbooth-dev/tollbooth/go-shim/internal/engine"
)

type genaiMetricsConnector struct {
	logger    *zap.Logger
	cfg       *Config
	next      consumer.Metrics
	engine    *engine.Engine
	telemetry *metadata.TelemetryBuilder
	marshaler ptrace.ProtoMarshaler

	stop chan struct{}
	done sync.WaitGroup
	once sync.Once
}

var _ connector.Traces = (*genaiMetricsConnector)(nil)

func newConnector(set connector.Settings, cfg *Config, next consumer.Metrics) (*genaiMetricsConnector, error) {
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
	return &genaiMetricsConnector{
		logger: set.Logger, cfg: cfg, next: next, engine: eng, telemetry: tb,
		stop: make(chan struct{}),
	}, nil
}

func (c *genaiMetricsConnector) Capabilities() consumer.Capabilities {
	return consumer.Capabilities{MutatesData: false}
}

// ConsumeTraces aggregates the batch in Rust; the connector emits metrics only on its ticker.
func (c *genaiMetricsConnector) ConsumeTraces(ctx context.Context, td ptrace.Traces) error {
	buf, err := c.marshaler.MarshalTraces(td)
	if err == nil {
		err = c.engine.Process(buf, time.Now(), func([]byte) error { return nil })
	}
	if err != nil {
		reason := engine.FailReason(err)
		c.telemetry.ConnectorGenaiMetricsBatchesFailedOpen.Add(ctx, 1,
			metric.WithAttributeSet(attribute.NewSet(attribute.String("reason", reason))))
		c.logger.Debug("batch not aggregated", zap.String("reason", reason), zap.Error(err))
	}
	// Aggregation problems never fail the traces pipeline.
	return nil
}

func (c *genaiMetricsConnector) Start(context.Context, component.Host) error {
	c.done.Add(1)
	go c.loop()
	return nil
}

func (c *genaiMetricsConnector) loop() {
	defer c.done.Done()
	ticker := time.NewTicker(c.cfg.MetricsFlushInterval)
	defer ticker.Stop()
	for {
		select {
		case <-c.stop:
			return
		case <-ticker.C:
			c.export(context.Background())
		}
	}
}

// export collects the aggregated metrics and sends them to the metrics pipeline.
func (c *genaiMetricsConnector) export(ctx context.Context) {
	var md pmetric.Metrics
	have := false
	var unmarshaler pmetric.ProtoUnmarshaler
	err := c.engine.CollectMetrics(time.Now(), func(buf []byte) error {
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

// Shutdown stops the ticker, emits a final export and frees the engine. Safe without Start.
func (c *genaiMetricsConnector) Shutdown(ctx context.Context) error {
	c.once.Do(func() {
		close(c.stop)
		c.done.Wait()
		if c.engine != nil {
			c.export(ctx)
			c.engine.Close()
		}
		if c.telemetry != nil {
			c.telemetry.Shutdown()
		}
	})
	return nil
}
