package genaimetricsconnector // import "github.com/tollbooth-dev/tollbooth/go-shim/connector/genaimetricsconnector"

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strings"
	"time"

	"go.opentelemetry.io/collector/component"

	"github.com/tollbooth-dev/tollbooth/go-shim/internal/confcheck"
)

// Config is the `genai_metrics` connector's YAML configuration. Keys follow span_metrics
// where the idea is the same.
type Config struct {
	// MetricsFlushInterval is how often aggregated metrics are emitted.
	MetricsFlushInterval time.Duration `mapstructure:"metrics_flush_interval"`
	// Dimensions are extra labels (tenant, feature, user tier) read from span attributes,
	// then resource attributes.
	Dimensions []Dimension `mapstructure:"dimensions"`
	// AggregationCardinalityLimit caps distinct series; the excess folds into one series
	// labelled otel.metric.overflow=true.
	AggregationCardinalityLimit int `mapstructure:"aggregation_cardinality_limit"`
	// AggregationTemporality is "cumulative" (default; what Prometheus needs) or "delta".
	AggregationTemporality string `mapstructure:"aggregation_temporality"`
	// MetricsExpiration drops series with no new call for this long (0: never).
	MetricsExpiration time.Duration `mapstructure:"metrics_expiration"`
	// Histogram selects explicit semantic-convention buckets (default) or exponential.
	Histogram HistogramConfig `mapstructure:"histogram"`
	// Dedupe tunes exactly-once accounting for spans no genai processor judged (spans it
	// marked are followed as marked). Same keys as the processor's `dedupe` block.
	Dedupe map[string]any `mapstructure:"dedupe"`
	// Processor, when set (for example `genai`), counts in that genai processor's own engine
	// pass instead of marshalling each batch again for an engine of the connector's own: one
	// crossing into Rust per pipeline, the same metrics. The connector must then be an exporter
	// of a pipeline whose processors include that processor, in no other pipeline.
	Processor string `mapstructure:"processor"`

	// prevent unkeyed literal initialization
	_ struct{}
}

// Dimension is one extra label.
type Dimension struct {
	Name    string  `mapstructure:"name"`
	Default *string `mapstructure:"default"`
}

// HistogramConfig chooses the histogram encoding.
type HistogramConfig struct {
	// Exponential, when set, exports exponential histograms with at most MaxSize buckets.
	Exponential *ExponentialConfig `mapstructure:"exponential"`
}

// ExponentialConfig sizes exponential histograms.
type ExponentialConfig struct {
	MaxSize int `mapstructure:"max_size"`
}

var _ component.Config = (*Config)(nil)

// Validate checks the configuration; the collector calls it before start.
func (cfg *Config) Validate() error {
	var errs []error
	if cfg.MetricsFlushInterval <= 0 {
		errs = append(errs, errors.New("metrics_flush_interval must be positive (for example 15s)"))
	}
	if cfg.AggregationCardinalityLimit <= 0 {
		errs = append(errs, errors.New("aggregation_cardinality_limit must be positive (default 2000)"))
	}
	switch strings.ToLower(strings.TrimPrefix(cfg.AggregationTemporality, "AGGREGATION_TEMPORALITY_")) {
	case "cumulative", "delta":
	default:
		errs = append(errs, fmt.Errorf("aggregation_temporality must be cumulative or delta, got %q", cfg.AggregationTemporality))
	}
	if cfg.MetricsExpiration < 0 {
		errs = append(errs, errors.New("metrics_expiration must not be negative (0 keeps series forever)"))
	}
	for i, d := range cfg.Dimensions {
		if d.Name == "" {
			errs = append(errs, fmt.Errorf("dimensions[%d].name must not be empty", i))
		}
	}
	if e := cfg.Histogram.Exponential; e != nil && (e.MaxSize < 2 || e.MaxSize > math.MaxUint32) {
		errs = append(errs, fmt.Errorf("histogram.exponential.max_size must be at least 2 (for example 160), got %d", e.MaxSize))
	}
	var c confcheck.Checker
	c.Dedupe(cfg.Dedupe)
	errs = append(errs, c.Err())
	if cfg.Processor != "" {
		if _, err := cfg.processorID(); err != nil {
			errs = append(errs, err)
		}
		if cfg.Dedupe != nil {
			errs = append(errs, errors.New("dedupe: with `processor:` set the calls are judged once, in the genai processor's pass; "+
				"move the dedupe block to that processor (or remove `processor:`)"))
		}
	}
	return errors.Join(errs...)
}

// processorID parses the `processor` key: the ID of a genai processor.
func (cfg *Config) processorID() (component.ID, error) {
	var id component.ID
	if err := id.UnmarshalText([]byte(cfg.Processor)); err != nil {
		return id, fmt.Errorf("processor: %q is not a component ID (for example genai or genai/tier1): %w", cfg.Processor, err)
	}
	if id.Type().String() != "genai" {
		return id, fmt.Errorf("processor: %q must name a genai processor (genai or genai/<name>)", cfg.Processor)
	}
	return id, nil
}

// engineConfig is the JSON the Rust engine parses (src/config.rs, MetricsConfig); durations
// go as integer nanoseconds.
type engineConfig struct {
	Normalize struct {
		WriteLatestNames bool `json:"write_latest_names"`
	} `json:"normalize"`
	Metrics engineMetrics `json:"metrics"`
	Dedupe  any           `json:"dedupe,omitempty"`
}

type engineMetrics struct {
	Dimensions  []engineDimension `json:"dimensions"`
	Limit       int               `json:"aggregation_cardinality_limit"`
	Temporality string            `json:"aggregation_temporality"`
	Flush       int64             `json:"metrics_flush_interval"`
	Expiration  int64             `json:"metrics_expiration"`
	Histogram   map[string]any    `json:"histogram"`
}

type engineDimension struct {
	Name    string  `json:"name"`
	Default *string `json:"default,omitempty"`
}

func (cfg *Config) engineJSON() ([]byte, error) {
	ec := engineConfig{Metrics: cfg.engineMetrics()}
	if cfg.Dedupe != nil {
		ec.Dedupe = cfg.Dedupe
	}
	return json.Marshal(ec)
}

// engineMetrics is the `metrics` block: the connector's own engine's, or what a fused genai
// processor adds to its engine.
func (cfg *Config) engineMetrics() engineMetrics {
	m := engineMetrics{
		Limit:       cfg.AggregationCardinalityLimit,
		Temporality: cfg.AggregationTemporality,
		Flush:       cfg.MetricsFlushInterval.Nanoseconds(),
		Expiration:  cfg.MetricsExpiration.Nanoseconds(),
		Histogram:   map[string]any{},
		Dimensions:  []engineDimension{},
	}
	for _, d := range cfg.Dimensions {
		m.Dimensions = append(m.Dimensions, engineDimension(d))
	}
	if e := cfg.Histogram.Exponential; e != nil {
		m.Histogram["exponential"] = map[string]any{"max_size": e.MaxSize}
	}
	return m
}
