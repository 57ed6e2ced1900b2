//! A buffered trace as the sampler holds it: each span's encoded bytes, as they arrived,
//! under shared handles to its resource and scope.
//!
//! A decoded span costs several times its wire size (every attribute its own allocations;
//! issue 10 measured 2.16x contrib's bytes per buffered span), and holding it decoded meant
//! encoding it again on release. Held as bytes, a span costs its wire size plus one small
//! allocation, the byte budget counts what is really held, and release copies the bytes
//! (src/sampling/output.rs). The spans are decoded once, when the trace is decided, into the
//! [`TraceData`] the policies read, and that copy is gone with the decision.

use std::sync::Arc;

use opentelemetry_proto::tonic::trace::v1::Span;

use super::trace::{Group, ResourceHdr, ScopeHdr, TraceData, TraceId};

/// One span's encoded `Span` message.
pub type SpanBytes = Box<[u8]>;

/// Spans of one trace under one (resource, scope) pair, as encoded bytes.
#[derive(Debug, Clone)]
pub struct StoredGroup {
    pub resource: Arc<ResourceHdr>,
    pub scope: Arc<ScopeHdr>,
    pub spans: Vec<SpanBytes>,
}

/// Per-allocation overhead of the system allocator (header and rounding), approximately.
const ALLOC_OVERHEAD: u64 = 16;

/// Bytes a held span costs: its encoded bytes, their allocation, the box in its group's
/// `Vec`, and that `Vec`'s growth slack.
pub fn span_cost(bytes: &[u8]) -> u64 {
    let boxed = std::mem::size_of::<SpanBytes>() as u64;
    bytes.len() as u64 + ALLOC_OVERHEAD + boxed + boxed / 2
}

/// Bytes a group of held spans costs (see [`span_cost`]), with its fixed bookkeeping.
pub fn group_cost(g: &StoredGroup) -> u64 {
    super::trace::GROUP_OVERHEAD_BYTES + g.spans.iter().map(|s| span_cost(s)).sum::<u64>()
}

/// Appends `span` to `groups`, reusing the last group when resource and scope are the same
/// handles (spans of one batch arrive together).
pub fn push_span(
    groups: &mut Vec<StoredGroup>,
    resource: &Arc<ResourceHdr>,
    scope: &Arc<ScopeHdr>,
    span: SpanBytes,
) {
    if let Some(last) = groups.last_mut() {
        if Arc::ptr_eq(&last.resource, resource) && Arc::ptr_eq(&last.scope, scope) {
            last.spans.push(span);
            return;
        }
    }
    groups.push(StoredGroup {
        resource: resource.clone(),
        scope: scope.clone(),
        spans: vec![span],
    });
}

/// One buffered trace.
#[derive(Debug, Default)]
pub struct StoredTrace {
    pub id: TraceId,
    pub groups: Vec<StoredGroup>,
    pub span_count: u64,
    /// Held bytes (the budget's measure): [`span_cost`] per span plus bookkeeping.
    pub bytes: u64,
    /// When the first span arrived (injected clock).
    pub arrival_ns: u64,
}

impl StoredTrace {
    /// The trace decoded for the policies: same groups, same span order, so an index into
    /// the decoded spans is an index into the held bytes. A span prost refuses (a string that
    /// is not UTF-8) is copied lossily; the held bytes stay as they came.
    pub fn decode(&self) -> TraceData {
        TraceData {
            id: self.id,
            groups: self
                .groups
                .iter()
                .map(|g| Group {
                    resource: g.resource.clone(),
                    scope: g.scope.clone(),
                    spans: g
                        .spans
                        .iter()
                        .map(|b| crate::otlp::owned::decode_span_lossy(b).unwrap_or_default())
                        .collect(),
                })
                .collect(),
            span_count: self.span_count,
            bytes: self.bytes,
            arrival_ns: self.arrival_ns,
        }
    }

    /// Replaces the held bytes of span `i` of group `g` with `span` encoded (the root span
    /// after the trace's totals were written on it).
    pub fn replace(&mut self, g: usize, i: usize, span: &Span) {
        use prost::Message;
        self.groups[g].spans[i] = span.encode_to_vec().into_boxed_slice();
    }
}
