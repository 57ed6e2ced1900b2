//! The edit list: what stateless stages return to Go instead of a re-encoded batch.
//!
//! Go keeps the `ptrace.Traces` it marshalled, so a position `(resource, scope, span)` in the
//! bytes Rust read names the same span in Go. Applying a few edits per span is far cheaper
//! than decoding a whole batch in Go again.
//!
//! Wire format (little-endian), decoded by `go-shim/internal/engine/edits.go`:
//! ```text
//! list   := "TBE1" disposition:u8 count:u32 edit*
//! edit   := op:u8 target:u8 rs:u32 ss:u32 span:u32 sub:u32 payload
//! op 1 set_str     payload := key str        op 5 delete    payload := key
//! op 2 set_int     payload := key i64        op 6 drop_span payload := (none)
//! op 3 set_double  payload := key f64        op 7 set_status_message payload := str
//! op 4 set_bool    payload := key u8         op 8 set_any   payload := key any
//! op 9 set_span_name  payload := str  (target 0)                         (ABI 4)
//! op 10 set_event_name payload := str (target 2, sub = event index)      (ABI 4)
//! op 11 set_scope_name payload := str (target 4)                         (ABI 4)
//! op|0x80 every copy (ABI 5): only on the keyed ops 1-5 and 8; any other op with the bit
//!          does not decode. A map may hold a key more than once (the wire format and pdata
//!          allow it). Without the bit a set changes the first entry with the key (pdata's
//!          Put); with it every entry with the key is removed first, then a set puts its value
//!          once (appended, as Put appends a new key) and a delete leaves none. Rust's `apply`
//!          deletes every entry with or without the bit; Go's Remove, without it, the first.
//! key, str := len:u32 bytes. Values we write are UTF-8; a key is the attribute's key exactly
//!             as the batch holds it, which may not be UTF-8 (pdata accepts such keys).
//! any      := len:u32 protobuf-encoded opentelemetry.proto.common.v1.AnyValue (len 0 = empty
//!             value). For arrays, kvlists and bytes, which scalar ops cannot express (a
//!             redacted string inside an array). Go wraps the bytes as field 2 of a KeyValue
//!             inside a minimal TracesData and reads it with `ptrace.ProtoUnmarshaler`.
//! target 0 span attributes, 1 resource attributes, 2 span event attributes (sub = event index),
//!        3 span link attributes (sub = link index), 4 instrumentation-scope attributes of
//!        scope_spans[ss] (ABI 3); resource edits ignore ss/span/sub, scope edits span/sub.
//! ```
//! An op that names a span, event or scope must use that target; Go rejects the whole list
//! otherwise. `disposition` 0 means "apply the edits and forward the batch"; 1 means "the
//! engine kept the batch (a stateful stage holds it): do not forward, it comes back through
//! release".

use opentelemetry_proto::tonic::common::v1::{any_value, AnyValue, KeyValue};
use opentelemetry_proto::tonic::trace::v1::{Span, TracesData};
use prost::Message;

pub const MAGIC: &[u8; 4] = b"TBE1";
const HEADER_LEN: usize = 9;
/// The op-byte bit that makes a keyed op touch every entry with its key (ABI 5).
pub const EVERY_COPY: u8 = 0x80;

/// What Go should do with the batch after applying the edits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
pub enum Disposition {
    Forward = 0,
    Held = 1,
}

/// Which attribute map an edit addresses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Target {
    Span {
        rs: u32,
        ss: u32,
        span: u32,
    },
    Resource {
        rs: u32,
    },
    Event {
        rs: u32,
        ss: u32,
        span: u32,
        event: u32,
    },
    Link {
        rs: u32,
        ss: u32,
        span: u32,
        link: u32,
    },
    /// Instrumentation-scope attributes of `resource_spans[rs].scope_spans[ss]`.
    Scope {
        rs: u32,
        ss: u32,
    },
}

impl Target {
    fn encode(self) -> (u8, [u32; 4]) {
        match self {
            Target::Span { rs, ss, span } => (0, [rs, ss, span, 0]),
            Target::Resource { rs } => (1, [rs, 0, 0, 0]),
            Target::Event {
                rs,
                ss,
                span,
                event,
            } => (2, [rs, ss, span, event]),
            Target::Link { rs, ss, span, link } => (3, [rs, ss, span, link]),
            Target::Scope { rs, ss } => (4, [rs, ss, 0, 0]),
        }
    }

    fn decode(kind: u8, p: [u32; 4]) -> Option<Target> {
        Some(match kind {
            0 => Target::Span {
                rs: p[0],
                ss: p[1],
                span: p[2],
            },
            1 => Target::Resource { rs: p[0] },
            2 => Target::Event {
                rs: p[0],
                ss: p[1],
                span: p[2],
                event: p[3],
            },
            3 => Target::Link {
                rs: p[0],
                ss: p[1],
                span: p[2],
                link: p[3],
            },
            4 => Target::Scope { rs: p[0], ss: p[1] },
            _ => return None,
        })
    }
}

/// One decoded edit (used by tests and by Rust-side application on owned batches). Keys are
/// decoded lossily: owned batches (prost) cannot hold keys that are not UTF-8 anyway.
#[derive(Debug, Clone, PartialEq)]
pub enum Op {
    SetStr(String, String),
    SetInt(String, i64),
    SetDouble(String, f64),
    SetBool(String, bool),
    Delete(String),
    DropSpan,
    SetStatusMessage(String),
    /// Any value, for arrays, kvlists and bytes: the protobuf-encoded `AnyValue`, kept as
    /// bytes because its strings need not be UTF-8.
    SetAny(String, Vec<u8>),
    SetSpanName(String),
    SetEventName(String),
    SetScopeName(String),
    /// A keyed op (set or delete) that applies to every entry with its key: all are removed,
    /// then a set puts its value once. Any other op inside does not encode or apply.
    EveryCopy(Box<Op>),
}

impl Op {
    /// Whether the op addresses an attribute by key (the ops `EveryCopy` may wrap).
    pub fn is_keyed(&self) -> bool {
        matches!(
            self,
            Op::SetStr(..)
                | Op::SetInt(..)
                | Op::SetDouble(..)
                | Op::SetBool(..)
                | Op::Delete(_)
                | Op::SetAny(..)
        )
    }

    /// The attribute key of a keyed op (wrapped or not).
    pub fn key(&self) -> Option<&str> {
        match self {
            Op::SetStr(k, _)
            | Op::SetInt(k, _)
            | Op::SetDouble(k, _)
            | Op::SetBool(k, _)
            | Op::Delete(k)
            | Op::SetAny(k, _) => Some(k),
            Op::EveryCopy(op) if op.is_keyed() => op.key(),
            _ => None,
        }
    }
}

/// Appends edits to one contiguous buffer: a single allocation crosses the ABI.
#[derive(Clone)]
pub struct EditList {
    buf: Vec<u8>,
    count: u32,
}

/// Writes keyed ops with the [`EVERY_COPY`] bit: each removes every entry with its key before
/// a set puts its value once. From [`EditList::every_copy`].
pub struct EveryCopy<'l>(&'l mut EditList);

impl EveryCopy<'_> {
    pub fn set_str(self, at: Target, key: impl AsRef<[u8]>, value: &str) {
        self.0.set_str_op(EVERY_COPY, at, key.as_ref(), value)
    }

    pub fn set_int(self, at: Target, key: impl AsRef<[u8]>, value: i64) {
        self.0.set_int_op(EVERY_COPY, at, key.as_ref(), value)
    }

    pub fn set_double(self, at: Target, key: impl AsRef<[u8]>, value: f64) {
        self.0.set_double_op(EVERY_COPY, at, key.as_ref(), value)
    }

    pub fn set_bool(self, at: Target, key: impl AsRef<[u8]>, value: bool) {
        self.0.set_bool_op(EVERY_COPY, at, key.as_ref(), value)
    }

    pub fn delete(self, at: Target, key: impl AsRef<[u8]>) {
        self.0.delete_op(EVERY_COPY, at, key.as_ref())
    }

    pub fn set_any(self, at: Target, key: impl AsRef<[u8]>, encoded: &[u8]) {
        self.0.set_any_op(EVERY_COPY, at, key.as_ref(), encoded)
    }
}

impl Default for EditList {
    fn default() -> Self {
        Self::new()
    }
}

impl EditList {
    pub fn new() -> Self {
        let mut buf = Vec::with_capacity(256);
        buf.extend_from_slice(MAGIC);
        buf.push(Disposition::Forward as u8);
        buf.extend_from_slice(&0u32.to_le_bytes());
        EditList { buf, count: 0 }
    }

    pub fn len(&self) -> usize {
        self.count as usize
    }

    pub fn is_empty(&self) -> bool {
        self.count == 0
    }

    fn head(&mut self, op: u8, at: Target) {
        let (kind, p) = at.encode();
        self.buf.push(op);
        self.buf.push(kind);
        for v in p {
            self.buf.extend_from_slice(&v.to_le_bytes());
        }
        self.count += 1;
    }

    fn bytes(&mut self, s: &[u8]) {
        self.buf.extend_from_slice(&(s.len() as u32).to_le_bytes());
        self.buf.extend_from_slice(s);
    }

    fn key(&mut self, key: impl AsRef<[u8]>) {
        self.bytes(key.as_ref());
    }

    /// The next keyed op applies to every entry with its key, for maps that hold a key more
    /// than once (see [`EVERY_COPY`]).
    pub fn every_copy(&mut self) -> EveryCopy<'_> {
        EveryCopy(self)
    }

    pub fn set_str(&mut self, at: Target, key: impl AsRef<[u8]>, value: &str) {
        self.set_str_op(0, at, key.as_ref(), value)
    }

    pub fn set_int(&mut self, at: Target, key: impl AsRef<[u8]>, value: i64) {
        self.set_int_op(0, at, key.as_ref(), value)
    }

    pub fn set_double(&mut self, at: Target, key: impl AsRef<[u8]>, value: f64) {
        self.set_double_op(0, at, key.as_ref(), value)
    }

    pub fn set_bool(&mut self, at: Target, key: impl AsRef<[u8]>, value: bool) {
        self.set_bool_op(0, at, key.as_ref(), value)
    }

    pub fn delete(&mut self, at: Target, key: impl AsRef<[u8]>) {
        self.delete_op(0, at, key.as_ref())
    }

    fn set_str_op(&mut self, flag: u8, at: Target, key: &[u8], value: &str) {
        self.head(1 | flag, at);
        self.key(key);
        self.bytes(value.as_bytes());
    }

    fn set_int_op(&mut self, flag: u8, at: Target, key: &[u8], value: i64) {
        self.head(2 | flag, at);
        self.key(key);
        self.buf.extend_from_slice(&value.to_le_bytes());
    }

    fn set_double_op(&mut self, flag: u8, at: Target, key: &[u8], value: f64) {
        self.head(3 | flag, at);
        self.key(key);
        self.buf.extend_from_slice(&value.to_le_bytes());
    }

    fn set_bool_op(&mut self, flag: u8, at: Target, key: &[u8], value: bool) {
        self.head(4 | flag, at);
        self.key(key);
        self.buf.push(value as u8);
    }

    fn delete_op(&mut self, flag: u8, at: Target, key: &[u8]) {
        self.head(5 | flag, at);
        self.key(key);
    }

    fn set_any_op(&mut self, flag: u8, at: Target, key: &[u8], encoded: &[u8]) {
        self.head(8 | flag, at);
        self.key(key);
        self.bytes(encoded);
    }

    pub fn drop_span(&mut self, rs: u32, ss: u32, span: u32) {
        self.head(6, Target::Span { rs, ss, span });
    }

    pub fn set_status_message(&mut self, rs: u32, ss: u32, span: u32, message: &str) {
        self.head(7, Target::Span { rs, ss, span });
        self.bytes(message.as_bytes());
    }

    /// Sets an attribute to any value (arrays, kvlists, bytes); `encoded` is a protobuf
    /// `AnyValue` message.
    pub fn set_any(&mut self, at: Target, key: impl AsRef<[u8]>, encoded: &[u8]) {
        self.set_any_op(0, at, key.as_ref(), encoded)
    }

    /// Renames a span (a name that carried personal data).
    pub fn set_span_name(&mut self, rs: u32, ss: u32, span: u32, name: &str) {
        self.head(9, Target::Span { rs, ss, span });
        self.bytes(name.as_bytes());
    }

    /// Renames a span event.
    pub fn set_event_name(&mut self, rs: u32, ss: u32, span: u32, event: u32, name: &str) {
        self.head(
            10,
            Target::Event {
                rs,
                ss,
                span,
                event,
            },
        );
        self.bytes(name.as_bytes());
    }

    /// Renames the instrumentation scope of `resource_spans[rs].scope_spans[ss]`.
    pub fn set_scope_name(&mut self, rs: u32, ss: u32, name: &str) {
        self.head(11, Target::Scope { rs, ss });
        self.bytes(name.as_bytes());
    }

    /// Appends a decoded edit (stages that build `Op`s first, then serialise them).
    pub fn push(&mut self, at: Target, op: &Op) {
        match (op, at) {
            (Op::EveryCopy(inner), _) => match &**inner {
                Op::SetStr(k, v) => self.every_copy().set_str(at, k, v),
                Op::SetInt(k, v) => self.every_copy().set_int(at, k, *v),
                Op::SetDouble(k, v) => self.every_copy().set_double(at, k, *v),
                Op::SetBool(k, v) => self.every_copy().set_bool(at, k, *v),
                Op::Delete(k) => self.every_copy().delete(at, k),
                Op::SetAny(k, v) => self.every_copy().set_any(at, k, v),
                // Only keyed ops take the bit; `decode` and Go reject it elsewhere.
                _ => {}
            },
            (Op::SetStr(k, v), _) => self.set_str(at, k, v),
            (Op::SetInt(k, v), _) => self.set_int(at, k, *v),
            (Op::SetDouble(k, v), _) => self.set_double(at, k, *v),
            (Op::SetBool(k, v), _) => self.set_bool(at, k, *v),
            (Op::Delete(k), _) => self.delete(at, k),
            (Op::SetAny(k, v), _) => self.set_any(at, k, v),
            (Op::DropSpan, Target::Span { rs, ss, span }) => self.drop_span(rs, ss, span),
            (Op::SetStatusMessage(m), Target::Span { rs, ss, span }) => {
                self.set_status_message(rs, ss, span, m)
            }
            (Op::SetSpanName(n), Target::Span { rs, ss, span }) => {
                self.set_span_name(rs, ss, span, n)
            }
            (
                Op::SetEventName(n),
                Target::Event {
                    rs,
                    ss,
                    span,
                    event,
                },
            ) => self.set_event_name(rs, ss, span, event, n),
            (Op::SetScopeName(n), Target::Scope { rs, ss }) => self.set_scope_name(rs, ss, n),
            // Ops that name a span, event or scope are meaningless elsewhere; `decode` and Go
            // reject them.
            (
                Op::DropSpan
                | Op::SetStatusMessage(_)
                | Op::SetSpanName(_)
                | Op::SetEventName(_)
                | Op::SetScopeName(_),
                _,
            ) => {}
        }
    }

    /// Appends another list's edits after this list's, in their order.
    pub fn append(&mut self, other: EditList) {
        self.buf.extend_from_slice(&other.buf[HEADER_LEN..]);
        self.count += other.count;
    }

    /// The edits written so far, decoded (for the engine's own checks; allocates).
    pub fn ops(&self) -> Vec<(Target, Op)> {
        decode(&self.clone().finish(Disposition::Forward))
            .expect("an edit list we wrote decodes")
            .1
    }

    /// Walks the edits written so far without decoding their values: `f` gets each edit's
    /// [`Head`], in order.
    pub fn for_each_head(&self, mut f: impl FnMut(Head<'_>)) {
        let mut r = Reader {
            buf: &self.buf,
            pos: HEADER_LEN,
        };
        for _ in 0..self.count {
            let Some(head) = r.head() else {
                debug_assert!(false, "an edit list we wrote walks");
                return;
            };
            f(head);
        }
    }

    /// Seals the list with its count and disposition.
    pub fn finish(mut self, disposition: Disposition) -> Vec<u8> {
        self.buf[4] = disposition as u8;
        self.buf[5..HEADER_LEN].copy_from_slice(&self.count.to_le_bytes());
        self.buf
    }
}

/// Decodes an edit list; `None` if it is malformed.
pub fn decode(buf: &[u8]) -> Option<(Disposition, Vec<(Target, Op)>)> {
    let mut r = Reader { buf, pos: 0 };
    if r.take(4)? != MAGIC {
        return None;
    }
    let disposition = match r.u8()? {
        0 => Disposition::Forward,
        1 => Disposition::Held,
        _ => return None,
    };
    let count = r.u32()?;
    let mut out = Vec::with_capacity(count.min(1 << 16) as usize);
    for _ in 0..count {
        let byte = r.u8()?;
        let kind = r.u8()?;
        let target = Target::decode(kind, [r.u32()?, r.u32()?, r.u32()?, r.u32()?])?;
        let op = match byte & !EVERY_COPY {
            1 => Op::SetStr(r.string()?, r.string()?),
            2 => Op::SetInt(r.string()?, i64::from_le_bytes(r.take(8)?.try_into().ok()?)),
            3 => Op::SetDouble(r.string()?, f64::from_le_bytes(r.take(8)?.try_into().ok()?)),
            4 => Op::SetBool(r.string()?, r.u8()? != 0),
            5 => Op::Delete(r.string()?),
            6 if matches!(target, Target::Span { .. }) => Op::DropSpan,
            7 if matches!(target, Target::Span { .. }) => Op::SetStatusMessage(r.string()?),
            8 => Op::SetAny(r.string()?, r.raw()?.to_vec()),
            9 if matches!(target, Target::Span { .. }) => Op::SetSpanName(r.string()?),
            10 if matches!(target, Target::Event { .. }) => Op::SetEventName(r.string()?),
            11 if matches!(target, Target::Scope { .. }) => Op::SetScopeName(r.string()?),
            _ => return None,
        };
        let op = if byte & EVERY_COPY == 0 {
            op
        } else if op.is_keyed() {
            Op::EveryCopy(Box::new(op))
        } else {
            return None;
        };
        out.push((target, op));
    }
    (r.pos == buf.len()).then_some((disposition, out))
}

/// One edit as [`EditList::for_each_head`] sees it: what it does, where, and the attribute key
/// of a keyed op. The value is skipped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Head<'a> {
    pub kind: HeadKind,
    pub target: Target,
    /// The key of a keyed op (set or delete), with or without the every-copy bit.
    pub key: Option<&'a [u8]>,
}

/// What an edit does, without its value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HeadKind {
    /// A set or delete of an attribute.
    Keyed,
    DropSpan,
    StatusMessage,
    SpanName,
    EventName,
    ScopeName,
}

struct Reader<'a> {
    buf: &'a [u8],
    pos: usize,
}

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Option<&'a [u8]> {
        let end = self.pos.checked_add(n)?;
        let s = self.buf.get(self.pos..end)?;
        self.pos = end;
        Some(s)
    }
    fn u8(&mut self) -> Option<u8> {
        Some(self.take(1)?[0])
    }
    fn u32(&mut self) -> Option<u32> {
        Some(u32::from_le_bytes(self.take(4)?.try_into().ok()?))
    }
    fn raw(&mut self) -> Option<&'a [u8]> {
        let n = self.u32()? as usize;
        self.take(n)
    }
    fn string(&mut self) -> Option<String> {
        Some(String::from_utf8_lossy(self.raw()?).into_owned())
    }

    /// The next edit's head, its value skipped.
    fn head(&mut self) -> Option<Head<'a>> {
        let byte = self.u8()?;
        let kind = self.u8()?;
        let target = Target::decode(kind, [self.u32()?, self.u32()?, self.u32()?, self.u32()?])?;
        let (kind, key) = match byte & !EVERY_COPY {
            1 | 8 => {
                let key = self.raw()?;
                self.raw()?;
                (HeadKind::Keyed, Some(key))
            }
            2 | 3 => {
                let key = self.raw()?;
                self.take(8)?;
                (HeadKind::Keyed, Some(key))
            }
            4 => {
                let key = self.raw()?;
                self.take(1)?;
                (HeadKind::Keyed, Some(key))
            }
            5 => (HeadKind::Keyed, Some(self.raw()?)),
            6 => (HeadKind::DropSpan, None),
            7 => (HeadKind::StatusMessage, self.raw().map(|_| None)?),
            9 => (HeadKind::SpanName, self.raw().map(|_| None)?),
            10 => (HeadKind::EventName, self.raw().map(|_| None)?),
            11 => (HeadKind::ScopeName, self.raw().map(|_| None)?),
            _ => return None,
        };
        Some(Head { kind, target, key })
    }
}

/// Applies decoded edits to an owned batch, as Go does to its pdata. Returns `false` when an
/// edit addresses a position the batch does not have, carries a value an owned batch cannot
/// hold, or wraps an op that is not keyed in [`Op::EveryCopy`] (nothing is applied then).
///
/// A set without the every-copy bit changes the first entry with its key, as pdata's Put
/// does; a delete removes every entry with its key (with or without the bit).
pub fn apply(td: &mut TracesData, edits: &[(Target, Op)]) -> bool {
    let mut anys = Vec::new();
    for (t, op) in edits {
        if !addressable(td, *t) {
            return false;
        }
        let op = match op {
            Op::EveryCopy(inner) if inner.is_keyed() => &**inner,
            Op::EveryCopy(_) => return false,
            op => op,
        };
        if let Op::SetAny(_, bytes) = op {
            match AnyValue::decode(bytes.as_slice()) {
                Ok(v) => anys.push(v),
                Err(_) => return false,
            }
        }
    }
    let mut anys = anys.into_iter();
    let mut dropped: Vec<(u32, u32, u32)> = Vec::new();
    for (target, op) in edits {
        let (every, op) = match op {
            Op::EveryCopy(inner) => (true, &**inner),
            op => (false, op),
        };
        match (op, *target) {
            (Op::DropSpan, Target::Span { rs, ss, span }) => dropped.push((rs, ss, span)),
            (Op::SetStatusMessage(m), Target::Span { rs, ss, span }) => {
                let s = span_mut(td, rs, ss, span).expect("checked above");
                s.status.get_or_insert_with(Default::default).message = m.clone();
            }
            (Op::SetSpanName(n), Target::Span { rs, ss, span }) => {
                span_mut(td, rs, ss, span).expect("checked above").name = n.clone();
            }
            (
                Op::SetEventName(n),
                Target::Event {
                    rs,
                    ss,
                    span,
                    event,
                },
            ) => {
                span_mut(td, rs, ss, span).expect("checked above").events[event as usize].name =
                    n.clone();
            }
            (Op::SetScopeName(n), Target::Scope { rs, ss }) => {
                td.resource_spans[rs as usize].scope_spans[ss as usize]
                    .scope
                    .get_or_insert_with(Default::default)
                    .name = n.clone();
            }
            (Op::Delete(k), _) => attrs_mut(td, *target).unwrap().retain(|kv| &kv.key != k),
            (Op::SetStr(k, v), _) => put(
                td,
                *target,
                k,
                Some(any_value::Value::StringValue(v.clone())),
                every,
            ),
            (Op::SetInt(k, v), _) => {
                put(td, *target, k, Some(any_value::Value::IntValue(*v)), every)
            }
            (Op::SetDouble(k, v), _) => put(
                td,
                *target,
                k,
                Some(any_value::Value::DoubleValue(*v)),
                every,
            ),
            (Op::SetBool(k, v), _) => {
                put(td, *target, k, Some(any_value::Value::BoolValue(*v)), every)
            }
            (Op::SetAny(k, _), _) => {
                let v = anys.next().expect("decoded above").value;
                put(td, *target, k, v, every)
            }
            // Span, event and scope ops elsewhere do not decode (see `decode`), nor do they
            // take the every-copy bit (checked above).
            _ => {}
        }
    }
    // Remove dropped spans from the back so earlier indices stay valid.
    dropped.sort_unstable();
    dropped.dedup();
    for (rs, ss, span) in dropped.into_iter().rev() {
        td.resource_spans[rs as usize].scope_spans[ss as usize]
            .spans
            .remove(span as usize);
    }
    true
}

/// Sets `key` to `value` (`None`: the empty value): the first entry with the key, or, with
/// `every`, once after removing every entry with the key; appended when none is left.
fn put(td: &mut TracesData, at: Target, key: &str, value: Option<any_value::Value>, every: bool) {
    let attrs = attrs_mut(td, at).expect("checked by apply");
    if every {
        attrs.retain(|kv| kv.key != key);
    }
    let value = Some(AnyValue { value });
    match attrs.iter_mut().find(|kv| kv.key == key) {
        Some(kv) => kv.value = value,
        None => attrs.push(KeyValue {
            key: key.to_string(),
            value,
        }),
    }
}

/// Whether `at` names a position the batch has. Read-only, unlike [`attrs_mut`], which
/// creates a missing resource or scope to hold attributes: checking must not change a batch
/// that is then refused.
fn addressable(td: &TracesData, at: Target) -> bool {
    let span = |rs: u32, ss: u32, i: u32| {
        td.resource_spans
            .get(rs as usize)
            .and_then(|r| r.scope_spans.get(ss as usize))
            .and_then(|s| s.spans.get(i as usize))
    };
    match at {
        Target::Resource { rs } => (rs as usize) < td.resource_spans.len(),
        Target::Scope { rs, ss } => td
            .resource_spans
            .get(rs as usize)
            .is_some_and(|r| (ss as usize) < r.scope_spans.len()),
        Target::Span { rs, ss, span: i } => span(rs, ss, i).is_some(),
        Target::Event {
            rs,
            ss,
            span: i,
            event,
        } => span(rs, ss, i).is_some_and(|s| (event as usize) < s.events.len()),
        Target::Link {
            rs,
            ss,
            span: i,
            link,
        } => span(rs, ss, i).is_some_and(|s| (link as usize) < s.links.len()),
    }
}

fn span_mut(td: &mut TracesData, rs: u32, ss: u32, span: u32) -> Option<&mut Span> {
    td.resource_spans
        .get_mut(rs as usize)?
        .scope_spans
        .get_mut(ss as usize)?
        .spans
        .get_mut(span as usize)
}

fn attrs_mut(td: &mut TracesData, at: Target) -> Option<&mut Vec<KeyValue>> {
    match at {
        Target::Resource { rs } => Some(
            &mut td
                .resource_spans
                .get_mut(rs as usize)?
                .resource
                .get_or_insert_with(Default::default)
                .attributes,
        ),
        Target::Span { rs, ss, span } => Some(&mut span_mut(td, rs, ss, span)?.attributes),
        Target::Event {
            rs,
            ss,
            span,
            event,
        } => Some(
            &mut span_mut(td, rs, ss, span)?
                .events
                .get_mut(event as usize)?
                .attributes,
        ),
        Target::Link { rs, ss, span, link } => Some(
            &mut span_mut(td, rs, ss, span)?
                .links
                .get_mut(link as usize)?
                .attributes,
        ),
        Target::Scope { rs, ss } => Some(
            &mut td
                .resource_spans
                .get_mut(rs as usize)?
                .scope_spans
                .get_mut(ss as usize)?
                .scope
                .get_or_insert_with(Default::default)
                .attributes,
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Found by fuzzing (edits_roundtrip): checking a resource or scope edit created the
    /// missing resource or scope, so a list refused for a later edit still changed the batch.
    #[test]
    fn a_refused_list_leaves_a_batch_without_resource_or_scope_unchanged() {
        use opentelemetry_proto::tonic::trace::v1::{ResourceSpans, ScopeSpans};
        let td = TracesData {
            resource_spans: vec![ResourceSpans {
                scope_spans: vec![ScopeSpans::default()],
                ..Default::default()
            }],
        };
        let missing = Target::Span {
            rs: 0,
            ss: 0,
            span: 9,
        };
        for first in [Target::Resource { rs: 0 }, Target::Scope { rs: 0, ss: 0 }] {
            let mut edited = td.clone();
            let list = [
                (first, Op::SetStr("k".into(), "v".into())),
                (missing, Op::Delete("k".into())),
            ];
            assert!(!apply(&mut edited, &list));
            assert_eq!(edited, td, "refused, so unchanged");
        }
    }
    const SPAN0: Target = Target::Span {
        rs: 0,
        ss: 0,
        span: 0,
    };

    #[test]
    fn round_trip_every_op() {
        let s = Target::Span {
            rs: 1,
            ss: 2,
            span: 3,
        };
        let mut l = EditList::new();
        l.set_str(s, "k", "välue");
        l.set_int(Target::Resource { rs: 4 }, "i", -5);
        l.set_double(
            Target::Event {
                rs: 0,
                ss: 0,
                span: 0,
                event: 9,
            },
            "d",
            1.25,
        );
        l.set_bool(
            Target::Link {
                rs: 0,
                ss: 0,
                span: 0,
                link: 2,
            },
            "b",
            true,
        );
        l.delete(s, "gone");
        l.drop_span(7, 8, 9);
        l.set_status_message(1, 1, 1, "msg");
        assert_eq!(l.len(), 7);
        // The head walk sees what decoding sees, keys and targets, values skipped.
        let mut more = l.clone();
        more.every_copy().set_any(s, "any", &[0x0a, 0x01, b'x']);
        more.set_span_name(1, 2, 3, "n");
        more.set_event_name(1, 2, 3, 4, "e");
        more.set_scope_name(1, 2, "sc");
        let mut heads = Vec::new();
        more.for_each_head(|h| heads.push((h.kind, h.target, h.key.map(<[u8]>::to_vec))));
        let decoded = more.ops();
        assert_eq!(heads.len(), decoded.len());
        for ((kind, target, key), (t, op)) in heads.iter().zip(&decoded) {
            assert_eq!(target, t);
            assert_eq!(key.as_deref(), op.key().map(str::as_bytes), "{op:?}");
            let want = match op {
                Op::DropSpan => HeadKind::DropSpan,
                Op::SetStatusMessage(_) => HeadKind::StatusMessage,
                Op::SetSpanName(_) => HeadKind::SpanName,
                Op::SetEventName(_) => HeadKind::EventName,
                Op::SetScopeName(_) => HeadKind::ScopeName,
                _ => HeadKind::Keyed,
            };
            assert_eq!(*kind, want, "{op:?}");
        }
        let (d, edits) = decode(&l.finish(Disposition::Held)).unwrap();
        assert_eq!(d, Disposition::Held);
        assert_eq!(edits[0], (s, Op::SetStr("k".into(), "välue".into())));
        assert_eq!(
            edits[1],
            (Target::Resource { rs: 4 }, Op::SetInt("i".into(), -5))
        );
        assert_eq!(edits[2].1, Op::SetDouble("d".into(), 1.25));
        assert_eq!(edits[3].1, Op::SetBool("b".into(), true));
        assert_eq!(edits[4].1, Op::Delete("gone".into()));
        assert_eq!(
            edits[5],
            (
                Target::Span {
                    rs: 7,
                    ss: 8,
                    span: 9
                },
                Op::DropSpan
            )
        );
        assert_eq!(edits[6].1, Op::SetStatusMessage("msg".into()));
    }

    #[test]
    fn set_any_round_trips_and_applies() {
        use opentelemetry_proto::tonic::common::v1::ArrayValue;
        let arr = AnyValue {
            value: Some(any_value::Value::ArrayValue(ArrayValue {
                values: vec![AnyValue {
                    value: Some(any_value::Value::StringValue("x".into())),
                }],
            })),
        };
        let at = SPAN0;
        let mut l = EditList::new();
        l.set_any(at, "tags", &arr.encode_to_vec());
        l.push(at, &Op::SetAny("empty".into(), Vec::new()));
        let buf = l.finish(Disposition::Forward);
        let (_, edits) = decode(&buf).unwrap();
        assert_eq!(
            edits[0],
            (at, Op::SetAny("tags".into(), arr.encode_to_vec()))
        );
        for n in 0..buf.len() {
            assert!(decode(&buf[..n]).is_none(), "prefix {n}");
        }
        let mut td = TracesData {
            resource_spans: vec![opentelemetry_proto::tonic::trace::v1::ResourceSpans {
                scope_spans: vec![opentelemetry_proto::tonic::trace::v1::ScopeSpans {
                    spans: vec![Span::default()],
                    ..Default::default()
                }],
                ..Default::default()
            }],
        };
        assert!(apply(&mut td, &edits));
        let attrs = &td.resource_spans[0].scope_spans[0].spans[0].attributes;
        assert_eq!(attrs[0].value.as_ref(), Some(&arr));
        assert_eq!(attrs[1].value, Some(AnyValue { value: None }));
    }

    fn one_span_batch() -> TracesData {
        use opentelemetry_proto::tonic::trace::v1::{span::Event, ResourceSpans, ScopeSpans};
        TracesData {
            resource_spans: vec![ResourceSpans {
                scope_spans: vec![ScopeSpans {
                    spans: vec![Span {
                        name: "GET /u/jane@example.com".into(),
                        events: vec![Event::default()],
                        ..Default::default()
                    }],
                    ..Default::default()
                }],
                ..Default::default()
            }],
        }
    }

    #[test]
    fn name_ops_round_trip_and_apply() {
        let mut l = EditList::new();
        l.set_span_name(0, 0, 0, "GET /u/<email>");
        l.set_event_name(0, 0, 0, 0, "event <email>");
        l.set_scope_name(0, 0, "scope <email>");
        let (_, edits) = decode(&l.finish(Disposition::Forward)).unwrap();
        assert_eq!(edits[0].1, Op::SetSpanName("GET /u/<email>".into()));
        assert_eq!(
            edits[1].0,
            Target::Event {
                rs: 0,
                ss: 0,
                span: 0,
                event: 0
            }
        );
        assert_eq!(
            edits[2],
            (
                Target::Scope { rs: 0, ss: 0 },
                Op::SetScopeName("scope <email>".into())
            )
        );
        let mut td = one_span_batch();
        assert!(apply(&mut td, &edits));
        let ss = &td.resource_spans[0].scope_spans[0];
        assert_eq!(ss.spans[0].name, "GET /u/<email>");
        assert_eq!(ss.spans[0].events[0].name, "event <email>");
        assert_eq!(ss.scope.as_ref().unwrap().name, "scope <email>");
    }

    #[test]
    fn name_ops_on_the_wrong_target_do_not_decode() {
        let mut l = EditList::new();
        // An event rename addressed to a span: hand-built, the writer cannot make it.
        l.head(10, SPAN0);
        l.bytes(b"x");
        assert!(decode(&l.finish(Disposition::Forward)).is_none());
        let mut l = EditList::new();
        l.head(6, Target::Resource { rs: 0 });
        assert!(decode(&l.finish(Disposition::Forward)).is_none());
    }

    #[test]
    fn keys_are_written_as_the_batch_holds_them() {
        let mut l = EditList::new();
        l.set_str(SPAN0, b"caf\xe9".as_slice(), "v");
        let buf = l.finish(Disposition::Forward);
        assert!(
            buf.windows(4).any(|w| w == b"caf\xe9"),
            "raw key bytes on the wire"
        );
        let (_, edits) = decode(&buf).unwrap();
        assert_eq!(edits[0].1, Op::SetStr("caf\u{fffd}".into(), "v".into()));
    }

    #[test]
    fn undecodable_any_value_applies_nothing() {
        let at = SPAN0;
        let mut l = EditList::new();
        l.set_span_name(0, 0, 0, "renamed");
        l.set_any(at, "k", b"\xff\xff\xff");
        let (_, edits) = decode(&l.finish(Disposition::Forward)).unwrap();
        let mut td = one_span_batch();
        assert!(!apply(&mut td, &edits));
        assert_eq!(td, one_span_batch());
    }

    fn kv(key: &str, value: &str) -> KeyValue {
        KeyValue {
            key: key.into(),
            value: Some(AnyValue {
                value: Some(any_value::Value::StringValue(value.into())),
            }),
        }
    }

    fn span0_attrs(td: &TracesData) -> &[KeyValue] {
        &td.resource_spans[0].scope_spans[0].spans[0].attributes
    }

    #[test]
    fn every_copy_ops_round_trip_and_touch_every_entry() {
        let mut l = EditList::new();
        l.every_copy().set_str(SPAN0, "dup", "masked");
        l.every_copy().delete(SPAN0, "gone");
        l.set_str(SPAN0, "first", "changed");
        l.every_copy().set_int(SPAN0, "n", 7);
        l.every_copy().set_double(SPAN0, "d", 0.5);
        l.every_copy().set_bool(SPAN0, "b", true);
        l.every_copy().set_any(SPAN0, "a", &[]);
        let buf = l.finish(Disposition::Forward);
        assert_eq!(buf[HEADER_LEN], 1 | EVERY_COPY);
        let (_, edits) = decode(&buf).unwrap();
        let every = |op: Op| Op::EveryCopy(Box::new(op));
        assert_eq!(edits[0].1, every(Op::SetStr("dup".into(), "masked".into())));
        assert_eq!(edits[1].1, every(Op::Delete("gone".into())));
        assert_eq!(edits[2].1, Op::SetStr("first".into(), "changed".into()));
        assert_eq!(edits[3].1, every(Op::SetInt("n".into(), 7)));
        assert_eq!(edits[4].1, every(Op::SetDouble("d".into(), 0.5)));
        assert_eq!(edits[5].1, every(Op::SetBool("b".into(), true)));
        assert_eq!(edits[6].1, every(Op::SetAny("a".into(), Vec::new())));
        let mut again = EditList::new();
        for (at, op) in &edits {
            again.push(*at, op);
        }
        assert_eq!(again.finish(Disposition::Forward), buf);

        let mut td = one_span_batch();
        td.resource_spans[0].scope_spans[0].spans[0].attributes = vec![
            kv("dup", "harmless"),
            kv("first", "a"),
            kv("gone", "x"),
            kv("dup", "secret"),
            kv("first", "b"),
            kv("gone", "y"),
            kv("dup", "secret too"),
        ];
        assert!(apply(&mut td, &edits[..3]));
        // Without the bit a set changes the first entry only, as pdata's Put does.
        assert_eq!(
            span0_attrs(&td),
            &[
                kv("first", "changed"),
                kv("first", "b"),
                kv("dup", "masked")
            ]
        );
    }

    #[test]
    fn the_every_copy_bit_only_decodes_on_keyed_ops() {
        for op in [6u8, 7, 9, 10, 11] {
            let mut l = EditList::new();
            let target = match op {
                10 => Target::Event {
                    rs: 0,
                    ss: 0,
                    span: 0,
                    event: 0,
                },
                11 => Target::Scope { rs: 0, ss: 0 },
                _ => SPAN0,
            };
            l.head(op | EVERY_COPY, target);
            if op != 6 {
                l.bytes(b"x");
            }
            assert!(decode(&l.finish(Disposition::Forward)).is_none(), "op {op}");
        }
        // An unknown op with the bit does not decode either.
        let mut l = EditList::new();
        l.head(12 | EVERY_COPY, SPAN0);
        assert!(decode(&l.finish(Disposition::Forward)).is_none());
        // A hand-built every-copy span op is refused whole by apply and not written by push.
        let mut td = one_span_batch();
        let edits = [
            (SPAN0, Op::SetSpanName("renamed".into())),
            (SPAN0, Op::EveryCopy(Box::new(Op::DropSpan))),
        ];
        assert!(!apply(&mut td, &edits));
        assert_eq!(td, one_span_batch());
        let mut l = EditList::new();
        l.push(SPAN0, &edits[1].1);
        assert!(l.is_empty());
    }

    #[test]
    fn truncated_or_padded_lists_are_rejected() {
        let mut l = EditList::new();
        l.set_str(SPAN0, "k", "v");
        let buf = l.finish(Disposition::Forward);
        for n in 0..buf.len() {
            assert!(decode(&buf[..n]).is_none(), "prefix {n}");
        }
        let mut padded = buf.clone();
        padded.push(0);
        assert!(decode(&padded).is_none());
    }
}
