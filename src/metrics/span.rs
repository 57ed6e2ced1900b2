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
/// cost stage; on a span an upstream stage already accounted (the `genai_metrics` connector
/// after a `genai` processor, or a second tier) the cost is what that stage accounted. Only
/// an accounted figure is a cost: a figure no cost stage accounted may be an
/// instrumentation's estimate (OpenLIT writes 0 when it has no price). Implausible or
/// negative token counts leave the call's tokens and cost out of every counter.
pub fn call_record<'a>(
    service: &'a str,
    f: &'a SpanFacts<'a>,
    priced: Option<&CallSummary>,
    extra_dims: &'a [Option<Cow<'a, str>>],
) -> CallRecord<'a> {
    let usage = f.usage();
    // What the call is accounted at: our price, the provider's own bill or an estimate. A
    // span an upstream stage already accounted keeps that figure even where a cost stage
    // runs here too (it writes nothing on such a span): the provider's bill it accounted is
    // not replaced by our price.
    let (cost, unpriced) = if f.upstream.enriched() {
        let cost = f.accounted_cost_usd().map(|usd| Cost {
            usd,
            exact_pico_usd: Some((usd * 1e12).round() as i128),
        });
        (cost, f.upstream.status == Some(UpstreamStatus::Unpriced))
    } else {
        let cost = priced.and_then(|s| s.accounted).map(|a| Cost {
            usd: a.usd,
            exact_pico_usd: Some(
                a.exact
                    .map_or((a.usd * 1e12).round() as i128, pico_from_usd),
            ),
        });
        (
            cost,
            priced.is_some_and(|s| s.status == CostStatus::Unpriced),
        )
    };
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
        unpriced: cost.is_none() && unpriced,
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

    /// Without a cost stage here, only what an upstream stage accounted is a cost.
    #[test]
    fn only_an_accounted_cost_is_a_cost() {
        use crate::facts::prost::PreparedSpan;
        use crate::facts::{FactsConfig, ResourceFacts};
        use opentelemetry_proto::tonic::trace::v1::Span;
        let cost_of = |attrs: Vec<opentelemetry_proto::tonic::common::v1::KeyValue>| {
            let mut all = vec![
                kv_str("gen_ai.provider.name", "openai"),
                kv_str("gen_ai.operation.name", "chat"),
                kv_int("gen_ai.usage.input_tokens", 10),
            ];
            all.extend(attrs);
            let span = Span {
                name: "chat".into(),
                attributes: all,
                ..Default::default()
            };
            let p = PreparedSpan::new(&span, "", "");
            let cfg = FactsConfig::default();
            let f = p.facts(&ResourceFacts::default(), &cfg);
            let r = call_record("svc", &f, None, &[]);
            (r.cost.map(|c| c.usd), r.unpriced)
        };
        assert_eq!(
            cost_of(vec![kv_str("gen_ai.usage.cost", "0")]),
            (None, false),
            "an estimate, not a bill"
        );
        assert_eq!(
            cost_of(vec![
                kv_str("tollbooth.cost.status", "priced"),
                kv_str("gen_ai.usage.cost", "0.25"),
            ]),
            (Some(0.25), false)
        );
        assert_eq!(
            cost_of(vec![
                kv_str("tollbooth.cost.status", "duplicate"),
                kv_str("gen_ai.usage.cost", "0.25"),
            ]),
            (None, false)
        );
        assert_eq!(
            cost_of(vec![kv_str("tollbooth.cost.status", "unpriced")]),
            (None, true)
        );
        // No cost stage saw these: a non-zero figure is still an instrumentation's estimate.
        assert_eq!(
            cost_of(vec![kv_str("gen_ai.usage.cost", "0.3")]),
            (None, false)
        );
        assert_eq!(
            cost_of(vec![kv_str("operation.cost", "0.3")]),
            (None, false)
        );
        // The provider's bill an upstream stage accounted is the cost, not our price beside it.
        assert_eq!(
            cost_of(vec![
                kv_str("tollbooth.cost.status", "provider_reported"),
                kv_str("tollbooth.cost.source", "provider"),
                kv_str("gen_ai.usage.cost", "0.5"),
                kv_str("tollbooth.cost.total", "0.003"),
            ]),
            (Some(0.5), false)
        );
        // An estimate accounted upstream (no price there) is counted as accounted.
        assert_eq!(
            cost_of(vec![
                kv_str("tollbooth.cost.status", "estimated"),
                kv_str("tollbooth.cost.source", "instrumentation"),
                kv_str("gen_ai.usage.cost", "0.04"),
            ]),
            (Some(0.04), false)
        );
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
        extra_dimensions(&dims, flat_refs(&span), flat_refs(&res), &mut out);
        assert_eq!(out, vec![Some("acme".into()), Some("gold".into()), None]);
    }
}
