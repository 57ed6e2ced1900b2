//! Turns the tallies into one OTLP `MetricsData`, in a fixed metric and series order.

use std::sync::Arc;

use opentelemetry_proto::tonic::common::v1::{any_value, AnyValue, InstrumentationScope, KeyValue};
use opentelemetry_proto::tonic::metrics::v1::{
    metric, number_data_point, AggregationTemporality, ExponentialHistogram, Gauge, Histogram,
    Metric, MetricsData, NumberDataPoint, ResourceMetrics, ScopeMetrics, Sum,
};
use opentelemetry_proto::tonic::resource::v1::Resource;

use super::buckets::Shape;
use super::histogram::Hist;
use super::names::*;
use super::record::pico_to_usd_f64;
use super::series::Series;
use crate::config::Temporality;
use crate::otlp::kv_str;

pub struct Input<'a> {
    /// Series to export, already in output order.
    pub series: &'a [&'a Series],
    pub dimension_names: &'a [&'a str],
    pub error_types: &'a [Arc<str>],
    pub temporality: Temporality,
    /// `Some` exports exponential histograms with at most this many buckets.
    pub exponential_max_size: Option<u32>,
    pub series_count: usize,
    pub now_unix_nano: u64,
}

pub fn build(input: &Input<'_>) -> MetricsData {
    let now = input.now_unix_nano;
    let attrs: Vec<Vec<KeyValue>> = input
        .series
        .iter()
        .map(|s| series_attributes(s, input.dimension_names))
        .collect();
    let with = |i: usize, key: &str, value: &str| {
        let mut a = attrs[i].clone();
        a.push(kv_str(key, value));
        a
    };
    let error_name = |id: u16| input.error_types[id as usize].as_ref();

    let mut tokens_h = HistPoints::default();
    let mut duration_h = HistPoints::default();
    let mut ttft_h = HistPoints::default();
    let (mut requests, mut errors, mut cost, mut unpriced, mut tokens) =
        (vec![], vec![], vec![], vec![], vec![]);
    for (i, s) in input.series.iter().enumerate() {
        let t = &s.tallies;
        let start = s.start_unix_nano;
        // Attributes are built only for points that exist.
        let hist = |out: &mut HistPoints, h: &Hist, shape: Shape, a: &dyn Fn() -> Vec<KeyValue>| {
            if h.count() > 0 {
                out.push(input, h, shape, a(), start);
            }
        };
        hist(&mut tokens_h, &t.input_tokens, Shape::Tokens, &|| {
            with(i, TOKEN_TYPE, "input")
        });
        hist(&mut tokens_h, &t.output_tokens, Shape::Tokens, &|| {
            with(i, TOKEN_TYPE, "output")
        });
        // Per-series error entries are in arrival order; export them by name (success first)
        // so the output does not depend on which error came first.
        let mut durations: Vec<_> = t.duration.iter().collect();
        durations.sort_by_key(|(e, _)| e.map(error_name));
        for (err, h) in durations {
            hist(&mut duration_h, h, Shape::Seconds, &|| match err {
                Some(e) => with(i, ERROR_TYPE, error_name(*e)),
                None => attrs[i].clone(),
            });
        }
        hist(&mut ttft_h, &t.ttft, Shape::Seconds, &|| attrs[i].clone());

        // A sum past i64::MAX stays at the maximum: never exported as a negative value.
        let int = |a: Vec<KeyValue>, v: u64| {
            let v = i64::try_from(v).unwrap_or(i64::MAX);
            point(a, start, now, number_data_point::Value::AsInt(v))
        };
        if t.requests > 0 {
            requests.push(int(attrs[i].clone(), t.requests));
        }
        let mut errs: Vec<_> = t.errors.iter().collect();
        errs.sort_by_key(|(e, _)| error_name(*e));
        for (e, n) in errs {
            if *n > 0 {
                errors.push(int(with(i, ERROR_TYPE, error_name(*e)), *n));
            }
        }
        if t.priced > 0 {
            let usd = pico_to_usd_f64(t.cost_pico_usd);
            cost.push(point(
                attrs[i].clone(),
                start,
                now,
                number_data_point::Value::AsDouble(usd),
            ));
        }
        if t.unpriced > 0 {
            unpriced.push(int(attrs[i].clone(), t.unpriced));
        }
        for (k, kind) in TOKEN_TYPES.iter().enumerate() {
            let reported = match k {
                0 => t.input_tokens.count() > 0,
                1 => t.output_tokens.count() > 0,
                _ => t.tokens[k] > 0,
            };
            if reported {
                tokens.push(int(with(i, TOKEN_TYPE, kind), t.tokens[k]));
            }
        }
    }

    let temporality = match input.temporality {
        Temporality::Cumulative => AggregationTemporality::Cumulative,
        Temporality::Delta => AggregationTemporality::Delta,
    } as i32;
    let sum = |points: Vec<NumberDataPoint>| {
        metric::Data::Sum(Sum {
            data_points: points,
            aggregation_temporality: temporality,
            is_monotonic: true,
        })
    };
    let mut metrics = Vec::new();
    let mut add = |name: &str, unit: &str, description: &str, empty: bool, data: metric::Data| {
        if !empty {
            metrics.push(Metric {
                name: name.to_string(),
                description: description.to_string(),
                unit: unit.to_string(),
                metadata: vec![],
                data: Some(data),
            });
        }
    };
    add(
        TOKEN_USAGE,
        UNIT_TOKEN,
        "Tokens per GenAI call, by gen_ai.token.type (input, output).",
        tokens_h.is_empty(),
        tokens_h.into_data(temporality),
    );
    add(
        OPERATION_DURATION,
        UNIT_SECONDS,
        "Duration of GenAI calls.",
        duration_h.is_empty(),
        duration_h.into_data(temporality),
    );
    add(
        TIME_TO_FIRST_CHUNK,
        UNIT_SECONDS,
        "Time to the first chunk of streamed GenAI responses.",
        ttft_h.is_empty(),
        ttft_h.into_data(temporality),
    );
    add(
        REQUESTS,
        UNIT_REQUEST,
        "GenAI model calls, counted before sampling.",
        requests.is_empty(),
        sum(requests),
    );
    add(
        ERRORS,
        UNIT_ERROR,
        "Failed GenAI model calls, by error.type.",
        errors.is_empty(),
        sum(errors),
    );
    add(
        COST,
        UNIT_USD,
        "Cost of priced GenAI calls in US dollars (exact sum of per-call costs).",
        cost.is_empty(),
        sum(cost),
    );
    add(
        UNPRICED,
        UNIT_REQUEST,
        "GenAI calls whose model has no price; never counted as $0.",
        unpriced.is_empty(),
        sum(unpriced),
    );
    add(
        TOKENS,
        UNIT_TOKEN,
        "Exact token totals by gen_ai.token.type; cache_read and cache_write are part of input, reasoning part of output.",
        tokens.is_empty(),
        sum(tokens),
    );
    add(
        SERIES,
        UNIT_SERIES,
        "Series held by the GenAI metrics aggregator, overflow included.",
        false,
        metric::Data::Gauge(Gauge {
            data_points: vec![point(
                vec![],
                0,
                now,
                number_data_point::Value::AsInt(input.series_count as i64),
            )],
        }),
    );
    MetricsData {
        resource_metrics: vec![ResourceMetrics {
            resource: Some(Resource::default()),
            scope_metrics: vec![ScopeMetrics {
                scope: Some(InstrumentationScope {
                    name: "tollbooth".to_string(),
                    version: env!("CARGO_PKG_VERSION").to_string(),
                    ..Default::default()
                }),
                metrics,
                schema_url: String::new(),
            }],
            schema_url: String::new(),
        }],
    }
}

/// Points of one histogram metric, explicit or exponential as configured.
#[derive(Default)]
struct HistPoints {
    explicit: Vec<opentelemetry_proto::tonic::metrics::v1::HistogramDataPoint>,
    exponential: Vec<opentelemetry_proto::tonic::metrics::v1::ExponentialHistogramDataPoint>,
    is_exponential: bool,
}

impl HistPoints {
    fn push(
        &mut self,
        input: &Input<'_>,
        h: &Hist,
        shape: Shape,
        attrs: Vec<KeyValue>,
        start: u64,
    ) {
        let now = input.now_unix_nano;
        match input.exponential_max_size {
            Some(max) => {
                self.is_exponential = true;
                self.exponential
                    .push(h.exponential_point(shape, max, attrs, start, now));
            }
            None => self
                .explicit
                .push(h.explicit_point(shape, attrs, start, now)),
        }
    }

    fn is_empty(&self) -> bool {
        self.explicit.is_empty() && self.exponential.is_empty()
    }

    fn into_data(self, temporality: i32) -> metric::Data {
        if self.is_exponential {
            metric::Data::ExponentialHistogram(ExponentialHistogram {
                data_points: self.exponential,
                aggregation_temporality: temporality,
            })
        } else {
            metric::Data::Histogram(Histogram {
                data_points: self.explicit,
                aggregation_temporality: temporality,
            })
        }
    }
}

fn point(
    attributes: Vec<KeyValue>,
    start: u64,
    now: u64,
    value: number_data_point::Value,
) -> NumberDataPoint {
    NumberDataPoint {
        attributes,
        start_time_unix_nano: start,
        time_unix_nano: now,
        value: Some(value),
        ..Default::default()
    }
}

/// Labels of one series: present dimensions in configured order, or the overflow marker.
fn series_attributes(s: &Series, names: &[&str]) -> Vec<KeyValue> {
    if s.dims.is_empty() {
        return vec![KeyValue {
            key: OVERFLOW.to_string(),
            value: Some(AnyValue {
                value: Some(any_value::Value::BoolValue(true)),
            }),
        }];
    }
    s.dims
        .iter()
        .zip(names)
        .filter_map(|(v, k)| v.as_deref().map(|v| kv_str(k, v)))
        .collect()
}
