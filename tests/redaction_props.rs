//! Properties: redaction never panics on arbitrary UTF-8, is idempotent, and never turns
//! valid JSON into invalid JSON.

mod common;

use proptest::prelude::*;
use tollbooth::otlp::{find_str, kv_str};
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
    r.redact_owned(&mut td, &mut RedactionCounts::default());
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

/// config/collector.yaml's block: gitleaks' secret rules beside the built-in detectors.
fn default_config() -> &'static Redactor {
    static R: std::sync::OnceLock<Redactor> = std::sync::OnceLock::new();
    R.get_or_init(|| Redactor::new(&common::default_redaction_config()).unwrap())
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

    /// Any attribute shape: no panic, the edit list (op 8 included) round-trips and gives the
    /// same batch as in-place redaction, and a second pass changes nothing.
    #[test]
    fn any_value_edits_match_owned_and_are_idempotent(
        vals in prop::collection::vec(any_value(), 1..4),
        redact_all in any::<bool>(),
    ) {
        use opentelemetry_proto::tonic::common::v1::KeyValue;
        use tollbooth::edits::{self, Disposition, EditList};
        let r = shaped(redact_all);
        let attrs = vals
            .into_iter()
            .enumerate()
            .map(|(i, v)| KeyValue { key: format!("k{i}"), value: Some(v) })
            .collect();
        let td = common::one_span(attrs);
        let mut list = EditList::new();
        r.redact_batch(&td, &mut list, &mut RedactionCounts::default());
        let (_, ops) = edits::decode(&list.finish(Disposition::Forward)).unwrap();
        let mut via_edits = td.clone();
        prop_assert!(edits::apply(&mut via_edits, &ops));
        let mut owned = td.clone();
        r.redact_owned(&mut owned, &mut RedactionCounts::default());
        // NaN doubles compare unequal to themselves; compare encodings instead.
        use prost::Message;
        prop_assert_eq!(via_edits.encode_to_vec(), owned.encode_to_vec());
        let mut again = owned.clone();
        r.redact_owned(&mut again, &mut RedactionCounts::default());
        prop_assert_eq!(again.encode_to_vec(), owned.encode_to_vec());
    }
}
