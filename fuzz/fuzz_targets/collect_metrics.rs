//! `tollbooth_engine_collect_metrics` after arbitrary traffic.
//!
//! Input: one byte choosing the configuration, then batches cut at the separator (raw bytes
//! or GenAI batches built from them, as in process_release), with a collect after each.
//!
//! Asserts: the output is OTLP metrics; cumulative sums and histogram counts never go down
//! within a series (a series that expired and came back has a new start time); no value is
//! negative or not finite where it counts something; every model call the engine saw is
//! counted exactly once in `tollbooth.genai.requests` (cardinality overflow folds series but
//! keeps the total): every inference span but the duplicates and the spans without usage
//! that did not fail; engine counters never decrease.
#![no_main]

use std::collections::BTreeMap;

use libfuzzer_sys::fuzz_target;
use opentelemetry_proto::tonic::common::v1::KeyValue;
use opentelemetry_proto::tonic::metrics::v1::{
    metric::Data, number_data_point::Value, MetricsData,
};
use prost::Message;
use tollbooth::ffi::TollboothStatus;
use tollbooth::metrics::REQUESTS;
use tollbooth_fuzz::abi::Engine;
use tollbooth_fuzz::configs;
use tollbooth_fuzz::counters::{get, Monotonic};
use tollbooth_fuzz::input::{pieces, Cursor};
use tollbooth_fuzz::synth;

/// (cumulative?, expiring?, config)
const CONFIGS: &[(bool, bool, &str)] = &[
    (true, false, configs::METRICS),
    (false, true, configs::METRICS_COST_DELTA),
];

type SeriesKey = (String, String, u64);

fn key(name: &str, attrs: &[KeyValue], start: u64) -> SeriesKey {
    let mut a: Vec<String> = attrs.iter().map(|kv| format!("{kv:?}")).collect();
    a.sort();
    (name.to_string(), a.join(","), start)
}

fn number(v: &Option<Value>) -> f64 {
    match v {
        Some(Value::AsInt(i)) => *i as f64,
        Some(Value::AsDouble(d)) => *d,
        None => 0.0,
    }
}

fuzz_target!(|data: &[u8]| {
    let mut c = Cursor::new(data);
    let (cumulative, expiring, config) = CONFIGS[c.below(CONFIGS.len())];
    let engine = Engine::new(config.as_bytes()).expect("the fixed configurations are valid");
    let mut monotonic = Monotonic::default();
    let mut last: BTreeMap<SeriesKey, f64> = BTreeMap::new();
    let mut requests_delta_total = 0.0;
    let mut now = 1_000_000_000u64;
    for (i, piece) in pieces(data.get(1..).unwrap_or(&[])).into_iter().enumerate() {
        let bytes = match piece.split_first() {
            Some((m, rest)) if m & 1 == 1 => {
                synth::batch(&mut Cursor::new(rest), i as u32).encode_to_vec()
            }
            Some((_, rest)) => rest.to_vec(),
            None => Vec::new(),
        };
        now += 700_000_000;
        match engine.process(&bytes, now) {
            Ok(_) | Err((TollboothStatus::DecodeError, _)) => {}
            Err(other) => panic!("process failed with {other:?}"),
        }
        now += 1;
        let out = engine.collect_metrics(now).expect("collect never fails");
        let md = MetricsData::decode(out.as_slice()).expect("metrics decode as OTLP");
        let mut requests_now = 0.0;
        for m in md
            .resource_metrics
            .iter()
            .flat_map(|r| &r.scope_metrics)
            .flat_map(|s| &s.metrics)
        {
            match &m.data {
                Some(Data::Sum(sum)) => {
                    for p in &sum.data_points {
                        let v = number(&p.value);
                        assert!(v.is_finite() && v >= 0.0, "{} = {v}", m.name);
                        if m.name == REQUESTS {
                            requests_now += v;
                        }
                        if cumulative && sum.is_monotonic {
                            let k = key(&m.name, &p.attributes, p.start_time_unix_nano);
                            let before = last.insert(k, v).unwrap_or(0.0);
                            assert!(v >= before, "{} went down: {before} -> {v}", m.name);
                        }
                    }
                }
                Some(Data::Histogram(h)) => {
                    for p in &h.data_points {
                        let total: u64 = p.bucket_counts.iter().sum();
                        assert!(
                            p.bucket_counts.is_empty() || total == p.count,
                            "{}: buckets hold {total}, count says {}",
                            m.name,
                            p.count
                        );
                        if cumulative {
                            let k = key(&m.name, &p.attributes, p.start_time_unix_nano);
                            let before = last.insert(k, p.count as f64).unwrap_or(0.0);
                            assert!(p.count as f64 >= before, "{} count went down", m.name);
                        }
                    }
                }
                _ => {}
            }
        }
        // A model call is a request once: a span reporting a call already counted
        // (exactly-once accounting) and a span without usage that did not fail are not.
        let st = engine.stats();
        let calls = get(&st, &["genai_inference_spans"])
            .checked_sub(get(&st, &["duplicate_calls"]))
            .and_then(|n| n.checked_sub(get(&st, &["uncounted_without_usage"])))
            .expect("duplicates and spans without usage are inference spans")
            as f64;
        if cumulative && !expiring {
            assert_eq!(requests_now, calls, "requests counted vs model calls seen");
        } else if !cumulative {
            requests_delta_total += requests_now;
            assert_eq!(
                requests_delta_total, calls,
                "requests counted vs model calls seen"
            );
        }
        monotonic.check(&engine.stats());
    }
});
