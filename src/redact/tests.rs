//! Contrib-compatibility and coverage tests on whole batches: each batch is encoded, read in
//! place, redacted, and the edit list applied to an owned copy as Go applies it to its pdata.

use opentelemetry_proto::tonic::common::v1::{
    any_value::Value, AnyValue, ArrayValue, KeyValue, KeyValueList,
};
use opentelemetry_proto::tonic::resource::v1::Resource;
use opentelemetry_proto::tonic::trace::v1::{
    span::{Event, Link},
    ResourceSpans, ScopeSpans, Span, Status, TracesData,
};

use super::*;
use crate::edits;
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

/// Redacts `td` as the collector does; returns the redacted batch and the counts.
fn run(r: &Redactor, td: &TracesData) -> (TracesData, RedactionCounts) {
    let (ops, c) = edits_for(r, &prost::Message::encode_to_vec(td));
    let mut out = td.clone();
    assert!(edits::apply(&mut out, &ops), "edits apply");
    (out, c)
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
    assert!(t.starts_with(text::HASH_TOKEN_PREFIX));
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

// ---- Beyond attribute values: names, keys, numbers, bytes, bytes that are not UTF-8, depth ----

/// The redaction edits for raw batch bytes.
fn edits_for(r: &Redactor, bytes: &[u8]) -> (Vec<(Target, edits::Op)>, RedactionCounts) {
    let td = crate::otlp::read_traces(bytes).expect("readable");
    let mut list = EditList::new();
    let mut c = RedactionCounts::default();
    r.redact_batch(&td, &mut list, &mut c);
    (
        edits::decode(&list.finish(edits::Disposition::Forward))
            .unwrap()
            .1,
        c,
    )
}

/// Batch bytes with `placeholder` swapped for `raw` (same length), so that they hold what
/// prost cannot: strings and keys that are not UTF-8.
fn swap(mut b: Vec<u8>, placeholder: &str, raw: &[u8]) -> Vec<u8> {
    assert_eq!(placeholder.len(), raw.len());
    let at = b
        .windows(placeholder.len())
        .position(|w| w == placeholder.as_bytes())
        .expect("placeholder in the batch");
    b[at..at + raw.len()].copy_from_slice(raw);
    b
}

const RECOMMENDED: &str = r#"{"allow_all_keys": true, "detectors": ["secrets", "email", "credit_card", "us_ssn", "iban"]}"#;

#[test]
fn span_event_and_scope_names_are_masked_where_they_match() {
    let r = cfg(RECOMMENDED);
    let mut td = batch(vec![]);
    let ss = &mut td.resource_spans[0].scope_spans[0];
    ss.scope = Some(
        opentelemetry_proto::tonic::common::v1::InstrumentationScope {
            name: "lib for dave@example.com".into(),
            ..Default::default()
        },
    );
    ss.spans[0].name = "GET /users/jane.doe@example.com/cards/4111111111111111".into();
    ss.spans[0].events.push(Event {
        name: "sent mail to bob@example.org".into(),
        ..Default::default()
    });
    ss.spans[0].events.push(Event {
        name: "gen_ai.choice".into(),
        ..Default::default()
    });
    let (out, c) = run(&r, &td);
    let ss = &out.resource_spans[0].scope_spans[0];
    assert_eq!(
        ss.spans[0].name,
        "GET /users/<REDACTED:email>/cards/<REDACTED:credit_card>"
    );
    assert_eq!(ss.spans[0].events[0].name, "sent mail to <REDACTED:email>");
    assert_eq!(ss.spans[0].events[1].name, "gen_ai.choice");
    assert_eq!(ss.scope.as_ref().unwrap().name, "lib for <REDACTED:email>");
    assert_eq!(c.names_masked, 3);
    // A clean name gets no edit at all.
    let (ops, _) = edits_for(&r, &prost::Message::encode_to_vec(&batch(vec![])));
    assert!(ops.is_empty(), "{ops:?}");
}

#[test]
fn sensitive_keys_mask_text_whatever_it_looks_like_and_keep_numbers() {
    let r = cfg(RECOMMENDED);
    let mut attrs = vec![
        kv_str("db.password", "correct horse battery staple"),
        kv_str("http.request.header.authorization", "opaque-value"),
        kv_str("openaiApiKey", "x"),
        kv_int("auth.token", 12345),
        kv_int("gen_ai.usage.input_tokens", 812),
        kv_str("llm.token_count.prompt", "12"),
        kv_str("gen_ai.server.time_to_first_token", "0.25"),
        kv_str("gen_ai.request.max_tokens", "1024"),
        nested(Value::KvlistValue(KeyValueList {
            values: vec![
                KeyValue {
                    key: "client_secret".into(),
                    value: Some(s("abc")),
                },
                KeyValue {
                    key: "user".into(),
                    value: Some(s("ann")),
                },
            ],
        })),
    ];
    attrs.push(KeyValue {
        key: "http.request.header.cookie".into(),
        value: Some(AnyValue {
            value: Some(Value::ArrayValue(ArrayValue {
                values: vec![s("session=1"), s("theme=dark")],
            })),
        }),
    });
    let (out, c) = run(&r, &batch(attrs));
    let a = span_attrs(&out);
    assert_eq!(find_str(a, "db.password"), Some("****"));
    assert_eq!(
        find_str(a, "http.request.header.authorization"),
        Some("****")
    );
    assert_eq!(find_str(a, "openaiApiKey"), Some("****"));
    assert_eq!(find_str(a, "http.request.header.cookie"), Some("****"));
    assert_eq!(
        find(a, "auth.token"),
        Some(&Value::IntValue(12345)),
        "numbers kept"
    );
    assert_eq!(
        find(a, "gen_ai.usage.input_tokens"),
        Some(&Value::IntValue(812))
    );
    assert_eq!(find_str(a, "llm.token_count.prompt"), Some("12"));
    assert_eq!(
        find_str(a, "gen_ai.server.time_to_first_token"),
        Some("0.25")
    );
    assert_eq!(find_str(a, "gen_ai.request.max_tokens"), Some("1024"));
    let Some(Value::KvlistValue(l)) = find(a, "nested") else {
        panic!()
    };
    assert_eq!(l.values[0].value, Some(s("****")));
    assert_eq!(l.values[1].value, Some(s("ann")));
    assert_eq!(c.sensitive_values_masked, 5);
    // Turned off, the same values pass.
    let off = cfg(r#"{"allow_all_keys": true, "sensitive_keys": []}"#);
    let (out, _) = run(&off, &batch(vec![kv_str("db.password", "hunter2")]));
    assert_eq!(find_str(span_attrs(&out), "db.password"), Some("hunter2"));
}

#[test]
fn sensitive_keys_inside_json_content() {
    let r = cfg(RECOMMENDED);
    let args = r#"{"user":"ann","password":"hunter2","max_tokens":100,"nested":{"api_key":"k-1"}}"#;
    let (out, _) = run(&r, &batch(vec![kv_str("gen_ai.tool.call.arguments", args)]));
    let v: serde_json::Value =
        serde_json::from_str(find_str(span_attrs(&out), "gen_ai.tool.call.arguments").unwrap())
            .unwrap();
    assert_eq!(v["password"], "****");
    assert_eq!(v["nested"]["api_key"], "****");
    assert_eq!(v["user"], "ann");
    assert_eq!(v["max_tokens"], 100);
}

#[test]
fn integers_that_are_card_numbers_are_masked_and_other_numbers_are_not() {
    let r = cfg(RECOMMENDED);
    let double = |k: &str, d: f64| KeyValue {
        key: k.into(),
        value: Some(AnyValue {
            value: Some(Value::DoubleValue(d)),
        }),
    };
    let (out, c) = run(
        &r,
        &batch(vec![
            kv_int("payment.card", 4111111111111111),
            kv_int("neg", -4111111111111111),
            double("as_double", 4111111111111111.0),
            kv_int("start_ns", 1_760_000_000_000_000_000),
            kv_int("snowflake", 1_234_567_890_123_456_789),
            kv_int("luhn_but_no_network", 1_111_111_111_111_117),
            kv_int("tokens", 812),
        ]),
    );
    let a = span_attrs(&out);
    assert_eq!(find_str(a, "payment.card"), Some("<REDACTED:credit_card>"));
    assert_eq!(find_str(a, "neg"), Some("-<REDACTED:credit_card>"));
    assert_eq!(find_str(a, "as_double"), Some("<REDACTED:credit_card>"));
    assert_eq!(
        find(a, "start_ns"),
        Some(&Value::IntValue(1_760_000_000_000_000_000))
    );
    assert_eq!(
        find(a, "snowflake"),
        Some(&Value::IntValue(1_234_567_890_123_456_789))
    );
    assert_eq!(
        find(a, "luhn_but_no_network"),
        Some(&Value::IntValue(1_111_111_111_111_117))
    );
    assert_eq!(find(a, "tokens"), Some(&Value::IntValue(812)));
    assert_eq!(c.numbers_masked, 3);
    // Without the card detector numbers are left alone.
    let (out, _) = run(
        &cfg(r#"{"allow_all_keys": true, "detectors": ["email"]}"#),
        &batch(vec![kv_int("payment.card", 4111111111111111)]),
    );
    assert_eq!(
        find(span_attrs(&out), "payment.card"),
        Some(&Value::IntValue(4111111111111111))
    );
}

#[test]
fn bytes_values_are_scanned_and_stay_bytes() {
    let r = cfg(RECOMMENDED);
    let bytes = |k: &str, b: &[u8]| KeyValue {
        key: k.into(),
        value: Some(AnyValue {
            value: Some(Value::BytesValue(b.to_vec())),
        }),
    };
    let (out, _) = run(
        &r,
        &batch(vec![
            bytes("blob", b"\x00\x01to: erin@example.com\xff"),
            bytes("clean", b"\x00\x01\x02"),
        ]),
    );
    let a = span_attrs(&out);
    assert_eq!(
        find(a, "blob"),
        Some(&Value::BytesValue(
            "\u{0}\u{1}to: <REDACTED:email>\u{fffd}".as_bytes().to_vec()
        ))
    );
    assert_eq!(find(a, "clean"), Some(&Value::BytesValue(vec![0, 1, 2])));
}

#[test]
fn strings_that_are_not_utf8_are_scanned_and_otherwise_left_alone() {
    let r = cfg(RECOMMENDED);
    let td = batch(vec![
        kv_str(
            "gen_ai.prompt.0.content",
            "PLACEHOLDER-A write to carol@example.com",
        ),
        kv_str("note", "PLACEHOLDER-B nothing here"),
    ]);
    let b = prost::Message::encode_to_vec(&td);
    let b = swap(b, "PLACEHOLDER-A", b"caf\xe9 \xff\xfe ABCDE");
    let b = swap(b, "PLACEHOLDER-B", &[0xff; 13]);
    let (ops, _) = edits_for(&r, &b);
    assert_eq!(
        ops,
        vec![(
            Target::Span {
                rs: 0,
                ss: 0,
                span: 0
            },
            edits::Op::SetStr(
                "gen_ai.prompt.0.content".into(),
                "caf\u{fffd} \u{fffd}\u{fffd} ABCDE write to <REDACTED:email>".into()
            )
        )],
        "the masked text replaces the value; the clean invalid value gets no edit"
    );
}

#[test]
fn keys_that_are_not_utf8_are_addressed_by_their_bytes() {
    let r = cfg(RECOMMENDED);
    let td = batch(vec![
        kv_str("KEYHOLDER.password", "hunter2"),
        kv_str("KEYHOLDER.x", "a@example.com"),
    ]);
    let mut b = prost::Message::encode_to_vec(&td);
    for _ in 0..2 {
        b = swap(b, "KEYHOLDER", b"k\xffy\xfeHOLD\xff");
    }
    let (_, list) = {
        let td = crate::otlp::read_traces(&b).unwrap();
        let mut list = EditList::new();
        r.redact_batch(&td, &mut list, &mut RedactionCounts::default());
        ((), list.finish(edits::Disposition::Forward))
    };
    // The wire carries the exact key bytes for Go to find.
    let key = b"k\xffy\xfeHOLD\xff.password";
    assert!(list.windows(key.len()).any(|w| w == key));
    let key = b"k\xffy\xfeHOLD\xff.x";
    assert!(list.windows(key.len()).any(|w| w == key));
}

fn deep(depth: usize, leaf: AnyValue) -> AnyValue {
    (0..depth).fold(leaf, |v, _| AnyValue {
        value: Some(Value::KvlistValue(KeyValueList {
            values: vec![KeyValue {
                key: "level".into(),
                value: Some(v),
            }],
        })),
    })
}

/// Depth of kvlist nesting down the `level` chain, and the leaf there.
fn walk(mut v: &AnyValue) -> (usize, &AnyValue) {
    let mut d = 0;
    while let Some(Value::KvlistValue(l)) = &v.value {
        d += 1;
        v = l.values[0].value.as_ref().unwrap();
    }
    (d, v)
}

#[test]
fn nesting_is_walked_to_the_limit_and_masked_whole_past_it() {
    let r = cfg(RECOMMENDED);
    let limit = nested::MAX_DEPTH;
    let shallow = deep(limit, s("mail ann@example.com"));
    let too_deep = deep(limit + 8, s("mail deep@example.com"));
    let clean_deep = deep(limit + 8, s("nothing to see"));
    let attr = |k: &str, v: &AnyValue| KeyValue {
        key: k.into(),
        value: Some(v.clone()),
    };
    let (out, c) = run(
        &r,
        &batch(vec![
            attr("shallow", &shallow),
            attr("deep", &too_deep),
            attr("clean", &clean_deep),
        ]),
    );
    let a = span_attrs(&out);
    let get = |k: &str| {
        a.iter()
            .find(|kv| kv.key == k)
            .and_then(|kv| kv.value.as_ref())
            .unwrap()
    };
    assert_eq!(walk(get("shallow")), (limit, &s("mail <REDACTED:email>")));
    assert_eq!(walk(get("deep")), (limit, &s(nested::NESTED_MASK)));
    assert_eq!(get("clean"), &clean_deep, "nothing matched: left as it was");
    assert_eq!(c.nested_masked, 1);
}

#[test]
fn very_deep_nesting_never_fails_the_batch() {
    // Far deeper than prost decodes (100): built as raw bytes, read by the borrowed reader.
    let r = cfg(RECOMMENDED);
    let mut any = super::nested::message(1, b"sk-proj-Abc123Def456Ghi789Jkl012");
    for _ in 0..5_000 {
        let mut kv = super::nested::message(1, b"k");
        kv.extend(super::nested::message(2, &any));
        any = super::nested::message(6, &super::nested::message(1, &kv));
    }
    let mut kv = super::nested::message(1, b"deep");
    kv.extend(super::nested::message(2, &any));
    let span = super::nested::message(9, &kv);
    let ss = super::nested::message(2, &span);
    let rs = super::nested::message(2, &ss);
    let td = super::nested::message(1, &rs);
    let (ops, c) = edits_for(&r, &td);
    assert_eq!(ops.len(), 1);
    assert!(matches!(&ops[0].1, edits::Op::SetAny(k, _) if k == "deep"));
    assert_eq!(c.nested_masked, 1);
}
