//! Reading what the aggregator needs from a recognised span: usage, timings, error, extra
//! dimensions. The pricing stage will supply cost; until then calls are neither priced nor
//! unpriced.

use opentelemetry_proto::tonic::common::v1::{any_value, KeyValue};
use opentelemetry_proto::tonic::trace::v1::{status::StatusCode, Span};

use crate::config::DimensionConfig;
use crate::metrics::Cost;
use crate::otlp::{find, find_str};

const INPUT: &[&str] = &[
    "gen_ai.usage.input_tokens",
    "gen_ai.usage.prompt_tokens",
    "llm.usage.prompt_tokens",
    "llm.token_count.prompt",
    "ai.usage.promptTokens",
    "ai.usage.inputTokens",
];
const OUTPUT: &[&str] = &[
    "gen_ai.usage.output_tokens",
    "gen_ai.usage.completion_tokens",
    "llm.usage.completion_tokens",
    "llm.token_count.completion",
    "ai.usage.completionTokens",
    "ai.usage.outputTokens",
];
const CACHE_READ: &[&str] = &[
    "gen_ai.usage.cache_read.input_tokens",
    "gen_ai.usage.cache_read_input_tokens",
    "llm.token_count.prompt_details.cache_read",
];
const CACHE_WRITE: &[&str] = &[
    "gen_ai.usage.cache_creation.input_tokens",
    "gen_ai.usage.cache_write.input_tokens",
    "gen_ai.usage.cache_creation_input_tokens",
    "llm.token_count.prompt_details.cache_write",
];
const REASONING: &[&str] = &[
    "gen_ai.usage.reasoning.output_tokens",
    "gen_ai.usage.reasoning_tokens",
    "llm.token_count.completion_details.reasoning",
];

/// Token counts as the span reports them (semconv semantics assumed).
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Usage {
    pub input: Option<u64>,
    pub output: Option<u64>,
    pub cache_read: u64,
    pub cache_write: u64,
    pub reasoning: u64,
}

/// One pass over the attributes: a span carries a dozen or more of them, and looking each
/// of the ~20 spellings up separately cost more than the aggregation itself.
pub fn usage(attrs: &[KeyValue]) -> Usage {
    const SLOTS: [&[&str]; 5] = [INPUT, OUTPUT, CACHE_READ, CACHE_WRITE, REASONING];
    // Per slot: (rank of the spelling found, value); a lower rank is a preferred spelling.
    let mut best: [(usize, Option<u64>); 5] = [(usize::MAX, None); 5];
    for kv in attrs {
        let k = kv.key.as_str();
        if !(k.starts_with("gen_ai.usage.") || k.starts_with("llm.") || k.starts_with("ai.usage."))
        {
            continue;
        }
        for (slot, keys) in SLOTS.iter().enumerate() {
            if let Some(rank) = keys.iter().position(|c| *c == k) {
                if rank < best[slot].0 {
                    if let Some(v) = kv
                        .value
                        .as_ref()
                        .and_then(|v| v.value.as_ref())
                        .and_then(count)
                    {
                        best[slot] = (rank, Some(v));
                    }
                }
            }
        }
    }
    Usage {
        input: best[0].1,
        output: best[1].1,
        cache_read: best[2].1.unwrap_or(0),
        cache_write: best[3].1.unwrap_or(0),
        reasoning: best[4].1.unwrap_or(0),
    }
}

/// A token count as instrumentations send it: int, whole double or decimal string.
fn count(v: &any_value::Value) -> Option<u64> {
    let i = match v {
        any_value::Value::IntValue(i) => *i,
        any_value::Value::DoubleValue(d) if d.fract() == 0.0 && d.is_finite() => *d as i64,
        any_value::Value::StringValue(s) => s.trim().parse().ok()?,
        _ => return None,
    };
    Some(i.max(0) as u64)
}

/// Span duration in seconds (zero when the clock went backwards).
pub fn duration_s(span: &Span) -> f64 {
    span.end_time_unix_nano
        .saturating_sub(span.start_time_unix_nano) as f64
        / 1e9
}

/// Time to first chunk in seconds, from the OTel 1.41 attribute or the AI SDK's milliseconds.
pub fn ttft_s(attrs: &[KeyValue]) -> Option<f64> {
    let number = |key: &str| match find(attrs, key)? {
        any_value::Value::DoubleValue(d) => Some(*d),
        any_value::Value::IntValue(i) => Some(*i as f64),
        _ => None,
    };
    number("gen_ai.response.time_to_first_chunk")
        .or_else(|| number("gen_ai.server.time_to_first_token"))
        .or_else(|| number("ai.response.msToFirstChunk").map(|ms| ms / 1000.0))
        .filter(|s| s.is_finite() && *s >= 0.0)
}

/// `error.type` of a failed call: the attribute when present, else `_OTHER` for an error
/// status (semconv's fallback), else `None`.
pub fn error_type(span: &Span) -> Option<&str> {
    if let Some(e) = find_str(&span.attributes, "error.type") {
        return Some(e);
    }
    let failed = span
        .status
        .as_ref()
        .is_some_and(|s| s.code == StatusCode::Error as i32);
    failed.then_some(super::names::OTHER_ERROR)
}

/// Fills `out` with the configured extra dimensions, looked up in the span's attributes,
/// then its resource's (as `span_metrics` does). Strings and booleans are used; other
/// value types count as absent, so the dimension's default applies.
pub fn extra_dimensions<'a>(
    dims: &[DimensionConfig],
    span_attrs: &'a [KeyValue],
    resource_attrs: &'a [KeyValue],
    out: &mut Vec<Option<&'a str>>,
) {
    out.clear();
    for d in dims {
        let value =
            label_value(span_attrs, &d.name).or_else(|| label_value(resource_attrs, &d.name));
        out.push(value);
    }
}

fn label_value<'a>(attrs: &'a [KeyValue], key: &str) -> Option<&'a str> {
    match find(attrs, key)? {
        any_value::Value::StringValue(s) => Some(s.as_str()),
        any_value::Value::BoolValue(true) => Some("true"),
        any_value::Value::BoolValue(false) => Some("false"),
        _ => None,
    }
}

/// The cost an upstream cost stage wrote on the span (`gen_ai.usage.cost`, a double in USD, or
/// a decimal string), and whether it marked the call unpriced (`tollbooth.cost.status`).
/// Rounded to the pico-dollar once here, so totals add up exactly from there on.
pub fn cost(attrs: &[KeyValue]) -> (Option<Cost>, bool) {
    let unpriced = matches!(
        find(attrs, "tollbooth.cost.status"),
        Some(any_value::Value::StringValue(s)) if s == "unpriced"
    );
    let usd = match find(attrs, "gen_ai.usage.cost") {
        Some(any_value::Value::DoubleValue(d)) if d.is_finite() && *d >= 0.0 => Some(*d),
        Some(any_value::Value::IntValue(i)) if *i >= 0 => Some(*i as f64),
        Some(any_value::Value::StringValue(s)) => s
            .trim()
            .parse::<f64>()
            .ok()
            .filter(|d| d.is_finite() && *d >= 0.0),
        _ => None,
    };
    let cost = usd.map(|usd| Cost {
        usd,
        exact_pico_usd: Some((usd * 1e12).round() as i128),
    });
    (cost, unpriced && cost.is_none())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::otlp::{kv_int, kv_str};
    use opentelemetry_proto::tonic::trace::v1::Status;

    #[test]
    fn reads_usage_in_several_spellings() {
        let a = [
            kv_int("gen_ai.usage.prompt_tokens", 100),
            kv_int("gen_ai.usage.output_tokens", 20),
            kv_int("gen_ai.usage.cache_read.input_tokens", 60),
            kv_int("gen_ai.usage.reasoning.output_tokens", 5),
        ];
        assert_eq!(
            usage(&a),
            Usage {
                input: Some(100),
                output: Some(20),
                cache_read: 60,
                cache_write: 0,
                reasoning: 5
            }
        );
        assert_eq!(usage(&[]).input, None);
        let both = [
            kv_int("llm.usage.prompt_tokens", 1),
            kv_str("gen_ai.usage.input_tokens", "7"),
            kv_int("gen_ai.usage.output_tokens", -3),
        ];
        let u = usage(&both);
        assert_eq!(
            (u.input, u.output),
            (Some(7), Some(0)),
            "preferred spelling wins"
        );
    }

    #[test]
    fn error_from_attribute_or_status() {
        let mut span = Span {
            attributes: vec![kv_str("error.type", "timeout")],
            ..Default::default()
        };
        assert_eq!(error_type(&span), Some("timeout"));
        span.attributes.clear();
        assert_eq!(error_type(&span), None);
        span.status = Some(Status {
            code: StatusCode::Error as i32,
            message: "boom".into(),
        });
        assert_eq!(error_type(&span), Some("_OTHER"));
    }

    #[test]
    fn extra_dimensions_prefer_span_then_resource() {
        let dims = [
            DimensionConfig {
                name: "tenant".into(),
                default: None,
            },
            DimensionConfig {
                name: "tier".into(),
                default: Some("free".into()),
            },
            DimensionConfig {
                name: "count".into(),
                default: None,
            },
        ];
        let span = [kv_str("tenant", "acme"), kv_int("count", 3)];
        let res = [kv_str("tenant", "ignored"), kv_str("tier", "gold")];
        let mut out = Vec::new();
        extra_dimensions(&dims, &span, &res, &mut out);
        assert_eq!(out, vec![Some("acme"), Some("gold"), None]);
    }
}
