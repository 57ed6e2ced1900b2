//! Span facts + price per span on a realistic mixed GenAI batch (repeat models, so the
//! lookup cache is warm as in production). Run: `cargo bench --bench cost`.

use criterion::{black_box, criterion_group, criterion_main, Criterion, Throughput};
use opentelemetry_proto::tonic::common::v1::KeyValue;
use opentelemetry_proto::tonic::trace::v1::Span;
use tollbooth::cost::{CostConfig, CostStage, ScopeRef};
use tollbooth::edits::{Disposition, EditList, Target};
use tollbooth::facts::prost::{Attrs, PreparedSpan};
use tollbooth::facts::{FactsConfig, ResourceFacts, ScopeInput, SpanFacts, SpanInput};
use tollbooth::otlp::{kv_int, kv_str, KeyValueRef};
use tollbooth::pricing::{price, PriceContext, Tokens};

fn span(name: &str, attrs: Vec<KeyValue>) -> Span {
    Span {
        name: name.into(),
        attributes: attrs,
        start_time_unix_nano: 1_790_000_000_000_000_000,
        ..Default::default()
    }
}

fn common(v: Vec<KeyValue>) -> Vec<KeyValue> {
    let mut a = vec![
        kv_str("server.address", "api.example.com"),
        kv_int("server.port", 443),
        kv_str(
            "gen_ai.response.id",
            "chatcmpl-ASYMQRl3A3DXL9FWCK9tnGRcKIO7q",
        ),
        kv_str("gen_ai.response.finish_reasons", "stop"),
    ];
    a.extend(v);
    a
}

/// One of each common shape; the batch repeats them.
fn shapes() -> Vec<(&'static str, Span)> {
    vec![
        (
            "opentelemetry.instrumentation.openai_v2",
            span(
                "chat gpt-4o-mini",
                common(vec![
                    kv_str("gen_ai.system", "openai"),
                    kv_str("gen_ai.operation.name", "chat"),
                    kv_str("gen_ai.request.model", "gpt-4o-mini"),
                    kv_str("gen_ai.response.model", "gpt-4o-mini-2024-07-18"),
                    kv_int("gen_ai.usage.input_tokens", 1200),
                    kv_int("gen_ai.usage.output_tokens", 300),
                ]),
            ),
        ),
        (
            "opentelemetry.instrumentation.anthropic",
            span(
                "anthropic.chat",
                common(vec![
                    kv_str("gen_ai.provider.name", "anthropic"),
                    kv_str("gen_ai.operation.name", "chat"),
                    kv_str("gen_ai.request.model", "claude-sonnet-4-5"),
                    kv_str("gen_ai.response.model", "claude-sonnet-4-5-20250929"),
                    kv_int("gen_ai.usage.input_tokens", 25000),
                    kv_int("gen_ai.usage.cache_read.input_tokens", 20000),
                    kv_int("gen_ai.usage.cache_creation.input_tokens", 3000),
                    kv_int("gen_ai.usage.output_tokens", 800),
                    kv_int("gen_ai.usage.total_tokens", 25800),
                ]),
            ),
        ),
        (
            "openinference.instrumentation.openai",
            span(
                "ChatCompletion",
                common(vec![
                    kv_str("openinference.span.kind", "LLM"),
                    kv_str("llm.provider", "openai"),
                    kv_str("llm.system", "openai"),
                    kv_str("llm.model_name", "o3-2025-04-16"),
                    kv_int("llm.token_count.prompt", 5000),
                    kv_int("llm.token_count.completion", 4000),
                    kv_int("llm.token_count.completion_details.reasoning", 3500),
                    kv_int("llm.token_count.total", 9000),
                ]),
            ),
        ),
        (
            "ai",
            span(
                "ai.generateText.doGenerate",
                common(vec![
                    kv_str("ai.operationId", "ai.generateText.doGenerate"),
                    kv_str("ai.model.provider", "amazon-bedrock"),
                    kv_str(
                        "ai.model.id",
                        "us.anthropic.claude-sonnet-4-5-20250929-v1:0",
                    ),
                    kv_int("ai.usage.inputTokens", 4000),
                    kv_int("ai.usage.outputTokens", 200),
                    kv_int("ai.usage.cachedInputTokens", 1000),
                ]),
            ),
        ),
        (
            "opentelemetry.instrumentation.google_genai",
            span(
                "generate_content gemini-2.5-pro",
                common(vec![
                    kv_str("gen_ai.system", "gemini"),
                    kv_str("gen_ai.operation.name", "generate_content"),
                    kv_str("gen_ai.request.model", "gemini-2.5-pro"),
                    kv_int("gen_ai.usage.input_tokens", 250_000),
                    kv_int("gen_ai.usage.output_tokens", 1500),
                ]),
            ),
        ),
        (
            "my.agent",
            span(
                "invoke_agent planner",
                common(vec![
                    kv_str("gen_ai.operation.name", "invoke_agent"),
                    kv_str("gen_ai.agent.name", "planner"),
                    kv_int("gen_ai.usage.input_tokens", 40000),
                ]),
            ),
        ),
        (
            "x",
            span(
                "chat in-house",
                common(vec![
                    kv_str("gen_ai.provider.name", "openai"),
                    kv_str("gen_ai.operation.name", "chat"),
                    kv_str("gen_ai.request.model", "in-house-llm-7b"),
                    kv_int("gen_ai.usage.input_tokens", 100),
                    kv_int("gen_ai.usage.output_tokens", 100),
                ]),
            ),
        ),
        (
            "x",
            span(
                "GET /healthz",
                vec![
                    kv_str("http.request.method", "GET"),
                    kv_int("http.response.status_code", 200),
                ],
            ),
        ),
    ]
}

fn bench(c: &mut Criterion) {
    let stage = CostStage::new(CostConfig::default()).expect("default table loads");
    let batch: Vec<(&str, Span)> = shapes().into_iter().cycle().take(512).collect();
    let book = stage.book().snapshot();
    let cfg = FactsConfig::default();
    let resource = ResourceFacts::default();
    // The batch as the borrowed reader yields it: key/value references into the batch.
    let holders: Vec<Attrs> = batch
        .iter()
        .map(|(_, s)| Attrs::new(&s.attributes))
        .collect();
    let borrowed: Vec<Vec<KeyValueRef>> = holders.iter().map(|h| h.iter().collect()).collect();

    let mut g = c.benchmark_group("cost");
    g.throughput(Throughput::Elements(batch.len() as u64));
    g.bench_function("facts/512 spans", |b| {
        b.iter(|| {
            let mut n = 0u64;
            for ((scope, s), attrs) in batch.iter().zip(&borrowed) {
                let f = SpanFacts::read(
                    SpanInput {
                        name: s.name.as_bytes(),
                        attributes: attrs.iter().copied(),
                        scope: ScopeInput {
                            name: scope.as_bytes(),
                            version: b"0.62.1",
                        },
                        status_code: 0,
                        start_unix_nano: s.start_time_unix_nano,
                        end_unix_nano: s.end_time_unix_nano,
                    },
                    &resource,
                    &cfg,
                );
                n += f.usage().map_or(0, |t| t.sum());
            }
            black_box(n)
        })
    });
    g.bench_function("facts via prost adapter/512 spans", |b| {
        b.iter(|| {
            let mut n = 0u64;
            for (scope, s) in &batch {
                let p = PreparedSpan::new(s, scope, "0.62.1");
                n += p.facts(&resource, &cfg).usage().map_or(0, |t| t.sum());
            }
            black_box(n)
        })
    });
    g.bench_function("facts+price/512 spans", |b| {
        b.iter(|| {
            let mut total = 0i128;
            for (scope, s) in &batch {
                let p = PreparedSpan::new(s, scope, "0.62.1");
                let f = p.facts(&resource, &cfg);
                let (Some(u), Some(m)) = (f.usage(), f.model()) else {
                    continue;
                };
                let host = f.server_address.as_deref().unwrap_or("");
                if let Some(r) = book.lookup(f.provider_name(), m, host, None) {
                    let b = price(
                        &r.entry,
                        Tokens::from(u),
                        1_790_000_000,
                        PriceContext::default(),
                    );
                    total += b.total.0;
                }
            }
            black_box(total)
        })
    });
    g.bench_function("enrich with edits/512 spans", |b| {
        b.iter(|| {
            let mut edits = EditList::new();
            for (i, (scope, s)) in batch.iter().enumerate() {
                let at = Target::Span {
                    rs: 0,
                    ss: 0,
                    span: i as u32,
                };
                let sc = ScopeRef {
                    name: scope,
                    version: "0.62.1",
                };
                black_box(stage.enrich_decoded(&book, s, sc, &[], at, &mut edits));
            }
            black_box(edits.finish(Disposition::Forward))
        })
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
