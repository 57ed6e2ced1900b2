package genaimetricsconnector // import "github.com/tollbooth-dev/tollbooth/go-shim/connector/genaimetricsconnector"

import (
	"encoding/json"
	"errors"
	"time"

	"go.opentelemetry.io/collector/component"
)

// Config is the `genai_metrics` connector's YAML configuration.
type Config struct {
	// MetricsFlushInterval is how often aggregated metrics are emitted (span_metrics' key).
	MetricsFlushInterval time.Duration `mapstructure:"metrics_flush_interval"`

	// prevent unkeyed literal initialization
	_ struct{}
}

var _ component.Config = (*Config)(nil)

// Validate checks the configuration; the collector calls it before start.
func (cfg *Config) Validate() error {
	if cfg.MetricsFlushInterval <= 0 {
		return errors.New("metrics_flush_interval must be positive (for example 15s)")
	}
	return nil
}

// engineConfig is the JSON the Rust engine parses (src/config.rs).
type engineConfig struct {
	Metrics struct{} `json:"metrics"`
}

func (cfg *Config) engineJSON() ([]byte, error) {
	return json.Marshal(engineConfig{})
}
