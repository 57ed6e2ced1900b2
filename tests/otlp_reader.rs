//! The borrowed reader against prost: the same batch read both ways gives the same content,
//! and what prost refuses but pdata accepts (invalid UTF-8, deep nesting) reads fine.

use opentelemetry_proto::tonic::common::v1::{
    any_value::Value, AnyValue, ArrayValue, InstrumentationScope, KeyValue, KeyValueList,
};
use opentelemetry_proto::tonic::resource::v1::Resource;
use opentelemetry_proto::tonic::trace::v1::{
    span::{Event, Link},
    ResourceSpans, ScopeSpans, Span, Status, TracesData,
};
use proptest::prelude::*;
use prost::Message;
use tollbooth::otlp::{
    array_values, kvlist_entries, read_traces, AnyRef, KeyValueRef, TracesRef, MAX_VALUE_DEPTH,
};

// ---- one rendering for both representations ----

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

fn any_ref(v: AnyRef) -> String {
    match v {
        AnyRef::Str(b) => format!("s:{}", hex(b)),
        AnyRef::Bool(b) => format!("b:{b}"),
        AnyRef::Int(i) => format!("i:{i}"),
        AnyRef::Double(d) => format!("d:{:x}", d.to_bits()),
        AnyRef::Bytes(b) => format!("x:{}", hex(b)),
        AnyRef::Array(body) => {
            let items: Vec<_> = array_values(body).map(any_ref).collect();
            format!("[{}]", items.join(","))
        }
        AnyRef::KvList(body) => format!("{{{}}}", attrs_ref(kvlist_entries(body))),
        AnyRef::Empty => "empty".into(),
    }
}

fn attrs_ref<'a>(a: impl IntoIterator<Item = KeyValueRef<'a>>) -> String {
    a.into_iter()
        .map(|kv| format!("{}={}", hex(kv.key), any_ref(kv.value)))
        .collect::<Vec<_>>()
        .join(";")
}

fn any_prost(v: &Option<AnyValue>) -> String {
    match v.as_ref().and_then(|v| v.value.as_ref()) {
        None => "empty".into(),
        Some(Value::StringValue(s)) => format!("s:{}", hex(s.as_bytes())),
        Some(Value::BoolValue(b)) => format!("b:{b}"),
        Some(Value::IntValue(i)) => format!("i:{i}"),
        Some(Value::DoubleValue(d)) => format!("d:{:x}", d.to_bits()),
        Some(Value::BytesValue(b)) => format!("x:{}", hex(b)),
        Some(Value::ArrayValue(a)) => {
            let items: Vec<_> = a
                .values
                .iter()
                .map(|v| any_prost(&Some(v.clone())))
                .collect();
            format!("[{}]", items.join(","))
        }
        Some(Value::KvlistValue(l)) => format!("{{{}}}", attrs_prost(&l.values)),
    }
}

fn attrs_prost(a: &[KeyValue]) -> String {
    a.iter()
        .map(|kv| format!("{}={}", hex(kv.key.as_bytes()), any_prost(&kv.value)))
        .collect::<Vec<_>>()
        .join(";")
}

fn render_ref(t: &TracesRef) -> Vec<String> {
    let mut out = Vec::new();
    for rs in t.resource_spans() {
        out.push(format!(
            "rs{} res[{}] url={}",
            rs.index(),
            attrs_ref(rs.resource_attributes().iter().copied()),
            hex(rs.schema_url())
        ));
        for ss in rs.scope_spans() {
            out.push(format!(
                "ss{}/{} scope={}@{} [{}] url={}",
                ss.resource_index(),
                ss.index(),
                hex(ss.scope_name()),
                hex(ss.scope_version()),
                attrs_ref(ss.scope_attributes().iter().copied()),
                hex(ss.schema_url())
            ));
            for sp in ss.spans() {
                let st = sp.status();
                out.push(format!(
                    "span{:?} t={} s={} p={} ts={} n={} k={} {}-{} f={} st={}:{} [{}]",
                    sp.position(),
                    hex(sp.trace_id()),
                    hex(sp.span_id()),
                    hex(sp.parent_span_id()),
                    hex(sp.trace_state()),
                    hex(sp.name()),
                    sp.kind(),
                    sp.start_time_unix_nano(),
                    sp.end_time_unix_nano(),
                    sp.flags(),
                    st.code,
                    hex(st.message),
                    attrs_ref(sp.attributes().iter().copied())
                ));
                for e in sp.events() {
                    out.push(format!(
                        " ev{} {} @{} [{}]",
                        e.index(),
                        hex(e.name()),
                        e.time_unix_nano(),
                        attrs_ref(e.attributes().iter().copied())
                    ));
                }
                for l in sp.links() {
                    out.push(format!(
                        " ln{} {}/{} [{}]",
                        l.index(),
                        hex(l.trace_id()),
                        hex(l.span_id()),
                        attrs_ref(l.attributes().iter().copied())
                    ));
                }
            }
        }
    }
    out
}

fn render_prost(t: &TracesData) -> Vec<String> {
    let mut out = Vec::new();
    for (ri, rs) in t.resource_spans.iter().enumerate() {
        let res = rs.resource.as_ref().map(|r| r.attributes.as_slice());
        out.push(format!(
            "rs{ri} res[{}] url={}",
            attrs_prost(res.unwrap_or(&[])),
            hex(rs.schema_url.as_bytes())
        ));
        for (si, ss) in rs.scope_spans.iter().enumerate() {
            let sc = ss.scope.clone().unwrap_or_default();
            out.push(format!(
                "ss{ri}/{si} scope={}@{} [{}] url={}",
                hex(sc.name.as_bytes()),
                hex(sc.version.as_bytes()),
                attrs_prost(&sc.attributes),
                hex(ss.schema_url.as_bytes())
            ));
            for (pi, sp) in ss.spans.iter().enumerate() {
                let st = sp.status.clone().unwrap_or_default();
                out.push(format!(
                    "span{:?} t={} s={} p={} ts={} n={} k={} {}-{} f={} st={}:{} [{}]",
                    (ri as u32, si as u32, pi as u32),
                    hex(&sp.trace_id),
                    hex(&sp.span_id),
                    hex(&sp.parent_span_id),
                    hex(sp.trace_state.as_bytes()),
                    hex(sp.name.as_bytes()),
                    sp.kind,
                    sp.start_time_unix_nano,
                    sp.end_time_unix_nano,
                    sp.flags,
                    st.code,
                    hex(st.message.as_bytes()),
                    attrs_prost(&sp.attributes)
                ));
                for (ei, e) in sp.events.iter().enumerate() {
                    out.push(format!(
                        " ev{ei} {} @{} [{}]",
                        hex(e.name.as_bytes()),
                        e.time_unix_nano,
                        attrs_prost(&e.attributes)
                    ));
                }
                for (li, l) in sp.links.iter().enumerate() {
                    out.push(format!(
                        " ln{li} {}/{} [{}]",
                        hex(&l.trace_id),
                        hex(&l.span_id),
                        attrs_prost(&l.attributes)
                    ));
                }
            }
        }
    }
    out
}

// ---- generated batches ----

fn leaf() -> impl Strategy<Value = Value> {
    prop_oneof![
        ".{0,12}".prop_map(Value::StringValue),
        any::<bool>().prop_map(Value::BoolValue),
        any::<i64>().prop_map(Value::IntValue),
        any::<f64>().prop_map(Value::DoubleValue),
        prop::collection::vec(any::<u8>(), 0..6).prop_map(Value::BytesValue),
    ]
}

fn value() -> impl Strategy<Value = Option<AnyValue>> {
    let v = leaf().prop_recursive(3, 16, 3, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..3).prop_map(|vs| Value::ArrayValue(
                ArrayValue {
                    values: vs
                        .into_iter()
                        .map(|v| AnyValue { value: Some(v) })
                        .collect()
                }
            )),
            prop::collection::vec(("[a-z.]{0,6}", inner), 0..3).prop_map(|kvs| {
                Value::KvlistValue(KeyValueList {
                    values: kvs
                        .into_iter()
                        .map(|(k, v)| KeyValue {
                            key: k,
                            value: Some(AnyValue { value: Some(v) }),
                        })
                        .collect(),
                })
            }),
        ]
    });
    prop_oneof![
        1 => Just(None),
        1 => Just(Some(AnyValue { value: None })),
        8 => v.prop_map(|v| Some(AnyValue { value: Some(v) })),
    ]
}

fn attrs() -> impl Strategy<Value = Vec<KeyValue>> {
    prop::collection::vec(
        ("[a-z_.]{0,10}", value()).prop_map(|(key, value)| KeyValue { key, value }),
        0..4,
    )
}

fn span() -> impl Strategy<Value = Span> {
    (
        (
            prop::collection::vec(any::<u8>(), 0..17),
            prop::collection::vec(any::<u8>(), 0..9),
            ".{0,8}",
            0i32..6,
            any::<u64>(),
            any::<u64>(),
            any::<u32>(),
        ),
        attrs(),
        prop::collection::vec(
            (".{0,6}", any::<u64>(), attrs()).prop_map(|(name, time_unix_nano, attributes)| {
                Event {
                    name,
                    time_unix_nano,
                    attributes,
                    dropped_attributes_count: 0,
                }
            }),
            0..3,
        ),
        prop::collection::vec(
            (prop::collection::vec(any::<u8>(), 0..17), attrs()).prop_map(|(t, attributes)| Link {
                trace_id: t,
                span_id: vec![1; 8],
                attributes,
                ..Default::default()
            }),
            0..2,
        ),
        prop::option::of((0i32..3, ".{0,8}")),
    )
        .prop_map(
            |((t, s, name, kind, a, b, flags), attributes, events, links, st)| Span {
                trace_id: t,
                span_id: s,
                name,
                kind,
                start_time_unix_nano: a,
                end_time_unix_nano: b,
                flags,
                attributes,
                events,
                links,
                status: st.map(|(code, message)| Status { code, message }),
                ..Default::default()
            },
        )
}

fn batch() -> impl Strategy<Value = TracesData> {
    prop::collection::vec(
        (
            prop::option::of(attrs()),
            prop::collection::vec(
                (
                    prop::option::of(("[a-z.]{0,8}", "[0-9.]{0,4}", attrs())),
                    prop::collection::vec(span(), 0..4),
                ),
                0..3,
            ),
        )
            .prop_map(|(res, scopes)| ResourceSpans {
                resource: res.map(|attributes| Resource {
                    attributes,
                    ..Default::default()
                }),
                scope_spans: scopes
                    .into_iter()
                    .map(|(scope, spans)| ScopeSpans {
                        scope: scope.map(|(name, version, attributes)| InstrumentationScope {
                            name,
                            version,
                            attributes,
                            dropped_attributes_count: 0,
                        }),
                        spans,
                        schema_url: String::new(),
                    })
                    .collect(),
                schema_url: "https://opentelemetry.io/schemas/1.26.0".into(),
            }),
        0..3,
    )
    .prop_map(|resource_spans| TracesData { resource_spans })
}

proptest! {
    #[test]
    fn reads_what_prost_decodes(td in batch()) {
        let bytes = td.encode_to_vec();
        let view = read_traces(&bytes).expect("prost's encoding reads");
        prop_assert_eq!(render_ref(&view), render_prost(&td));
        prop_assert_eq!(view.spans().count(),
            td.resource_spans.iter().flat_map(|r| &r.scope_spans).map(|s| s.spans.len()).sum::<usize>());
    }

    /// Any byte string, and every truncation of a real batch: an error or a view, never a
    /// panic, and a view never reads out of bounds.
    #[test]
    fn arbitrary_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..256)) {
        if let Ok(view) = read_traces(&bytes) {
            let _ = render_ref(&view);
        }
    }

    #[test]
    fn truncated_batches_are_errors_or_complete(td in batch(), cut in any::<prop::sample::Index>()) {
        let bytes = td.encode_to_vec();
        prop_assume!(!bytes.is_empty());
        let n = cut.index(bytes.len());
        if let Ok(view) = read_traces(&bytes[..n]) {
            let _ = render_ref(&view);
        }
    }
}

fn chat_span(attributes: Vec<KeyValue>) -> Span {
    Span {
        trace_id: vec![7; 16],
        span_id: vec![1; 8],
        name: "chat gpt-4o".into(),
        attributes,
        ..Default::default()
    }
}

fn one_span(s: Span) -> TracesData {
    TracesData {
        resource_spans: vec![ResourceSpans {
            scope_spans: vec![ScopeSpans {
                spans: vec![s],
                ..Default::default()
            }],
            ..Default::default()
        }],
    }
}

fn kv(key: &str, v: Value) -> KeyValue {
    KeyValue {
        key: key.into(),
        value: Some(AnyValue { value: Some(v) }),
    }
}

/// pdata accepts strings that are not UTF-8; prost does not. The reader keeps the bytes.
#[test]
fn invalid_utf8_is_a_value_not_an_error() {
    let td = one_span(chat_span(vec![
        kv("k", Value::StringValue("AAAA".into())),
        kv("gen_ai.request.model", Value::StringValue("gpt-4o".into())),
    ]));
    let mut bytes = td.encode_to_vec();
    let at = bytes.windows(4).position(|w| w == b"AAAA").unwrap();
    bytes[at + 1] = 0xff;
    assert!(
        TracesData::decode(bytes.as_slice()).is_err(),
        "prost refuses"
    );
    let view = read_traces(&bytes).expect("the reader does not");
    let span = view.spans().next().unwrap();
    let attrs = span.attributes();
    assert_eq!(attrs[0].value, AnyRef::Str(b"A\xffAA"));
    assert_eq!(attrs[0].value.text().as_deref(), Some("A\u{fffd}AA"));
    assert_eq!(attrs[1].value.utf8(), Some("gpt-4o"));
}

fn nested(depth: usize) -> Value {
    let mut v = Value::StringValue("sk-deep".into());
    for _ in 0..depth {
        v = Value::KvlistValue(KeyValueList {
            values: vec![kv("n", v)],
        });
    }
    v
}

/// Nesting far past prost's recursion limit is read; past MAX_VALUE_DEPTH the inner body is
/// not checked but still walks.
#[test]
fn deep_nesting_reads_to_the_bottom() {
    for depth in [40usize, MAX_VALUE_DEPTH as usize + 5, 300] {
        let bytes = one_span(chat_span(vec![kv("deep", nested(depth))])).encode_to_vec();
        let view = read_traces(&bytes).unwrap_or_else(|e| panic!("depth {depth}: {e}"));
        let span = view.spans().next().unwrap();
        let mut v = span.attributes()[0].value;
        let mut levels = 0;
        while let AnyRef::KvList(body) = v {
            v = kvlist_entries(body).next().unwrap().value;
            levels += 1;
        }
        assert_eq!(levels, depth);
        assert_eq!(v, AnyRef::Str(b"sk-deep"));
    }
}

#[test]
fn malformed_structure_is_an_error_naming_the_message() {
    let mut s = chat_span(vec![kv("k", Value::IntValue(1))]);
    s.kind = 3;
    let bytes = one_span(s).encode_to_vec();
    // The span's name (field 5, 11 bytes) claims more bytes than the span has.
    let name_at = bytes.windows(2).position(|w| w == [0x2a, 11]).unwrap();
    let mut long_name = bytes.clone();
    long_name[name_at + 1] = 0x7f;
    let err = read_traces(&long_name).unwrap_err();
    assert_eq!(
        (err.message, err.what),
        ("Span", "length past the end of the message"),
        "{err}"
    );
    // A known field with the wrong wire type: span kind (field 6) sent as a varint is
    // right; as fixed32 (wire type 5) it is not.
    let kind_at = bytes.windows(2).position(|w| w == [0x30, 3]).unwrap();
    let mut wrong_type = bytes.clone();
    wrong_type.splice(kind_at..kind_at + 2, [0x35, 3, 0, 0, 0]);
    fix_lengths(&mut wrong_type, 3);
    let err = read_traces(&wrong_type).unwrap_err();
    assert_eq!(
        (err.message, err.what),
        ("Span", "field has the wrong wire type"),
        "{err}"
    );
    // Cut short: the outer length no longer fits.
    assert!(read_traces(&bytes[..bytes.len() - 1]).is_err());
}

/// Adds `grow` to the three enclosing one-byte lengths (ResourceSpans, ScopeSpans, Span) of
/// a one-span batch built by `one_span`.
fn fix_lengths(b: &mut [u8], grow: u8) {
    // TracesData.resource_spans: 0x0a len; ResourceSpans.scope_spans: 0x12 len;
    // ScopeSpans.spans: 0x12 len. Each length is one byte for these small batches.
    for at in [1usize, 3, 5] {
        assert!(b[at] < 0x80);
        b[at] += grow;
    }
}
