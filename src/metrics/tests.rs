//! Behaviour of the aggregator as a whole: exact sums, overflow, temporality, expiry, order.

use std::collections::BTreeMap;
use std::time::Duration;

use opentelemetry_proto::tonic::common::v1::{any_value, KeyValue};
use opentelemetry_proto::tonic::metrics::v1::{
    metric, number_data_point, AggregationTemporality, HistogramDataPoint, Metric, MetricsData,
};
use prost::Message;

use super::*;
use crate::config::{DimensionConfig, ExponentialConfig, MetricsConfig, Temporality};

const S: u64 = 1_000_000_000;

fn call<'a>(model: &'a str) -> CallRecord<'a> {
    CallRecord {
        service: "svc",
        provider: "openai",
        operation: "chat",
        request_model: model,
        response_model: model,
        input_tokens: Some(100),
        output_tokens: Some(10),
        duration_s: 0.5,
        ..Default::default()
    }
}

fn metric<'m>(md: &'m MetricsData, name: &str) -> Option<&'m Metric> {
    md.resource_metrics.first()?.scope_metrics[0]
        .metrics
        .iter()
        .find(|m| m.name == name)
}

type Labels = BTreeMap<String, String>;

fn labels(attrs: &[KeyValue]) -> Labels {
    attrs
        .iter()
        .map(|kv| {
            let v = match kv.value.as_ref().and_then(|v| v.value.as_ref()) {
                Some(any_value::Value::StringValue(s)) => s.clone(),
                Some(any_value::Value::BoolValue(b)) => b.to_string(),
                other => format!("{other:?}"),
            };
            (kv.key.clone(), v)
        })
        .collect()
}

/// (labels, value, start) of every point of a sum metric.
fn sums(md: &MetricsData, name: &str) -> Vec<(Labels, f64, u64)> {
    let Some(m) = metric(md, name) else {
        return vec![];
    };
    let Some(metric::Data::Sum(s)) = &m.data else {
        panic!("{name} is not a sum")
    };
    assert!(s.is_monotonic);
    s.data_points
        .iter()
        .map(|p| {
            let v = match p.value {
                Some(number_data_point::Value::AsInt(i)) => i as f64,
                Some(number_data_point::Value::AsDouble(d)) => d,
                None => panic!("no value"),
            };
            (labels(&p.attributes), v, p.start_time_unix_nano)
        })
        .collect()
}

fn total(md: &MetricsData, name: &str) -> f64 {
    sums(md, name).iter().map(|p| p.1).sum()
}

fn hist_points<'m>(md: &'m MetricsData, name: &str) -> &'m [HistogramDataPoint] {
    match metric(md, name).and_then(|m| m.data.as_ref()) {
        Some(metric::Data::Histogram(h)) => &h.data_points,
        _ => &[],
    }
}

fn series_gauge(md: &MetricsData) -> i64 {
    let Some(metric::Data::Gauge(g)) = &metric(md, SERIES).unwrap().data else {
        panic!("not a gauge")
    };
    match g.data_points[0].value {
        Some(number_data_point::Value::AsInt(v)) => v,
        _ => panic!(),
    }
}

#[test]
fn cost_and_token_sums_are_exact() {
    let mut agg = Aggregator::new(MetricsConfig::default());
    let mut expected_pico = 0i128;
    for i in 0..1000u64 {
        let mut c = call("gpt-4o");
        // $0.000123 + i * $0.0000001: values an f64 running sum would smear.
        let pico = pico_usd_from_decimal("0.000123").unwrap() + i as i128 * 100_000;
        expected_pico += pico;
        c.cost = Some(Cost {
            usd: pico as f64 / 1e12,
            exact_pico_usd: Some(pico),
        });
        c.input_tokens = Some(1000 + i);
        c.cache_read_tokens = i;
        c.duration_s = 0.001 * i as f64;
        agg.record(&c, 10 * S);
    }
    let md = agg.collect(20 * S);
    assert_eq!(total(&md, COST), pico_to_usd_f64(expected_pico));
    assert_eq!(total(&md, COST), 0.17295);
    let tokens = sums(&md, TOKENS);
    let by_type = |t: &str| {
        tokens
            .iter()
            .find(|p| p.0[TOKEN_TYPE] == t)
            .map(|p| p.1)
            .unwrap_or(0.0)
    };
    assert_eq!(by_type("input"), (1000 * 1000 + 999 * 1000 / 2) as f64);
    assert_eq!(by_type("cache_read"), (999 * 1000 / 2) as f64);
    assert_eq!(by_type("output"), 10_000.0);
    let durations = hist_points(&md, OPERATION_DURATION);
    assert_eq!(durations[0].count, 1000);
    assert_eq!(durations[0].sum, Some(499.5));
    let usage = hist_points(&md, TOKEN_USAGE);
    assert_eq!(usage.len(), 2);
    assert_eq!(labels(&usage[0].attributes)[TOKEN_TYPE], "input");
    assert_eq!(usage[0].sum, Some(by_type("input")));
    assert_eq!(total(&md, REQUESTS), 1000.0);
}

/// Found by fuzzing (collect_metrics): token totals past i64::MAX were exported negative,
/// and past u64::MAX they wrapped. Totals saturate instead and never go down.
#[test]
fn token_totals_saturate_instead_of_going_negative() {
    let mut agg = Aggregator::new(MetricsConfig::default());
    let mut c = call("gpt-4o");
    c.input_tokens = Some(u64::MAX / 2 + 7);
    c.reasoning_tokens = u64::MAX - 1;
    agg.record(&c, S);
    let first = agg.collect(2 * S);
    agg.record(&c, 3 * S);
    let second = agg.collect(4 * S);
    for md in [&first, &second] {
        for (labels, v, _) in sums(md, TOKENS) {
            assert!(v >= 0.0, "{labels:?} exported as {v}");
        }
    }
    let input = |md: &MetricsData| {
        sums(md, TOKENS)
            .into_iter()
            .find(|p| p.0[TOKEN_TYPE] == "input")
            .map(|p| p.1)
    };
    assert_eq!(input(&second), Some(i64::MAX as f64));
    assert!(input(&second) >= input(&first));
}

#[test]
fn unpriced_calls_are_counted_never_zero_dollars() {
    let mut agg = Aggregator::new(MetricsConfig::default());
    let mut c = call("mystery-model");
    c.unpriced = true;
    agg.record(&c, S);
    agg.record(&call("not-priced-at-all"), S);
    let md = agg.collect(2 * S);
    assert!(sums(&md, COST).is_empty(), "no $0 cost point");
    let unpriced = sums(&md, UNPRICED);
    assert_eq!(unpriced.len(), 1);
    assert_eq!(unpriced[0].0[REQUEST_MODEL], "mystery-model");
    assert_eq!(unpriced[0].1, 1.0);
}

#[test]
fn errors_by_type_and_duration_carries_error_type() {
    let mut agg = Aggregator::new(MetricsConfig::default());
    let ok = call("m");
    let mut timeout = call("m");
    timeout.error_type = Some("timeout");
    let mut rate = call("m");
    rate.error_type = Some("429");
    for c in [&ok, &timeout, &timeout, &rate] {
        agg.record(c, S);
    }
    let md = agg.collect(2 * S);
    let errors = sums(&md, ERRORS);
    let got: Vec<(&str, f64)> = errors
        .iter()
        .map(|p| (p.0[ERROR_TYPE].as_str(), p.1))
        .collect();
    assert_eq!(got, vec![("429", 1.0), ("timeout", 2.0)], "by name");
    let d = hist_points(&md, OPERATION_DURATION);
    let types: Vec<Option<String>> = d
        .iter()
        .map(|p| labels(&p.attributes).get(ERROR_TYPE).cloned())
        .collect();
    assert_eq!(
        types,
        vec![None, Some("429".into()), Some("timeout".into())]
    );
    assert_eq!(total(&md, REQUESTS), 4.0);
}

#[test]
fn too_many_error_types_fold_into_other() {
    let mut agg = Aggregator::new(MetricsConfig::default());
    let names: Vec<String> = (0..100).map(|i| format!("e{i}")).collect();
    for n in &names {
        let mut c = call("m");
        c.error_type = Some(n);
        agg.record(&c, S);
    }
    let md = agg.collect(2 * S);
    let errors = sums(&md, ERRORS);
    assert_eq!(errors.len(), aggregator::MAX_ERROR_TYPES + 1);
    let other = errors
        .iter()
        .find(|p| p.0[ERROR_TYPE] == OTHER_ERROR)
        .unwrap();
    assert_eq!(other.1, (100 - aggregator::MAX_ERROR_TYPES) as f64);
}

#[test]
fn overflow_folds_excess_series_and_keeps_totals() {
    let cfg = MetricsConfig {
        aggregation_cardinality_limit: 2,
        ..Default::default()
    };
    let mut agg = Aggregator::new(cfg);
    for m in ["a", "b", "c", "d", "a", "e"] {
        agg.record(&call(m), S);
    }
    assert_eq!(agg.series_count(), 3);
    assert_eq!(agg.overflowed_calls(), 3);
    let md = agg.collect(2 * S);
    let req = sums(&md, REQUESTS);
    assert_eq!(req.len(), 3);
    assert_eq!(req[0].0[REQUEST_MODEL], "a");
    assert_eq!(req[0].1, 2.0);
    assert_eq!(req[1].0[REQUEST_MODEL], "b");
    let overflow = &req[2];
    assert_eq!(
        overflow.0,
        Labels::from([(OVERFLOW.to_string(), "true".to_string())])
    );
    assert_eq!(overflow.1, 3.0);
    assert_eq!(total(&md, REQUESTS), 6.0);
    assert_eq!(series_gauge(&md), 3);
}

#[test]
fn cumulative_keeps_stable_start_and_running_totals() {
    let mut agg = Aggregator::new(MetricsConfig::default());
    agg.record(&call("a"), 5 * S);
    let first = sums(&agg.collect(10 * S), REQUESTS);
    agg.record(&call("a"), 12 * S);
    agg.record(&call("b"), 13 * S);
    let md = agg.collect(20 * S);
    let second = sums(&md, REQUESTS);
    assert_eq!(first[0].1, 1.0);
    assert_eq!(first[0].2, 5 * S);
    assert_eq!(second[0].1, 2.0);
    assert_eq!(second[0].2, 5 * S, "start time is stable");
    assert_eq!(second[1].2, 13 * S);
    // Idle series are still reported, unchanged.
    let third = sums(&agg.collect(30 * S), REQUESTS);
    assert_eq!(third, second);
    let m = metric(&md, REQUESTS).unwrap();
    let Some(metric::Data::Sum(s)) = &m.data else {
        panic!()
    };
    assert_eq!(
        s.aggregation_temporality,
        AggregationTemporality::Cumulative as i32
    );
}

#[test]
fn delta_reports_only_the_interval() {
    let cfg = MetricsConfig {
        aggregation_temporality: Temporality::Delta,
        ..Default::default()
    };
    let mut agg = Aggregator::new(cfg);
    agg.record(&call("a"), 5 * S);
    agg.record(&call("b"), 6 * S);
    let md1 = agg.collect(10 * S);
    assert_eq!(total(&md1, REQUESTS), 2.0);
    agg.record(&call("a"), 12 * S);
    let md2 = agg.collect(20 * S);
    let req = sums(&md2, REQUESTS);
    assert_eq!(req.len(), 1, "b had no calls this interval");
    assert_eq!(req[0].0[REQUEST_MODEL], "a");
    assert_eq!(req[0].1, 1.0);
    assert_eq!(req[0].2, 10 * S, "starts at the previous collect");
    let d = hist_points(&md2, OPERATION_DURATION);
    assert_eq!(d.len(), 1);
    assert_eq!(d[0].count, 1);
    assert_eq!(d[0].start_time_unix_nano, 10 * S);
    let m = metric(&md2, REQUESTS).unwrap();
    let Some(metric::Data::Sum(s)) = &m.data else {
        panic!()
    };
    assert_eq!(
        s.aggregation_temporality,
        AggregationTemporality::Delta as i32
    );
    // Nothing new: no points, only the series gauge.
    let md3 = agg.collect(30 * S);
    assert!(sums(&md3, REQUESTS).is_empty());
    assert_eq!(series_gauge(&md3), 2);
}

#[test]
fn idle_series_expire_and_restart_from_zero() {
    let cfg = MetricsConfig {
        metrics_expiration: Duration::from_secs(10),
        aggregation_cardinality_limit: 1,
        ..Default::default()
    };
    let mut agg = Aggregator::new(cfg);
    agg.record(&call("old"), S);
    agg.record(&call("other"), S); // overflow
    agg.record(&call("new"), 8 * S); // overflow again
    let md = agg.collect(9 * S);
    assert_eq!(series_gauge(&md), 2);
    // At 15 s, "old" (idle 14 s) expires; the overflow series (idle 7 s) stays.
    let md = agg.collect(15 * S);
    assert_eq!(series_gauge(&md), 1);
    assert!(sums(&md, REQUESTS)
        .iter()
        .all(|p| !p.0.contains_key(REQUEST_MODEL)));
    // The freed slot goes to the next new dimension set, starting afresh.
    agg.record(&call("new"), 16 * S);
    let md = agg.collect(17 * S);
    let req = sums(&md, REQUESTS);
    assert_eq!(req[0].0[REQUEST_MODEL], "new");
    assert_eq!((req[0].1, req[0].2), (1.0, 16 * S));
    // Everything idle: nothing at all, and the memory estimate falls back.
    let busy = agg.approx_heap_bytes();
    assert!(agg.collect(100 * S).resource_metrics.is_empty());
    assert_eq!(agg.series_count(), 0);
    assert!(agg.approx_heap_bytes() < busy);
}

#[test]
fn output_order_does_not_depend_on_arrival_order() {
    let models = ["m3", "m1", "m2", "m5", "m4", "m1", "m2"];
    let errors = [None, Some("x"), Some("a"), None, Some("x"), Some("a"), None];
    let run = |rev: bool| {
        let mut agg = Aggregator::new(MetricsConfig::default());
        let mut idx: Vec<usize> = (0..models.len()).collect();
        if rev {
            idx.reverse();
        }
        for i in idx {
            let mut c = call(models[i]);
            c.error_type = errors[i];
            agg.record(&c, S);
        }
        agg
    };
    let (mut a, mut b) = (run(false), run(true));
    let (ma, mb) = (a.collect(2 * S), b.collect(2 * S));
    let req: Vec<String> = sums(&ma, REQUESTS)
        .into_iter()
        .map(|p| p.0[REQUEST_MODEL].clone())
        .collect();
    assert_eq!(req, ["m1", "m2", "m3", "m4", "m5"]);
    // Error ids differ with arrival order; output must not.
    let errs = |md: &MetricsData| -> Vec<(String, String)> {
        sums(md, ERRORS)
            .into_iter()
            .map(|p| (p.0[REQUEST_MODEL].clone(), p.0[ERROR_TYPE].clone()))
            .collect()
    };
    assert_eq!(errs(&ma), errs(&mb));
    assert_eq!(ma.encode_to_vec(), mb.encode_to_vec());
}

#[test]
fn extra_dimensions_with_defaults_and_omission() {
    let cfg = MetricsConfig {
        dimensions: vec![
            DimensionConfig {
                name: "tenant".into(),
                default: None,
            },
            DimensionConfig {
                name: "tier".into(),
                default: Some("free".into()),
            },
        ],
        ..Default::default()
    };
    let mut agg = Aggregator::new(cfg);
    let mut c = call("m");
    let dims = [Some("acme".into()), None];
    c.extra_dims = &dims;
    agg.record(&c, S);
    let mut d = call("m");
    d.extra_dims = &[];
    agg.record(&d, S);
    let md = agg.collect(2 * S);
    let req = sums(&md, REQUESTS);
    assert_eq!(req.len(), 2);
    let keys: Vec<Vec<&str>> = req
        .iter()
        .map(|p| p.0.keys().map(String::as_str).collect())
        .collect();
    assert!(keys.contains(&vec![
        "gen_ai.operation.name",
        "gen_ai.provider.name",
        "gen_ai.request.model",
        "gen_ai.response.model",
        "service.name",
        "tenant",
        "tier"
    ]));
    assert!(req.iter().all(|p| p.0["tier"] == "free"));
    assert!(req.iter().any(|p| !p.0.contains_key("tenant")));
}

#[test]
fn empty_base_dimensions_leave_labels_off() {
    let mut agg = Aggregator::new(MetricsConfig::default());
    let c = CallRecord {
        service: "svc",
        provider: "openai",
        duration_s: 0.1,
        ..Default::default()
    };
    agg.record(&c, S);
    let md = agg.collect(2 * S);
    let req = sums(&md, REQUESTS);
    assert_eq!(
        req[0].0.keys().collect::<Vec<_>>(),
        ["gen_ai.provider.name", "service.name"]
    );
    assert!(
        hist_points(&md, TOKEN_USAGE).is_empty(),
        "no usage reported"
    );
}

#[test]
fn duration_bucket_boundaries_are_upper_inclusive() {
    let mut agg = Aggregator::new(MetricsConfig::default());
    for s in [0.01, 0.010000001, 81.92, 81.93, 0.0] {
        let mut c = call("m");
        c.duration_s = s;
        c.ttft_s = Some(s);
        agg.record(&c, S);
    }
    let md = agg.collect(2 * S);
    for name in [OPERATION_DURATION, TIME_TO_FIRST_CHUNK] {
        let p = &hist_points(&md, name)[0];
        assert_eq!(p.explicit_bounds[0], 0.01);
        assert_eq!(p.bucket_counts[0], 2, "{name}: 0 and 0.01");
        assert_eq!(p.bucket_counts[1], 1);
        assert_eq!(p.bucket_counts[13], 1);
        assert_eq!(p.bucket_counts[14], 1);
    }
}

#[test]
fn exponential_histograms_when_configured() {
    let cfg = MetricsConfig {
        histogram: crate::config::HistogramConfig {
            exponential: Some(ExponentialConfig { max_size: 32 }),
        },
        ..Default::default()
    };
    let mut agg = Aggregator::new(cfg);
    for i in 1..=50 {
        let mut c = call("m");
        c.duration_s = i as f64 * 0.1;
        agg.record(&c, S);
    }
    let md = agg.collect(2 * S);
    let Some(metric::Data::ExponentialHistogram(h)) =
        &metric(&md, OPERATION_DURATION).unwrap().data
    else {
        panic!("not exponential")
    };
    let p = &h.data_points[0];
    assert_eq!(p.count, 50);
    assert!((p.sum.unwrap() - 127.5).abs() < 1e-9);
    let pos = p.positive.as_ref().unwrap();
    assert!(pos.bucket_counts.len() <= 32);
    assert_eq!(pos.bucket_counts.iter().sum::<u64>(), 50);
}

#[test]
fn nothing_recorded_gives_empty_metrics() {
    assert!(Aggregator::new(MetricsConfig::default())
        .collect(2)
        .resource_metrics
        .is_empty());
}

#[test]
fn dimension_values_do_not_run_together() {
    let mut agg = Aggregator::new(MetricsConfig::default());
    let a = CallRecord {
        service: "ab",
        provider: "c",
        ..Default::default()
    };
    let b = CallRecord {
        service: "a",
        provider: "bc",
        ..Default::default()
    };
    let c = CallRecord {
        service: "a",
        provider: "bc",
        operation: "",
        request_model: "x",
        ..Default::default()
    };
    for r in [&a, &b, &c, &a] {
        agg.record(r, S);
    }
    assert_eq!(agg.series_count(), 3);
    let req = sums(&agg.collect(2 * S), REQUESTS);
    assert_eq!(req.iter().map(|p| p.1).sum::<f64>(), 4.0);
}

mod properties {
    use proptest::prelude::*;

    use super::*;

    /// One step: a call (model index, error index, cost in pico-USD or unpriced) or a collect.
    #[derive(Debug, Clone)]
    enum Step {
        Call(usize, Option<usize>, Option<i64>),
        Collect,
    }

    fn step() -> impl Strategy<Value = Step> {
        prop_oneof![
            8 => (0..6usize, proptest::option::of(0..3usize), proptest::option::of(0..5_000_000_000i64))
                .prop_map(|(m, e, c)| Step::Call(m, e, c)),
            1 => Just(Step::Collect),
        ]
    }

    const MODELS: [&str; 6] = ["a", "b", "c", "d", "e", "f"];
    const ERROR_NAMES: [&str; 3] = ["timeout", "429", "500"];

    fn totals(md: &MetricsData) -> (f64, i128, f64, f64) {
        let cost: i128 = sums(md, COST)
            .iter()
            .map(|p| pico_usd_from_decimal(&format!("{:.12}", p.1)).unwrap())
            .sum();
        (
            total(md, REQUESTS),
            cost,
            total(md, ERRORS),
            total(md, UNPRICED),
        )
    }

    proptest! {
        /// Whatever the limit and the collect points: no call is lost to overflow, delta
        /// intervals add up to the cumulative totals, and money stays exact.
        #[test]
        fn totals_survive_overflow_and_temporality(
            limit in 1usize..5,
            steps in proptest::collection::vec(step(), 1..200),
        ) {
            let config = |t| MetricsConfig {
                aggregation_cardinality_limit: limit,
                aggregation_temporality: t,
                ..Default::default()
            };
            let mut cumulative = Aggregator::new(config(Temporality::Cumulative));
            let mut delta = Aggregator::new(config(Temporality::Delta));
            let (mut calls, mut pico, mut errors, mut unpriced) = (0u64, 0i128, 0u64, 0u64);
            let mut delta_sum = (0.0, 0i128, 0.0, 0.0);
            let mut now = S;
            for s in &steps {
                now += S;
                match s {
                    Step::Call(m, e, c) => {
                        let mut r = call(MODELS[*m]);
                        r.error_type = e.map(|e| ERROR_NAMES[e]);
                        match c {
                            Some(p) => {
                                r.cost = Some(Cost { usd: 0.0, exact_pico_usd: Some(*p as i128) });
                                pico += *p as i128;
                            }
                            None => {
                                r.unpriced = true;
                                unpriced += 1;
                            }
                        }
                        calls += 1;
                        errors += e.is_some() as u64;
                        cumulative.record(&r, now);
                        delta.record(&r, now);
                    }
                    Step::Collect => {
                        let d = totals(&delta.collect(now));
                        delta_sum = (delta_sum.0 + d.0, delta_sum.1 + d.1, delta_sum.2 + d.2, delta_sum.3 + d.3);
                    }
                }
            }
            now += S;
            let d = totals(&delta.collect(now));
            delta_sum = (delta_sum.0 + d.0, delta_sum.1 + d.1, delta_sum.2 + d.2, delta_sum.3 + d.3);
            let c = totals(&cumulative.collect(now));
            let expected = (calls as f64, pico, errors as f64, unpriced as f64);
            prop_assert_eq!(c, expected);
            prop_assert_eq!(delta_sum, expected);
            prop_assert!(cumulative.series_count() <= limit + 1);
        }
    }
}

/// Counters never decrease: sums saturate instead of wrapping, and a negative cost adds
/// nothing. (The facts reader keeps such values away; this is the aggregator's own guard.)
#[test]
fn counters_saturate_and_never_decrease() {
    let mut agg = Aggregator::new(MetricsConfig::default());
    let mut huge = call("m");
    huge.input_tokens = Some(u64::MAX);
    huge.cache_read_tokens = u64::MAX;
    huge.cost = Some(Cost {
        usd: 1e30,
        exact_pico_usd: Some(i128::MAX),
    });
    agg.record(&huge, S);
    agg.record(&huge, S);
    let mut refund = call("m");
    refund.cost = Some(Cost {
        usd: -5.0,
        exact_pico_usd: None,
    });
    agg.record(&refund, S);
    let md = agg.collect(2 * S);
    for p in sums(&md, TOKENS) {
        assert!(p.1 >= 0.0, "{p:?}");
    }
    let input: f64 = sums(&md, TOKENS)
        .iter()
        .filter(|p| p.0.get(TOKEN_TYPE).map(String::as_str) == Some("input"))
        .map(|p| p.1)
        .sum();
    assert_eq!(input, i64::MAX as f64);
    let cost = total(&md, COST);
    assert!(cost > 1e20, "saturated, not wrapped: {cost}");
    assert_eq!(total(&md, REQUESTS), 3.0);
}

/// Issue 11: 1,900 unique 10 KB model names made every scrape a gigabyte. Label values are
/// cut to MAX_LABEL_BYTES with a visible marker; names that differ only past the cut share a
/// series; the calls are all still counted; multi-byte characters are never split.
#[test]
fn huge_label_values_are_cut_and_marked() {
    let mut agg = Aggregator::new(MetricsConfig::default());
    let names: Vec<String> = (0..1900)
        .map(|i| format!("{}{i:05}", "é".repeat(5_000)))
        .collect();
    for n in &names {
        let mut c = call(n);
        c.service = n;
        agg.record(&c, S);
    }
    let md = agg.collect(2 * S);
    let points = sums(&md, REQUESTS);
    assert_eq!(
        points.len(),
        1,
        "names equal up to the cut share one series"
    );
    assert_eq!(total(&md, REQUESTS), 1900.0, "every call still counted");
    for (labels, _, _) in &points {
        for (k, v) in labels {
            assert!(
                v.len() <= aggregator::MAX_LABEL_BYTES,
                "{k}: {} bytes",
                v.len()
            );
        }
        let model = &labels["gen_ai.request.model"];
        assert!(model.ends_with(aggregator::TRUNCATED_MARKER), "{model}");
        assert!(model.starts_with("éé"));
    }
    assert!(
        md.encoded_len() < 64 * 1024,
        "the export stays small: {} bytes",
        md.encoded_len()
    );
    // Short values are untouched.
    let mut short = Aggregator::new(MetricsConfig::default());
    short.record(&call("gpt-4o"), S);
    let md = short.collect(2 * S);
    assert_eq!(sums(&md, REQUESTS)[0].0["gen_ai.request.model"], "gpt-4o");
}
