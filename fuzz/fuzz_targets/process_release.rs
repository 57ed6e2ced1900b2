//! `tollbooth_engine_process` and `tollbooth_engine_release` on a sequence of batches.
//!
//! Input: one byte choosing the configuration, one choosing the clock step, then batches cut
//! at the separator (each batch's first byte: raw protobuf bytes, or a GenAI batch built from
//! the rest). Releases happen between batches as the clock advances, and a final release
//! flushes everything, as at shutdown.
//!
//! Asserts, beyond "no panic and no panic status": every status is OK or DECODE_ERROR; an
//! accepted batch is one the reader accepts; a forwarded batch's edit list applies to it and
//! drops only what it says; with the sampler, every span it took is released, discarded by
//! decision or (before the flush) still held, exactly, per the engine's own counters and per
//! the spans actually released, and no span is released more often than it was sent;
//! counters never decrease.
#![no_main]

use libfuzzer_sys::fuzz_target;
use opentelemetry_proto::tonic::trace::v1::TracesData;
use prost::Message;
use tollbooth::edits::{self, Disposition, Op};
use tollbooth::ffi::TollboothStatus;
use tollbooth_fuzz::abi::{self, Engine};
use tollbooth_fuzz::configs;
use tollbooth_fuzz::counters::{get, Monotonic};
use tollbooth_fuzz::input::{pieces, Cursor};
use tollbooth_fuzz::spans::SpanBag;
use tollbooth_fuzz::synth;

const CONFIGS: &[&str] = &[
    configs::PROCESSOR,
    configs::PROCESSOR_DROPPING,
    configs::SAMPLER,
    configs::SAMPLER_TIGHT,
    configs::SAMPLER_COST_SHUTDOWN_DROP,
];

/// A batch from one piece of input: raw bytes, or a GenAI batch built from them.
fn batch(piece: &[u8], serial: u32) -> Vec<u8> {
    match piece.split_first() {
        Some((mode, rest)) if mode & 1 == 1 => {
            synth::batch(&mut Cursor::new(rest), serial).encode_to_vec()
        }
        Some((_, rest)) => rest.to_vec(),
        None => Vec::new(),
    }
}

/// The sampler's books: received = released + discarded + held.
fn assert_conserved(stats: &serde_json::Value) {
    let s = |k: &str| get(stats, &["sampling", k]);
    let discarded = s("spans_not_sampled")
        + s("spans_dropped")
        + s("late_spans_dropped")
        + s("shutdown_dropped_spans");
    assert_eq!(
        s("spans_received"),
        s("spans_released") + discarded + s("spans_buffered") + s("spans_pending_release"),
        "sampler counters do not add up: {stats}"
    );
}

fuzz_target!(|data: &[u8]| {
    let mut c = Cursor::new(data);
    let config = CONFIGS[c.below(CONFIGS.len())];
    let step_ns = u64::from(c.u8()) * 20_000_000;
    let sampling = config.contains("\"sampling\"");
    // A sampler holds traces between calls: each input gets its own. The others are shared.
    let fresh;
    let engine: &Engine = if sampling {
        fresh = Engine::new(config.as_bytes()).expect("the fixed configurations are valid");
        &fresh
    } else {
        abi::shared(config)
    };

    let mut monotonic = Monotonic::default();
    let (mut held_in, mut released) = (SpanBag::default(), SpanBag::default());
    let mut now = 1_000_000_000u64;
    for (i, piece) in pieces(data.get(2..).unwrap_or(&[])).into_iter().enumerate() {
        let bytes = batch(piece, i as u32);
        now += step_ns;
        match engine.process(&bytes, now) {
            Ok(list) => {
                let spans = SpanBag::of_batch(&bytes);
                let (d, list) = edits::decode(&list).expect("the engine's edit list decodes");
                if d == Disposition::Held {
                    assert!(sampling, "held by an engine without a sampler");
                    assert!(list.is_empty(), "edits on a held batch");
                    held_in.merge(&spans);
                } else {
                    assert!(!sampling, "a sampling engine forwarded a batch");
                    check_forward(&bytes, &list, spans.total());
                }
            }
            Err((TollboothStatus::DecodeError, _)) => {}
            Err(other) => panic!("process failed with {other:?}"),
        }
        if i % 3 == 2 {
            released.merge(&SpanBag::of_release(&engine.release(now, false).unwrap()));
        }
        let stats = engine.stats();
        monotonic.check(&stats);
        if sampling {
            assert_conserved(&stats);
        }
    }
    released.merge(&SpanBag::of_release(
        &engine.release(now + 3_600_000_000_000, true).unwrap(),
    ));
    let stats = engine.stats();
    monotonic.check(&stats);
    if !sampling {
        return;
    }
    assert_conserved(&stats);
    released.assert_within(&held_in);
    let s = |k: &str| get(&stats, &["sampling", k]);
    assert_eq!(
        s("spans_buffered") + s("spans_pending_release"),
        0,
        "held after flush: {stats}"
    );
    assert_eq!(
        s("spans_received"),
        held_in.total(),
        "spans taken vs spans sent: {stats}"
    );
    assert_eq!(
        s("spans_released"),
        released.total(),
        "spans counted vs spans released: {stats}"
    );
});

/// A forwarded batch: its edits apply, and the spans that remain are the ones sent less the
/// ones the list drops by decision.
fn check_forward(bytes: &[u8], list: &[(edits::Target, Op)], spans_in: u64) {
    // Strings that are not UTF-8 are beyond prost; the Go applier covers those (Go fuzzing).
    let Ok(mut td) = TracesData::decode(bytes) else {
        return;
    };
    assert!(
        edits::apply(&mut td, list),
        "the engine's edits address missing positions"
    );
    let drops: std::collections::BTreeSet<_> = list
        .iter()
        .filter(|(_, o)| *o == Op::DropSpan)
        .map(|(t, _)| format!("{t:?}"))
        .collect();
    let out: u64 = td
        .resource_spans
        .iter()
        .flat_map(|r| &r.scope_spans)
        .map(|s| s.spans.len() as u64)
        .sum();
    assert_eq!(
        out + drops.len() as u64,
        spans_in,
        "forwarded spans lost or invented"
    );
}
