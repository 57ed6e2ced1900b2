//! Measures what hostile model names cost the engine's pricing (issue 11): RSS and the lookup
//! cache's entries and bytes after (a) 100 requests of 15 spans with unique 1 MB model names,
//! (b) 200,000 spans with unique 200-byte model names. `cargo run --release --example
//! pricing_memory`. Linux only (reads /proc/self/status).

use opentelemetry_proto::tonic::common::v1::{any_value, AnyValue, KeyValue};
use opentelemetry_proto::tonic::trace::v1::{ResourceSpans, ScopeSpans, Span, TracesData};
use prost::Message;
use tollbooth::config::EngineConfig;
use tollbooth::Engine;

fn kv(k: &str, v: any_value::Value) -> KeyValue {
    KeyValue {
        key: k.into(),
        value: Some(AnyValue { value: Some(v) }),
    }
}

fn request(models: impl Iterator<Item = String>) -> Vec<u8> {
    let spans = models
        .map(|m| Span {
            name: "chat".into(),
            attributes: vec![
                kv(
                    "gen_ai.provider.name",
                    any_value::Value::StringValue("openai".into()),
                ),
                kv(
                    "gen_ai.operation.name",
                    any_value::Value::StringValue("chat".into()),
                ),
                kv("gen_ai.request.model", any_value::Value::StringValue(m)),
                kv("gen_ai.usage.input_tokens", any_value::Value::IntValue(100)),
                kv("gen_ai.usage.output_tokens", any_value::Value::IntValue(10)),
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

fn rss_mib() -> f64 {
    let s = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let kb: f64 = s
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0.0);
    kb / 1024.0
}

fn report(engine: &Engine, what: &str) {
    let v: serde_json::Value = serde_json::from_slice(&engine.stats_json(0)).unwrap();
    println!(
        "{what}: RSS {:.0} MiB, cache {} entries, {} bytes, unpriced {}",
        rss_mib(),
        v["pricing_cache_entries"],
        v["pricing_cache_bytes"],
        v["cost_unpriced"]
    );
}

fn main() {
    let engine = Engine::new(EngineConfig::from_json(br#"{"cost": {}}"#).unwrap(), 0).unwrap();
    engine
        .process(&request(std::iter::once("gpt-4o".to_string())), 1)
        .unwrap();
    report(&engine, "start");
    let mb = "m".repeat(1 << 20);
    for r in 0..100 {
        let b = request((0..15).map(|i| format!("{mb}-{r}-{i}")));
        engine.process(&b, 1).unwrap();
    }
    report(
        &engine,
        "after 100 requests x 15 spans, unique 1 MB model names",
    );
    let name = "n".repeat(190);
    for r in 0..2_000 {
        let b = request((0..100).map(|i| format!("{name}-{r}-{i}")));
        engine.process(&b, 1).unwrap();
    }
    report(&engine, "after 200,000 spans, unique 200-byte model names");
}
