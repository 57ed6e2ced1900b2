//! Spans shaped like real instrumentations emit them (docs/genai-conventions.md), priced end to
//! end through the span facts and `CostStage::enrich` with the default table.

use opentelemetry_proto::tonic::common::v1::KeyValue;
use opentelemetry_proto::tonic::trace::v1::Span;
use tollbooth::cost::{CallSummary, CostConfig, CostStage, CostStatus, ScopeRef};
use tollbooth::edits::{EditList, Target};
use tollbooth::otlp::{kv_int, kv_str};

fn price(
    stage: &CostStage,
    scope: &str,
    version: &str,
    name: &str,
    attrs: Vec<KeyValue>,
) -> CallSummary {
    let span = Span {
        name: name.into(),
        attributes: attrs,
        start_time_unix_nano: 1_790_000_000_000_000_000,
        ..Default::default()
    };
    let book = stage.book().snapshot();
    let mut edits = EditList::new();
    let at = Target::Span {
        rs: 0,
        ss: 0,
        span: 0,
    };
    stage
        .enrich_decoded(
            &book,
            &span,
            ScopeRef {
                name: scope,
                version,
            },
            &[],
            at,
            &mut edits,
        )
        .expect("an inference span")
}

#[test]
fn instrumentations_price_alike() {
    let stage = CostStage::new(CostConfig::default()).unwrap();

    // A: OTel openai-v2, default (1.36) mode. gpt-4o-mini: $0.15 / $0.60 per M.
    let a = price(
        &stage,
        "opentelemetry.instrumentation.openai_v2",
        "2.4b0",
        "chat gpt-4o-mini",
        vec![
            kv_str("gen_ai.operation.name", "chat"),
            kv_str("gen_ai.system", "openai"),
            kv_str("gen_ai.request.model", "gpt-4o-mini"),
            kv_str("gen_ai.response.model", "gpt-4o-mini-2024-07-18"),
            kv_int("gen_ai.usage.input_tokens", 12),
            kv_int("gen_ai.usage.output_tokens", 5),
        ],
    );
    assert_eq!(a.status, CostStatus::Priced);
    assert_eq!(a.cost.unwrap().to_string(), "0.0000048");

    // B: OpenLLMetry v0.46 legacy names, same call.
    let b = price(
        &stage,
        "opentelemetry.instrumentation.openai.v1",
        "0.46.0",
        "openai.chat",
        vec![
            kv_str("gen_ai.system", "openai"),
            kv_str("llm.request.type", "chat"),
            kv_str("gen_ai.request.model", "gpt-4o-mini"),
            kv_str("gen_ai.response.model", "gpt-4o-mini-2024-07-18"),
            kv_int("gen_ai.usage.prompt_tokens", 12),
            kv_int("gen_ai.usage.completion_tokens", 5),
            kv_int("llm.usage.total_tokens", 17),
        ],
    );
    assert_eq!(b.cost, a.cost);

    // C: OpenInference, response model in llm.model_name, no llm.provider (local base_url).
    let c = price(
        &stage,
        "openinference.instrumentation.openai",
        "0.1.66",
        "ChatCompletion",
        vec![
            kv_str("openinference.span.kind", "LLM"),
            kv_str("llm.system", "openai"),
            kv_str("llm.model_name", "gpt-4o-mini-2024-07-18"),
            kv_int("llm.token_count.prompt", 12),
            kv_int("llm.token_count.completion", 5),
            kv_int("llm.token_count.total", 17),
        ],
    );
    assert_eq!(c.cost, a.cost);
}

#[test]
fn anthropic_cache_is_billed_once_whoever_reports_it() {
    let stage = CostStage::new(CostConfig::default()).unwrap();
    // 1000 uncached + 20000 cache read + 3000 cache write, 800 output; Sonnet 4.5:
    // 1000*3 + 20000*0.3 + 3000*3.75 + 800*15 = 32250 per M.
    let want = "0.03225";
    let inclusive = price(
        &stage,
        "opentelemetry.instrumentation.genai.anthropic",
        "1.3b0",
        "chat claude-sonnet-4-5",
        vec![
            kv_str("gen_ai.provider.name", "anthropic"),
            kv_str("gen_ai.operation.name", "chat"),
            kv_str("gen_ai.response.model", "claude-sonnet-4-5-20250929"),
            kv_int("gen_ai.usage.input_tokens", 24000),
            kv_int("gen_ai.usage.cache_read.input_tokens", 20000),
            kv_int("gen_ai.usage.cache_write.input_tokens", 3000),
            kv_int("gen_ai.usage.output_tokens", 800),
        ],
    );
    assert_eq!(inclusive.cost.unwrap().to_string(), want);
    let openlit = price(
        &stage,
        "openlit.otel.tracing",
        "1.45.0",
        "chat claude-sonnet-4-5",
        vec![
            kv_str("gen_ai.provider.name", "anthropic"),
            kv_str("gen_ai.operation.name", "chat"),
            kv_str("gen_ai.sdk.version", "1.45.0"),
            kv_str("gen_ai.response.model", "claude-sonnet-4-5-20250929"),
            kv_int("gen_ai.usage.input_tokens", 1000),
            kv_int("gen_ai.usage.cache_read.input_tokens", 20000),
            kv_int("gen_ai.usage.cache_creation.input_tokens", 3000),
            kv_int("gen_ai.usage.output_tokens", 800),
        ],
    );
    assert_eq!(openlit.cost.unwrap().to_string(), want);
    let old_openllmetry = price(
        &stage,
        "opentelemetry.instrumentation.anthropic",
        "0.30.0",
        "anthropic.chat",
        vec![
            kv_str("gen_ai.system", "Anthropic"),
            kv_str("llm.request.type", "chat"),
            kv_str("gen_ai.response.model", "claude-sonnet-4-5-20250929"),
            kv_int("gen_ai.usage.prompt_tokens", 1000),
            kv_int("gen_ai.usage.cache_read_input_tokens", 20000),
            kv_int("gen_ai.usage.cache_creation_input_tokens", 3000),
            kv_int("gen_ai.usage.completion_tokens", 800),
        ],
    );
    assert_eq!(old_openllmetry.cost.unwrap().to_string(), want);
}

#[test]
fn bedrock_ids_from_every_instrumentation() {
    let stage = CostStage::new(CostConfig::default()).unwrap();
    let one = |scope: &str, model: &str| {
        price(
            &stage,
            scope,
            "",
            "chat",
            vec![
                kv_str("gen_ai.system", "aws.bedrock"),
                kv_str("gen_ai.operation.name", "chat"),
                kv_str("gen_ai.request.model", model),
                kv_int("gen_ai.usage.input_tokens", 1_000_000),
                kv_int("gen_ai.usage.output_tokens", 0),
            ],
        )
    };
    // Regional profile: +10% over the global price.
    let raw = one(
        "opentelemetry.instrumentation.botocore.bedrock-runtime",
        "us.anthropic.claude-sonnet-4-5-20250929-v1:0",
    );
    assert_eq!(raw.cost.unwrap().to_string(), "3.3");
    let global = one("x", "global.anthropic.claude-sonnet-4-5-20250929-v1:0");
    assert_eq!(global.cost.unwrap().to_string(), "3");
    // OpenLLMetry strips the region and vendor.
    let stripped = one(
        "opentelemetry.instrumentation.bedrock",
        "claude-sonnet-4-5-20250929-v1:0",
    );
    assert_eq!(stripped.status, CostStatus::Priced, "{stripped:?}");
}
