//! Cost of aggregating one GenAI span: the hot path (existing series), with extra
//! dimensions, through the whole engine (decode + recognise + aggregate), and a collect.

use std::borrow::Cow;
use std::hint::black_box;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use opentelemetry_proto::tonic::resource::v1::Resource;
use opentelemetry_proto::tonic::trace::v1::{ResourceSpans, ScopeSpans, Span, TracesData};
use prost::Message;
use tollbooth::config::{DimensionConfig, EngineConfig, MetricsConfig};
use tollbooth::metrics::{Aggregator, CallRecord, Cost};
use tollbooth::otlp::{kv_int, kv_str};
use tollbooth::Engine;

const MODELS: [&str; 8] = [
    "gpt-4o",
    "gpt-4o-mini",
    "o3",
    "claude-sonnet-4",
    "claude-haiku-4",
    "gemini-2.5-pro",
    "gemini-2.5-flash",
    "mistral-large",
];
const SERVICES: [&str; 4] = ["checkout", "search", "support-bot", "batch-summarizer"];

fn calls() -> Vec<CallRecord<'static>> {
    let mut out = Vec::new();
    for (i, m) in MODELS.iter().enumerate() {
        for (j, s) in SERVICES.iter().enumerate() {
            out.push(CallRecord {
                service: s,
                provider: "openai",
                operation: "chat",
                request_model: m,
                response_model: m,
                input_tokens: Some(1000 + 37 * i as u64),
                output_tokens: Some(200 + 11 * j as u64),
                cache_read_tokens: 512,
                cost: Some(Cost {
                    usd: 0.0031,
                    exact_pico_usd: Some(3_100_000_000),
                }),
                duration_s: 0.1 + 0.3 * j as f64,
                ttft_s: Some(0.05),
                error_type: (i == 3).then_some("timeout"),
                ..Default::default()
            });
        }
    }
    out
}

fn record(c: &mut Criterion) {
    let mut g = c.benchmark_group("metrics");
    g.throughput(Throughput::Elements(1));
    let calls = calls();

    let mut agg = Aggregator::new(MetricsConfig::default());
    for call in &calls {
        agg.record(call, 1);
    }
    let mut i = 0;
    g.bench_function("record_existing_series", |b| {
        b.iter(|| {
            agg.record(black_box(&calls[i % calls.len()]), 2);
            i += 1;
        })
    });

    let cfg2 = MetricsConfig {
        dimensions: vec![
            DimensionConfig {
                name: "tenant.id".into(),
                default: None,
            },
            DimensionConfig {
                name: "user.tier".into(),
                default: Some("free".into()),
            },
        ],
        ..Default::default()
    };
    let mut agg = Aggregator::new(cfg2);
    let pairs = [
        [Some("acme".into()), Some("gold".into())],
        [Some("globex".into()), None],
    ];
    let mut i = 0;
    g.bench_function("record_existing_series_2_extra_dims", |b| {
        b.iter(|| {
            let mut call = calls[i % calls.len()].clone();
            call.extra_dims = &pairs[i % 2];
            agg.record(black_box(&call), 2);
            i += 1;
        })
    });

    // Export cost at the default cardinality limit: 2000 series.
    let tenants: Vec<String> = (0..2000 / calls.len() + 1)
        .map(|i| format!("tenant-{i}"))
        .collect();
    let dims: Vec<[Option<Cow<str>>; 1]> = tenants
        .iter()
        .map(|t| [Some(Cow::Borrowed(t.as_str()))])
        .collect();
    let cfg = MetricsConfig {
        dimensions: vec![DimensionConfig {
            name: "tenant.id".into(),
            default: None,
        }],
        ..Default::default()
    };
    let mut agg = Aggregator::new(cfg);
    for (n, d) in dims.iter().enumerate() {
        for call in &calls {
            let mut call = call.clone();
            call.extra_dims = d;
            agg.record(&call, n as u64);
        }
    }
    assert!(agg.series_count() >= 2000);
    g.throughput(Throughput::Elements(agg.series_count() as u64));
    g.bench_function("snapshot_2000_series_under_lock", |b| {
        b.iter(|| black_box(agg.snapshot(black_box(1_000_000))))
    });
    g.bench_function("collect_and_encode_2000_series", |b| {
        b.iter(|| black_box(agg.collect(black_box(1_000_000)).encode_to_vec().len()))
    });
    g.finish();
}

fn engine(c: &mut Criterion) {
    let spans: Vec<Span> = (0..100)
        .map(|i| Span {
            name: "chat".into(),
            start_time_unix_nano: 1_000_000_000,
            end_time_unix_nano: 1_000_000_000 + 300_000_000 + i * 1_000_000,
            attributes: vec![
                kv_str("gen_ai.provider.name", "openai"),
                kv_str("gen_ai.operation.name", "chat"),
                kv_str("gen_ai.request.model", MODELS[i as usize % MODELS.len()]),
                kv_str("gen_ai.response.model", MODELS[i as usize % MODELS.len()]),
                kv_int("gen_ai.usage.input_tokens", 1200),
                kv_int("gen_ai.usage.output_tokens", 300),
                kv_str("http.route", "/v1/chat"),
            ],
            ..Default::default()
        })
        .collect();
    let batch = TracesData {
        resource_spans: vec![ResourceSpans {
            resource: Some(Resource {
                attributes: vec![kv_str("service.name", "checkout")],
                ..Default::default()
            }),
            scope_spans: vec![ScopeSpans {
                spans,
                ..Default::default()
            }],
            schema_url: String::new(),
        }],
    }
    .encode_to_vec();
    let mut g = c.benchmark_group("engine");
    g.throughput(Throughput::Elements(100));
    for (name, json) in [
        ("process_100_spans_no_metrics", r#"{}"#),
        ("process_100_spans_with_metrics", r#"{"metrics": {}}"#),
    ] {
        let engine = Engine::new(EngineConfig::from_json(json.as_bytes()).unwrap(), 0).unwrap();
        g.bench_function(name, |b| {
            b.iter(|| engine.process(black_box(&batch), 1).unwrap())
        });
    }
    g.finish();
}

criterion_group!(benches, record, engine);
criterion_main!(benches);
