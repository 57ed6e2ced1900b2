//! Redaction on a realistic GenAI batch: 16 agent traces of 8 spans (agent root, 4 chat
//! calls with ~1 KB prompts and ~0.5 KB completions as OTel >= 1.37 JSON messages, 2 tool
//! calls, 1 HTTP call); every fourth prompt carries an email and a card number.
//!
//! `contrib_equivalent` runs only contrib-style `blocked_values` regexes (what a user moves
//! over from contrib's `redaction`), for the ratio against contrib measured on the Go side.
//! `.../edits` is redaction alone on a batch already read; `.../read_and_edits` includes
//! reading the batch bytes in place; `huge_value/*` is one attribute of 1 MiB and of 4 MiB
//! (scanning must stay linear: the 4 MiB case should take about 4 times as long).

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use opentelemetry_proto::tonic::common::v1::KeyValue;
use opentelemetry_proto::tonic::resource::v1::Resource;
use opentelemetry_proto::tonic::trace::v1::{ResourceSpans, ScopeSpans, Span, TracesData};
use prost::Message;
use tollbooth::edits::EditList;
use tollbooth::otlp::{kv_int, kv_str, read_traces};
use tollbooth::redact::{RedactionConfig, RedactionCounts, Redactor};

const LOREM: &str = "The quarterly report shows revenue growth across all regions, with the \
strongest results in the enterprise segment. Summarise the key drivers, list the risks the \
finance team flagged, and propose three follow-up questions for the leadership meeting. ";

fn prompt(i: usize) -> String {
    let mut user = String::new();
    while user.len() < 800 {
        user.push_str(LOREM);
    }
    if i % 4 == 0 {
        user.push_str(" Contact jane.doe@example.org, card 4111 1111 1111 1111.");
    }
    serde_json::json!([
        {"role": "system", "parts": [{"type": "text", "content": "You are a careful financial analyst. Answer concisely."}]},
        {"role": "user", "parts": [{"type": "text", "content": user}]}
    ])
    .to_string()
}

fn completion() -> String {
    let text = &LOREM.repeat(3)[..450];
    serde_json::json!([{"role": "assistant", "parts": [{"type": "text", "content": text}], "finish_reason": "stop"}])
        .to_string()
}

fn span(name: &str, attrs: Vec<KeyValue>) -> Span {
    Span {
        name: name.into(),
        attributes: attrs,
        ..Default::default()
    }
}

fn batch() -> TracesData {
    let mut spans = Vec::new();
    for t in 0..16 {
        spans.push(span(
            "invoke_agent analyst",
            vec![
                kv_str("gen_ai.operation.name", "invoke_agent"),
                kv_str("gen_ai.agent.name", "analyst"),
            ],
        ));
        for c in 0..4 {
            spans.push(span(
                "chat gpt-4o",
                vec![
                    kv_str("gen_ai.operation.name", "chat"),
                    kv_str("gen_ai.provider.name", "openai"),
                    kv_str("gen_ai.request.model", "gpt-4o"),
                    kv_int("gen_ai.usage.input_tokens", 812),
                    kv_int("gen_ai.usage.output_tokens", 120),
                    kv_str("gen_ai.input.messages", &prompt(t * 4 + c)),
                    kv_str("gen_ai.output.messages", &completion()),
                ],
            ));
        }
        for _ in 0..2 {
            spans.push(span(
                "execute_tool search",
                vec![
                    kv_str("gen_ai.operation.name", "execute_tool"),
                    kv_str("gen_ai.tool.name", "search"),
                    kv_str(
                        "gen_ai.tool.call.arguments",
                        r#"{"query":"quarterly revenue by region","limit":5}"#,
                    ),
                    kv_str(
                        "gen_ai.tool.call.result",
                        r#"{"hits":["emea","apac","amer"]}"#,
                    ),
                ],
            ));
        }
        spans.push(span(
            "POST",
            vec![
                kv_str("http.request.method", "POST"),
                kv_str("url.full", "https://api.openai.com/v1/chat/completions"),
                kv_int("http.response.status_code", 200),
            ],
        ));
    }
    TracesData {
        resource_spans: vec![ResourceSpans {
            resource: Some(Resource {
                attributes: vec![kv_str("service.name", "analyst-agent")],
                ..Default::default()
            }),
            scope_spans: vec![ScopeSpans {
                spans,
                ..Default::default()
            }],
            ..Default::default()
        }],
    }
}

fn redactor(json: &str) -> Redactor {
    Redactor::new(&RedactionConfig::from_json(json.as_bytes()).unwrap()).unwrap()
}

/// The genai processor's redaction block in config/collector.yaml, as JSON.
fn default_config() -> String {
    let yaml: serde_yaml_ng::Value =
        serde_yaml_ng::from_str(include_str!("../config/collector.yaml")).unwrap();
    serde_json::to_string(&yaml["processors"]["genai"]["redaction"]).unwrap()
}

fn bench(c: &mut Criterion) {
    let td = batch();
    let bytes = td.encode_to_vec();
    let read = read_traces(&bytes).unwrap();
    let spans = td.resource_spans[0].scope_spans[0].spans.len() as u64;
    let mut g = c.benchmark_group("redaction_128_spans");
    g.throughput(Throughput::Elements(spans));
    let configs = [
        (
            "contrib_equivalent",
            r#"{"allow_all_keys": true, "blocked_values": ["4[0-9]{12}(?:[0-9]{3})?", "(5[1-5][0-9]{14})", "[a-zA-Z0-9._%+-]+@[a-zA-Z0-9.-]+\\.[a-zA-Z]{2,}"]}"#,
        ),
        (
            "recommended_detectors",
            r#"{"allow_all_keys": true, "detectors": ["secrets", "email", "credit_card", "us_ssn", "iban"]}"#,
        ),
        (
            "all_detectors",
            r#"{"allow_all_keys": true, "detectors": ["all"]}"#,
        ),
        (
            "content_hash",
            r#"{"allow_all_keys": true, "detectors": ["secrets"], "content": {"policy": "hash"}, "hmac_key": "0123456789abcdef0123456789abcdef"}"#,
        ),
    ];
    let default = default_config();
    let with_defaults = [
        ("default_config", default.as_str()),
        (
            "secret_rules_only",
            r#"{"allow_all_keys": true, "secret_rules": {}}"#,
        ),
    ];
    for (name, cfg) in configs.iter().chain(&with_defaults) {
        let r = redactor(cfg);
        g.bench_function(format!("{name}/edits"), |b| {
            b.iter(|| {
                let mut edits = EditList::new();
                let mut counts = RedactionCounts::default();
                r.redact_batch(&read, &mut edits, &mut counts);
                edits.len()
            })
        });
    }
    let r = redactor(configs[1].1);
    g.bench_function("recommended_detectors/read_and_edits", |b| {
        b.iter(|| {
            let read = read_traces(&bytes).unwrap();
            let mut edits = EditList::new();
            r.redact_batch(&read, &mut edits, &mut RedactionCounts::default());
            edits.len()
        })
    });
    g.finish();

    // One huge attribute: prose with an address every ~4 KiB.
    let mut g = c.benchmark_group("redaction_huge_value");
    for mib in [1usize, 4] {
        let mut text = String::new();
        while text.len() < mib << 20 {
            text.push_str(LOREM);
            if text.len() % 4096 < LOREM.len() {
                text.push_str(" mail jane.doe@example.org ");
            }
        }
        let huge = TracesData {
            resource_spans: vec![ResourceSpans {
                scope_spans: vec![ScopeSpans {
                    spans: vec![span("chat", vec![kv_str("gen_ai.prompt.0.content", &text)])],
                    ..Default::default()
                }],
                ..Default::default()
            }],
        }
        .encode_to_vec();
        let read = read_traces(&huge).unwrap();
        g.throughput(Throughput::Bytes(text.len() as u64));
        g.bench_function(format!("{mib}_mib"), |b| {
            b.iter(|| {
                let mut edits = EditList::new();
                r.redact_batch(&read, &mut edits, &mut RedactionCounts::default());
                edits.len()
            })
        });
    }
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
