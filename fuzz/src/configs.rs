//! The engine configurations the targets run: each component's shape as the Go side sends it
//! (src/config.rs), with settings chosen to reach the corners (tiny budgets, early decisions,
//! late spans, shutdown drops, dropped spans, expiring series).
//!
//! Pricing reads the two small seed files instead of the bundled table: an engine is made
//! per input, and parsing the whole table each time would cost most of the run. The seeds
//! price the models the synthetic batches use, in both formats.

/// The `cost` section every configuration here uses.
macro_rules! cost {
    () => {
        concat!(
            r#"{"pricing": {"include_default": false, "files": [""#,
            env!("CARGO_MANIFEST_DIR"),
            r#"/corpus/pricing_native/seed-small.json", ""#,
            env!("CARGO_MANIFEST_DIR"),
            r#"/corpus/pricing_litellm/seed-small.json"]}}"#
        )
    };
}

/// The `genai` processor of config/collector.yaml: cost, redaction, latest names.
pub const PROCESSOR: &str = concat!(
    r#"{"normalize": {"write_latest_names": true}, "cost": "#,
    cost!(),
    r#", "redaction": {"allow_all_keys": true, "detectors": ["secrets", "email", "credit_card", "us_ssn", "iban"],
   "content": {"policy": "redact"}, "max_value_bytes": 10240, "summary": "info"}}"#
);

/// The processor with span dropping, hashing and truncation: edits of every kind.
pub const PROCESSOR_DROPPING: &str = concat!(
    r#"{"normalize": {"write_latest_names": true}, "cost": "#,
    cost!(),
    r#", "redaction": {"allow_all_keys": false, "allowed_keys": ["gen_ai.request.model", "gen_ai.system", "gen_ai.prompt.0.content", "note"],
   "blocked_values": ["4[0-9]{3}"], "hash_function": "sha3", "detectors": ["secrets", "email"],
   "content": {"policy": "truncate", "max_chars": 32}, "max_value_bytes": 64, "summary": "debug",
   "drop_spans": {"name_patterns": ["^GET "], "attributes": [{"key": "error.type", "value_pattern": "^x"}]}}}"#
);

/// The default config's tail sampler (its policies, a short wait).
pub const SAMPLER: &str = r#"{"normalize": {"write_latest_names": false},
 "sampling": {"decision_wait": "1s", "num_traces": 50000, "max_buffered_bytes": 268435456,
  "policies": [
   {"name": "errors", "type": "status_code", "status_code": {"status_codes": ["ERROR"]}},
   {"name": "llm-errors", "type": "genai_error"},
   {"name": "slow", "type": "latency", "latency": {"threshold_ms": 10000}},
   {"name": "expensive", "type": "genai_cost", "genai_cost": {"threshold_usd": 0.05}},
   {"name": "unpriced", "type": "genai_unpriced"},
   {"name": "rest", "type": "probabilistic", "probabilistic": {"sampling_percentage": 10}}]}}"#;

/// A sampler pushed into its corners: a budget of two traces and 4 KiB, oversize traces,
/// small decision caches, a decision after the root span, drop and composite policies.
pub const SAMPLER_TIGHT: &str = r#"{"normalize": {"write_latest_names": false},
 "sampling": {"decision_wait": "2s", "decision_wait_after_root_received": "100ms",
  "num_traces": 2, "max_buffered_bytes": 4096, "maximum_trace_size_bytes": 2048,
  "decision_cache": {"sampled_cache_size": 4, "non_sampled_cache_size": 4},
  "policies": [
   {"name": "drop-health", "type": "drop", "drop": {"drop_sub_policy": [
     {"name": "health", "type": "string_attribute", "string_attribute": {"key": "http.url", "values": ["/health"], "enabled_regex_matching": true}}]}},
   {"name": "both", "type": "and", "and": {"and_sub_policy": [
     {"name": "big", "type": "span_count", "span_count": {"min_spans": 2}},
     {"name": "tokens", "type": "genai_tokens", "genai_tokens": {"threshold": 100}}]}},
   {"name": "half", "type": "probabilistic", "probabilistic": {"sampling_percentage": 50}},
   {"name": "limit", "type": "rate_limiting", "rate_limiting": {"spans_per_second": 5}}]}}"#;

/// A sampler that keeps everything, with cost in the same engine (one crossing per pipeline)
/// and pending traces dropped, counted, at shutdown.
pub const SAMPLER_COST_SHUTDOWN_DROP: &str = concat!(
    r#"{"normalize": {"write_latest_names": true}, "cost": "#,
    cost!(),
    r#", "sampling": {"decision_wait": "500ms", "drop_pending_traces_on_shutdown": true,
  "policies": [{"name": "all", "type": "always_sample"}]}}"#
);

/// The `genai_metrics` connector: cumulative, series never expire, a small cardinality limit
/// (overflow folds into one series; totals stay exact).
pub const METRICS: &str = r#"{"metrics": {"dimensions": [{"name": "tenant.id", "default": "none"}],
 "aggregation_cardinality_limit": 8, "metrics_expiration": 0}}"#;

/// Cost and metrics in one engine, delta temporality, series that expire.
pub const METRICS_COST_DELTA: &str = concat!(
    r#"{"cost": "#,
    cost!(),
    r#", "metrics": {"aggregation_temporality": "delta",
 "aggregation_cardinality_limit": 50, "metrics_expiration": "2s"}}"#
);

/// Every configuration, for the seed corpus of engine creation.
pub const ALL: &[&str] = &[
    PROCESSOR,
    PROCESSOR_DROPPING,
    SAMPLER,
    SAMPLER_TIGHT,
    SAMPLER_COST_SHUTDOWN_DROP,
    METRICS,
    METRICS_COST_DELTA,
];
