package genaitailsamplingprocessor // import "github.com/tollbooth-dev/tollbooth/go-shim/processor/genaitailsamplingprocessor"

import (
	"fmt"

	"github.com/tollbooth-dev/tollbooth/go-shim/internal/confcheck"
)

// checkSampling range-checks every numeric key of the sampling configuration (contrib
// tail_sampling's keys plus ours), at every nesting level of and/not/drop/composite. The
// engine parses the same keys at creation and rejects unknown keys, types and cross-field
// mistakes; this makes `otelcol validate` refuse out-of-range values before that, naming the key.
func checkSampling(c *confcheck.Checker, s map[string]any) {
	c.Duration(s, "", "decision_wait", true, "time from a trace's first span to its decision, e.g. 30s")
	c.Duration(s, "", "decision_wait_after_root_received", false, "0 turns it off")
	c.Number(s, "", "num_traces", confcheck.PositiveInt.With("traces buffered at most, e.g. 50000"))
	c.Number(s, "", "expected_new_traces_per_sec", confcheck.NonNegativeInt)
	c.Number(s, "", "max_buffered_bytes", confcheck.PositiveInt.With("byte budget of the buffer, e.g. 268435456 for 256 MiB"))
	c.Number(s, "", "maximum_trace_size_bytes", confcheck.NonNegativeInt.With("0 turns it off"))
	c.Number(s, "", "num_shards", confcheck.Range{Min: 1, Max: 256, Integer: true, Hint: "default 16"})
	if dc := c.Sub(s, "", "decision_cache"); dc != nil {
		c.Number(dc, "decision_cache", "sampled_cache_size", confcheck.NonNegativeInt.With("0 turns the cache off"))
		c.Number(dc, "decision_cache", "non_sampled_cache_size", confcheck.NonNegativeInt.With("0 turns the cache off"))
	}
	if v, ok := s["block_on_overflow"]; ok && v == true {
		c.Failf("block_on_overflow", "true is not supported: ingest never blocks here; over num_traces or "+
			"max_buffered_bytes the oldest traces are decided early (counted in early_decisions), never dropped "+
			"undecided. Remove the key or set it to false")
	}
	checkPolicies(c, s, "", "policies")
}

// checkPolicies checks each policy of the list under key.
func checkPolicies(c *confcheck.Checker, m map[string]any, prefix, key string) {
	for i, item := range c.List(m, prefix, key) {
		at := fmt.Sprintf("%s[%d]", confcheck.Join(prefix, key), i)
		p, ok := item.(map[string]any)
		if !ok {
			c.Failf(at, "must be a policy block (name, type, ...), got %v", item)
			continue
		}
		if name, ok := p["name"].(string); ok && name != "" {
			at = fmt.Sprintf("%s (%q)", at, name)
		}
		checkPolicy(c, p, at)
	}
}

// numericKey is one numeric key of a policy type's block and the values it accepts.
type numericKey struct {
	key string
	r   confcheck.Range
}

// policyNumbers lists the numeric keys of every policy type block, contrib's and ours.
var policyNumbers = []struct {
	block string
	keys  []numericKey
}{
	{"latency", []numericKey{
		{"threshold_ms", confcheck.NonNegativeInt.With("milliseconds, e.g. 5000")},
		{"upper_threshold_ms", confcheck.NonNegativeInt.With("0 means no upper bound")}}},
	{"probabilistic", []numericKey{
		{"sampling_percentage", confcheck.Percent.With("the share of traces kept, e.g. 10 for 10%")}}},
	{"rate_limiting", []numericKey{
		{"spans_per_second", confcheck.PositiveInt.With("e.g. 100")},
		{"burst_capacity", confcheck.NonNegativeInt.With("0 means twice spans_per_second")}}},
	{"bytes_limiting", []numericKey{
		{"bytes_per_second", confcheck.PositiveInt.With("e.g. 1048576")},
		{"burst_capacity", confcheck.NonNegativeInt.With("0 means twice bytes_per_second")}}},
	{"span_count", []numericKey{
		{"min_spans", confcheck.NonNegativeInt},
		{"max_spans", confcheck.NonNegativeInt.With("0 means no upper bound")}}},
	{"string_attribute", []numericKey{{"cache_max_size", confcheck.NonNegativeInt}}},
	{"genai_cost", []numericKey{{"threshold_usd", confcheck.NonNegative.With("US dollars per trace, e.g. 0.05")}}},
	{"genai_tokens", []numericKey{{"threshold", confcheck.NonNegativeInt.With("input + output tokens per trace, e.g. 100000")}}},
	{"genai_ttft", []numericKey{{"threshold_ms", confcheck.NonNegative.With("milliseconds to the first token, e.g. 2000")}}},
	{"genai_cost_rate_limiting", []numericKey{
		{"traces_per_second", confcheck.Positive.With("e.g. 10")},
		{"always_keep_above_usd", confcheck.NonNegative.With("US dollars per trace, e.g. 1")}}},
	{"composite", []numericKey{{"max_total_spans_per_second", confcheck.PositiveInt.With("e.g. 1000")}}},
}

// checkPolicy checks the numeric keys of every type block present in p (whatever its type,
// since a block of another type is an error the engine names), then the sub-policies.
func checkPolicy(c *confcheck.Checker, p map[string]any, at string) {
	for _, pn := range policyNumbers {
		if b := c.Sub(p, at, pn.block); b != nil {
			for _, k := range pn.keys {
				c.Number(b, confcheck.Join(at, pn.block), k.key, k.r)
			}
		}
	}
	sub := func(block string) (map[string]any, string) {
		v, _ := p[block].(map[string]any) // a non-block was reported above or is the engine's to name
		return v, confcheck.Join(at, block)
	}
	if b, path := sub("composite"); b != nil {
		total := 0.0
		for i, item := range c.List(b, path, "rate_allocation") {
			at := fmt.Sprintf("%s.rate_allocation[%d]", path, i)
			ra, ok := item.(map[string]any)
			if !ok {
				c.Failf(at, "must be a block (policy, percent), got %v", item)
				continue
			}
			if pct, ok := c.Number(ra, at, "percent", confcheck.Range{Min: 0, Max: 100, Integer: true, Hint: "share of max_total_spans_per_second"}); ok {
				total += pct
			}
		}
		if total > 100 {
			c.Failf(path+".rate_allocation", "percents add up to %v; they must add up to at most 100", total)
		}
		checkPolicies(c, b, path, "composite_sub_policy")
	}
	if b, path := sub("and"); b != nil {
		checkPolicies(c, b, path, "and_sub_policy")
	}
	if b, path := sub("drop"); b != nil {
		checkPolicies(c, b, path, "drop_sub_policy")
	}
	if b, path := sub("not"); b != nil {
		if inner := c.Sub(b, path, "not_sub_policy"); inner != nil {
			checkPolicy(c, inner, path+".not_sub_policy")
		}
	}
}
