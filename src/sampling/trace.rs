//! A buffered trace: owned spans grouped with shared handles to their resource and scope.
//!
//! A batch's resource and scope are wrapped in an `Arc` once per batch and shared by every
//! trace that has spans under them, so buffering a span costs the span itself, not another
//! copy of its resource (contrib deep-copies both per trace).

use std::sync::Arc;

use opentelemetry_proto::tonic::common::v1::{any_value, AnyValue, InstrumentationScope, KeyValue};
use opentelemetry_proto::tonic::resource::v1::Resource;
use opentelemetry_proto::tonic::trace::v1::Span;
use prost::Message;

/// A trace ID as the map key; IDs of another length are zero-padded or truncated.
pub type TraceId = [u8; 16];

/// Converts a span's trace-id bytes to the key type.
pub fn trace_id_of(bytes: &[u8]) -> TraceId {
    let mut id = [0u8; 16];
    let n = bytes.len().min(16);
    id[..n].copy_from_slice(&bytes[..n]);
    id
}

/// Encoded size of a length-delimited field with a one-byte tag.
fn field_len(len: usize) -> usize {
    1 + prost::length_delimiter_len(len) + len
}

/// A proto3 string field: omitted when empty.
fn str_field_len(s: &str) -> usize {
    if s.is_empty() {
        0
    } else {
        field_len(s.len())
    }
}

/// The resource half of a `ResourceSpans`, shared by all traces of one batch.
#[derive(Debug, Default)]
pub struct ResourceHdr {
    pub resource: Option<Resource>,
    pub schema_url: String,
    /// Bytes the resource and schema URL add inside an encoded `ResourceSpans`.
    pub encoded_len: usize,
}

/// The scope half of a `ScopeSpans`, shared by all traces of one batch.
#[derive(Debug, Default)]
pub struct ScopeHdr {
    pub scope: Option<InstrumentationScope>,
    pub schema_url: String,
    /// Bytes the scope and schema URL add inside an encoded `ScopeSpans`.
    pub encoded_len: usize,
}

impl ResourceHdr {
    pub fn new(resource: Option<Resource>, schema_url: String) -> Self {
        let encoded_len = resource.as_ref().map_or(0, |r| field_len(r.encoded_len()))
            + str_field_len(&schema_url);
        ResourceHdr {
            resource,
            schema_url,
            encoded_len,
        }
    }

    /// The resource attributes (empty when there is no resource).
    pub fn attributes(&self) -> &[opentelemetry_proto::tonic::common::v1::KeyValue] {
        self.resource
            .as_ref()
            .map(|r| r.attributes.as_slice())
            .unwrap_or(&[])
    }
}

impl ScopeHdr {
    pub fn new(scope: Option<InstrumentationScope>, schema_url: String) -> Self {
        let encoded_len =
            scope.as_ref().map_or(0, |s| field_len(s.encoded_len())) + str_field_len(&schema_url);
        ScopeHdr {
            scope,
            schema_url,
            encoded_len,
        }
    }
}

/// Spans of one trace under one (resource, scope) pair.
#[derive(Debug, Clone)]
pub struct Group {
    pub resource: Arc<ResourceHdr>,
    pub scope: Arc<ScopeHdr>,
    pub spans: Vec<Span>,
}

/// Per-allocation overhead of the system allocator (header and rounding), approximately.
const ALLOC_OVERHEAD: usize = 16;
/// Fixed per-trace bookkeeping (map entry, queues, cache entry).
pub const TRACE_OVERHEAD_BYTES: u64 = 160;
/// Fixed per-group bookkeeping (two Arcs and a Vec header).
pub const GROUP_OVERHEAD_BYTES: u64 = 48;

fn vec_heap<T>(_: &[T], cap: usize) -> usize {
    if cap == 0 {
        0
    } else {
        cap * std::mem::size_of::<T>() + ALLOC_OVERHEAD
    }
}

fn str_heap(s: &str) -> usize {
    // Decoded strings are allocated to their exact length.
    if s.is_empty() {
        0
    } else {
        s.len() + ALLOC_OVERHEAD
    }
}

fn bytes_heap(v: &[u8]) -> usize {
    if v.is_empty() {
        0
    } else {
        v.len() + ALLOC_OVERHEAD
    }
}

fn any_heap(v: Option<&AnyValue>) -> usize {
    match v.and_then(|v| v.value.as_ref()) {
        Some(any_value::Value::StringValue(s)) => str_heap(s),
        Some(any_value::Value::BytesValue(b)) => bytes_heap(b),
        Some(any_value::Value::ArrayValue(a)) => {
            vec_heap(&a.values, a.values.capacity())
                + a.values.iter().map(|v| any_heap(Some(v))).sum::<usize>()
        }
        Some(any_value::Value::KvlistValue(l)) => attrs_heap(&l.values),
        _ => 0,
    }
}

// Takes the Vec, not a slice: its capacity is what is allocated.
#[allow(clippy::ptr_arg)]
fn attrs_heap(kvs: &Vec<KeyValue>) -> usize {
    vec_heap(kvs, kvs.capacity())
        + kvs
            .iter()
            .map(|kv| str_heap(&kv.key) + any_heap(kv.value.as_ref()))
            .sum::<usize>()
}

/// Estimated heap a decoded span holds, walking its allocations. A decoded span is several
/// times its wire size (every attribute is its own allocations), so the budget must count
/// this rather than the encoded length.
pub fn span_heap(s: &Span) -> usize {
    bytes_heap(&s.trace_id)
        + bytes_heap(&s.span_id)
        + str_heap(&s.trace_state)
        + bytes_heap(&s.parent_span_id)
        + str_heap(&s.name)
        + attrs_heap(&s.attributes)
        + vec_heap(&s.events, s.events.capacity())
        + s.events
            .iter()
            .map(|e| str_heap(&e.name) + attrs_heap(&e.attributes))
            .sum::<usize>()
        + vec_heap(&s.links, s.links.capacity())
        + s.links
            .iter()
            .map(|l| {
                bytes_heap(&l.trace_id)
                    + bytes_heap(&l.span_id)
                    + str_heap(&l.trace_state)
                    + attrs_heap(&l.attributes)
            })
            .sum::<usize>()
        + s.status.as_ref().map_or(0, |st| str_heap(&st.message))
}

/// Estimated bytes a buffered span costs: its heap, its inline struct, and the slack of the
/// growing `Vec` it sits in.
pub fn span_cost(span: &Span) -> u64 {
    let inline = std::mem::size_of::<Span>();
    (span_heap(span) + inline + inline / 2) as u64
}

/// What the policies see of one trace at decision time.
#[derive(Debug, Default)]
pub struct TraceData {
    pub id: TraceId,
    pub groups: Vec<Group>,
    pub span_count: u64,
    /// Estimated buffered bytes (the budget's measure).
    pub bytes: u64,
    /// When the first span arrived (injected clock).
    pub arrival_ns: u64,
}

impl TraceData {
    /// Appends spans, reusing the last group when resource and scope are the same handles.
    pub fn push(&mut self, resource: &Arc<ResourceHdr>, scope: &Arc<ScopeHdr>, span: Span) {
        if let Some(last) = self.groups.last_mut() {
            if Arc::ptr_eq(&last.resource, resource) && Arc::ptr_eq(&last.scope, scope) {
                last.spans.push(span);
                return;
            }
        }
        self.groups.push(Group {
            resource: resource.clone(),
            scope: scope.clone(),
            spans: vec![span],
        });
    }

    /// Every span, in arrival order.
    pub fn spans(&self) -> impl Iterator<Item = &Span> {
        self.groups.iter().flat_map(|g| g.spans.iter())
    }

    /// Size of this trace as OTLP `TracesData`, as contrib's copy of it would marshal: one
    /// `ResourceSpans` per run of groups sharing a resource, one `ScopeSpans` per group. This
    /// is what `bytes_limiting` charges.
    pub fn otlp_size(&self) -> u64 {
        let mut total = 0usize;
        let mut i = 0;
        while i < self.groups.len() {
            let res = &self.groups[i].resource;
            let mut rs = res.encoded_len;
            while i < self.groups.len() && Arc::ptr_eq(&self.groups[i].resource, res) {
                let g = &self.groups[i];
                let ss: usize = g.scope.encoded_len
                    + g.spans
                        .iter()
                        .map(|s| field_len(s.encoded_len()))
                        .sum::<usize>();
                rs += field_len(ss);
                i += 1;
            }
            total += field_len(rs);
        }
        total as u64
    }
}
