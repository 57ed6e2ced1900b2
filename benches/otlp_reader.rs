//! The borrowed reader against the prost decode it replaced, on the standard batch
//! (benches/common/standard_batch.rs: 128 agent traces, 1024 spans, ~0.87 MB).
//!
//! - `prost_decode`: an owned `TracesData` (what every stage used to start from).
//! - `reader_index`: `read_traces` alone: the one walk that checks and indexes the batch.
//! - `reader_every_attribute`: check plus a visit of every span's name, status and every
//!   attribute value (what redaction touches).
//! - `reader_span_heads`: check plus every span's scalar fields and attribute keys (what span
//!   facts touch).

use criterion::{black_box, criterion_group, criterion_main, Criterion, Throughput};
use prost::Message;
use tollbooth::otlp::{read_traces, AnyRef};

#[path = "common/standard_batch.rs"]
mod standard_batch;

fn bench(c: &mut Criterion) {
    let bytes = standard_batch::batch(128).encode_to_vec();
    let mut g = c.benchmark_group("otlp_read_1024_spans");
    g.throughput(Throughput::Elements(1024));
    g.bench_function("prost_decode", |b| {
        b.iter(|| {
            opentelemetry_proto::tonic::trace::v1::TracesData::decode(black_box(bytes.as_slice()))
                .unwrap()
        })
    });
    g.bench_function("reader_index", |b| {
        b.iter(|| read_traces(black_box(&bytes)).unwrap())
    });
    g.bench_function("reader_every_attribute", |b| {
        b.iter(|| {
            let mut n = 0usize;
            for span in read_traces(black_box(&bytes)).unwrap().spans() {
                n += span.name().len() + span.status().message.len();
                for kv in span.attributes() {
                    n += kv.key.len();
                    if let AnyRef::Str(s) = kv.value {
                        n += s.len();
                    }
                }
            }
            n
        })
    });
    g.bench_function("reader_span_heads", |b| {
        b.iter(|| {
            let mut n = 0u64;
            for span in read_traces(black_box(&bytes)).unwrap().spans() {
                n += span.end_time_unix_nano() - span.start_time_unix_nano();
                n += span
                    .attributes()
                    .iter()
                    .map(|kv| kv.key.len() as u64)
                    .sum::<u64>();
            }
            n
        })
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
