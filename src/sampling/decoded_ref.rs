//! The decision path before issue 10, kept for tests only: each held trace decoded with
//! prost (a string that is not UTF-8 copied lossily) and the policies, span facts and run
//! totals read from the decoded copy. The sampler now reads the held bytes in place
//! (src/sampling/view.rs); src/sampling/tests.rs checks that both give the same decisions
//! and totals for generated traces.

use std::sync::Arc;

use opentelemetry_proto::tonic::common::v1::{any_value, KeyValue};
use opentelemetry_proto::tonic::trace::v1::Span;

use super::super::decision::Decision;
use super::super::stored::StoredTrace;
use super::super::trace::{field_len, ResourceHdr, ScopeHdr, TraceId};
use super::super::trace_cost::{CallCost, TraceTotals};
use super::{sampled_if, trace_state_get, Composite, Policy, StringMatcher};
use crate::facts::prost::PreparedSpan;
use crate::facts::{FactsConfig, ResourceFacts, SpanFacts};

/// Spans of one trace under one (resource, scope) pair, decoded.
#[derive(Debug, Clone)]
pub struct Group {
    pub resource: Arc<ResourceHdr>,
    pub scope: Arc<ScopeHdr>,
    pub spans: Vec<Span>,
}

/// A held trace decoded.
#[derive(Debug, Default)]
pub struct TraceData {
    pub id: TraceId,
    pub groups: Vec<Group>,
    pub span_count: u64,
}

impl TraceData {
    /// The held trace decoded, span by span, in held order.
    pub fn decode(t: &StoredTrace) -> TraceData {
        TraceData {
            id: t.id,
            groups: t
                .groups
                .iter()
                .map(|g| Group {
                    resource: g.resource.clone(),
                    scope: g.scope.clone(),
                    spans: g
                        .spans()
                        .map(|b| crate::otlp::owned::decode_span_lossy(b).unwrap_or_default())
                        .collect(),
                })
                .collect(),
            span_count: t.span_count,
        }
    }

    /// `bytes_limiting`'s charge, from the decoded spans' encoded sizes.
    pub fn otlp_size(&self) -> u64 {
        use prost::Message;
        let mut total = 0usize;
        let mut i = 0;
        while i < self.groups.len() {
            let res = &self.groups[i].resource;
            let mut rs = res.encoded_len;
            while i < self.groups.len() && Arc::ptr_eq(&self.groups[i].resource, res) {
                let g = &self.groups[i];
                let ss: usize = g.scope.encoded_len
                    + g.spans
                        .iter()
                        .map(|s| field_len(s.encoded_len()))
                        .sum::<usize>();
                rs += field_len(ss);
                i += 1;
            }
            total += field_len(rs);
        }
        total as u64
    }

    pub fn spans(&self) -> impl Iterator<Item = &Span> {
        self.groups.iter().flat_map(|g| g.spans.iter())
    }

    /// Facts of every span, as the sampler read them from the decoded copy.
    pub fn with_facts<R>(&self, cfg: &FactsConfig, f: impl FnOnce(&[SpanFacts<'_>]) -> R) -> R {
        let prepared: Vec<PreparedSpan<'_>> = self
            .groups
            .iter()
            .flat_map(|g| {
                let (name, version) = g
                    .scope
                    .scope
                    .as_ref()
                    .map_or(("", ""), |s| (s.name.as_str(), s.version.as_str()));
                g.spans
                    .iter()
                    .map(move |s| PreparedSpan::new(s, name, version))
            })
            .collect();
        let resource = ResourceFacts::default();
        let facts: Vec<SpanFacts<'_>> = prepared.iter().map(|s| s.facts(&resource, cfg)).collect();
        f(&facts)
    }

    /// The run's totals and its root (group, index, name), as read from the decoded copy.
    pub fn totals(&self) -> (TraceTotals, Option<(usize, usize, String)>) {
        let mut totals = TraceTotals::default();
        for c in self.spans().filter_map(old_call_cost) {
            totals.add(&c);
        }
        let root = self
            .groups
            .iter()
            .enumerate()
            .flat_map(|(g, grp)| grp.spans.iter().enumerate().map(move |(i, s)| (g, i, s)))
            .enumerate()
            .filter(|(_, (_, _, s))| s.parent_span_id.is_empty())
            .min_by_key(|(k, (_, _, s))| (s.start_time_unix_nano, *k))
            .map(|(_, (g, i, s))| (g, i, s.name.clone()));
        (totals, root)
    }
}

/// What the cost stage wrote on a decoded span, read as the sampler read it before.
fn old_call_cost(span: &Span) -> Option<CallCost> {
    let a = &span.attributes;
    let accounted = match crate::otlp::find_str(a, "tollbooth.cost.status")? {
        "priced" | "provider_reported" | "estimated" => true,
        "unpriced" => false,
        _ => return None,
    };
    let int = |k: &str| match crate::otlp::find(a, k) {
        Some(any_value::Value::IntValue(i)) if *i > 0 => *i as u64,
        _ => 0,
    };
    let usd = if accounted {
        match crate::otlp::find(a, "gen_ai.usage.cost") {
            Some(any_value::Value::DoubleValue(d)) if d.is_finite() && *d >= 0.0 => Some(*d),
            _ => None,
        }
    } else {
        None
    };
    Some(CallCost {
        usd,
        input_tokens: int("gen_ai.usage.input_tokens"),
        output_tokens: int("gen_ai.usage.output_tokens"),
    })
}

impl Policy {
    /// Evaluates one decoded trace as the sampler did before issue 10.
    pub fn evaluate_decoded(
        &mut self,
        t: &TraceData,
        facts: &[SpanFacts<'_>],
        now_ns: u64,
    ) -> Decision {
        match self {
            Policy::AlwaysSample => Decision::Sampled,
            Policy::Latency {
                threshold_ms,
                upper_threshold_ms,
            } => latency(t, *threshold_ms, *upper_threshold_ms),
            Policy::Numeric {
                key,
                min,
                max,
                invert,
            } => {
                let m = |attrs: &[KeyValue]| {
                    attr(attrs, key).map(|v| (*min..=*max).contains(&as_int(v)))
                };
                resource_or_span(t, *invert, m)
            }
            Policy::Probabilistic(p) => sampled_if(p.sampled(&t.id)),
            Policy::StatusCode(codes) => sampled_if(
                t.spans()
                    .any(|s| codes.contains(&s.status.as_ref().map_or(0, |st| st.code))),
            ),
            Policy::String {
                key,
                matcher,
                invert,
            } => string_policy(t, key, matcher, *invert),
            Policy::Boolean { key, value, invert } => {
                let m = |attrs: &[KeyValue]| attr(attrs, key).map(|v| as_bool(v) == *value);
                resource_or_span(t, *invert, m)
            }
            Policy::RateLimiting(b) => sampled_if(b.allow_n(now_ns, t.span_count as f64)),
            Policy::BytesLimiting(b) => sampled_if(b.allow_n(now_ns, t.otlp_size() as f64)),
            Policy::SpanCount { min, max } => {
                let n = t.span_count as i64;
                sampled_if(*min <= n && (*max == 0 || n <= *max))
            }
            Policy::TraceState { key, values } => {
                sampled_if(t.spans().any(|s| {
                    trace_state_get(&s.trace_state, key).is_some_and(|v| values.contains(v))
                }))
            }
            Policy::TraceFlags => sampled_if(t.spans().any(|s| s.flags & 0x1 == 0x1)),
            Policy::And(subs) => {
                for s in subs.iter_mut() {
                    let d = s.evaluate_decoded(t, facts, now_ns);
                    if matches!(d, Decision::NotSampled | Decision::InvertNotSampled) {
                        return Decision::NotSampled;
                    }
                }
                Decision::Sampled
            }
            Policy::Not(sub) => match sub.evaluate_decoded(t, facts, now_ns) {
                Decision::Sampled => Decision::NotSampled,
                Decision::NotSampled => Decision::Sampled,
                other => other,
            },
            Policy::Drop(subs) => {
                for s in subs.iter_mut() {
                    let d = s.evaluate_decoded(t, facts, now_ns);
                    if matches!(d, Decision::NotSampled | Decision::InvertNotSampled) {
                        return Decision::NotSampled;
                    }
                }
                Decision::Dropped
            }
            Policy::Composite(c) => c.evaluate_decoded(t, facts, now_ns),
            Policy::GenAi(g) => g.evaluate(facts, now_ns),
        }
    }
}

impl Composite {
    fn evaluate_decoded(
        &mut self,
        t: &TraceData,
        facts: &[SpanFacts<'_>],
        now_ns: u64,
    ) -> Decision {
        let second = (now_ns / 1_000_000_000) as i64;
        if second != self.current_second {
            self.current_second = second;
            self.subs.iter_mut().for_each(|s| s.sampled_this_second = 0);
        }
        let spans = t.span_count as i64;
        for sub in self.subs.iter_mut() {
            let d = sub.policy.evaluate_decoded(t, facts, now_ns);
            if matches!(d, Decision::Sampled | Decision::InvertSampled) {
                let after = sub.sampled_this_second + spans;
                if after <= sub.allocated && after <= self.max_total {
                    sub.sampled_this_second = after;
                    return Decision::Sampled;
                }
                // Over budget: not sampled, and the budget is left for smaller traces.
                return Decision::NotSampled;
            }
        }
        Decision::NotSampled
    }
}

/// Contrib latency: walks spans in order keeping the running earliest start and latest end
/// and samples as soon as the running duration satisfies the bound.
fn latency(t: &TraceData, threshold_ms: i64, upper_ms: i64) -> Decision {
    let (mut min, mut max) = (0u64, 0u64);
    sampled_if(t.spans().any(|s| {
        if min == 0 || s.start_time_unix_nano < min {
            min = s.start_time_unix_nano;
        }
        if max == 0 || s.end_time_unix_nano > max {
            max = s.end_time_unix_nano;
        }
        let ms = (max as i128 - min as i128) / 1_000_000;
        if upper_ms == 0 {
            // Strictly longer, as contrib v0.161 (`duration.Milliseconds() > thresholdMs`).
            ms > threshold_ms as i128
        } else {
            (threshold_ms as i128) < ms && ms <= upper_ms as i128
        }
    }))
}

/// Contrib's resource-or-span walk. `m` answers `Some(matched)` when the key is present.
/// Plain: Sampled if any resource or span matches. Inverted (as contrib v0.161): NotSampled
/// as soon as one matches, else Sampled.
fn resource_or_span(
    t: &TraceData,
    invert: bool,
    m: impl Fn(&[KeyValue]) -> Option<bool>,
) -> Decision {
    let hit = |attrs: &[KeyValue]| m(attrs).unwrap_or(false);
    let any = t
        .groups
        .iter()
        .any(|g| hit(g.resource.attributes()) || g.spans.iter().any(|s| hit(&s.attributes)));
    match (invert, any) {
        (false, true) => Decision::Sampled,
        (false, false) => Decision::NotSampled,
        // Contrib v0.161 returns plain decisions for invert_match (its inverted decisions are
        // no longer produced): a match means NotSampled, no match means Sampled.
        (true, true) => Decision::NotSampled,
        (true, false) => Decision::Sampled,
    }
}

/// Contrib's string filter: resource values are matched as given; span values only when
/// non-empty. A non-string value reads as "" (pdata's `Str()`).
fn string_policy(t: &TraceData, key: &str, matcher: &StringMatcher, invert: bool) -> Decision {
    let res_hit = |attrs: &[KeyValue]| attr(attrs, key).is_some_and(|v| matcher.matches(as_str(v)));
    let span_hit = |s: &Span| {
        attr(&s.attributes, key).is_some_and(|v| {
            let s = as_str(v);
            !s.is_empty() && matcher.matches(s)
        })
    };
    let any = t
        .groups
        .iter()
        .any(|g| res_hit(g.resource.attributes()) || g.spans.iter().any(span_hit));
    match (invert, any) {
        (false, true) => Decision::Sampled,
        (false, false) => Decision::NotSampled,
        // Contrib v0.161 returns plain decisions for invert_match (its inverted decisions are
        // no longer produced): a match means NotSampled, no match means Sampled.
        (true, true) => Decision::NotSampled,
        (true, false) => Decision::Sampled,
    }
}

/// The attribute's value when the key is present (an empty value reads as an empty string).
fn attr<'a>(attrs: &'a [KeyValue], key: &str) -> Option<Option<&'a any_value::Value>> {
    attrs
        .iter()
        .find(|kv| kv.key == key)
        .map(|kv| kv.value.as_ref().and_then(|v| v.value.as_ref()))
}

fn as_str(v: Option<&any_value::Value>) -> &str {
    match v {
        Some(any_value::Value::StringValue(s)) => s,
        _ => "",
    }
}

fn as_int(v: Option<&any_value::Value>) -> i64 {
    match v {
        Some(any_value::Value::IntValue(i)) => *i,
        _ => 0,
    }
}

fn as_bool(v: Option<&any_value::Value>) -> bool {
    matches!(v, Some(any_value::Value::BoolValue(true)))
}
