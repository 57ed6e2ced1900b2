//! A borrowed reader of OTLP traces: one walk over the protobuf bytes Go passes.
//!
//! Why not decode: a decoded copy allocates a `String` per key and value (prompt text
//! included, which most stages never read) and refuses strings that are not UTF-8, which the
//! collector's pdata accepts. Here strings stay byte ranges of the batch; a stage that needs
//! text asks for it. See docs/boundary.md for where this sits in the engine.
//!
//! [`read_traces`] walks the batch once: it checks the structure (every length in bounds,
//! every known field with its wire type) and, in the same walk, builds an index of borrowed
//! views: resources, scopes, spans with their scalar fields, events, links, and every
//! attribute as a [`KeyValueRef`]. A handful of vectors per batch, nothing per attribute, and
//! no stage parses a span twice. After it succeeds nothing can fail.
//!
//! Arrays and key-value lists inside attribute values stay encoded ([`AnyRef::Array`],
//! [`AnyRef::KvList`]) and are walked by whoever needs them ([`array_values`],
//! [`kvlist_entries`]). The walk checks them down to [`MAX_VALUE_DEPTH`] levels; below that
//! their bytes are one value to the reader, and the iterators over them stop at the first
//! malformed byte instead of failing. So the only error left is bytes that are not protobuf
//! at all, which pdata never produces.
//!
//! Message and field numbers: opentelemetry-proto's trace.proto and common.proto (the same
//! definitions `opentelemetry_proto` compiles). A singular field sent twice is read from its
//! last occurrence (protobuf's rule for scalars; pdata never sends one twice).

use std::ops::Range;

use super::value::{AnyRef, KeyValueRef};
use super::wire::{Field, Fields, WireError, WireValue};

/// Arrays and key-value lists nested deeper than this are not checked by [`read_traces`]:
/// far beyond anything instrumentation writes, and shallow enough that the walk stays cheap
/// in stack and time.
pub const MAX_VALUE_DEPTH: u32 = 64;

/// The batch is not protobuf that pdata could have written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReadError {
    /// Byte offset in the batch.
    pub offset: usize,
    /// The message being read, e.g. `Span`.
    pub message: &'static str,
    pub what: &'static str,
}

impl std::fmt::Display for ReadError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "malformed OTLP traces at byte {} ({}): {}",
            self.offset, self.message, self.what
        )
    }
}

impl std::error::Error for ReadError {}

/// Reads a `TracesData` (or `ExportTraceServiceRequest`: the same wire format).
pub fn read_traces(bytes: &[u8]) -> Result<TracesRef<'_>, ReadError> {
    let mut ix = Indexer {
        batch: bytes,
        // About one span per 400 encoded bytes in GenAI traffic; a guess only saves regrowth.
        out: TracesRef::with_capacity(bytes.len() / 400),
    };
    ix.traces(bytes)?;
    Ok(ix.out)
}

/// Reads runs of `ScopeSpans.spans` fields (key, length, encoded `Span`, one after another)
/// as one batch with one resource and one scope per run, in order: how the tail sampler
/// holds a trace (src/sampling/stored.rs), read where it lies instead of being copied into
/// a `TracesData` first. The resource and scope carry nothing; their holder knows them.
pub fn read_span_runs<'a>(runs: &[&'a [u8]]) -> Result<TracesRef<'a>, ReadError> {
    let bytes: usize = runs.iter().map(|r| r.len()).sum();
    let mut ix = Indexer {
        batch: runs.first().copied().unwrap_or_default(),
        out: TracesRef::with_capacity(bytes / 400),
    };
    ix.out.resources.push(ResourceEntry {
        raw: &[],
        schema_url: &[],
        attrs: 0..0,
        scopes: 0..0,
    });
    for (k, run) in runs.iter().enumerate() {
        // Error offsets are counted from the start of the run being read.
        ix.batch = run;
        ix.scope_spans(run, 0, count(k))?;
    }
    ix.out.resources[0].scopes.end = count(ix.out.scopes.len());
    Ok(ix.out)
}

// ---- the index ----

struct ResourceEntry<'a> {
    raw: &'a [u8],
    schema_url: &'a [u8],
    attrs: Range<u32>,
    scopes: Range<u32>,
}

struct ScopeEntry<'a> {
    rs: u32,
    index: u32,
    raw: &'a [u8],
    name: &'a [u8],
    version: &'a [u8],
    schema_url: &'a [u8],
    attrs: Range<u32>,
    spans: Range<u32>,
}

#[derive(Default)]
struct SpanEntry<'a> {
    rs: u32,
    ss: u32,
    index: u32,
    raw: &'a [u8],
    trace_id: &'a [u8],
    span_id: &'a [u8],
    trace_state: &'a [u8],
    parent_span_id: &'a [u8],
    name: &'a [u8],
    kind: i32,
    start: u64,
    end: u64,
    flags: u32,
    status_code: i32,
    status_message: &'a [u8],
    attrs: Range<u32>,
    events: Range<u32>,
    links: Range<u32>,
}

struct EventEntry<'a> {
    index: u32,
    name: &'a [u8],
    time: u64,
    attrs: Range<u32>,
}

struct LinkEntry<'a> {
    index: u32,
    trace_id: &'a [u8],
    span_id: &'a [u8],
    attrs: Range<u32>,
}

/// One read batch: views into its bytes, in wire order.
pub struct TracesRef<'a> {
    resources: Vec<ResourceEntry<'a>>,
    scopes: Vec<ScopeEntry<'a>>,
    spans: Vec<SpanEntry<'a>>,
    events: Vec<EventEntry<'a>>,
    links: Vec<LinkEntry<'a>>,
    /// Span attributes, each span's contiguous.
    span_attrs: Vec<KeyValueRef<'a>>,
    /// Resource, scope, event and link attributes, each owner's contiguous.
    other_attrs: Vec<KeyValueRef<'a>>,
}

impl std::fmt::Debug for TracesRef<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TracesRef")
            .field("resources", &self.resources.len())
            .field("spans", &self.spans.len())
            .finish_non_exhaustive()
    }
}

fn slice<T>(v: &[T], r: Range<u32>) -> &[T] {
    &v[r.start as usize..r.end as usize]
}

impl<'a> TracesRef<'a> {
    fn with_capacity(spans: usize) -> TracesRef<'a> {
        TracesRef {
            resources: Vec::new(),
            scopes: Vec::new(),
            spans: Vec::with_capacity(spans),
            events: Vec::new(),
            links: Vec::new(),
            span_attrs: Vec::with_capacity(spans * 4),
            other_attrs: Vec::new(),
        }
    }

    pub fn resource_spans(&self) -> impl Iterator<Item = ResourceSpansRef<'_, 'a>> + '_ {
        (0..self.resources.len() as u32).map(move |i| ResourceSpansRef { t: self, i })
    }

    /// Every span of the batch, in wire order.
    pub fn spans(&self) -> impl Iterator<Item = SpanRef<'_, 'a>> + '_ {
        (0..self.spans.len() as u32).map(move |i| SpanRef { t: self, i })
    }

    pub fn span_count(&self) -> usize {
        self.spans.len()
    }
}

/// One `ResourceSpans`: a resource and its scopes.
#[derive(Clone, Copy)]
pub struct ResourceSpansRef<'t, 'a> {
    t: &'t TracesRef<'a>,
    i: u32,
}

impl<'t, 'a> ResourceSpansRef<'t, 'a> {
    fn e(&self) -> &'t ResourceEntry<'a> {
        &self.t.resources[self.i as usize]
    }

    /// Position among the batch's resource spans.
    pub fn index(&self) -> u32 {
        self.i
    }

    pub fn resource_attributes(&self) -> &'t [KeyValueRef<'a>] {
        slice(&self.t.other_attrs, self.e().attrs.clone())
    }

    /// The encoded `Resource` message body (empty when absent).
    pub fn resource_raw(&self) -> &'a [u8] {
        self.e().raw
    }

    pub fn schema_url(&self) -> &'a [u8] {
        self.e().schema_url
    }

    pub fn scope_spans(&self) -> impl Iterator<Item = ScopeSpansRef<'t, 'a>> + 't {
        let t = self.t;
        self.e().scopes.clone().map(move |i| ScopeSpansRef { t, i })
    }
}

/// One `ScopeSpans`: an instrumentation scope and its spans.
#[derive(Clone, Copy)]
pub struct ScopeSpansRef<'t, 'a> {
    t: &'t TracesRef<'a>,
    i: u32,
}

impl<'t, 'a> ScopeSpansRef<'t, 'a> {
    fn e(&self) -> &'t ScopeEntry<'a> {
        &self.t.scopes[self.i as usize]
    }

    /// Position within its resource spans.
    pub fn index(&self) -> u32 {
        self.e().index
    }

    /// Position of its resource spans within the batch.
    pub fn resource_index(&self) -> u32 {
        self.e().rs
    }

    pub fn scope_name(&self) -> &'a [u8] {
        self.e().name
    }

    pub fn scope_version(&self) -> &'a [u8] {
        self.e().version
    }

    pub fn scope_attributes(&self) -> &'t [KeyValueRef<'a>] {
        slice(&self.t.other_attrs, self.e().attrs.clone())
    }

    /// The encoded `InstrumentationScope` message body (empty when absent).
    pub fn scope_raw(&self) -> &'a [u8] {
        self.e().raw
    }

    pub fn schema_url(&self) -> &'a [u8] {
        self.e().schema_url
    }

    pub fn spans(&self) -> impl Iterator<Item = SpanRef<'t, 'a>> + 't {
        let t = self.t;
        self.e().spans.clone().map(move |i| SpanRef { t, i })
    }
}

/// One span.
#[derive(Clone, Copy)]
pub struct SpanRef<'t, 'a> {
    t: &'t TracesRef<'a>,
    i: u32,
}

impl<'t, 'a> SpanRef<'t, 'a> {
    fn e(&self) -> &'t SpanEntry<'a> {
        &self.t.spans[self.i as usize]
    }

    /// Position within its scope spans.
    pub fn index(&self) -> u32 {
        self.e().index
    }

    /// `(resource spans, scope spans, span)`: the position Go addresses edits to.
    pub fn position(&self) -> (u32, u32, u32) {
        let e = self.e();
        (e.rs, e.ss, e.index)
    }

    /// The span's resource and scope.
    pub fn resource(&self) -> ResourceSpansRef<'t, 'a> {
        ResourceSpansRef {
            t: self.t,
            i: self.e().rs,
        }
    }

    pub fn scope(&self) -> ScopeSpansRef<'t, 'a> {
        let rs = &self.t.resources[self.e().rs as usize];
        ScopeSpansRef {
            t: self.t,
            i: rs.scopes.start + self.e().ss,
        }
    }

    /// The encoded `Span` message body.
    pub fn raw(&self) -> &'a [u8] {
        self.e().raw
    }

    pub fn trace_id(&self) -> &'a [u8] {
        self.e().trace_id
    }

    pub fn span_id(&self) -> &'a [u8] {
        self.e().span_id
    }

    pub fn parent_span_id(&self) -> &'a [u8] {
        self.e().parent_span_id
    }

    pub fn trace_state(&self) -> &'a [u8] {
        self.e().trace_state
    }

    pub fn name(&self) -> &'a [u8] {
        self.e().name
    }

    /// `SpanKind` as sent (0 unspecified, 1 internal, 2 server, 3 client, 4 producer,
    /// 5 consumer).
    pub fn kind(&self) -> i32 {
        self.e().kind
    }

    pub fn start_time_unix_nano(&self) -> u64 {
        self.e().start
    }

    pub fn end_time_unix_nano(&self) -> u64 {
        self.e().end
    }

    pub fn flags(&self) -> u32 {
        self.e().flags
    }

    pub fn attributes(&self) -> &'t [KeyValueRef<'a>] {
        slice(&self.t.span_attrs, self.e().attrs.clone())
    }

    pub fn events(&self) -> impl Iterator<Item = EventRef<'t, 'a>> + 't {
        let t = self.t;
        self.e().events.clone().map(move |i| EventRef { t, i })
    }

    pub fn links(&self) -> impl Iterator<Item = LinkRef<'t, 'a>> + 't {
        let t = self.t;
        self.e().links.clone().map(move |i| LinkRef { t, i })
    }

    pub fn status(&self) -> StatusRef<'a> {
        StatusRef {
            code: self.e().status_code,
            message: self.e().status_message,
        }
    }
}

/// A span's status.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StatusRef<'a> {
    /// 0 unset, 1 ok, 2 error.
    pub code: i32,
    pub message: &'a [u8],
}

/// One span event.
#[derive(Clone, Copy)]
pub struct EventRef<'t, 'a> {
    t: &'t TracesRef<'a>,
    i: u32,
}

impl<'t, 'a> EventRef<'t, 'a> {
    fn e(&self) -> &'t EventEntry<'a> {
        &self.t.events[self.i as usize]
    }

    /// Position among the span's events.
    pub fn index(&self) -> u32 {
        self.e().index
    }

    pub fn name(&self) -> &'a [u8] {
        self.e().name
    }

    pub fn time_unix_nano(&self) -> u64 {
        self.e().time
    }

    pub fn attributes(&self) -> &'t [KeyValueRef<'a>] {
        slice(&self.t.other_attrs, self.e().attrs.clone())
    }
}

/// One span link.
#[derive(Clone, Copy)]
pub struct LinkRef<'t, 'a> {
    t: &'t TracesRef<'a>,
    i: u32,
}

impl<'t, 'a> LinkRef<'t, 'a> {
    fn e(&self) -> &'t LinkEntry<'a> {
        &self.t.links[self.i as usize]
    }

    /// Position among the span's links.
    pub fn index(&self) -> u32 {
        self.e().index
    }

    pub fn trace_id(&self) -> &'a [u8] {
        self.e().trace_id
    }

    pub fn span_id(&self) -> &'a [u8] {
        self.e().span_id
    }

    pub fn attributes(&self) -> &'t [KeyValueRef<'a>] {
        slice(&self.t.other_attrs, self.e().attrs.clone())
    }
}

// ---- nested values, walked on demand ----

/// The length-delimited occurrences of field `number` in a body.
#[derive(Debug, Clone)]
struct Repeated<'a> {
    fields: Fields<'a>,
    number: u32,
}

impl<'a> Iterator for Repeated<'a> {
    type Item = &'a [u8];

    #[inline]
    fn next(&mut self) -> Option<&'a [u8]> {
        for f in self.fields.by_ref() {
            if let (true, WireValue::Len(b)) = (f.number == self.number, f.value) {
                return Some(b);
            }
        }
        None
    }
}

/// The entries of a key-value list body, in wire order.
#[derive(Debug, Clone)]
pub struct KvListEntries<'a> {
    inner: Repeated<'a>,
}

impl<'a> Iterator for KvListEntries<'a> {
    type Item = KeyValueRef<'a>;

    #[inline]
    fn next(&mut self) -> Option<KeyValueRef<'a>> {
        self.inner.next().map(key_value)
    }
}

/// The entries of an [`AnyRef::KvList`] body.
pub fn kvlist_entries(body: &[u8]) -> KvListEntries<'_> {
    KvListEntries {
        inner: Repeated {
            fields: Fields::new(body),
            number: 1,
        },
    }
}

/// The elements of an [`AnyRef::Array`] body.
pub fn array_values(body: &[u8]) -> impl Iterator<Item = AnyRef<'_>> + '_ {
    Repeated {
        fields: Fields::new(body),
        number: 1,
    }
    .map(any_value)
}

/// Reads one `KeyValue` body (a missing value is [`AnyRef::Empty`]).
fn key_value(body: &[u8]) -> KeyValueRef<'_> {
    let mut kv = KeyValueRef {
        key: &[],
        value: AnyRef::Empty,
    };
    for f in Fields::new(body) {
        match (f.number, f.value) {
            (1, WireValue::Len(b)) => kv.key = b,
            (2, WireValue::Len(b)) => kv.value = any_value(b),
            _ => {}
        }
    }
    kv
}

/// Reads one `AnyValue` body; of several `value` fields the last wins, as in protobuf.
pub fn any_value(body: &[u8]) -> AnyRef<'_> {
    let mut v = AnyRef::Empty;
    for f in Fields::new(body) {
        v = match (f.number, f.value) {
            (1, WireValue::Len(b)) => AnyRef::Str(b),
            (2, WireValue::Varint(x)) => AnyRef::Bool(x != 0),
            (3, WireValue::Varint(x)) => AnyRef::Int(x as i64),
            (4, WireValue::Fixed64(x)) => AnyRef::Double(f64::from_bits(x)),
            (5, WireValue::Len(b)) => AnyRef::Array(b),
            (6, WireValue::Len(b)) => AnyRef::KvList(b),
            (7, WireValue::Len(b)) => AnyRef::Bytes(b),
            _ => v,
        };
    }
    v
}

// ---- the walk ----

/// The wire type a known field must have; anything else is malformed.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Wire {
    Varint,
    Fixed64,
    Fixed32,
    Len,
}

fn wire_of(v: &WireValue) -> Wire {
    match v {
        WireValue::Varint(_) => Wire::Varint,
        WireValue::Fixed64(_) => Wire::Fixed64,
        WireValue::Fixed32(_) => Wire::Fixed32,
        WireValue::Len(_) => Wire::Len,
    }
}

fn len(v: WireValue<'_>) -> &[u8] {
    match v {
        WireValue::Len(b) => b,
        _ => &[],
    }
}

fn varint(v: WireValue<'_>) -> u64 {
    match v {
        WireValue::Varint(x) | WireValue::Fixed64(x) => x,
        WireValue::Fixed32(x) => u64::from(x),
        WireValue::Len(_) => 0,
    }
}

fn count(n: usize) -> u32 {
    // A batch is at most a few hundred MB, so no list in it reaches u32::MAX entries.
    n as u32
}

struct Indexer<'a> {
    batch: &'a [u8],
    out: TracesRef<'a>,
}

impl<'a> Indexer<'a> {
    fn error(
        &self,
        body: &[u8],
        offset: usize,
        message: &'static str,
        what: &'static str,
    ) -> ReadError {
        ReadError {
            offset: (body.as_ptr() as usize - self.batch.as_ptr() as usize) + offset,
            message,
            what,
        }
    }

    /// Walks the fields of `body`, checking each known field's wire type (`expect`) before
    /// handing it to `visit`.
    fn fields(
        &mut self,
        body: &'a [u8],
        message: &'static str,
        expect: fn(u32) -> Option<Wire>,
        mut visit: impl FnMut(&mut Self, Field<'a>) -> Result<(), ReadError>,
    ) -> Result<(), ReadError> {
        let mut fields = Fields::new(body);
        loop {
            let at = fields.pos();
            let Some(f) = fields.next() else { break };
            match expect(f.number) {
                None => continue,
                Some(w) if w == wire_of(&f.value) => visit(self, f)?,
                Some(_) => {
                    return Err(self.error(body, at, message, "field has the wrong wire type"))
                }
            }
        }
        match fields.error() {
            Some(WireError { offset, what }) => Err(self.error(body, offset, message, what)),
            None => Ok(()),
        }
    }

    fn traces(&mut self, body: &'a [u8]) -> Result<(), ReadError> {
        self.fields(
            body,
            "TracesData",
            |n| (n == 1).then_some(Wire::Len),
            |ix, f| ix.resource_spans(len(f.value)),
        )
    }

    fn resource_spans(&mut self, body: &'a [u8]) -> Result<(), ReadError> {
        let i = self.out.resources.len();
        let scopes_start = count(self.out.scopes.len());
        self.out.resources.push(ResourceEntry {
            raw: &[],
            schema_url: &[],
            attrs: 0..0,
            scopes: scopes_start..scopes_start,
        });
        let mut next_scope = 0u32;
        self.fields(
            body,
            "ResourceSpans",
            |n| match n {
                1..=3 => Some(Wire::Len),
                _ => None,
            },
            |ix, f| {
                let b = len(f.value);
                match f.number {
                    1 => {
                        let attrs = ix.resource(b)?;
                        let e = &mut ix.out.resources[i];
                        e.raw = b;
                        e.attrs = attrs;
                    }
                    2 => {
                        ix.scope_spans(b, count(i), next_scope)?;
                        next_scope += 1;
                    }
                    _ => ix.out.resources[i].schema_url = b,
                }
                Ok(())
            },
        )?;
        self.out.resources[i].scopes.end = count(self.out.scopes.len());
        Ok(())
    }

    fn resource(&mut self, body: &'a [u8]) -> Result<Range<u32>, ReadError> {
        let start = count(self.out.other_attrs.len());
        self.fields(
            body,
            "Resource",
            |n| match n {
                1 | 3 => Some(Wire::Len),
                2 => Some(Wire::Varint),
                _ => None,
            },
            |ix, f| match f.number {
                1 => ix.other_attr(len(f.value)),
                _ => Ok(()),
            },
        )?;
        Ok(start..count(self.out.other_attrs.len()))
    }

    fn scope_spans(&mut self, body: &'a [u8], rs: u32, index: u32) -> Result<(), ReadError> {
        let i = self.out.scopes.len();
        let spans_start = count(self.out.spans.len());
        self.out.scopes.push(ScopeEntry {
            rs,
            index,
            raw: &[],
            name: &[],
            version: &[],
            schema_url: &[],
            attrs: 0..0,
            spans: spans_start..spans_start,
        });
        let mut next_span = 0u32;
        self.fields(
            body,
            "ScopeSpans",
            |n| match n {
                1..=3 => Some(Wire::Len),
                _ => None,
            },
            |ix, f| {
                let b = len(f.value);
                match f.number {
                    1 => ix.scope(b, i)?,
                    2 => {
                        ix.span(b, rs, index, next_span)?;
                        next_span += 1;
                    }
                    _ => ix.out.scopes[i].schema_url = b,
                }
                Ok(())
            },
        )?;
        self.out.scopes[i].spans.end = count(self.out.spans.len());
        Ok(())
    }

    fn scope(&mut self, body: &'a [u8], i: usize) -> Result<(), ReadError> {
        let start = count(self.out.other_attrs.len());
        let (mut name, mut version) = (&[][..], &[][..]);
        self.fields(
            body,
            "InstrumentationScope",
            |n| match n {
                1..=3 => Some(Wire::Len),
                4 => Some(Wire::Varint),
                _ => None,
            },
            |ix, f| {
                match f.number {
                    1 => name = len(f.value),
                    2 => version = len(f.value),
                    3 => ix.other_attr(len(f.value))?,
                    _ => {}
                }
                Ok(())
            },
        )?;
        let e = &mut self.out.scopes[i];
        e.raw = body;
        e.name = name;
        e.version = version;
        e.attrs = start..count(self.out.other_attrs.len());
        Ok(())
    }

    fn span(&mut self, body: &'a [u8], rs: u32, ss: u32, index: u32) -> Result<(), ReadError> {
        let mut s = SpanEntry {
            rs,
            ss,
            index,
            raw: body,
            ..SpanEntry::default()
        };
        let attrs_start = count(self.out.span_attrs.len());
        let events_start = count(self.out.events.len());
        let links_start = count(self.out.links.len());
        let (mut next_event, mut next_link) = (0u32, 0u32);
        self.fields(
            body,
            "Span",
            |n| match n {
                1..=5 | 9 | 11 | 13 | 15 => Some(Wire::Len),
                6 | 10 | 12 | 14 => Some(Wire::Varint),
                7 | 8 => Some(Wire::Fixed64),
                16 => Some(Wire::Fixed32),
                _ => None,
            },
            |ix, f| {
                let v = f.value;
                match f.number {
                    1 => s.trace_id = len(v),
                    2 => s.span_id = len(v),
                    3 => s.trace_state = len(v),
                    4 => s.parent_span_id = len(v),
                    5 => s.name = len(v),
                    6 => s.kind = varint(v) as i32,
                    7 => s.start = varint(v),
                    8 => s.end = varint(v),
                    9 => {
                        let kv = ix.key_value(len(v), 0)?;
                        ix.out.span_attrs.push(kv);
                    }
                    11 => {
                        ix.event(len(v), next_event)?;
                        next_event += 1;
                    }
                    13 => {
                        ix.link(len(v), next_link)?;
                        next_link += 1;
                    }
                    15 => (s.status_code, s.status_message) = ix.status(len(v))?,
                    16 => s.flags = varint(v) as u32,
                    _ => {}
                }
                Ok(())
            },
        )?;
        s.attrs = attrs_start..count(self.out.span_attrs.len());
        s.events = events_start..count(self.out.events.len());
        s.links = links_start..count(self.out.links.len());
        self.out.spans.push(s);
        Ok(())
    }

    fn event(&mut self, body: &'a [u8], index: u32) -> Result<(), ReadError> {
        let start = count(self.out.other_attrs.len());
        let (mut name, mut time) = (&[][..], 0);
        self.fields(
            body,
            "Span.Event",
            |n| match n {
                1 => Some(Wire::Fixed64),
                2 | 3 => Some(Wire::Len),
                4 => Some(Wire::Varint),
                _ => None,
            },
            |ix, f| {
                match f.number {
                    1 => time = varint(f.value),
                    2 => name = len(f.value),
                    3 => ix.other_attr(len(f.value))?,
                    _ => {}
                }
                Ok(())
            },
        )?;
        self.out.events.push(EventEntry {
            index,
            name,
            time,
            attrs: start..count(self.out.other_attrs.len()),
        });
        Ok(())
    }

    fn link(&mut self, body: &'a [u8], index: u32) -> Result<(), ReadError> {
        let start = count(self.out.other_attrs.len());
        let (mut trace_id, mut span_id) = (&[][..], &[][..]);
        self.fields(
            body,
            "Span.Link",
            |n| match n {
                1..=4 => Some(Wire::Len),
                5 => Some(Wire::Varint),
                6 => Some(Wire::Fixed32),
                _ => None,
            },
            |ix, f| {
                match f.number {
                    1 => trace_id = len(f.value),
                    2 => span_id = len(f.value),
                    4 => ix.other_attr(len(f.value))?,
                    _ => {}
                }
                Ok(())
            },
        )?;
        self.out.links.push(LinkEntry {
            index,
            trace_id,
            span_id,
            attrs: start..count(self.out.other_attrs.len()),
        });
        Ok(())
    }

    fn status(&mut self, body: &'a [u8]) -> Result<(i32, &'a [u8]), ReadError> {
        let (mut code, mut message) = (0, &[][..]);
        self.fields(
            body,
            "Status",
            |n| match n {
                2 => Some(Wire::Len),
                1 | 3 => Some(Wire::Varint),
                _ => None,
            },
            |_, f| {
                match f.number {
                    2 => message = len(f.value),
                    3 => code = varint(f.value) as i32,
                    _ => {}
                }
                Ok(())
            },
        )?;
        Ok((code, message))
    }

    fn other_attr(&mut self, body: &'a [u8]) -> Result<(), ReadError> {
        let kv = self.key_value(body, 0)?;
        self.out.other_attrs.push(kv);
        Ok(())
    }

    /// One `KeyValue`, its value checked down to [`MAX_VALUE_DEPTH`] nested levels.
    fn key_value(&mut self, body: &'a [u8], depth: u32) -> Result<KeyValueRef<'a>, ReadError> {
        let mut kv = KeyValueRef {
            key: &[],
            value: AnyRef::Empty,
        };
        self.fields(
            body,
            "KeyValue",
            |n| (n <= 2).then_some(Wire::Len),
            |ix, f| {
                match f.number {
                    1 => kv.key = len(f.value),
                    _ => kv.value = ix.any_value(len(f.value), depth)?,
                }
                Ok(())
            },
        )?;
        Ok(kv)
    }

    fn any_value(&mut self, body: &'a [u8], depth: u32) -> Result<AnyRef<'a>, ReadError> {
        let mut v = AnyRef::Empty;
        self.fields(
            body,
            "AnyValue",
            |n| match n {
                1 | 5..=7 => Some(Wire::Len),
                2 | 3 => Some(Wire::Varint),
                4 => Some(Wire::Fixed64),
                _ => None,
            },
            |ix, f| {
                let x = f.value;
                v = match f.number {
                    1 => AnyRef::Str(len(x)),
                    2 => AnyRef::Bool(varint(x) != 0),
                    3 => AnyRef::Int(varint(x) as i64),
                    4 => AnyRef::Double(f64::from_bits(varint(x))),
                    5 => {
                        ix.nested(len(x), "ArrayValue", depth, |ix, b, d| {
                            ix.any_value(b, d).map(drop)
                        })?;
                        AnyRef::Array(len(x))
                    }
                    6 => {
                        ix.nested(len(x), "KeyValueList", depth, |ix, b, d| {
                            ix.key_value(b, d).map(drop)
                        })?;
                        AnyRef::KvList(len(x))
                    }
                    _ => AnyRef::Bytes(len(x)),
                };
                Ok(())
            },
        )?;
        Ok(v)
    }

    /// Checks the elements (field 1) of an array or key-value list one level deeper, unless
    /// that is past [`MAX_VALUE_DEPTH`].
    fn nested(
        &mut self,
        body: &'a [u8],
        message: &'static str,
        depth: u32,
        element: fn(&mut Self, &'a [u8], u32) -> Result<(), ReadError>,
    ) -> Result<(), ReadError> {
        if depth >= MAX_VALUE_DEPTH {
            return Ok(());
        }
        self.fields(
            body,
            message,
            |n| (n == 1).then_some(Wire::Len),
            |ix, f| element(ix, len(f.value), depth + 1),
        )
    }
}
