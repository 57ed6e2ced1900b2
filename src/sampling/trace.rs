//! A buffered trace: owned spans grouped with shared handles to their resource and scope.
//!
//! A batch's resource and scope are wrapped in an `Arc` once per batch and shared by every
//! trace that has spans under them, so buffering a span costs the span itself, not another
//! copy of its resource (contrib deep-copies both per trace).

use std::sync::Arc;

use opentelemetry_proto::tonic::common::v1::InstrumentationScope;
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

/// The resource half of a `ResourceSpans`, shared by all traces of one batch.
#[derive(Debug, Default)]
pub struct ResourceHdr {
    pub resource: Option<Resource>,
    pub schema_url: String,
    /// Encoded size, charged once per group that references it.
    pub encoded_len: usize,
}

/// The scope half of a `ScopeSpans`, shared by all traces of one batch.
#[derive(Debug, Default)]
pub struct ScopeHdr {
    pub scope: Option<InstrumentationScope>,
    pub schema_url: String,
    pub encoded_len: usize,
}

impl ResourceHdr {
    pub fn new(resource: Option<Resource>, schema_url: String) -> Self {
        let encoded_len = resource.as_ref().map_or(0, |r| r.encoded_len()) + schema_url.len();
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
        let encoded_len = scope.as_ref().map_or(0, |s| s.encoded_len()) + schema_url.len();
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

/// Fixed per-span bookkeeping added to the encoded size (Vec slot, prost struct padding).
pub const SPAN_OVERHEAD_BYTES: u64 = 64;
/// Fixed per-trace bookkeeping (map entry, queues, cache entry).
pub const TRACE_OVERHEAD_BYTES: u64 = 160;
/// Fixed per-group bookkeeping (two Arcs and a Vec header).
pub const GROUP_OVERHEAD_BYTES: u64 = 48;

/// Estimated bytes a buffered span costs: its encoded size plus fixed overhead.
pub fn span_cost(span: &Span) -> u64 {
    span.encoded_len() as u64 + SPAN_OVERHEAD_BYTES
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

    /// Size of this trace as OTLP `TracesData`, one `ResourceSpans` per group; what
    /// `bytes_limiting` charges (contrib uses the marshalled size of its copy).
    pub fn otlp_size(&self) -> u64 {
        let mut total = 0usize;
        for g in &self.groups {
            let spans: usize = g
                .spans
                .iter()
                .map(|s| {
                    let l = s.encoded_len();
                    1 + prost::length_delimiter_len(l) + l
                })
                .sum();
            let scope_len = g.scope.encoded_len;
            let ss = spans
                + if scope_len > 0 {
                    1 + prost::length_delimiter_len(scope_len) + scope_len
                } else {
                    0
                };
            let res_len = g.resource.encoded_len;
            let rs = 1
                + prost::length_delimiter_len(ss)
                + ss
                + if res_len > 0 {
                    1 + prost::length_delimiter_len(res_len) + res_len
                } else {
                    0
                };
            total += 1 + prost::length_delimiter_len(rs) + rs;
        }
        total as u64
    }
}
