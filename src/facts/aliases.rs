//! The alias table: every attribute key the facts reader understands, as data.
//!
//! One row per key: the fact it feeds and flags (which latest-convention key it is, which
//! instrumentation it marks). Within one fact, an earlier row wins over a later one when a
//! span carries several spellings. Sources and semantics of every row: docs/genai-conventions.md.

/// Text facts (stored as the winning value's bytes, repaired to UTF-8 once at the end).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Text {
    Provider,
    RequestModel,
    ResponseModel,
    Operation,
    OpenInferenceKind,
    TraceloopKind,
    AiSdkOperation,
    LangfuseType,
    LangfuseModel,
    ServiceTier,
    ServerAddress,
    /// The cloud region that served the call.
    Region,
    /// Anthropic's `inference_geo` and `speed`, which select price variants.
    InferenceGeo,
    Speed,
    ErrorType,
    /// JSON blobs that hide usage or cost.
    AiSdkProviderMetadata,
    UsageRaw,
    LangfuseUsage,
    LangfuseCost,
    /// `tollbooth.cost.status` as our own cost stage wrote it.
    UpstreamStatus,
    /// The batch-API marker (`cost.pricing.batch_attribute`).
    Batch,
}

pub const TEXT_FACTS: usize = Text::Batch as usize + 1;

/// Token counts, in the spelling's own semantics (inclusion rules apply later).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Count {
    Input,
    Output,
    CacheRead,
    CacheWrite,
    CacheWrite1h,
    Reasoning,
    Total,
}

pub const COUNT_FACTS: usize = Count::Total as usize + 1;

/// What a key feeds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Field {
    Text(Text),
    /// OpenInference's `llm.model_name`: the response model, also the best request model.
    ModelName,
    Count(Count),
    TtftSeconds,
    TtftMillis,
    /// A cost the span already carries, in USD.
    Cost,
    /// The cost our own cost stage computed when a provider cost was already there.
    UpstreamTotal,
    HttpStatus,
    /// A finish reason (string) or list of them (array of strings).
    FinishReason,
    /// Presence only (see the flags).
    Marker,
}

/// Flags of a row: the latest OTel key it is (so the cost stage does not write it again), or
/// the instrumentation its presence reveals.
pub mod flag {
    pub const PROVIDER: u16 = 1;
    pub const INPUT: u16 = 1 << 1;
    pub const OUTPUT: u16 = 1 << 2;
    pub const CACHE_READ: u16 = 1 << 3;
    pub const CACHE_WRITE: u16 = 1 << 4;
    pub const REASONING: u16 = 1 << 5;
    /// An upstream Tollbooth cost stage already enriched the span (two-tier collectors).
    pub const ENRICHED: u16 = 1 << 6;
    /// OpenLIT writes `gen_ai.sdk.version`.
    pub const OPENLIT: u16 = 1 << 8;
    /// OpenLLMetry's legacy `llm.request.type`.
    pub const TRACELOOP: u16 = 1 << 9;
    /// AI SDK v6+ token details: its counts are inclusive whatever the provider.
    pub const AI_SDK_DETAILS: u16 = 1 << 10;
    /// The canonical-key bits, as reported in `SpanFacts::present`.
    pub const CANONICAL: u16 = 0xff;
}

/// One row of the table.
#[derive(Debug, Clone, Copy)]
pub struct Alias {
    pub key: &'static str,
    pub field: Field,
    pub flags: u16,
}

const fn row(key: &'static str, field: Field, flags: u16) -> Alias {
    Alias { key, field, flags }
}

use Count as C;
use Field as F;
use Text as T;

/// Keys that mark a pydantic-ai agent run summing its model requests' usage.
pub const AGGREGATED_USAGE_PREFIX: &[u8] = b"gen_ai.aggregated_usage.";

/// The keys our own cost stage writes and reads back, with their defaults.
pub const UPSTREAM_STATUS_KEY: &str = "tollbooth.cost.status";
pub const UPSTREAM_TOTAL_KEY: &str = "tollbooth.cost.total";
pub const BATCH_KEY: &str = "tollbooth.pricing.processing";
pub const COST_KEY: &str = "gen_ai.usage.cost";

/// The table. Order matters within a field: earlier rows win.
pub const ALIASES: &[Alias] = &[
    // Provider: latest OTel name, the pre-1.37 name, OpenInference, AI SDK.
    row("gen_ai.provider.name", F::Text(T::Provider), flag::PROVIDER),
    row("gen_ai.system", F::Text(T::Provider), 0),
    row("llm.provider", F::Text(T::Provider), 0),
    row("llm.system", F::Text(T::Provider), 0),
    row("ai.model.provider", F::Text(T::Provider), 0),
    // Models.
    row("gen_ai.request.model", F::Text(T::RequestModel), 0),
    row("llm.request.model", F::Text(T::RequestModel), 0),
    row("ai.model.id", F::Text(T::RequestModel), 0),
    row("gen_ai.response.model", F::Text(T::ResponseModel), 0),
    row("llm.response.model", F::Text(T::ResponseModel), 0),
    row("ai.response.model", F::Text(T::ResponseModel), 0),
    row("llm.model_name", F::ModelName, 0),
    row(
        "langfuse.observation.model.name",
        F::Text(T::LangfuseModel),
        0,
    ),
    // Operation and the span-kind markers the classifier reads.
    row("gen_ai.operation.name", F::Text(T::Operation), 0),
    row("llm.request.type", F::Text(T::Operation), flag::TRACELOOP),
    row("openinference.span.kind", F::Text(T::OpenInferenceKind), 0),
    row("traceloop.span.kind", F::Text(T::TraceloopKind), 0),
    row("ai.operationId", F::Text(T::AiSdkOperation), 0),
    row("langfuse.observation.type", F::Text(T::LangfuseType), 0),
    // Input tokens. AI SDK v5 renamed promptTokens to inputTokens (and v6 made it the
    // inclusive total); a span carrying both is read by the newer name.
    row("gen_ai.usage.input_tokens", F::Count(C::Input), flag::INPUT),
    row("gen_ai.usage.prompt_tokens", F::Count(C::Input), 0),
    row("llm.usage.prompt_tokens", F::Count(C::Input), 0),
    row("llm.token_count.prompt", F::Count(C::Input), 0),
    row("ai.usage.inputTokens", F::Count(C::Input), 0),
    row("ai.usage.promptTokens", F::Count(C::Input), 0),
    row("gen_ai.response.prompt_tokens", F::Count(C::Input), 0),
    // Output tokens (same ranking).
    row(
        "gen_ai.usage.output_tokens",
        F::Count(C::Output),
        flag::OUTPUT,
    ),
    row("gen_ai.usage.completion_tokens", F::Count(C::Output), 0),
    row("llm.usage.completion_tokens", F::Count(C::Output), 0),
    row("llm.token_count.completion", F::Count(C::Output), 0),
    row("ai.usage.outputTokens", F::Count(C::Output), 0),
    row("ai.usage.completionTokens", F::Count(C::Output), 0),
    row("gen_ai.response.completion_tokens", F::Count(C::Output), 0),
    // Cache reads.
    row(
        "gen_ai.usage.cache_read.input_tokens",
        F::Count(C::CacheRead),
        flag::CACHE_READ,
    ),
    row(
        "gen_ai.usage.cache_read_input_tokens",
        F::Count(C::CacheRead),
        0,
    ),
    row(
        "gen_ai.usage.input_tokens.cached",
        F::Count(C::CacheRead),
        0,
    ),
    row(
        "llm.token_count.prompt_details.cache_read",
        F::Count(C::CacheRead),
        0,
    ),
    row(
        "ai.usage.inputTokenDetails.cacheReadTokens",
        F::Count(C::CacheRead),
        flag::AI_SDK_DETAILS,
    ),
    row("ai.usage.cachedInputTokens", F::Count(C::CacheRead), 0),
    row(
        "gen_ai.usage.details.cache_read_tokens",
        F::Count(C::CacheRead),
        0,
    ),
    row(
        "gen_ai.usage.prompt_tokens_details.cached_tokens",
        F::Count(C::CacheRead),
        0,
    ),
    // Cache writes (all TTLs), then the 1-hour part.
    row(
        "gen_ai.usage.cache_creation.input_tokens",
        F::Count(C::CacheWrite),
        flag::CACHE_WRITE,
    ),
    row(
        "gen_ai.usage.cache_write.input_tokens",
        F::Count(C::CacheWrite),
        0,
    ),
    row(
        "gen_ai.usage.cache_creation_input_tokens",
        F::Count(C::CacheWrite),
        0,
    ),
    row(
        "gen_ai.usage.input_tokens.cache_write",
        F::Count(C::CacheWrite),
        0,
    ),
    row(
        "llm.token_count.prompt_details.cache_write",
        F::Count(C::CacheWrite),
        0,
    ),
    row(
        "ai.usage.inputTokenDetails.cacheWriteTokens",
        F::Count(C::CacheWrite),
        flag::AI_SDK_DETAILS,
    ),
    row(
        "gen_ai.usage.details.cache_write_tokens",
        F::Count(C::CacheWrite),
        0,
    ),
    row(
        "gen_ai.usage.prompt_tokens_details.cache_creation_tokens",
        F::Count(C::CacheWrite),
        0,
    ),
    row(
        "anthropic.usage.cache_creation.ephemeral_1h_input_tokens",
        F::Count(C::CacheWrite1h),
        0,
    ),
    row(
        "ai.usage.inputTokenDetails.noCacheTokens",
        F::Marker,
        flag::AI_SDK_DETAILS,
    ),
    // Reasoning.
    row(
        "gen_ai.usage.reasoning.output_tokens",
        F::Count(C::Reasoning),
        flag::REASONING,
    ),
    row("gen_ai.usage.reasoning_tokens", F::Count(C::Reasoning), 0),
    row("llm.usage.reasoning_tokens", F::Count(C::Reasoning), 0),
    row(
        "gen_ai.usage.output_tokens.reasoning",
        F::Count(C::Reasoning),
        0,
    ),
    row(
        "llm.token_count.completion_details.reasoning",
        F::Count(C::Reasoning),
        0,
    ),
    row(
        "ai.usage.outputTokenDetails.reasoningTokens",
        F::Count(C::Reasoning),
        flag::AI_SDK_DETAILS,
    ),
    row("ai.usage.reasoningTokens", F::Count(C::Reasoning), 0),
    row(
        "gen_ai.usage.details.reasoning_tokens",
        F::Count(C::Reasoning),
        0,
    ),
    row(
        "gen_ai.usage.details.thinking_tokens",
        F::Count(C::Reasoning),
        0,
    ),
    row(
        "gen_ai.usage.completion_tokens_details.reasoning_tokens",
        F::Count(C::Reasoning),
        0,
    ),
    // Totals (used to detect Gemini output that left thoughts out, and by the token policy
    // when a span reports nothing else).
    row("gen_ai.usage.total_tokens", F::Count(C::Total), 0),
    row("llm.usage.total_tokens", F::Count(C::Total), 0),
    row("llm.token_count.total", F::Count(C::Total), 0),
    row("ai.usage.totalTokens", F::Count(C::Total), 0),
    // Time to first token: seconds, then the AI SDK's milliseconds.
    row("gen_ai.response.time_to_first_chunk", F::TtftSeconds, 0),
    row("gen_ai.server.time_to_first_token", F::TtftSeconds, 0),
    row("llm.time_to_first_token", F::TtftSeconds, 0),
    row("ai.response.msToFirstChunk", F::TtftMillis, 0),
    row("ai.stream.msToFirstChunk", F::TtftMillis, 0),
    // Costs the span already carries (USD).
    row(COST_KEY, F::Cost, 0),
    row("llm.cost.total", F::Cost, 0),
    row("operation.cost", F::Cost, 0),
    row("gen_ai.usage.total_cost", F::Cost, 0),
    row("gen_ai.usage.cost.amount", F::Cost, 0),
    row("gen_ai.usage.cost_usd", F::Cost, 0),
    // Service tier (`auto` is skipped: it is not the tier that was billed).
    row("openai.response.service_tier", F::Text(T::ServiceTier), 0),
    row(
        "gen_ai.openai.response.service_tier",
        F::Text(T::ServiceTier),
        0,
    ),
    row("openai.request.service_tier", F::Text(T::ServiceTier), 0),
    row(
        "gen_ai.openai.request.service_tier",
        F::Text(T::ServiceTier),
        0,
    ),
    // The anthropic SDK's own tracing writes the billed tier (`standard`, `priority`, `batch`).
    row(
        "anthropic.response.service_tier",
        F::Text(T::ServiceTier),
        0,
    ),
    row(
        "gen_ai.anthropic.response.service_tier",
        F::Text(T::ServiceTier),
        0,
    ),
    row("server.address", F::Text(T::ServerAddress), 0),
    // Where the bill is: region (AWS SDK semconv on spans, cloud semconv on resources),
    // Anthropic's inference geography and speed.
    row("cloud.region", F::Text(T::Region), 0),
    row("aws.region", F::Text(T::Region), 0),
    row("anthropic.usage.inference_geo", F::Text(T::InferenceGeo), 0),
    row("anthropic.usage.speed", F::Text(T::Speed), 0),
    row("anthropic.request.speed", F::Text(T::Speed), 0),
    // Errors.
    row("error.type", F::Text(T::ErrorType), 0),
    row("http.response.status_code", F::HttpStatus, 0),
    row("http.status_code", F::HttpStatus, 0),
    row("gen_ai.response.finish_reasons", F::FinishReason, 0),
    row("gen_ai.response.finish_reason", F::FinishReason, 0),
    row("llm.finish_reason", F::FinishReason, 0),
    row("ai.response.finishReason", F::FinishReason, 0),
    // JSON blobs.
    row(
        "ai.response.providerMetadata",
        F::Text(T::AiSdkProviderMetadata),
        0,
    ),
    row("gen_ai.usage.raw", F::Text(T::UsageRaw), 0),
    row(
        "langfuse.observation.usage_details",
        F::Text(T::LangfuseUsage),
        0,
    ),
    row(
        "langfuse.observation.cost_details",
        F::Text(T::LangfuseCost),
        0,
    ),
    // Markers.
    row("gen_ai.sdk.version", F::Marker, flag::OPENLIT),
    // Our own cost stage's output (keys configurable: see `Index::new`).
    row(
        UPSTREAM_STATUS_KEY,
        F::Text(T::UpstreamStatus),
        flag::ENRICHED,
    ),
    row(UPSTREAM_TOTAL_KEY, F::UpstreamTotal, 0),
    row(BATCH_KEY, F::Text(T::Batch), 0),
];

/// Keys the cost stage is configured to write and read (defaults above).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OwnKeys {
    pub cost: String,
    pub status: String,
    pub total: String,
    pub batch: String,
}

impl Default for OwnKeys {
    fn default() -> Self {
        OwnKeys {
            cost: COST_KEY.into(),
            status: UPSTREAM_STATUS_KEY.into(),
            total: UPSTREAM_TOTAL_KEY.into(),
            batch: BATCH_KEY.into(),
        }
    }
}

/// The table sorted for lookup, with the configured keys in place of the defaults. Rows
/// keep their rank (position in the table).
#[derive(Debug, Clone)]
pub struct Index {
    rows: Vec<(Box<[u8]>, u16)>,
    aliases: Vec<Alias>,
}

impl Index {
    pub fn new(own: &OwnKeys) -> Index {
        let mut aliases: Vec<Alias> = Vec::with_capacity(ALIASES.len());
        let mut keys: Vec<Box<[u8]>> = Vec::with_capacity(ALIASES.len());
        // The configured cost key comes first: it is ours, so it wins over vendor spellings.
        let configured = [
            (own.cost.as_str(), COST_KEY),
            (own.status.as_str(), UPSTREAM_STATUS_KEY),
            (own.total.as_str(), UPSTREAM_TOTAL_KEY),
            (own.batch.as_str(), BATCH_KEY),
        ];
        let replaced = |a: &Alias| configured.iter().find(|(_, default)| *default == a.key);
        for (key, default) in configured {
            let a = ALIASES
                .iter()
                .find(|a| a.key == default)
                .expect("own keys are in the table");
            aliases.push(*a);
            keys.push(key.as_bytes().into());
        }
        for a in ALIASES {
            if replaced(a).is_some() {
                continue;
            }
            // A configured key that shadows a vendor spelling keeps the configured meaning.
            if configured.iter().any(|(k, _)| *k == a.key) {
                continue;
            }
            aliases.push(*a);
            keys.push(a.key.as_bytes().into());
        }
        let mut rows: Vec<(Box<[u8]>, u16)> = keys
            .into_iter()
            .enumerate()
            .map(|(i, k)| (k, i as u16))
            .collect();
        rows.sort_by(|a, b| order(&a.0, &b.0));
        rows.dedup_by(|a, b| a.0 == b.0);
        Index { rows, aliases }
    }

    /// The row for `key` and its rank, if the key is one we read.
    #[inline]
    pub fn find(&self, key: &[u8]) -> Option<(u16, &Alias)> {
        let i = self.rows.binary_search_by(|(k, _)| order(k, key)).ok()?;
        let rank = self.rows[i].1;
        Some((rank, &self.aliases[rank as usize]))
    }
}

/// Length first: most keys differ in length, so most comparisons never touch the bytes.
#[inline]
fn order(a: &[u8], b: &[u8]) -> std::cmp::Ordering {
    a.len().cmp(&b.len()).then_with(|| a.cmp(b))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_key_is_listed_once() {
        let mut seen = std::collections::HashSet::new();
        for a in ALIASES {
            assert!(seen.insert(a.key), "{} listed twice", a.key);
        }
    }

    #[test]
    fn configured_keys_replace_the_defaults() {
        let idx = Index::new(&OwnKeys {
            status: "acme.cost.status".into(),
            ..OwnKeys::default()
        });
        assert!(idx.find(b"tollbooth.cost.status").is_none());
        let (_, a) = idx.find(b"acme.cost.status").unwrap();
        assert_eq!(a.field, Field::Text(Text::UpstreamStatus));
        let (rank_ours, _) = idx.find(b"gen_ai.usage.cost").unwrap();
        let (rank_vendor, _) = idx.find(b"llm.cost.total").unwrap();
        assert!(rank_ours < rank_vendor);
        assert!(idx.find(b"gen_ai.usage.input_tokens").is_some());
        // A near-miss (no trailing `s`) is not an alias. Built by slicing so that
        // tests/sensitive_keys_vs_usage.rs, which scans key literals, does not read it as one.
        let singular = &b"gen_ai.usage.input_tokens"[..24];
        assert!(idx.find(singular).is_none());
    }
}
