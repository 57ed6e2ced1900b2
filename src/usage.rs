//! Usage normalisation: one canonical token record per span, whatever wrote it.
//!
//! The same key means different things per emitter (shared/research/genai-conventions.md §7):
//! `gen_ai.usage.input_tokens` includes cache tokens in the OTel spec but not in OpenLIT's or
//! botocore's Anthropic/Bedrock spans; Gemini output excludes thoughts in some emitters. The
//! record here is always in spec semantics: input includes cache, output includes reasoning.

use opentelemetry_proto::tonic::common::v1::{any_value, KeyValue};
use serde::Deserialize;

use crate::genai::{level_of, normalize_provider, Level};

/// Which family of instrumentation wrote a span (decides the inclusion rules).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    OtelGenai,
    OtelBotocore,
    OtelVertexai,
    OpenLlmetry,
    OpenInference,
    AiSdk,
    OpenLit,
    Logfire,
    Langfuse,
    Other,
}

/// How the inclusion of cache/reasoning tokens was decided; reported for auditing.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Inclusion {
    /// The source's input count excluded cache tokens, so they were added.
    pub input_was_exclusive: bool,
    /// The exclusion was detected from impossible numbers (cache > input), not from a rule.
    pub detected_by_sanity_check: bool,
    /// The source's output count excluded reasoning tokens, so they were added.
    pub output_was_exclusive: bool,
}

/// One span's usage in OTel spec semantics, borrowing strings from the span.
#[derive(Debug, Clone, PartialEq)]
pub struct UsageRecord<'a> {
    /// Provider in the latest OTel spelling when known.
    pub provider: Option<&'static str>,
    /// The provider as written when not one we normalise.
    pub provider_raw: Option<&'a str>,
    pub operation: Option<&'a str>,
    pub request_model: Option<&'a str>,
    pub response_model: Option<&'a str>,
    pub level: Level,
    pub source: Source,
    /// Total input, including cache reads and writes. `None` when the span reports no usage.
    pub input_tokens: Option<u64>,
    pub cache_read_tokens: u64,
    /// All cache writes (5-minute and 1-hour).
    pub cache_write_tokens: u64,
    /// The part of `cache_write_tokens` written with a 1-hour TTL.
    pub cache_write_1h_tokens: u64,
    /// Total output, including reasoning.
    pub output_tokens: Option<u64>,
    pub reasoning_tokens: u64,
    pub time_to_first_token_s: Option<f64>,
    /// A cost the span already carries (OpenLIT, Logfire, OpenInference, Sentry, Langfuse).
    pub reported_cost: Option<f64>,
    pub reported_cost_key: Option<&'a str>,
    /// `openai.response.service_tier` and the like; `auto` is dropped (it is not a price).
    pub service_tier: Option<&'a str>,
    /// `server.address`, for provider resolution when no provider attribute exists.
    pub server_address: Option<&'a str>,
    pub inclusion: Inclusion,
    /// Which canonical latest-convention keys the span already has (see [`canon`]).
    pub present: u8,
}

impl UsageRecord<'_> {
    pub fn cache_write_5m_tokens(&self) -> u64 {
        self.cache_write_tokens - self.cache_write_1h_tokens
    }
    pub fn has_usage(&self) -> bool {
        self.input_tokens.is_some() || self.output_tokens.is_some()
    }
    /// The model to price: the response model when present, else the request model.
    pub fn model(&self) -> Option<&str> {
        self.response_model.or(self.request_model)
    }
    pub fn provider_name(&self) -> &str {
        self.provider.or(self.provider_raw).unwrap_or("unknown")
    }
}

/// Bits of [`UsageRecord::present`]: the latest OTel keys the span already carries.
pub mod canon {
    pub const PROVIDER: u8 = 1;
    pub const INPUT: u8 = 2;
    pub const OUTPUT: u8 = 4;
    pub const CACHE_READ: u8 = 8;
    pub const CACHE_WRITE: u8 = 16;
    pub const REASONING: u8 = 32;
    /// The span already went through a Tollbooth cost stage (two-tier collectors).
    pub const ENRICHED: u8 = 64;
}

/// A user rule that overrides the built-in inclusion rules for matching spans.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct InclusionOverride {
    /// Instrumentation scope name prefix (`opentelemetry.instrumentation.anthropic`); empty = any.
    #[serde(default)]
    pub scope: String,
    /// Provider (latest OTel spelling, e.g. `anthropic`); absent = any.
    #[serde(default)]
    pub provider: Option<String>,
    /// Does the source's input count include cache reads and writes?
    #[serde(default)]
    pub input_includes_cache: Option<bool>,
    /// Does the source's output count include reasoning tokens?
    #[serde(default)]
    pub output_includes_reasoning: Option<bool>,
}

/// The instrumentation scope that produced a span.
#[derive(Debug, Clone, Copy, Default)]
pub struct Scope<'a> {
    pub name: &'a str,
    pub version: &'a str,
}

#[derive(Default)]
struct StrSlot<'a> {
    prio: u8,
    val: Option<&'a str>,
}

impl<'a> StrSlot<'a> {
    fn offer(&mut self, prio: u8, v: Option<&'a str>) {
        if v.is_some() && (self.val.is_none() || prio < self.prio) {
            self.prio = prio;
            self.val = v;
        }
    }
}

#[derive(Default)]
struct Slot {
    prio: u8,
    val: Option<u64>,
}

impl Slot {
    fn offer(&mut self, prio: u8, v: Option<u64>) {
        if let Some(v) = v {
            if self.val.is_none() || prio < self.prio {
                self.prio = prio;
                self.val = Some(v);
            }
        }
    }
}

fn int_of(v: Option<&any_value::Value>) -> Option<u64> {
    match v? {
        any_value::Value::IntValue(i) if *i >= 0 => Some(*i as u64),
        any_value::Value::DoubleValue(d) if d.is_finite() && *d >= 0.0 && d.fract() == 0.0 => {
            Some(*d as u64)
        }
        any_value::Value::StringValue(s) => s.trim().parse().ok(),
        _ => None,
    }
}

fn f64_of(v: Option<&any_value::Value>) -> Option<f64> {
    match v? {
        any_value::Value::DoubleValue(d) if d.is_finite() => Some(*d),
        any_value::Value::IntValue(i) => Some(*i as f64),
        any_value::Value::StringValue(s) => s.trim().parse().ok().filter(|d: &f64| d.is_finite()),
        _ => None,
    }
}

fn str_of(v: Option<&any_value::Value>) -> Option<&str> {
    match v? {
        any_value::Value::StringValue(s) if !s.is_empty() => Some(s.as_str()),
        _ => None,
    }
}

/// Builds the canonical record for one span; `None` for spans no convention marks as GenAI.
pub fn normalize<'a>(
    attrs: &'a [KeyValue],
    span_name: &'a str,
    scope: Scope<'a>,
    overrides: &[InclusionOverride],
) -> Option<UsageRecord<'a>> {
    let (mut input, mut output, mut cache_r, mut cache_w, mut reasoning, mut total) = (
        Slot::default(),
        Slot::default(),
        Slot::default(),
        Slot::default(),
        Slot::default(),
        Slot::default(),
    );
    let mut cache_w_1h = Slot::default();
    let mut ttft: Option<(u8, f64)> = None;
    let mut cost: Option<(u8, f64, &'a str)> = None;
    let mut tier: Option<(u8, &'a str)> = None;
    let mut present = 0u8;
    let mut ai_sdk_details = false;
    let mut provider_metadata: Option<&'a str> = None;
    let mut usage_raw: Option<&'a str> = None;
    let mut lf_usage: Option<&'a str> = None;
    let mut lf_cost: Option<&'a str> = None;
    let mut lf_model: Option<&'a str> = None;
    let mut openlit = false;
    let mut server: Option<&'a str> = None;
    let (mut prov, mut req, mut resp, mut op): (StrSlot, StrSlot, StrSlot, StrSlot) =
        Default::default();
    let (mut oi_kind, mut tl_kind, mut sdk_op, mut lf_type) = (None, None, None, None);
    let mut llm_request_type = false;
    let mut aggregated = false;

    // One pass over the attributes; each alias has a priority (lower wins).
    for kv in attrs {
        let v = kv.value.as_ref().and_then(|v| v.value.as_ref());
        match kv.key.as_str() {
            "gen_ai.provider.name" => {
                present |= canon::PROVIDER;
                prov.offer(0, str_of(v))
            }
            "gen_ai.system" => prov.offer(1, str_of(v)),
            "llm.provider" => prov.offer(2, str_of(v)),
            "llm.system" => prov.offer(3, str_of(v)),
            "ai.model.provider" => prov.offer(4, str_of(v)),
            "gen_ai.request.model" => req.offer(0, str_of(v)),
            "llm.request.model" => req.offer(1, str_of(v)),
            "ai.model.id" => req.offer(2, str_of(v)),
            "llm.model_name" => {
                req.offer(3, str_of(v));
                resp.offer(3, str_of(v))
            }
            "gen_ai.response.model" => resp.offer(0, str_of(v)),
            "llm.response.model" => resp.offer(1, str_of(v)),
            "ai.response.model" => resp.offer(2, str_of(v)),
            "gen_ai.operation.name" => op.offer(0, str_of(v)),
            "llm.request.type" => {
                llm_request_type = true;
                op.offer(1, str_of(v))
            }
            "openinference.span.kind" => oi_kind = oi_kind.or(str_of(v)),
            "traceloop.span.kind" => tl_kind = tl_kind.or(str_of(v)),
            "ai.operationId" => sdk_op = sdk_op.or(str_of(v)),
            "langfuse.observation.type" => lf_type = lf_type.or(str_of(v)),
            "gen_ai.usage.input_tokens" => {
                present |= canon::INPUT;
                input.offer(0, int_of(v))
            }
            "gen_ai.usage.prompt_tokens" => input.offer(1, int_of(v)),
            "llm.token_count.prompt" => input.offer(2, int_of(v)),
            "ai.usage.inputTokens" => input.offer(3, int_of(v)),
            "ai.usage.promptTokens" => input.offer(4, int_of(v)),
            "gen_ai.response.prompt_tokens" => input.offer(5, int_of(v)),
            "gen_ai.usage.output_tokens" => {
                present |= canon::OUTPUT;
                output.offer(0, int_of(v))
            }
            "gen_ai.usage.completion_tokens" => output.offer(1, int_of(v)),
            "llm.token_count.completion" => output.offer(2, int_of(v)),
            "ai.usage.outputTokens" => output.offer(3, int_of(v)),
            "ai.usage.completionTokens" => output.offer(4, int_of(v)),
            "gen_ai.response.completion_tokens" => output.offer(5, int_of(v)),
            "gen_ai.usage.cache_read.input_tokens" => {
                present |= canon::CACHE_READ;
                cache_r.offer(0, int_of(v))
            }
            "gen_ai.usage.cache_read_input_tokens" => cache_r.offer(1, int_of(v)),
            "gen_ai.usage.input_tokens.cached" => cache_r.offer(2, int_of(v)),
            "llm.token_count.prompt_details.cache_read" => cache_r.offer(3, int_of(v)),
            "ai.usage.inputTokenDetails.cacheReadTokens" => {
                ai_sdk_details = true;
                cache_r.offer(4, int_of(v))
            }
            "ai.usage.cachedInputTokens" => cache_r.offer(5, int_of(v)),
            "gen_ai.usage.details.cache_read_tokens" => cache_r.offer(6, int_of(v)),
            "gen_ai.usage.prompt_tokens_details.cached_tokens" => cache_r.offer(7, int_of(v)),
            "gen_ai.usage.cache_creation.input_tokens" => {
                present |= canon::CACHE_WRITE;
                cache_w.offer(0, int_of(v))
            }
            "gen_ai.usage.cache_write.input_tokens" => cache_w.offer(1, int_of(v)),
            "gen_ai.usage.cache_creation_input_tokens" => cache_w.offer(2, int_of(v)),
            "gen_ai.usage.input_tokens.cache_write" => cache_w.offer(3, int_of(v)),
            "llm.token_count.prompt_details.cache_write" => cache_w.offer(4, int_of(v)),
            "ai.usage.inputTokenDetails.cacheWriteTokens" => {
                ai_sdk_details = true;
                cache_w.offer(5, int_of(v))
            }
            "gen_ai.usage.details.cache_write_tokens" => cache_w.offer(6, int_of(v)),
            "gen_ai.usage.prompt_tokens_details.cache_creation_tokens" => {
                cache_w.offer(7, int_of(v))
            }
            "ai.usage.inputTokenDetails.noCacheTokens" => ai_sdk_details = true,
            // The anthropic Python SDK's own tracing (scope com.anthropic.sdk.python) splits the
            // cache writes by TTL; 1-hour writes have their own rate.
            "anthropic.usage.cache_creation.ephemeral_1h_input_tokens" => {
                cache_w_1h.offer(0, int_of(v))
            }
            "gen_ai.usage.reasoning.output_tokens" => {
                present |= canon::REASONING;
                reasoning.offer(0, int_of(v))
            }
            "gen_ai.usage.reasoning_tokens" => reasoning.offer(1, int_of(v)),
            "gen_ai.usage.output_tokens.reasoning" => reasoning.offer(2, int_of(v)),
            "llm.token_count.completion_details.reasoning" => reasoning.offer(3, int_of(v)),
            "ai.usage.outputTokenDetails.reasoningTokens" => {
                ai_sdk_details = true;
                reasoning.offer(4, int_of(v))
            }
            "ai.usage.reasoningTokens" => reasoning.offer(5, int_of(v)),
            "gen_ai.usage.details.reasoning_tokens" => reasoning.offer(6, int_of(v)),
            "gen_ai.usage.details.thinking_tokens" => reasoning.offer(7, int_of(v)),
            "gen_ai.usage.completion_tokens_details.reasoning_tokens" => {
                reasoning.offer(8, int_of(v))
            }
            "gen_ai.usage.total_tokens" => total.offer(0, int_of(v)),
            "llm.usage.total_tokens" => total.offer(1, int_of(v)),
            "llm.token_count.total" => total.offer(2, int_of(v)),
            "ai.usage.totalTokens" => total.offer(3, int_of(v)),
            "gen_ai.response.time_to_first_chunk" => pick(&mut ttft, 0, f64_of(v)),
            "gen_ai.server.time_to_first_token" => pick(&mut ttft, 1, f64_of(v)),
            "ai.response.msToFirstChunk" => pick(&mut ttft, 2, f64_of(v).map(|ms| ms / 1000.0)),
            "gen_ai.usage.cost" => pick_cost(&mut cost, 0, f64_of(v), "gen_ai.usage.cost"),
            "llm.cost.total" => pick_cost(&mut cost, 1, f64_of(v), "llm.cost.total"),
            "operation.cost" => pick_cost(&mut cost, 2, f64_of(v), "operation.cost"),
            "gen_ai.usage.total_cost" => {
                pick_cost(&mut cost, 3, f64_of(v), "gen_ai.usage.total_cost")
            }
            "tollbooth.cost.status" => present |= canon::ENRICHED,
            "openai.response.service_tier" => pick_str(&mut tier, 0, str_of(v)),
            "gen_ai.openai.response.service_tier" => pick_str(&mut tier, 1, str_of(v)),
            "openai.request.service_tier" => pick_str(&mut tier, 2, str_of(v)),
            "gen_ai.openai.request.service_tier" => pick_str(&mut tier, 3, str_of(v)),
            "ai.response.providerMetadata" => provider_metadata = str_of(v),
            "gen_ai.usage.raw" => usage_raw = str_of(v),
            "langfuse.observation.usage_details" => lf_usage = str_of(v),
            "langfuse.observation.cost_details" => lf_cost = str_of(v),
            "langfuse.observation.model.name" => lf_model = str_of(v),
            "gen_ai.sdk.version" => openlit = true,
            "server.address" => server = str_of(v),
            k if k.starts_with("gen_ai.aggregated_usage.") => aggregated = true,
            _ => {}
        }
    }

    let provider_raw = prov.val;
    let operation = op.val;
    let request_model = req.val;
    let mut response_model = resp.val;
    let recognised = provider_raw.is_some()
        || operation.is_some()
        || request_model.is_some()
        || response_model.is_some()
        || oi_kind.is_some()
        || tl_kind.is_some()
        || sdk_op.is_some();
    if !recognised && lf_type.is_none() {
        return None;
    }
    let mut level = if recognised {
        level_of(span_name, operation, oi_kind, tl_kind, sdk_op)
    } else {
        Level::Other
    };
    let provider = provider_raw.and_then(normalize_provider);
    let provider_raw = provider_raw.filter(|_| provider.is_none());
    if let Some(t) = lf_type {
        level = match t {
            "generation" | "embedding" => Level::Inference,
            "agent" | "chain" | "span" => Level::Aggregate,
            _ => Level::Other,
        };
        if lf_model.is_some() {
            response_model = lf_model;
        }
    }
    if aggregated {
        // pydantic-ai agent runs sum their model requests' usage.
        level = Level::Aggregate;
    }
    if operation == Some("framework") {
        // Spring AI's ChatClient span wraps the model call that carries the same usage.
        level = Level::Aggregate;
    }

    let source = detect_source(
        scope.name,
        tl_kind.is_some() || llm_request_type,
        oi_kind.is_some(),
        sdk_op.is_some(),
        openlit,
        lf_type.is_some(),
    );

    // Usage hidden in JSON blobs: AI SDK provider metadata, Logfire's raw usage, Langfuse.
    let mut exclusive_buckets = false;
    if let Some(j) = lf_usage {
        if input.val.is_none() {
            if let Some(u) = langfuse_usage(j) {
                input.offer(9, u.0);
                output.offer(9, u.1);
                cache_r.offer(9, u.2);
                cache_w.offer(9, u.3);
                reasoning.offer(9, u.4);
                exclusive_buckets = true;
            }
        }
    }
    if let Some(j) = lf_cost {
        if cost.is_none() {
            if let Some(c) = json_number(j, &["total"]) {
                cost = Some((9, c, "langfuse.observation.cost_details"));
            }
        }
    }
    for blob in [provider_metadata, usage_raw].into_iter().flatten() {
        if cache_w.val.is_none() || cache_w_1h.val.is_none() {
            if let Some((w, w1h)) = cache_writes_from_json(blob) {
                cache_w.offer(10, w);
                cache_w_1h.offer(10, w1h);
            }
        }
    }

    let mut inclusion = Inclusion::default();
    let cr = cache_r.val.unwrap_or(0);
    let cw = cache_w.val.unwrap_or(0);
    let mut rs = reasoning.val.unwrap_or(0);
    let mut inp = input.val;
    let mut out = output.val;

    let (rule_in, rule_out) = if exclusive_buckets {
        (Some(false), Some(false))
    } else {
        inclusion_rule(source, scope, provider, ai_sdk_details, overrides)
    };
    if let Some(i) = inp {
        let exclusive = match rule_in {
            Some(false) => true,
            Some(true) => false,
            None => false,
        };
        if exclusive {
            inp = Some(i.saturating_add(cr).saturating_add(cw));
            inclusion.input_was_exclusive = true;
        } else if cr.saturating_add(cw) > i {
            inp = Some(i.saturating_add(cr).saturating_add(cw));
            inclusion.input_was_exclusive = true;
            inclusion.detected_by_sanity_check = true;
        }
    } else if cr + cw > 0 {
        inp = Some(cr + cw);
    }
    if let Some(o) = out {
        let exclusive = match rule_out {
            Some(v) => !v,
            None => {
                // A total equal to input + output + reasoning means output left reasoning out.
                let t = total.val;
                rs > 0
                    && inp.is_some()
                    && t.is_some()
                    && t != Some(inp.unwrap_or(0) + o)
                    && t == Some(inp.unwrap_or(0) + o + rs)
            }
        };
        if exclusive {
            out = Some(o.saturating_add(rs));
            inclusion.output_was_exclusive = true;
        } else if rs > o {
            // Reasoning cannot exceed the output it is part of; trust output.
            rs = o;
        }
    } else if rs > 0 {
        out = Some(rs);
    }
    let cw_1h = cache_w_1h.val.unwrap_or(0).min(cw);

    let service_tier = tier
        .map(|t| t.1)
        .filter(|t| !t.eq_ignore_ascii_case("auto"));
    if provider.is_none() && provider_raw.is_none() {
        // Langfuse-only spans: nothing names the provider; leave it to host/model heuristics.
    }

    Some(UsageRecord {
        provider,
        provider_raw,
        operation,
        request_model,
        response_model,
        level,
        source,
        input_tokens: inp,
        cache_read_tokens: cr,
        cache_write_tokens: cw,
        cache_write_1h_tokens: cw_1h,
        output_tokens: out,
        reasoning_tokens: rs,
        time_to_first_token_s: ttft.map(|t| t.1),
        reported_cost: cost.map(|c| c.1),
        reported_cost_key: cost.map(|c| c.2),
        service_tier,
        server_address: server,
        inclusion,
        present,
    })
}

fn pick(slot: &mut Option<(u8, f64)>, prio: u8, v: Option<f64>) {
    if let Some(v) = v {
        if slot.is_none_or(|s| prio < s.0) {
            *slot = Some((prio, v));
        }
    }
}

fn pick_str<'a>(slot: &mut Option<(u8, &'a str)>, prio: u8, v: Option<&'a str>) {
    if let Some(v) = v {
        if slot.is_none_or(|s| prio < s.0) {
            *slot = Some((prio, v));
        }
    }
}

fn pick_cost<'a>(slot: &mut Option<(u8, f64, &'a str)>, prio: u8, v: Option<f64>, key: &'a str) {
    if let Some(v) = v {
        if slot.is_none_or(|s| prio < s.0) {
            *slot = Some((prio, v, key));
        }
    }
}

fn detect_source(
    scope: &str,
    traceloop: bool,
    openinference: bool,
    ai_sdk: bool,
    openlit: bool,
    langfuse: bool,
) -> Source {
    if scope.starts_with("opentelemetry.instrumentation.botocore") {
        return Source::OtelBotocore;
    }
    if scope.starts_with("opentelemetry.instrumentation.vertexai") {
        return Source::OtelVertexai;
    }
    if scope == "ai" || scope.starts_with("@ai-sdk") || scope.starts_with("ai.") {
        return Source::AiSdk;
    }
    if scope.starts_with("openinference") {
        return Source::OpenInference;
    }
    if scope.starts_with("openlit") || openlit {
        return Source::OpenLit;
    }
    if scope.starts_with("logfire") || scope.starts_with("pydantic-ai") || scope == "pydantic_ai" {
        return Source::Logfire;
    }
    if scope.starts_with("langfuse") || langfuse {
        return Source::Langfuse;
    }
    if scope.starts_with("opentelemetry.instrumentation.genai")
        || scope.starts_with("opentelemetry.instrumentation.openai_v2")
        || scope.starts_with("opentelemetry.instrumentation.google_genai")
    {
        return Source::OtelGenai;
    }
    if scope.starts_with("opentelemetry.instrumentation.") || traceloop {
        // OpenLLMetry names its scopes after its module paths, like OTel contrib once did.
        return Source::OpenLlmetry;
    }
    if openinference {
        return Source::OpenInference;
    }
    if ai_sdk {
        return Source::AiSdk;
    }
    Source::Other
}

/// (input includes cache?, output includes reasoning?); `None` = spec semantics, checked only
/// by the sanity rules.
fn inclusion_rule(
    source: Source,
    scope: Scope<'_>,
    provider: Option<&str>,
    ai_sdk_details: bool,
    overrides: &[InclusionOverride],
) -> (Option<bool>, Option<bool>) {
    for o in overrides {
        if scope.name.starts_with(o.scope.as_str())
            && o.provider
                .as_deref()
                .is_none_or(|p| Some(p) == provider || normalize_provider(p) == provider)
        {
            return (o.input_includes_cache, o.output_includes_reasoning);
        }
    }
    let anthropic_like = matches!(provider, Some("anthropic") | Some("aws.bedrock"));
    let gemini = matches!(
        provider,
        Some("gcp.gemini") | Some("gcp.vertex_ai") | Some("gcp.gen_ai")
    );
    match source {
        Source::OtelBotocore => (Some(false), None),
        Source::OtelVertexai => (None, Some(false)),
        Source::OpenLit if provider == Some("anthropic") => (Some(false), None),
        Source::OpenInference if provider == Some("aws.bedrock") => (Some(false), None),
        Source::OpenLlmetry => {
            let old = version_lt(scope.version, 0, 31);
            let anth = provider == Some("anthropic")
                || scope
                    .name
                    .starts_with("opentelemetry.instrumentation.anthropic");
            let ggen = scope
                .name
                .starts_with("opentelemetry.instrumentation.google_generativeai");
            (
                if anth && old { Some(false) } else { None },
                if ggen || (gemini && !scope.name.contains("openai")) {
                    Some(false)
                } else {
                    None
                },
            )
        }
        Source::AiSdk if !ai_sdk_details => (
            if anthropic_like { Some(false) } else { None },
            if gemini { Some(false) } else { None },
        ),
        _ => (None, None),
    }
}

/// True when `version` (like `0.30.1`) is below `major.minor`; false when unparsable.
fn version_lt(version: &str, major: u64, minor: u64) -> bool {
    let mut it = version.trim_start_matches('v').split(['.', '-', 'b']);
    let ma = it.next().and_then(|s| s.parse::<u64>().ok());
    let mi = it.next().and_then(|s| s.parse::<u64>().ok()).unwrap_or(0);
    match ma {
        Some(ma) => (ma, mi) < (major, minor),
        None => false,
    }
}

type LfUsage = (
    Option<u64>,
    Option<u64>,
    Option<u64>,
    Option<u64>,
    Option<u64>,
);

/// Langfuse `usage_details` hold disjoint buckets (input excludes cache, output excludes
/// reasoning); they are re-summed into spec semantics by the caller's exclusive rule.
fn langfuse_usage(json: &str) -> Option<LfUsage> {
    let v: serde_json::Value = serde_json::from_str(json).ok()?;
    let o = v.as_object()?;
    let get = |keys: &[&str]| keys.iter().find_map(|k| o.get(*k).and_then(|x| x.as_u64()));
    Some((
        get(&["input", "input_tokens", "prompt_tokens"]),
        get(&["output", "output_tokens", "completion_tokens"]),
        get(&[
            "input_cached_tokens",
            "cache_read_input_tokens",
            "input_cache_read",
        ]),
        get(&["input_cache_creation", "cache_creation_input_tokens"]),
        get(&["output_reasoning_tokens", "output_reasoning"]),
    ))
}

fn json_number(json: &str, keys: &[&str]) -> Option<f64> {
    let v: serde_json::Value = serde_json::from_str(json).ok()?;
    keys.iter().find_map(|k| v.get(*k).and_then(|x| x.as_f64()))
}

/// Finds Anthropic/Bedrock cache-write counts (total, 1-hour) in a provider usage JSON blob:
/// `{"anthropic":{"usage":{"cache_creation_input_tokens":…,"cache_creation":{"ephemeral_1h_input_tokens":…}}}}`,
/// `{"bedrock":{"usage":{"cacheWriteInputTokens":…}}}` or a bare Anthropic usage object.
fn cache_writes_from_json(json: &str) -> Option<(Option<u64>, Option<u64>)> {
    if !json.contains("ache") {
        return None;
    }
    let v: serde_json::Value = serde_json::from_str(json).ok()?;
    let candidates = [
        v.pointer("/anthropic/usage"),
        v.pointer("/bedrock/usage"),
        v.pointer("/anthropic"),
        Some(&v),
    ];
    for u in candidates.into_iter().flatten() {
        let w = u
            .get("cache_creation_input_tokens")
            .or_else(|| u.get("cacheWriteInputTokens"))
            .or_else(|| u.get("cacheCreationInputTokens"))
            .and_then(|x| x.as_u64());
        let h = u
            .pointer("/cache_creation/ephemeral_1h_input_tokens")
            .and_then(|x| x.as_u64());
        if w.is_some() || h.is_some() {
            return Some((w, h));
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::otlp::{kv_int, kv_str};

    fn norm<'a>(attrs: &'a [KeyValue], scope: &'a str, ver: &'a str) -> UsageRecord<'a> {
        normalize(
            attrs,
            "chat",
            Scope {
                name: scope,
                version: ver,
            },
            &[],
        )
        .unwrap()
    }

    #[test]
    fn otel_latest_is_inclusive() {
        let a = [
            kv_str("gen_ai.provider.name", "anthropic"),
            kv_str("gen_ai.operation.name", "chat"),
            kv_int("gen_ai.usage.input_tokens", 1000),
            kv_int("gen_ai.usage.cache_read.input_tokens", 600),
            kv_int("gen_ai.usage.cache_creation.input_tokens", 100),
            kv_int("gen_ai.usage.output_tokens", 50),
        ];
        let r = norm(&a, "opentelemetry.instrumentation.genai.anthropic", "1.3b0");
        assert_eq!(r.input_tokens, Some(1000));
        assert_eq!(r.cache_read_tokens, 600);
        assert_eq!(r.cache_write_tokens, 100);
        assert!(!r.inclusion.input_was_exclusive);
        assert_eq!(r.present & canon::PROVIDER, canon::PROVIDER);
    }

    #[test]
    fn sanity_check_detects_exclusive_input() {
        let a = [
            kv_str("gen_ai.system", "anthropic"),
            kv_int("gen_ai.usage.input_tokens", 10),
            kv_int("gen_ai.usage.cache_read.input_tokens", 600),
            kv_int("gen_ai.usage.output_tokens", 5),
        ];
        let r = norm(&a, "somebody", "");
        assert_eq!(r.input_tokens, Some(610));
        assert!(r.inclusion.detected_by_sanity_check);
    }

    #[test]
    fn openlit_anthropic_and_botocore_are_exclusive() {
        let a = [
            kv_str("gen_ai.system", "anthropic"),
            kv_str("gen_ai.sdk.version", "1.45.0"),
            kv_int("gen_ai.usage.input_tokens", 1000),
            kv_int("gen_ai.usage.cache_read.input_tokens", 200),
            kv_int("gen_ai.usage.output_tokens", 5),
        ];
        assert_eq!(
            norm(&a, "openlit.otel.tracing", "").input_tokens,
            Some(1200)
        );
        let b = [
            kv_str("gen_ai.system", "aws.bedrock"),
            kv_int("gen_ai.usage.input_tokens", 1000),
            kv_int("gen_ai.usage.cache_read.input_tokens", 200),
        ];
        let r = norm(
            &b,
            "opentelemetry.instrumentation.botocore.bedrock-runtime",
            "0.5",
        );
        assert_eq!(r.input_tokens, Some(1200));
    }

    #[test]
    fn openllmetry_old_anthropic_is_exclusive_new_is_not() {
        let a = [
            kv_str("gen_ai.system", "Anthropic"),
            kv_str("llm.request.type", "chat"),
            kv_int("gen_ai.usage.prompt_tokens", 1000),
            kv_int("gen_ai.usage.cache_read_input_tokens", 200),
            kv_int("gen_ai.usage.completion_tokens", 7),
        ];
        let old = norm(&a, "opentelemetry.instrumentation.anthropic", "0.30.0");
        assert_eq!(old.input_tokens, Some(1200));
        assert_eq!(old.output_tokens, Some(7));
        let new = norm(&a, "opentelemetry.instrumentation.anthropic", "0.62.1");
        assert_eq!(new.input_tokens, Some(1000));
    }

    #[test]
    fn openinference_and_ai_sdk_spellings() {
        let a = [
            kv_str("openinference.span.kind", "LLM"),
            kv_str("llm.provider", "openai"),
            kv_str("llm.model_name", "gpt-4o-mini-2024-07-18"),
            kv_int("llm.token_count.prompt", 100),
            kv_int("llm.token_count.completion", 40),
            kv_int("llm.token_count.prompt_details.cache_read", 64),
            kv_int("llm.token_count.completion_details.reasoning", 30),
        ];
        let r = norm(&a, "openinference.instrumentation.openai", "0.1.66");
        assert_eq!(
            (
                r.input_tokens,
                r.cache_read_tokens,
                r.output_tokens,
                r.reasoning_tokens
            ),
            (Some(100), 64, Some(40), 30)
        );
        assert_eq!(r.level, Level::Inference);

        // AI SDK v5, Anthropic provider: input excludes cache, writes only in provider metadata.
        let meta = r#"{"anthropic":{"usage":{"input_tokens":10,"cache_creation_input_tokens":300,"cache_read_input_tokens":500,"cache_creation":{"ephemeral_5m_input_tokens":100,"ephemeral_1h_input_tokens":200}}}}"#;
        let b = [
            kv_str("ai.operationId", "ai.generateText.doGenerate"),
            kv_str("ai.model.provider", "anthropic.messages"),
            kv_str("ai.model.id", "claude-sonnet-4-5"),
            kv_int("ai.usage.promptTokens", 10),
            kv_int("ai.usage.completionTokens", 20),
            kv_int("ai.usage.cachedInputTokens", 500),
            kv_str("ai.response.providerMetadata", meta),
        ];
        let r = norm(&b, "ai", "");
        assert_eq!(r.input_tokens, Some(810));
        assert_eq!((r.cache_read_tokens, r.cache_write_tokens), (500, 300));
        assert_eq!(r.cache_write_1h_tokens, 200);
        assert_eq!(r.cache_write_5m_tokens(), 100);
    }

    #[test]
    fn anthropic_sdk_native_spans_carry_the_one_hour_split() {
        // As the anthropic SDK 2.12 emits them: inclusive input, TTL split in its own namespace.
        let a = [
            kv_str("gen_ai.operation.name", "chat"),
            kv_str("gen_ai.provider.name", "anthropic"),
            kv_str("gen_ai.response.model", "claude-haiku-4-5-20251001"),
            kv_int("gen_ai.usage.input_tokens", 2278),
            kv_int("gen_ai.usage.cache_read.input_tokens", 0),
            kv_int("gen_ai.usage.cache_creation.input_tokens", 2048),
            kv_int(
                "anthropic.usage.cache_creation.ephemeral_5m_input_tokens",
                0,
            ),
            kv_int(
                "anthropic.usage.cache_creation.ephemeral_1h_input_tokens",
                2048,
            ),
            kv_int("gen_ai.usage.output_tokens", 96),
        ];
        let r = norm(&a, "com.anthropic.sdk.python", "2.12.0");
        assert_eq!(r.input_tokens, Some(2278));
        assert_eq!(
            (r.cache_write_tokens, r.cache_write_1h_tokens),
            (2048, 2048)
        );
        assert_eq!(r.cache_write_5m_tokens(), 0);
    }

    #[test]
    fn gemini_thoughts_added_when_total_says_so() {
        let a = [
            kv_str("gen_ai.system", "gcp.vertex_ai"),
            kv_str("gen_ai.operation.name", "generate_content"),
            kv_int("gen_ai.usage.input_tokens", 100),
            kv_int("gen_ai.usage.output_tokens", 20),
            kv_int("gen_ai.usage.reasoning_tokens", 50),
            kv_int("gen_ai.usage.total_tokens", 170),
        ];
        let r = norm(&a, "x", "");
        assert_eq!(r.output_tokens, Some(70));
        assert!(r.inclusion.output_was_exclusive);
        let v = norm(&a[..5], "opentelemetry.instrumentation.vertexai", "2.0b0");
        assert_eq!(v.output_tokens, Some(70));
    }

    #[test]
    fn override_wins_and_agent_spans_are_aggregate() {
        let a = [
            kv_str("gen_ai.system", "openai"),
            kv_int("gen_ai.usage.input_tokens", 100),
            kv_int("gen_ai.usage.cache_read.input_tokens", 50),
        ];
        let o = [InclusionOverride {
            scope: "my.lib".into(),
            provider: None,
            input_includes_cache: Some(false),
            output_includes_reasoning: None,
        }];
        let r = normalize(
            &a,
            "chat",
            Scope {
                name: "my.lib.x",
                version: "",
            },
            &o,
        )
        .unwrap();
        assert_eq!(r.input_tokens, Some(150));
        let ag = [
            kv_str("gen_ai.operation.name", "invoke_agent"),
            kv_int("gen_ai.usage.input_tokens", 100),
        ];
        assert_eq!(norm(&ag, "x", "").level, Level::Aggregate);
    }

    #[test]
    fn reported_cost_ttft_and_tier() {
        let a = [
            kv_str("gen_ai.system", "openai"),
            kv_str("gen_ai.operation.name", "chat"),
            kv_str("openai.response.service_tier", "priority"),
            kv_str("gen_ai.openai.request.service_tier", "auto"),
            kv_str("llm.cost.total", "0.5"),
            kv_int("ai.response.msToFirstChunk", 250),
        ];
        let r = norm(&a, "x", "");
        assert_eq!(r.service_tier, Some("priority"));
        assert_eq!(r.reported_cost, Some(0.5));
        assert_eq!(r.reported_cost_key, Some("llm.cost.total"));
        assert_eq!(r.time_to_first_token_s, Some(0.25));
        assert!(!r.has_usage());
    }

    #[test]
    fn langfuse_buckets_are_resummed() {
        let a = [
            kv_str("langfuse.observation.type", "generation"),
            kv_str("langfuse.observation.model.name", "gpt-4o"),
            kv_str(
                "langfuse.observation.usage_details",
                r#"{"input":70,"input_cached_tokens":30,"output":10,"output_reasoning_tokens":5}"#,
            ),
        ];
        let r = norm(&a, "langfuse-sdk", "3");
        assert_eq!(r.input_tokens, Some(100));
        assert_eq!(r.output_tokens, Some(15));
        assert_eq!(r.model(), Some("gpt-4o"));
        assert_eq!(r.level, Level::Inference);
    }

    #[test]
    fn pydantic_ai_agent_runs_are_aggregate() {
        let a = [
            kv_str("gen_ai.agent.name", "support"),
            kv_str("gen_ai.request.model", "gpt-4o"),
            kv_int("gen_ai.aggregated_usage.input_tokens", 900),
        ];
        assert_eq!(norm(&a, "pydantic-ai", "1.0").level, Level::Aggregate);
    }
}
