//! The edit list (src/edits.rs): encoder, decoder and the Rust applier (the sampler applies
//! the engine's own edits to the copy it holds).
//!
//! Asserts: arbitrary bytes never panic the decoder, and what it accepts re-encodes to a list
//! that decodes the same; a list built from fuzz bytes round-trips exactly; applying it either
//! succeeds, leaving a structurally identical batch (same resources, scopes, spans and IDs in
//! the same order, minus the spans it drops) whose attributes hold the last value each key
//! was set to, or is refused because an edit addresses a missing position, and then the batch
//! is unchanged.
#![no_main]

use libfuzzer_sys::fuzz_target;
use opentelemetry_proto::tonic::common::v1::{any_value::Value, AnyValue, ArrayValue, KeyValue};
use opentelemetry_proto::tonic::trace::v1::TracesData;
use prost::Message;
use tollbooth::edits::{self, Disposition, EditList, Op, Target};
use tollbooth_fuzz::input::{pieces, Cursor};
use tollbooth_fuzz::synth;

const KEYS: &[&str] = &["a", "gen_ai.usage.cost", "service.name", "note", ""];

/// An index that is usually in range and sometimes just past it or far out.
fn index(c: &mut Cursor, len: usize) -> u32 {
    match c.u8() % 16 {
        0 => len as u32,
        1 => u32::MAX,
        _ => c.below(len.max(1)) as u32,
    }
}

fn target(c: &mut Cursor, td: &TracesData) -> Target {
    let rs = index(c, td.resource_spans.len());
    let scopes = td
        .resource_spans
        .get(rs as usize)
        .map(|r| r.scope_spans.as_slice());
    let ss = index(c, scopes.map_or(0, <[_]>::len));
    let spans = scopes
        .and_then(|s| s.get(ss as usize))
        .map(|s| s.spans.as_slice());
    let span = index(c, spans.map_or(0, <[_]>::len));
    let one = spans.and_then(|s| s.get(span as usize));
    match c.u8() % 5 {
        0 => Target::Resource { rs },
        1 => Target::Scope { rs, ss },
        2 => Target::Event {
            rs,
            ss,
            span,
            event: index(c, one.map_or(0, |s| s.events.len())),
        },
        3 => Target::Link {
            rs,
            ss,
            span,
            link: index(c, one.map_or(0, |s| s.links.len())),
        },
        _ => Target::Span { rs, ss, span },
    }
}

fn key(c: &mut Cursor) -> String {
    if c.one_in(6) {
        c.text(8)
    } else {
        c.pick(KEYS).to_string()
    }
}

fn op(c: &mut Cursor) -> Op {
    match c.u8() % 9 {
        0 => Op::SetStr(key(c), c.text(16)),
        1 => Op::SetInt(key(c), c.u64() as i64),
        2 => Op::SetDouble(key(c), f64::from_bits(c.u64())),
        3 => Op::SetBool(key(c), c.bool()),
        4 => Op::Delete(key(c)),
        5 => Op::DropSpan,
        6 => Op::SetStatusMessage(c.text(16)),
        7 => Op::SetAny(key(c), AnyValue { value: None }.encode_to_vec()),
        _ => Op::SetAny(
            key(c),
            AnyValue {
                value: Some(Value::ArrayValue(ArrayValue {
                    values: vec![AnyValue {
                        value: Some(Value::StringValue(c.text(8))),
                    }],
                })),
            }
            .encode_to_vec(),
        ),
    }
}

/// Whether `at` names a position the batch has (what `apply` must check before editing).
fn addressable(td: &TracesData, at: Target) -> bool {
    let span = |rs: u32, ss: u32, span: u32| {
        td.resource_spans
            .get(rs as usize)
            .and_then(|r| r.scope_spans.get(ss as usize))
            .and_then(|s| s.spans.get(span as usize))
    };
    match at {
        Target::Resource { rs } => (rs as usize) < td.resource_spans.len(),
        Target::Scope { rs, ss } => td
            .resource_spans
            .get(rs as usize)
            .is_some_and(|r| (ss as usize) < r.scope_spans.len()),
        Target::Span { rs, ss, span: i } => span(rs, ss, i).is_some(),
        Target::Event {
            rs,
            ss,
            span: i,
            event,
        } => span(rs, ss, i).is_some_and(|s| (event as usize) < s.events.len()),
        Target::Link {
            rs,
            ss,
            span: i,
            link,
        } => span(rs, ss, i).is_some_and(|s| (link as usize) < s.links.len()),
    }
}

fn attrs(td: &TracesData, at: Target) -> Option<&[KeyValue]> {
    let span = |rs: u32, ss: u32, i: u32| {
        td.resource_spans
            .get(rs as usize)?
            .scope_spans
            .get(ss as usize)?
            .spans
            .get(i as usize)
    };
    Some(match at {
        Target::Resource { rs } => td
            .resource_spans
            .get(rs as usize)?
            .resource
            .as_ref()?
            .attributes
            .as_slice(),
        Target::Scope { rs, ss } => td
            .resource_spans
            .get(rs as usize)?
            .scope_spans
            .get(ss as usize)?
            .scope
            .as_ref()?
            .attributes
            .as_slice(),
        Target::Span { rs, ss, span: i } => &span(rs, ss, i)?.attributes,
        Target::Event {
            rs,
            ss,
            span: i,
            event,
        } => &span(rs, ss, i)?.events.get(event as usize)?.attributes,
        Target::Link {
            rs,
            ss,
            span: i,
            link,
        } => &span(rs, ss, i)?.links.get(link as usize)?.attributes,
    })
}

/// A span's place and identity: resource and scope index, IDs, name, start, event and link
/// counts. Edits may change attributes and status messages, never these.
type Bones = (usize, usize, Vec<u8>, Vec<u8>, String, u64, usize, usize);

/// Every span's [`Bones`], in order.
fn skeleton(td: &TracesData) -> Vec<Bones> {
    let mut out = Vec::new();
    for (r, rs) in td.resource_spans.iter().enumerate() {
        for (s, ss) in rs.scope_spans.iter().enumerate() {
            for sp in &ss.spans {
                out.push((
                    r,
                    s,
                    sp.trace_id.clone(),
                    sp.span_id.clone(),
                    sp.name.clone(),
                    sp.start_time_unix_nano,
                    sp.events.len(),
                    sp.links.len(),
                ));
            }
        }
    }
    out
}

fn same_value(a: &Option<AnyValue>, b: &Option<AnyValue>) -> bool {
    match (
        a.as_ref().and_then(|v| v.value.as_ref()),
        b.as_ref().and_then(|v| v.value.as_ref()),
    ) {
        (Some(Value::DoubleValue(x)), Some(Value::DoubleValue(y))) => x.to_bits() == y.to_bits(),
        _ => a == b,
    }
}

fuzz_target!(|data: &[u8]| {
    let parts = pieces(data);
    // Any bytes: the decoder refuses or accepts, and what it accepts is a fixed point.
    if let Some((d, list)) = edits::decode(parts[0]) {
        let again = encode(&list, d);
        let (d2, list2) = edits::decode(&again).expect("a re-encoded list decodes");
        assert_eq!(d, d2);
        assert_eq!(encode(&list2, d2), again);
    }
    let mut c = Cursor::new(parts.get(1).copied().unwrap_or(&[]));
    let original = synth::batch(&mut c, 1);
    let mut c = Cursor::new(parts.get(2).copied().unwrap_or(parts[0]));
    let mut list: Vec<(Target, Op)> = (0..c.below(12))
        .map(|_| (target(&mut c, &original), op(&mut c)))
        .collect();
    // Span-only ops are only ever written against spans (the encoder skips the others).
    list.retain(|(t, o)| {
        matches!(t, Target::Span { .. }) || !matches!(o, Op::DropSpan | Op::SetStatusMessage(_))
    });

    // Exact round trip of what we built.
    let disposition = if c.bool() {
        Disposition::Held
    } else {
        Disposition::Forward
    };
    let bytes = encode(&list, disposition);
    let (d, decoded) = edits::decode(&bytes).expect("an encoded list decodes");
    assert_eq!(d, disposition);
    assert_eq!(encode(&decoded, d), bytes);
    assert_eq!(decoded.len(), list.len());

    let mut td = original.clone();
    let ok = edits::apply(&mut td, &decoded);
    let expect_ok = list.iter().all(|(t, _)| addressable(&original, *t));
    assert_eq!(
        ok, expect_ok,
        "apply's answer disagrees with the positions in the batch"
    );
    if !ok {
        // Compared encoded: a NaN double is not equal to itself.
        assert!(
            td.encode_to_vec() == original.encode_to_vec(),
            "a refused edit list changed the batch"
        );
        return;
    }

    // Structure: the same spans in the same places, minus the dropped ones.
    let dropped: std::collections::BTreeSet<(u32, u32, u32)> = list
        .iter()
        .filter_map(|(t, o)| match (t, o) {
            (Target::Span { rs, ss, span }, Op::DropSpan) => Some((*rs, *ss, *span)),
            _ => None,
        })
        .collect();
    let mut want = Vec::new();
    for (r, rs) in original.resource_spans.iter().enumerate() {
        for (s, ss) in rs.scope_spans.iter().enumerate() {
            for (i, _) in ss.spans.iter().enumerate() {
                if !dropped.contains(&(r as u32, s as u32, i as u32)) {
                    want.push((r, s, i));
                }
            }
        }
    }
    let before = skeleton(&original);
    let after = skeleton(&td);
    assert_eq!(after.len(), want.len(), "spans lost or duplicated by apply");
    for (got, (r, s, i)) in after.iter().zip(&want) {
        let src = before
            .iter()
            .filter(|x| x.0 == *r && x.1 == *s)
            .nth(*i)
            .expect("span exists");
        assert_eq!(got, src, "span changed identity or moved");
    }

    // Values: the last edit of each key on each target decides it (when nothing dropped the
    // span and shifted positions).
    if !dropped.is_empty() {
        return;
    }
    for (i, (t, o)) in decoded.iter().enumerate() {
        let (k, v) = match o {
            Op::SetStr(k, v) => (k, Some(Value::StringValue(v.clone()))),
            Op::SetInt(k, v) => (k, Some(Value::IntValue(*v))),
            Op::SetDouble(k, v) => (k, Some(Value::DoubleValue(*v))),
            Op::SetBool(k, v) => (k, Some(Value::BoolValue(*v))),
            Op::SetAny(k, v) => (
                k,
                AnyValue::decode(v.as_slice())
                    .expect("built from an AnyValue")
                    .value,
            ),
            Op::Delete(k) => (k, None),
            _ => continue,
        };
        let later = decoded[i + 1..].iter().any(|(t2, o2)| {
            t2 == t
                && matches!(o2, Op::SetStr(k2, _) | Op::SetInt(k2, _) | Op::SetDouble(k2, _)
                    | Op::SetBool(k2, _) | Op::SetAny(k2, _) | Op::Delete(k2) if k2 == k)
        });
        if later {
            continue;
        }
        let found = attrs(&td, *t).and_then(|a| a.iter().find(|kv| &kv.key == k));
        match (o, found) {
            (Op::Delete(_), None) => {}
            (Op::Delete(_), Some(_)) => panic!("{k:?} still present after its delete"),
            (_, Some(kv)) => assert!(
                same_value(&kv.value, &Some(AnyValue { value: v })),
                "{k:?} holds {:?}, last set to {o:?}",
                kv.value
            ),
            (_, None) => panic!("{k:?} missing after it was set"),
        }
    }
});

fn encode(list: &[(Target, Op)], d: Disposition) -> Vec<u8> {
    let mut e = EditList::new();
    for (t, o) in list {
        e.push(*t, o);
    }
    e.finish(d)
}
