//! Cases with contrib `redaction` semantics, in a file the Go side can also feed to contrib's
//! processor: same config, same span attributes, same expected attributes (order-free).

mod common;

use std::collections::BTreeMap;

use opentelemetry_proto::tonic::common::v1::{any_value::Value, AnyValue, KeyValue};
use tollbooth::redact::{RedactionConfig, RedactionCounts, Redactor};

#[derive(serde::Deserialize)]
struct Case {
    name: String,
    config: serde_json::Value,
    attributes: serde_json::Map<String, serde_json::Value>,
    expected: serde_json::Map<String, serde_json::Value>,
}

fn to_any(v: &serde_json::Value) -> AnyValue {
    let value = match v {
        serde_json::Value::String(s) => Value::StringValue(s.clone()),
        serde_json::Value::Bool(b) => Value::BoolValue(*b),
        serde_json::Value::Number(n) if n.is_i64() => Value::IntValue(n.as_i64().unwrap()),
        serde_json::Value::Number(n) => Value::DoubleValue(n.as_f64().unwrap()),
        other => panic!("unsupported fixture value {other}"),
    };
    AnyValue { value: Some(value) }
}

#[test]
fn contrib_cases() {
    let cases: Vec<Case> =
        serde_json::from_str(include_str!("fixtures/contrib_equivalence.json")).unwrap();
    assert!(cases.len() >= 10);
    for case in cases {
        let cfg = RedactionConfig::from_json(case.config.to_string().as_bytes()).unwrap();
        let r = Redactor::new(&cfg).unwrap_or_else(|e| panic!("{}: {e}", case.name));
        let attrs = case
            .attributes
            .iter()
            .map(|(k, v)| KeyValue {
                key: k.clone(),
                value: Some(to_any(v)),
            })
            .collect();
        let mut td = common::one_span(attrs);
        common::redact_owned(&r, &mut td, &mut RedactionCounts::default());
        let got: BTreeMap<String, AnyValue> = td.resource_spans[0].scope_spans[0].spans[0]
            .attributes
            .iter()
            .map(|kv| (kv.key.clone(), kv.value.clone().unwrap()))
            .collect();
        let want: BTreeMap<String, AnyValue> = case
            .expected
            .iter()
            .map(|(k, v)| (k.clone(), to_any(v)))
            .collect();
        assert_eq!(got, want, "case {}", case.name);
    }
}
