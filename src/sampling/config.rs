//! Tail-sampling configuration: contrib `tail_sampling` keys verbatim, plus our own.
//!
//! The Go side converts the user's YAML to JSON keeping every key, so a policy list copied
//! from a contrib config parses here unchanged. Durations arrive as Go strings ("30s") or as
//! integer nanoseconds. Every struct rejects unknown keys so a typo fails collector start.

use serde::{Deserialize, Deserializer};

/// Top-level sampler configuration (a superset of contrib's `tail_sampling`).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SamplingConfig {
    /// Wait from a trace's first span to its decision.
    #[serde(default = "default_decision_wait", deserialize_with = "duration_ns")]
    pub decision_wait: u64,
    /// Decide this long after the root span arrives, if sooner than `decision_wait`; 0 = off.
    #[serde(default, deserialize_with = "duration_ns")]
    pub decision_wait_after_root_received: u64,
    /// Maximum traces buffered; over it the oldest are decided early.
    #[serde(default = "default_num_traces")]
    pub num_traces: u64,
    /// Sizing hint only.
    #[serde(default)]
    pub expected_new_traces_per_sec: u64,
    /// Our byte budget for buffered spans (contrib has none); over it the oldest are decided early.
    #[serde(default = "default_max_buffered_bytes")]
    pub max_buffered_bytes: u64,
    /// A trace whose buffered size passes this is decided at the next release; 0 = a quarter
    /// of `max_buffered_bytes`. (Contrib drops such traces outright, and has no limit unless
    /// set; we decide them early instead.) The default bounds what deciding one trace needs
    /// beside its held bytes: the reader's index over them (src/sampling/view.rs) and, when a
    /// GenAI policy is configured, every span's facts, for the length of the decision. That
    /// is 0.35-1.35x the held bytes, 0.74-2.8x with a GenAI policy (1 KB and 50-byte
    /// attributes; `cargo run --release --example sampling_decide_memory`), so a trace
    /// allowed the whole budget could still need up to about 3.8x it at its decision.
    #[serde(default)]
    pub maximum_trace_size_bytes: u64,
    #[serde(default)]
    pub decision_cache: DecisionCacheConfig,
    #[serde(default)]
    pub sample_on_first_match: bool,
    #[serde(default)]
    pub drop_pending_traces_on_shutdown: bool,
    /// Number of ingest shards (locks); contrib's key, default 16 here since ours are cheap.
    #[serde(default = "default_num_shards")]
    pub num_shards: u32,
    /// Accepted for compatibility; ingest never blocks here, the budget decides early instead.
    #[serde(default)]
    pub block_on_overflow: bool,
    /// Accepted for compatibility; only `trace-complete` is implemented.
    #[serde(default)]
    pub sampling_strategy: Option<String>,
    /// Accepted for compatibility only; disk spill is not implemented, so it must be unset.
    #[serde(default)]
    pub tail_storage: Option<String>,
    pub policies: Vec<PolicyConfig>,
}

/// Sizes of the decision caches; a size of 0 turns that cache off (as in contrib).
/// Unlike contrib, both default to on, because late spans otherwise split traces.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DecisionCacheConfig {
    #[serde(default = "default_cache_size")]
    pub sampled_cache_size: u64,
    #[serde(default = "default_cache_size")]
    pub non_sampled_cache_size: u64,
}

impl Default for DecisionCacheConfig {
    fn default() -> Self {
        DecisionCacheConfig {
            sampled_cache_size: default_cache_size(),
            non_sampled_cache_size: default_cache_size(),
        }
    }
}

fn default_decision_wait() -> u64 {
    30_000_000_000
}
fn default_num_traces() -> u64 {
    50_000
}
fn default_max_buffered_bytes() -> u64 {
    256 << 20
}
impl SamplingConfig {
    /// The held size at which one trace is decided early (see `maximum_trace_size_bytes`).
    pub fn trace_size_limit(&self) -> u64 {
        match self.maximum_trace_size_bytes {
            0 => self.max_buffered_bytes / 4,
            n => n,
        }
    }
}

fn default_cache_size() -> u64 {
    100_000
}
fn default_num_shards() -> u32 {
    16
}

/// One policy: `name`, `type`, and a block keyed by the type name. Used at every nesting
/// level (top-level, and/drop/not/composite sub-policies); contrib's narrower sub-policy
/// types are all subsets of this.
#[derive(Debug, Clone, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct PolicyConfig {
    #[serde(default)]
    pub name: String,
    #[serde(rename = "type")]
    pub kind: String,
    pub latency: Option<LatencyCfg>,
    pub numeric_attribute: Option<NumericAttributeCfg>,
    pub probabilistic: Option<ProbabilisticCfg>,
    pub status_code: Option<StatusCodeCfg>,
    pub string_attribute: Option<StringAttributeCfg>,
    pub boolean_attribute: Option<BooleanAttributeCfg>,
    pub rate_limiting: Option<RateLimitingCfg>,
    pub bytes_limiting: Option<BytesLimitingCfg>,
    pub span_count: Option<SpanCountCfg>,
    pub trace_state: Option<TraceStateCfg>,
    #[serde(rename = "and")]
    pub and: Option<AndCfg>,
    #[serde(rename = "not")]
    pub not: Option<NotCfg>,
    pub drop: Option<DropCfg>,
    pub composite: Option<CompositeCfg>,
    /// Parsed only so that the "unsupported type" message wins over "unknown field".
    pub ottl_condition: Option<serde_json::Value>,
    pub genai_cost: Option<GenAiCostCfg>,
    pub genai_tokens: Option<GenAiTokensCfg>,
    pub genai_model: Option<GenAiModelCfg>,
    pub genai_error: Option<GenAiErrorCfg>,
    pub genai_ttft: Option<GenAiTtftCfg>,
    pub genai_cost_rate_limiting: Option<GenAiCostRateLimitingCfg>,
}

#[derive(Debug, Clone, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct LatencyCfg {
    #[serde(default)]
    pub threshold_ms: i64,
    #[serde(default)]
    pub upper_threshold_ms: i64,
}

#[derive(Debug, Clone, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct NumericAttributeCfg {
    pub key: String,
    /// Absent means unbounded below (newer contrib allows one-sided ranges).
    pub min_value: Option<i64>,
    /// Absent means unbounded above.
    pub max_value: Option<i64>,
    #[serde(default)]
    pub invert_match: bool,
}

#[derive(Debug, Clone, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct ProbabilisticCfg {
    #[serde(default)]
    pub hash_salt: String,
    #[serde(default)]
    pub sampling_percentage: f64,
}

#[derive(Debug, Clone, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct StatusCodeCfg {
    #[serde(default)]
    pub status_codes: Vec<String>,
}

#[derive(Debug, Clone, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct StringAttributeCfg {
    pub key: String,
    #[serde(default)]
    pub values: Vec<String>,
    #[serde(default)]
    pub enabled_regex_matching: bool,
    /// Accepted; Rust's regex engine is linear-time, so results are not cached.
    #[serde(default)]
    pub cache_max_size: u64,
    #[serde(default)]
    pub invert_match: bool,
}

#[derive(Debug, Clone, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct BooleanAttributeCfg {
    pub key: String,
    #[serde(default)]
    pub value: bool,
    #[serde(default)]
    pub invert_match: bool,
}

#[derive(Debug, Clone, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct RateLimitingCfg {
    pub spans_per_second: i64,
    /// Token-bucket size; default twice the rate (as contrib).
    #[serde(default)]
    pub burst_capacity: Option<i64>,
}

#[derive(Debug, Clone, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct BytesLimitingCfg {
    pub bytes_per_second: i64,
    /// Token-bucket size; default twice the rate (as contrib).
    #[serde(default)]
    pub burst_capacity: Option<i64>,
}

#[derive(Debug, Clone, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct SpanCountCfg {
    #[serde(default)]
    pub min_spans: i64,
    /// 0 means no upper bound.
    #[serde(default)]
    pub max_spans: i64,
}

#[derive(Debug, Clone, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct TraceStateCfg {
    pub key: String,
    #[serde(default)]
    pub values: Vec<String>,
}

#[derive(Debug, Clone, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct AndCfg {
    #[serde(default)]
    pub and_sub_policy: Vec<PolicyConfig>,
}

#[derive(Debug, Clone, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct NotCfg {
    pub not_sub_policy: Box<PolicyConfig>,
}

#[derive(Debug, Clone, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct DropCfg {
    #[serde(default)]
    pub drop_sub_policy: Vec<PolicyConfig>,
}

#[derive(Debug, Clone, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct CompositeCfg {
    pub max_total_spans_per_second: i64,
    /// Accepted and checked against the sub-policy names; like contrib, evaluation follows the
    /// order of `composite_sub_policy`.
    #[serde(default)]
    pub policy_order: Vec<String>,
    #[serde(default)]
    pub composite_sub_policy: Vec<PolicyConfig>,
    #[serde(default)]
    pub rate_allocation: Vec<RateAllocationCfg>,
}

#[derive(Debug, Clone, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct RateAllocationCfg {
    pub policy: String,
    #[serde(default)]
    pub percent: i64,
}

/// Keep traces whose summed LLM cost (USD) is at or above the threshold.
#[derive(Debug, Clone, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct GenAiCostCfg {
    pub threshold_usd: f64,
}

/// Keep traces whose summed input+output tokens are at or above the threshold.
#[derive(Debug, Clone, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct GenAiTokensCfg {
    pub threshold: i64,
}

/// Keep traces with a GenAI span from one of these providers and/or models.
#[derive(Debug, Clone, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct GenAiModelCfg {
    #[serde(default)]
    pub providers: Vec<String>,
    #[serde(default)]
    pub models: Vec<String>,
    /// Treat `models` as regular expressions (unanchored, as contrib's string_attribute).
    #[serde(default)]
    pub regex: bool,
}

/// Keep traces with a failing GenAI call; each kind can be switched off.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GenAiErrorCfg {
    #[serde(default = "yes")]
    pub errors: bool,
    #[serde(default = "yes")]
    pub rate_limits: bool,
    #[serde(default = "yes")]
    pub content_filter: bool,
}

impl Default for GenAiErrorCfg {
    fn default() -> Self {
        GenAiErrorCfg {
            errors: true,
            rate_limits: true,
            content_filter: true,
        }
    }
}

fn yes() -> bool {
    true
}

/// Keep traces with a GenAI span whose time to first token is at or above the threshold.
#[derive(Debug, Clone, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct GenAiTtftCfg {
    pub threshold_ms: f64,
}

/// Keep at most N traces per second, except traces costing at least `always_keep_above_usd`.
#[derive(Debug, Clone, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct GenAiCostRateLimitingCfg {
    pub traces_per_second: f64,
    #[serde(default)]
    pub always_keep_above_usd: Option<f64>,
}

impl SamplingConfig {
    /// Parses and validates the JSON the Go side sends; errors name the key and the fix.
    pub fn from_json(bytes: &[u8]) -> Result<SamplingConfig, String> {
        let bad = |e: serde_json::Error| format!("invalid tail sampling configuration: {e}");
        // Types first, so an unsupported type is reported as such rather than as an
        // unknown field of its block.
        let raw: serde_json::Value = serde_json::from_slice(bytes).map_err(bad)?;
        if let Some(list) = raw.get("policies").and_then(|p| p.as_array()) {
            check_types(list, "policies")?;
        }
        let cfg: SamplingConfig = serde_json::from_value(raw).map_err(bad)?;
        cfg.validate()?;
        Ok(cfg)
    }

    /// Checks values serde cannot; policy-level checks happen when policies are built.
    pub fn validate(&self) -> Result<(), String> {
        if self.decision_wait == 0 {
            return Err("decision_wait must be greater than 0 (for example \"30s\")".into());
        }
        if self.num_traces == 0 {
            return Err("num_traces must be greater than 0".into());
        }
        if self.max_buffered_bytes == 0 {
            return Err("max_buffered_bytes must be greater than 0".into());
        }
        if self.num_shards == 0 || self.num_shards > 256 {
            return Err(format!(
                "num_shards ({}) must be between 1 and 256",
                self.num_shards
            ));
        }
        if self.tail_storage.is_some() {
            return Err("tail_storage is not supported by tollbooth: remove it; memory is bounded by max_buffered_bytes instead".into());
        }
        if let Some(s) = &self.sampling_strategy {
            if s != "trace-complete" {
                return Err(format!(
                    "sampling_strategy \"{s}\" is not supported: use \"trace-complete\" or remove the key"
                ));
            }
        }
        if self.policies.is_empty() {
            return Err("policies: at least one policy is required".into());
        }
        let mut names = std::collections::HashSet::new();
        for p in &self.policies {
            if p.name.is_empty() {
                return Err(format!("policy of type \"{}\" has no name", p.kind));
            }
            if !names.insert(p.name.as_str()) {
                return Err(format!("duplicate policy name \"{}\"", p.name));
            }
        }
        Ok(())
    }
}

/// Every policy type this sampler implements.
pub const SUPPORTED_TYPES: &[&str] = &[
    "always_sample",
    "latency",
    "numeric_attribute",
    "probabilistic",
    "status_code",
    "string_attribute",
    "boolean_attribute",
    "rate_limiting",
    "bytes_limiting",
    "span_count",
    "trace_state",
    "trace_flags",
    "and",
    "not",
    "drop",
    "composite",
    "genai_cost",
    "genai_tokens",
    "genai_model",
    "genai_unpriced",
    "genai_error",
    "genai_ttft",
    "genai_cost_rate_limiting",
];

/// The error for a type we do not implement, with the alternative.
pub fn unsupported_type(name: &str, kind: &str) -> String {
    if kind == "ottl_condition" {
        format!(
            "policy \"{name}\": type ottl_condition is not supported by tollbooth; express the condition with string_attribute, numeric_attribute, boolean_attribute, status_code or span_count policies combined with and/not/drop"
        )
    } else {
        format!(
            "policy \"{name}\": policy type \"{kind}\" is not supported by tollbooth; supported types: {}",
            SUPPORTED_TYPES.join(", ")
        )
    }
}

/// Walks a policy list (and nested sub-policy lists) checking each `type`.
fn check_types(list: &[serde_json::Value], at: &str) -> Result<(), String> {
    for (i, p) in list.iter().enumerate() {
        let name = p.get("name").and_then(|n| n.as_str()).unwrap_or("");
        let Some(kind) = p.get("type").and_then(|t| t.as_str()) else {
            return Err(format!("{at}[{i}] (\"{name}\"): missing \"type\""));
        };
        if !SUPPORTED_TYPES.contains(&kind) {
            return Err(unsupported_type(name, kind));
        }
        let nested = [
            ("and", "and_sub_policy"),
            ("drop", "drop_sub_policy"),
            ("composite", "composite_sub_policy"),
        ];
        for (block, key) in nested {
            if let Some(sub) = p
                .get(block)
                .and_then(|b| b.get(key))
                .and_then(|l| l.as_array())
            {
                check_types(sub, &format!("{at}[{i}].{block}.{key}"))?;
            }
        }
        if let Some(sub) = p.get("not").and_then(|b| b.get("not_sub_policy")) {
            check_types(
                std::slice::from_ref(sub),
                &format!("{at}[{i}].not.not_sub_policy"),
            )?;
        }
    }
    Ok(())
}

/// Accepts a Go duration string or integer nanoseconds.
fn duration_ns<'de, D: Deserializer<'de>>(d: D) -> Result<u64, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Raw {
        Int(u64),
        Str(String),
    }
    match Raw::deserialize(d)? {
        Raw::Int(n) => Ok(n),
        Raw::Str(s) => parse_go_duration(&s).map_err(serde::de::Error::custom),
    }
}

/// Parses Go's `time.ParseDuration` syntax ("1h2m3.5s", "500ms", "0"); negative is refused.
pub fn parse_go_duration(s: &str) -> Result<u64, String> {
    let bad =
        || format!("invalid duration \"{s}\": use a Go duration such as \"30s\" or \"500ms\"");
    let t = s.trim();
    let t = t.strip_prefix('+').unwrap_or(t);
    if t.starts_with('-') {
        return Err(format!("duration \"{s}\" must not be negative"));
    }
    if t == "0" {
        return Ok(0);
    }
    if t.is_empty() {
        return Err(bad());
    }
    let mut total: f64 = 0.0;
    let mut rest = t;
    while !rest.is_empty() {
        let num_end = rest
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .ok_or_else(bad)?;
        if num_end == 0 {
            return Err(bad());
        }
        let n: f64 = rest[..num_end].parse().map_err(|_| bad())?;
        rest = &rest[num_end..];
        let unit_end = rest
            .find(|c: char| c.is_ascii_digit() || c == '.')
            .unwrap_or(rest.len());
        let mult = match &rest[..unit_end] {
            "ns" => 1.0,
            "us" | "µs" | "μs" => 1e3,
            "ms" => 1e6,
            "s" => 1e9,
            "m" => 60e9,
            "h" => 3600e9,
            _ => return Err(bad()),
        };
        total += n * mult;
        rest = &rest[unit_end..];
    }
    if !total.is_finite() || total > u64::MAX as f64 {
        return Err(bad());
    }
    Ok(total.round() as u64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn go_durations() {
        assert_eq!(parse_go_duration("30s").unwrap(), 30_000_000_000);
        assert_eq!(parse_go_duration("500ms").unwrap(), 500_000_000);
        assert_eq!(parse_go_duration("1m30s").unwrap(), 90_000_000_000);
        assert_eq!(parse_go_duration("1.5h").unwrap(), 5_400_000_000_000);
        assert_eq!(parse_go_duration("10us").unwrap(), 10_000);
        assert_eq!(parse_go_duration("0").unwrap(), 0);
        assert!(parse_go_duration("30").is_err());
        assert!(parse_go_duration("-1s").is_err());
        assert!(parse_go_duration("1x").is_err());
        assert!(parse_go_duration("").is_err());
    }

    #[test]
    fn accepts_strings_or_nanoseconds() {
        let a = SamplingConfig::from_json(
            br#"{"decision_wait":"10s","policies":[{"name":"a","type":"always_sample"}]}"#,
        )
        .unwrap();
        let b = SamplingConfig::from_json(
            br#"{"decision_wait":10000000000,"policies":[{"name":"a","type":"always_sample"}]}"#,
        )
        .unwrap();
        assert_eq!(a.decision_wait, b.decision_wait);
        assert_eq!(a.num_traces, 50_000);
    }

    #[test]
    fn unknown_key_is_named() {
        let e = SamplingConfig::from_json(
            br#"{"decision_wiat":"10s","policies":[{"name":"a","type":"always_sample"}]}"#,
        )
        .unwrap_err();
        assert!(e.contains("decision_wiat"), "{e}");
    }

    #[test]
    fn duplicate_names_fail() {
        let e = SamplingConfig::from_json(
            br#"{"policies":[{"name":"a","type":"always_sample"},{"name":"a","type":"always_sample"}]}"#,
        )
        .unwrap_err();
        assert!(e.contains("duplicate"), "{e}");
    }
}
