//! Span facts: what one span says about a GenAI call, read once, from one alias table.
//!
//! Instrumentations disagree on names (OTel GenAI in several generations, OpenLLMetry,
//! OpenInference, the Vercel AI SDK, OpenLIT, Logfire/pydantic-ai, Langfuse, Spring AI,
//! Sentry, ...) and on meaning (does input include cache tokens?). Every stage that needs
//! to know what a span is (cost, metrics, every GenAI sampling policy) reads the
//! [`SpanFacts`] computed here, so they cannot disagree. What the code relies on, with
//! sources: docs/genai-conventions.md.
//!
//! - [`aliases`]: the alias table, as data.
//! - [`number`]: the one reader for counts and numbers.
//! - [`classify`]: the one classifier (inference / aggregate / agent / tool / other).
//! - [`source`], [`inclusion`]: which instrumentation wrote the span, and its token semantics.
//! - [`provider`]: provider spellings → latest OTel values.
//! - [`blobs`]: usage and cost hidden in JSON strings.
//! - [`read`]: the single pass over a span's attributes.
//! - [`prost`]: an adapter from prost-decoded spans, for stages that still hold them.

pub mod aliases;
pub mod blobs;
pub mod classify;
pub mod inclusion;
pub mod number;
pub mod prost;
pub mod provider;
pub mod read;
pub mod source;

#[cfg(test)]
mod tests;

use std::borrow::Cow;

use serde::Deserialize;

pub use aliases::OwnKeys;
pub use classify::Kind;
pub use inclusion::InclusionOverride;
pub use provider::normalize_provider;
pub use source::Source;

use aliases::Index;

/// Default ceiling on any token count of one call: above it the count is implausible.
pub const DEFAULT_MAX_TOKENS_PER_CALL: u64 = 100_000_000;
/// Highest accepted ceiling: sums of a few counts stay exact and far from overflow.
pub const MAX_MAX_TOKENS_PER_CALL: u64 = 1_000_000_000_000;

/// How facts are read: the table (with the keys our own cost stage writes), the token
/// ceiling and the user's inclusion overrides. Built once per engine.
#[derive(Debug, Clone)]
pub struct FactsConfig {
    index: Index,
    max_tokens_per_call: u64,
    inclusion: Vec<InclusionOverride>,
}

impl Default for FactsConfig {
    fn default() -> Self {
        FactsConfig::new(&OwnKeys::default(), DEFAULT_MAX_TOKENS_PER_CALL, Vec::new())
    }
}

impl FactsConfig {
    pub fn new(
        own: &OwnKeys,
        max_tokens_per_call: u64,
        inclusion: Vec<InclusionOverride>,
    ) -> FactsConfig {
        FactsConfig {
            index: Index::new(own),
            max_tokens_per_call,
            inclusion,
        }
    }

    pub fn max_tokens_per_call(&self) -> u64 {
        self.max_tokens_per_call
    }

    /// Whether reading a span's or a resource's facts looks at the attribute `key` (besides
    /// the span and scope names): a redaction edit to any other key cannot change them.
    pub fn reads_key(&self, key: &[u8]) -> bool {
        key == b"service.name"
            || key.starts_with(aliases::AGGREGATED_USAGE_PREFIX)
            || self.index.find(key).is_some()
    }
}

/// Checks a `max_tokens_per_call` value; the message names the key and the range.
pub fn validate_max_tokens(v: u64) -> Result<(), String> {
    if (1..=MAX_MAX_TOKENS_PER_CALL).contains(&v) {
        Ok(())
    } else {
        Err(max_tokens_error(&v.to_string()))
    }
}

fn max_tokens_error(got: &str) -> String {
    format!(
        "cost.max_tokens_per_call must be a whole number between 1 and \
         {MAX_MAX_TOKENS_PER_CALL} (default {DEFAULT_MAX_TOKENS_PER_CALL}), got {got}"
    )
}

/// The instrumentation scope of a span.
#[derive(Debug, Clone, Copy, Default)]
pub struct ScopeInput<'a> {
    pub name: &'a [u8],
    pub version: &'a [u8],
}

/// One span as the reader finds it: bytes borrowed from the batch, not necessarily UTF-8.
#[derive(Debug, Clone)]
pub struct SpanInput<'a, I> {
    pub name: &'a [u8],
    /// The span's attributes (`KeyValueRef` items).
    pub attributes: I,
    pub scope: ScopeInput<'a>,
    /// OTLP status code (2 = error).
    pub status_code: i32,
    pub start_unix_nano: u64,
    pub end_unix_nano: u64,
}

/// What the resource says, read once per resource rather than once per span.
#[derive(Debug, Clone, Default)]
pub struct ResourceFacts<'a> {
    /// `service.name`, when present.
    pub service: Option<Cow<'a, str>>,
    /// The batch-API marker on the resource (`Some` when present and non-empty).
    pub batch: Option<bool>,
    /// `cloud.region` / `aws.region` of the resource.
    pub region: Option<Cow<'a, str>>,
}

impl<'a> ResourceFacts<'a> {
    /// Reads a resource's attributes (`KeyValueRef` items).
    pub fn read<I>(attrs: I, cfg: &FactsConfig) -> ResourceFacts<'a>
    where
        I: IntoIterator<Item = crate::otlp::KeyValueRef<'a>>,
    {
        read::read_resource(attrs, cfg)
    }

    /// `service.name`, or the SDK default for a missing one.
    pub fn service_name(&self) -> &str {
        self.service.as_deref().unwrap_or("unknown_service")
    }
}

/// Token counts in OTel spec semantics: input includes cache reads and writes, output
/// includes reasoning.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct TokenCounts {
    /// Total input; `None` when the span reports none.
    pub input: Option<u64>,
    pub cache_read: u64,
    /// All cache writes (5-minute and 1-hour).
    pub cache_write: u64,
    /// The part of `cache_write` written with a 1-hour TTL.
    pub cache_write_1h: u64,
    /// Total output; `None` when the span reports none.
    pub output: Option<u64>,
    pub reasoning: u64,
    /// A total the span reported, as written.
    pub total: Option<u64>,
}

impl TokenCounts {
    pub fn cache_write_5m(&self) -> u64 {
        self.cache_write - self.cache_write_1h
    }

    pub fn has_usage(&self) -> bool {
        self.input.is_some() || self.output.is_some()
    }

    /// Input plus output, or the reported total when the span gives neither.
    pub fn sum(&self) -> u64 {
        if self.has_usage() {
            self.input
                .unwrap_or(0)
                .saturating_add(self.output.unwrap_or(0))
        } else {
            self.total.unwrap_or(0)
        }
    }
}

/// Whether the counts can be used at all.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum TokenSanity {
    #[default]
    Ok,
    /// A count was negative: the span has no usable usage.
    Negative,
    /// A count was above `max_tokens_per_call`: flagged, never priced nor counted.
    Implausible,
}

/// How cache/reasoning inclusion was decided, for the span's audit flags.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Inclusion {
    /// The source's input count excluded cache tokens, so they were added.
    pub input_was_exclusive: bool,
    /// The exclusion was detected from impossible numbers (cache > input), not from a rule.
    pub detected_by_sanity_check: bool,
    /// The source's output count excluded reasoning tokens, so they were added.
    pub output_was_exclusive: bool,
}

/// What says the call failed.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ErrorFacts<'a> {
    /// The span's status is ERROR.
    pub status_error: bool,
    /// `error.type`, when present and not empty.
    pub error_type: Option<Cow<'a, str>>,
    pub http_status: Option<i64>,
    /// A finish reason says the provider's content filter stopped the answer.
    pub content_filtered: bool,
}

impl ErrorFacts<'_> {
    pub fn is_error(&self) -> bool {
        self.status_error || self.error_type.is_some()
    }

    /// The `error.type` label of a failed call: the attribute, or semconv's `_OTHER` for an
    /// error status without one.
    pub fn metric_error_type(&self) -> Option<&str> {
        match &self.error_type {
            Some(e) => Some(e),
            None => self
                .status_error
                .then_some(crate::metrics::names::OTHER_ERROR),
        }
    }

    /// HTTP 429, or an error type that names a rate limit in any of the usual spellings.
    pub fn rate_limited(&self) -> bool {
        if self.http_status == Some(429) {
            return true;
        }
        let Some(e) = self.error_type.as_deref() else {
            return false;
        };
        // Compare as lower case with ' ' and '-' read as '_', without building a copy.
        let norm = |b: u8| match b {
            b' ' | b'-' => b'_',
            b => b.to_ascii_lowercase(),
        };
        let contains = |needle: &str| {
            let n = needle.as_bytes();
            e.len() >= n.len()
                && e.as_bytes()
                    .windows(n.len())
                    .any(|w| w.iter().zip(n).all(|(a, b)| norm(*a) == *b))
        };
        e == "429"
            || contains("ratelimit")
            || contains("rate_limit")
            || contains("too_many_requests")
            || contains("toomanyrequests")
    }
}

/// A cost the span carried before our cost stage, and under which key.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ReportedCost {
    pub usd: f64,
    /// The alias it was read from (the default spelling for configured keys).
    pub key: &'static str,
    /// The provider's own bill (OpenRouter); otherwise an instrumentation's in-process
    /// estimate from its own price table (OpenLIT writes 0 whenever it has no price).
    pub provider: bool,
}

/// What an upstream Tollbooth cost stage wrote on the span (two-tier collectors, or the
/// `genai` processor before the `genai_metrics` connector).
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Upstream {
    /// `tollbooth.cost.status` as written; `None` when no cost stage saw the span.
    pub status: Option<UpstreamStatus>,
    /// The cost that stage computed, in USD.
    pub cost_usd: Option<f64>,
}

impl Upstream {
    pub fn enriched(&self) -> bool {
        self.status.is_some()
    }
}

/// The status values our cost stage writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UpstreamStatus {
    Priced,
    Unpriced,
    NoUsage,
    ProviderReported,
    Estimated,
    /// Another span of a call already accounted (src/dedupe/).
    Duplicate,
    /// Any other value (a newer or foreign writer).
    Other,
}

/// Everything the stages need to know about one span. Strings borrow the batch; a `Cow`
/// is owned only where invalid UTF-8 had to be repaired (U+FFFD), so such a span is still
/// recognised, priced where possible and counted.
#[derive(Debug, Clone, Default)]
pub struct SpanFacts<'a> {
    pub kind: Kind,
    pub source: Source,
    /// Provider in the latest OTel spelling, when we know it.
    pub provider: Option<&'static str>,
    /// The provider exactly as the span wrote it.
    pub provider_raw: Option<Cow<'a, str>>,
    pub operation: Option<Cow<'a, str>>,
    pub request_model: Option<Cow<'a, str>>,
    pub response_model: Option<Cow<'a, str>>,
    /// `openai.response.service_tier`, Anthropic's tier and the like; `auto` is skipped (it
    /// is not a price).
    pub service_tier: Option<Cow<'a, str>>,
    pub server_address: Option<Cow<'a, str>>,
    /// `cloud.region` / `aws.region` on the span (a region is checked by pricing).
    pub region: Option<Cow<'a, str>>,
    /// The resource's region, copied here so pricing needs nothing but the facts.
    pub resource_region: Option<Cow<'a, str>>,
    /// Anthropic `usage.inference_geo` and `speed` (price variants).
    pub inference_geo: Option<Cow<'a, str>>,
    pub speed: Option<Cow<'a, str>>,
    pub sanity: TokenSanity,
    tokens: TokenCounts,
    pub inclusion: Inclusion,
    /// Time to first token, seconds.
    pub ttft_s: Option<f64>,
    pub error: ErrorFacts<'a>,
    pub reported_cost: Option<ReportedCost>,
    /// The provider's id for the response (`gen_ai.response.id`, `ai.response.id`), for
    /// exactly-once accounting.
    pub response_id: Option<Cow<'a, str>>,
    pub upstream: Upstream,
    /// Batch-API call (the configured marker on the span, else on its resource).
    pub batch: bool,
    /// Which latest-convention keys the span already has (bits of [`canon`]).
    pub present: u8,
    pub start_unix_nano: u64,
    pub end_unix_nano: u64,
}

/// Bits of [`SpanFacts::present`]: the latest OTel keys the span already carries.
pub mod canon {
    use super::aliases::flag;
    pub const PROVIDER: u8 = flag::PROVIDER as u8;
    pub const INPUT: u8 = flag::INPUT as u8;
    pub const OUTPUT: u8 = flag::OUTPUT as u8;
    pub const CACHE_READ: u8 = flag::CACHE_READ as u8;
    pub const CACHE_WRITE: u8 = flag::CACHE_WRITE as u8;
    pub const REASONING: u8 = flag::REASONING as u8;
}

impl<'a> SpanFacts<'a> {
    /// Reads one span. See [`read`].
    pub fn read<I>(
        span: SpanInput<'a, I>,
        resource: &ResourceFacts<'a>,
        cfg: &FactsConfig,
    ) -> SpanFacts<'a>
    where
        I: IntoIterator<Item = crate::otlp::KeyValueRef<'a>>,
    {
        read::read(span, resource, cfg)
    }

    pub fn is_genai(&self) -> bool {
        self.kind.is_genai()
    }

    pub fn is_inference(&self) -> bool {
        self.kind == Kind::Inference
    }

    /// The counts, when sane (possibly all empty: see [`TokenCounts::has_usage`]).
    pub fn tokens(&self) -> Option<&TokenCounts> {
        (self.sanity == TokenSanity::Ok).then_some(&self.tokens)
    }

    /// The counts when sane and the span reports usage: what may be priced and counted.
    pub fn usage(&self) -> Option<&TokenCounts> {
        self.tokens().filter(|t| t.has_usage())
    }

    /// The provider to report: normalised when known, else as written, else `unknown`.
    pub fn provider_name(&self) -> &str {
        self.provider
            .or(self.provider_raw.as_deref())
            .unwrap_or("unknown")
    }

    /// The model to price: the response model when present, else the request model.
    pub fn model(&self) -> Option<&str> {
        self.response_model
            .as_deref()
            .or(self.request_model.as_deref())
    }

    /// Span duration in seconds (zero when the clock went backwards).
    pub fn duration_s(&self) -> f64 {
        self.end_unix_nano.saturating_sub(self.start_unix_nano) as f64 / 1e9
    }

    /// The cost known without pricing here (for sampling policies): what an upstream
    /// Tollbooth stage accounted the call at, else the cost the span reported. `None` when
    /// the token counts are not sane: an implausible call is kept out of every counter.
    pub fn known_cost_usd(&self) -> Option<f64> {
        if self.sanity != TokenSanity::Ok {
            return None;
        }
        if self.upstream.enriched() {
            self.upstream.cost_usd
        } else {
            self.reported_cost.map(|c| c.usd)
        }
    }

    /// What an upstream cost stage accounted the call at, for metrics: a figure no cost
    /// stage accounted is not counted (it may be an estimate, or OpenLIT's 0 for "no price").
    pub fn accounted_cost_usd(&self) -> Option<f64> {
        if self.sanity != TokenSanity::Ok {
            return None;
        }
        self.upstream.cost_usd
    }
}

/// `cost.max_tokens_per_call` and its default, for configuration structs.
pub fn default_max_tokens_per_call() -> u64 {
    DEFAULT_MAX_TOKENS_PER_CALL
}

/// Deserialises and range-checks `max_tokens_per_call`, so a bad value (of any type) fails
/// at start with a message that names the key.
pub fn deserialize_max_tokens<'de, D: serde::Deserializer<'de>>(d: D) -> Result<u64, D::Error> {
    let v = serde_json::Value::deserialize(d)?;
    let n = v
        .as_u64()
        .ok_or_else(|| serde::de::Error::custom(max_tokens_error(&v.to_string())))?;
    validate_max_tokens(n).map_err(serde::de::Error::custom)?;
    Ok(n)
}
