//! The fixed-layout stats say what the JSON stats say, and a caller built against another
//! layout is refused.

use std::collections::BTreeMap;
use std::ptr::{null, null_mut};

use super::stats::*;
use super::tests::{new_engine, take};
use super::*;
use crate::engine::tests::batch;
use crate::otlp::{kv_int, kv_str};
use opentelemetry_proto::tonic::trace::v1::Span;

/// A priced model call whose prompt holds an email address, in its own trace.
fn call(trace: u8, model: &str) -> Span {
    Span {
        name: "chat".into(),
        trace_id: vec![trace; 16],
        span_id: vec![trace; 8],
        attributes: vec![
            kv_str("gen_ai.system", "anthropic"),
            kv_str("gen_ai.request.model", model),
            kv_int("gen_ai.usage.input_tokens", 10),
            kv_int("gen_ai.usage.output_tokens", 5),
            kv_str("gen_ai.prompt.0.content", "mail jane.doe@example.com"),
        ],
        ..Default::default()
    }
}

fn process(engine: *mut TollboothEngine, bytes: &[u8], now: u64) -> TollboothStatus {
    let mut out = TollboothBuf::EMPTY;
    let st = unsafe {
        tollbooth_engine_process(
            engine,
            bytes.as_ptr(),
            bytes.len(),
            now,
            &mut out,
            null_mut(),
        )
    };
    take(out);
    st
}

fn read(engine: *const TollboothEngine) -> TollboothStats {
    let mut s = TollboothStats::zeroed();
    s.struct_size = std::mem::size_of::<TollboothStats>() as u64;
    let st = unsafe { tollbooth_engine_read_stats(engine, &mut s, null_mut()) };
    assert_eq!(st, TollboothStatus::Ok);
    s
}

fn json_stats(engine: *const TollboothEngine) -> serde_json::Value {
    let mut out = TollboothBuf::EMPTY;
    let st = unsafe { tollbooth_engine_stats(engine, &mut out, null_mut()) };
    assert_eq!(st, TollboothStatus::Ok);
    serde_json::from_slice(&take(out)).unwrap()
}

/// Every number in a JSON object, keyed by its path joined with `_`; `skip` names
/// sub-objects left out.
fn flatten(v: &serde_json::Value, prefix: &str, skip: &[&str], out: &mut BTreeMap<String, u64>) {
    let Some(o) = v.as_object() else { return };
    for (k, v) in o {
        let key = format!("{prefix}{k}");
        if skip.contains(&key.as_str()) {
            continue;
        }
        match v {
            serde_json::Value::Number(n) => {
                out.insert(key, n.as_u64().unwrap());
            }
            serde_json::Value::Object(_) => flatten(v, &format!("{key}_"), skip, out),
            _ => {}
        }
    }
}

/// The struct as the same kind of map, the detector array under `redaction_detected.<name>`
/// as the JSON names it.
fn struct_map(s: &TollboothStats) -> BTreeMap<String, u64> {
    let v = serde_json::to_value(s).unwrap();
    let mut out = BTreeMap::new();
    for (k, v) in v.as_object().unwrap() {
        match v {
            serde_json::Value::Array(a) => {
                for (name, n) in crate::redact::detectors::names().zip(a) {
                    out.insert(format!("{k}.{name}"), n.as_u64().unwrap());
                }
            }
            _ => {
                out.insert(k.clone(), v.as_u64().unwrap());
            }
        }
    }
    out
}

#[test]
fn read_stats_equals_the_json_snapshot_after_known_batches() {
    let (engine, st, msg) = new_engine(
        r#"{"metrics": {}, "cost": {}, "redaction": {"allow_all_keys": true,
            "detectors": ["email"], "secret_rules": {}}}"#,
    );
    assert_eq!(st, TollboothStatus::Ok, "{msg}");
    let b = batch(vec![
        call(1, "claude-3-5-haiku-20241022"),
        call(2, "acme-llm-9000"),
    ]);
    assert_eq!(process(engine, &b, 1), TollboothStatus::Ok);
    assert_eq!(process(engine, &[0xff; 4], 2), TollboothStatus::DecodeError);

    let s = read(engine);
    let json = json_stats(engine);
    let mut want = BTreeMap::new();
    // The per-rule counts and the secret rules' status have no fixed place; their reload
    // counters do.
    flatten(&json, "", &["secret_rules"], &mut want);
    want.insert(
        "secret_rules_reloads".into(),
        json["secret_rules"]["reloads"].as_u64().unwrap(),
    );
    want.insert(
        "secret_rules_reload_errors".into(),
        json["secret_rules"]["reload_errors"].as_u64().unwrap(),
    );
    let mut got = struct_map(&s);
    got.remove("struct_size");
    // The heap moves between the two reads; sampling is not configured here.
    assert!(got.remove("rust_heap_bytes").unwrap() > 0);
    want.remove("rust_heap_bytes");
    got.retain(|k, _| !k.starts_with("sampling_"));
    assert_eq!(got, want);

    assert_eq!(s.batches_processed, 1);
    assert_eq!(s.batches_undecodable, 1);
    assert_eq!((s.cost_priced, s.cost_unpriced), (1, 1));
    assert_eq!(s.pricing_cache_entries, 2);
    let email = crate::redact::detectors::names()
        .position(|n| n == "email")
        .unwrap();
    assert_eq!(s.redaction_detected[email], 2);
    unsafe { tollbooth_engine_free(engine) };
}

#[test]
fn read_stats_carries_the_sampler_and_its_policies() {
    let (engine, st, msg) = new_engine(
        r#"{"sampling": {"decision_wait": "1s", "policies": [
            {"name": "all", "type": "always_sample"},
            {"name": "none", "type": "probabilistic", "probabilistic": {"sampling_percentage": 0}}]}}"#,
    );
    assert_eq!(st, TollboothStatus::Ok, "{msg}");
    let b = batch(vec![call(1, "m"), call(2, "m"), call(3, "m")]);
    assert_eq!(process(engine, &b, 0), TollboothStatus::Ok);
    let mut traces = TollboothBuf::EMPTY;
    let st =
        unsafe { tollbooth_engine_release(engine, 2_000_000_000, false, &mut traces, null_mut()) };
    assert_eq!(st, TollboothStatus::Ok);
    assert!(!take(traces).is_empty());

    let s = read(engine);
    let json = json_stats(engine);
    let mut want = BTreeMap::new();
    flatten(&json["sampling"], "sampling_", &[], &mut want);
    let mut got = struct_map(&s);
    got.retain(|k, _| k.starts_with("sampling_"));
    assert_eq!(got.remove("sampling_policies"), Some(2));
    assert_eq!(got, want);
    assert_eq!(s.sampling_spans_received, 3);
    assert_eq!(s.sampling_traces_sampled, 3);

    let mut policies = [TollboothPolicyStats::default(); 3];
    let mut written = 9;
    let st = unsafe {
        tollbooth_engine_read_policy_stats(
            engine,
            policies.as_mut_ptr(),
            policies.len(),
            std::mem::size_of::<TollboothPolicyStats>(),
            &mut written,
            null_mut(),
        )
    };
    assert_eq!(st, TollboothStatus::Ok);
    assert_eq!(written, 2);
    for (i, p) in json["sampling"]["policies"]
        .as_array()
        .unwrap()
        .iter()
        .enumerate()
    {
        let mut want = serde_json::to_value(policies[i]).unwrap();
        want["name"] = p["name"].clone();
        assert_eq!(&want, p);
    }
    assert_eq!(policies[0].traces_kept, 3);
    assert_eq!(policies[1].traces_not_sampled, 3);
    unsafe { tollbooth_engine_free(engine) };
}

#[test]
fn a_caller_built_against_another_layout_is_refused() {
    let (engine, _, _) = new_engine("");
    let mut s = TollboothStats::zeroed();
    s.struct_size = std::mem::size_of::<TollboothStats>() as u64 - 8;
    s.batches_processed = 42;
    let mut err = TollboothBuf::EMPTY;
    let st = unsafe { tollbooth_engine_read_stats(engine, &mut s, &mut err) };
    assert_eq!(st, TollboothStatus::SizeMismatch);
    assert!(String::from_utf8(take(err))
        .unwrap()
        .contains("TollboothStats"));
    assert_eq!(
        s.batches_processed, 42,
        "nothing written past the size field"
    );

    let mut p = TollboothPolicyStats::default();
    let mut written = 7;
    let st = unsafe {
        tollbooth_engine_read_policy_stats(engine, &mut p, 1, 8, &mut written, null_mut())
    };
    assert_eq!(st, TollboothStatus::SizeMismatch);
    assert_eq!(written, 0);

    let st = unsafe { tollbooth_engine_read_stats(engine, null_mut(), null_mut()) };
    assert_eq!(st, TollboothStatus::NullArgument);
    let mut s = TollboothStats::zeroed();
    s.struct_size = std::mem::size_of::<TollboothStats>() as u64;
    let st = unsafe { tollbooth_engine_read_stats(null(), &mut s, null_mut()) };
    assert_eq!(st, TollboothStatus::NullArgument);
    let st = unsafe {
        tollbooth_engine_read_policy_stats(
            engine,
            null_mut(),
            1,
            std::mem::size_of::<TollboothPolicyStats>(),
            &mut written,
            null_mut(),
        )
    };
    assert_eq!(st, TollboothStatus::NullArgument);
    unsafe { tollbooth_engine_free(engine) };
}

#[test]
fn detector_names_are_numbered_as_the_counters_and_the_header_says() {
    let names: Vec<String> = (0..TOLLBOOTH_DETECTORS)
        .map(|i| {
            let p = tollbooth_detector_name(i);
            unsafe { std::ffi::CStr::from_ptr(p) }
                .to_str()
                .unwrap()
                .to_string()
        })
        .collect();
    assert!(names
        .iter()
        .map(String::as_str)
        .eq(crate::redact::detectors::names()));
    assert!(tollbooth_detector_name(TOLLBOOTH_DETECTORS).is_null());
    let header = include_str!("../../include/tollbooth.h");
    let line = format!("#define TOLLBOOTH_DETECTORS {TOLLBOOTH_DETECTORS}\n");
    assert!(
        header.contains(&line),
        "include/tollbooth.h must say {line:?}: edit cbindgen.toml and run `make header`"
    );
}
