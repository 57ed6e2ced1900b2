//! Measures what deciding one huge trace costs the sampler in heap beyond the bytes it holds
//! (issue 10): the peak during the release that decides it, against the held size, next to
//! what a prost-decoded copy of the same spans costs (how the sampler read a trace before).
//! Peak resident memory from VmHWM, reset after buffering (Linux: /proc/self/clear_refs).
//! `cargo run --release --example sampling_decide_memory [spans] [attribute bytes] [genai]`.

use opentelemetry_proto::tonic::common::v1::{any_value, AnyValue, KeyValue};
use opentelemetry_proto::tonic::trace::v1::{ResourceSpans, ScopeSpans, Span, TracesData};
use prost::Message;
use tollbooth::heap::allocated_bytes;
use tollbooth::otlp::owned::decode_span_lossy;
use tollbooth::otlp::read_traces;
use tollbooth::sampling::Sampler;

/// A line of /proc/self/status in bytes (`VmRSS`, `VmHWM`).
fn status_bytes(key: &str) -> usize {
    let s = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    s.lines()
        .find_map(|l| l.strip_prefix(key))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<usize>().ok())
        .unwrap_or(0)
        * 1024
}

fn kv(k: &str, v: any_value::Value) -> KeyValue {
    KeyValue {
        key: k.into(),
        value: Some(AnyValue { value: Some(v) }),
    }
}

/// A batch of `n` spans of trace 7, each with an `attr`-byte attribute and a priced call.
fn batch(first: usize, n: usize, attr: usize) -> Vec<u8> {
    let spans = (first..first + n)
        .map(|i| Span {
            trace_id: vec![7; 16],
            span_id: (i as u64 + 1).to_be_bytes().to_vec(),
            parent_span_id: if i == 0 {
                vec![]
            } else {
                vec![0, 0, 0, 0, 0, 0, 0, 1]
            },
            name: "chat gpt-4o".into(),
            start_time_unix_nano: 1_000_000_000 + i as u64,
            end_time_unix_nano: 1_000_500_000 + i as u64,
            attributes: vec![
                kv("payload", any_value::Value::StringValue("x".repeat(attr))),
                kv(
                    "gen_ai.operation.name",
                    any_value::Value::StringValue("chat".into()),
                ),
                kv(
                    "gen_ai.request.model",
                    any_value::Value::StringValue("gpt-4o".into()),
                ),
                kv("gen_ai.usage.input_tokens", any_value::Value::IntValue(100)),
                kv("gen_ai.usage.output_tokens", any_value::Value::IntValue(10)),
                kv(
                    "tollbooth.cost.status",
                    any_value::Value::StringValue("priced".into()),
                ),
                kv("gen_ai.usage.cost", any_value::Value::DoubleValue(0.001)),
            ],
            ..Default::default()
        })
        .collect();
    TracesData {
        resource_spans: vec![ResourceSpans {
            scope_spans: vec![ScopeSpans {
                spans,
                ..Default::default()
            }],
            ..Default::default()
        }],
    }
    .encode_to_vec()
}

fn mib(b: usize) -> f64 {
    b as f64 / (1 << 20) as f64
}

fn main() {
    let args: Vec<usize> = std::env::args()
        .skip(1)
        .filter_map(|a| a.parse().ok())
        .collect();
    let spans = args.first().copied().unwrap_or(100_000);
    let attr = args.get(1).copied().unwrap_or(1_000);
    // Limits out of the way: the trace is decided by the shutdown release, whole.
    // A third argument "genai" adds a GenAI policy, so every span's facts are read too.
    let genai = std::env::args().any(|a| a == "genai");
    let cfg = format!(
        r#"{{"decision_wait":"30s","max_buffered_bytes":8589934592,
        "maximum_trace_size_bytes":8589934592,
        "policies":[{{"name":"s","type":"string_attribute","string_attribute":{{"key":"keep","values":["yes"]}}}}{}]}}"#,
        if genai {
            r#",{"name":"c","type":"genai_cost","genai_cost":{"threshold_usd":0.5}}"#
        } else {
            ""
        }
    );
    let sampler = Sampler::from_json(cfg.as_bytes()).expect("config");
    let per_batch = 1_000;
    let mut decoded_bytes = 0usize;
    let mut first = 0;
    while first < spans {
        let n = per_batch.min(spans - first);
        let bytes = batch(first, n, attr);
        let read = read_traces(&bytes).expect("reads");
        // The old path's copy: every span decoded, as it was at decision time.
        let before = allocated_bytes();
        let copy: Vec<Span> = read
            .spans()
            .map(|s| decode_span_lossy(s.raw()).unwrap_or_default())
            .collect();
        decoded_bytes += allocated_bytes() - before;
        drop(copy);
        sampler.ingest_read(&read, 0);
        first += n;
    }
    let held = allocated_bytes();
    let rss = status_bytes("VmRSS:");
    let _ = std::fs::write("/proc/self/clear_refs", "5");
    let mut out = 0;
    loop {
        let p = sampler.release_bytes(1, true);
        if p.is_empty() {
            break;
        }
        out += p.len();
    }
    let extra = status_bytes("VmHWM:").saturating_sub(rss);
    println!(
        "{{\"spans\":{spans},\"attribute_bytes\":{attr},\"genai_policy\":{genai},\"heap_held_mib\":{:.1},\
         \"rss_before_decision_mib\":{:.1},\"decide_peak_rss_extra_mib\":{:.1},\
         \"decide_peak_extra_ratio\":{:.3},\"decoded_copy_mib\":{:.1},\
         \"decoded_copy_ratio\":{:.3},\"released_mib\":{:.1}}}",
        mib(held),
        mib(rss),
        mib(extra),
        extra as f64 / held as f64,
        mib(decoded_bytes),
        decoded_bytes as f64 / held as f64,
        mib(out),
    );
}
