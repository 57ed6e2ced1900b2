//! Facts from spans as instrumentations emit them (docs/genai-conventions.md): recognition,
//! classification, token semantics per source, sanity, and text that is not UTF-8.

use opentelemetry_proto::tonic::common::v1::KeyValue;
use opentelemetry_proto::tonic::trace::v1::Span;

use super::prost::PreparedSpan;
use super::*;
use crate::otlp::{kv_int, kv_str, AnyRef, KeyValueRef};

/// Reads the facts of a span named `chat` from `scope`/`version`, then hands them to `check`.
fn with<R>(
    attrs: Vec<KeyValue>,
    scope: &str,
    version: &str,
    check: impl FnOnce(&SpanFacts<'_>) -> R,
) -> R {
    with_cfg(attrs, scope, version, &FactsConfig::default(), check)
}

fn with_cfg<R>(
    attrs: Vec<KeyValue>,
    scope: &str,
    version: &str,
    cfg: &FactsConfig,
    check: impl FnOnce(&SpanFacts<'_>) -> R,
) -> R {
    let span = Span {
        name: "chat".into(),
        attributes: attrs,
        ..Default::default()
    };
    let p = PreparedSpan::new(&span, scope, version);
    check(&p.facts(&ResourceFacts::default(), cfg))
}

fn tokens(f: &SpanFacts<'_>) -> TokenCounts {
    *f.tokens().expect("sane counts")
}

#[test]
fn plain_span_is_not_genai() {
    with(vec![kv_str("http.method", "GET")], "x", "", |f| {
        assert_eq!(f.kind, Kind::NotGenAi);
        assert!(!f.is_genai());
    });
}

#[test]
fn otel_1_27_chat_span() {
    let a = vec![
        kv_str("gen_ai.system", "openai"),
        kv_str("gen_ai.operation.name", "chat"),
        kv_str("gen_ai.request.model", "gpt-4o"),
        kv_str("gen_ai.response.model", "gpt-4o-2024-08-06"),
    ];
    with(a, "x", "", |f| {
        assert_eq!(f.provider, Some("openai"));
        assert_eq!(f.present & canon::PROVIDER, 0);
        assert_eq!(f.kind, Kind::Inference);
        assert_eq!(f.model(), Some("gpt-4o-2024-08-06"));
        assert!(f.usage().is_none());
    });
}

#[test]
fn unknown_provider_is_kept_as_written() {
    let a = vec![
        kv_str("gen_ai.system", "acme-llm"),
        kv_str("gen_ai.operation.name", "chat"),
    ];
    with(a, "x", "", |f| {
        assert_eq!(f.provider, None);
        assert_eq!(f.provider_name(), "acme-llm");
    });
}

#[test]
fn otel_latest_is_inclusive() {
    let a = vec![
        kv_str("gen_ai.provider.name", "anthropic"),
        kv_str("gen_ai.operation.name", "chat"),
        kv_int("gen_ai.usage.input_tokens", 1000),
        kv_int("gen_ai.usage.cache_read.input_tokens", 600),
        kv_int("gen_ai.usage.cache_creation.input_tokens", 100),
        kv_int("gen_ai.usage.output_tokens", 50),
    ];
    with(
        a,
        "opentelemetry.instrumentation.genai.anthropic",
        "1.3b0",
        |f| {
            let t = tokens(f);
            assert_eq!(
                (t.input, t.cache_read, t.cache_write),
                (Some(1000), 600, 100)
            );
            assert!(!f.inclusion.input_was_exclusive);
            assert_eq!(f.present & canon::PROVIDER, canon::PROVIDER);
            assert_eq!(f.source, Source::OtelGenai);
        },
    );
}

#[test]
fn sanity_check_detects_exclusive_input() {
    let a = vec![
        kv_str("gen_ai.system", "anthropic"),
        kv_int("gen_ai.usage.input_tokens", 10),
        kv_int("gen_ai.usage.cache_read.input_tokens", 600),
        kv_int("gen_ai.usage.output_tokens", 5),
    ];
    with(a, "somebody", "", |f| {
        assert_eq!(tokens(f).input, Some(610));
        assert!(f.inclusion.detected_by_sanity_check);
    });
}

#[test]
fn openlit_anthropic_and_botocore_are_exclusive() {
    let a = vec![
        kv_str("gen_ai.system", "anthropic"),
        kv_str("gen_ai.sdk.version", "1.45.0"),
        kv_int("gen_ai.usage.input_tokens", 1000),
        kv_int("gen_ai.usage.cache_read.input_tokens", 200),
        kv_int("gen_ai.usage.output_tokens", 5),
    ];
    with(a, "openlit.otel.tracing", "", |f| {
        assert_eq!(tokens(f).input, Some(1200))
    });
    let b = vec![
        kv_str("gen_ai.system", "aws.bedrock"),
        kv_int("gen_ai.usage.input_tokens", 1000),
        kv_int("gen_ai.usage.cache_read.input_tokens", 200),
    ];
    let scope = "opentelemetry.instrumentation.botocore.bedrock-runtime";
    with(b, scope, "0.5", |f| assert_eq!(tokens(f).input, Some(1200)));
}

/// A span an upstream cost stage enriched carries the counts it priced, already corrected to
/// the spec's meaning: a reader downstream (the metrics connector) does not add the cache again.
#[test]
fn counts_corrected_upstream_are_not_corrected_twice() {
    let enriched = vec![
        kv_str("gen_ai.system", "anthropic"),
        kv_str("gen_ai.sdk.version", "1.45.0"),
        kv_int("gen_ai.usage.input_tokens", 1200),
        kv_int("gen_ai.usage.cache_read.input_tokens", 200),
        kv_int("gen_ai.usage.output_tokens", 5),
        kv_str("tollbooth.cost.status", "priced"),
        kv_str("tollbooth.cost.flags", "input_excluded_cache"),
    ];
    with(enriched, "openlit.otel.tracing", "", |f| {
        assert_eq!(tokens(f).input, Some(1200));
        assert!(!f.inclusion.input_was_exclusive);
    });
    // The sanity rule still applies: cache above the input was left out of it.
    let raw = vec![
        kv_str("gen_ai.system", "anthropic"),
        kv_int("gen_ai.usage.input_tokens", 57),
        kv_int("gen_ai.usage.cache_read.input_tokens", 200),
        kv_str("tollbooth.cost.status", "priced"),
    ];
    with(raw, "openlit.otel.tracing", "", |f| {
        assert_eq!(tokens(f).input, Some(257))
    });
}

#[test]
fn openllmetry_old_anthropic_is_exclusive_new_is_not() {
    let a = || {
        vec![
            kv_str("gen_ai.system", "Anthropic"),
            kv_str("llm.request.type", "chat"),
            kv_int("gen_ai.usage.prompt_tokens", 1000),
            kv_int("gen_ai.usage.cache_read_input_tokens", 200),
            kv_int("gen_ai.usage.completion_tokens", 7),
        ]
    };
    let scope = "opentelemetry.instrumentation.anthropic";
    with(a(), scope, "0.30.0", |f| {
        assert_eq!((tokens(f).input, tokens(f).output), (Some(1200), Some(7)));
        assert_eq!(f.source, Source::OpenLlmetry);
    });
    with(a(), scope, "0.62.1", |f| {
        assert_eq!(tokens(f).input, Some(1000))
    });
}

#[test]
fn openinference_and_ai_sdk_spellings() {
    let a = vec![
        kv_str("openinference.span.kind", "LLM"),
        kv_str("llm.provider", "openai"),
        kv_str("llm.model_name", "gpt-4o-mini-2024-07-18"),
        kv_int("llm.token_count.prompt", 100),
        kv_int("llm.token_count.completion", 40),
        kv_int("llm.token_count.prompt_details.cache_read", 64),
        kv_int("llm.token_count.completion_details.reasoning", 30),
    ];
    with(a, "openinference.instrumentation.openai", "0.1.66", |f| {
        let t = tokens(f);
        assert_eq!(
            (t.input, t.cache_read, t.output, t.reasoning),
            (Some(100), 64, Some(40), 30)
        );
        assert_eq!(f.kind, Kind::Inference);
        assert_eq!(f.request_model.as_deref(), Some("gpt-4o-mini-2024-07-18"));
    });

    // AI SDK v5, Anthropic provider: input excludes cache, writes only in provider metadata.
    let meta = r#"{"anthropic":{"usage":{"input_tokens":10,"cache_creation_input_tokens":300,"cache_read_input_tokens":500,"cache_creation":{"ephemeral_5m_input_tokens":100,"ephemeral_1h_input_tokens":200}}}}"#;
    let b = vec![
        kv_str("ai.operationId", "ai.generateText.doGenerate"),
        kv_str("ai.model.provider", "anthropic.messages"),
        kv_str("ai.model.id", "claude-sonnet-4-5"),
        kv_int("ai.usage.promptTokens", 10),
        kv_int("ai.usage.completionTokens", 20),
        kv_int("ai.usage.cachedInputTokens", 500),
        kv_str("ai.response.providerMetadata", meta),
    ];
    with(b, "ai", "", |f| {
        let t = tokens(f);
        assert_eq!(t.input, Some(810));
        assert_eq!((t.cache_read, t.cache_write), (500, 300));
        assert_eq!(t.cache_write_1h, 200);
        assert_eq!(t.cache_write_5m(), 100);
        assert_eq!(f.provider, Some("anthropic"));
    });
}

#[test]
fn ai_sdk_v6_details_make_counts_inclusive() {
    let a = vec![
        kv_str("ai.operationId", "ai.generateText.doGenerate"),
        kv_str("ai.model.provider", "anthropic.messages"),
        kv_int("ai.usage.inputTokens", 810),
        kv_int("ai.usage.inputTokenDetails.cacheReadTokens", 500),
        kv_int("ai.usage.inputTokenDetails.cacheWriteTokens", 300),
        kv_int("ai.usage.outputTokens", 20),
    ];
    with(a, "ai", "", |f| {
        assert_eq!(tokens(f).input, Some(810));
        assert!(!f.inclusion.input_was_exclusive);
    });
}

#[test]
fn anthropic_sdk_native_spans_carry_the_one_hour_split() {
    let a = vec![
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
    with(a, "com.anthropic.sdk.python", "2.12.0", |f| {
        let t = tokens(f);
        assert_eq!(t.input, Some(2278));
        assert_eq!((t.cache_write, t.cache_write_1h), (2048, 2048));
        assert_eq!(t.cache_write_5m(), 0);
    });
}

#[test]
fn gemini_thoughts_added_when_total_says_so() {
    let a = vec![
        kv_str("gen_ai.system", "gcp.vertex_ai"),
        kv_str("gen_ai.operation.name", "generate_content"),
        kv_int("gen_ai.usage.input_tokens", 100),
        kv_int("gen_ai.usage.output_tokens", 20),
        kv_int("gen_ai.usage.reasoning_tokens", 50),
        kv_int("gen_ai.usage.total_tokens", 170),
    ];
    with(a.clone(), "x", "", |f| {
        assert_eq!(tokens(f).output, Some(70));
        assert!(f.inclusion.output_was_exclusive);
    });
    let scope = "opentelemetry.instrumentation.vertexai";
    with(a[..5].to_vec(), scope, "2.0b0", |f| {
        assert_eq!(tokens(f).output, Some(70))
    });
}

#[test]
fn override_wins() {
    let a = vec![
        kv_str("gen_ai.system", "openai"),
        kv_int("gen_ai.usage.input_tokens", 100),
        kv_int("gen_ai.usage.cache_read.input_tokens", 50),
    ];
    let cfg = FactsConfig::new(
        &OwnKeys::default(),
        DEFAULT_MAX_TOKENS_PER_CALL,
        vec![InclusionOverride {
            scope: "my.lib".into(),
            provider: None,
            input_includes_cache: Some(false),
            output_includes_reasoning: None,
        }],
    );
    with_cfg(a, "my.lib.x", "", &cfg, |f| {
        assert_eq!(tokens(f).input, Some(150))
    });
}

#[test]
fn reported_cost_ttft_and_tier() {
    let a = vec![
        kv_str("gen_ai.system", "openai"),
        kv_str("gen_ai.operation.name", "chat"),
        kv_str("openai.response.service_tier", "priority"),
        kv_str("gen_ai.openai.request.service_tier", "auto"),
        kv_str("llm.cost.total", "0.5"),
        kv_int("ai.response.msToFirstChunk", 250),
    ];
    with(a, "x", "", |f| {
        assert_eq!(f.service_tier.as_deref(), Some("priority"));
        assert_eq!(
            f.reported_cost,
            Some(ReportedCost {
                usd: 0.5,
                key: "llm.cost.total",
                provider: false,
            })
        );
        assert_eq!(f.ttft_s, Some(0.25));
        assert!(f.usage().is_none());
        assert_eq!(f.known_cost_usd(), Some(0.5));
        // An instrumentation's figure no cost stage accounted is not counted by metrics.
        assert_eq!(f.accounted_cost_usd(), None);
    });
}

#[test]
fn langfuse_buckets_are_resummed() {
    let a = vec![
        kv_str("langfuse.observation.type", "generation"),
        kv_str("langfuse.observation.model.name", "gpt-4o"),
        kv_str(
            "langfuse.observation.usage_details",
            r#"{"input":70,"input_cached_tokens":30,"output":10,"output_reasoning_tokens":5}"#,
        ),
        kv_str("langfuse.observation.cost_details", r#"{"total":0.25}"#),
    ];
    with(a, "langfuse-sdk", "3", |f| {
        assert_eq!(f.kind, Kind::Inference);
        assert_eq!(tokens(f).input, Some(100));
        assert_eq!(tokens(f).output, Some(15));
        assert_eq!(f.model(), Some("gpt-4o"));
        assert_eq!(f.reported_cost.map(|c| c.usd), Some(0.25));
    });
}

#[test]
fn pydantic_ai_agent_runs_are_aggregate() {
    let a = vec![
        kv_str("gen_ai.agent.name", "support"),
        kv_str("gen_ai.request.model", "gpt-4o"),
        kv_int("gen_ai.aggregated_usage.input_tokens", 900),
    ];
    with(a, "pydantic-ai", "1.0", |f| {
        assert_eq!(f.kind, Kind::Aggregate)
    });
}

#[test]
fn spring_ai_chat_client_span_is_a_wrapper() {
    let a = vec![
        kv_str("gen_ai.system", "spring_ai"),
        kv_str("gen_ai.operation.name", "framework"),
        kv_int("gen_ai.usage.input_tokens", 10),
    ];
    with(a, "x", "", |f| assert!(f.kind.repeats_children()));
}

#[test]
fn errors_rate_limits_and_content_filters() {
    let a = vec![
        kv_str("gen_ai.provider.name", "openai"),
        kv_str("error.type", "Too Many Requests"),
        kv_str("llm.finish_reason", "content_filter"),
    ];
    with(a, "x", "", |f| {
        assert!(f.error.is_error() && f.error.rate_limited() && f.error.content_filtered);
        assert_eq!(f.error.metric_error_type(), Some("Too Many Requests"));
    });
    let b = vec![
        kv_str("gen_ai.provider.name", "openai"),
        kv_str("http.response.status_code", "429"),
    ];
    with(b, "x", "", |f| {
        assert!(f.error.rate_limited() && !f.error.is_error());
        assert_eq!(f.error.metric_error_type(), None);
    });
}

#[test]
fn counts_are_read_the_same_in_every_spelling() {
    for v in [
        kv_int("gen_ai.usage.input_tokens", 42),
        kv_str("gen_ai.usage.input_tokens", " 42 "),
        KeyValue {
            key: "gen_ai.usage.input_tokens".into(),
            value: Some(opentelemetry_proto::tonic::common::v1::AnyValue {
                value: Some(
                    opentelemetry_proto::tonic::common::v1::any_value::Value::DoubleValue(42.0),
                ),
            }),
        },
    ] {
        with(vec![kv_str("gen_ai.system", "openai"), v], "x", "", |f| {
            assert_eq!(tokens(f).input, Some(42))
        });
    }
}

#[test]
fn negative_and_implausible_counts_leave_no_usage() {
    let base = || {
        vec![
            kv_str("gen_ai.system", "openai"),
            kv_str("llm.cost.total", "1"),
        ]
    };
    for (v, want) in [
        (
            kv_int("gen_ai.usage.input_tokens", -1),
            TokenSanity::Negative,
        ),
        (
            kv_int("gen_ai.usage.input_tokens", i64::MIN),
            TokenSanity::Negative,
        ),
        (
            kv_str("gen_ai.usage.total_tokens", "-3"),
            TokenSanity::Negative,
        ),
        (
            kv_int("gen_ai.usage.output_tokens", i64::MAX),
            TokenSanity::Implausible,
        ),
        (
            kv_int("gen_ai.usage.cache_read.input_tokens", 100_000_001),
            TokenSanity::Implausible,
        ),
    ] {
        let mut a = base();
        a.push(v.clone());
        with(a, "x", "", |f| {
            assert_eq!(f.sanity, want, "{v:?}");
            assert!(f.tokens().is_none() && f.usage().is_none());
            assert_eq!(f.known_cost_usd(), None, "kept out of every counter");
        });
    }
    // A count equal to the ceiling is fine; the sum of an exclusive input is checked too.
    let at = vec![
        kv_str("gen_ai.system", "openai"),
        kv_int("gen_ai.usage.input_tokens", 100_000_000),
    ];
    with(at, "x", "", |f| assert_eq!(f.sanity, TokenSanity::Ok));
    let summed = vec![
        kv_str("gen_ai.system", "anthropic"),
        kv_int("gen_ai.usage.input_tokens", 60_000_000),
        kv_int("gen_ai.usage.cache_read.input_tokens", 60_000_000),
    ];
    with(summed, "openlit.otel.tracing", "", |f| {
        assert_eq!(f.sanity, TokenSanity::Implausible)
    });
    let low = FactsConfig::new(&OwnKeys::default(), 10, Vec::new());
    let a = vec![
        kv_str("gen_ai.system", "openai"),
        kv_int("gen_ai.usage.input_tokens", 11),
    ];
    with_cfg(a, "x", "", &low, |f| {
        assert_eq!(f.sanity, TokenSanity::Implausible)
    });
    assert!(validate_max_tokens(0).is_err());
    assert!(validate_max_tokens(MAX_MAX_TOKENS_PER_CALL + 1).is_err());
}

#[test]
fn negative_ttft_and_cost_are_absent() {
    let a = vec![
        kv_str("gen_ai.system", "openai"),
        kv_str("gen_ai.response.time_to_first_chunk", "-1"),
        kv_str("gen_ai.usage.cost", "-0.5"),
        kv_str("llm.cost.total", "0.25"),
    ];
    with(a, "x", "", |f| {
        assert_eq!(f.ttft_s, None);
        assert_eq!(f.reported_cost.map(|c| c.key), Some("llm.cost.total"));
    });
}

#[test]
fn upstream_enrichment_is_recognised() {
    // Our own price in the cost attribute is not a provider cost.
    let priced = vec![
        kv_str("gen_ai.provider.name", "openai"),
        kv_str("tollbooth.cost.status", "priced"),
        kv_str("gen_ai.usage.cost", "0.01"),
    ];
    with(priced, "x", "", |f| {
        assert_eq!(f.upstream.status, Some(UpstreamStatus::Priced));
        assert_eq!(f.upstream.cost_usd, Some(0.01));
        assert_eq!(f.reported_cost, None);
    });
    // The provider's bill is what the call was accounted at; ours is the total beside it.
    let reported = vec![
        kv_str("gen_ai.provider.name", "openai"),
        kv_str("tollbooth.cost.status", "provider_reported"),
        kv_str("gen_ai.usage.cost", "0.02"),
        kv_str("tollbooth.cost.total", "0.01"),
    ];
    with(reported, "x", "", |f| {
        assert_eq!(f.upstream.cost_usd, Some(0.02));
        assert_eq!(f.reported_cost, None);
        assert_eq!(f.known_cost_usd(), Some(0.02));
    });
    // The bill's own attribute is still on the span beside the figure accounted from it.
    let billed = vec![
        kv_str("gen_ai.provider.name", "openai"),
        kv_str("gen_ai.usage.total_cost", "0.02"),
        kv_str("tollbooth.cost.status", "provider_reported"),
        kv_str("gen_ai.usage.cost", "0.02"),
        kv_str("tollbooth.cost.total", "0.01"),
    ];
    with(billed, "x", "", |f| {
        assert_eq!(f.upstream.cost_usd, Some(0.02));
        assert_eq!(f.accounted_cost_usd(), Some(0.02));
    });
    // A duplicate accounts nothing, whatever it carries.
    let dup = vec![
        kv_str("gen_ai.provider.name", "openai"),
        kv_str("tollbooth.cost.status", "duplicate"),
        kv_str("gen_ai.usage.cost", "0.02"),
    ];
    with(dup, "x", "", |f| {
        assert_eq!(f.upstream.status, Some(UpstreamStatus::Duplicate));
        assert_eq!(f.known_cost_usd(), None);
    });
    // A stage with another prefix is recognised by its own key.
    let cfg = FactsConfig::new(
        &OwnKeys {
            status: "acme.cost.status".into(),
            ..OwnKeys::default()
        },
        DEFAULT_MAX_TOKENS_PER_CALL,
        Vec::new(),
    );
    let a = vec![
        kv_str("gen_ai.provider.name", "openai"),
        kv_str("acme.cost.status", "unpriced"),
    ];
    with_cfg(a, "x", "", &cfg, |f| {
        assert_eq!(f.upstream.status, Some(UpstreamStatus::Unpriced))
    });
}

/// Bytes as the borrowed reader yields them: a value that is not UTF-8 is read lossily, so
/// the span is still recognised, priced where possible and counted.
#[test]
fn invalid_utf8_is_repaired_not_dropped() {
    let attrs = [
        KeyValueRef {
            key: b"gen_ai.provider.name",
            value: AnyRef::Str(b"open\xffai"),
        },
        KeyValueRef {
            key: b"gen_ai.request.model",
            value: AnyRef::Str(b"gpt-4o"),
        },
        KeyValueRef {
            key: b"gen_ai.usage.input_tokens",
            value: AnyRef::Int(10),
        },
        KeyValueRef {
            key: b"gen_ai.\xff",
            value: AnyRef::Int(1),
        },
    ];
    let f = SpanFacts::read(
        SpanInput {
            name: b"chat \xfe",
            attributes: attrs,
            scope: ScopeInput::default(),
            status_code: 0,
            start_unix_nano: 0,
            end_unix_nano: 0,
        },
        &ResourceFacts::default(),
        &FactsConfig::default(),
    );
    assert_eq!(f.kind, Kind::Inference);
    assert_eq!(f.provider_raw.as_deref(), Some("open\u{fffd}ai"));
    assert_eq!(f.provider, None);
    assert_eq!(f.request_model.as_deref(), Some("gpt-4o"));
    assert!(matches!(
        f.request_model,
        Some(std::borrow::Cow::Borrowed(_))
    ));
    assert_eq!(f.usage().and_then(|t| t.input), Some(10));
}

#[test]
fn the_resource_gives_the_service_and_the_batch_marker() {
    let res = [
        kv_str("service.name", "svc"),
        kv_str("tollbooth.pricing.processing", "batch"),
    ];
    let cfg = FactsConfig::default();
    let r = super::prost::resource_facts(&res, &cfg);
    assert_eq!(r.service_name(), "svc");
    let span = Span {
        attributes: vec![kv_str("gen_ai.system", "openai")],
        ..Default::default()
    };
    let p = PreparedSpan::new(&span, "", "");
    assert!(p.facts(&r, &cfg).batch);
    let own = Span {
        attributes: vec![
            kv_str("gen_ai.system", "openai"),
            kv_str("tollbooth.pricing.processing", "standard"),
        ],
        ..Default::default()
    };
    assert!(!PreparedSpan::new(&own, "", "").facts(&r, &cfg).batch);
}

#[test]
fn where_the_bill_is_tier_region_geo_speed() {
    let a = vec![
        kv_str("gen_ai.provider.name", "anthropic"),
        kv_str("gen_ai.openai.request.service_tier", "auto"),
        kv_str("anthropic.response.service_tier", "batch"),
        kv_str("aws.region", "us-east-1"),
        kv_str("cloud.region", "eu-west-1"),
        kv_str("anthropic.usage.inference_geo", "us"),
        kv_str("anthropic.request.speed", "fast"),
    ];
    with(a, "x", "", |f| {
        assert_eq!(f.service_tier.as_deref(), Some("batch"), "auto is skipped");
        assert_eq!(
            f.region.as_deref(),
            Some("eu-west-1"),
            "cloud.region ranks first"
        );
        assert_eq!(f.inference_geo.as_deref(), Some("us"));
        assert_eq!(f.speed.as_deref(), Some("fast"));
    });
    let res = [
        kv_str("aws.region", "us-east-1"),
        kv_str("cloud.region", "eu-west-1"),
    ];
    let cfg = FactsConfig::default();
    let r = super::prost::resource_facts(&res, &cfg);
    assert_eq!(r.region.as_deref(), Some("eu-west-1"));
    let span = Span {
        attributes: vec![kv_str("gen_ai.system", "anthropic")],
        ..Default::default()
    };
    let p = PreparedSpan::new(&span, "", "");
    assert_eq!(
        p.facts(&r, &cfg).resource_region.as_deref(),
        Some("eu-west-1")
    );
}

#[test]
fn one_model_one_series_and_an_operation_for_every_call() {
    let oi = vec![
        kv_str("openinference.span.kind", "LLM"),
        kv_str("llm.system", "openai"),
        kv_str("llm.model_name", "o3-mini-2025-01-31"),
        kv_str(
            "llm.invocation_parameters",
            r#"{"model": "o3-mini", "stream": false}"#,
        ),
        kv_str("gen_ai.response.id", "chatcmpl-1"),
    ];
    with(oi, "x", "", |f| {
        assert_eq!(f.request_model.as_deref(), Some("o3-mini"));
        assert_eq!(f.response_model.as_deref(), Some("o3-mini-2025-01-31"));
        assert_eq!(f.operation.as_deref(), Some("chat"));
        assert_eq!(f.response_id.as_deref(), Some("chatcmpl-1"));
    });
    let sdk = vec![
        kv_str("ai.operationId", "ai.streamText.doStream"),
        kv_str("gen_ai.system", "openai.chat"),
        kv_str("ai.response.id", "resp-1"),
    ];
    with(sdk, "x", "", |f| {
        assert_eq!(f.operation.as_deref(), Some("chat"));
        assert_eq!(f.response_id.as_deref(), Some("resp-1"));
    });
    use super::blobs::invocation_model;
    assert_eq!(invocation_model(br#"{"model":"a\"b"}"#), None);
    assert_eq!(invocation_model(br#"{"temperature": 1}"#), None);
}

#[test]
fn a_provider_bill_wins_over_an_estimate() {
    let a = vec![
        kv_str("gen_ai.system", "openai"),
        kv_str("gen_ai.operation.name", "chat"),
        kv_str("gen_ai.usage.cost", "0.2"),
        kv_str("gen_ai.usage.total_cost", "0.3"),
    ];
    with(a, "x", "", |f| {
        let c = f.reported_cost.unwrap();
        assert_eq!((c.usd, c.provider), (0.3, true));
    });
}
