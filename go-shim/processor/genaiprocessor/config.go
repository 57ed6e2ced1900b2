package genaiprocessor // import "github.com/tollbooth-dev/tollbooth/go-shim/processor/genaiprocessor"

import (
	"encoding/json"

	"go.opentelemetry.io/collector/component"
)

// Config is the `genai` processor's YAML configuration.
type Config struct {
	// WriteLatestNames writes the latest OTel GenAI attribute names (gen_ai.provider.name, ...)
	// on spans that carry only older or vendor spellings, keeping the originals, so one query
	// works across every instrumentation.
	WriteLatestNames bool `mapstructure:"write_latest_names"`

	// prevent unkeyed literal initialization
	_ struct{}
}

var _ component.Config = (*Config)(nil)

// Validate checks the configuration; the collector calls it before start.
func (cfg *Config) Validate() error {
	return nil
}

// engineConfig is the JSON the Rust engine parses (src/config.rs); keys match its fields.
type engineConfig struct {
	Normalize normalizeConfig `json:"normalize"`
}

type normalizeConfig struct {
	WriteLatestNames bool `json:"write_latest_names"`
}

func (cfg *Config) engineJSON() ([]byte, error) {
	return json.Marshal(engineConfig{
		Normalize: normalizeConfig{WriteLatestNames: cfg.WriteLatestNames},
	})
}
