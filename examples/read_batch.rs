//! Reads the standard batch N times one way, for instruction counts under callgrind
//! (BENCHMARKS.md): `cargo run --release --example read_batch -- reader|prost|walk [N]`.

use prost::Message;
use tollbooth::otlp::{read_traces, AnyRef};

#[path = "../benches/common/standard_batch.rs"]
mod standard_batch;

fn main() {
    let mode = std::env::args().nth(1).unwrap_or_else(|| "reader".into());
    let n: usize = std::env::args()
        .nth(2)
        .and_then(|s| s.parse().ok())
        .unwrap_or(10);
    let bytes = standard_batch::batch(128).encode_to_vec();
    let mut sink = 0usize;
    for _ in 0..n {
        match mode.as_str() {
            "prost" => {
                let td =
                    opentelemetry_proto::tonic::trace::v1::TracesData::decode(bytes.as_slice())
                        .unwrap();
                sink += td.resource_spans.len();
            }
            "reader" => sink += read_traces(&bytes).is_ok() as usize,
            "walk" => {
                for span in read_traces(&bytes).unwrap().spans() {
                    for kv in span.attributes() {
                        if let AnyRef::Str(s) = kv.value {
                            sink += s.len();
                        }
                    }
                }
            }
            other => panic!("unknown mode {other}"),
        }
    }
    println!("{sink}");
}
