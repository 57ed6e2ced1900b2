//! The fused wiring counts exactly what the separate one counts.
//!
//! Separate (today's default): the `genai` processor's engine (cost + redaction) returns edits
//! that Go applies to the batch; the `genai_metrics` connector marshals the edited batch again
//! and its own, metrics-only engine counts it. Fused: one engine with cost, redaction and
//! metrics counts in the processor's pass. The metrics both produce from the same batches must
//! be identical, series for series (labels, counts, sums, histograms; timestamps aside),
//! including when redaction masks a label's source attribute (a dimension, service.name, the
//! model) or drops spans, and when calls are reported twice.

#[path = "../benches/common/standard_batch.rs"]
mod standard_batch;

use opentelemetry_proto::tonic::common::v1::{InstrumentationScope, KeyValue};
use opentelemetry_proto::tonic::metrics::v1::{metric, MetricsData};
use opentelemetry_proto::tonic::resource::v1::Resource;
use opentelemetry_proto::tonic::trace::v1::TracesData;
use opentelemetry_proto::tonic::trace::v1::{status, ResourceSpans, ScopeSpans, Span, Status};
use prost::Message;
use tollbooth::config::EngineConfig;
use tollbooth::edits;
use tollbooth::otlp::{kv_int, kv_str};
use tollbooth::Engine;

/// The connector's metrics block as go-shim/connector/genaimetricsconnector sends it, with
/// two extra dimensions (one read from spans, one from resources).
const METRICS: &str = r#"{
    "dimensions": [{"name": "tenant.id"}, {"name": "deployment.environment", "default": "none"}],
    "aggregation_cardinality_limit": 2000,
    "aggregation_temporality": "cumulative",
    "metrics_flush_interval": 5000000000,
    "metrics_expiration": 3600000000000,
    "histogram": {}
}"#;

/// The `redaction` block of config/collector.yaml, as JSON.
fn default_redaction() -> serde_json::Value {
    let yaml: serde_yaml_ng::Value =
        serde_yaml_ng::from_str(include_str!("../config/collector.yaml")).unwrap();
    serde_json::to_value(&yaml["processors"]["genai"]["redaction"]).unwrap()
}

/// Redaction configurations the wirings are compared under: the default; the default plus
/// drop rules and a blocked value; contrib's allow-list mode that removes usage keys.
fn redactions() -> Vec<(&'static str, serde_json::Value)> {
    let mut drops = default_redaction();
    drops["drop_spans"] = serde_json::json!({
        "name_patterns": ["^healthcheck"],
        "attributes": [{"key": "tenant.id", "value_pattern": "^blocked"}]
    });
    drops["blocked_values"] = serde_json::json!(["internal-[0-9]+"]);
    let allow = serde_json::json!({
        "allow_all_keys": false,
        "allowed_keys": ["gen_ai.system", "gen_ai.operation.name", "gen_ai.request.model",
                         "gen_ai.usage.input_tokens", "tenant.id", "service.name"],
        "detectors": ["email", "openai_key"],
        "summary": "silent"
    });
    vec![
        ("default", default_redaction()),
        ("drops", drops),
        ("allow_list", allow),
    ]
}

fn engine(json: serde_json::Value) -> Engine {
    let cfg = EngineConfig::from_json(json.to_string().as_bytes()).unwrap();
    Engine::new(cfg, 0).unwrap()
}

struct Separate {
    processor: Engine,
    connector: Engine,
}

impl Separate {
    fn new(redaction: &serde_json::Value) -> Separate {
        Separate {
            processor: engine(serde_json::json!({
                "normalize": {"write_latest_names": true},
                "cost": {},
                "redaction": redaction,
            })),
            connector: engine(serde_json::json!({
                "normalize": {"write_latest_names": false},
                "metrics": serde_json::from_str::<serde_json::Value>(METRICS).unwrap(),
            })),
        }
    }

    /// What the collector does: the processor's edits applied to the batch Go holds, the
    /// edited batch marshalled again for the connector.
    fn consume(&self, td: &TracesData, now: u64) -> Vec<u8> {
        let out = self.processor.process(&td.encode_to_vec(), now).unwrap();
        let (_, ops) = edits::decode(&out).unwrap();
        let mut edited = td.clone();
        assert!(edits::apply(&mut edited, &ops));
        self.connector
            .process(&edited.encode_to_vec(), now)
            .unwrap();
        out
    }
}

fn fused(redaction: &serde_json::Value) -> Engine {
    engine(serde_json::json!({
        "normalize": {"write_latest_names": true},
        "cost": {},
        "redaction": redaction,
        "metrics": serde_json::from_str::<serde_json::Value>(METRICS).unwrap(),
    }))
}

/// The metrics as comparable text: timestamps cleared, points sorted by their labels.
fn normalised(bytes: &[u8]) -> Vec<String> {
    let md = MetricsData::decode(bytes).unwrap();
    let mut out = Vec::new();
    for rm in md.resource_metrics {
        for sm in rm.scope_metrics {
            for m in sm.metrics {
                // Each kind's points, timestamps cleared and labels sorted, as text.
                macro_rules! points {
                    ($dps:expr) => {
                        $dps.into_iter()
                            .map(|mut p| {
                                (p.start_time_unix_nano, p.time_unix_nano) = (0, 0);
                                p.attributes.sort_by(|a, b| a.key.cmp(&b.key));
                                format!("{:?}", p)
                            })
                            .collect()
                    };
                }
                let mut points: Vec<String> = match m.data {
                    Some(metric::Data::Sum(s)) => points!(s.data_points),
                    Some(metric::Data::Histogram(h)) => points!(h.data_points),
                    Some(metric::Data::Gauge(g)) => points!(g.data_points),
                    Some(metric::Data::ExponentialHistogram(h)) => points!(h.data_points),
                    other => vec![format!("{other:?}")],
                };
                points.sort();
                for p in points {
                    out.push(format!("{} {}: {p}", m.name, m.unit));
                }
            }
        }
    }
    out
}

const T0: u64 = 1_760_000_000_000_000_000;

#[allow(clippy::too_many_arguments)]
fn call(id: u8, name: &str, start_ms: u64, attrs: Vec<KeyValue>, error: bool) -> Span {
    Span {
        trace_id: vec![id; 16],
        span_id: vec![id; 8],
        name: name.into(),
        kind: 3,
        start_time_unix_nano: T0 + start_ms * 1_000_000,
        end_time_unix_nano: T0 + (start_ms + 800) * 1_000_000,
        attributes: attrs,
        status: error.then(|| Status {
            code: status::StatusCode::Error as i32,
            message: "failed".into(),
        }),
        ..Default::default()
    }
}

fn chat(model: &str, input: i64, output: i64) -> Vec<KeyValue> {
    vec![
        kv_str("gen_ai.system", "openai"),
        kv_str("gen_ai.operation.name", "chat"),
        kv_str("gen_ai.request.model", model),
        kv_int("gen_ai.usage.input_tokens", input),
        kv_int("gen_ai.usage.output_tokens", output),
    ]
}

fn with(mut attrs: Vec<KeyValue>, more: Vec<KeyValue>) -> Vec<KeyValue> {
    attrs.extend(more);
    attrs
}

fn resource(service: &str, env: Option<&str>, spans: Vec<Span>) -> ResourceSpans {
    let mut attributes = vec![kv_str("service.name", service)];
    if let Some(e) = env {
        attributes.push(kv_str("deployment.environment", e));
    }
    ResourceSpans {
        resource: Some(Resource {
            attributes,
            ..Default::default()
        }),
        scope_spans: vec![ScopeSpans {
            scope: Some(InstrumentationScope {
                name: "opentelemetry.instrumentation.openai".into(),
                ..Default::default()
            }),
            spans,
            ..Default::default()
        }],
        ..Default::default()
    }
}

/// Batches with secrets where labels come from, spans drop rules remove, a call reported
/// twice in one batch and again in the next, errors, an unpriced model and spans that only
/// some conventions recognise.
fn hostile_batches() -> Vec<TracesData> {
    let key = "sk-proj-Ab3dE5fG7hJ9kL1mN2pQ4rS6tU8vW0xYz1A2bC3dE4fG5hJ6";
    let first = TracesData {
        resource_spans: vec![
            resource(
                "billing jane.doe@example.com",
                Some("prod"),
                vec![
                    // A secret in a dimension attribute.
                    call(
                        1,
                        "chat gpt-4o",
                        0,
                        with(
                            chat("gpt-4o", 1200, 300),
                            vec![kv_str("tenant.id", "owner bob@example.org")],
                        ),
                        false,
                    ),
                    // A secret in the model name.
                    call(
                        2,
                        "chat",
                        1000,
                        chat(&format!("gpt-4o {key}"), 500, 50),
                        false,
                    ),
                    // A blocked value in the dimension (masked by the "drops" config only).
                    call(
                        3,
                        "chat gpt-4o-mini",
                        2000,
                        with(
                            chat("gpt-4o-mini", 100, 10),
                            vec![kv_str("tenant.id", "internal-42")],
                        ),
                        false,
                    ),
                    // Dropped by a name rule; by attribute value.
                    call(4, "healthcheck chat", 3000, chat("gpt-4o", 10, 1), false),
                    call(
                        5,
                        "chat gpt-4o",
                        4000,
                        with(
                            chat("gpt-4o", 20, 2),
                            vec![kv_str("tenant.id", "blocked-tenant")],
                        ),
                        false,
                    ),
                    // One call reported by two spans.
                    call(6, "chat gpt-4o", 5000, chat("gpt-4o", 777, 77), false),
                    call(7, "chat gpt-4o", 5010, chat("gpt-4o", 777, 77), false),
                    // A failed call with a secret in error.type.
                    call(
                        8,
                        "chat claude",
                        6000,
                        vec![
                            kv_str("gen_ai.provider.name", "anthropic"),
                            kv_str("gen_ai.operation.name", "chat"),
                            kv_str("gen_ai.request.model", "claude-sonnet-4-5"),
                            kv_str("error.type", &format!("AuthError {key}")),
                        ],
                        true,
                    ),
                    // An unpriced model.
                    call(9, "chat", 7000, chat("my-own-model-x", 40, 4), false),
                ],
            ),
            resource(
                "support",
                None,
                vec![
                    // OpenInference spelling, tenant from the span.
                    call(
                        10,
                        "ChatOpenAI",
                        8000,
                        vec![
                            kv_str("openinference.span.kind", "LLM"),
                            kv_str("llm.provider", "openai"),
                            kv_str("llm.model_name", "gpt-4o-mini"),
                            kv_int("llm.token_count.prompt", 321),
                            kv_int("llm.token_count.completion", 12),
                            kv_str("tenant.id", "acme"),
                        ],
                        false,
                    ),
                    // A span name carrying a secret.
                    call(
                        11,
                        &format!("chat {key}"),
                        9000,
                        chat("gpt-4o", 60, 6),
                        false,
                    ),
                ],
            ),
        ],
    };
    // The next batch repeats the two-span call (a duplicate across batches) and a new one.
    let second = TracesData {
        resource_spans: vec![resource(
            "billing jane.doe@example.com",
            Some("prod"),
            vec![
                call(12, "chat gpt-4o", 5005, chat("gpt-4o", 777, 77), false),
                call(
                    13,
                    "chat gpt-4o",
                    20_000,
                    with(
                        chat("gpt-4o", 900, 90),
                        vec![kv_str("tenant.id", "owner bob@example.org")],
                    ),
                    false,
                ),
            ],
        )],
    };
    vec![first, second]
}

fn batches() -> Vec<TracesData> {
    let mut all = hostile_batches();
    for round in 0..3 {
        all.push(standard_batch::numbered_batch(16, round));
    }
    // The same batch again: every call in it is a duplicate.
    all.push(standard_batch::numbered_batch(16, 1));
    all
}

fn run(redaction: &serde_json::Value) -> (Vec<String>, Vec<String>) {
    let separate = Separate::new(redaction);
    let fused = fused(redaction);
    for (i, td) in batches().iter().enumerate() {
        let now = T0 + i as u64 * 1_000_000_000;
        let edits = separate.consume(td, now);
        // The spans leave the processor exactly as in the separate wiring.
        assert_eq!(edits, fused.process(&td.encode_to_vec(), now).unwrap());
    }
    let now = T0 + 3_600_000_000_000;
    (
        normalised(&separate.connector.collect_metrics(now).unwrap()),
        normalised(&fused.collect_metrics(now).unwrap()),
    )
}

#[test]
fn fused_metrics_equal_separate_metrics() {
    for (name, redaction) in redactions() {
        let (separate, fused) = run(&redaction);
        assert!(!separate.is_empty(), "{name}: nothing counted");
        if separate != fused {
            let only_sep: Vec<_> = separate.iter().filter(|s| !fused.contains(s)).collect();
            let only_fused: Vec<_> = fused.iter().filter(|s| !separate.contains(s)).collect();
            let first = |v: Vec<&String>| {
                let n = v.len();
                let mut lines: Vec<&str> = v.into_iter().take(3).map(|s| s.as_str()).collect();
                lines.push("...");
                format!("{n} points:\n{}", lines.join("\n"))
            };
            panic!(
                "{name}: the wirings differ\nonly separate, {}\nonly fused, {}",
                first(only_sep),
                first(only_fused)
            );
        }
    }
}

/// The comparison sees what matters: no label carries the secrets, the dropped spans and
/// duplicates are not counted, and the masked labels are there.
#[test]
fn fused_labels_carry_no_secret() {
    for (name, redaction) in redactions() {
        let (_, fused) = run(&redaction);
        let all = fused.join("\n");
        for secret in [
            "jane.doe@example.com",
            "bob@example.org",
            "sk-proj-Ab3dE5fG7hJ9kL1mN2pQ4rS6",
        ] {
            let leak: Vec<&String> = fused.iter().filter(|p| p.contains(secret)).collect();
            assert!(
                leak.is_empty(),
                "{name}: {secret} in a label: {:?}",
                leak.first()
            );
        }
        if name == "drops" {
            assert!(
                !all.contains("blocked-tenant"),
                "{name}: a dropped span counted"
            );
            assert!(
                !all.contains("internal-42"),
                "{name}: blocked value in a label"
            );
        }
        if name == "default" {
            assert!(all.contains("REDACTED"), "{name}: no masked label");
        }
    }
}
