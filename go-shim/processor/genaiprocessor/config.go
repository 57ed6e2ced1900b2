package genaiprocessor // import "github.com/tollbooth-dev/tollbooth/go-shim/processor/genaiprocessor"

import (
	"encoding/json"
	"errors"
	"fmt"

	"go.opentelemetry.io/collector/component"

	"github.com/tollbooth-dev/tollbooth/go-shim/internal/confcheck"
)

// Config is the `genai` processor's YAML configuration.
type Config struct {
	// WriteLatestNames writes the latest OTel GenAI attribute names (gen_ai.provider.name, ...)
	// on spans that carry only older or vendor spellings, keeping the originals, so one query
	// works across every instrumentation.
	WriteLatestNames bool `mapstructure:"write_latest_names"`

	// Cost configures usage normalisation and pricing (README: "Cost"). On by default with the
	// bundled price table; `enabled: false` turns it off. The keys are validated by the engine
	// at start, which names any it does not know.
	Cost map[string]any `mapstructure:"cost"`

	// Redaction takes contrib `redaction` keys unchanged plus Tollbooth's detectors, content
	// policy, truncation and span dropping (README: "Redaction"). Off when absent or
	// `enabled: false`.
	Redaction map[string]any `mapstructure:"redaction"`

	// prevent unkeyed literal initialization
	_ struct{}
}

var _ component.Config = (*Config)(nil)

// Validate checks the configuration; the collector calls it before start.
func (cfg *Config) Validate() error {
	for name, section := range map[string]map[string]any{"cost": cfg.Cost, "redaction": cfg.Redaction} {
		if v, ok := section["enabled"]; ok {
			if _, isBool := v.(bool); !isBool {
				return fmt.Errorf("%s.enabled must be true or false, got %v", name, v)
			}
		}
	}
	if enabled(cfg.Redaction) {
		if _, err := json.Marshal(cfg.Redaction); err != nil {
			return errors.New("redaction: not representable as JSON: " + err.Error())
		}
		if _, err := onErrorPolicy(cfg.Redaction); err != nil {
			return err
		}
	}
	return cfg.checkNumbers()
}

// checkNumbers range-checks the numeric keys of the cost and redaction blocks, which are
// passed to the engine as they are, so that `otelcol validate` names an out-of-range value.
// The engine parses both blocks when the processor is created and names unknown keys and
// values it cannot use (bad regexes, unreadable pricing files, unknown detectors).
func (cfg *Config) checkNumbers() error {
	var c confcheck.Checker
	if pricing := c.Sub(cfg.Cost, "cost", "pricing"); pricing != nil {
		c.Number(pricing, "cost.pricing", "reload_interval_seconds",
			confcheck.NonNegativeInt.With("how often pricing files are checked for changes, e.g. 60; 0 turns reloading off"))
		c.Number(pricing, "cost.pricing", "max_file_bytes",
			confcheck.PositiveInt.With("largest pricing file read, e.g. 67108864 (64 MiB)"))
		c.Number(pricing, "cost.pricing", "cache_max_bytes",
			confcheck.PositiveInt.With("byte budget of the model lookup cache, e.g. 8388608 (8 MiB)"))
	}
	// src/facts: above this many tokens in one count, a call is implausible (flagged, not priced).
	c.Number(cfg.Cost, "cost", "max_tokens_per_call",
		confcheck.Range{Min: 1, Max: 1e12, Integer: true}.With("tokens per call above which counts are implausible, e.g. 100000000"))
	c.Number(cfg.Redaction, "redaction", "max_value_bytes",
		confcheck.NonNegativeInt.With("longest string value kept, e.g. 10240; 0 turns truncation off"))
	if content := c.Sub(cfg.Redaction, "redaction", "content"); content != nil {
		c.Number(content, "redaction.content", "max_chars",
			confcheck.PositiveInt.With("characters kept per text by the truncate policy, e.g. 1000"))
	}
	return c.Err()
}

// enabled reports whether a section is configured and not switched off.
func enabled(section map[string]any) bool {
	if section == nil {
		return false
	}
	on, ok := section["enabled"].(bool)
	return !ok || on
}

// withoutEnabled drops our Go-side switch before the section goes to the engine.
func withoutEnabled(section map[string]any) map[string]any {
	out := make(map[string]any, len(section))
	for k, v := range section {
		if k != "enabled" {
			out[k] = v
		}
	}
	return out
}

// engineConfig is the JSON the Rust engine parses (src/config.rs); keys match its fields.
type engineConfig struct {
	Normalize normalizeConfig `json:"normalize"`
	// `any` so that an empty section (all defaults) is still sent: omitempty drops only nil.
	Cost      any `json:"cost,omitempty"`
	Redaction any `json:"redaction,omitempty"`
}

type normalizeConfig struct {
	WriteLatestNames bool `json:"write_latest_names"`
}

func (cfg *Config) engineJSON() ([]byte, error) {
	ec := engineConfig{Normalize: normalizeConfig{WriteLatestNames: cfg.WriteLatestNames}}
	if enabled(cfg.Cost) {
		cost := withoutEnabled(cfg.Cost)
		// One switch for the canonical names: the cost stage writes them on model calls.
		if _, set := cost["write_usage"]; !set && !cfg.WriteLatestNames {
			cost["write_usage"] = false
		}
		ec.Cost = cost
	}
	if enabled(cfg.Redaction) {
		ec.Redaction = withoutEnabled(cfg.Redaction)
	}
	return json.Marshal(ec)
}
