//! Tail-sampling throughput (traces decided per CPU-second, single thread: ingest + release)
//! and memory (estimated bytes buffered per span, against the span's OTLP size).

use criterion::{black_box, criterion_group, criterion_main, Criterion, Throughput};
use opentelemetry_proto::tonic::common::v1::{any_value, AnyValue, KeyValue};
use opentelemetry_proto::tonic::resource::v1::Resource;
use opentelemetry_proto::tonic::trace::v1::{ResourceSpans, ScopeSpans, Span, TracesData};
use prost::Message;
use tollbooth::sampling::Sampler;

// Live heap bytes come from the library's counting allocator (src/heap.rs), so the memory
// figure is measured, not just our estimate.

const TRACES: usize = 2_000;
const SPANS_PER_TRACE: usize = 8;
const SPANS_PER_BATCH: usize = 128;

fn kv(k: &str, v: any_value::Value) -> KeyValue {
    KeyValue {
        key: k.into(),
        value: Some(AnyValue { value: Some(v) }),
    }
}

fn s(v: &str) -> any_value::Value {
    any_value::Value::StringValue(v.into())
}

/// An LLM-app-shaped trace: an HTTP root, an agent span, and chat calls with usage and cost.
fn trace_spans(t: usize) -> Vec<Span> {
    let mut id = [0u8; 16];
    id[..8].copy_from_slice(&(t as u64).wrapping_mul(0x9e37_79b9_7f4a_7c15).to_be_bytes());
    id[8..].copy_from_slice(&(t as u64).to_le_bytes());
    (0..SPANS_PER_TRACE)
        .map(|i| {
            let mut attrs = vec![kv("http.route", s("/v1/chat"))];
            if i >= 2 {
                attrs.extend([
                    kv("gen_ai.provider.name", s("openai")),
                    kv("gen_ai.operation.name", s("chat")),
                    kv("gen_ai.request.model", s("gpt-4o-mini")),
                    kv("gen_ai.usage.input_tokens", any_value::Value::IntValue(812)),
                    kv(
                        "gen_ai.usage.output_tokens",
                        any_value::Value::IntValue(230),
                    ),
                    kv(
                        "gen_ai.usage.cost",
                        any_value::Value::DoubleValue(0.000_259_8),
                    ),
                ]);
            }
            Span {
                trace_id: id.to_vec(),
                span_id: ((t * 16 + i) as u64 + 1).to_be_bytes().to_vec(),
                parent_span_id: if i == 0 {
                    vec![]
                } else {
                    ((t * 16) as u64 + 1).to_be_bytes().to_vec()
                },
                name: if i == 0 {
                    "POST /v1/chat".into()
                } else {
                    "chat gpt-4o-mini".into()
                },
                start_time_unix_nano: 1_700_000_000_000_000_000 + i as u64 * 1_000_000,
                end_time_unix_nano: 1_700_000_000_000_000_000 + (i as u64 + 40) * 1_000_000,
                attributes: attrs,
                ..Default::default()
            }
        })
        .collect()
}

/// Spans of all traces interleaved across batches, as a collector receives them.
fn batches() -> Vec<TracesData> {
    let all: Vec<Vec<Span>> = (0..TRACES).map(trace_spans).collect();
    let mut flat = Vec::with_capacity(TRACES * SPANS_PER_TRACE);
    for i in 0..SPANS_PER_TRACE {
        for t in &all {
            flat.push(t[i].clone());
        }
    }
    flat.chunks(SPANS_PER_BATCH)
        .map(|chunk| TracesData {
            resource_spans: vec![ResourceSpans {
                resource: Some(Resource {
                    attributes: vec![
                        kv("service.name", s("chat-api")),
                        kv("host.name", s("pod-1")),
                    ],
                    ..Default::default()
                }),
                scope_spans: vec![ScopeSpans {
                    spans: chunk.to_vec(),
                    ..Default::default()
                }],
                schema_url: String::new(),
            }],
        })
        .collect()
}

const CONFIG: &str = r#"{"decision_wait":"10s","num_traces":100000,"policies":[
  {"name":"no-health","type":"drop","drop":{"drop_sub_policy":[{"name":"h","type":"string_attribute","string_attribute":{"key":"http.route","values":["/health"]}}]}},
  {"name":"errors","type":"status_code","status_code":{"status_codes":["ERROR"]}},
  {"name":"llm-errors","type":"genai_error"},
  {"name":"expensive","type":"genai_cost","genai_cost":{"threshold_usd":0.01}},
  {"name":"slow","type":"latency","latency":{"threshold_ms":5000}},
  {"name":"sample","type":"probabilistic","probabilistic":{"sampling_percentage":10}}]}"#;

fn bench(c: &mut Criterion) {
    let input = batches();
    let wire: usize = input.iter().map(|b| b.encoded_len()).sum();

    // Memory: estimated buffered bytes per span, compared with the OTLP size per span.
    // Measured from before the decoded copy exists: the sampler owns the decoded spans, so
    // their heap is what buffering costs.
    let sampler = Sampler::from_json(CONFIG.as_bytes()).unwrap();
    let before = tollbooth::heap::allocated_bytes();
    let copy = input.clone();
    for b in copy {
        sampler.ingest(b, 0);
    }
    let heap = tollbooth::heap::allocated_bytes() as f64 - before as f64;
    let st = sampler.stats();
    let spans = st.spans_buffered as f64;
    eprintln!(
        "buffered {} traces / {} spans: heap {:.0} B/span measured, {:.0} B/span estimated (gauge), OTLP wire {:.0} B/span",
        st.traces_buffered,
        st.spans_buffered,
        heap / spans,
        st.bytes_buffered as f64 / spans,
        wire as f64 / spans
    );
    drop(sampler);

    // Traces per CPU-second: thread CPU time, so other load on a shared machine does not count.
    let rounds = 20;
    let mut cpu = 0.0;
    for _ in 0..rounds {
        let copy = input.clone();
        let t0 = thread_cpu_secs();
        let s = Sampler::from_json(CONFIG.as_bytes()).unwrap();
        for b in copy {
            s.ingest(b, 0);
        }
        black_box(s.release_bytes(20_000_000_000, false));
        drop(s);
        cpu += thread_cpu_secs() - t0;
    }
    let traces = (rounds * TRACES) as f64;
    eprintln!(
        "ingest+decide+encode: {:.0} traces per CPU-second ({:.0} spans per CPU-second)",
        traces / cpu,
        traces * SPANS_PER_TRACE as f64 / cpu
    );

    let mut g = c.benchmark_group("sampling");
    g.sample_size(20);
    g.throughput(Throughput::Elements(TRACES as u64));
    g.bench_function("ingest+decide traces", |b| {
        b.iter_batched(
            || input.clone(),
            |batches| {
                let s = Sampler::from_json(CONFIG.as_bytes()).unwrap();
                for batch in batches {
                    s.ingest(batch, 0);
                }
                black_box(s.release_bytes(20_000_000_000, false))
            },
            criterion::BatchSize::LargeInput,
        )
    });
    g.bench_function("decode+ingest+decide+encode traces", |b| {
        let encoded: Vec<Vec<u8>> = input.iter().map(|t| t.encode_to_vec()).collect();
        b.iter(|| {
            let s = Sampler::from_json(CONFIG.as_bytes()).unwrap();
            for bytes in &encoded {
                s.ingest(TracesData::decode(bytes.as_slice()).unwrap(), 0);
            }
            black_box(s.release_bytes(20_000_000_000, false))
        })
    });
    g.finish();
}

fn thread_cpu_secs() -> f64 {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: clock_gettime writes into the timespec we own.
    unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut ts) };
    ts.tv_sec as f64 + ts.tv_nsec as f64 / 1e9
}

criterion_group!(benches, bench);
criterion_main!(benches);
