package genaitailsamplingprocessor

import (
	"encoding/json"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/confmap"
	"go.opentelemetry.io/collector/confmap/confmaptest"

	"github.com/tollbooth-dev/tollbooth/go-shim/processor/genaitailsamplingprocessor/internal/metadata"
)

func loadConfig(t *testing.T, id component.ID) *Config {
	t.Helper()
	cm, err := confmaptest.LoadConf(filepath.Join("testdata", "config.yaml"))
	require.NoError(t, err)
	cfg := NewFactory().CreateDefaultConfig()
	sub, err := cm.Sub(id.String())
	require.NoError(t, err)
	require.NoError(t, sub.Unmarshal(cfg))
	require.NoError(t, confmap.Validate(cfg))
	return cfg.(*Config)
}

func TestLoadConfig(t *testing.T) {
	cfg := loadConfig(t, component.NewID(metadata.Type))
	assert.Equal(t, 100*time.Millisecond, cfg.ReleaseInterval)
	assert.Equal(t, ReleaseConfig{MaxSpans: 8192, MaxBytes: 2 << 20}, cfg.Release)
	assert.Contains(t, cfg.Sampling, "policies")

	// A contrib policy list plus our keys is captured unchanged (only release_interval is Go's).
	cfg = loadConfig(t, component.NewIDWithName(metadata.Type, "contrib_list"))
	assert.Equal(t, 50*time.Millisecond, cfg.ReleaseInterval)
	assert.NotContains(t, cfg.Sampling, "release_interval")
	assert.NotContains(t, cfg.Sampling, "release", "release limits are Go's, not the engine's")
	assert.Equal(t, ReleaseConfig{MaxSpans: 1000, MaxBytes: 1048576}, cfg.Release)
	for _, k := range []string{"decision_wait", "num_traces", "expected_new_traces_per_sec", "decision_cache",
		"sample_on_first_match", "drop_pending_traces_on_shutdown", "max_buffered_bytes",
		"decision_wait_after_root_received", "policies"} {
		assert.Contains(t, cfg.Sampling, k)
	}
	assert.Equal(t, int64(1048576), cfg.maxBufferedBytes())
	b, err := cfg.engineJSON()
	require.NoError(t, err)
	var parsed map[string]any
	require.NoError(t, json.Unmarshal(b, &parsed))
	sampling := parsed["sampling"].(map[string]any)
	assert.Equal(t, "10s", sampling["decision_wait"])
	assert.Len(t, sampling["policies"], 5)
}

func TestReleaseIntervalMustBePositive(t *testing.T) {
	cfg := createDefaultConfig().(*Config)
	cfg.ReleaseInterval = 0
	assert.ErrorContains(t, cfg.Validate(), "release_interval")
}

func TestDefaultMaxBufferedBytes(t *testing.T) {
	assert.Equal(t, int64(defaultMaxBufferedBytes), createDefaultConfig().(*Config).maxBufferedBytes())
}

func TestReleaseLimitsRangeChecked(t *testing.T) {
	for _, tc := range []struct {
		name     string
		spans    int
		bytes    int
		wantErr  string
		wantPass bool
	}{
		{"defaults", 8192, 2 << 20, "", true},
		{"smallest", 1, 64 << 10, "", true},
		{"largest", 1 << 20, 64 << 20, "", true},
		{"spans zero", 0, 2 << 20, "release.max_spans must be between 1 and 1048576, got 0", false},
		{"spans negative", -1, 2 << 20, "release.max_spans must be between 1 and 1048576, got -1", false},
		{"spans huge", 1<<20 + 1, 2 << 20, "release.max_spans", false},
		{"bytes zero", 8192, 0, "release.max_bytes must be between 65536 and 67108864, got 0", false},
		{"bytes negative", 8192, -5, "release.max_bytes must be between 65536 and 67108864, got -5", false},
		{"bytes tiny", 8192, 1000, "release.max_bytes must be between 65536 and 67108864, got 1000", false},
		{"bytes over 64MiB", 8192, 64<<20 + 1, "release.max_bytes must be between 65536 and 67108864", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := createDefaultConfig().(*Config)
			cfg.Release = ReleaseConfig{MaxSpans: tc.spans, MaxBytes: tc.bytes}
			err := cfg.Validate()
			if tc.wantPass {
				assert.NoError(t, err)
				return
			}
			assert.ErrorContains(t, err, tc.wantErr)
		})
	}
}

func TestReleaseLimitsFromYAML(t *testing.T) {
	cfg := createDefaultConfig().(*Config)
	require.NoError(t, confmap.NewFromStringMap(map[string]any{"release": map[string]any{"max_spans": 100}}).Unmarshal(cfg))
	assert.Equal(t, ReleaseConfig{MaxSpans: 100, MaxBytes: 2 << 20}, cfg.Release, "an unset limit keeps its default")
	assert.NotContains(t, cfg.Sampling, "release")
}
