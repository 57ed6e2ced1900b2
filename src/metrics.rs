//! Aggregation of GenAI calls into OTLP metrics, counted before any sampling decision.
//!
//! The Go connector feeds every batch through [`Aggregator::record`] (via the engine) and polls
//! [`Aggregator::collect`] on its export interval; the result is an OTLP `MetricsData` that Go
//! decodes with `pmetric.ProtoUnmarshaler` and hands to a metrics pipeline.

use std::collections::HashMap;

use opentelemetry_proto::tonic::common::v1::{InstrumentationScope, KeyValue};
use opentelemetry_proto::tonic::metrics::v1::{
    metric, number_data_point, AggregationTemporality, Metric, MetricsData, NumberDataPoint,
    ResourceMetrics, ScopeMetrics, Sum,
};
use opentelemetry_proto::tonic::resource::v1::Resource;

use crate::genai::GenAiCall;
use crate::otlp::kv_str;

/// Name of the request counter (Prometheus: `tollbooth_genai_requests_total`).
pub const REQUESTS: &str = "tollbooth.genai.requests";

/// The dimensions one series is keyed by.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
struct SeriesKey {
    service: String,
    provider: String,
    operation: String,
    request_model: String,
    response_model: String,
}

/// Cumulative per-series tallies since the aggregator started.
#[derive(Debug, Default)]
struct Series {
    requests: u64,
}

/// Holds every series; owned by the engine behind a mutex.
pub struct Aggregator {
    start_unix_nano: u64,
    series: HashMap<SeriesKey, Series>,
}

impl Aggregator {
    pub fn new(start_unix_nano: u64) -> Self {
        Aggregator {
            start_unix_nano,
            series: HashMap::new(),
        }
    }

    /// Counts one model call. Aggregate spans (agents, workflows) are not calls.
    pub fn record(&mut self, service: &str, call: &GenAiCall<'_>) {
        let key = SeriesKey {
            service: service.to_string(),
            provider: call.provider_name().to_string(),
            operation: call.operation.unwrap_or("").to_string(),
            request_model: call.request_model.unwrap_or("").to_string(),
            response_model: call.response_model.unwrap_or("").to_string(),
        };
        self.series.entry(key).or_default().requests += 1;
    }

    /// Number of live series.
    pub fn series_count(&self) -> usize {
        self.series.len()
    }

    /// Builds the cumulative metrics as of `now_unix_nano`. Empty when nothing was recorded.
    pub fn collect(&self, now_unix_nano: u64) -> MetricsData {
        if self.series.is_empty() {
            return MetricsData::default();
        }
        let mut points: Vec<NumberDataPoint> = self
            .series
            .iter()
            .map(|(k, s)| NumberDataPoint {
                attributes: series_attributes(k),
                start_time_unix_nano: self.start_unix_nano,
                time_unix_nano: now_unix_nano,
                value: Some(number_data_point::Value::AsInt(s.requests as i64)),
                ..Default::default()
            })
            .collect();
        // Deterministic output order (invariant 6).
        points.sort_by(|a, b| format!("{:?}", a.attributes).cmp(&format!("{:?}", b.attributes)));
        let requests = Metric {
            name: REQUESTS.to_string(),
            description: "GenAI model calls seen, counted before sampling.".to_string(),
            unit: "{request}".to_string(),
            metadata: vec![],
            data: Some(metric::Data::Sum(Sum {
                data_points: points,
                aggregation_temporality: AggregationTemporality::Cumulative as i32,
                is_monotonic: true,
            })),
        };
        MetricsData {
            resource_metrics: vec![ResourceMetrics {
                resource: Some(Resource::default()),
                scope_metrics: vec![ScopeMetrics {
                    scope: Some(InstrumentationScope {
                        name: "tollbooth".to_string(),
                        version: env!("CARGO_PKG_VERSION").to_string(),
                        ..Default::default()
                    }),
                    metrics: vec![requests],
                    schema_url: String::new(),
                }],
                schema_url: String::new(),
            }],
        }
    }
}

fn series_attributes(k: &SeriesKey) -> Vec<KeyValue> {
    let mut attrs = vec![
        kv_str("service.name", &k.service),
        kv_str("gen_ai.provider.name", &k.provider),
    ];
    for (key, v) in [
        ("gen_ai.operation.name", &k.operation),
        ("gen_ai.request.model", &k.request_model),
        ("gen_ai.response.model", &k.response_model),
    ] {
        if !v.is_empty() {
            attrs.push(kv_str(key, v));
        }
    }
    attrs
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::genai::recognize;
    use crate::otlp::kv_str;

    fn points(md: &MetricsData) -> Vec<(Vec<KeyValue>, i64)> {
        let m = &md.resource_metrics[0].scope_metrics[0].metrics[0];
        let Some(metric::Data::Sum(sum)) = &m.data else {
            panic!("not a sum")
        };
        sum.data_points
            .iter()
            .map(|p| match p.value {
                Some(number_data_point::Value::AsInt(v)) => (p.attributes.clone(), v),
                _ => panic!("not an int"),
            })
            .collect()
    }

    #[test]
    fn counts_calls_per_series_cumulatively() {
        let a = [
            kv_str("gen_ai.system", "openai"),
            kv_str("gen_ai.request.model", "gpt-4o"),
        ];
        let b = [
            kv_str("gen_ai.system", "anthropic"),
            kv_str("gen_ai.request.model", "claude"),
        ];
        let mut agg = Aggregator::new(100);
        agg.record("svc", &recognize("chat", &a).unwrap());
        agg.record("svc", &recognize("chat", &a).unwrap());
        agg.record("svc", &recognize("chat", &b).unwrap());
        let md = agg.collect(200);
        let pts = points(&md);
        assert_eq!(pts.len(), 2);
        let total: i64 = pts.iter().map(|p| p.1).sum();
        assert_eq!(total, 3);
        let openai = pts
            .iter()
            .find(|p| p.0.contains(&kv_str("gen_ai.provider.name", "openai")))
            .unwrap();
        assert_eq!(openai.1, 2);
        agg.record("svc", &recognize("chat", &a).unwrap());
        let again = points(&agg.collect(300));
        let openai = again
            .iter()
            .find(|p| p.0.contains(&kv_str("gen_ai.provider.name", "openai")))
            .unwrap();
        assert_eq!(openai.1, 3, "cumulative");
    }

    #[test]
    fn nothing_recorded_gives_empty_metrics() {
        assert!(Aggregator::new(1).collect(2).resource_metrics.is_empty());
    }
}
