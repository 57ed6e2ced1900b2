//! Policy evaluators built from [`PolicyConfig`], with contrib's semantics per type.
//!
//! Evaluators that match attributes follow contrib's "resource or any span" rule, and with
//! `invert_match` its "every resource and every span must not match" rule, returning the
//! deprecated inverted decisions exactly as contrib does (its default, gate off).

use std::collections::HashSet;

use regex::Regex;

use super::config::{unsupported_type, PolicyConfig};
use super::decision::Decision;
use super::genai_policy::GenAiPolicy;
use super::limiter::TokenBucket;
use super::probabilistic::Probabilistic;
use super::view::{as_str, attr, TraceView};
use crate::facts::prost::flat_refs;
use crate::facts::SpanFacts;
use crate::otlp::AnyRef;

#[cfg(test)]
#[path = "decoded_ref.rs"]
pub(super) mod decoded_ref;

/// A built policy: its name (for telemetry) and evaluator.
#[derive(Debug)]
pub struct NamedPolicy {
    pub name: String,
    pub policy: Policy,
}

/// One evaluator; stateful ones (rate limits, composite) hold their state inline.
#[derive(Debug)]
pub enum Policy {
    AlwaysSample,
    Latency {
        threshold_ms: i64,
        upper_threshold_ms: i64,
    },
    Numeric {
        key: String,
        min: i64,
        max: i64,
        invert: bool,
    },
    Probabilistic(Probabilistic),
    StatusCode(Vec<i32>),
    String {
        key: String,
        matcher: StringMatcher,
        invert: bool,
    },
    Boolean {
        key: String,
        value: bool,
        invert: bool,
    },
    RateLimiting(TokenBucket),
    BytesLimiting(TokenBucket),
    SpanCount {
        min: i64,
        max: i64,
    },
    TraceState {
        key: String,
        values: HashSet<String>,
    },
    TraceFlags,
    And(Vec<Policy>),
    Not(Box<Policy>),
    Drop(Vec<Policy>),
    Composite(Composite),
    GenAi(GenAiPolicy),
}

#[derive(Debug)]
pub enum StringMatcher {
    Exact(HashSet<String>),
    Regex(Vec<Regex>),
}

impl StringMatcher {
    pub(crate) fn matches(&self, s: &str) -> bool {
        match self {
            StringMatcher::Exact(set) => set.contains(s),
            StringMatcher::Regex(list) => list.iter().any(|r| r.is_match(s)),
        }
    }
}

/// Contrib's composite: per-sub-policy spans-per-second budgets within a total, reset each
/// whole second of the injected clock.
#[derive(Debug)]
pub struct Composite {
    max_total: i64,
    subs: Vec<CompositeSub>,
    current_second: i64,
}

#[derive(Debug)]
struct CompositeSub {
    policy: Policy,
    allocated: i64,
    sampled_this_second: i64,
}

/// Compiles a regex with a size limit so a hostile pattern fails at start, not at runtime.
pub fn compile_regex(pattern: &str, ctx: &str) -> Result<Regex, String> {
    regex::RegexBuilder::new(pattern)
        .size_limit(1 << 20)
        .build()
        .map_err(|e| format!("{ctx}: invalid regular expression \"{pattern}\": {e}"))
}

fn missing(p: &PolicyConfig) -> String {
    format!(
        "policy \"{}\": type {} needs a \"{}\" block",
        p.name, p.kind, p.kind
    )
}

impl NamedPolicy {
    pub fn build(cfg: &PolicyConfig) -> Result<NamedPolicy, String> {
        Ok(NamedPolicy {
            name: cfg.name.clone(),
            policy: Policy::build(cfg)?,
        })
    }
}

impl Policy {
    /// Builds an evaluator; errors name the policy, the key and the fix.
    pub fn build(p: &PolicyConfig) -> Result<Policy, String> {
        let name = &p.name;
        Ok(match p.kind.as_str() {
            "always_sample" => Policy::AlwaysSample,
            "latency" => {
                let c = p.latency.as_ref().ok_or_else(|| missing(p))?;
                if c.upper_threshold_ms != 0 && c.upper_threshold_ms < c.threshold_ms {
                    return Err(format!("policy \"{name}\": latency.upper_threshold_ms must be 0 or at least threshold_ms"));
                }
                Policy::Latency {
                    threshold_ms: c.threshold_ms,
                    upper_threshold_ms: c.upper_threshold_ms,
                }
            }
            "numeric_attribute" => {
                let c = p.numeric_attribute.as_ref().ok_or_else(|| missing(p))?;
                if c.min_value.is_none() && c.max_value.is_none() {
                    return Err(format!(
                        "policy \"{name}\": numeric_attribute needs min_value or max_value"
                    ));
                }
                let (min, max) = (
                    c.min_value.unwrap_or(i64::MIN),
                    c.max_value.unwrap_or(i64::MAX),
                );
                if max < min {
                    return Err(format!(
                        "policy \"{name}\": numeric_attribute.max_value must be at least min_value"
                    ));
                }
                Policy::Numeric {
                    key: c.key.clone(),
                    min,
                    max,
                    invert: c.invert_match,
                }
            }
            "probabilistic" => {
                let c = p.probabilistic.as_ref().ok_or_else(|| missing(p))?;
                if !c.sampling_percentage.is_finite() {
                    return Err(format!(
                        "policy \"{name}\": probabilistic.sampling_percentage must be a number"
                    ));
                }
                Policy::Probabilistic(Probabilistic::new(&c.hash_salt, c.sampling_percentage))
            }
            "status_code" => {
                let c = p.status_code.as_ref().ok_or_else(|| missing(p))?;
                if c.status_codes.is_empty() {
                    return Err(format!("policy \"{name}\": status_code.status_codes must list at least one of OK, ERROR, UNSET"));
                }
                let codes = c
                    .status_codes
                    .iter()
                    .map(|s| match s.as_str() {
                        "UNSET" => Ok(0),
                        "OK" => Ok(1),
                        "ERROR" => Ok(2),
                        other => Err(format!("policy \"{name}\": unknown status code \"{other}\"; use OK, ERROR or UNSET")),
                    })
                    .collect::<Result<Vec<_>, _>>()?;
                Policy::StatusCode(codes)
            }
            "string_attribute" => {
                let c = p.string_attribute.as_ref().ok_or_else(|| missing(p))?;
                let matcher = if c.enabled_regex_matching {
                    StringMatcher::Regex(
                        c.values
                            .iter()
                            .map(|v| {
                                compile_regex(
                                    v,
                                    &format!("policy \"{name}\": string_attribute.values"),
                                )
                            })
                            .collect::<Result<_, _>>()?,
                    )
                } else {
                    StringMatcher::Exact(
                        c.values.iter().filter(|v| !v.is_empty()).cloned().collect(),
                    )
                };
                Policy::String {
                    key: c.key.clone(),
                    matcher,
                    invert: c.invert_match,
                }
            }
            "boolean_attribute" => {
                let c = p.boolean_attribute.as_ref().ok_or_else(|| missing(p))?;
                Policy::Boolean {
                    key: c.key.clone(),
                    value: c.value,
                    invert: c.invert_match,
                }
            }
            "rate_limiting" => {
                let c = p.rate_limiting.as_ref().ok_or_else(|| missing(p))?;
                if c.spans_per_second <= 0 {
                    return Err(format!(
                        "policy \"{name}\": rate_limiting.spans_per_second must be greater than 0"
                    ));
                }
                let burst = c
                    .burst_capacity
                    .filter(|b| *b > 0)
                    .unwrap_or(c.spans_per_second * 2);
                Policy::RateLimiting(TokenBucket::new(c.spans_per_second as f64, burst as f64))
            }
            "bytes_limiting" => {
                let c = p.bytes_limiting.as_ref().ok_or_else(|| missing(p))?;
                if c.bytes_per_second <= 0 {
                    return Err(format!(
                        "policy \"{name}\": bytes_limiting.bytes_per_second must be greater than 0"
                    ));
                }
                let burst = c
                    .burst_capacity
                    .filter(|b| *b > 0)
                    .unwrap_or(c.bytes_per_second * 2);
                Policy::BytesLimiting(TokenBucket::new(c.bytes_per_second as f64, burst as f64))
            }
            "span_count" => {
                let c = p.span_count.as_ref().ok_or_else(|| missing(p))?;
                if c.max_spans != 0 && c.max_spans < c.min_spans {
                    return Err(format!(
                        "policy \"{name}\": span_count.max_spans must be 0 or at least min_spans"
                    ));
                }
                Policy::SpanCount {
                    min: c.min_spans,
                    max: c.max_spans,
                }
            }
            "trace_state" => {
                let c = p.trace_state.as_ref().ok_or_else(|| missing(p))?;
                // W3C limits a list member to 256 characters; longer values can never match.
                let values = c
                    .values
                    .iter()
                    .filter(|v| !v.is_empty() && c.key.len() + v.len() < 256)
                    .cloned()
                    .collect();
                Policy::TraceState {
                    key: c.key.clone(),
                    values,
                }
            }
            "trace_flags" => Policy::TraceFlags,
            "and" => {
                let c = p.and.as_ref().ok_or_else(|| missing(p))?;
                if c.and_sub_policy.is_empty() {
                    return Err(format!(
                        "policy \"{name}\": and.and_sub_policy must not be empty"
                    ));
                }
                Policy::And(
                    c.and_sub_policy
                        .iter()
                        .map(Policy::build)
                        .collect::<Result<_, _>>()?,
                )
            }
            "not" => {
                let c = p.not.as_ref().ok_or_else(|| missing(p))?;
                Policy::Not(Box::new(Policy::build(&c.not_sub_policy)?))
            }
            "drop" => {
                let c = p.drop.as_ref().ok_or_else(|| missing(p))?;
                if c.drop_sub_policy.is_empty() {
                    return Err(format!(
                        "policy \"{name}\": drop.drop_sub_policy must not be empty"
                    ));
                }
                Policy::Drop(
                    c.drop_sub_policy
                        .iter()
                        .map(Policy::build)
                        .collect::<Result<_, _>>()?,
                )
            }
            "composite" => {
                let c = p.composite.as_ref().ok_or_else(|| missing(p))?;
                if c.composite_sub_policy.is_empty() {
                    return Err(format!(
                        "policy \"{name}\": composite.composite_sub_policy must not be empty"
                    ));
                }
                let names: HashSet<&str> = c
                    .composite_sub_policy
                    .iter()
                    .map(|s| s.name.as_str())
                    .collect();
                for n in c
                    .policy_order
                    .iter()
                    .chain(c.rate_allocation.iter().map(|r| &r.policy))
                {
                    if !names.contains(n.as_str()) {
                        return Err(format!("policy \"{name}\": composite names \"{n}\" in policy_order or rate_allocation, but no composite_sub_policy has that name"));
                    }
                }
                // Contrib: percent of the total; a non-positive percent gets an equal share;
                // a sub-policy absent from rate_allocation gets 0 (it can never sample).
                let total = c.max_total_spans_per_second as f64;
                let equal = total / c.composite_sub_policy.len() as f64;
                let subs = c
                    .composite_sub_policy
                    .iter()
                    .map(|s| {
                        let alloc = c
                            .rate_allocation
                            .iter()
                            .rfind(|r| r.policy == s.name)
                            .map(|r| {
                                if r.percent > 0 {
                                    r.percent as f64 / 100.0 * total
                                } else {
                                    equal
                                }
                            })
                            .unwrap_or(0.0);
                        Ok(CompositeSub {
                            policy: Policy::build(s)?,
                            allocated: alloc as i64,
                            sampled_this_second: 0,
                        })
                    })
                    .collect::<Result<_, String>>()?;
                Policy::Composite(Composite {
                    max_total: c.max_total_spans_per_second,
                    subs,
                    current_second: -1,
                })
            }
            other => match GenAiPolicy::build(p)? {
                Some(g) => Policy::GenAi(g),
                None => return Err(unsupported_type(name, other)),
            },
        })
    }

    /// True for `drop` policies, which contrib evaluates first.
    pub fn is_drop(&self) -> bool {
        matches!(self, Policy::Drop(_))
    }

    /// True when this policy (or a sub-policy) decides from span facts, so the sampler
    /// reads them for each trace it decides.
    pub fn needs_facts(&self) -> bool {
        match self {
            Policy::GenAi(_) => true,
            Policy::And(subs) | Policy::Drop(subs) => subs.iter().any(Policy::needs_facts),
            Policy::Not(sub) => sub.needs_facts(),
            Policy::Composite(c) => c.subs.iter().any(|s| s.policy.needs_facts()),
            _ => false,
        }
    }

    /// Evaluates one held trace alone, reading its facts first (tests; the sampler reads
    /// facts once per trace and calls [`Policy::evaluate`]).
    #[cfg(test)]
    pub fn evaluate_alone(&mut self, t: &super::stored::StoredTrace, now_ns: u64) -> Decision {
        let view = TraceView::of(t).expect("held spans read");
        let facts = view.facts(&crate::facts::FactsConfig::default());
        self.evaluate(&view, &facts, now_ns)
    }

    /// Evaluates one trace at `now_ns` (the injected clock drives the rate limiters).
    /// `facts` are the trace's span facts, in span order (empty when no policy needs them).
    pub fn evaluate(
        &mut self,
        t: &TraceView<'_>,
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
                let m = |v: AnyRef<'_>| (*min..=*max).contains(&as_int(v));
                resource_or_span(t, key, *invert, m)
            }
            Policy::Probabilistic(p) => sampled_if(p.sampled(&t.id)),
            Policy::StatusCode(codes) => {
                sampled_if(t.spans().any(|s| codes.contains(&s.status().code)))
            }
            Policy::String {
                key,
                matcher,
                invert,
            } => string_policy(t, key, matcher, *invert),
            Policy::Boolean { key, value, invert } => {
                let m = |v: AnyRef<'_>| as_bool(v) == *value;
                resource_or_span(t, key, *invert, m)
            }
            Policy::RateLimiting(b) => sampled_if(b.allow_n(now_ns, t.span_count as f64)),
            Policy::BytesLimiting(b) => sampled_if(b.allow_n(now_ns, t.otlp_size() as f64)),
            Policy::SpanCount { min, max } => {
                let n = t.span_count as i64;
                sampled_if(*min <= n && (*max == 0 || n <= *max))
            }
            Policy::TraceState { key, values } => sampled_if(t.spans().any(|s| {
                let ts = String::from_utf8_lossy(s.trace_state());
                trace_state_get(&ts, key).is_some_and(|v| values.contains(v))
            })),
            Policy::TraceFlags => sampled_if(t.spans().any(|s| s.flags() & 0x1 == 0x1)),
            Policy::And(subs) => {
                for s in subs.iter_mut() {
                    let d = s.evaluate(t, facts, now_ns);
                    if matches!(d, Decision::NotSampled | Decision::InvertNotSampled) {
                        return Decision::NotSampled;
                    }
                }
                Decision::Sampled
            }
            Policy::Not(sub) => match sub.evaluate(t, facts, now_ns) {
                Decision::Sampled => Decision::NotSampled,
                Decision::NotSampled => Decision::Sampled,
                other => other,
            },
            Policy::Drop(subs) => {
                for s in subs.iter_mut() {
                    let d = s.evaluate(t, facts, now_ns);
                    if matches!(d, Decision::NotSampled | Decision::InvertNotSampled) {
                        return Decision::NotSampled;
                    }
                }
                Decision::Dropped
            }
            Policy::Composite(c) => c.evaluate(t, facts, now_ns),
            Policy::GenAi(g) => g.evaluate(facts, now_ns),
        }
    }
}

impl Composite {
    fn evaluate(&mut self, t: &TraceView<'_>, facts: &[SpanFacts<'_>], now_ns: u64) -> Decision {
        let second = (now_ns / 1_000_000_000) as i64;
        if second != self.current_second {
            self.current_second = second;
            self.subs.iter_mut().for_each(|s| s.sampled_this_second = 0);
        }
        let spans = t.span_count as i64;
        for sub in self.subs.iter_mut() {
            let d = sub.policy.evaluate(t, facts, now_ns);
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

pub(crate) fn sampled_if(b: bool) -> Decision {
    if b {
        Decision::Sampled
    } else {
        Decision::NotSampled
    }
}

/// Contrib latency: walks spans in order keeping the running earliest start and latest end
/// and samples as soon as the running duration satisfies the bound.
fn latency(t: &TraceView<'_>, threshold_ms: i64, upper_ms: i64) -> Decision {
    let (mut min, mut max) = (0u64, 0u64);
    sampled_if(t.spans().any(|s| {
        let (start, end) = (s.start_time_unix_nano(), s.end_time_unix_nano());
        if min == 0 || start < min {
            min = start;
        }
        if max == 0 || end > max {
            max = end;
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

/// Contrib's resource-or-span walk: `m` judges the value of attribute `key` where present.
fn resource_or_span(
    t: &TraceView<'_>,
    key: &str,
    invert: bool,
    m: impl Fn(AnyRef<'_>) -> bool,
) -> Decision {
    matched(invert, any_attr(t, key, &m, &m))
}

/// Plain: Sampled if any resource or span matched. Inverted: contrib v0.161 returns plain
/// decisions for invert_match (its inverted decisions are no longer produced): a match means
/// NotSampled, no match means Sampled.
fn matched(invert: bool, any: bool) -> Decision {
    sampled_if(any != invert)
}

/// True when the value of `key` on some group's resource satisfies `on_resource`, or on
/// some span `on_span`. Resources are read from their decoded handles (one per batch).
fn any_attr(
    t: &TraceView<'_>,
    key: &str,
    on_resource: &impl Fn(AnyRef<'_>) -> bool,
    on_span: &impl Fn(AnyRef<'_>) -> bool,
) -> bool {
    t.groups()
        .iter()
        .any(|g| attr(flat_refs(g.resource.attributes()), key).is_some_and(on_resource))
        || t.spans()
            .any(|s| attr(s.attributes().iter().copied(), key).is_some_and(on_span))
}

/// Contrib's string filter: resource values are matched as given; span values only when
/// non-empty. A non-string value reads as "" (pdata's `Str()`).
fn string_policy(t: &TraceView<'_>, key: &str, matcher: &StringMatcher, invert: bool) -> Decision {
    let on_resource = |v: AnyRef<'_>| matcher.matches(&as_str(v));
    let on_span = |v: AnyRef<'_>| {
        let s = as_str(v);
        !s.is_empty() && matcher.matches(&s)
    };
    matched(invert, any_attr(t, key, &on_resource, &on_span))
}

fn as_int(v: AnyRef<'_>) -> i64 {
    match v {
        AnyRef::Int(i) => i,
        _ => 0,
    }
}

fn as_bool(v: AnyRef<'_>) -> bool {
    matches!(v, AnyRef::Bool(true))
}

/// Looks a key up in a W3C `tracestate` header value.
fn trace_state_get<'a>(ts: &'a str, key: &str) -> Option<&'a str> {
    ts.split(',').find_map(|member| {
        let (k, v) = member.trim().split_once('=')?;
        (k == key).then_some(v)
    })
}
