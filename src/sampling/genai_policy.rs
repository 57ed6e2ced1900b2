//! GenAI policies: decisions from the attributes the cost stage and the instrumentations
//! write on LLM spans (see shared/research/genai-conventions.md).
//!
//! Sums (cost, tokens) skip spans recognised as agent/workflow wrappers, which repeat their
//! children's usage, so a trace is not counted twice.

use std::collections::HashSet;

use opentelemetry_proto::tonic::common::v1::{any_value, KeyValue};
use opentelemetry_proto::tonic::trace::v1::Span;

use super::config::PolicyConfig;
use super::decision::Decision;
use super::limiter::TokenBucket;
use super::policy::{compile_regex, sampled_if, StringMatcher};
use super::trace::TraceData;
use crate::genai::{recognize, Level};
use crate::otlp::{find, find_int, find_str};

/// Cost attributes, first present wins: ours (written by the cost stage), the proposed
/// semconv name, and the spelling users write with OTTL today.
pub const COST_KEYS: &[&str] = &[
    "gen_ai.usage.cost",
    "gen_ai.usage.cost.amount",
    "gen_ai.usage.cost_usd",
];
/// Written by the cost stage when a model has no price.
pub const COST_STATUS_KEY: &str = "tollbooth.cost.status";
const INPUT_KEYS: &[&str] = &[
    "gen_ai.usage.input_tokens",
    "gen_ai.usage.prompt_tokens",
    "llm.usage.prompt_tokens",
    "llm.token_count.prompt",
];
const OUTPUT_KEYS: &[&str] = &[
    "gen_ai.usage.output_tokens",
    "gen_ai.usage.completion_tokens",
    "llm.usage.completion_tokens",
    "llm.token_count.completion",
];
const TOTAL_KEYS: &[&str] = &["llm.usage.total_tokens", "llm.token_count.total"];
/// Time-to-first-token attributes and their unit multiplier to milliseconds.
const TTFT_KEYS: &[(&str, f64)] = &[
    ("gen_ai.response.time_to_first_chunk", 1000.0),
    ("gen_ai.server.time_to_first_token", 1000.0),
    ("llm.time_to_first_token", 1000.0),
    ("ai.response.msToFirstChunk", 1.0),
    ("ai.stream.msToFirstChunk", 1.0),
];
const HTTP_STATUS_KEYS: &[&str] = &["http.response.status_code", "http.status_code"];
const FINISH_KEYS: &[&str] = &[
    "gen_ai.response.finish_reasons",
    "gen_ai.response.finish_reason",
    "llm.finish_reason",
];

#[derive(Debug)]
pub enum GenAiPolicy {
    Cost(f64),
    Tokens(i64),
    Model {
        providers: HashSet<String>,
        models: Option<StringMatcher>,
    },
    Unpriced,
    Error {
        errors: bool,
        rate_limits: bool,
        content_filter: bool,
    },
    Ttft(f64),
    CostRateLimiting {
        bucket: TokenBucket,
        keep_above_usd: Option<f64>,
    },
}

fn need<T: Clone>(b: &Option<T>, p: &PolicyConfig) -> Result<T, String> {
    b.clone().ok_or_else(|| {
        format!(
            "policy \"{}\": type {} needs a \"{}\" block",
            p.name, p.kind, p.kind
        )
    })
}

impl GenAiPolicy {
    /// `Ok(None)` when `p.kind` is not a GenAI type.
    pub fn build(p: &PolicyConfig) -> Result<Option<GenAiPolicy>, String> {
        let name = &p.name;
        Ok(Some(match p.kind.as_str() {
            "genai_cost" => {
                let c = need(&p.genai_cost, p)?;
                if !c.threshold_usd.is_finite() || c.threshold_usd < 0.0 {
                    return Err(format!(
                        "policy \"{name}\": genai_cost.threshold_usd must be a non-negative number"
                    ));
                }
                GenAiPolicy::Cost(c.threshold_usd)
            }
            "genai_tokens" => GenAiPolicy::Tokens(need(&p.genai_tokens, p)?.threshold),
            "genai_model" => {
                let c = need(&p.genai_model, p)?;
                if c.providers.is_empty() && c.models.is_empty() {
                    return Err(format!(
                        "policy \"{name}\": genai_model needs providers or models"
                    ));
                }
                let models = if c.models.is_empty() {
                    None
                } else if c.regex {
                    Some(StringMatcher::Regex(
                        c.models
                            .iter()
                            .map(|m| {
                                compile_regex(m, &format!("policy \"{name}\": genai_model.models"))
                            })
                            .collect::<Result<_, _>>()?,
                    ))
                } else {
                    Some(StringMatcher::Exact(c.models.iter().cloned().collect()))
                };
                GenAiPolicy::Model {
                    providers: c.providers.iter().map(|s| s.to_ascii_lowercase()).collect(),
                    models,
                }
            }
            "genai_unpriced" => GenAiPolicy::Unpriced,
            "genai_error" => {
                let c = p.genai_error.clone().unwrap_or_default();
                GenAiPolicy::Error {
                    errors: c.errors,
                    rate_limits: c.rate_limits,
                    content_filter: c.content_filter,
                }
            }
            "genai_ttft" => {
                let c = need(&p.genai_ttft, p)?;
                if !c.threshold_ms.is_finite() {
                    return Err(format!(
                        "policy \"{name}\": genai_ttft.threshold_ms must be a number"
                    ));
                }
                GenAiPolicy::Ttft(c.threshold_ms)
            }
            "genai_cost_rate_limiting" => {
                let c = need(&p.genai_cost_rate_limiting, p)?;
                if !(c.traces_per_second.is_finite() && c.traces_per_second > 0.0) {
                    return Err(format!("policy \"{name}\": genai_cost_rate_limiting.traces_per_second must be greater than 0"));
                }
                GenAiPolicy::CostRateLimiting {
                    bucket: TokenBucket::new(c.traces_per_second, c.traces_per_second.max(1.0)),
                    keep_above_usd: c.always_keep_above_usd,
                }
            }
            _ => return Ok(None),
        }))
    }

    pub fn evaluate(&mut self, t: &TraceData, now_ns: u64) -> Decision {
        match self {
            GenAiPolicy::Cost(th) => sampled_if(trace_cost(t) >= *th),
            GenAiPolicy::Tokens(th) => sampled_if(trace_tokens(t) >= *th),
            GenAiPolicy::Model { providers, models } => sampled_if(t.spans().any(|s| {
                let Some(call) = recognize(&s.name, &s.attributes) else {
                    return false;
                };
                let p_ok = providers.is_empty() || {
                    let normal = call.provider.map(str::to_ascii_lowercase);
                    let raw = call.provider_raw.map(str::to_ascii_lowercase);
                    normal.is_some_and(|p| providers.contains(&p))
                        || raw.is_some_and(|p| providers.contains(&p))
                };
                let m_ok = models.as_ref().is_none_or(|m| {
                    call.request_model.is_some_and(|x| m.matches(x))
                        || call.response_model.is_some_and(|x| m.matches(x))
                });
                p_ok && m_ok
            })),
            GenAiPolicy::Unpriced => sampled_if(
                t.spans()
                    .any(|s| find_str(&s.attributes, COST_STATUS_KEY) == Some("unpriced")),
            ),
            GenAiPolicy::Error {
                errors,
                rate_limits,
                content_filter,
            } => sampled_if(t.spans().any(|s| {
                // Cheap attribute checks first; recognition only for a candidate span.
                ((*errors && is_error(s))
                    || (*rate_limits && is_rate_limited(s))
                    || (*content_filter && is_content_filtered(&s.attributes)))
                    && recognize(&s.name, &s.attributes).is_some()
            })),
            GenAiPolicy::Ttft(th) => sampled_if(
                t.spans()
                    .any(|s| ttft_ms(&s.attributes).is_some_and(|v| v >= *th)),
            ),
            GenAiPolicy::CostRateLimiting {
                bucket,
                keep_above_usd,
            } => {
                if keep_above_usd.is_some_and(|k| trace_cost(t) >= k) {
                    return Decision::Sampled;
                }
                sampled_if(bucket.allow_n(now_ns, 1.0))
            }
        }
    }
}

fn is_wrapper(s: &Span) -> bool {
    recognize(&s.name, &s.attributes).is_some_and(|c| c.level == Level::Aggregate)
}

/// Reads a number written as double, int or decimal string.
fn find_f64(attrs: &[KeyValue], key: &str) -> Option<f64> {
    match find(attrs, key)? {
        any_value::Value::DoubleValue(d) => Some(*d),
        any_value::Value::IntValue(i) => Some(*i as f64),
        any_value::Value::StringValue(s) => s.trim().parse().ok(),
        _ => None,
    }
    .filter(|v: &f64| v.is_finite())
}

/// Summed USD cost of the trace's non-wrapper spans.
pub fn trace_cost(t: &TraceData) -> f64 {
    t.spans()
        .filter_map(|s| {
            let c = COST_KEYS.iter().find_map(|k| find_f64(&s.attributes, k))?;
            (!is_wrapper(s)).then_some(c)
        })
        .sum()
}

/// Summed input+output tokens of the trace's non-wrapper spans.
pub fn trace_tokens(t: &TraceData) -> i64 {
    t.spans()
        .map(|s| {
            let a = &s.attributes;
            let input = INPUT_KEYS.iter().find_map(|k| find_int(a, k));
            let output = OUTPUT_KEYS.iter().find_map(|k| find_int(a, k));
            let n = if input.is_none() && output.is_none() {
                TOTAL_KEYS.iter().find_map(|k| find_int(a, k)).unwrap_or(0)
            } else {
                input.unwrap_or(0).saturating_add(output.unwrap_or(0))
            };
            if n != 0 && is_wrapper(s) {
                0
            } else {
                n
            }
        })
        .fold(0i64, |acc, v| acc.saturating_add(v.max(0)))
}

fn is_error(s: &Span) -> bool {
    s.status.as_ref().is_some_and(|st| st.code == 2)
        || find_str(&s.attributes, "error.type").is_some_and(|e| !e.is_empty())
}

fn is_rate_limited(s: &Span) -> bool {
    if HTTP_STATUS_KEYS
        .iter()
        .any(|k| find_int(&s.attributes, k) == Some(429))
    {
        return true;
    }
    find_str(&s.attributes, "error.type").is_some_and(|e| {
        let e = e.to_ascii_lowercase().replace([' ', '-'], "_");
        e == "429"
            || e.contains("ratelimit")
            || e.contains("rate_limit")
            || e.contains("too_many_requests")
            || e.contains("toomanyrequests")
    })
}

fn is_content_filtered(attrs: &[KeyValue]) -> bool {
    FINISH_KEYS.iter().any(|k| match find(attrs, k) {
        Some(any_value::Value::StringValue(s)) => s.contains("content_filter"),
        Some(any_value::Value::ArrayValue(arr)) => arr.values.iter().any(
            |v| matches!(&v.value, Some(any_value::Value::StringValue(s)) if s == "content_filter"),
        ),
        _ => false,
    })
}

/// Time to first token in milliseconds, from the first attribute present.
pub fn ttft_ms(attrs: &[KeyValue]) -> Option<f64> {
    TTFT_KEYS
        .iter()
        .find_map(|(k, mult)| find_f64(attrs, k).map(|v| v * mult))
}
