//! `tollbooth_engine_new` on arbitrary configuration bytes (seeded with every component's
//! configuration), then one batch through the engine it made.
//!
//! Asserts: creation answers OK or INVALID_CONFIG with a message, never a panic, and leaves
//! the handle NULL on failure; hostile regexes, huge numbers and deep nesting are refused or
//! run; an engine that was created processes a GenAI batch, releases everything it held on
//! flush (received = released + discarded by decision), collects metrics and reports stats.
//!
//! Paths in the configuration (pricing files, HMAC key files) are pointed at the committed
//! seed pricing files, so the fuzzer cannot make the engine read a device or a FIFO.
#![no_main]

use libfuzzer_sys::fuzz_target;
use prost::Message;
use serde_json::Value;
use tollbooth::ffi::TollboothStatus;
use tollbooth_fuzz::abi::Engine;
use tollbooth_fuzz::counters::get;
use tollbooth_fuzz::input::Cursor;
use tollbooth_fuzz::spans::SpanBag;
use tollbooth_fuzz::synth;

const SAFE_FILES: &[&str] = &[
    concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/corpus/pricing_native/seed-small.json"
    ),
    concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/corpus/pricing_litellm/seed-small.json"
    ),
    "/nonexistent/tollbooth-fuzz",
];

/// Replaces every string under a key naming a file or an environment variable.
fn defuse(v: &mut Value, n: &mut usize) {
    match v {
        Value::Object(m) => {
            for (k, v) in m.iter_mut() {
                if k.contains("file") || k.ends_with("_env") {
                    point_at_safe(v, n);
                } else {
                    defuse(v, n);
                }
            }
        }
        Value::Array(a) => a.iter_mut().for_each(|v| defuse(v, n)),
        _ => {}
    }
}

fn point_at_safe(v: &mut Value, n: &mut usize) {
    match v {
        Value::String(s) => {
            *s = SAFE_FILES[*n % SAFE_FILES.len()].to_string();
            *n += 1;
        }
        Value::Array(a) => a.iter_mut().for_each(|v| point_at_safe(v, n)),
        Value::Object(m) => m.values_mut().for_each(|v| point_at_safe(v, n)),
        _ => {}
    }
}

fuzz_target!(|data: &[u8]| {
    let config = match serde_json::from_slice::<Value>(data) {
        Ok(mut v) => {
            defuse(&mut v, &mut 0);
            serde_json::to_vec(&v).unwrap()
        }
        Err(_) => data.to_vec(),
    };
    let engine = match Engine::new(&config) {
        Ok(e) => e,
        Err((TollboothStatus::InvalidConfig, _)) => return,
        Err(other) => panic!("engine_new failed with {other:?}"),
    };
    let batch = synth::batch(&mut Cursor::new(data), 0).encode_to_vec();
    let spans = SpanBag::of_batch(&batch).total();
    engine
        .process(&batch, 1_000)
        .expect("a well-formed batch is processed");
    let released = SpanBag::of_release(&engine.release(u64::MAX / 2, true).unwrap()).total();
    engine.collect_metrics(2_000).expect("collect never fails");
    let stats = engine.stats();
    if stats.get("sampling").is_some() {
        let s = |k: &str| get(&stats, &["sampling", k]);
        assert_eq!(s("spans_received"), spans, "{stats}");
        let discarded = s("spans_not_sampled")
            + s("spans_dropped")
            + s("late_spans_dropped")
            + s("shutdown_dropped_spans");
        assert_eq!(released + discarded, spans, "{stats}");
        assert_eq!(s("spans_released"), released, "{stats}");
    }
});
