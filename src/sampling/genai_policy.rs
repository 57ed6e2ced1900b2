//! GenAI policies: decisions from each span's [`SpanFacts`] (the same facts cost and metrics
//! read, so a policy cannot see a different call than the one that was priced and counted).
//!
//! Sums (cost, tokens) add inference spans only: agent, workflow and wrapper spans repeat
//! their children's usage, so a trace is not counted twice.

use std::collections::HashSet;

use super::config::PolicyConfig;
use super::decision::Decision;
use super::limiter::TokenBucket;
use super::policy::{compile_regex, sampled_if, StringMatcher};
use crate::facts::{SpanFacts, UpstreamStatus};

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

    /// Decides from the facts of every span of the trace (src/sampling/view.rs reads them).
    pub fn evaluate(&mut self, facts: &[SpanFacts<'_>], now_ns: u64) -> Decision {
        match self {
            GenAiPolicy::Cost(th) => sampled_if(trace_cost(facts) >= *th),
            GenAiPolicy::Tokens(th) => sampled_if(trace_tokens(facts) >= *th),
            GenAiPolicy::Model { providers, models } => sampled_if(facts.iter().any(|f| {
                if !f.is_genai() {
                    return false;
                }
                let named = |p: Option<&str>| {
                    p.is_some_and(|p| providers.iter().any(|want| want.eq_ignore_ascii_case(p)))
                };
                let p_ok =
                    providers.is_empty() || named(f.provider) || named(f.provider_raw.as_deref());
                let m_ok = models.as_ref().is_none_or(|m| {
                    f.request_model.as_deref().is_some_and(|x| m.matches(x))
                        || f.response_model.as_deref().is_some_and(|x| m.matches(x))
                });
                p_ok && m_ok
            })),
            GenAiPolicy::Unpriced => sampled_if(
                facts
                    .iter()
                    .any(|f| f.upstream.status == Some(UpstreamStatus::Unpriced)),
            ),
            GenAiPolicy::Error {
                errors,
                rate_limits,
                content_filter,
            } => sampled_if(facts.iter().any(|f| {
                let e = &f.error;
                f.is_genai()
                    && ((*errors && e.is_error())
                        || (*rate_limits && e.rate_limited())
                        || (*content_filter && e.content_filtered))
            })),
            GenAiPolicy::Ttft(th) => sampled_if(
                facts
                    .iter()
                    .any(|f| f.ttft_s.is_some_and(|s| s * 1000.0 >= *th)),
            ),
            GenAiPolicy::CostRateLimiting {
                bucket,
                keep_above_usd,
            } => {
                if keep_above_usd.is_some_and(|k| trace_cost(facts) >= k) {
                    return Decision::Sampled;
                }
                sampled_if(bucket.allow_n(now_ns, 1.0))
            }
        }
    }
}

/// Summed USD cost of the trace's model calls: what an upstream cost stage computed, else
/// what the provider reported.
pub fn trace_cost(facts: &[SpanFacts<'_>]) -> f64 {
    facts
        .iter()
        .filter(|f| f.is_inference())
        .filter_map(SpanFacts::known_cost_usd)
        .sum()
}

/// Summed tokens (input + output, else the reported total) of the trace's model calls.
/// Negative or implausible counts add nothing.
pub fn trace_tokens(facts: &[SpanFacts<'_>]) -> i64 {
    let n = facts
        .iter()
        .filter(|f| f.is_inference())
        .filter_map(|f| f.tokens())
        .fold(0u64, |acc, t| acc.saturating_add(t.sum()));
    i64::try_from(n).unwrap_or(i64::MAX)
}
