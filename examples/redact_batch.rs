//! Redacts the standard batch N times with the default collector config, for instruction
//! counts under callgrind (the redaction figures in BENCHMARKS.md):
//! `cargo run --release --example redact_batch -- redact|read+redact [N]`.
//! `redact` reads the batch once and times redaction alone; `read+redact` reads it each time.

use prost::Message;
use tollbooth::edits::EditList;
use tollbooth::otlp::read_traces;
use tollbooth::redact::{RedactionCounts, Redactor};

#[path = "../benches/common/standard_batch.rs"]
mod standard_batch;

const DEFAULT_CFG: &[u8] = include_bytes!("../tests/fixtures/default_redaction.json");

fn main() {
    let mode = std::env::args().nth(1).unwrap_or_else(|| "redact".into());
    let n: usize = std::env::args()
        .nth(2)
        .and_then(|s| s.parse().ok())
        .unwrap_or(10);
    let bytes = standard_batch::batch(128).encode_to_vec();
    let r = Redactor::from_json(DEFAULT_CFG).unwrap();
    let once = read_traces(&bytes).unwrap();
    let mut sink = 0;
    if mode == "engine" {
        let cfg = format!(
            r#"{{"normalize": {{"write_latest_names": true}}, "cost": {{}}, "redaction": {}}}"#,
            std::str::from_utf8(DEFAULT_CFG).unwrap()
        );
        let e = tollbooth::engine::Engine::new(
            tollbooth::config::EngineConfig::from_json(cfg.as_bytes()).unwrap(),
            0,
        )
        .unwrap();
        for _ in 0..n {
            sink += e.process(&bytes, 1).unwrap().len();
        }
        println!("{sink}");
        return;
    }
    for _ in 0..n {
        let read;
        let t = match mode.as_str() {
            "redact" => &once,
            "read+redact" => {
                read = read_traces(&bytes).unwrap();
                &read
            }
            other => panic!("unknown mode {other}"),
        };
        let mut edits = EditList::new();
        r.redact_batch(t, &mut edits, &mut RedactionCounts::default());
        sink += edits.len();
    }
    println!("{sink}");
}
