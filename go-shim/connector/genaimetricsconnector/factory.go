package genaimetricsconnector // import "github.com/tollbooth-dev/tollbooth/go-shim/connector/genaimetricsconnector"

import (
	"context"
	"time"

	"github.com/jonboulle/clockwork"
	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/connector"
	"go.opentelemetry.io/collector/consumer"

	"github.com/tollbooth-dev/tollbooth/go-shim/connector/genaimetricsconnector/internal/metadata"
)

// NewFactory returns the factory for the `genai_metrics` connector.
func NewFactory() connector.Factory {
	return connector.NewFactory(
		metadata.Type,
		createDefaultConfig,
		connector.WithTracesToMetrics(createTracesToMetrics, metadata.TracesToMetricsStability),
	)
}

func createDefaultConfig() component.Config {
	return &Config{
		MetricsFlushInterval:        15 * time.Second,
		AggregationCardinalityLimit: 2000,
		AggregationTemporality:      "cumulative",
		MetricsExpiration:           time.Hour,
	}
}

func createTracesToMetrics(_ context.Context, set connector.Settings, cfg component.Config, next consumer.Metrics) (connector.Traces, error) {
	return newConnector(set, cfg.(*Config), next, clockwork.NewRealClock())
}
