//! An owned copy of a read batch, for the stages that still take prost's `TracesData` (cost,
//! metrics, tail sampling) when prost itself refuses the bytes: strings that are not UTF-8,
//! or nesting deeper than prost decodes. Without it such a batch would skip those stages
//! altogether; with it they see the batch as text with U+FFFD for each invalid sequence.
//!
//! Only used when `prost` fails (the engine counts it), so exactness for valid batches is
//! prost's. Arrays and maps deeper than [`MAX_VALUE_DEPTH`] are kept as the lossy text of
//! their encoded bytes: the reader did not check them, and the copy must not recurse without
//! bound.

use opentelemetry_proto::tonic::common::v1::{
    any_value::Value, AnyValue, ArrayValue, InstrumentationScope, KeyValue, KeyValueList,
};
use opentelemetry_proto::tonic::resource::v1::Resource;
use opentelemetry_proto::tonic::trace::v1::{
    span::{Event, Link},
    ResourceSpans, ScopeSpans, Span, Status, TracesData,
};

use super::reader::{
    array_values, kvlist_entries, ResourceSpansRef, ScopeSpansRef, SpanRef, TracesRef,
    MAX_VALUE_DEPTH,
};
use super::value::{AnyRef, KeyValueRef};

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

fn any(v: AnyRef<'_>, depth: u32) -> AnyValue {
    let value = match v {
        AnyRef::Empty => None,
        AnyRef::Str(s) => Some(Value::StringValue(text(s))),
        AnyRef::Bool(b) => Some(Value::BoolValue(b)),
        AnyRef::Int(i) => Some(Value::IntValue(i)),
        AnyRef::Double(d) => Some(Value::DoubleValue(d)),
        AnyRef::Bytes(b) => Some(Value::BytesValue(b.to_vec())),
        AnyRef::Array(b) | AnyRef::KvList(b) if depth >= MAX_VALUE_DEPTH => {
            Some(Value::StringValue(text(b)))
        }
        AnyRef::Array(b) => Some(Value::ArrayValue(ArrayValue {
            values: array_values(b).map(|x| any(x, depth + 1)).collect(),
        })),
        AnyRef::KvList(b) => Some(Value::KvlistValue(KeyValueList {
            values: kvlist_entries(b)
                .map(|kv| key_value(kv, depth + 1))
                .collect(),
        })),
    };
    AnyValue { value }
}

fn key_value(kv: KeyValueRef<'_>, depth: u32) -> KeyValue {
    KeyValue {
        key: text(kv.key),
        value: Some(any(kv.value, depth)),
    }
}

fn attrs(a: &[KeyValueRef<'_>]) -> Vec<KeyValue> {
    a.iter().map(|kv| key_value(*kv, 0)).collect()
}

/// The batch as prost types, every string read lossily.
pub fn to_owned_lossy(t: &TracesRef<'_>) -> TracesData {
    let resource_spans = t
        .resource_spans()
        .map(|rs| ResourceSpans {
            resource: Some(resource_lossy(&rs)),
            schema_url: text(rs.schema_url()),
            scope_spans: rs
                .scope_spans()
                .map(|ss| ScopeSpans {
                    scope: Some(scope_lossy(&ss)),
                    schema_url: text(ss.schema_url()),
                    spans: ss.spans().map(|s| span_lossy(&s)).collect(),
                })
                .collect(),
        })
        .collect();
    TracesData { resource_spans }
}

/// A read resource as prost's `Resource`, strings read lossily.
pub fn resource_lossy(rs: &ResourceSpansRef<'_, '_>) -> Resource {
    Resource {
        attributes: attrs(rs.resource_attributes()),
        ..Default::default()
    }
}

/// A read scope as prost's `InstrumentationScope`, strings read lossily.
pub fn scope_lossy(ss: &ScopeSpansRef<'_, '_>) -> InstrumentationScope {
    InstrumentationScope {
        name: text(ss.scope_name()),
        version: text(ss.scope_version()),
        attributes: attrs(ss.scope_attributes()),
        ..Default::default()
    }
}

/// A read span as prost's `Span`, strings read lossily.
pub fn span_lossy(s: &SpanRef<'_, '_>) -> Span {
    let status = s.status();
    Span {
        trace_id: s.trace_id().to_vec(),
        span_id: s.span_id().to_vec(),
        trace_state: text(s.trace_state()),
        parent_span_id: s.parent_span_id().to_vec(),
        flags: s.flags(),
        name: text(s.name()),
        kind: s.kind(),
        start_time_unix_nano: s.start_time_unix_nano(),
        end_time_unix_nano: s.end_time_unix_nano(),
        attributes: attrs(s.attributes()),
        events: s
            .events()
            .map(|e| Event {
                time_unix_nano: e.time_unix_nano(),
                name: text(e.name()),
                attributes: attrs(e.attributes()),
                ..Default::default()
            })
            .collect(),
        links: s
            .links()
            .map(|l| Link {
                trace_id: l.trace_id().to_vec(),
                span_id: l.span_id().to_vec(),
                attributes: attrs(l.attributes()),
                ..Default::default()
            })
            .collect(),
        status: (status.code != 0 || !status.message.is_empty()).then(|| Status {
            code: status.code,
            message: text(status.message),
        }),
        ..Default::default()
    }
}

/// Appends one length-delimited field (`tag` is the whole key byte) to `out`.
fn put_field(out: &mut Vec<u8>, tag: u8, body: &[u8]) {
    out.push(tag);
    prost::encoding::encode_varint(body.len() as u64, out);
    out.extend_from_slice(body);
}

/// One encoded `Span` message as prost's `Span`: exactly when prost accepts it, lossily (as
/// [`to_owned_lossy`]) when a string in it is not UTF-8 or its values nest too deep. `None`
/// only for bytes that are not a span at all.
pub fn decode_span_lossy(body: &[u8]) -> Option<Span> {
    use prost::Message;
    if let Ok(s) = Span::decode(body) {
        return Some(s);
    }
    // The reader reads whole batches: wrap the span in a scope, a resource and a batch.
    let mut scope = Vec::with_capacity(body.len() + 6);
    put_field(&mut scope, 0x12, body);
    let mut resource = Vec::with_capacity(scope.len() + 6);
    put_field(&mut resource, 0x12, &scope);
    let mut batch = Vec::with_capacity(resource.len() + 6);
    put_field(&mut batch, 0x0a, &resource);
    let read = super::read_traces(&batch).ok()?;
    let span = read.spans().next().map(|s| span_lossy(&s));
    span
}

/// One encoded `Resource` message as prost's type, or `read`'s lossy copy when prost
/// refuses it.
pub fn decode_resource_lossy(body: &[u8], read: &ResourceSpansRef<'_, '_>) -> Resource {
    use prost::Message;
    Resource::decode(body).unwrap_or_else(|_| resource_lossy(read))
}

/// One encoded `InstrumentationScope` message as prost's type, or `read`'s lossy copy when
/// prost refuses it.
pub fn decode_scope_lossy(body: &[u8], read: &ScopeSpansRef<'_, '_>) -> InstrumentationScope {
    use prost::Message;
    InstrumentationScope::decode(body).unwrap_or_else(|_| scope_lossy(read))
}

#[cfg(test)]
mod tests {
    use super::*;
    use prost::Message;

    #[test]
    fn a_valid_batch_copies_as_prost_decodes_it() {
        let td = TracesData {
            resource_spans: vec![ResourceSpans {
                resource: Some(Resource {
                    attributes: vec![super::super::kv_str("service.name", "svc")],
                    ..Default::default()
                }),
                scope_spans: vec![ScopeSpans {
                    scope: Some(InstrumentationScope {
                        name: "lib".into(),
                        version: "1".into(),
                        ..Default::default()
                    }),
                    spans: vec![Span {
                        trace_id: vec![1; 16],
                        span_id: vec![2; 8],
                        name: "chat".into(),
                        kind: 3,
                        start_time_unix_nano: 5,
                        end_time_unix_nano: 9,
                        attributes: vec![super::super::kv_int("n", 7)],
                        events: vec![Event {
                            name: "e".into(),
                            time_unix_nano: 6,
                            ..Default::default()
                        }],
                        status: Some(Status {
                            code: 2,
                            message: "boom".into(),
                        }),
                        ..Default::default()
                    }],
                    ..Default::default()
                }],
                ..Default::default()
            }],
        };
        let bytes = td.encode_to_vec();
        let read = crate::otlp::read_traces(&bytes).unwrap();
        assert_eq!(to_owned_lossy(&read), td);
    }

    #[test]
    fn invalid_bytes_become_replacement_characters() {
        let td = TracesData {
            resource_spans: vec![ResourceSpans {
                scope_spans: vec![ScopeSpans {
                    spans: vec![Span {
                        name: "chat-XX".into(),
                        ..Default::default()
                    }],
                    ..Default::default()
                }],
                ..Default::default()
            }],
        };
        let mut bytes = td.encode_to_vec();
        let at = bytes.windows(2).position(|w| w == b"XX").unwrap();
        bytes[at..at + 2].copy_from_slice(b"\xff\xfe");
        assert!(crate::otlp::decode_traces(&bytes).is_err());
        let read = crate::otlp::read_traces(&bytes).unwrap();
        let copy = to_owned_lossy(&read);
        assert_eq!(
            copy.resource_spans[0].scope_spans[0].spans[0].name,
            "chat-\u{fffd}\u{fffd}"
        );
    }
}
