//! Contrib-compatibility and coverage tests on whole batches; each checks that the edit list
//! applied by `edits::apply` equals the in-place result.

use opentelemetry_proto::tonic::common::v1::{
    any_value::Value, AnyValue, ArrayValue, KeyValue, KeyValueList,
};
use opentelemetry_proto::tonic::resource::v1::Resource;
use opentelemetry_proto::tonic::trace::v1::{
    span::{Event, Link},
    ResourceSpans, ScopeSpans, Span, Status, TracesData,
};

use super::*;
use crate::otlp::{find, find_str, kv_int, kv_str};

fn cfg(json: &str) -> Redactor {
    Redactor::new(&RedactionConfig::from_json(json.as_bytes()).unwrap()).unwrap()
}

fn batch(span_attrs: Vec<KeyValue>) -> TracesData {
    TracesData {
        resource_spans: vec![ResourceSpans {
            resource: Some(Resource {
                attributes: vec![kv_str("service.name", "svc")],
                ..Default::default()
            }),
            scope_spans: vec![ScopeSpans {
                spans: vec![Span {
                    name: "chat gpt-4o".into(),
                    attributes: span_attrs,
                    ..Default::default()
                }],
                ..Default::default()
            }],
            ..Default::default()
        }],
    }
}

/// Runs both paths, asserts they agree, returns the redacted batch.
fn run(r: &Redactor, td: &TracesData) -> (TracesData, RedactionCounts) {
    let mut list = EditList::new();
    let mut c1 = RedactionCounts::default();
    r.redact_batch(td, &mut list, &mut c1);
    let (_, ops) = edits::decode(&list.finish(edits::Disposition::Forward)).unwrap();
    let mut via_edits = td.clone();
    assert!(edits::apply(&mut via_edits, &ops));
    let mut owned = td.clone();
    let mut c2 = RedactionCounts::default();
    r.redact_owned(&mut owned, &mut c2);
    assert_eq!(via_edits, owned);
    assert_eq!(c1, c2);
    (owned, c1)
}

fn span_attrs(td: &TracesData) -> &[KeyValue] {
    &td.resource_spans[0].scope_spans[0].spans[0].attributes
}

#[test]
fn empty_allowed_keys_fails_closed_like_contrib() {
    // contrib's default config writes no audit attributes (its `summary` is empty).
    let (out, _) = run(&cfg("{}"), &batch(vec![kv_str("a", "1")]));
    assert!(span_attrs(&out).is_empty());
    let r = cfg(r#"{"summary": "info"}"#);
    let (out, c) = run(&r, &batch(vec![kv_str("a", "1"), kv_str("b", "2")]));
    let attrs = span_attrs(&out);
    assert!(find(attrs, "a").is_none() && find(attrs, "b").is_none());
    assert_eq!(
        find(attrs, "redaction.redacted.count"),
        Some(&Value::IntValue(2))
    );
    // info summary: no key names
    assert!(find(attrs, "redaction.redacted.keys").is_none());
    // resource attributes too
    assert!(out.resource_spans[0]
        .resource
        .as_ref()
        .unwrap()
        .attributes
        .iter()
        .all(|kv| kv.key != "service.name"));
    assert_eq!(c.keys_redacted, 3);
}

#[test]
fn only_the_matching_part_is_masked_and_allowed_values_win() {
    let r = cfg(
        r#"{"allow_all_keys": true, "blocked_values": ["4[0-9]{15}"],
                    "allowed_values": ["@example\\.com$"], "summary": "debug"}"#,
    );
    let (out, _) = run(
        &r,
        &batch(vec![
            kv_str("card", "paid with 4111111111111111 today"),
            kv_str("note", "4111111111111111 from a@example.com"),
            kv_str("plain", "nothing here"),
        ]),
    );
    let a = span_attrs(&out);
    assert_eq!(find_str(a, "card"), Some("paid with **** today"));
    assert_eq!(
        find_str(a, "note"),
        Some("4111111111111111 from a@example.com")
    );
    assert_eq!(find_str(a, "plain"), Some("nothing here"));
    assert_eq!(find_str(a, "redaction.masked.keys"), Some("card"));
    assert_eq!(find_str(a, "redaction.allowed.keys"), Some("note"));
    assert_eq!(
        find(a, "redaction.allowed.count"),
        Some(&Value::IntValue(1))
    );
}

#[test]
fn ignored_keys_untouched_and_blocked_keys_masked_whole() {
    let r = cfg(
        r#"{"allowed_keys": ["token", "id"], "ignored_keys": ["raw"],
                    "blocked_key_patterns": ["^tok"], "blocked_values": ["secret"],
                    "summary": "debug"}"#,
    );
    let (out, _) = run(
        &r,
        &batch(vec![
            kv_str("token", "abc"),
            kv_str("raw", "secret stuff"),
            kv_str("id", "a secret id"),
            kv_str("other", "x"),
        ]),
    );
    let a = span_attrs(&out);
    assert_eq!(find_str(a, "token"), Some("****"));
    assert_eq!(find_str(a, "raw"), Some("secret stuff"));
    assert_eq!(find_str(a, "id"), Some("a **** id"));
    assert!(find(a, "other").is_none());
    assert_eq!(find_str(a, "redaction.masked.keys"), Some("id,token"));
    assert_eq!(find_str(a, "redaction.redacted.keys"), Some("other"));
    assert_eq!(
        find(a, "redaction.ignored.count"),
        Some(&Value::IntValue(1))
    );
}

#[test]
fn summary_merges_with_an_earlier_processor_and_silent_writes_nothing() {
    let r = cfg(r#"{"allowed_keys": ["a"], "summary": "debug"}"#);
    let (out, _) = run(
        &r,
        &batch(vec![
            kv_str("b", "x"),
            kv_str("redaction.redacted.keys", "z"),
            kv_int("redaction.redacted.count", 1),
        ]),
    );
    let a = span_attrs(&out);
    assert_eq!(find_str(a, "redaction.redacted.keys"), Some("b,z"));
    assert_eq!(
        find(a, "redaction.redacted.count"),
        Some(&Value::IntValue(2))
    );
    let r = cfg(r#"{"allowed_keys": ["a"], "summary": "silent"}"#);
    let (out, _) = run(&r, &batch(vec![kv_str("b", "x")]));
    assert!(span_attrs(&out).is_empty());
}

#[test]
fn allow_list_keeps_only_the_summary_keys_contrib_keeps() {
    // contrib's allow-list adds redacted.*, masked.* and ignored.count, not allowed.*.
    let r = cfg(r#"{"allowed_keys": ["a"], "summary": "debug"}"#);
    let (out, _) = run(
        &r,
        &batch(vec![
            kv_str("a", "x"),
            kv_int("redaction.masked.count", 3),
            kv_int("redaction.ignored.count", 1),
            kv_int("redaction.allowed.count", 3),
        ]),
    );
    let a = span_attrs(&out);
    assert_eq!(find(a, "redaction.masked.count"), Some(&Value::IntValue(3)));
    assert_eq!(
        find(a, "redaction.ignored.count"),
        Some(&Value::IntValue(1))
    );
    assert!(find(a, "redaction.allowed.count").is_none());
    assert_eq!(
        find_str(a, "redaction.redacted.keys"),
        Some("redaction.allowed.count")
    );
}

#[test]
fn hash_functions_match_contrib() {
    let r = cfg(r#"{"allow_all_keys": true, "blocked_values": ["abc"], "hash_function": "md5"}"#);
    let (out, _) = run(&r, &batch(vec![kv_str("k", "x abc y")]));
    assert_eq!(
        find_str(span_attrs(&out), "k"),
        Some("x 900150983cd24fb0d6963f7d28e17f72 y")
    );
    let e = Redactor::new(
        &RedactionConfig::from_json(br#"{"hash_function": "hmac-sha256", "hmac_key": "short"}"#)
            .unwrap(),
    )
    .err()
    .unwrap();
    assert!(e.contains("hmac_key") && !e.contains("short"), "{e}");
}

#[test]
fn redact_all_types_masks_the_string_form() {
    let r =
        cfg(r#"{"allow_all_keys": true, "blocked_values": ["^4111"], "redact_all_types": true}"#);
    let (out, _) = run(
        &r,
        &batch(vec![kv_int("n", 4111111111111111), kv_int("m", 7)]),
    );
    let a = span_attrs(&out);
    assert_eq!(find_str(a, "n"), Some("****111111111111"));
    assert_eq!(find(a, "m"), Some(&Value::IntValue(7)));
    let r = cfg(r#"{"allow_all_keys": true, "blocked_values": ["^4111"]}"#);
    let (out, _) = run(&r, &batch(vec![kv_int("n", 4111111111111111)]));
    assert_eq!(
        find(span_attrs(&out), "n"),
        Some(&Value::IntValue(4111111111111111))
    );
}

#[test]
fn hostile_regex_is_a_config_error() {
    let c = RedactionConfig::from_json(br#"{"blocked_values": ["(a{1000}){1000}"]}"#).unwrap();
    let e = Redactor::new(&c).err().unwrap();
    assert!(e.contains("blocked_values[0]"), "{e}");
    let c = RedactionConfig::from_json(br#"{"allowed_values": ["(unclosed"]}"#).unwrap();
    assert!(Redactor::new(&c)
        .err()
        .unwrap()
        .contains("allowed_values[0]"));
}

fn nested(v: Value) -> KeyValue {
    KeyValue {
        key: "nested".into(),
        value: Some(AnyValue { value: Some(v) }),
    }
}

fn s(v: &str) -> AnyValue {
    AnyValue {
        value: Some(Value::StringValue(v.into())),
    }
}

#[test]
fn arrays_kvlists_events_links_and_status_are_covered() {
    let r = cfg(
        r#"{"allow_all_keys": true, "detectors": ["email"], "blocked_key_patterns": ["^password$"]}"#,
    );
    let mut td = batch(vec![nested(Value::ArrayValue(ArrayValue {
        values: vec![
            s("mail bob@corp.example.org"),
            AnyValue {
                value: Some(Value::KvlistValue(KeyValueList {
                    values: vec![
                        KeyValue {
                            key: "password".into(),
                            value: Some(s("pw")),
                        },
                        KeyValue {
                            key: "who".into(),
                            value: Some(s("x@y.io")),
                        },
                    ],
                })),
            },
        ],
    }))]);
    let span = &mut td.resource_spans[0].scope_spans[0].spans[0];
    span.events.push(Event {
        name: "exception".into(),
        attributes: vec![kv_str("exception.message", "no user ann@corp.example.org")],
        ..Default::default()
    });
    span.links.push(Link {
        attributes: vec![kv_str("note", "ping joe@corp.example.org")],
        ..Default::default()
    });
    span.status = Some(Status {
        message: "failed for eve@corp.example.org".into(),
        code: 2,
    });
    let (out, c) = run(&r, &td);
    let sp = &out.resource_spans[0].scope_spans[0].spans[0];
    let Some(Value::ArrayValue(arr)) = find(&sp.attributes, "nested") else {
        panic!()
    };
    assert_eq!(arr.values[0], s("mail <REDACTED:email>"));
    let Some(Value::KvlistValue(l)) = &arr.values[1].value else {
        panic!()
    };
    assert_eq!(l.values[0].value, Some(s("****")));
    assert_eq!(l.values[1].value, Some(s("<REDACTED:email>")));
    assert_eq!(
        find_str(&sp.events[0].attributes, "exception.message"),
        Some("no user <REDACTED:email>")
    );
    assert_eq!(
        find_str(&sp.links[0].attributes, "note"),
        Some("ping <REDACTED:email>")
    );
    assert_eq!(
        sp.status.as_ref().unwrap().message,
        "failed for <REDACTED:email>"
    );
    assert_eq!(c.detected("email"), 5);
}

const MESSAGES: &str = r#"[{"role":"system","parts":[{"type":"text","content":"You are helpful."}]},{"role":"user","parts":[{"type":"text","content":"Email me at jane.doe@example.org"}]},{"role":"assistant","parts":[{"type":"tool_call","name":"lookup","arguments":{"email":"jane.doe@example.org"}}]}]"#;

#[test]
fn content_policies() {
    let attrs = || {
        vec![
            kv_str("gen_ai.input.messages", MESSAGES),
            kv_str("gen_ai.prompt.0.role", "user"),
            kv_str("gen_ai.prompt.0.content", "hi from jane.doe@example.org"),
            kv_str("gen_ai.request.model", "gpt-4o"),
        ]
    };
    let base = r#""allow_all_keys": true, "detectors": ["pii"], "hmac_key": "0123456789abcdef0123456789abcdef""#;
    // redact: JSON stays JSON with its structure
    let (out, _) = run(&cfg(&format!("{{{base}}}")), &batch(attrs()));
    let a = span_attrs(&out);
    let msgs: serde_json::Value =
        serde_json::from_str(find_str(a, "gen_ai.input.messages").unwrap()).unwrap();
    assert_eq!(msgs.as_array().unwrap().len(), 3);
    assert_eq!(msgs[1]["role"], "user");
    assert_eq!(
        msgs[1]["parts"][0]["content"],
        "Email me at <REDACTED:email>"
    );
    assert_eq!(msgs[2]["parts"][0]["name"], "lookup");
    assert_eq!(
        msgs[2]["parts"][0]["arguments"]["email"],
        "<REDACTED:email>"
    );
    // keep
    let (out, _) = run(
        &cfg(&format!(r#"{{{base}, "content": {{"policy": "keep"}}}}"#)),
        &batch(attrs()),
    );
    assert_eq!(
        find_str(span_attrs(&out), "gen_ai.input.messages"),
        Some(MESSAGES)
    );
    // drop: content gone, structure kept
    let (out, c) = run(
        &cfg(&format!(r#"{{{base}, "content": {{"policy": "drop"}}}}"#)),
        &batch(attrs()),
    );
    let a = span_attrs(&out);
    assert!(
        find(a, "gen_ai.input.messages").is_none() && find(a, "gen_ai.prompt.0.content").is_none()
    );
    assert_eq!(find_str(a, "gen_ai.prompt.0.role"), Some("user"));
    assert_eq!(find_str(a, "gen_ai.request.model"), Some("gpt-4o"));
    assert_eq!(c.content_dropped, 2);
    // hash: equal values give equal tokens; idempotent
    let r = cfg(&format!(r#"{{{base}, "content": {{"policy": "hash"}}}}"#));
    let (out, _) = run(
        &r,
        &batch(vec![
            kv_str("input.value", "same"),
            kv_str("output.value", "same"),
        ]),
    );
    let a = span_attrs(&out);
    let t = find_str(a, "input.value").unwrap();
    assert!(t.starts_with(apply::HASH_TOKEN_PREFIX));
    assert_eq!(Some(t), find_str(a, "output.value"));
    let (again, _) = run(&r, &out);
    assert_eq!(find_str(span_attrs(&again), "input.value"), Some(t));
    // truncate: every text cut to max_chars, JSON kept valid
    let long = format!("{} jane.doe@example.org", "word ".repeat(100));
    let json = serde_json::json!([{"role": "user", "content": long}]).to_string();
    let r = cfg(&format!(
        r#"{{{base}, "content": {{"policy": "truncate", "max_chars": 40}}}}"#
    ));
    let (out, _) = run(
        &r,
        &batch(vec![
            kv_str("ai.response.text", &long),
            kv_str("ai.prompt.messages", &json),
        ]),
    );
    let a = span_attrs(&out);
    assert_eq!(find_str(a, "ai.response.text").unwrap().chars().count(), 40);
    let v: serde_json::Value =
        serde_json::from_str(find_str(a, "ai.prompt.messages").unwrap()).unwrap();
    assert_eq!(v[0]["role"], "user");
    assert!(v[0]["content"].as_str().unwrap().contains("truncated"));
}

#[test]
fn content_events_and_headers() {
    let r =
        cfg(r#"{"allow_all_keys": true, "detectors": ["secrets"], "content": {"policy": "drop"}}"#);
    let mut td = batch(vec![kv_str(
        "llm.headers",
        "{'Authorization': 'Bearer abcd1234efgh5678ijkl'}",
    )]);
    td.resource_spans[0].scope_spans[0].spans[0]
        .events
        .push(Event {
            name: "gen_ai.content.prompt".into(),
            attributes: vec![
                kv_str("gen_ai.prompt", "secret prompt"),
                kv_str("gen_ai.system", "openai"),
            ],
            ..Default::default()
        });
    let (out, _) = run(&r, &td);
    let sp = &out.resource_spans[0].scope_spans[0].spans[0];
    assert!(find(&sp.attributes, "llm.headers").is_none());
    assert!(find(&sp.events[0].attributes, "gen_ai.prompt").is_none());
    assert_eq!(
        find_str(&sp.events[0].attributes, "gen_ai.system"),
        Some("openai")
    );
    // with keep, headers are still scanned
    let r =
        cfg(r#"{"allow_all_keys": true, "detectors": ["secrets"], "content": {"policy": "keep"}}"#);
    let (out, _) = run(&r, &td);
    assert_eq!(
        find_str(span_attrs(&out), "llm.headers"),
        Some("{'Authorization': 'Bearer <REDACTED:bearer_token>'}")
    );
}

#[test]
fn oversized_values_are_truncated_with_a_marker() {
    let r = cfg(r#"{"allow_all_keys": true}"#);
    let big = "x".repeat(20_000);
    let (out, c) = run(&r, &batch(vec![kv_str("big", &big)]));
    let v = find_str(span_attrs(&out), "big").unwrap();
    assert!(v.len() <= 10240 && v.ends_with("bytes]"));
    assert_eq!(c.values_truncated, 1);
    assert!(find(span_attrs(&out), "redaction.masked.count").is_none());
}

#[test]
fn health_checks_are_dropped_and_counted() {
    let r = cfg(
        r#"{"allow_all_keys": true, "drop_spans": {"name_patterns": ["^GET /healthz$"],
                   "attributes": [{"key": "http.route", "value_pattern": "^/ready"}]}}"#,
    );
    let mut td = batch(vec![]);
    let spans = &mut td.resource_spans[0].scope_spans[0].spans;
    spans.push(Span {
        name: "GET /healthz".into(),
        ..Default::default()
    });
    spans.push(Span {
        name: "GET".into(),
        attributes: vec![kv_str("http.route", "/ready")],
        ..Default::default()
    });
    spans.push(Span {
        name: "GET /api".into(),
        ..Default::default()
    });
    let (out, c) = run(&r, &td);
    let names: Vec<_> = out.resource_spans[0].scope_spans[0]
        .spans
        .iter()
        .map(|s| s.name.as_str())
        .collect();
    assert_eq!(names, ["chat gpt-4o", "GET /api"]);
    assert_eq!((c.spans_seen, c.spans_dropped), (4, 2));
}

#[test]
fn hmac_key_from_env_and_file() {
    std::env::set_var("TOLLBOOTH_TEST_HMAC", "k".repeat(40));
    let c = RedactionConfig::from_json(
        br#"{"hmac_key_env": "TOLLBOOTH_TEST_HMAC", "content": {"policy": "hash"}}"#,
    )
    .unwrap();
    assert!(Redactor::new(&c).is_ok());
    let c = RedactionConfig::from_json(
        br#"{"hmac_key_env": "TOLLBOOTH_TEST_UNSET_VAR", "content": {"policy": "hash"}}"#,
    )
    .unwrap();
    assert!(Redactor::new(&c).err().unwrap().contains("hmac_key_env"));
    let path = std::env::temp_dir().join(format!("tollbooth-hmac-{}", std::process::id()));
    std::fs::write(&path, format!("{}\n", "f".repeat(32))).unwrap();
    let c = RedactionConfig::from_json(
        format!(
            r#"{{"hmac_key_file": {:?}, "content": {{"policy": "hash"}}}}"#,
            path
        )
        .as_bytes(),
    )
    .unwrap();
    assert!(Redactor::new(&c).is_ok());
    std::fs::remove_file(path).unwrap();
}

#[test]
fn redactor_is_shared_across_threads() {
    fn assert_send_sync<T: Send + Sync>() {}
    assert_send_sync::<Redactor>();
}
