//! The single pass: each attribute is looked up once in the alias table; per fact, the best
//! ranked spelling wins. Values are converted only when they win (numbers) or once at the
//! end (text), so a span costs one table lookup per attribute and no allocation unless a
//! value is not valid UTF-8.

use std::borrow::Cow;

use super::aliases::{
    flag, Count, Field, Index, Text, AGGREGATED_USAGE_PREFIX, COUNT_FACTS, TEXT_FACTS,
};
use super::blobs;
use super::classify::{classify, Kind, Markers};
use super::inclusion::{self, Rule, RuleInput};
use super::number;
use super::provider::normalize_provider;
use super::source::{self, SourceMarkers};
use super::{
    ErrorFacts, FactsConfig, Inclusion, ReportedCost, ResourceFacts, SpanFacts, SpanInput,
    TokenCounts, TokenSanity, Upstream, UpstreamStatus,
};
use crate::otlp::array_values;
use crate::otlp::{AnyRef, KeyValueRef};

/// Rank given to values found inside JSON blobs: below every plain attribute.
const BLOB_RANK: u16 = u16::MAX;
const LANGFUSE_COST_KEY: &str = "langfuse.observation.cost_details";

#[derive(Debug, Clone, Copy)]
struct Slot<T> {
    rank: u16,
    val: T,
}

fn offer<T>(slot: &mut Option<Slot<T>>, rank: u16, val: T) {
    if slot.as_ref().is_none_or(|s| rank < s.rank) {
        *slot = Some(Slot { rank, val });
    }
}

/// The winners so far, as raw bytes and parsed numbers.
struct Pass<'a> {
    text: [Option<Slot<&'a [u8]>>; TEXT_FACTS],
    counts: [Option<Slot<i64>>; COUNT_FACTS],
    ttft_s: Option<Slot<f64>>,
    cost: Option<Slot<(f64, &'static str)>>,
    provider_cost: Option<Slot<(f64, &'static str)>>,
    upstream_total: Option<f64>,
    http_status: Option<Slot<i64>>,
    content_filtered: bool,
    aggregated_usage: bool,
    /// OpenInference's `llm.model_name` was seen.
    has_model_name: bool,
    flags: u16,
}

impl<'a> Pass<'a> {
    fn new() -> Self {
        Pass {
            text: [None; TEXT_FACTS],
            counts: [None; COUNT_FACTS],
            ttft_s: None,
            cost: None,
            provider_cost: None,
            upstream_total: None,
            http_status: None,
            content_filtered: false,
            aggregated_usage: false,
            has_model_name: false,
            flags: 0,
        }
    }

    #[inline]
    fn take(&mut self, index: &Index, kv: KeyValueRef<'a>) {
        let Some((rank, alias)) = index.find(kv.key) else {
            if kv.key.starts_with(AGGREGATED_USAGE_PREFIX) {
                self.aggregated_usage = true;
            }
            return;
        };
        self.flags |= alias.flags;
        let v = kv.value;
        match alias.field {
            Field::Text(t) => {
                // `auto` asks the provider to choose; it is not the tier that was billed.
                let auto = |s: &[u8]| t == Text::ServiceTier && s.eq_ignore_ascii_case(b"auto");
                if let Some(s) = non_empty(&v).filter(|s| !auto(s)) {
                    offer(&mut self.text[t as usize], rank, s);
                }
            }
            Field::ModelName => {
                // The dated model of the response; the requested one is in the invocation
                // parameters (read after the pass).
                if let Some(s) = non_empty(&v) {
                    self.has_model_name = true;
                    offer(&mut self.text[Text::ResponseModel as usize], rank, s);
                }
            }
            Field::Count(c) => {
                if let Some(n) = number::count(&v) {
                    offer(&mut self.counts[c as usize], rank, n);
                }
            }
            Field::TtftSeconds => {
                if let Some(s) = number::non_negative(&v) {
                    offer(&mut self.ttft_s, rank, s);
                }
            }
            Field::TtftMillis => {
                if let Some(ms) = number::non_negative(&v) {
                    offer(&mut self.ttft_s, rank, ms / 1000.0);
                }
            }
            Field::Cost => {
                if let Some(usd) = number::non_negative(&v) {
                    offer(&mut self.cost, rank, (usd, alias.key));
                }
            }
            Field::ProviderCost => {
                if let Some(usd) = number::non_negative(&v) {
                    offer(&mut self.provider_cost, rank, (usd, alias.key));
                }
            }
            Field::UpstreamTotal => {
                self.upstream_total = number::non_negative(&v).or(self.upstream_total);
            }
            Field::HttpStatus => {
                if let Some(code) = number::count(&v) {
                    offer(&mut self.http_status, rank, code);
                }
            }
            Field::FinishReason => self.content_filtered |= names_content_filter(&v),
            Field::Marker => {}
        }
    }

    fn text(&self, t: Text) -> Option<&'a [u8]> {
        self.text[t as usize].map(|s| s.val)
    }

    fn has(&self, f: u16) -> bool {
        self.flags & f != 0
    }
}

fn non_empty<'a>(v: &AnyRef<'a>) -> Option<&'a [u8]> {
    match *v {
        AnyRef::Str(s) if !s.is_empty() => Some(s),
        _ => None,
    }
}

fn lossy(b: &[u8]) -> Cow<'_, str> {
    String::from_utf8_lossy(b)
}

pub fn read<'a, I>(
    span: SpanInput<'a, I>,
    resource: &ResourceFacts<'a>,
    cfg: &FactsConfig,
) -> SpanFacts<'a>
where
    I: IntoIterator<Item = KeyValueRef<'a>>,
{
    let mut p = Pass::new();
    for kv in span.attributes {
        p.take(&cfg.index, kv);
    }

    let operation = p.text(Text::Operation);
    // OpenInference: the requested model is in the invocation parameters; without them the
    // response's model is the best request model there is.
    let request_model = p
        .text(Text::RequestModel)
        .or_else(|| {
            p.text(Text::InvocationParameters)
                .and_then(blobs::invocation_model)
        })
        .or_else(|| p.text(Text::ResponseModel).filter(|_| p.has_model_name));
    let response_model = p.text(Text::LangfuseModel).or(p.text(Text::ResponseModel));
    let provider_raw = p.text(Text::Provider);
    let markers = Markers {
        span_name: span.name,
        operation,
        openinference_kind: p.text(Text::OpenInferenceKind),
        traceloop_kind: p.text(Text::TraceloopKind),
        ai_sdk_operation: p.text(Text::AiSdkOperation),
        langfuse_type: p.text(Text::LangfuseType),
        aggregated_usage: p.aggregated_usage,
    };
    let recognised = provider_raw.is_some()
        || operation.is_some()
        || request_model.is_some()
        || response_model.is_some()
        || markers.openinference_kind.is_some()
        || markers.traceloop_kind.is_some()
        || markers.ai_sdk_operation.is_some()
        || markers.langfuse_type.is_some()
        || markers.aggregated_usage;

    let mut facts = SpanFacts {
        error: ErrorFacts {
            status_error: span.status_code == 2,
            error_type: p.text(Text::ErrorType).map(lossy),
            http_status: p.http_status.map(|s| s.val),
            content_filtered: p.content_filtered,
        },
        batch: match p.text(Text::Batch) {
            Some(v) => is_batch(v),
            None => resource.batch.unwrap_or(false),
        },
        present: (p.flags & flag::CANONICAL) as u8,
        start_unix_nano: span.start_unix_nano,
        end_unix_nano: span.end_unix_nano,
        ..SpanFacts::default()
    };
    // A provider's bill is preferred over an instrumentation's estimate, whatever the ranks.
    facts.reported_cost = p
        .provider_cost
        .map(|s| (s, true))
        .or(p.cost.map(|s| (s, false)))
        .map(|(s, provider)| ReportedCost {
            usd: s.val.0,
            key: s.val.1,
            provider,
        });
    facts.response_id = p.text(Text::ResponseId).map(lossy);
    facts.upstream = upstream(&p, &mut facts.reported_cost);
    if !recognised {
        return facts;
    }

    facts.kind = classify(&markers);
    let raw = provider_raw.map(lossy);
    facts.provider = raw.as_deref().and_then(normalize_provider);
    facts.provider_raw = raw;
    // Conventions that name no operation: the AI SDK's model-call spans and OpenInference's
    // LLM / EMBEDDING spans, so their metrics carry the operation label.
    facts.operation = operation.map(lossy).or_else(|| {
        markers
            .ai_sdk_operation
            .and_then(ai_sdk_operation)
            .or_else(|| markers.openinference_kind.and_then(openinference_operation))
            .map(Cow::Borrowed)
    });
    facts.request_model = request_model.map(lossy);
    facts.response_model = response_model.map(lossy);
    facts.service_tier = p.text(Text::ServiceTier).map(lossy);
    facts.server_address = p.text(Text::ServerAddress).map(lossy);
    facts.region = p.text(Text::Region).map(lossy);
    facts.resource_region = resource.region.clone();
    facts.inference_geo = p.text(Text::InferenceGeo).map(lossy);
    facts.speed = p.text(Text::Speed).map(lossy);
    facts.ttft_s = p.ttft_s.map(|s| s.val);
    facts.source = source::detect(
        span.scope.name,
        SourceMarkers {
            traceloop: markers.traceloop_kind.is_some() || p.has(flag::TRACELOOP),
            openinference: markers.openinference_kind.is_some(),
            ai_sdk: markers.ai_sdk_operation.is_some(),
            openlit: p.has(flag::OPENLIT),
            langfuse: markers.langfuse_type.is_some(),
        },
    );
    if facts.reported_cost.is_none() && !facts.upstream.enriched() {
        facts.reported_cost = p
            .text(Text::LangfuseCost)
            .and_then(|j| blobs::langfuse_total_cost(&lossy(j)))
            .map(|usd| ReportedCost {
                usd,
                key: LANGFUSE_COST_KEY,
                provider: false,
            });
    }
    let rule_input = RuleInput {
        source: facts.source,
        scope_name: span.scope.name,
        scope_version: span.scope.version,
        provider: facts.provider,
        ai_sdk_details: p.has(flag::AI_SDK_DETAILS),
    };
    let (tokens, sanity, inclusion) = tokens(&mut p, rule_input, cfg);
    facts.tokens = tokens;
    facts.sanity = sanity;
    facts.inclusion = inclusion;
    debug_assert!(facts.kind != Kind::NotGenAi);
    facts
}

/// Reads the resource facts: `service.name`, the batch-API marker and the region.
pub fn read_resource<'a, I>(attrs: I, cfg: &FactsConfig) -> ResourceFacts<'a>
where
    I: IntoIterator<Item = KeyValueRef<'a>>,
{
    let mut f = ResourceFacts::default();
    let mut region_rank = u16::MAX;
    for kv in attrs {
        if kv.key == b"service.name" {
            if let (None, AnyRef::Str(s)) = (&f.service, kv.value) {
                f.service = Some(lossy(s));
            }
            continue;
        }
        let Some((rank, a)) = cfg.index.find(kv.key) else {
            continue;
        };
        let Some(v) = non_empty(&kv.value) else {
            continue;
        };
        match a.field {
            Field::Text(Text::Batch) if f.batch.is_none() => f.batch = Some(is_batch(v)),
            Field::Text(Text::Region) if f.region.is_none() || rank < region_rank => {
                f.region = Some(lossy(v));
                region_rank = rank;
            }
            _ => {}
        }
    }
    f
}

fn is_batch(v: &[u8]) -> bool {
    v.eq_ignore_ascii_case(b"batch") || v.eq_ignore_ascii_case(b"true")
}

/// What an upstream Tollbooth cost stage left. When it priced the call and no provider cost
/// was there, the cost attribute holds its own price, which is then not a reported cost.
fn upstream(p: &Pass<'_>, reported: &mut Option<ReportedCost>) -> Upstream {
    if !p.has(flag::ENRICHED) {
        return Upstream::default();
    }
    let status = match p.text(Text::UpstreamStatus) {
        Some(b"priced") => UpstreamStatus::Priced,
        Some(b"unpriced") => UpstreamStatus::Unpriced,
        Some(b"no_usage") => UpstreamStatus::NoUsage,
        Some(b"provider_reported") => UpstreamStatus::ProviderReported,
        Some(b"estimated") => UpstreamStatus::Estimated,
        Some(b"duplicate") => UpstreamStatus::Duplicate,
        _ => UpstreamStatus::Other,
    };
    // The cost attribute holds what that stage accounted the call at (its price, the
    // provider's bill or, without a price, the instrumentation's estimate): not a reported
    // cost any more. Other statuses (unpriced, no usage, a duplicate) account nothing.
    let accounted = matches!(
        status,
        UpstreamStatus::Priced | UpstreamStatus::ProviderReported | UpstreamStatus::Estimated
    );
    // Read from the cost attribute itself, not from the reported cost: on a span the
    // provider billed, the bill's own attribute (`gen_ai.usage.total_cost`) is still there
    // and would be preferred, and the accounted figure lost.
    let mut cost_usd = None;
    if accounted {
        if let Some(s) = p.cost.filter(|s| s.val.1 == super::aliases::COST_KEY) {
            cost_usd = Some(s.val.0);
            *reported = None;
        }
    }
    Upstream {
        status: Some(status),
        cost_usd,
    }
}

/// Token counts in spec semantics, after the sanity checks and the inclusion rules.
fn tokens(
    p: &mut Pass<'_>,
    rule_input: RuleInput<'_>,
    cfg: &FactsConfig,
) -> (TokenCounts, TokenSanity, Inclusion) {
    let slot = |c: Count| c as usize;
    // Usage hidden in JSON blobs, only when the plain attributes do not have it.
    let mut disjoint_buckets = false;
    if p.counts[slot(Count::Input)].is_none() {
        if let Some(u) = p
            .text(Text::LangfuseUsage)
            .and_then(|j| blobs::langfuse_usage(&lossy(j)))
        {
            for (c, v) in [
                (Count::Input, u.input),
                (Count::Output, u.output),
                (Count::CacheRead, u.cache_read),
                (Count::CacheWrite, u.cache_write),
                (Count::Reasoning, u.reasoning),
            ] {
                if let Some(v) = v {
                    offer(&mut p.counts[slot(c)], BLOB_RANK, v);
                }
            }
            disjoint_buckets = true;
        }
    }
    // LiteLLM keeps cached and reasoning counts only inside its usage object.
    let missing = |p: &Pass<'_>, c: Count| p.counts[slot(c)].is_none();
    if missing(p, Count::CacheRead) || missing(p, Count::Reasoning) || missing(p, Count::CacheWrite)
    {
        if let Some((read, write, reasoning)) =
            [Text::LiteLlmHiddenParams, Text::LiteLlmUsageObject]
                .into_iter()
                .filter_map(|t| p.text(t))
                .find_map(|j| blobs::litellm_usage_object(&lossy(j)))
        {
            for (c, v) in [
                (Count::CacheRead, read),
                (Count::CacheWrite, write),
                (Count::Reasoning, reasoning),
            ] {
                if let Some(v) = v {
                    offer(&mut p.counts[slot(c)], BLOB_RANK, v);
                }
            }
        }
    }
    for blob in [Text::AiSdkProviderMetadata, Text::UsageRaw] {
        if p.counts[slot(Count::CacheWrite)].is_some()
            && p.counts[slot(Count::CacheWrite1h)].is_some()
        {
            break;
        }
        if let Some((all, one_hour)) = p.text(blob).and_then(|j| blobs::cache_writes(&lossy(j))) {
            if let Some(v) = all {
                offer(&mut p.counts[slot(Count::CacheWrite)], BLOB_RANK, v);
            }
            if let Some(v) = one_hour {
                offer(&mut p.counts[slot(Count::CacheWrite1h)], BLOB_RANK, v);
            }
        }
    }

    // Sanity first: one unusable count makes the whole span's usage unusable.
    let ceiling = cfg.max_tokens_per_call;
    let raw = p.counts.map(|s| s.map(|s| s.val));
    if raw.iter().flatten().any(|v| *v < 0) {
        return (
            TokenCounts::default(),
            TokenSanity::Negative,
            Inclusion::default(),
        );
    }
    if raw.iter().flatten().any(|v| *v as u64 > ceiling) {
        return (
            TokenCounts::default(),
            TokenSanity::Implausible,
            Inclusion::default(),
        );
    }
    let get = |c: Count| raw[slot(c)].map(|v| v as u64);
    let cache_read = get(Count::CacheRead).unwrap_or(0);
    let cache_write = get(Count::CacheWrite).unwrap_or(0);
    let mut reasoning = get(Count::Reasoning).unwrap_or(0);
    let total = get(Count::Total);
    let mut input = get(Count::Input);
    let mut output = get(Count::Output);

    let rule = if disjoint_buckets {
        // Langfuse buckets: input without cache, output without reasoning.
        Rule {
            input_includes_cache: Some(false),
            output_includes_reasoning: Some(false),
        }
    } else if p.has(flag::ENRICHED) {
        // An upstream cost stage already wrote the counts it priced in the spec's meaning (it
        // corrects an exclusive count in place: cost.rs `write`), so the instrumentation's rule
        // would add the cache or the reasoning a second time. Only the sanity rules apply.
        Rule::default()
    } else {
        inclusion::rule(rule_input, &cfg.inclusion)
    };
    let mut inc = Inclusion::default();
    let cache = cache_read.saturating_add(cache_write);
    if let Some(i) = input {
        if rule.input_includes_cache == Some(false) {
            input = Some(i.saturating_add(cache));
            inc.input_was_exclusive = true;
        } else if cache > i {
            // Cache cannot exceed the input it is part of: the count left it out.
            input = Some(i.saturating_add(cache));
            inc.input_was_exclusive = true;
            inc.detected_by_sanity_check = true;
        }
    } else if cache > 0 {
        input = Some(cache);
    }
    if let Some(o) = output {
        let exclusive = match rule.output_includes_reasoning {
            Some(v) => !v,
            None => {
                // A total equal to input + output + reasoning means output left reasoning out.
                let i = input.unwrap_or(0);
                reasoning > 0
                    && input.is_some()
                    && total.is_some()
                    && total != Some(i.saturating_add(o))
                    && total == Some(i.saturating_add(o).saturating_add(reasoning))
            }
        };
        if exclusive {
            output = Some(o.saturating_add(reasoning));
            inc.output_was_exclusive = true;
        } else if reasoning > o {
            // Reasoning cannot exceed the output it is part of; trust output.
            reasoning = o;
        }
    } else if reasoning > 0 {
        output = Some(reasoning);
    }
    if input.unwrap_or(0) > ceiling || output.unwrap_or(0) > ceiling {
        return (
            TokenCounts::default(),
            TokenSanity::Implausible,
            Inclusion::default(),
        );
    }
    let counts = TokenCounts {
        input,
        cache_read,
        cache_write,
        cache_write_1h: get(Count::CacheWrite1h).unwrap_or(0).min(cache_write),
        output,
        reasoning,
        total,
    };
    (counts, TokenSanity::Ok, inc)
}

/// A finish reason (string) or list of them naming the provider's content filter.
fn names_content_filter(v: &AnyRef<'_>) -> bool {
    const FILTER: &[u8] = b"content_filter";
    match *v {
        AnyRef::Str(s) => s.windows(FILTER.len()).any(|w| w == FILTER),
        AnyRef::Array(body) => array_values(body).any(|v| v == AnyRef::Str(FILTER)),
        _ => false,
    }
}

/// The operation of a Vercel AI SDK model-call span, which names none
/// (`ai.generateText.doGenerate` is a chat call).
fn ai_sdk_operation(operation_id: &[u8]) -> Option<&'static str> {
    if operation_id.ends_with(b".doGenerate") || operation_id.ends_with(b".doStream") {
        Some("chat")
    } else if operation_id.ends_with(b".doEmbed") {
        Some("embeddings")
    } else {
        None
    }
}

/// The operation of an OpenInference model-call span, which names only its kind: an `LLM` span
/// is a chat or completion call (counted as `chat`), an `EMBEDDING` span `embeddings`.
fn openinference_operation(kind: &[u8]) -> Option<&'static str> {
    if kind.eq_ignore_ascii_case(b"LLM") {
        Some("chat")
    } else if kind.eq_ignore_ascii_case(b"EMBEDDING") {
        Some("embeddings")
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finish_reason_arrays_are_walked() {
        // ArrayValue{values:[AnyValue{string:"stop"}, AnyValue{int:3}, AnyValue{string:"content_filter"}]}
        let mut body = vec![0x0a, 6, 0x0a, 4];
        body.extend_from_slice(b"stop");
        body.extend_from_slice(&[0x0a, 2, 0x18, 3]);
        body.extend_from_slice(&[0x0a, 16, 0x0a, 14]);
        body.extend_from_slice(b"content_filter");
        assert!(names_content_filter(&AnyRef::Array(&body)));
        assert!(!names_content_filter(&AnyRef::Array(&body[..8])));
        assert!(!names_content_filter(&AnyRef::Array(&[0x0a, 0xff])));
        assert!(names_content_filter(&AnyRef::Str(b"content_filter")));
    }
}
