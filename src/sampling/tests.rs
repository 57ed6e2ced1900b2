//! Sampler tests: every policy, composite budgets, late spans, the byte budget, contrib's
//! probabilistic hash, determinism and span conservation. Time is injected; nothing sleeps.

use std::sync::Arc;

use opentelemetry_proto::tonic::common::v1::{any_value, AnyValue, ArrayValue, KeyValue};
use opentelemetry_proto::tonic::resource::v1::Resource;
use opentelemetry_proto::tonic::trace::v1::{
    status, ResourceSpans, ScopeSpans, Span, Status, TracesData,
};
use prost::Message;

use super::config::PolicyConfig;
use super::decision::Decision;
use super::policy::Policy;
use super::sampler::Sampler;
use super::stored::{push_span, StoredTrace};
use super::trace::{ResourceHdr, ScopeHdr};
use crate::otlp::{kv_int, kv_str};

const MS: u64 = 1_000_000;
const SEC: u64 = 1_000_000_000;

fn kv_f64(k: &str, v: f64) -> KeyValue {
    KeyValue {
        key: k.into(),
        value: Some(AnyValue {
            value: Some(any_value::Value::DoubleValue(v)),
        }),
    }
}

fn kv_bool(k: &str, v: bool) -> KeyValue {
    KeyValue {
        key: k.into(),
        value: Some(AnyValue {
            value: Some(any_value::Value::BoolValue(v)),
        }),
    }
}

fn kv_strs(k: &str, vs: &[&str]) -> KeyValue {
    KeyValue {
        key: k.into(),
        value: Some(AnyValue {
            value: Some(any_value::Value::ArrayValue(ArrayValue {
                values: vs
                    .iter()
                    .map(|s| AnyValue {
                        value: Some(any_value::Value::StringValue(s.to_string())),
                    })
                    .collect(),
            })),
        }),
    }
}

fn tid(n: u8) -> Vec<u8> {
    vec![n; 16]
}

/// A span of trace `t`; span id `s`; root when `parent` is 0.
fn sp(t: u8, s: u8, parent: u8, attrs: Vec<KeyValue>) -> Span {
    Span {
        trace_id: tid(t),
        span_id: vec![s; 8],
        parent_span_id: if parent == 0 { vec![] } else { vec![parent; 8] },
        name: format!("span-{s}"),
        start_time_unix_nano: 1_000 * MS,
        end_time_unix_nano: 1_010 * MS,
        attributes: attrs,
        ..Default::default()
    }
}

fn batch_with(resource: Vec<KeyValue>, spans: Vec<Span>) -> TracesData {
    TracesData {
        resource_spans: vec![ResourceSpans {
            resource: Some(Resource {
                attributes: resource,
                ..Default::default()
            }),
            scope_spans: vec![ScopeSpans {
                spans,
                ..Default::default()
            }],
            schema_url: String::new(),
        }],
    }
}

fn batch(spans: Vec<Span>) -> TracesData {
    batch_with(vec![kv_str("service.name", "svc")], spans)
}

/// A held trace of `spans` under one resource and no scope, as the store holds one.
fn trace_of(resource: Vec<KeyValue>, spans: Vec<Span>) -> StoredTrace {
    let res = Arc::new(ResourceHdr::new(
        Some(Resource {
            attributes: resource,
            ..Default::default()
        }),
        String::new(),
    ));
    let scope = Arc::new(ScopeHdr::new(None, String::new()));
    held(spans.iter().map(|s| (&res, &scope, s.encode_to_vec())))
}

/// A held trace of encoded spans under their handles, in order.
fn held<'h>(
    spans: impl IntoIterator<Item = (&'h Arc<ResourceHdr>, &'h Arc<ScopeHdr>, Vec<u8>)>,
) -> StoredTrace {
    let mut t = StoredTrace::default();
    for (r, sc, bytes) in spans {
        if t.span_count == 0 {
            let read = crate::otlp::owned::decode_span_lossy(&bytes).unwrap_or_default();
            t.id = super::trace::trace_id_of(&read.trace_id);
        }
        t.bytes += push_span(&mut t.groups, r, sc, &bytes, 0);
        t.span_count += 1;
    }
    t
}

fn policy(json: &str) -> Policy {
    let cfg: PolicyConfig = serde_json::from_str(json).unwrap();
    Policy::build(&cfg).unwrap()
}

fn eval(json: &str, spans: Vec<Span>) -> Decision {
    policy(json).evaluate_alone(&trace_of(vec![], spans), 0)
}

fn eval_res(json: &str, resource: Vec<KeyValue>, spans: Vec<Span>) -> Decision {
    policy(json).evaluate_alone(&trace_of(resource, spans), 0)
}

fn sampler(extra: &str, policies: &str) -> Sampler {
    let json = format!(r#"{{"decision_wait":"1s"{extra},"policies":{policies}}}"#);
    Sampler::from_json(json.as_bytes()).unwrap()
}

fn span_count(td: &TracesData) -> usize {
    td.resource_spans
        .iter()
        .flat_map(|r| &r.scope_spans)
        .map(|s| s.spans.len())
        .sum()
}

fn trace_ids(td: &TracesData) -> Vec<u8> {
    let mut ids: Vec<u8> = td
        .resource_spans
        .iter()
        .flat_map(|r| &r.scope_spans)
        .flat_map(|s| &s.spans)
        .map(|s| s.trace_id[0])
        .collect();
    ids.sort();
    ids.dedup();
    ids
}

use Decision::*;

// ---- contrib policies -------------------------------------------------------------------

#[test]
fn always_sample() {
    assert_eq!(
        eval(
            r#"{"name":"a","type":"always_sample"}"#,
            vec![sp(1, 1, 0, vec![])]
        ),
        Sampled
    );
}

#[test]
fn latency_lower_and_upper_bounds() {
    let mut a = sp(1, 1, 0, vec![]);
    a.start_time_unix_nano = 0;
    a.end_time_unix_nano = 150 * MS;
    let lat = r#"{"name":"l","type":"latency","latency":{"threshold_ms":100}}"#;
    assert_eq!(eval(lat, vec![a.clone()]), Sampled);
    let mut b = a.clone();
    b.end_time_unix_nano = 99 * MS;
    assert_eq!(eval(lat, vec![b.clone()]), NotSampled);
    // Exactly the threshold is not "longer than" it (contrib v0.161).
    b.end_time_unix_nano = 100 * MS;
    assert_eq!(eval(lat, vec![b]), NotSampled);
    let bounded =
        r#"{"name":"l","type":"latency","latency":{"threshold_ms":100,"upper_threshold_ms":120}}"#;
    assert_eq!(eval(bounded, vec![a.clone()]), NotSampled);
    // The trace duration spans children: earliest start to latest end.
    let mut child = sp(1, 2, 1, vec![]);
    // (A zero timestamp reads as "unset" in contrib's walk, so use real ones.)
    child.start_time_unix_nano = 1_040 * MS;
    child.end_time_unix_nano = 1_110 * MS;
    let mut root = child.clone();
    root.start_time_unix_nano = 1_000 * MS;
    root.end_time_unix_nano = 1_050 * MS;
    assert_eq!(eval(bounded, vec![root, child]), Sampled);
}

#[test]
fn numeric_attribute_with_invert() {
    let p = r#"{"name":"n","type":"numeric_attribute","numeric_attribute":{"key":"http.status_code","min_value":500,"max_value":599}}"#;
    assert_eq!(
        eval(p, vec![sp(1, 1, 0, vec![kv_int("http.status_code", 503)])]),
        Sampled
    );
    assert_eq!(
        eval(p, vec![sp(1, 1, 0, vec![kv_int("http.status_code", 200)])]),
        NotSampled
    );
    assert_eq!(
        eval_res(
            p,
            vec![kv_int("http.status_code", 500)],
            vec![sp(1, 1, 0, vec![])]
        ),
        Sampled
    );
    let inv = r#"{"name":"n","type":"numeric_attribute","numeric_attribute":{"key":"http.status_code","min_value":500,"max_value":599,"invert_match":true}}"#;
    assert_eq!(
        eval(
            inv,
            vec![sp(1, 1, 0, vec![kv_int("http.status_code", 503)])]
        ),
        NotSampled
    );
    assert_eq!(
        eval(
            inv,
            vec![sp(1, 1, 0, vec![kv_int("http.status_code", 200)])]
        ),
        Sampled
    );
}

#[test]
fn probabilistic_keeps_the_same_traces_as_contrib() {
    // Expected decisions derived from contrib's algorithm: FNV-1a 64 of salt || trace ID,
    // sampled when <= floor((2^64-1) * p). Hashes computed independently (see below).
    // 50%: threshold 0x7fffffffffffffff.
    let half = r#"{"name":"p","type":"probabilistic","probabilistic":{"sampling_percentage":50}}"#;
    let expect_default = [
        (1u8, true), // 0x3852e520beb1c84d
        (2, true),   // 0x76ae75530f948efd
        (3, true),   // 0x704028ad364d1fcd
        (4, true),   // 0x3c8befb685941c7d
        (5, true),   // 0x52667e6296e20f4d
        (6, false),  // 0xd1a52e1ac36cff3d
        (7, true),   // 0x46a7ebee4d2334cd
        (8, false),  // 0xf8e03de85ed0c03d
    ];
    for (n, keep) in expect_default {
        let d = eval(half, vec![sp(n, 1, 0, vec![])]);
        assert_eq!(d == Sampled, keep, "trace {n}");
    }
    let salted = r#"{"name":"p","type":"probabilistic","probabilistic":{"sampling_percentage":25,"hash_salt":"test-salt"}}"#;
    let expect_salt = [
        (1u8, true),
        (2, false),
        (3, true),
        (4, true),
        (5, false),
        (6, false),
    ];
    for (n, keep) in expect_salt {
        let d = eval(salted, vec![sp(n, 1, 0, vec![])]);
        assert_eq!(d == Sampled, keep, "trace {n}");
    }
    // A W3C example trace ID: hash 0xa54533ba2e4970b5 > 50% threshold.
    let mut w3c = sp(0, 1, 0, vec![]);
    w3c.trace_id = hex("4bf92f3577b34da6a3ce929d0e0e4736");
    assert_eq!(eval(half, vec![w3c.clone()]), NotSampled);
    assert_eq!(
        eval(
            r#"{"name":"p","type":"probabilistic","probabilistic":{"sampling_percentage":100}}"#,
            vec![w3c.clone()]
        ),
        Sampled
    );
    assert_eq!(
        eval(
            r#"{"name":"p","type":"probabilistic","probabilistic":{"sampling_percentage":0}}"#,
            vec![w3c]
        ),
        NotSampled
    );
}

fn hex(s: &str) -> Vec<u8> {
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
        .collect()
}

#[test]
fn probabilistic_rate_is_close_to_the_percentage() {
    let mut p =
        policy(r#"{"name":"p","type":"probabilistic","probabilistic":{"sampling_percentage":33}}"#);
    let mut kept = 0;
    let mut x: u64 = 0x1234_5678;
    for _ in 0..20_000 {
        // xorshift IDs: deterministic and well spread.
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        let mut s = sp(0, 1, 0, vec![]);
        s.trace_id = [x.to_be_bytes(), (!x).to_be_bytes()].concat();
        if p.evaluate_alone(&trace_of(vec![], vec![s]), 0) == Sampled {
            kept += 1;
        }
    }
    let pct = kept as f64 / 200.0;
    assert!((31.5..34.5).contains(&pct), "{pct}");
}

#[test]
fn status_code() {
    let p = r#"{"name":"s","type":"status_code","status_code":{"status_codes":["ERROR"]}}"#;
    let mut e = sp(1, 2, 1, vec![]);
    e.status = Some(Status {
        code: status::StatusCode::Error as i32,
        ..Default::default()
    });
    assert_eq!(eval(p, vec![sp(1, 1, 0, vec![]), e]), Sampled);
    assert_eq!(eval(p, vec![sp(1, 1, 0, vec![])]), NotSampled);
    let unset =
        r#"{"name":"s","type":"status_code","status_code":{"status_codes":["UNSET","OK"]}}"#;
    assert_eq!(eval(unset, vec![sp(1, 1, 0, vec![])]), Sampled);
    let bad: PolicyConfig = serde_json::from_str(
        r#"{"name":"s","type":"status_code","status_code":{"status_codes":["FAIL"]}}"#,
    )
    .unwrap();
    assert!(Policy::build(&bad).unwrap_err().contains("FAIL"));
}

#[test]
fn string_attribute_exact_regex_invert() {
    let exact = r#"{"name":"s","type":"string_attribute","string_attribute":{"key":"route","values":["/checkout","/pay"]}}"#;
    assert_eq!(
        eval(exact, vec![sp(1, 1, 0, vec![kv_str("route", "/pay")])]),
        Sampled
    );
    assert_eq!(
        eval(exact, vec![sp(1, 1, 0, vec![kv_str("route", "/health")])]),
        NotSampled
    );
    assert_eq!(
        eval_res(
            exact,
            vec![kv_str("route", "/checkout")],
            vec![sp(1, 1, 0, vec![])]
        ),
        Sampled
    );
    let re = r#"{"name":"s","type":"string_attribute","string_attribute":{"key":"route","values":["^/api/v[0-9]+/"],"enabled_regex_matching":true,"cache_max_size":10}}"#;
    assert_eq!(
        eval(
            re,
            vec![sp(1, 1, 0, vec![kv_str("route", "/api/v2/users")])]
        ),
        Sampled
    );
    assert_eq!(
        eval(re, vec![sp(1, 1, 0, vec![kv_str("route", "/web")])]),
        NotSampled
    );
    let inv = r#"{"name":"s","type":"string_attribute","string_attribute":{"key":"route","values":["/health"],"invert_match":true}}"#;
    assert_eq!(
        eval(inv, vec![sp(1, 1, 0, vec![kv_str("route", "/health")])]),
        NotSampled
    );
    assert_eq!(
        eval(inv, vec![sp(1, 1, 0, vec![kv_str("route", "/x")])]),
        Sampled
    );
    assert_eq!(eval(inv, vec![sp(1, 1, 0, vec![])]), Sampled);
    let bad: PolicyConfig = serde_json::from_str(r#"{"name":"s","type":"string_attribute","string_attribute":{"key":"k","values":["("],"enabled_regex_matching":true}}"#).unwrap();
    assert!(Policy::build(&bad)
        .unwrap_err()
        .contains("invalid regular expression"));
}

#[test]
fn boolean_attribute() {
    let p = r#"{"name":"b","type":"boolean_attribute","boolean_attribute":{"key":"debug","value":true}}"#;
    assert_eq!(
        eval(p, vec![sp(1, 1, 0, vec![kv_bool("debug", true)])]),
        Sampled
    );
    assert_eq!(
        eval(p, vec![sp(1, 1, 0, vec![kv_bool("debug", false)])]),
        NotSampled
    );
    let inv = r#"{"name":"b","type":"boolean_attribute","boolean_attribute":{"key":"debug","value":true,"invert_match":true}}"#;
    assert_eq!(
        eval(inv, vec![sp(1, 1, 0, vec![kv_bool("debug", true)])]),
        NotSampled
    );
}

#[test]
fn rate_limiting_is_a_token_bucket_on_injected_time() {
    let mut p =
        policy(r#"{"name":"r","type":"rate_limiting","rate_limiting":{"spans_per_second":10}}"#);
    let t15 = trace_of(vec![], (1..=15).map(|s| sp(1, s, 0, vec![])).collect());
    let t5 = trace_of(vec![], (1..=5).map(|s| sp(2, s, 0, vec![])).collect());
    assert_eq!(p.evaluate_alone(&t15, 0), Sampled); // burst 20
    assert_eq!(p.evaluate_alone(&t15, 0), NotSampled); // 5 left
    assert_eq!(p.evaluate_alone(&t5, 0), Sampled);
    assert_eq!(p.evaluate_alone(&t5, 0), NotSampled);
    assert_eq!(p.evaluate_alone(&t15, SEC + SEC / 2), Sampled); // refilled 15
    let t25 = trace_of(vec![], (1..=25).map(|s| sp(3, s, 0, vec![])).collect());
    assert_eq!(p.evaluate_alone(&t25, 100 * SEC), NotSampled); // larger than the burst
}

#[test]
fn bytes_limiting_uses_the_trace_size() {
    let t = trace_of(
        vec![kv_str("service.name", "svc")],
        vec![sp(1, 1, 0, vec![kv_str("k", &"x".repeat(400))])],
    );
    let size = t.otlp_size();
    // The size is the OTLP encoding of the trace as one ResourceSpans.
    let encoded =
        batch(vec![sp(1, 1, 0, vec![kv_str("k", &"x".repeat(400))])]).encoded_len() as u64;
    assert_eq!(size, encoded);
    let mut p = policy(&format!(
        r#"{{"name":"b","type":"bytes_limiting","bytes_limiting":{{"bytes_per_second":{size},"burst_capacity":{size}}}}}"#
    ));
    assert_eq!(p.evaluate_alone(&t, 0), Sampled);
    assert_eq!(p.evaluate_alone(&t, 0), NotSampled);
    assert_eq!(p.evaluate_alone(&t, SEC), Sampled);
}

#[test]
fn span_count_range() {
    let p = r#"{"name":"c","type":"span_count","span_count":{"min_spans":2,"max_spans":3}}"#;
    let spans = |n: u8| (1..=n).map(|s| sp(1, s, 0, vec![])).collect::<Vec<_>>();
    assert_eq!(eval(p, spans(1)), NotSampled);
    assert_eq!(eval(p, spans(2)), Sampled);
    assert_eq!(eval(p, spans(3)), Sampled);
    assert_eq!(eval(p, spans(4)), NotSampled);
    let open = r#"{"name":"c","type":"span_count","span_count":{"min_spans":2}}"#;
    assert_eq!(eval(open, spans(40)), Sampled);
}

#[test]
fn trace_state_and_flags() {
    let p = r#"{"name":"t","type":"trace_state","trace_state":{"key":"vendor","values":["keep"]}}"#;
    let mut s = sp(1, 1, 0, vec![]);
    s.trace_state = "other=1, vendor=keep".into();
    assert_eq!(eval(p, vec![s.clone()]), Sampled);
    s.trace_state = "vendor=drop".into();
    assert_eq!(eval(p, vec![s.clone()]), NotSampled);
    s.flags = 0x301;
    assert_eq!(
        eval(r#"{"name":"f","type":"trace_flags"}"#, vec![s]),
        Sampled
    );
}

#[test]
fn and_not_drop() {
    let and = r#"{"name":"a","type":"and","and":{"and_sub_policy":[
        {"name":"x","type":"string_attribute","string_attribute":{"key":"svc","values":["pay"]}},
        {"name":"y","type":"status_code","status_code":{"status_codes":["UNSET"]}}]}}"#;
    assert_eq!(
        eval(and, vec![sp(1, 1, 0, vec![kv_str("svc", "pay")])]),
        Sampled
    );
    assert_eq!(
        eval(and, vec![sp(1, 1, 0, vec![kv_str("svc", "web")])]),
        NotSampled
    );
    let not = r#"{"name":"n","type":"not","not":{"not_sub_policy":{"name":"x","type":"string_attribute","string_attribute":{"key":"svc","values":["pay"]}}}}"#;
    assert_eq!(
        eval(not, vec![sp(1, 1, 0, vec![kv_str("svc", "pay")])]),
        NotSampled
    );
    assert_eq!(
        eval(not, vec![sp(1, 1, 0, vec![kv_str("svc", "web")])]),
        Sampled
    );
    let drop = r#"{"name":"d","type":"drop","drop":{"drop_sub_policy":[
        {"name":"x","type":"string_attribute","string_attribute":{"key":"route","values":["/health"]}}]}}"#;
    assert_eq!(
        eval(drop, vec![sp(1, 1, 0, vec![kv_str("route", "/health")])]),
        Dropped
    );
    assert_eq!(
        eval(drop, vec![sp(1, 1, 0, vec![kv_str("route", "/x")])]),
        NotSampled
    );
}

#[test]
fn composite_rate_allocation() {
    let json = r#"{"name":"c","type":"composite","composite":{
        "max_total_spans_per_second":100,
        "policy_order":["errors","rest"],
        "composite_sub_policy":[
          {"name":"errors","type":"string_attribute","string_attribute":{"key":"err","values":["yes"]}},
          {"name":"rest","type":"always_sample"}],
        "rate_allocation":[{"policy":"errors","percent":60},{"policy":"rest","percent":20}]}}"#;
    let mut c = policy(json);
    let err = |t: u8, n: u8| {
        trace_of(
            vec![],
            (1..=n)
                .map(|s| sp(t, s, 0, vec![kv_str("err", "yes")]))
                .collect(),
        )
    };
    let other = |t: u8, n: u8| trace_of(vec![], (1..=n).map(|s| sp(t, s, 0, vec![])).collect());
    assert_eq!(c.evaluate_alone(&err(1, 40), 0), Sampled); // errors: 40/60
    assert_eq!(c.evaluate_alone(&err(2, 30), 0), NotSampled); // 70 > 60: refused, budget kept
    assert_eq!(c.evaluate_alone(&err(3, 20), 0), Sampled); // 60/60
    assert_eq!(c.evaluate_alone(&other(4, 15), 0), Sampled); // rest: 15/20
    assert_eq!(c.evaluate_alone(&other(5, 10), 0), NotSampled); // 25 > 20
                                                                // A new second resets every budget.
    assert_eq!(c.evaluate_alone(&err(6, 60), SEC), Sampled);
    assert_eq!(c.evaluate_alone(&other(7, 20), SEC), Sampled);
    // Unknown names in policy_order / rate_allocation fail at start.
    let bad: PolicyConfig =
        serde_json::from_str(&json.replace(r#""policy":"rest""#, r#""policy":"nope""#)).unwrap();
    assert!(Policy::build(&bad).unwrap_err().contains("nope"));
}

#[test]
fn composite_without_allocation_gets_nothing_and_zero_percent_gets_an_equal_share() {
    let json = r#"{"name":"c","type":"composite","composite":{
        "max_total_spans_per_second":100,
        "composite_sub_policy":[
          {"name":"a","type":"string_attribute","string_attribute":{"key":"k","values":["a"]}},
          {"name":"b","type":"always_sample"}],
        "rate_allocation":[{"policy":"b","percent":0}]}}"#;
    let mut c = policy(json);
    let a = trace_of(vec![], vec![sp(1, 1, 0, vec![kv_str("k", "a")])]);
    assert_eq!(c.evaluate_alone(&a, 0), NotSampled); // "a" has no allocation: 0 spans/s
    let b = trace_of(vec![], (1..=50).map(|s| sp(2, s, 0, vec![])).collect());
    assert_eq!(c.evaluate_alone(&b, 0), Sampled); // equal share: 50
    assert_eq!(
        c.evaluate_alone(&trace_of(vec![], vec![sp(3, 1, 0, vec![])]), 0),
        NotSampled
    );
}

#[test]
fn unsupported_and_unknown_types_fail_with_a_fix() {
    let e = Sampler::from_json(br#"{"policies":[{"name":"o","type":"ottl_condition","ottl_condition":{"span":["true"]}}]}"#)
        .err()
        .unwrap();
    assert!(
        e.contains("ottl_condition") && e.contains("string_attribute"),
        "{e}"
    );
    let e = Sampler::from_json(br#"{"policies":[{"name":"o","type":"magic"}]}"#)
        .err()
        .unwrap();
    assert!(e.contains("magic") && e.contains("supported"), "{e}");
    let e = Sampler::from_json(br#"{"policies":[{"name":"o","type":"latency"}]}"#)
        .err()
        .unwrap();
    assert!(e.contains("latency"), "{e}");
}

#[test]
fn a_contrib_policy_list_parses_unchanged() {
    // The README example of contrib's tail_sampling, as the Go side sends it.
    let json = r#"{
      "decision_wait": "10s", "num_traces": 100, "expected_new_traces_per_sec": 10,
      "decision_cache": {"sampled_cache_size": 100000, "non_sampled_cache_size": 100000},
      "sample_on_first_match": false, "drop_pending_traces_on_shutdown": false,
      "decision_wait_after_root_received": "2s", "block_on_overflow": false, "num_shards": 1,
      "maximum_trace_size_bytes": 0, "sampling_strategy": "trace-complete",
      "policies": [
        {"name": "test-policy-1", "type": "always_sample"},
        {"name": "test-policy-2", "type": "latency", "latency": {"threshold_ms": 5000, "upper_threshold_ms": 10000}},
        {"name": "test-policy-3", "type": "numeric_attribute", "numeric_attribute": {"key": "key1", "min_value": 50, "max_value": 100}},
        {"name": "test-policy-4", "type": "probabilistic", "probabilistic": {"sampling_percentage": 10}},
        {"name": "test-policy-5", "type": "status_code", "status_code": {"status_codes": ["ERROR", "UNSET"]}},
        {"name": "test-policy-6", "type": "string_attribute", "string_attribute": {"key": "key2", "values": ["value1", "value2"]}},
        {"name": "test-policy-7", "type": "string_attribute", "string_attribute": {"key": "key2", "values": ["value1", "val*"], "enabled_regex_matching": true, "cache_max_size": 10}},
        {"name": "test-policy-8", "type": "rate_limiting", "rate_limiting": {"spans_per_second": 35}},
        {"name": "test-policy-9", "type": "string_attribute", "string_attribute": {"key": "http.url", "values": ["\\/health", "\\/metrics"], "enabled_regex_matching": true, "invert_match": true}},
        {"name": "test-policy-10", "type": "span_count", "span_count": {"min_spans": 2, "max_spans": 20}},
        {"name": "test-policy-11", "type": "trace_state", "trace_state": {"key": "key3", "values": ["value1", "value2"]}},
        {"name": "test-policy-12", "type": "boolean_attribute", "boolean_attribute": {"key": "key4", "value": true}},
        {"name": "test-policy-13", "type": "bytes_limiting", "bytes_limiting": {"bytes_per_second": 1024, "burst_capacity": 2048}},
        {"name": "and-policy-1", "type": "and", "and": {"and_sub_policy": [
            {"name": "test-and-policy-1", "type": "numeric_attribute", "numeric_attribute": {"key": "key1", "min_value": 50, "max_value": 100}},
            {"name": "test-and-policy-2", "type": "string_attribute", "string_attribute": {"key": "key2", "values": ["value1", "value2"]}}]}},
        {"name": "not-policy-1", "type": "not", "not": {"not_sub_policy":
            {"name": "test-not-policy-1", "type": "string_attribute", "string_attribute": {"key": "key1", "values": ["value1"]}}}},
        {"name": "drop-policy-1", "type": "drop", "drop": {"drop_sub_policy": [
            {"name": "test-drop-policy-1", "type": "string_attribute", "string_attribute": {"key": "url.path", "values": ["\\/health", "\\/metrics"], "enabled_regex_matching": true}}]}},
        {"name": "composite-policy-1", "type": "composite", "composite": {
            "max_total_spans_per_second": 1000, "policy_order": ["test-composite-policy-1", "test-composite-policy-2", "test-composite-policy-3"],
            "composite_sub_policy": [
              {"name": "test-composite-policy-1", "type": "numeric_attribute", "numeric_attribute": {"key": "key1", "min_value": 50, "max_value": 100}},
              {"name": "test-composite-policy-2", "type": "string_attribute", "string_attribute": {"key": "key2", "values": ["value1", "value2"]}},
              {"name": "test-composite-policy-3", "type": "always_sample"}],
            "rate_allocation": [{"policy": "test-composite-policy-1", "percent": 50}, {"policy": "test-composite-policy-2", "percent": 25}]}}
      ]}"#;
    let s = Sampler::from_json(json.as_bytes()).unwrap();
    // Drop policies are evaluated first.
    assert_eq!(s.stats().policies[0].name, "drop-policy-1");
}

// ---- GenAI policies -----------------------------------------------------------------------

fn llm(t: u8, s: u8, mut attrs: Vec<KeyValue>) -> Span {
    attrs.push(kv_str("gen_ai.provider.name", "openai"));
    attrs.push(kv_str("gen_ai.request.model", "gpt-4o"));
    attrs.push(kv_str("gen_ai.operation.name", "chat"));
    sp(t, s, 1, attrs)
}

#[test]
fn genai_cost_sums_inference_spans_only() {
    let p = r#"{"name":"c","type":"genai_cost","genai_cost":{"threshold_usd":0.5}}"#;
    let a = llm(1, 2, vec![kv_f64("gen_ai.usage.cost", 0.3)]);
    let b = llm(1, 3, vec![kv_f64("gen_ai.usage.cost", 0.25)]);
    assert_eq!(eval(p, vec![a.clone(), b]), Sampled);
    assert_eq!(eval(p, vec![a.clone()]), NotSampled);
    // An agent span repeating its children's total is not added again.
    let agent = sp(
        1,
        1,
        0,
        vec![
            kv_str("gen_ai.operation.name", "invoke_agent"),
            kv_f64("gen_ai.usage.cost", 0.3),
        ],
    );
    assert_eq!(eval(p, vec![agent, a]), NotSampled);
}

#[test]
fn genai_tokens_threshold() {
    let p = r#"{"name":"t","type":"genai_tokens","genai_tokens":{"threshold":1000}}"#;
    let s = llm(
        1,
        2,
        vec![
            kv_int("gen_ai.usage.input_tokens", 700),
            kv_int("gen_ai.usage.output_tokens", 300),
        ],
    );
    assert_eq!(eval(p, vec![s]), Sampled);
    let legacy = llm(
        1,
        2,
        vec![
            kv_int("gen_ai.usage.prompt_tokens", 10),
            kv_int("gen_ai.usage.completion_tokens", 5),
        ],
    );
    assert_eq!(eval(p, vec![legacy]), NotSampled);
}

#[test]
fn genai_model_by_provider_model_and_regex() {
    let p = r#"{"name":"m","type":"genai_model","genai_model":{"providers":["OpenAI"],"models":["gpt-4o"]}}"#;
    assert_eq!(eval(p, vec![llm(1, 2, vec![])]), Sampled);
    let legacy = sp(
        1,
        2,
        1,
        vec![
            kv_str("gen_ai.system", "openai"),
            kv_str("gen_ai.request.model", "gpt-4o"),
        ],
    );
    assert_eq!(eval(p, vec![legacy]), Sampled);
    let re = r#"{"name":"m","type":"genai_model","genai_model":{"models":["^claude-.*sonnet"],"regex":true}}"#;
    assert_eq!(eval(re, vec![llm(1, 2, vec![])]), NotSampled);
    let claude = sp(
        1,
        2,
        1,
        vec![
            kv_str("gen_ai.system", "anthropic"),
            kv_str("gen_ai.response.model", "claude-3-5-sonnet-20241022"),
        ],
    );
    assert_eq!(eval(re, vec![claude]), Sampled);
}

#[test]
fn genai_unpriced() {
    let p = r#"{"name":"u","type":"genai_unpriced"}"#;
    assert_eq!(
        eval(
            p,
            vec![llm(1, 2, vec![kv_str("tollbooth.cost.status", "unpriced")])]
        ),
        Sampled
    );
    assert_eq!(eval(p, vec![llm(1, 2, vec![])]), NotSampled);
}

#[test]
fn genai_error_kinds() {
    let all = r#"{"name":"e","type":"genai_error"}"#;
    let mut failed = llm(1, 2, vec![]);
    failed.status = Some(Status {
        code: 2,
        ..Default::default()
    });
    assert_eq!(eval(all, vec![failed.clone()]), Sampled);
    assert_eq!(
        eval(
            all,
            vec![llm(1, 2, vec![kv_int("http.response.status_code", 429)])]
        ),
        Sampled
    );
    assert_eq!(
        eval(
            all,
            vec![llm(1, 2, vec![kv_str("error.type", "RateLimitError")])]
        ),
        Sampled
    );
    assert_eq!(
        eval(
            all,
            vec![llm(
                1,
                2,
                vec![kv_strs(
                    "gen_ai.response.finish_reasons",
                    &["content_filter"]
                )]
            )]
        ),
        Sampled
    );
    assert_eq!(
        eval(
            all,
            vec![llm(
                1,
                2,
                vec![kv_strs("gen_ai.response.finish_reasons", &["stop"])]
            )]
        ),
        NotSampled
    );
    // A failing non-GenAI span does not count.
    let mut http = sp(1, 3, 1, vec![]);
    http.status = failed.status.clone();
    assert_eq!(eval(all, vec![http]), NotSampled);
    let only_filter =
        r#"{"name":"e","type":"genai_error","genai_error":{"errors":false,"rate_limits":false}}"#;
    assert_eq!(eval(only_filter, vec![failed]), NotSampled);
    assert_eq!(
        eval(
            only_filter,
            vec![llm(
                1,
                2,
                vec![kv_str("llm.finish_reason", "content_filter")]
            )]
        ),
        Sampled
    );
}

#[test]
fn genai_ttft_units() {
    let p = r#"{"name":"t","type":"genai_ttft","genai_ttft":{"threshold_ms":1500}}"#;
    assert_eq!(
        eval(
            p,
            vec![llm(
                1,
                2,
                vec![kv_f64("gen_ai.response.time_to_first_chunk", 2.0)]
            )]
        ),
        Sampled
    );
    assert_eq!(
        eval(
            p,
            vec![llm(
                1,
                2,
                vec![kv_f64("gen_ai.server.time_to_first_token", 1.0)]
            )]
        ),
        NotSampled
    );
    assert_eq!(
        eval(
            p,
            vec![llm(1, 2, vec![kv_int("ai.response.msToFirstChunk", 1600)])]
        ),
        Sampled
    );
}

#[test]
fn genai_cost_rate_limiting_keeps_expensive_traces() {
    let mut p = policy(
        r#"{"name":"r","type":"genai_cost_rate_limiting","genai_cost_rate_limiting":{"traces_per_second":2,"always_keep_above_usd":1.0}}"#,
    );
    let cheap = trace_of(
        vec![],
        vec![llm(1, 2, vec![kv_f64("gen_ai.usage.cost", 0.01)])],
    );
    let dear = trace_of(
        vec![],
        vec![llm(2, 2, vec![kv_f64("gen_ai.usage.cost", 2.0)])],
    );
    assert_eq!(p.evaluate_alone(&cheap, 0), Sampled);
    assert_eq!(p.evaluate_alone(&cheap, 0), Sampled);
    assert_eq!(p.evaluate_alone(&cheap, 0), NotSampled);
    assert_eq!(p.evaluate_alone(&dear, 0), Sampled);
    assert_eq!(p.evaluate_alone(&cheap, SEC / 2), Sampled);
}

// ---- the sampler ------------------------------------------------------------------------

#[test]
fn decides_after_decision_wait_and_groups_output() {
    let s = sampler("", r#"[{"name":"all","type":"always_sample"}]"#);
    s.ingest(batch(vec![sp(1, 1, 0, vec![]), sp(2, 1, 0, vec![])]), 0);
    s.ingest(batch(vec![sp(1, 2, 1, vec![])]), 500 * MS);
    assert!(s.release(999 * MS, false).resource_spans.is_empty());
    let st = s.stats();
    assert_eq!((st.traces_buffered, st.spans_buffered), (2, 3));
    assert!(st.bytes_buffered > 0);
    let out = s.release(SEC, false);
    assert_eq!(span_count(&out), 3);
    // Two batches, two resources (identical values are not merged), one scope each.
    assert_eq!(out.resource_spans.len(), 2);
    let st = s.stats();
    assert_eq!(
        (st.traces_buffered, st.spans_buffered, st.bytes_buffered),
        (0, 0, 0)
    );
    assert_eq!(st.traces_sampled, 2);
    assert_eq!(st.decision_age_ms.max, 1000);
    assert!(st.conserved(), "{st:?}");
}

#[test]
fn drop_policies_win_and_default_is_not_sampled() {
    let s = sampler(
        "",
        r#"[{"name":"all","type":"always_sample"},
            {"name":"nohealth","type":"drop","drop":{"drop_sub_policy":[{"name":"h","type":"string_attribute","string_attribute":{"key":"route","values":["/health"]}}]}}]"#,
    );
    s.ingest(
        batch(vec![
            sp(1, 1, 0, vec![kv_str("route", "/health")]),
            sp(2, 1, 0, vec![]),
        ]),
        0,
    );
    let out = s.release(SEC, false);
    assert_eq!(trace_ids(&out), vec![2]);
    let st = s.stats();
    assert_eq!((st.traces_dropped, st.traces_sampled), (1, 1));
    // Trace 1 stopped at the drop policy; always_sample only saw trace 2, and kept it.
    assert_eq!(st.policies[0].name, "nohealth");
    assert_eq!(st.policies[1].counts.traces_sampled, 1);
    assert_eq!(
        (
            st.policies[1].counts.traces_kept,
            st.policies[1].counts.spans_kept
        ),
        (1, 1)
    );

    let none = sampler(
        "",
        r#"[{"name":"p","type":"probabilistic","probabilistic":{"sampling_percentage":0}}]"#,
    );
    none.ingest(batch(vec![sp(6, 1, 0, vec![])]), 0);
    assert!(none.release(SEC, false).resource_spans.is_empty());
    assert_eq!(none.stats().traces_not_sampled, 1);
}

#[test]
fn sample_on_first_match_stops_evaluating() {
    let policies = r#"[{"name":"a","type":"always_sample"},{"name":"b","type":"always_sample"}]"#;
    let s = sampler(r#","sample_on_first_match":true"#, policies);
    s.ingest(batch(vec![sp(1, 1, 0, vec![])]), 0);
    s.release(SEC, false);
    assert_eq!(s.stats().policies[1].counts.traces_sampled, 0);
    let s = sampler("", policies);
    s.ingest(batch(vec![sp(1, 1, 0, vec![])]), 0);
    s.release(SEC, false);
    assert_eq!(s.stats().policies[1].counts.traces_sampled, 1);
}

#[test]
fn invert_match_gives_plain_decisions_in_the_sampler() {
    // Contrib v0.161: invert_match yields plain NotSampled / Sampled, so it no longer vetoes
    // a Sampled from another policy.
    let s = sampler(
        "",
        r#"[{"name":"all","type":"always_sample"},
            {"name":"inv","type":"string_attribute","string_attribute":{"key":"route","values":["/health"],"invert_match":true}}]"#,
    );
    s.ingest(
        batch(vec![
            sp(1, 1, 0, vec![kv_str("route", "/health")]),
            sp(2, 1, 0, vec![]),
        ]),
        0,
    );
    assert_eq!(trace_ids(&s.release(SEC, false)), vec![1, 2]);
}

#[test]
fn late_spans_follow_the_cached_decision() {
    let s = sampler(
        "",
        r#"[{"name":"keep","type":"string_attribute","string_attribute":{"key":"keep","values":["yes"]}}]"#,
    );
    s.ingest(
        batch(vec![
            sp(1, 1, 0, vec![kv_str("keep", "yes")]),
            sp(2, 1, 0, vec![]),
        ]),
        0,
    );
    assert_eq!(trace_ids(&s.release(SEC, false)), vec![1]);
    // Late spans for both: trace 1's is kept (without the attribute), trace 2's discarded.
    let o = s.ingest(
        batch(vec![
            sp(1, 9, 1, vec![]),
            sp(2, 9, 1, vec![kv_str("keep", "yes")]),
        ]),
        5 * SEC,
    );
    assert_eq!(o.spans, 2);
    let st = s.stats();
    assert_eq!(
        (
            st.late_spans_sampled,
            st.late_spans_dropped,
            st.traces_buffered
        ),
        (1, 1, 0)
    );
    assert_eq!(st.spans_pending_release, 1);
    assert!(st.bytes_pending_release > 0);
    assert_eq!(st.decision_cache_entries, 2);
    assert!(st.memory_bytes >= st.bytes_pending_release + 80);
    assert!(st.conserved());
    let out = s.release(5 * SEC, false);
    assert_eq!(span_count(&out), 1);
    assert_eq!(trace_ids(&out), vec![1]);
    assert!(s.stats().conserved());
}

#[test]
fn without_a_cache_late_spans_get_a_new_decision() {
    let s = sampler(
        r#","decision_cache":{"sampled_cache_size":0,"non_sampled_cache_size":0}"#,
        r#"[{"name":"keep","type":"string_attribute","string_attribute":{"key":"keep","values":["yes"]}}]"#,
    );
    s.ingest(batch(vec![sp(2, 1, 0, vec![])]), 0);
    assert!(s.release(SEC, false).resource_spans.is_empty());
    s.ingest(
        batch(vec![sp(2, 9, 1, vec![kv_str("keep", "yes")])]),
        2 * SEC,
    );
    assert_eq!(s.stats().traces_buffered, 1);
    assert_eq!(span_count(&s.release(3 * SEC, false)), 1);
    assert_eq!(s.stats().traces_received, 2);
}

#[test]
fn num_traces_limit_decides_the_oldest_early() {
    let s = sampler(
        r#","num_traces":3"#,
        r#"[{"name":"all","type":"always_sample"}]"#,
    );
    for t in 1..=5u8 {
        let o = s.ingest(batch(vec![sp(t, 1, 0, vec![])]), t as u64 * MS);
        assert_eq!(o.over_budget, t > 3);
    }
    let out = s.release(10 * MS, false);
    assert_eq!(trace_ids(&out), vec![1, 2]);
    let st = s.stats();
    assert_eq!((st.early_decisions_budget, st.traces_buffered), (2, 3));
    assert!(st.conserved());
}

#[test]
fn byte_budget_decides_the_oldest_early_never_evicts() {
    let big = |t: u8| sp(t, 1, 0, vec![kv_str("payload", &"x".repeat(1000))]);
    let s = sampler(
        r#","max_buffered_bytes":4000,"maximum_trace_size_bytes":100000"#,
        r#"[{"name":"all","type":"always_sample"}]"#,
    );
    for t in 1..=9u8 {
        s.ingest(batch(vec![big(t)]), t as u64 * MS);
    }
    let st = s.stats();
    assert!(st.bytes_buffered > 8000);
    let out = s.release(10 * MS, false);
    let st = s.stats();
    assert!(st.bytes_buffered <= 4000, "{}", st.bytes_buffered);
    assert!(st.early_decisions_budget >= 5);
    // The oldest went first and every span is accounted for.
    assert_eq!(trace_ids(&out)[0], 1);
    assert_eq!(span_count(&out) as u64 + st.spans_buffered, 9);
    assert!(st.conserved());
    // A span is held as its encoded bytes: the budget counts the wire size plus a small,
    // fixed bookkeeping cost per span, group and trace.
    assert!(st.spans_buffered > 0);
    let per_span = st.bytes_buffered / st.spans_buffered;
    let wire = big(1).encoded_len() as u64;
    assert!(
        per_span > wire && per_span < wire + 300,
        "{per_span} vs {wire}"
    );
}

#[test]
fn root_arrival_shortens_the_wait() {
    let s = sampler(
        r#","decision_wait_after_root_received":"100ms""#,
        r#"[{"name":"all","type":"always_sample"}]"#,
    );
    s.ingest(batch(vec![sp(1, 2, 1, vec![])]), 0);
    s.ingest(batch(vec![sp(2, 2, 1, vec![])]), 0);
    assert!(s.release(200 * MS, false).resource_spans.is_empty());
    s.ingest(batch(vec![sp(1, 1, 0, vec![])]), 300 * MS);
    assert!(s.release(399 * MS, false).resource_spans.is_empty());
    let out = s.release(400 * MS, false);
    assert_eq!((trace_ids(&out), span_count(&out)), (vec![1], 2));
    assert_eq!(s.stats().early_decisions_root, 1);
    assert_eq!(trace_ids(&s.release(SEC, false)), vec![2]);
}

#[test]
fn oversized_traces_are_decided_early() {
    let s = sampler(
        r#","maximum_trace_size_bytes":1000"#,
        r#"[{"name":"all","type":"always_sample"}]"#,
    );
    s.ingest(
        batch(
            (1..=20)
                .map(|i| sp(1, i, 0, vec![kv_str("k", "0123456789")]))
                .collect(),
        ),
        0,
    );
    assert_eq!(span_count(&s.release(MS, false)), 20);
    assert_eq!(s.stats().early_decisions_oversize, 1);
}

/// Unset, the size at which one trace is decided early is a quarter of the byte budget, so
/// the decoded copy its decision reads stays a bounded share of memory.
#[test]
fn one_trace_over_a_quarter_of_the_budget_is_decided_early_by_default() {
    let s = sampler(
        r#","max_buffered_bytes":40000"#,
        r#"[{"name":"all","type":"always_sample"}]"#,
    );
    let span = |i: u8| sp(1, i, 0, vec![kv_str("k", &"v".repeat(1000))]);
    s.ingest(batch((1..=9).map(span).collect()), 0);
    assert_eq!(
        span_count(&s.release(MS, false)),
        0,
        "9 KB of 10 KB: still waiting"
    );
    s.ingest(batch((10..=11).map(span).collect()), 0);
    assert_eq!(span_count(&s.release(MS, false)), 11);
    let st = s.stats();
    assert_eq!(
        (st.early_decisions_oversize, st.early_decisions_budget),
        (1, 0)
    );
}

#[test]
fn shutdown_flushes_or_drops_pending() {
    let s = sampler("", r#"[{"name":"all","type":"always_sample"}]"#);
    s.ingest(batch(vec![sp(1, 1, 0, vec![]), sp(2, 1, 0, vec![])]), 0);
    assert_eq!(span_count(&s.release(MS, true)), 2);
    assert_eq!(s.stats().traces_buffered, 0);
    let d = sampler(
        r#","drop_pending_traces_on_shutdown":true"#,
        r#"[{"name":"all","type":"always_sample"}]"#,
    );
    d.ingest(batch(vec![sp(1, 1, 0, vec![]), sp(2, 1, 0, vec![])]), 0);
    assert!(d.release(MS, true).resource_spans.is_empty());
    let st = d.stats();
    assert_eq!(
        (st.shutdown_dropped_traces, st.shutdown_dropped_spans),
        (2, 2)
    );
    assert!(st.conserved());
}

#[test]
fn release_bytes_is_otlp_or_empty() {
    let s = sampler("", r#"[{"name":"all","type":"always_sample"}]"#);
    assert!(s.release_bytes(0, false).is_empty());
    s.ingest(batch(vec![sp(1, 1, 0, vec![])]), 0);
    let b = s.release_bytes(SEC, false);
    assert_eq!(span_count(&TracesData::decode(b.as_slice()).unwrap()), 1);
}

#[test]
fn stats_serialise_as_json() {
    let s = sampler("", r#"[{"name":"all","type":"always_sample"}]"#);
    let j = serde_json::to_string(&s.stats()).unwrap();
    assert!(j.contains("\"early_decisions_budget\"") && j.contains("\"name\":\"all\""));
}

/// Drives one sampler through a scripted run and returns every release's bytes.
fn run_script(
    steps: &[(u8, u8, u64, bool)],
    cfg_extra: &str,
) -> (Vec<Vec<u8>>, super::SamplingSnapshot) {
    let s = sampler(
        cfg_extra,
        r#"[{"name":"p","type":"probabilistic","probabilistic":{"sampling_percentage":50}},
            {"name":"r","type":"rate_limiting","rate_limiting":{"spans_per_second":5}},
            {"name":"d","type":"drop","drop":{"drop_sub_policy":[{"name":"x","type":"numeric_attribute","numeric_attribute":{"key":"n","min_value":0,"max_value":2}}]}}]"#,
    );
    let mut outs = Vec::new();
    let mut now = 0;
    for &(t, n, dt, rel) in steps {
        now += dt;
        let spans = (0..n.max(1))
            .map(|i| {
                sp(
                    t,
                    i + 1,
                    if i == 0 { 0 } else { 1 },
                    vec![kv_int("n", (t % 7) as i64)],
                )
            })
            .collect();
        s.ingest(batch(spans), now);
        assert!(s.stats().conserved(), "after ingest: {:?}", s.stats());
        if rel {
            let out = s.release_bytes(now, false);
            assert!(s.stats().conserved(), "after release: {:?}", s.stats());
            outs.push(out);
        }
    }
    outs.push(s.release_bytes(now + 10 * SEC, true));
    let st = s.stats();
    (outs, st)
}

#[test]
fn deterministic_output() {
    let steps: Vec<(u8, u8, u64, bool)> = (0..60u8)
        .map(|i| (i % 17 + 1, i % 4 + 1, 137 * MS, i % 5 == 0))
        .collect();
    let (a, sa) = run_script(&steps, r#","num_traces":6"#);
    let (b, sb) = run_script(&steps, r#","num_traces":6"#);
    assert_eq!(a, b);
    assert_eq!(sa.spans_released, sb.spans_released);
    assert!(sa.conserved());
}

mod prop {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]

        /// Invariant 1: spans in = spans out + spans dropped by decision (+ still held), at
        /// every point, whatever the arrival pattern, limits and cache sizes.
        #[test]
        fn spans_are_conserved(
            steps in proptest::collection::vec((1u8..24, 0u8..6, 0u64..800, any::<bool>()), 1..80),
            num_traces in 1u64..12,
            max_bytes in 300u64..20_000,
            cache in 0u64..4,
            root_wait in prop_oneof![Just(""), Just(r#","decision_wait_after_root_received":"200ms""#)],
        ) {
            let extra = format!(
                r#","num_traces":{num_traces},"max_buffered_bytes":{max_bytes},"decision_cache":{{"sampled_cache_size":{cache},"non_sampled_cache_size":{cache}}}{root_wait}"#
            );
            let steps: Vec<_> = steps.into_iter().map(|(t, n, dt, r)| (t, n, dt * MS, r)).collect();
            let (outs, st) = run_script(&steps, &extra);
            let released: usize = outs.iter().map(|b| span_count(&TracesData::decode(b.as_slice()).unwrap())).sum();
            prop_assert_eq!(released as u64, st.spans_released);
            prop_assert!(st.conserved(), "{:?}", st);
            prop_assert_eq!(st.spans_buffered + st.traces_buffered + st.bytes_buffered, 0);
            prop_assert_eq!(st.spans_pending_release + st.bytes_pending_release, 0);
        }
    }
}

#[test]
fn concurrent_ingest_and_release_conserve_spans() {
    let s = std::sync::Arc::new(sampler(
        r#","num_traces":50"#,
        r#"[{"name":"p","type":"probabilistic","probabilistic":{"sampling_percentage":50}}]"#,
    ));
    let released = std::sync::Arc::new(std::sync::atomic::AtomicU64::new(0));
    let writers: Vec<_> = (0..3u8)
        .map(|w| {
            let s = s.clone();
            std::thread::spawn(move || {
                for i in 0..200u64 {
                    let t = (w * 80) + (i % 80) as u8;
                    s.ingest(
                        batch(vec![sp(t, (i % 250) as u8 + 1, 1, vec![])]),
                        i * 10 * MS,
                    );
                }
            })
        })
        .collect();
    let reader = {
        let (s, released) = (s.clone(), released.clone());
        std::thread::spawn(move || {
            for i in 0..100u64 {
                let out = s.release(i * 20 * MS, false);
                released.fetch_add(
                    span_count(&out) as u64,
                    std::sync::atomic::Ordering::Relaxed,
                );
            }
        })
    };
    writers.into_iter().for_each(|h| h.join().unwrap());
    reader.join().unwrap();
    let out = s.release(100 * SEC, true);
    released.fetch_add(
        span_count(&out) as u64,
        std::sync::atomic::Ordering::Relaxed,
    );
    let st = s.stats();
    assert_eq!(st.spans_received, 600);
    assert_eq!(
        st.spans_released,
        released.load(std::sync::atomic::Ordering::Relaxed)
    );
    assert!(st.conserved(), "{st:?}");
    assert_eq!(st.spans_buffered + st.traces_buffered, 0);
}

#[test]
fn otlp_size_matches_encoding_with_scopes_and_schema_urls() {
    use opentelemetry_proto::tonic::common::v1::InstrumentationScope;
    let res = Arc::new(ResourceHdr::new(
        Some(Resource {
            attributes: vec![kv_str("service.name", "svc")],
            ..Default::default()
        }),
        "https://opentelemetry.io/schemas/1.30.0".into(),
    ));
    let scopes: Vec<Arc<ScopeHdr>> = ["a", "b"]
        .iter()
        .map(|n| {
            Arc::new(ScopeHdr::new(
                Some(InstrumentationScope {
                    name: n.to_string(),
                    ..Default::default()
                }),
                if *n == "a" { "x".into() } else { String::new() },
            ))
        })
        .collect();
    let spans = [sp(1, 1, 0, vec![]), sp(1, 2, 1, vec![kv_int("n", 3)])];
    let t = held(
        spans
            .iter()
            .zip(&scopes)
            .map(|(s, sc)| (&res, sc, s.encode_to_vec())),
    );
    let expected = TracesData {
        resource_spans: vec![ResourceSpans {
            resource: res.resource.clone(),
            scope_spans: spans
                .iter()
                .zip(&scopes)
                .map(|(s, sc)| ScopeSpans {
                    scope: sc.scope.clone(),
                    spans: vec![s.clone()],
                    schema_url: sc.schema_url.clone(),
                })
                .collect(),
            schema_url: res.schema_url.clone(),
        }],
    };
    assert_eq!(t.otlp_size(), expected.encoded_len() as u64);
}

#[test]
fn sampler_is_send_and_sync() {
    fn assert_both<T: Send + Sync>() {}
    assert_both::<Sampler>();
}

// ---- cost per agent run (trace_cost) ---------------------------------------------------------

fn call(t: u8, s: u8, status: &str, cost: Option<f64>, input: i64) -> Span {
    let mut attrs = vec![
        kv_str("gen_ai.operation.name", "chat"),
        kv_str("tollbooth.cost.status", status),
        kv_int("gen_ai.usage.input_tokens", input),
        kv_int("gen_ai.usage.output_tokens", 10),
    ];
    if let Some(c) = cost {
        attrs.push(kv_f64("gen_ai.usage.cost", c));
    }
    sp(t, s, 1, attrs)
}

/// Every decided run with calls is recorded, kept or not; a kept run's root gets its totals
/// (duplicates excluded); a run with an unpriced call is counted, not recorded.
#[test]
fn runs_are_totalled_at_the_decision_for_every_trace() {
    let s = sampler(
        "",
        r#"[{"name":"keep-1","type":"string_attribute","string_attribute":{"key":"keep","values":["yes"]}}]"#,
    );
    let mut kept_root = sp(1, 1, 0, vec![kv_str("keep", "yes")]);
    kept_root.name = "invoke_agent planner".into();
    let mut dropped_root = sp(2, 1, 0, vec![]);
    dropped_root.name = "invoke_agent planner".into();
    s.ingest(
        batch(vec![
            kept_root,
            call(1, 2, "priced", Some(0.0051678), 2006),
            call(1, 3, "duplicate", None, 2006),
            call(1, 4, "provider_reported", Some(0.00443), 1536),
            dropped_root,
            call(2, 2, "priced", Some(0.25), 100),
            sp(3, 1, 0, vec![]),
            call(3, 2, "unpriced", None, 5),
        ]),
        0,
    );
    let out = s.release(2 * SEC, false);
    let spans: Vec<&Span> = out
        .resource_spans
        .iter()
        .flat_map(|r| &r.scope_spans)
        .flat_map(|x| &x.spans)
        .collect();
    assert_eq!(trace_ids(&out), vec![1]);
    let root = spans.iter().find(|x| x.parent_span_id.is_empty()).unwrap();
    let a = &root.attributes;
    let cost = match crate::otlp::find(a, super::trace_cost::TRACE_COST) {
        Some(any_value::Value::DoubleValue(d)) => *d,
        other => panic!("{other:?}"),
    };
    assert_eq!(cost, 0.0095978);
    assert_eq!(
        crate::otlp::find_int(a, super::trace_cost::TRACE_LLM_CALLS),
        Some(2)
    );
    assert_eq!(
        crate::otlp::find_int(a, super::trace_cost::TRACE_INPUT_TOKENS),
        Some(3542)
    );
    let runs = s.take_run_costs();
    let mut costs: Vec<(String, f64)> = runs.iter().map(|r| (r.root.clone(), r.usd)).collect();
    costs.sort_by(|x, y| x.1.total_cmp(&y.1));
    assert_eq!(
        costs,
        vec![
            ("invoke_agent planner".to_string(), 0.0095978),
            ("invoke_agent planner".to_string(), 0.25)
        ],
        "the dropped run is recorded too; the unpriced one is not"
    );
    assert!(runs.iter().all(|r| r.service == "svc"));
    assert!(s.take_run_costs().is_empty(), "taken once");
    let st = s.stats();
    assert_eq!((st.runs_with_llm_calls, st.runs_cost_incomplete), (3, 1));
}

/// Issue 11: a release larger than one piece is handed over in pieces of bounded size, in
/// order, every span once; what waits is in the memory gauge; nothing new is decided until
/// the backlog is empty.
#[test]
fn large_releases_come_in_bounded_pieces() {
    use super::sampler::RELEASE_PIECE_BYTES;
    let s = sampler("", r#"[{"name":"all","type":"always_sample"}]"#);
    let pad = "p".repeat(10_000);
    let spans: Vec<Span> = (0..2000u16)
        .map(|i| {
            let mut x = sp(1, 1, 0, vec![kv_str("pad", &pad), kv_int("i", i as i64)]);
            x.span_id = (i as u64 + 1).to_be_bytes().to_vec();
            x
        })
        .collect();
    let total = 2000;
    for chunk in spans.chunks(500) {
        s.ingest(batch(chunk.to_vec()), 0);
    }
    let mut seen = Vec::new();
    let mut pieces = 0;
    loop {
        let b = s.release_bytes(SEC, true);
        if b.is_empty() {
            break;
        }
        pieces += 1;
        // The spans' bytes are within the limit; resource, scope and framing add a few bytes.
        assert!(
            b.len() <= RELEASE_PIECE_BYTES + 1024,
            "piece of {} bytes",
            b.len()
        );
        let td = TracesData::decode(b.as_slice()).unwrap();
        for rs in &td.resource_spans {
            for ss in &rs.scope_spans {
                for x in &ss.spans {
                    seen.push(u64::from_be_bytes(x.span_id.clone().try_into().unwrap()));
                }
            }
        }
        if pieces == 1 {
            assert!(
                s.stats().memory_bytes > 10_000_000,
                "the backlog is in the gauge"
            );
            // A new trace arriving now is not decided before the backlog is handed over.
            s.ingest(batch(vec![sp(2, 1, 0, vec![])]), SEC);
        }
    }
    assert!(pieces >= 5, "20 MB in pieces of 4 MiB: {pieces}");
    let mut want: Vec<u64> = (1..=total).collect();
    want.push(u64::from_be_bytes([1; 8])); // the new trace's one span, after the backlog
    assert!(
        seen == want,
        "in order, each span once ({} spans seen)",
        seen.len()
    );
    assert!(
        s.stats().memory_bytes < 1_000,
        "{:?}",
        s.stats().memory_bytes
    );
    assert!(s.stats().conserved());
}

// ---- held as bytes (src/sampling/stored.rs) -------------------------------------------------

/// A batch buffered as it was read (`ingest_read`) is decided and released exactly as the
/// same batch buffered decoded (`ingest`): same kept spans, same grouping, same totals on the
/// root, same telemetry.
#[test]
fn read_and_decoded_batches_are_held_alike() {
    let policies = r#"[{"name":"keep","type":"string_attribute","string_attribute":{"key":"keep","values":["yes"]}},
        {"name":"errors","type":"status_code","status_code":{"status_codes":["ERROR"]}}]"#;
    let mut err = sp(3, 2, 1, vec![]);
    err.status = Some(opentelemetry_proto::tonic::trace::v1::Status {
        code: 2,
        message: "boom".into(),
    });
    let mut td = batch(vec![
        sp(1, 1, 0, vec![kv_str("keep", "yes")]),
        call(1, 2, "priced", Some(0.5), 10),
        sp(2, 1, 0, vec![kv_str("keep", "no")]),
        sp(3, 1, 0, vec![]),
        err,
    ]);
    let mut other = batch_with(
        vec![kv_str("service.name", "other")],
        vec![sp(1, 9, 1, vec![])],
    );
    other.resource_spans[0].schema_url = "https://schema".into();
    other.resource_spans[0].scope_spans[0].scope = Some(
        opentelemetry_proto::tonic::common::v1::InstrumentationScope {
            name: "lib".into(),
            version: "2".into(),
            ..Default::default()
        },
    );
    td.resource_spans.extend(other.resource_spans);
    let bytes = td.encode_to_vec();
    let (decoded, read) = (sampler("", policies), sampler("", policies));
    decoded.ingest(td, 0);
    read.ingest_read(&crate::otlp::read_traces(&bytes).unwrap(), 0);
    let (a, b) = (
        decoded.release(2 * SEC, false),
        read.release(2 * SEC, false),
    );
    assert_eq!((trace_ids(&a), span_count(&a)), (vec![1, 3], 5));
    assert_eq!(a, b);
    let (sa, sb) = (decoded.stats(), read.stats());
    assert_eq!(
        (sa.spans_sampled, sa.traces_sampled, sa.spans_not_sampled),
        (sb.spans_sampled, sb.traces_sampled, sb.spans_not_sampled)
    );
    assert!(sb.conserved());
}

/// A span whose strings are not UTF-8 (pdata accepts them; prost does not) is held and
/// released byte for byte as it came, while the policies read its strings as lossy text.
#[test]
fn spans_that_are_not_utf8_go_out_as_they_came() {
    let s = sampler(
        "",
        r#"[{"name":"keep","type":"string_attribute","string_attribute":{"key":"keep","values":["yes"]}}]"#,
    );
    let td = batch(vec![
        sp(
            1,
            1,
            0,
            vec![kv_str("keep", "yes"), kv_str("note", "caf-XX")],
        ),
        sp(
            2,
            1,
            0,
            vec![kv_str("keep", "no"), kv_str("note", "caf-XX")],
        ),
    ]);
    let mut bytes = td.encode_to_vec();
    while let Some(at) = bytes.windows(2).position(|w| w == b"XX") {
        bytes[at..at + 2].copy_from_slice(b"\xc3\x28");
    }
    assert!(crate::otlp::decode_traces(&bytes).is_err());
    let read = crate::otlp::read_traces(&bytes).unwrap();
    let sent: Vec<Vec<u8>> = read.spans().map(|x| x.raw().to_vec()).collect();
    s.ingest_read(&read, 0);
    let mut out = Vec::new();
    loop {
        let piece = s.release_bytes(2 * SEC, false);
        if piece.is_empty() {
            break;
        }
        out.extend(piece);
    }
    let got = crate::otlp::read_traces(&out).unwrap();
    let got: Vec<Vec<u8>> = got.spans().map(|x| x.raw().to_vec()).collect();
    assert_eq!(
        got,
        vec![sent[0].clone()],
        "trace 1 kept, unchanged; trace 2 not"
    );
}
