//! From a span's facts to the aggregator's [`CallRecord`]: tokens, cost, timings and error
//! come from [`SpanFacts`] (read once, from the one alias table); only the configured extra
//! dimensions are looked up here.

use std::borrow::Cow;

use crate::config::DimensionConfig;
use crate::cost::{CallSummary, CostStatus};
use crate::facts::{SpanFacts, UpstreamStatus};
use crate::metrics::{CallRecord, Cost};
use crate::money::Usd;
use crate::otlp::{AnyRef, KeyValueRef};

/// The record of one inference call. `priced` is this engine's cost verdict when it has a
/// cost stage; without one (the `genai_metrics` connector after a `genai` processor) the
/// cost is what the upstream stage wrote, else what the provider reported. Implausible or
/// negative token counts leave the call's tokens and cost out of every counter.
pub fn call_record<'a>(
    service: &'a str,
    f: &'a SpanFacts<'a>,
    priced: Option<&CallSummary>,
    extra_dims: &'a [Option<Cow<'a, str>>],
) -> CallRecord<'a> {
    let usage = f.usage();
    let cost = priced
        .and_then(|s| s.cost)
        .map(|c| Cost {
            usd: c.to_f64(),
            exact_pico_usd: Some(pico_from_usd(c)),
        })
        .or_else(|| {
            f.known_cost_usd().map(|usd| Cost {
                usd,
                exact_pico_usd: Some((usd * 1e12).round() as i128),
            })
        });
    let unpriced_here = priced.is_some_and(|s| s.status == CostStatus::Unpriced);
    let unpriced_upstream = f.upstream.status == Some(UpstreamStatus::Unpriced);
    CallRecord {
        service,
        provider: f.provider_name(),
        operation: f.operation.as_deref().unwrap_or(""),
        request_model: f.request_model.as_deref().unwrap_or(""),
        response_model: f.response_model.as_deref().unwrap_or(""),
        extra_dims,
        input_tokens: usage.and_then(|t| t.input),
        output_tokens: usage.and_then(|t| t.output),
        cache_read_tokens: usage.map_or(0, |t| t.cache_read),
        // `cache_write` already includes the 1-hour writes (`cache_write_1h` is a subset).
        cache_write_tokens: usage.map_or(0, |t| t.cache_write),
        reasoning_tokens: usage.map_or(0, |t| t.reasoning),
        cost,
        unpriced: cost.is_none() && (unpriced_here || unpriced_upstream),
        duration_s: f.duration_s(),
        ttft_s: f.ttft_s,
        error_type: f.error.metric_error_type(),
    }
}

/// 1e-24 USD units to 1e-12 USD, rounded half away from zero.
fn pico_from_usd(c: Usd) -> i128 {
    const DIV: i128 = 1_000_000_000_000;
    let q = c.0 / DIV;
    let r = c.0 % DIV;
    if r.abs() * 2 >= DIV {
        q + c.0.signum()
    } else {
        q
    }
}

/// Fills `out` with the configured extra dimensions, looked up in the span's attributes,
/// then its resource's (as `span_metrics` does). Strings (repaired to UTF-8) and booleans
/// are used; other value types count as absent, so the dimension's default applies.
pub fn extra_dimensions<'a, S, R>(
    dims: &[DimensionConfig],
    span_attrs: S,
    resource_attrs: R,
    out: &mut Vec<Option<Cow<'a, str>>>,
) where
    S: Iterator<Item = KeyValueRef<'a>> + Clone,
    R: Iterator<Item = KeyValueRef<'a>> + Clone,
{
    out.clear();
    for d in dims {
        let key = d.name.as_bytes();
        let value = label_value(span_attrs.clone(), key)
            .or_else(|| label_value(resource_attrs.clone(), key));
        out.push(value);
    }
}

fn label_value<'a>(
    mut attrs: impl Iterator<Item = KeyValueRef<'a>>,
    key: &[u8],
) -> Option<Cow<'a, str>> {
    match attrs.find(|kv| kv.key == key)?.value {
        v @ AnyRef::Str(_) => v.text(),
        AnyRef::Bool(true) => Some(Cow::Borrowed("true")),
        AnyRef::Bool(false) => Some(Cow::Borrowed("false")),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::facts::prost::flat_refs;
    use crate::otlp::{kv_int, kv_str};

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
        extra_dimensions(&dims, flat_refs(&span), flat_refs(&res), &mut out);
        assert_eq!(out, vec![Some("acme".into()), Some("gold".into()), None]);
    }
}
