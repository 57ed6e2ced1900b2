//! The Prometheus names in config/metric-names.txt (which the alert rules and the dashboard
//! use) are the names the collector's Prometheus exporter gives to what the aggregator
//! really exports. The translation below restates the exporter's default rules
//! (`add_metric_suffixes: true`) so a renamed metric or unit fails here, not in production.

use std::collections::BTreeSet;

use opentelemetry_proto::tonic::metrics::v1::metric;
use tollbooth::config::MetricsConfig;
use tollbooth::metrics::{Aggregator, CallRecord, Cost};

/// OTLP name + unit + kind → Prometheus base name, as the exporter's default translation
/// does it: non `[A-Za-z0-9:]` runs split words; a known UCUM unit becomes its word, an
/// unknown one stays as written, a `{annotation}` adds nothing, a unit already present as a
/// word is not repeated; monotonic sums end in `total`; gauges of unit `1` in `ratio`.
fn prometheus_name(name: &str, unit: &str, monotonic_sum: bool, gauge: bool) -> String {
    let mut words: Vec<String> = name
        .split(|c: char| !(c.is_ascii_alphanumeric() || c == ':'))
        .filter(|w| !w.is_empty())
        .map(str::to_string)
        .collect();
    let main_unit = unit.split('/').next().unwrap_or("").trim();
    let suffix = if main_unit.is_empty() || main_unit.contains(['{', '}']) {
        String::new()
    } else {
        match main_unit {
            "s" => "seconds",
            "ms" => "milliseconds",
            "By" => "bytes",
            "1" => "",
            "%" => "percent",
            other => other,
        }
        .to_string()
    };
    if !suffix.is_empty() && !words.contains(&suffix) {
        words.push(suffix);
    }
    if monotonic_sum {
        words.retain(|w| w != "total");
        words.push("total".into());
    }
    if gauge && unit == "1" {
        words.retain(|w| w != "ratio");
        words.push("ratio".into());
    }
    words.join("_")
}

fn names_file() -> BTreeSet<String> {
    let text = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/config/metric-names.txt"
    ))
    .unwrap();
    text.lines()
        .map(|l| l.split('#').next().unwrap().trim())
        .filter(|l| !l.is_empty())
        .map(str::to_string)
        .collect()
}

#[test]
fn translation_matches_known_exporter_outputs() {
    assert_eq!(
        prometheus_name("http.server.request.duration", "s", false, false),
        "http_server_request_duration_seconds"
    );
    assert_eq!(
        prometheus_name("requests.count", "1", true, false),
        "requests_count_total"
    );
    assert_eq!(
        prometheus_name("memory.usage", "By", false, true),
        "memory_usage_bytes"
    );
    assert_eq!(
        prometheus_name("tollbooth.genai.cost", "USD", true, false),
        "tollbooth_genai_cost_USD_total"
    );
}

#[test]
fn every_exported_metric_is_in_the_names_file_and_back() {
    let mut agg = Aggregator::new(MetricsConfig::default());
    let base = CallRecord {
        service: "svc",
        provider: "openai",
        operation: "chat",
        request_model: "gpt-4o",
        response_model: "gpt-4o",
        input_tokens: Some(10),
        output_tokens: Some(5),
        cache_read_tokens: 2,
        cache_write_tokens: 1,
        reasoning_tokens: 1,
        duration_s: 1.0,
        ttft_s: Some(0.2),
        cost: Some(Cost {
            usd: 0.01,
            exact_pico_usd: None,
        }),
        ..Default::default()
    };
    agg.record(&base, 1);
    agg.record(
        &CallRecord {
            request_model: "acme-1",
            cost: None,
            unpriced: true,
            error_type: Some("timeout"),
            ..base.clone()
        },
        1,
    );
    let md = agg.collect(2);
    let mut produced = BTreeSet::new();
    for m in &md.resource_metrics[0].scope_metrics[0].metrics {
        match m.data.as_ref().unwrap() {
            metric::Data::Sum(s) => {
                produced.insert(prometheus_name(&m.name, &m.unit, s.is_monotonic, false));
            }
            metric::Data::Gauge(_) => {
                produced.insert(prometheus_name(&m.name, &m.unit, false, true));
            }
            metric::Data::Histogram(_) => {
                let b = prometheus_name(&m.name, &m.unit, false, false);
                for s in ["_bucket", "_sum", "_count"] {
                    produced.insert(format!("{b}{s}"));
                }
            }
            other => panic!("unexpected {other:?}"),
        }
    }
    let listed = names_file();
    let missing: Vec<_> = produced.difference(&listed).collect();
    assert!(missing.is_empty(), "exported but not listed: {missing:?}");
    // The sampler's names are collector self-telemetry (checked live by the e2e test).
    let ours: BTreeSet<String> = listed
        .into_iter()
        .filter(|n| !n.starts_with("otelcol_processor_genai_tail_sampling_"))
        .collect();
    let stale: Vec<_> = ours.difference(&produced).collect();
    assert!(stale.is_empty(), "listed but never exported: {stale:?}");
}
