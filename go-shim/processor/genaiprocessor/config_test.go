package genaiprocessor

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/confmap"
	"go.opentelemetry.io/collector/confmap/confmaptest"

	"github.com/tollbooth-dev/tollbooth/go-shim/processor/genaiprocessor/internal/metadata"
)

func TestLoadConfig(t *testing.T) {
	cm, err := confmaptest.LoadConf(filepath.Join("testdata", "config.yaml"))
	require.NoError(t, err)
	tests := []struct {
		id       component.ID
		expected *Config
		wantErr  string
	}{
		{id: component.NewID(metadata.Type), expected: &Config{WriteLatestNames: true, Cost: map[string]any{}}},
		{id: component.NewIDWithName(metadata.Type, "keep_names"), expected: &Config{Cost: map[string]any{}}},
		{id: component.NewIDWithName(metadata.Type, "full"), expected: &Config{
			WriteLatestNames: true,
			Cost:             map[string]any{"pricing": map[string]any{"reload_interval_seconds": 30}},
			Redaction: map[string]any{
				"allow_all_keys": true,
				"blocked_values": []any{"4[0-9]{12}(?:[0-9]{3})?"},
				"detectors":      []any{"secrets", "email"},
			},
		}},
		{id: component.NewIDWithName(metadata.Type, "no_cost"), expected: &Config{
			WriteLatestNames: true, Cost: map[string]any{"enabled": false},
		}},
		{id: component.NewIDWithName(metadata.Type, "bad_switch"), wantErr: "redaction.enabled must be true or false"},
	}
	for _, tt := range tests {
		t.Run(tt.id.String(), func(t *testing.T) {
			cfg := NewFactory().CreateDefaultConfig()
			sub, err := cm.Sub(tt.id.String())
			require.NoError(t, err)
			require.NoError(t, sub.Unmarshal(cfg))
			err = confmap.Validate(cfg)
			if tt.wantErr != "" {
				require.ErrorContains(t, err, tt.wantErr)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tt.expected, cfg)
		})
	}
}

func TestUnknownKeyIsRejected(t *testing.T) {
	cm := confmap.NewFromStringMap(map[string]any{"write_latest_name": true})
	cfg := NewFactory().CreateDefaultConfig()
	err := cm.Unmarshal(cfg)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "write_latest_name")
}

func TestEngineJSONCarriesOnlyEnabledSections(t *testing.T) {
	cfg := &Config{WriteLatestNames: true, Cost: map[string]any{"enabled": false},
		Redaction: map[string]any{"allow_all_keys": true, "enabled": true}}
	got, err := cfg.engineJSON()
	require.NoError(t, err)
	assert.JSONEq(t, `{"normalize":{"write_latest_names":true},"redaction":{"allow_all_keys":true}}`, string(got))
	got, err = (&Config{Cost: map[string]any{}}).engineJSON()
	require.NoError(t, err)
	assert.JSONEq(t, `{"normalize":{"write_latest_names":false},"cost":{"write_usage":false}}`, string(got))
	got, err = (&Config{WriteLatestNames: true, Cost: map[string]any{}}).engineJSON()
	require.NoError(t, err)
	assert.JSONEq(t, `{"normalize":{"write_latest_names":true},"cost":{}}`, string(got))
}

// TestValidateRefusesOutOfRangeNumbers checks the numeric keys of the cost and redaction blocks,
// which go to the engine as they are: Validate names the key and the fix.
func TestValidateRefusesOutOfRangeNumbers(t *testing.T) {
	tests := []struct {
		name string
		cfg  *Config
		want string
	}{
		{"negative reload interval", &Config{Cost: map[string]any{"pricing": map[string]any{"reload_interval_seconds": -1}}},
			"cost.pricing.reload_interval_seconds must be 0 or more, got -1"},
		{"fractional reload interval", &Config{Cost: map[string]any{"pricing": map[string]any{"reload_interval_seconds": 0.5}}},
			"cost.pricing.reload_interval_seconds must be a whole number"},
		{"pricing not a block", &Config{Cost: map[string]any{"pricing": "files.json"}}, "cost.pricing must be a block of keys"},
		{"zero token ceiling", &Config{Cost: map[string]any{"max_tokens_per_call": 0}},
			"cost.max_tokens_per_call must be between 1 and 1000000000000, got 0"},
		{"token ceiling too high", &Config{Cost: map[string]any{"max_tokens_per_call": 2e12}},
			"cost.max_tokens_per_call must be between 1 and 1000000000000"},
		{"negative max_value_bytes", &Config{Redaction: map[string]any{"max_value_bytes": -10}},
			"redaction.max_value_bytes must be 0 or more, got -10"},
		{"max_value_bytes as text", &Config{Redaction: map[string]any{"max_value_bytes": "10KB"}},
			`redaction.max_value_bytes must be a number, got "10KB"`},
		{"zero max_chars", &Config{Redaction: map[string]any{"content": map[string]any{"policy": "truncate", "max_chars": 0}}},
			"redaction.content.max_chars must be at least 1, got 0"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.ErrorContains(t, tt.cfg.Validate(), tt.want)
		})
	}
	ok := &Config{
		Cost:      map[string]any{"pricing": map[string]any{"reload_interval_seconds": 0}, "max_tokens_per_call": 1000},
		Redaction: map[string]any{"max_value_bytes": 0, "content": map[string]any{"max_chars": 1}},
	}
	assert.NoError(t, ok.Validate())
}

// The Rust property tests (tests/redaction_props.rs) run the redaction block of the default
// collector config from a JSON copy; this keeps the copy in step with config/collector.yaml.
func TestDefaultCollectorRedactionMatchesTheTestFixture(t *testing.T) {
	cm, err := confmaptest.LoadConf(filepath.Join("..", "..", "..", "config", "collector.yaml"))
	require.NoError(t, err)
	sub, err := cm.Sub("processors::genai::redaction")
	require.NoError(t, err)
	got, err := json.Marshal(sub.ToStringMap())
	require.NoError(t, err)
	want, err := os.ReadFile(filepath.Join("..", "..", "..", "tests", "fixtures", "default_redaction.json"))
	require.NoError(t, err)
	assert.JSONEq(t, string(want), string(got), "update tests/fixtures/default_redaction.json")
}
