package genaimetricsconnector

import (
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/confmap"
	"go.opentelemetry.io/collector/confmap/confmaptest"

	"github.com/tollbooth-dev/tollbooth/go-shim/connector/genaimetricsconnector/internal/metadata"
)

func TestLoadConfig(t *testing.T) {
	cm, err := confmaptest.LoadConf(filepath.Join("testdata", "config.yaml"))
	require.NoError(t, err)
	tests := []struct {
		id      component.ID
		want    time.Duration
		wantErr string
	}{
		{id: component.NewID(metadata.Type), want: 15 * time.Second},
		{id: component.NewIDWithName(metadata.Type, "fast"), want: time.Second},
		{id: component.NewIDWithName(metadata.Type, "invalid"), wantErr: "metrics_flush_interval must be positive"},
		{id: component.NewIDWithName(metadata.Type, "full"), want: 30 * time.Second},
		{id: component.NewIDWithName(metadata.Type, "bad_temporality"), wantErr: "aggregation_temporality must be cumulative or delta"},
		// The engine needs at least 2 buckets; Validate refuses 1 before the engine is created.
		{id: component.NewIDWithName(metadata.Type, "one_bucket"), wantErr: "histogram.exponential.max_size must be at least 2"},
		{id: component.NewIDWithName(metadata.Type, "negative_limit"), wantErr: "aggregation_cardinality_limit must be positive"},
		{id: component.NewIDWithName(metadata.Type, "negative_limit"), wantErr: "metrics_expiration must not be negative"},
		{id: component.NewIDWithName(metadata.Type, "fused"), want: 15 * time.Second},
		{id: component.NewIDWithName(metadata.Type, "fused_dedupe"), wantErr: "move the dedupe block to that processor"},
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
			assert.Equal(t, tt.want, cfg.(*Config).MetricsFlushInterval)
		})
	}
}

func TestFullConfigReachesTheEngineJSON(t *testing.T) {
	cm, err := confmaptest.LoadConf(filepath.Join("testdata", "config.yaml"))
	require.NoError(t, err)
	cfg := NewFactory().CreateDefaultConfig().(*Config)
	sub, err := cm.Sub(component.NewIDWithName(metadata.Type, "full").String())
	require.NoError(t, err)
	require.NoError(t, sub.Unmarshal(cfg))
	got, err := cfg.engineJSON()
	require.NoError(t, err)
	assert.JSONEq(t, `{"normalize":{"write_latest_names":false},"metrics":{
		"dimensions":[{"name":"tenant.id","default":"none"},{"name":"feature"}],
		"aggregation_cardinality_limit":500,
		"aggregation_temporality":"AGGREGATION_TEMPORALITY_DELTA",
		"metrics_flush_interval":30000000000,
		"metrics_expiration":600000000000,
		"histogram":{"exponential":{"max_size":160}}}}`, string(got))
}

// The dedupe block is range-checked here and reaches the engine as written.
func TestDedupeBlockIsCheckedAndPassedOn(t *testing.T) {
	cfg := NewFactory().CreateDefaultConfig().(*Config)
	cfg.Dedupe = map[string]any{"max_entries": 0}
	assert.ErrorContains(t, cfg.Validate(), "dedupe.max_entries must be at least 1")
	cfg.Dedupe = map[string]any{"enabled": false}
	require.NoError(t, cfg.Validate())
	got, err := cfg.engineJSON()
	require.NoError(t, err)
	assert.Contains(t, string(got), `"dedupe":{"enabled":false}`)
}
