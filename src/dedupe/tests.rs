use super::identity::{detail_score, model_family};
use super::*;

const MS: u64 = 1_000_000;
const S: u64 = 1_000_000_000;

fn call<'a>(id: Option<&'a str>, model: &'a str, start: u64, end: u64) -> CallIdentity<'a> {
    CallIdentity {
        service: "svc",
        provider: "openai",
        model: Some(model),
        response_id: id,
        input_tokens: 2006,
        output_tokens: 913,
        detail: 1,
        start_ns: start,
        end_ns: end,
        span_id: b"",
        trace_id: b"trace-1",
        is_root: false,
    }
}

fn deduper() -> Deduper {
    Deduper::new(&DedupeConfig::default())
}

#[test]
fn same_response_id_is_one_call_across_batches() {
    let d = deduper();
    let a = call(Some("chatcmpl-1"), "o3-mini", 10 * S, 12 * S);
    let mut b = call(
        Some("chatcmpl-1"),
        "o3-mini-2025-01-31",
        10 * S - 5 * MS,
        12 * S + 5 * MS,
    );
    b.output_tokens = 914; // an instrumentation that miscounts by one still names the response
    assert_eq!(d.judge(&[a], 1), vec![Verdict::First]);
    assert_eq!(d.judge(&[b], 2), vec![Verdict::Duplicate]);
}

#[test]
fn fingerprint_matches_nested_spans_without_ids() {
    let d = deduper();
    let inner = call(None, "gpt-4o-2024-08-06", 10 * S + 20 * MS, 11 * S);
    let outer = call(Some("chatcmpl-9"), "gpt-4o", 10 * S, 11 * S + 30 * MS);
    assert_eq!(d.judge(&[inner], 1), vec![Verdict::First]);
    assert_eq!(d.judge(&[outer], 2), vec![Verdict::Duplicate]);
    // The outer span's id now names the call: a third span with only the id matches.
    let mut third = call(Some("chatcmpl-9"), "gpt-4o", 10 * S, 11 * S);
    third.input_tokens = 1;
    assert_eq!(d.judge(&[third], 3), vec![Verdict::Duplicate]);
}

#[test]
fn a_zero_length_usage_log_inside_a_streamed_call_is_the_same_call() {
    let d = deduper();
    let call_span = CallIdentity {
        detail: 2,
        ..call(None, "gpt-4o", 10 * S, 40 * S)
    };
    let log = CallIdentity {
        detail: 0,
        ..call(None, "gpt-4o", 40 * S - MS, 40 * S - MS)
    };
    assert_eq!(
        d.judge(&[log, call_span], 1),
        vec![Verdict::Duplicate, Verdict::First],
        "the span with a duration is preferred within a batch"
    );
}

#[test]
fn different_calls_stay_different() {
    let d = deduper();
    let a = call(Some("chatcmpl-1"), "gpt-4o", 10 * S, 11 * S);
    // Same tokens and times but another response id: parallel identical requests.
    let b = call(Some("chatcmpl-2"), "gpt-4o", 10 * S, 11 * S);
    // Same tokens, later.
    let c = call(None, "gpt-4o", 20 * S, 21 * S);
    // Same tokens and times, another model.
    let e = call(None, "o3-mini", 10 * S, 11 * S);
    // Same id reused much later (self-hosted servers number their responses).
    let f = call(Some("chatcmpl-1"), "gpt-4o", 100 * S, 101 * S);
    let mut g = call(None, "gpt-4o", 10 * S, 11 * S);
    g.service = "other";
    assert_eq!(d.judge(&[a, b, c, e, f, g], 1), vec![Verdict::First; 6]);
}

#[test]
fn calls_made_one_after_another_are_different_calls() {
    // A classifier called in a loop: same prompt, same usage, 300 ms apart, no response ids.
    let d = deduper();
    let calls: Vec<_> = (0..5u64)
        .map(|i| call(None, "gpt-4o", i * 300 * MS, i * 300 * MS + 250 * MS))
        .collect();
    assert_eq!(d.judge(&calls, 1), vec![Verdict::First; 5]);
}

#[test]
fn across_traces_only_when_one_span_started_its_trace() {
    let inner = |trace: &'static [u8], root: bool| CallIdentity {
        trace_id: trace,
        is_root: root,
        ..call(None, "gpt-4o", 10 * S + 20 * MS, 11 * S)
    };
    let outer = CallIdentity {
        trace_id: b"trace-A",
        ..call(None, "gpt-4o", 10 * S, 11 * S + 30 * MS)
    };
    // Two ordinary traces (each call under its own request span): two calls.
    let d = deduper();
    assert_eq!(
        d.judge(&[outer.clone(), inner(b"trace-B", false)], 1),
        vec![Verdict::First, Verdict::First]
    );
    // The OpenAI span orphaned into a trace of its own (a root): the same call.
    let d = deduper();
    assert_eq!(
        d.judge(&[outer, inner(b"trace-B", true)], 1),
        vec![Verdict::Duplicate, Verdict::First]
    );
}

#[test]
fn batch_preference_is_deterministic() {
    let rich = CallIdentity {
        detail: 4,
        span_id: b"\x02",
        ..call(None, "gpt-4o", 10 * S, 11 * S)
    };
    let poor = CallIdentity {
        detail: 1,
        span_id: b"\x01",
        ..call(None, "gpt-4o", 10 * S, 11 * S - 10 * MS)
    };
    for batch in [[rich.clone(), poor.clone()], [poor.clone(), rich.clone()]] {
        let v = deduper().judge(&batch, 1);
        let kept: Vec<u8> = batch
            .iter()
            .zip(&v)
            .filter(|(_, v)| **v == Verdict::First)
            .map(|(c, _)| c.detail)
            .collect();
        assert_eq!(kept, vec![4]);
    }
}

#[test]
fn window_is_bounded_by_age_entries_and_bytes() {
    let cfg = DedupeConfig {
        max_entries: 3,
        ..DedupeConfig::default()
    };
    let d = Deduper::new(&cfg);
    for i in 0..10u64 {
        let mut c = call(None, "gpt-4o", i * 10 * S, i * 10 * S + S);
        c.input_tokens = i;
        d.judge(&[c], i);
    }
    let s = d.stats();
    assert_eq!(s.dedupe_window_entries, 3);
    assert_eq!(s.dedupe_window_bytes, 3 * window::ENTRY_BYTES);
    assert_eq!(s.dedupe_window_evictions, 7);
    // Bytes bound the count too.
    let cfg = DedupeConfig {
        max_bytes: 2 * window::ENTRY_BYTES,
        ..DedupeConfig::default()
    };
    let d = Deduper::new(&cfg);
    for i in 0..5u64 {
        let mut c = call(None, "gpt-4o", 0, S);
        c.input_tokens = i;
        d.judge(&[c], 0);
    }
    assert_eq!(d.stats().dedupe_window_entries, 2);
    // Age: a call seen longer ago than the window is forgotten.
    let d = deduper();
    d.judge(&[call(Some("x"), "gpt-4o", 0, S)], 0);
    d.judge(&[], 301 * S);
    assert_eq!(d.stats().dedupe_window_entries, 0);
    assert_eq!(d.stats().dedupe_window_evictions, 0);
}

#[test]
fn huge_strings_cost_no_more_than_small_ones() {
    let d = deduper();
    let big = "m".repeat(1 << 20);
    let mut c = call(Some(&big), &big, 0, S);
    c.service = &big;
    d.judge(&[c], 0);
    assert_eq!(d.stats().dedupe_window_bytes, window::ENTRY_BYTES);
}

#[test]
fn model_families() {
    assert_eq!(model_family("gpt-4o-2024-08-06"), "gpt-4o");
    assert_eq!(
        model_family("claude-sonnet-4-5-20250929"),
        "claude-sonnet-4-5"
    );
    assert_eq!(model_family("openai/gpt-4o"), "gpt-4o");
    assert_eq!(
        model_family("claude-3-5-sonnet@20240620"),
        "claude-3-5-sonnet"
    );
    assert_eq!(model_family("o3-mini"), "o3-mini");
    assert_eq!(model_family("gpt-4-0613"), "gpt-4-0613");
}

#[test]
fn detail_prefers_real_durations_and_more_token_classes() {
    let log = detail_score(false, 1024, 0, 0, 0, false);
    let span = detail_score(false, 1024, 0, 0, 0, true);
    let bare = detail_score(false, 0, 0, 0, 0, true);
    assert!(span > log && span > bare);
}

#[test]
fn config_ranges_name_the_key() {
    let bad = [
        r#"{"window_seconds": 0}"#,
        r#"{"max_entries": 0}"#,
        r#"{"max_bytes": 1}"#,
        r#"{"time_slack_ms": 600000}"#,
    ];
    for b in bad {
        let c: DedupeConfig = serde_json::from_str(b).unwrap();
        let e = c.validate().unwrap_err();
        let key = b.split('"').nth(1).unwrap();
        assert!(e.contains(&format!("dedupe.{key}")), "{e}");
    }
    assert!(serde_json::from_str::<DedupeConfig>(r#"{"windows": 1}"#).is_err());
    DedupeConfig::default().validate().unwrap();
}

/// The engine judges batches from many goroutines at once: the same call arriving on several
/// threads is still the first exactly once.
#[test]
fn concurrent_batches_count_a_call_once() {
    let d = std::sync::Arc::new(deduper());
    let firsts: usize = (0..8)
        .map(|_| {
            let d = d.clone();
            std::thread::spawn(move || {
                (0..50u64)
                    .map(|i| {
                        let id = format!("chatcmpl-{i}");
                        let c = CallIdentity {
                            input_tokens: i,
                            ..call(Some(&id), "gpt-4o", i * S, i * S + MS)
                        };
                        d.judge(&[c], 1)
                            .iter()
                            .filter(|v| **v == Verdict::First)
                            .count()
                    })
                    .sum::<usize>()
            })
        })
        .collect::<Vec<_>>()
        .into_iter()
        .map(|h| h.join().unwrap())
        .sum();
    assert_eq!(firsts, 50);
}

/// A small deterministic generator (xorshift), so the stream below is the same every run.
struct Rng(u64);

impl Rng {
    fn below(&mut self, n: u64) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0 % n
    }
}

/// The fingerprint index split by end-time slot judges every call as one list per
/// fingerprint did (slot width u64::MAX), on a stream dense in look-alikes: two usages, ids
/// that repeat, four traces, roots, nested layers of one call, expiry and eviction.
#[test]
fn end_time_slots_judge_like_one_list() {
    let cfg = DedupeConfig {
        window_seconds: 30,
        max_entries: 200,
        ..DedupeConfig::default()
    };
    let mut slotted = window::Window::new(&cfg);
    let mut one_list = window::Window::with_slot(&cfg, u64::MAX);
    let ids = [None, None, Some("r1"), Some("r2"), Some("r3")];
    let models = [Some("gpt-4o"), Some("gpt-4o-mini"), None];
    let traces: [&[u8]; 4] = [b"t1", b"t2", b"t3", b"t4"];
    let durations = [0, 10 * MS, 500 * MS, 2 * S, 5 * S];
    let mut rng = Rng(0x2545_f491_4f6c_dd1d);
    let (mut now, mut prev) = (0u64, call(None, "gpt-4o", 0, S));
    let (mut duplicates, mut firsts) = (0, 0);
    for _ in 0..20_000 {
        now += rng.below(3) * 100 * MS;
        let mut c = if rng.below(3) == 0 {
            // Another layer of the previous call: inside it, or around it, ends close.
            let mut c = prev.clone();
            let (d1, d2) = (rng.below(3) * MS, rng.below(1_500) * MS);
            c.start_ns += d1;
            c.end_ns = if rng.below(2) == 0 {
                c.end_ns.saturating_sub(d2)
            } else {
                c.end_ns + d2
            };
            c
        } else {
            let start = now + rng.below(20) * 100 * MS;
            call(
                None,
                "gpt-4o",
                start,
                start + durations[rng.below(5) as usize],
            )
        };
        c.response_id = ids[rng.below(5) as usize];
        c.model = models[rng.below(3) as usize];
        c.provider = if rng.below(4) == 0 { "" } else { "openai" };
        c.input_tokens = 1 + rng.below(2);
        c.output_tokens = 7;
        c.trace_id = traces[rng.below(4) as usize];
        c.is_root = rng.below(5) == 0;
        prev = c.clone();
        slotted.expire(now);
        one_list.expire(now);
        let v = slotted.observe(&c, now);
        assert_eq!(v, one_list.observe(&c, now), "call {c:?}");
        match v {
            Verdict::Duplicate => duplicates += 1,
            Verdict::First => firsts += 1,
        }
    }
    assert!(
        duplicates > 1_000 && firsts > 1_000,
        "{duplicates} {firsts}"
    );
}

/// Calls with the same service and usage spread over time land in slots of their own, so a
/// new call is compared with the few that ended near it, not with every one in the window.
#[test]
fn same_usage_calls_spread_over_time_are_not_all_compared() {
    let d = deduper();
    for i in 0..10_000u64 {
        let mut c = call(None, "gpt-4o", i * 2 * S, i * 2 * S + S);
        c.trace_id = b"trace-1";
        d.judge(&[c], i * 10 * MS);
    }
    let w = d.window.lock().unwrap();
    assert_eq!(w.stats().dedupe_window_entries, 10_000);
    assert_eq!(w.largest_slot(), 1);
}

/// A flood of look-alike calls ending within one slack: a new layer is compared with the
/// newest 256 of its slot. The layer of a recent call is still recognised; the layer of one
/// buried under 1,000 newer look-alikes is not (the documented limit).
#[test]
fn a_flood_of_look_alikes_is_compared_with_the_newest_only() {
    let d = deduper();
    let traces: Vec<Vec<u8>> = (0..1_000u32).map(|i| i.to_be_bytes().to_vec()).collect();
    for t in &traces {
        let mut c = call(None, "gpt-4o", 10 * S, 11 * S);
        c.trace_id = t;
        assert_eq!(d.judge(&[c], 1), vec![Verdict::First]);
    }
    let layer = |t: &'static [u8]| {
        let mut c = call(None, "gpt-4o", 10 * S + MS, 11 * S - MS);
        c.trace_id = t;
        c
    };
    let newest: &'static [u8] = Box::leak(traces[999].clone().into_boxed_slice());
    let oldest: &'static [u8] = Box::leak(traces[0].clone().into_boxed_slice());
    assert_eq!(d.judge(&[layer(newest)], 2), vec![Verdict::Duplicate]);
    assert_eq!(d.judge(&[layer(oldest)], 2), vec![Verdict::First]);
}
