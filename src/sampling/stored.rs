//! A buffered trace as the sampler holds it: each span's encoded bytes, as they arrived,
//! under shared handles to its resource and scope.
//!
//! A decoded span costs several times its wire size (every attribute its own allocations;
//! issue 10 measured 2.16x contrib's bytes per buffered span), and holding it decoded meant
//! encoding it again on release. Held as bytes, a span costs its wire size plus two or three
//! bytes of framing, the byte budget counts what is really held, and release copies the
//! bytes (src/sampling/output.rs). At decision time the policies read the held bytes where
//! they lie (src/sampling/view.rs); only a kept root that gets its trace's totals is decoded
//! and encoded again.

use std::sync::Arc;

use opentelemetry_proto::tonic::trace::v1::Span;

use super::trace::{field_len, ResourceHdr, ScopeHdr, TraceId};

/// Spans of one trace under one (resource, scope) pair, held as they go out: one buffer of
/// `ScopeSpans.spans` fields (key, length, encoded `Span`), one after another. One allocation
/// per group rather than per span, sized to what a batch brings, and copied as it is into a
/// release (src/sampling/output.rs).
#[derive(Debug, Clone)]
pub struct StoredGroup {
    pub resource: Arc<ResourceHdr>,
    pub scope: Arc<ScopeHdr>,
    framed: Vec<u8>,
    count: usize,
}

/// The key of field 2 (`spans`, length-delimited) of `ScopeSpans`.
const SPAN_KEY: u8 = 0x12;

/// Bytes one span takes framed: key, length, message.
pub fn framed_len(span: &[u8]) -> usize {
    1 + prost::encoding::encoded_len_varint(span.len() as u64) + span.len()
}

/// The most framed bytes one group buffer holds before the next span starts another group
/// under the same handles: a 500,000-span trace is held as many buffers of about 1 MiB, so
/// its release hands them over (and frees them) one piece at a time instead of keeping one
/// huge buffer until the last piece, and growing never reallocates more than this.
pub const GROUP_BYTES_MAX: usize = 1 << 20;

/// Bytes a group costs beyond its framed spans (two Arcs, the buffer's header, its place in
/// the trace's list of groups, the allocation).
pub const GROUP_OVERHEAD_BYTES: u64 = 64;

impl StoredGroup {
    pub fn new(resource: &Arc<ResourceHdr>, scope: &Arc<ScopeHdr>) -> StoredGroup {
        StoredGroup {
            resource: resource.clone(),
            scope: scope.clone(),
            framed: Vec::new(),
            count: 0,
        }
    }

    /// Appends one encoded span. When the buffer must grow, it grows to `room` more bytes
    /// exactly (the caller passes what the rest of its batch brings for this trace), so a
    /// held trace carries no doubling slack.
    pub fn push(&mut self, span: &[u8], room: usize) {
        let need = framed_len(span);
        if self.framed.capacity() - self.framed.len() < need {
            let cap = GROUP_BYTES_MAX.saturating_sub(self.framed.len());
            self.framed.reserve_exact(room.min(cap).max(need));
        }
        self.framed.push(SPAN_KEY);
        prost::encoding::encode_varint(span.len() as u64, &mut self.framed);
        self.framed.extend_from_slice(span);
        self.count += 1;
    }

    /// How many spans the group holds.
    pub fn len(&self) -> usize {
        self.count
    }

    pub fn is_empty(&self) -> bool {
        self.count == 0
    }

    /// The framed spans, as they go into a `ScopeSpans` message.
    pub fn framed(&self) -> &[u8] {
        &self.framed
    }

    /// Each span's encoded `Span` message, in order.
    pub fn spans(&self) -> Spans<'_> {
        Spans::of(&self.framed)
    }

    /// Held bytes: the framed spans plus [`GROUP_OVERHEAD_BYTES`].
    pub fn cost(&self) -> u64 {
        self.framed.len() as u64 + GROUP_OVERHEAD_BYTES
    }

    /// A group of already framed spans (a piece cut from another group).
    pub fn from_framed(
        resource: &Arc<ResourceHdr>,
        scope: &Arc<ScopeHdr>,
        framed: Vec<u8>,
        count: usize,
    ) -> StoredGroup {
        StoredGroup {
            resource: resource.clone(),
            scope: scope.clone(),
            framed,
            count,
        }
    }

    /// The same spans with span `i` replaced by `span`.
    fn with_replaced(&self, i: usize, span: &[u8]) -> StoredGroup {
        let mut out = StoredGroup::new(&self.resource, &self.scope);
        let room = self.framed.len() + framed_len(span);
        for (k, s) in self.spans().enumerate() {
            out.push(if k == i { span } else { s }, room);
        }
        out
    }
}

/// The spans of a [`StoredGroup`]. The buffer is only ever written by `push`, so every frame
/// is whole; a frame that did not parse would end the walk rather than read out of bounds.
pub struct Spans<'g> {
    rest: &'g [u8],
}

impl<'g> Spans<'g> {
    /// The spans of a run of frames written by [`StoredGroup::push`].
    pub fn of(framed: &'g [u8]) -> Spans<'g> {
        Spans { rest: framed }
    }
}

impl<'g> Iterator for Spans<'g> {
    type Item = &'g [u8];

    fn next(&mut self) -> Option<&'g [u8]> {
        let mut buf = self.rest.get(1..)?;
        let len = prost::encoding::decode_varint(&mut buf).ok()? as usize;
        let span = buf.get(..len)?;
        self.rest = &buf[len..];
        Some(span)
    }
}

/// Appends `span` to `groups`, to the last group when resource and scope are the same handles
/// (spans of one batch arrive together) and it has room under [`GROUP_BYTES_MAX`]. `room`: see [`StoredGroup::push`]. Returns the bytes
/// the span adds to the budget, a new group's overhead included.
pub fn push_span(
    groups: &mut Vec<StoredGroup>,
    resource: &Arc<ResourceHdr>,
    scope: &Arc<ScopeHdr>,
    span: &[u8],
    room: usize,
) -> u64 {
    let mut cost = framed_len(span) as u64;
    let same = groups.last().is_some_and(|last| {
        Arc::ptr_eq(&last.resource, resource)
            && Arc::ptr_eq(&last.scope, scope)
            && (last.framed.len() + framed_len(span) <= GROUP_BYTES_MAX || last.is_empty())
    });
    if !same {
        groups.push(StoredGroup::new(resource, scope));
        cost += GROUP_OVERHEAD_BYTES;
    }
    groups.last_mut().expect("pushed above").push(span, room);
    cost
}

/// One buffered trace.
#[derive(Debug, Default)]
pub struct StoredTrace {
    pub id: TraceId,
    pub groups: Vec<StoredGroup>,
    pub span_count: u64,
    /// Held bytes (the budget's measure): framed spans plus bookkeeping.
    pub bytes: u64,
    /// When the first span arrived (injected clock).
    pub arrival_ns: u64,
}

impl StoredTrace {
    /// Size of this trace as OTLP `TracesData`, as contrib's copy of it would marshal: one
    /// `ResourceSpans` per run of groups sharing a resource, one `ScopeSpans` per group. This
    /// is what `bytes_limiting` charges: the held bytes, as they came.
    pub fn otlp_size(&self) -> u64 {
        let mut total = 0usize;
        let mut i = 0;
        while i < self.groups.len() {
            let res = &self.groups[i].resource;
            let mut rs = res.encoded_len;
            while i < self.groups.len() && Arc::ptr_eq(&self.groups[i].resource, res) {
                let g = &self.groups[i];
                rs += field_len(g.scope.encoded_len + g.framed.len());
                i += 1;
            }
            total += field_len(rs);
        }
        total as u64
    }

    /// Replaces the held bytes of span `i` of group `g` with `span` encoded (the root span
    /// after the trace's totals were written on it).
    pub fn replace(&mut self, g: usize, i: usize, span: &Span) {
        use prost::Message;
        self.groups[g] = self.groups[g].with_replaced(i, &span.encode_to_vec());
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::otlp::kv_str;
    use prost::Message;

    fn span(n: u8, payload: usize) -> Span {
        Span {
            trace_id: vec![1; 16],
            span_id: vec![n; 8],
            parent_span_id: if n == 0 { vec![] } else { vec![0; 8] },
            name: format!("span-{n}"),
            attributes: vec![kv_str("p", &"x".repeat(payload))],
            ..Default::default()
        }
    }

    fn handles() -> (Arc<ResourceHdr>, Arc<ScopeHdr>) {
        (
            Arc::new(ResourceHdr::new(None, String::new())),
            Arc::new(ScopeHdr::new(None, String::new())),
        )
    }

    /// Spans come back out as they went in, including one whose length needs a two-byte
    /// prefix, and the budget counts exactly the framed bytes plus the group overhead.
    #[test]
    fn framed_spans_read_back_in_order() {
        let (r, s) = handles();
        let sizes = [0, 10, 200, 5000];
        let encoded: Vec<Vec<u8>> = sizes
            .iter()
            .enumerate()
            .map(|(i, &p)| span(i as u8, p).encode_to_vec())
            .collect();
        let mut groups = Vec::new();
        let mut cost = 0;
        for e in &encoded {
            cost += push_span(&mut groups, &r, &s, e, 0);
        }
        assert_eq!(groups.len(), 1);
        let g = &groups[0];
        assert_eq!(g.len(), 4);
        let back: Vec<&[u8]> = g.spans().collect();
        assert_eq!(back, encoded.iter().map(|e| &e[..]).collect::<Vec<_>>());
        let framed: usize = encoded.iter().map(|e| framed_len(e)).sum();
        assert_eq!(g.framed().len(), framed);
        assert_eq!(cost, g.cost());
    }

    /// A batch's spans of one trace grow the buffer once, to exactly what they need.
    #[test]
    fn the_buffer_grows_to_the_room_asked_for() {
        let (r, s) = handles();
        let encoded: Vec<Vec<u8>> = (0..10).map(|i| span(i, 300).encode_to_vec()).collect();
        let room: usize = encoded.iter().map(|e| framed_len(e)).sum();
        let mut g = StoredGroup::new(&r, &s);
        let mut left = room;
        for e in &encoded {
            g.push(e, left);
            left -= framed_len(e);
        }
        assert_eq!(g.framed.capacity(), room);
    }

    /// A trace larger than one group buffer is held in several, none over the cap, and they
    /// go out as one scope (src/sampling/output.rs merges groups under the same handles).
    #[test]
    fn a_huge_trace_is_held_in_capped_buffers() {
        let (r, s) = handles();
        let e = span(1, 10_000).encode_to_vec();
        let n = 3 * GROUP_BYTES_MAX / e.len();
        let room = n * framed_len(&e);
        let mut groups = Vec::new();
        for k in 0..n {
            push_span(&mut groups, &r, &s, &e, room - k * framed_len(&e));
        }
        assert!(groups.len() >= 3, "{}", groups.len());
        assert!(groups
            .iter()
            .all(|g| g.framed.len() <= GROUP_BYTES_MAX && g.framed.capacity() <= GROUP_BYTES_MAX));
        assert_eq!(groups.iter().map(StoredGroup::len).sum::<usize>(), n);
        let out = super::super::output::encode(&groups);
        let read = crate::otlp::read_traces(&out).unwrap();
        assert_eq!(read.resource_spans().count(), 1);
        assert_eq!(read.span_count(), n);
    }

    /// A new resource or scope handle starts a new group.
    #[test]
    fn another_scope_starts_another_group() {
        let (r, s) = handles();
        let s2 = Arc::new(ScopeHdr::new(None, String::new()));
        let e = span(1, 5).encode_to_vec();
        let mut groups = Vec::new();
        let first = push_span(&mut groups, &r, &s, &e, 0);
        let same = push_span(&mut groups, &r, &s, &e, 0);
        let other = push_span(&mut groups, &r, &s2, &e, 0);
        assert_eq!(groups.len(), 2);
        assert_eq!(first, other);
        assert_eq!(first - same, GROUP_OVERHEAD_BYTES);
    }

    /// The held spans read back in their places; replacing one changes only it.
    #[test]
    fn decode_and_replace_keep_positions() {
        let (r, s) = handles();
        let spans: Vec<Span> = (0..3).map(|i| span(i, 20)).collect();
        let mut t = StoredTrace::default();
        for x in &spans {
            t.bytes += push_span(&mut t.groups, &r, &s, &x.encode_to_vec(), 0);
            t.span_count += 1;
        }
        let decoded = |t: &StoredTrace| -> Vec<Span> {
            t.groups[0]
                .spans()
                .map(|b| Span::decode(b).unwrap())
                .collect()
        };
        assert_eq!(decoded(&t), spans);
        let mut changed = spans[1].clone();
        changed.name = "changed".into();
        t.replace(0, 1, &changed);
        assert_eq!(
            decoded(&t),
            vec![spans[0].clone(), changed, spans[2].clone()]
        );
    }
}
