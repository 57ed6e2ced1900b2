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
	assert.Contains(t, cfg.Sampling, "policies")

	// A contrib policy list plus our keys is captured unchanged (only release_interval is Go's).
	cfg = loadConfig(t, component.NewIDWithName(metadata.Type, "contrib_list"))
	assert.Equal(t, 50*time.Millisecond, cfg.ReleaseInterval)
	assert.NotContains(t, cfg.Sampling, "release_interval")
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
