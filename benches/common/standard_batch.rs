//! The standard GenAI batch of go-shim/internal/testbatch/testbatch.go, built the same way in
//! Rust so Rust and Go benchmarks read the same content: 8-span agent traces (HTTP root,
//! agent, three chat calls with usage, ~1 KB of prompt and 0.5 KB of completion, two tool
//! calls, one retrieval), one resource and scope.

use opentelemetry_proto::tonic::common::v1::{InstrumentationScope, KeyValue};
use opentelemetry_proto::tonic::resource::v1::Resource;
use opentelemetry_proto::tonic::trace::v1::{ResourceSpans, ScopeSpans, Span, TracesData};
use tollbooth::otlp::{kv_int, kv_str};

const MODELS: [&str; 4] = [
    "gpt-4o",
    "gpt-4o-mini",
    "claude-sonnet-4-5",
    "gemini-2.5-flash",
];

fn text(seed: usize, n: usize) -> String {
    const WORDS: [&str; 18] = [
        "please",
        "summarise",
        "the",
        "customer",
        "ticket",
        "about",
        "billing",
        "refund",
        "order",
        "#48213",
        "shipped",
        "late",
        "and",
        "reply",
        "politely",
        "with",
        "next",
        "steps",
    ];
    let mut b = String::new();
    let mut i = 0;
    while b.len() < n {
        if i % 37 == 0 {
            b.push_str(&format!("contact jane.doe{seed}@example.com "));
        } else {
            b.push_str(WORDS[(seed + i) % WORDS.len()]);
            b.push(' ');
        }
        i += 1;
    }
    b.truncate(n);
    b
}

fn ids(round: u64, trace: usize, span: usize) -> (Vec<u8>, Vec<u8>) {
    let mut t = (0x7b0b_0000u64 + trace as u64 + (round << 32))
        .to_be_bytes()
        .to_vec();
    t.extend_from_slice(&(0x9e37_79b9_7f4a_7c15u64.wrapping_mul(trace as u64 + 1)).to_be_bytes());
    let s = (((trace as u64) << 8) | (span as u64 + 1))
        .to_be_bytes()
        .to_vec();
    (t, s)
}

/// `traces` agent traces in one batch.
#[allow(dead_code)] // not every bench that includes this file uses both builders
pub fn batch(traces: usize) -> TracesData {
    numbered_batch(traces, 0)
}

/// The same batch with trace IDs of its own for each `round`, every span moved round × 200 s
/// later (a batch covers 128 s). A benchmark that sends one batch
/// again and again measures exactly-once accounting's duplicate path (nothing priced, nothing
/// counted), not the work a stream of new calls costs; distinct rounds are new calls.
#[allow(dead_code)]
pub fn numbered_batch(traces: usize, round: u64) -> TracesData {
    const START: u64 = 1_760_000_000_000_000_000;
    let mut spans = Vec::new();
    for t in 0..traces {
        let base = START + round * 200_000_000_000 + t as u64 * 1_000_000_000;
        let mut add = |i: usize,
                       parent: Option<usize>,
                       name: &str,
                       kind: i32,
                       dur_ms: u64,
                       attributes: Vec<KeyValue>| {
            let (tid, sid) = ids(round, t, i);
            spans.push(Span {
                trace_id: tid,
                span_id: sid,
                parent_span_id: parent.map(|p| ids(round, t, p).1).unwrap_or_default(),
                name: name.into(),
                kind,
                start_time_unix_nano: base + i as u64 * 1_000_000,
                end_time_unix_nano: base + i as u64 * 1_000_000 + dur_ms * 1_000_000,
                attributes,
                ..Default::default()
            });
        };
        add(
            0,
            None,
            "POST /v1/support",
            2,
            4200,
            vec![
                kv_str("http.request.method", "POST"),
                kv_int("http.response.status_code", 200),
            ],
        );
        add(
            1,
            Some(0),
            "invoke_agent support",
            1,
            4100,
            vec![
                kv_str("gen_ai.operation.name", "invoke_agent"),
                kv_str("gen_ai.agent.name", "support"),
            ],
        );
        for c in 0..3 {
            let model = MODELS[(t + c) % MODELS.len()];
            add(
                2 + c,
                Some(1),
                &format!("chat {model}"),
                3,
                900,
                vec![
                    kv_str("gen_ai.system", "openai"),
                    kv_str("gen_ai.operation.name", "chat"),
                    kv_str("gen_ai.request.model", model),
                    kv_str("gen_ai.response.model", model),
                    kv_int("gen_ai.usage.input_tokens", 900 + (t % 50) as i64),
                    kv_int("gen_ai.usage.output_tokens", 150 + c as i64),
                    kv_str("gen_ai.response.finish_reasons", "stop"),
                    kv_str("gen_ai.prompt.0.role", "user"),
                    kv_str("gen_ai.prompt.0.content", &text(t * 3 + c, 1024)),
                    kv_str("gen_ai.completion.0.role", "assistant"),
                    kv_str("gen_ai.completion.0.content", &text(t * 7 + c, 512)),
                ],
            );
        }
        for k in 0..2 {
            add(
                5 + k,
                Some(1),
                "execute_tool lookup_order",
                1,
                40,
                vec![
                    kv_str("gen_ai.operation.name", "execute_tool"),
                    kv_str("gen_ai.tool.name", "lookup_order"),
                ],
            );
        }
        add(
            7,
            Some(1),
            "retrieve kb",
            3,
            30,
            vec![
                kv_str("db.system.name", "qdrant"),
                kv_int("db.response.returned_rows", 5),
            ],
        );
    }
    TracesData {
        resource_spans: vec![ResourceSpans {
            resource: Some(Resource {
                attributes: vec![
                    kv_str("service.name", "support-agent"),
                    kv_str("deployment.environment.name", "prod"),
                ],
                ..Default::default()
            }),
            scope_spans: vec![ScopeSpans {
                scope: Some(InstrumentationScope {
                    name: "opentelemetry.instrumentation.openai_v2".into(),
                    version: "2.4b0".into(),
                    ..Default::default()
                }),
                spans,
                schema_url: String::new(),
            }],
            schema_url: String::new(),
        }],
    }
}
