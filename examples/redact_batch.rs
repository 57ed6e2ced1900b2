//! Redacts the standard batch N times with the default collector config, for instruction
//! counts under callgrind (the redaction figures in BENCHMARKS.md):
//! `cargo run --release --example redact_batch -- redact|read+redact|engine|metrics|fused [N]`.
//! `redact` reads the batch once and times redaction alone; `read+redact` reads it each time.
//! `engine` (price + redact, as the genai processor) and `metrics` (as the genai_metrics
//! connector) and `fused` (price + redact + count in one pass, as the genai processor with a
//! fused genai_metrics connector) process a new batch each round: the same content under new trace IDs, so every
//! call is a new call and is priced and counted (a repeated batch would only be recognised as
//! duplicates). At least 11 batches are built in every run, so that (N=11 − N=1)/10 excludes building.

use prost::Message;
use tollbooth::edits::EditList;
use tollbooth::otlp::read_traces;
use tollbooth::redact::{RedactionCounts, Redactor};

#[path = "../benches/common/standard_batch.rs"]
mod standard_batch;

/// Distinct batches built for the engine modes: at least this many, more when N asks.
const ROUNDS: usize = 11;

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
    if mode == "engine" || mode == "metrics" || mode == "fused" {
        // `metrics` is what the genai_metrics connector runs: aggregation alone, no edits.
        let cfg = if mode == "metrics" {
            r#"{"normalize": {"write_latest_names": false}, "metrics": {}}"#.to_string()
        } else if mode == "fused" {
            format!(
                r#"{{"normalize": {{"write_latest_names": true}}, "cost": {{}}, "redaction": {}, "metrics": {{}}}}"#,
                std::str::from_utf8(DEFAULT_CFG).unwrap()
            )
        } else {
            format!(
                r#"{{"normalize": {{"write_latest_names": true}}, "cost": {{}}, "redaction": {}}}"#,
                std::str::from_utf8(DEFAULT_CFG).unwrap()
            )
        };
        let e = tollbooth::engine::Engine::new(
            tollbooth::config::EngineConfig::from_json(cfg.as_bytes()).unwrap(),
            0,
        )
        .unwrap();
        let rounds: Vec<Vec<u8>> = (0..n.max(ROUNDS))
            .map(|r| standard_batch::numbered_batch(128, r as u64).encode_to_vec())
            .collect();
        for batch in rounds.iter().take(n) {
            sink += e.process(batch, 1).unwrap().len();
        }
        if std::env::var_os("SHOW_STATS").is_some() {
            println!("{}", String::from_utf8_lossy(&e.stats_json(0)));
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
