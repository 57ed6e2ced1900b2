package genaitailsamplingprocessor

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/confmap"
)

// validateYAML unmarshals a processor block the way the collector does and runs Validate.
func validateYAML(t *testing.T, block map[string]any) error {
	t.Helper()
	cfg := createDefaultConfig()
	require.NoError(t, confmap.NewFromStringMap(block).Unmarshal(cfg))
	return confmap.Validate(cfg)
}

func policies(p ...map[string]any) []any {
	out := make([]any, len(p))
	for i := range p {
		out[i] = p[i]
	}
	return out
}

// TestValidateRefusesOutOfRangeNumbers checks that every numeric key is range-checked in Go, at
// the top level and inside and/not/drop/composite sub-policies, and that the message names the key.
func TestValidateRefusesOutOfRangeNumbers(t *testing.T) {
	keep := map[string]any{"name": "keep", "type": "always_sample"}
	prob := func(pct any) map[string]any {
		return map[string]any{"name": "p", "type": "probabilistic", "probabilistic": map[string]any{"sampling_percentage": pct}}
	}
	tests := []struct {
		name  string
		block map[string]any
		want  string
	}{
		{"percentage over 100", map[string]any{"policies": policies(prob(250))},
			`policies[0] ("p").probabilistic.sampling_percentage must be between 0 and 100, got 250`},
		{"negative percentage", map[string]any{"policies": policies(prob(-1))}, "sampling_percentage must be between 0 and 100"},
		{"percentage as text", map[string]any{"policies": policies(prob("ten"))}, `sampling_percentage must be a number, got "ten"`},
		{"inside and", map[string]any{"policies": policies(map[string]any{"name": "a", "type": "and",
			"and": map[string]any{"and_sub_policy": policies(keep, prob(101))}})},
			`policies[0] ("a").and.and_sub_policy[1] ("p").probabilistic.sampling_percentage must be between 0 and 100`},
		{"inside composite", map[string]any{"policies": policies(map[string]any{"name": "c", "type": "composite",
			"composite": map[string]any{"max_total_spans_per_second": 100, "composite_sub_policy": policies(prob(300))}})},
			`policies[0] ("c").composite.composite_sub_policy[0] ("p").probabilistic.sampling_percentage`},
		{"inside not", map[string]any{"policies": policies(map[string]any{"name": "n", "type": "not",
			"not": map[string]any{"not_sub_policy": prob(500)}})},
			`policies[0] ("n").not.not_sub_policy.probabilistic.sampling_percentage`},
		{"inside drop", map[string]any{"policies": policies(map[string]any{"name": "d", "type": "drop",
			"drop": map[string]any{"drop_sub_policy": policies(map[string]any{"name": "l", "type": "latency",
				"latency": map[string]any{"threshold_ms": -5}})}})},
			`drop.drop_sub_policy[0] ("l").latency.threshold_ms must be 0 or more, got -5`},
		{"composite allocation over 100", map[string]any{"policies": policies(map[string]any{"name": "c", "type": "composite",
			"composite": map[string]any{"max_total_spans_per_second": 100, "composite_sub_policy": policies(keep),
				"rate_allocation": []any{map[string]any{"policy": "keep", "percent": 70}, map[string]any{"policy": "keep", "percent": 40}}}})},
			"rate_allocation percents add up to 110"},
		{"composite zero total", map[string]any{"policies": policies(map[string]any{"name": "c", "type": "composite",
			"composite": map[string]any{"max_total_spans_per_second": 0, "composite_sub_policy": policies(keep)}})},
			"composite.max_total_spans_per_second must be at least 1"},
		{"rate limit zero", map[string]any{"policies": policies(map[string]any{"name": "r", "type": "rate_limiting",
			"rate_limiting": map[string]any{"spans_per_second": 0}})}, "rate_limiting.spans_per_second must be at least 1"},
		{"bytes limit negative burst", map[string]any{"policies": policies(map[string]any{"name": "b", "type": "bytes_limiting",
			"bytes_limiting": map[string]any{"bytes_per_second": 10, "burst_capacity": -1}})}, "bytes_limiting.burst_capacity must be 0 or more"},
		{"span count fraction", map[string]any{"policies": policies(map[string]any{"name": "s", "type": "span_count",
			"span_count": map[string]any{"min_spans": 1.5}})}, "span_count.min_spans must be a whole number"},
		{"negative cost threshold", map[string]any{"policies": policies(map[string]any{"name": "g", "type": "genai_cost",
			"genai_cost": map[string]any{"threshold_usd": -0.5}})}, "genai_cost.threshold_usd must be 0 or more"},
		{"negative token threshold", map[string]any{"policies": policies(map[string]any{"name": "g", "type": "genai_tokens",
			"genai_tokens": map[string]any{"threshold": -1}})}, "genai_tokens.threshold must be 0 or more"},
		{"negative ttft", map[string]any{"policies": policies(map[string]any{"name": "g", "type": "genai_ttft",
			"genai_ttft": map[string]any{"threshold_ms": -1}})}, "genai_ttft.threshold_ms must be 0 or more"},
		{"zero cost rate", map[string]any{"policies": policies(map[string]any{"name": "g", "type": "genai_cost_rate_limiting",
			"genai_cost_rate_limiting": map[string]any{"traces_per_second": 0}})}, "genai_cost_rate_limiting.traces_per_second must be greater than 0"},
		{"zero decision wait", map[string]any{"decision_wait": "0s", "policies": policies(keep)}, "decision_wait must be greater than 0"},
		{"negative decision wait", map[string]any{"decision_wait": "-1s", "policies": policies(keep)}, "decision_wait must not be negative"},
		{"bad decision wait", map[string]any{"decision_wait": "soon", "policies": policies(keep)}, `decision_wait must be a duration such as "30s"`},
		{"zero traces", map[string]any{"num_traces": 0, "policies": policies(keep)}, "num_traces must be at least 1, got 0"},
		{"zero byte budget", map[string]any{"max_buffered_bytes": 0, "policies": policies(keep)}, "max_buffered_bytes must be at least 1"},
		{"negative trace size", map[string]any{"maximum_trace_size_bytes": -1, "policies": policies(keep)}, "maximum_trace_size_bytes must be 0 or more"},
		{"too many shards", map[string]any{"num_shards": 1000, "policies": policies(keep)}, "num_shards must be between 1 and 256, got 1000"},
		{"negative cache", map[string]any{"decision_cache": map[string]any{"sampled_cache_size": -1}, "policies": policies(keep)},
			"decision_cache.sampled_cache_size must be 0 or more"},
		{"zero release interval", map[string]any{"release_interval": "0s", "policies": policies(keep)}, "release_interval must be greater than 0"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.ErrorContains(t, validateYAML(t, tt.block), tt.want)
		})
	}
}

// TestValidateAcceptsTheEdges checks that the limits themselves are accepted.
func TestValidateAcceptsTheEdges(t *testing.T) {
	block := map[string]any{
		"decision_wait": "1s", "decision_wait_after_root_received": "0s", "num_traces": 1,
		"max_buffered_bytes": 1, "maximum_trace_size_bytes": 0, "num_shards": 256,
		"decision_cache": map[string]any{"sampled_cache_size": 0, "non_sampled_cache_size": 0},
		"policies": policies(
			map[string]any{"name": "all", "type": "probabilistic", "probabilistic": map[string]any{"sampling_percentage": 100}},
			map[string]any{"name": "none", "type": "probabilistic", "probabilistic": map[string]any{"sampling_percentage": 0.0}},
			map[string]any{"name": "c", "type": "composite", "composite": map[string]any{"max_total_spans_per_second": 1,
				"composite_sub_policy": policies(map[string]any{"name": "k", "type": "always_sample"}),
				"rate_allocation":      []any{map[string]any{"policy": "k", "percent": 100}}}},
		),
	}
	require.NoError(t, validateYAML(t, block))
}

// TestValidateReportsEveryProblem checks that one run names all bad keys, not only the first.
func TestValidateReportsEveryProblem(t *testing.T) {
	err := validateYAML(t, map[string]any{"num_traces": 0, "num_shards": 0, "policies": policies(
		map[string]any{"name": "p", "type": "probabilistic", "probabilistic": map[string]any{"sampling_percentage": 250}})})
	require.Error(t, err)
	for _, key := range []string{"num_traces", "num_shards", "sampling_percentage"} {
		assert.Contains(t, err.Error(), key)
	}
}

func TestBlockOnOverflowTrueIsRefused(t *testing.T) {
	cfg := createDefaultConfig().(*Config)
	cfg.Sampling = map[string]any{"block_on_overflow": true, "policies": []any{map[string]any{"name": "k", "type": "always_sample"}}}
	require.ErrorContains(t, cfg.Validate(), "block_on_overflow true is not supported")
	cfg.Sampling["block_on_overflow"] = false
	require.NoError(t, cfg.Validate())
}
