//! Metric names, units and attribute keys: the contract with dashboards and alert rules.
//!
//! The Prometheus names in the comments follow the collector's Prometheus exporter with its
//! default translation (`add_metric_suffixes: true`, or `translation_strategy:
//! UnderscoreEscapingWithSuffixes` in releases that have that key): dots become underscores, a unit in the UCUM map
//! (`s` → `seconds`) or any other brace-free unit (`USD`) is appended, a `{annotation}` unit
//! adds nothing, and monotonic sums end in `_total`. config/metric-names.txt lists them for
//! the end-to-end check against a real `/metrics`.

/// Histogram of tokens per call by `gen_ai.token.type` (`input`/`output`), as semconv defines.
/// Prometheus: `gen_ai_client_token_usage_{bucket,sum,count}`.
pub const TOKEN_USAGE: &str = "gen_ai.client.token.usage";
/// Histogram of call duration. Prometheus: `gen_ai_client_operation_duration_seconds_*`.
pub const OPERATION_DURATION: &str = "gen_ai.client.operation.duration";
/// Histogram of time to first chunk of a streamed response.
/// Prometheus: `gen_ai_client_operation_time_to_first_chunk_seconds_*`.
pub const TIME_TO_FIRST_CHUNK: &str = "gen_ai.client.operation.time_to_first_chunk";
/// Model calls. Prometheus: `tollbooth_genai_requests_total`.
pub const REQUESTS: &str = "tollbooth.genai.requests";
/// Failed calls by `error.type`. Prometheus: `tollbooth_genai_errors_total`.
pub const ERRORS: &str = "tollbooth.genai.errors";
/// Cost in US dollars of priced calls. Prometheus: `tollbooth_genai_cost_USD_total`.
pub const COST: &str = "tollbooth.genai.cost";
/// Calls whose model had no price (never counted as $0).
/// Prometheus: `tollbooth_genai_unpriced_requests_total`.
pub const UNPRICED: &str = "tollbooth.genai.unpriced_requests";
/// Exact token totals by `gen_ai.token.type`, including the cache and reasoning subsets.
/// Prometheus: `tollbooth_genai_tokens_total`.
pub const TOKENS: &str = "tollbooth.genai.tokens";
/// Live series in the aggregator (gauge). Prometheus: `tollbooth_genai_metrics_series`.
pub const SERIES: &str = "tollbooth.genai.metrics.series";

pub const UNIT_TOKEN: &str = "{token}";
pub const UNIT_SECONDS: &str = "s";
pub const UNIT_REQUEST: &str = "{request}";
pub const UNIT_ERROR: &str = "{error}";
pub const UNIT_USD: &str = "USD";
pub const UNIT_SERIES: &str = "{series}";

pub const SERVICE_NAME: &str = "service.name";
pub const PROVIDER: &str = "gen_ai.provider.name";
pub const OPERATION: &str = "gen_ai.operation.name";
pub const REQUEST_MODEL: &str = "gen_ai.request.model";
pub const RESPONSE_MODEL: &str = "gen_ai.response.model";
pub const TOKEN_TYPE: &str = "gen_ai.token.type";
pub const ERROR_TYPE: &str = "error.type";
/// Marks the one series that absorbs calls beyond the cardinality limit (as `span_metrics`).
pub const OVERFLOW: &str = "otel.metric.overflow";

/// The dimensions every series has, in label order; configured extras follow.
pub const BASE_DIMENSIONS: [&str; 5] = [
    SERVICE_NAME,
    PROVIDER,
    OPERATION,
    REQUEST_MODEL,
    RESPONSE_MODEL,
];

/// `gen_ai.token.type` values of the token counter, in export order. `cache_read` and
/// `cache_write` are parts of `input`; `reasoning` is part of `output` (semconv semantics),
/// so `input + output` is the total and the others must not be added to it.
pub const TOKEN_TYPES: [&str; 5] = ["input", "output", "cache_read", "cache_write", "reasoning"];

/// Error type reported once too many distinct `error.type` values were seen (semconv's
/// fallback value).
pub const OTHER_ERROR: &str = "_OTHER";
