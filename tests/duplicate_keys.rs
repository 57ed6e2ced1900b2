//! An attribute map may hold the same key twice: the wire format allows it and pdata keeps
//! both entries. Redaction reads every entry, but its edits address attributes by key and an
//! ordinary set or delete touches the first entry with the key only (pdata's Put and Remove),
//! so a secret in another copy used to get through (found by the `redaction` fuzz target).
//! Edits for a key the map holds more than once now carry the every-copy bit: every entry with
//! the key is removed, then a set puts the redacted value once.

mod common;

use common::raw::{RawBatch, RawEvent, RawScope, RawSpan, Val};
use opentelemetry_proto::tonic::common::v1::{any_value::Value, AnyValue, KeyValue};
use opentelemetry_proto::tonic::resource::v1::Resource;
use opentelemetry_proto::tonic::trace::v1::{ResourceSpans, ScopeSpans, Span, TracesData};
use prost::Message;
use tollbooth::config::EngineConfig;
use tollbooth::edits::{self, Disposition, EditList, Op, Target};
use tollbooth::otlp::read_traces;
use tollbooth::redact::{RedactionConfig, RedactionCounts, Redactor};
use tollbooth::Engine;

const SECRET: &str = "tb-planted-4242";

fn text(key: &str, value: &str) -> KeyValue {
    KeyValue {
        key: key.into(),
        value: Some(AnyValue {
            value: Some(Value::StringValue(value.into())),
        }),
    }
}

fn contains(hay: &[u8], needle: &[u8]) -> bool {
    hay.windows(needle.len()).any(|w| w == needle)
}

/// Through the engine and Rust's own `edits::apply` (the sampler's held copy).
#[test]
fn a_duplicated_key_is_redacted_in_every_copy() {
    let cfg = EngineConfig::from_json(
        br#"{"redaction": {"allow_all_keys": true, "blocked_values": ["tb-planted-4242"]}}"#,
    )
    .unwrap();
    let engine = Engine::new(cfg, 0).unwrap();
    let mut td = TracesData {
        resource_spans: vec![ResourceSpans {
            resource: Some(Resource::default()),
            scope_spans: vec![ScopeSpans {
                spans: vec![Span {
                    name: "chat".into(),
                    attributes: vec![text("note", "harmless"), text("note", SECRET)],
                    ..Default::default()
                }],
                ..Default::default()
            }],
            ..Default::default()
        }],
    };
    let out = engine.process(&td.encode_to_vec(), 1).unwrap();
    let (_, list) = edits::decode(&out).unwrap();
    assert!(edits::apply(&mut td, &list));
    let bytes = td.encode_to_vec();
    assert!(
        !contains(&bytes, SECRET.as_bytes()),
        "the second copy of a duplicated key kept the secret"
    );
    let attrs = &td.resource_spans[0].scope_spans[0].spans[0].attributes;
    let notes: Vec<_> = attrs.iter().filter(|kv| kv.key == "note").collect();
    assert_eq!(notes.len(), 1, "one copy is left: {attrs:?}");
}

fn redactor(json: &str) -> Redactor {
    Redactor::new(&RedactionConfig::from_json(json.as_bytes()).unwrap()).unwrap()
}

/// Redacts `batch` and applies the edits as Go does; the output batch and the ops.
fn redact_raw(r: &Redactor, batch: &RawBatch) -> (RawBatch, Vec<(Target, Op)>) {
    let bytes = batch.encode();
    let traces = read_traces(&bytes).unwrap();
    let mut list = EditList::new();
    r.redact_batch(&traces, &mut list, &mut RedactionCounts::default());
    let (_, ops) = edits::decode(&list.finish(Disposition::Forward)).unwrap();
    let mut out = batch.clone();
    out.apply(&ops);
    (out, ops)
}

fn s(v: &str) -> Val {
    Val::Str(v.as_bytes().to_vec())
}

/// A batch whose every attribute map (resource, scope, span, event, link) is `attrs`.
fn everywhere(attrs: Vec<(Vec<u8>, Val)>) -> RawBatch {
    RawBatch {
        resource: attrs.clone(),
        scopes: vec![RawScope {
            name: b"scope".to_vec(),
            attrs: attrs.clone(),
            spans: vec![RawSpan {
                name: b"chat".to_vec(),
                attrs: attrs.clone(),
                events: vec![RawEvent {
                    name: b"event".to_vec(),
                    attrs: attrs.clone(),
                }],
                links: vec![attrs],
                status: Vec::new(),
            }],
        }],
    }
}

fn all_maps(b: &RawBatch) -> Vec<&Vec<(Vec<u8>, Val)>> {
    let span = &b.scopes[0].spans[0];
    vec![
        &b.resource,
        &b.scopes[0].attrs,
        &span.attrs,
        &span.events[0].attrs,
        &span.links[0],
    ]
}

/// Every rule that edits a value, with the secret in the first, the second, or both copies
/// (differing), in every kind of attribute map: no copy of the secret is left, the key is left
/// at most once, and what is left is not the secret.
#[test]
fn no_copy_survives_any_rule_in_any_map() {
    let configs = [
        // blocked value, masked in place
        r#"{"allow_all_keys": true, "summary": "silent", "blocked_values": ["tb-planted-[0-9]+"]}"#,
        // blocked key pattern, masked whole
        r#"{"allow_all_keys": true, "summary": "silent", "blocked_key_patterns": ["^note$"]}"#,
        // sensitive key, masked whole
        r#"{"allow_all_keys": true, "summary": "silent", "sensitive_keys": ["note"]}"#,
        // not an allowed key: deleted
        r#"{"allowed_keys": ["other"], "summary": "debug"}"#,
        // audit attributes as well
        r#"{"allow_all_keys": true, "summary": "debug", "blocked_values": ["tb-planted-[0-9]+"]}"#,
    ];
    let placements: [&[&str]; 4] = [
        &["harmless", SECRET],
        &[SECRET, "harmless"],
        &[SECRET, "and tb-planted-777 too"],
        &["x", "y", SECRET, "z"],
    ];
    for cfg in configs {
        let r = redactor(cfg);
        for values in placements {
            let mut attrs = vec![(b"other".to_vec(), s("kept"))];
            for v in values {
                attrs.push((b"note".to_vec(), s(v)));
            }
            let batch = everywhere(attrs);
            let (out, ops) = redact_raw(&r, &batch);
            let encoded = out.encode();
            assert!(
                !contains(&encoded, b"tb-planted-"),
                "{cfg} {values:?}: a copy kept the secret; ops {ops:?}"
            );
            for map in all_maps(&out) {
                let notes = map.iter().filter(|(k, _)| k == b"note").count();
                assert!(notes <= 1, "{cfg} {values:?}: {map:?}");
                assert!(map.iter().any(|(k, _)| k == b"other"), "{cfg}: {map:?}");
            }
        }
    }
}

/// Duplicated audit keys an earlier processor (or a client) wrote are left once, with the count.
#[test]
fn duplicated_audit_attributes_are_written_once() {
    let r = redactor(
        r#"{"allow_all_keys": true, "summary": "info", "blocked_values": ["tb-planted-[0-9]+"]}"#,
    );
    let batch = everywhere(vec![
        (b"redaction.masked.count".to_vec(), Val::Int(1)),
        (b"redaction.masked.count".to_vec(), Val::Int(100)),
        (b"note".to_vec(), s(SECRET)),
    ]);
    let (out, _) = redact_raw(&r, &batch);
    for map in all_maps(&out) {
        let counts: Vec<_> = map
            .iter()
            .filter(|(k, _)| k == b"redaction.masked.count")
            .collect();
        assert_eq!(counts.len(), 1, "{map:?}");
        assert!(matches!(counts[0].1, Val::Int(2)), "{map:?}");
    }
}

/// Maps longer than the pairwise limit are checked by sorting; the bit goes only on the keys
/// that are duplicated.
#[test]
fn long_maps_and_only_duplicated_keys_get_the_bit() {
    let r = redactor(
        r#"{"allow_all_keys": true, "summary": "silent", "blocked_values": ["tb-planted-[0-9]+"]}"#,
    );
    for n in [0usize, 3, 15, 16, 17, 40] {
        let mut attrs: Vec<(Vec<u8>, Val)> = (0..n)
            .map(|i| (format!("k{i}").into_bytes(), s("plain")))
            .collect();
        attrs.push((b"single".to_vec(), s(SECRET)));
        attrs.push((b"note".to_vec(), s("plain")));
        attrs.insert(n / 2, (b"note".to_vec(), s(SECRET)));
        let batch = everywhere(attrs);
        let (out, ops) = redact_raw(&r, &batch);
        assert!(!contains(&out.encode(), b"tb-planted-"), "n {n}");
        for (_, op) in &ops {
            match op.key() {
                Some("note") => assert!(matches!(op, Op::EveryCopy(_)), "n {n}: {op:?}"),
                Some("single") => assert!(!matches!(op, Op::EveryCopy(_)), "n {n}: {op:?}"),
                other => panic!("n {n}: unexpected edit for {other:?}: {op:?}"),
            }
        }
    }
}

/// The common case is unchanged: a map without duplicated keys gets no every-copy op.
#[test]
fn maps_without_duplicates_get_ordinary_ops() {
    let r = redactor(r#"{"allowed_keys": ["note"], "blocked_values": ["tb-planted-[0-9]+"]}"#);
    let batch = everywhere(vec![
        (b"note".to_vec(), s(SECRET)),
        (b"dropped".to_vec(), s("x")),
    ]);
    let (out, ops) = redact_raw(&r, &batch);
    assert!(!ops.is_empty());
    assert!(ops.iter().all(|(_, op)| !matches!(op, Op::EveryCopy(_))));
    assert!(!contains(&out.encode(), b"tb-planted-"));
}
