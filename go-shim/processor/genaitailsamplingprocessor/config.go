package genaitailsamplingprocessor // import "github.com/tollbooth-dev/tollbooth/go-shim/processor/genaitailsamplingprocessor"

import (
	"encoding/json"
	"fmt"
	"time"

	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/confmap"

	"github.com/tollbooth-dev/tollbooth/go-shim/internal/confcheck"
)

// defaultMaxBufferedBytes mirrors the Rust default (src/sampling/config.rs); it is only used
// to report the configured budget as a gauge when the key is absent.
const defaultMaxBufferedBytes = 256 << 20

// Release limits (README "Releases"): every ConsumeTraces call this processor makes downstream
// carries at most this many spans and encoded bytes, so one release never exceeds an OTLP/gRPC
// backend's default 4 MiB message limit.
const (
	defaultReleaseMaxSpans = 8192
	defaultReleaseMaxBytes = 2 << 20
	minReleaseMaxBytes     = 64 << 10
	maxReleaseMaxBytes     = 64 << 20
	maxReleaseMaxSpans     = 1 << 20
)

// ReleaseConfig bounds each batch sent downstream.
type ReleaseConfig struct {
	// MaxSpans is the most spans in one downstream call. Default 8192.
	MaxSpans int `mapstructure:"max_spans"`
	// MaxBytes is the most OTLP protobuf bytes in one downstream call (a single span larger than
	// this is sent alone). Default 2 MiB, half of gRPC's default 4 MiB receive limit.
	MaxBytes int `mapstructure:"max_bytes"`
}

// Config is the `genai_tail_sampling` processor's YAML configuration.
//
// Only ReleaseInterval and Release are read by Go. Every other key (contrib tail_sampling's schema
// unchanged - decision_wait, num_traces, decision_cache, policies, ... - plus
// max_buffered_bytes and the genai_* policy types) is captured as-is and handed to the Rust
// engine as JSON, which validates it and names any bad key; the processor fails to be created
// (so the collector fails to start) with that message.
type Config struct {
	// ReleaseInterval is how often decided traces are collected from the engine and sent on.
	// Decisions are due on the engine's clock (decision_wait from the first span); this only
	// bounds how late a due trace is forwarded. Default 100ms.
	ReleaseInterval time.Duration `mapstructure:"release_interval"`

	// Release bounds every downstream call (whole traces per call when they fit; a larger trace
	// is split across calls).
	Release ReleaseConfig `mapstructure:"release"`

	// Sampling holds every other key, passed to the engine unchanged.
	Sampling map[string]any `mapstructure:",remain"`

	// prevent unkeyed literal initialization
	_ struct{}
}

var (
	_ component.Config    = (*Config)(nil)
	_ confmap.Unmarshaler = (*Config)(nil)
)

// Unmarshal reads release_interval into Go and keeps every other key for the engine. It
// takes the keys from ToStringMap, which resolves ${env:...} references to their values
// (a plain `,remain` capture would keep the resolver's internal wrappers).
func (cfg *Config) Unmarshal(conf *confmap.Conf) error {
	if conf == nil {
		return nil
	}
	var goKeys struct {
		ReleaseInterval time.Duration `mapstructure:"release_interval"`
		Release         ReleaseConfig `mapstructure:"release"`
	}
	goKeys.ReleaseInterval = cfg.ReleaseInterval
	goKeys.Release = cfg.Release
	if err := conf.Unmarshal(&goKeys, confmap.WithIgnoreUnused()); err != nil {
		return err
	}
	cfg.ReleaseInterval = goKeys.ReleaseInterval
	cfg.Release = goKeys.Release
	rest := conf.ToStringMap()
	delete(rest, "release_interval")
	delete(rest, "release")
	cfg.Sampling = rest
	return nil
}

// Validate checks what Go reads and range-checks every numeric sampling key (validate.go), so
// `otelcol validate` refuses an out-of-range value naming the key. The engine parses the
// sampling keys again at creation and names unknown keys, bad types and cross-field mistakes.
func (cfg *Config) Validate() error {
	var c confcheck.Checker
	if cfg.ReleaseInterval <= 0 {
		c.Failf("release_interval", "must be greater than 0 (for example 100ms)")
	}
	release := map[string]any{"max_spans": cfg.Release.MaxSpans, "max_bytes": cfg.Release.MaxBytes}
	c.Number(release, "release", "max_spans", confcheck.Range{Min: 1, Max: maxReleaseMaxSpans, Integer: true,
		Hint: "spans per downstream call, for example 8192"})
	c.Number(release, "release", "max_bytes", confcheck.Range{Min: minReleaseMaxBytes, Max: maxReleaseMaxBytes, Integer: true,
		Hint: "encoded bytes per downstream call, for example 2097152; keep it under the exporter's and backend's message limit (gRPC: 4 MiB)"})
	checkSampling(&c, cfg.Sampling)
	return c.Err()
}

// engineJSON is the JSON the Rust engine parses (src/config.rs): no normalisation edits
// (this processor only holds and releases), and the sampling keys verbatim.
func (cfg *Config) engineJSON() ([]byte, error) {
	sampling := cfg.Sampling
	if sampling == nil {
		// Never send null: that would mean "no sampler" and every batch would pass.
		sampling = map[string]any{}
	}
	b, err := json.Marshal(map[string]any{
		"normalize": map[string]any{"write_latest_names": false},
		"sampling":  sampling,
	})
	if err != nil {
		return nil, fmt.Errorf("genai_tail_sampling: configuration cannot be encoded: %w", err)
	}
	return b, nil
}

// maxBufferedBytes is the configured byte budget, for the gauge.
func (cfg *Config) maxBufferedBytes() int64 {
	switch v := cfg.Sampling["max_buffered_bytes"].(type) {
	case int:
		return int64(v)
	case int64:
		return v
	case uint64:
		return int64(v)
	case float64:
		return int64(v)
	}
	return defaultMaxBufferedBytes
}
