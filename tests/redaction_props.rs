//! Properties: redaction never panics on arbitrary UTF-8, is idempotent, never turns valid
//! JSON into invalid JSON, and, on whole batches a hostile client can send (bytes that are not
//! UTF-8, any depth, huge values), lets no planted secret through and loses no span.

mod common;

use common::raw::{RawBatch, RawEvent, RawScope, RawSpan, Val};
use proptest::prelude::*;
use tollbooth::edits::{self, Disposition, EditList};
use tollbooth::otlp::{find_str, kv_str, read_traces};
use tollbooth::redact::{RedactionConfig, RedactionCounts, Redactor};

/// Built once: compiling every detector per case would dominate the run time.
fn redactor() -> &'static Redactor {
    static R: std::sync::OnceLock<Redactor> = std::sync::OnceLock::new();
    R.get_or_init(build)
}

fn build() -> Redactor {
    let cfg = RedactionConfig::from_json(
        br#"{"allow_all_keys": true, "summary": "silent", "detectors": ["all"],
             "blocked_values": ["secret[0-9]+"], "blocked_key_patterns": ["^password$"],
             "max_value_bytes": 2048}"#,
    )
    .unwrap();
    Redactor::new(&cfg).unwrap()
}

fn redact(r: &Redactor, key: &str, text: &str) -> String {
    let mut td = common::one_span(vec![kv_str(key, text)]);
    common::redact_owned(r, &mut td, &mut RedactionCounts::default());
    find_str(
        &td.resource_spans[0].scope_spans[0].spans[0].attributes,
        key,
    )
    .unwrap()
    .to_string()
}

/// Text made of pieces that look like what the detectors hunt, glued with separators, so
/// the properties are exercised near real matches rather than only on random noise.
fn fragments() -> impl Strategy<Value = String> {
    let piece = prop_oneof![
        Just("jane.doe@example.org".to_string()),
        Just("4111 1111 1111 1111".to_string()),
        Just("4111111111111112".to_string()),
        Just("123-45-6789".to_string()),
        Just("GB82 WEST 1234 5698 7654 32".to_string()),
        Just("+1 415-555-0132".to_string()),
        Just("(212) 555-0187".to_string()),
        Just("203.0.113.42".to_string()),
        Just("2001:db8::8a2e:370:7334".to_string()),
        Just("Bearer abc123def456ghi789".to_string()),
        Just("password=hunter2x".to_string()),
        Just("https://u:pw12@h.example".to_string()),
        Just("secret42".to_string()),
        Just(common::fake("openai_proj").unwrap()),
        Just(common::fake("jwt").unwrap()),
        Just(common::fake("pem").unwrap()),
        Just(common::fake("aws_id").unwrap()),
        Just("ghp_aB3dE5fG7hJ9kL1mN2pQ4rS6tU8vW0xYz1A2".to_string()),
        Just("api_key = \"Zf3D0LXCM3EIMbgJpUNnkRtOfOueHznB\"".to_string()),
        Just("token: xoxb-123456789012-1234567890123-AbCdEfGhIjKlMnOpQrStUvWx".to_string()),
        "[0-9]{1,20}",
        "[a-zA-Z0-9@:./+_-]{1,30}",
        "\\PC{0,10}",
    ];
    let sep = prop_oneof![
        Just(""),
        Just(" "),
        Just("-"),
        Just("."),
        Just(":"),
        Just("\n"),
        Just("\""),
        Just("\\"),
        Just(",")
    ];
    prop::collection::vec((piece, sep), 0..8)
        .prop_map(|v| v.into_iter().map(|(p, s)| format!("{p}{s}")).collect())
}

fn json_value() -> impl Strategy<Value = serde_json::Value> {
    let leaf = prop_oneof![
        fragments().prop_map(serde_json::Value::String),
        any::<i64>().prop_map(serde_json::Value::from),
        Just(serde_json::Value::from(4111111111111111u64)),
        any::<bool>().prop_map(serde_json::Value::Bool),
        Just(serde_json::Value::Null),
    ];
    leaf.prop_recursive(4, 32, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(serde_json::Value::Array),
            prop::collection::vec(("[a-z_]{1,8}|password|role|content", inner), 0..6)
                .prop_map(|kv| serde_json::Value::Object(kv.into_iter().collect())),
        ]
    })
}

/// Detectors only: the JSON fast path (skip the parse when the raw text matches nothing) is on.
fn fast() -> &'static Redactor {
    static R: std::sync::OnceLock<Redactor> = std::sync::OnceLock::new();
    R.get_or_init(|| {
        Redactor::new(
            &RedactionConfig::from_json(
                br#"{"allow_all_keys": true, "summary": "silent", "detectors": ["all"]}"#,
            )
            .unwrap(),
        )
        .unwrap()
    })
}

/// The same, with a never-matching allowed value, which turns the fast path off.
fn slow() -> &'static Redactor {
    static R: std::sync::OnceLock<Redactor> = std::sync::OnceLock::new();
    R.get_or_init(|| {
        Redactor::new(&RedactionConfig::from_json(br#"{"allow_all_keys": true, "summary": "silent", "detectors": ["all"], "allowed_values": ["^\\x00never$"]}"#).unwrap()).unwrap()
    })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn never_panics_on_arbitrary_utf8(s in "\\PC*", t in any::<String>()) {
        let r = redactor();
        redact(r, "input.value", &s);
        redact(r, "x", &t);
    }

    #[test]
    fn idempotent(s in fragments()) {
        for r in [redactor(), default_config()] {
            let once = redact(r, "gen_ai.prompt.0.content", &s);
            let twice = redact(r, "gen_ai.prompt.0.content", &once);
            prop_assert_eq!(once, twice);
        }
    }

    #[test]
    fn json_stays_json(v in json_value()) {
        // A bare number attribute is treated as text (a card number in `card.number` should
        // read `<REDACTED:credit_card>`), so only containers and strings are JSON here.
        let v = match v {
            v @ (serde_json::Value::Array(_) | serde_json::Value::Object(_) | serde_json::Value::String(_)) => v,
            other => serde_json::Value::Array(vec![other]),
        };
        let r = redactor();
        for text in [v.to_string(), serde_json::to_string_pretty(&v).unwrap()] {
            let out = redact(r, "gen_ai.input.messages", &text);
            prop_assert!(serde_json::from_str::<serde_json::Value>(&out).is_ok(), "{}", out);
            let again = redact(r, "gen_ai.input.messages", &out);
            prop_assert_eq!(&out, &again);
        }
    }

    #[test]
    fn json_fast_path_changes_nothing(v in json_value()) {
        for text in [v.to_string(), serde_json::to_string_pretty(&v).unwrap()] {
            let a = redact(fast(), "gen_ai.input.messages", &text);
            let b = redact(slow(), "gen_ai.input.messages", &text);
            prop_assert_eq!(a, b);
        }
    }

    #[test]
    fn huge_json_stays_json_under_truncation(v in json_value(), n in 1usize..200) {
        let r = redactor();
        let big = serde_json::Value::Array(vec![v; n]).to_string();
        let out = redact(r, "gen_ai.output.messages", &big);
        prop_assert!(serde_json::from_str::<serde_json::Value>(&out).is_ok());
    }
}

/// Redactors for arbitrary attribute shapes, with and without `redact_all_types`.
fn shaped(redact_all: bool) -> &'static Redactor {
    static R: std::sync::OnceLock<[Redactor; 2]> = std::sync::OnceLock::new();
    let rs = R.get_or_init(|| {
        [false, true].map(|all| {
            let cfg = format!(
                r#"{{"allow_all_keys": true, "summary": "silent", "detectors": ["all"],
                     "blocked_key_patterns": ["^password$"], "redact_all_types": {all}}}"#
            );
            Redactor::from_json(cfg.as_bytes()).unwrap()
        })
    });
    &rs[redact_all as usize]
}

fn any_value() -> impl Strategy<Value = opentelemetry_proto::tonic::common::v1::AnyValue> {
    use opentelemetry_proto::tonic::common::v1::{
        any_value::Value, AnyValue, ArrayValue, KeyValue, KeyValueList,
    };
    let leaf = prop_oneof![
        fragments().prop_map(Value::StringValue),
        any::<i64>().prop_map(Value::IntValue),
        Just(Value::IntValue(4111111111111111)),
        any::<f64>().prop_map(Value::DoubleValue),
        any::<bool>().prop_map(Value::BoolValue),
        prop::collection::vec(any::<u8>(), 0..8).prop_map(Value::BytesValue),
    ]
    .prop_map(|v| AnyValue { value: Some(v) });
    leaf.prop_recursive(4, 32, 5, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..5).prop_map(|values| AnyValue {
                value: Some(Value::ArrayValue(ArrayValue { values }))
            }),
            prop::collection::vec(("[a-z]{1,6}|password", inner), 0..5).prop_map(|kvs| AnyValue {
                value: Some(Value::KvlistValue(KeyValueList {
                    values: kvs
                        .into_iter()
                        .map(|(key, v)| KeyValue {
                            key,
                            value: Some(v)
                        })
                        .collect(),
                })),
            }),
        ]
    })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 128, ..ProptestConfig::default() })]

    /// Any attribute shape: no panic, the edit list (op 8 included) round-trips and applies,
    /// and a second pass changes nothing.
    #[test]
    fn any_value_edits_apply_and_are_idempotent(
        vals in prop::collection::vec(any_value(), 1..4),
        redact_all in any::<bool>(),
    ) {
        use opentelemetry_proto::tonic::common::v1::KeyValue;
        let r = shaped(redact_all);
        let attrs = vals
            .into_iter()
            .enumerate()
            .map(|(i, v)| KeyValue { key: format!("k{i}"), value: Some(v) })
            .collect();
        let mut once = common::one_span(attrs);
        common::redact_owned(r, &mut once, &mut RedactionCounts::default());
        let mut again = once.clone();
        common::redact_owned(r, &mut again, &mut RedactionCounts::default());
        // NaN doubles compare unequal to themselves; compare encodings instead.
        use prost::Message;
        prop_assert_eq!(again.encode_to_vec(), once.encode_to_vec());
    }
}

// ---- Whole batches as a hostile client can send them (issue 9) ----

/// The default collector config's redaction block (kept in step with config/collector.yaml by
/// a Go test).
fn default_config() -> &'static Redactor {
    static R: std::sync::OnceLock<Redactor> = std::sync::OnceLock::new();
    R.get_or_init(|| {
        Redactor::from_json(include_bytes!("fixtures/default_redaction.json")).unwrap()
    })
}

/// Secrets the default config must catch, each as the exact bytes that must not survive.
fn planted() -> Vec<String> {
    let mut v: Vec<String> = [
        "jane.doe@example.org",
        "4111111111111111",
        "4111 1111 1111 1111",
        "5500-0000-0000-0004",
        "123-45-6789",
        "GB82 WEST 1234 5698 7654 32",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    for name in [
        "openai_proj",
        "anthropic",
        "aws_id",
        "ghp",
        "jwt",
        "pem",
        "slack",
        "stripe",
    ] {
        v.push(common::fake(name).unwrap());
    }
    v
}

/// Bytes around a secret: anything, including sequences that are not UTF-8. A newline
/// separates them from the secret so that they cannot glue onto it (a detector's own limits
/// are not what this test is about).
fn noise() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        prop::collection::vec(any::<u8>(), 0..24),
        Just(b"\xff\xfe".to_vec()),
        Just(b"caf\xe9 ".to_vec()),
        Just(Vec::new()),
    ]
}

/// A text slot: noise, maybe a secret (its index), noise; sometimes huge.
fn slot(n: usize) -> impl Strategy<Value = (Vec<u8>, Option<usize>)> {
    (
        noise(),
        prop::option::of(0..n),
        noise(),
        prop::option::of(1usize..40_000),
    )
        .prop_map(|(a, s, b, pad)| {
            let mut v = a;
            if let Some(pad) = pad {
                v.extend(std::iter::repeat_n(b'x', pad));
                v.push(b' ');
            }
            if let Some(i) = s {
                v.push(b'\n');
                v.extend_from_slice(planted()[i].as_bytes());
                v.push(b'\n');
            }
            v.extend(b);
            (v, s)
        })
}

fn nested(depth: usize, leaf: Val, in_list: bool) -> Val {
    (0..depth).fold(leaf, |v, i| {
        if in_list && i % 2 == 0 {
            Val::Arr(vec![Val::Int(1), v])
        } else {
            Val::Kv(vec![(b"level".to_vec(), v)])
        }
    })
}

/// Where a slot's text goes.
#[derive(Debug, Clone, Copy)]
enum Place {
    Attr,
    BytesAttr,
    SensitiveKey,
    Nested(usize, bool),
    SpanName,
    EventName,
    EventAttr,
    LinkAttr,
    Status,
    ScopeName,
    ResourceAttr,
    /// Under a key the span holds twice, beside a harmless copy (before it when `true`).
    DuplicatedKey(bool),
}

fn place() -> impl Strategy<Value = Place> {
    prop_oneof![
        Just(Place::Attr),
        Just(Place::BytesAttr),
        Just(Place::SensitiveKey),
        (1usize..80, any::<bool>()).prop_map(|(d, l)| Place::Nested(d, l)),
        Just(Place::SpanName),
        Just(Place::EventName),
        Just(Place::EventAttr),
        Just(Place::LinkAttr),
        Just(Place::Status),
        Just(Place::ScopeName),
        Just(Place::ResourceAttr),
        any::<bool>().prop_map(Place::DuplicatedKey),
    ]
}

/// A batch of 1 to 4 spans, each slot placed somewhere; returns it and the values that must
/// not survive (planted secrets, and whole values under sensitive keys).
fn hostile_batch() -> impl Strategy<Value = (RawBatch, Vec<Vec<u8>>)> {
    let n = planted().len();
    prop::collection::vec(prop::collection::vec((place(), slot(n)), 0..6), 1..5).prop_map(
        move |spans| {
            let mut b = RawBatch {
                resource: vec![(b"service.name".to_vec(), Val::Str(b"svc".to_vec()))],
                scopes: vec![RawScope {
                    name: b"scope".to_vec(),
                    ..Default::default()
                }],
            };
            let mut banned = Vec::new();
            for (si, slots) in spans.into_iter().enumerate() {
                let mut span = RawSpan {
                    name: b"chat".to_vec(),
                    events: vec![RawEvent {
                        name: b"event".to_vec(),
                        attrs: vec![],
                    }],
                    links: vec![vec![]],
                    ..Default::default()
                };
                for (k, (place, (text, secret))) in slots.into_iter().enumerate() {
                    if let Some(i) = secret {
                        banned.push(planted()[i].as_bytes().to_vec());
                    }
                    let key = format!("k{si}.{k}").into_bytes();
                    let s = Val::Str(text.clone());
                    match place {
                        Place::Attr => span.attrs.push((key, s)),
                        Place::BytesAttr => span.attrs.push((key, Val::Bytes(text))),
                        Place::SensitiveKey => {
                            // Whatever it holds, a value under a sensitive key goes (the
                            // marker makes it findable even when it is only noise).
                            let mut v = format!("pw{si}x{k}:").into_bytes();
                            v.extend(&text);
                            banned.push(format!("pw{si}x{k}:").into_bytes());
                            span.attrs
                                .push((format!("k{si}.{k}.password").into_bytes(), Val::Str(v)));
                        }
                        Place::Nested(d, l) => span.attrs.push((key, nested(d, s, l))),
                        Place::SpanName => span.name = text,
                        Place::EventName => span.events[0].name = text,
                        Place::EventAttr => span.events[0].attrs.push((key, s)),
                        Place::LinkAttr => span.links[0].push((key, s)),
                        Place::Status => span.status = text,
                        Place::ScopeName => b.scopes[0].name = text,
                        Place::ResourceAttr => b.resource.push((key, s)),
                        Place::DuplicatedKey(first) => {
                            let harmless = (key.clone(), Val::Str(b"harmless".to_vec()));
                            if first {
                                span.attrs.push((key, s));
                                span.attrs.push(harmless);
                            } else {
                                span.attrs.push(harmless);
                                span.attrs.push((key, s));
                            }
                        }
                    }
                }
                b.scopes[0].spans.push(span);
            }
            (b, banned)
        },
    )
}

fn contains(hay: &[u8], needle: &[u8]) -> bool {
    hay.windows(needle.len()).any(|w| w == needle)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 96, ..ProptestConfig::default() })]

    /// Invariant 2 on the default config: whatever the batch holds (bytes that are not UTF-8,
    /// nesting deeper than any limit, huge values), no planted secret is in the output and no
    /// span is lost. The output is the batch with the edits applied as Go applies them.
    #[test]
    fn no_planted_secret_survives_and_no_span_is_lost((batch, banned) in hostile_batch()) {
        let bytes = batch.encode();
        let traces = read_traces(&bytes).expect("the reader takes anything pdata can hold");
        let mut list = EditList::new();
        let mut counts = RedactionCounts::default();
        default_config().redact_batch(&traces, &mut list, &mut counts);
        let (_, ops) = edits::decode(&list.finish(Disposition::Forward)).expect("edits decode");
        let mut out = batch.clone();
        let dropped = out.apply(&ops);
        prop_assert_eq!(dropped, 0);
        prop_assert_eq!(out.span_count(), batch.span_count());
        let encoded = out.encode();
        for b in &banned {
            prop_assert!(!contains(&encoded, b), "{:?} survived", String::from_utf8_lossy(b));
        }
    }
}
