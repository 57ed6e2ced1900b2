package genaiprocessor // import "github.com/tollbooth-dev/tollbooth/go-shim/processor/genaiprocessor"

import (
	"encoding/json"
	"errors"
	"fmt"

	"go.opentelemetry.io/collector/component"
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
	return nil
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
