//! A batch as raw bytes, for what prost cannot hold: strings and keys that are not UTF-8 and
//! values nested deeper than prost decodes. Encodes to OTLP protobuf (TracesData), takes the
//! engine's edits the way Go applies them, and re-encodes, so a test can search the output
//! bytes for anything that should not be there.

use tollbooth::edits::{Op, Target};

#[derive(Debug, Clone)]
pub enum Val {
    Str(Vec<u8>),
    Int(i64),
    Double(f64),
    Bytes(Vec<u8>),
    Arr(Vec<Val>),
    Kv(Vec<(Vec<u8>, Val)>),
    /// An encoded `AnyValue`, as a `set_any` edit carries it.
    Encoded(Vec<u8>),
}

pub type Attrs = Vec<(Vec<u8>, Val)>;

#[derive(Debug, Clone, Default)]
pub struct RawEvent {
    pub name: Vec<u8>,
    pub attrs: Attrs,
}

#[derive(Debug, Clone, Default)]
pub struct RawSpan {
    pub name: Vec<u8>,
    pub attrs: Attrs,
    pub events: Vec<RawEvent>,
    pub links: Vec<Attrs>,
    pub status: Vec<u8>,
}

#[derive(Debug, Clone, Default)]
pub struct RawScope {
    pub name: Vec<u8>,
    pub attrs: Attrs,
    pub spans: Vec<RawSpan>,
}

/// One resource with its scopes.
#[derive(Debug, Clone, Default)]
pub struct RawBatch {
    pub resource: Attrs,
    pub scopes: Vec<RawScope>,
}

fn varint(out: &mut Vec<u8>, mut v: u64) {
    while v >= 0x80 {
        out.push(v as u8 | 0x80);
        v >>= 7;
    }
    out.push(v as u8);
}

fn ld(out: &mut Vec<u8>, field: u64, payload: &[u8]) {
    varint(out, field << 3 | 2);
    varint(out, payload.len() as u64);
    out.extend_from_slice(payload);
}

pub fn any(v: &Val) -> Vec<u8> {
    let mut out = Vec::new();
    match v {
        Val::Str(s) => ld(&mut out, 1, s),
        Val::Int(i) => {
            varint(&mut out, 3 << 3);
            varint(&mut out, *i as u64);
        }
        Val::Double(d) => {
            varint(&mut out, 4 << 3 | 1);
            out.extend_from_slice(&d.to_le_bytes());
        }
        Val::Bytes(b) => ld(&mut out, 7, b),
        Val::Arr(xs) => {
            let mut body = Vec::new();
            for x in xs {
                ld(&mut body, 1, &any(x));
            }
            ld(&mut out, 5, &body);
        }
        Val::Kv(kvs) => ld(&mut out, 6, &attrs(1, kvs)),
        Val::Encoded(b) => out.extend_from_slice(b),
    }
    out
}

fn attrs(field: u64, kvs: &Attrs) -> Vec<u8> {
    let mut out = Vec::new();
    for (k, v) in kvs {
        let mut kv = Vec::new();
        ld(&mut kv, 1, k);
        ld(&mut kv, 2, &any(v));
        ld(&mut out, field, &kv);
    }
    out
}

impl RawSpan {
    fn encode(&self, i: usize) -> Vec<u8> {
        let mut s = Vec::new();
        ld(&mut s, 1, &[7u8; 16]);
        ld(&mut s, 2, &(i as u64 + 1).to_be_bytes());
        ld(&mut s, 5, &self.name);
        s.extend(attrs(9, &self.attrs));
        for e in &self.events {
            let mut ev = Vec::new();
            ld(&mut ev, 2, &e.name);
            ev.extend(attrs(3, &e.attrs));
            ld(&mut s, 11, &ev);
        }
        for l in &self.links {
            let mut link = Vec::new();
            ld(&mut link, 1, &[8u8; 16]);
            link.extend(attrs(4, l));
            ld(&mut s, 13, &link);
        }
        if !self.status.is_empty() {
            let mut st = Vec::new();
            ld(&mut st, 2, &self.status);
            ld(&mut s, 15, &st);
        }
        s
    }
}

impl RawBatch {
    /// TracesData protobuf.
    pub fn encode(&self) -> Vec<u8> {
        let mut rs = Vec::new();
        ld(&mut rs, 1, &attrs(1, &self.resource));
        for sc in &self.scopes {
            let mut ss = Vec::new();
            let mut scope = Vec::new();
            ld(&mut scope, 1, &sc.name);
            scope.extend(attrs(3, &sc.attrs));
            ld(&mut ss, 1, &scope);
            for (i, span) in sc.spans.iter().enumerate() {
                ld(&mut ss, 2, &span.encode(i));
            }
            ld(&mut rs, 2, &ss);
        }
        let mut td = Vec::new();
        ld(&mut td, 1, &rs);
        td
    }

    pub fn span_count(&self) -> usize {
        self.scopes.iter().map(|s| s.spans.len()).sum()
    }

    fn attrs_mut(&mut self, at: Target) -> Option<&mut Attrs> {
        Some(match at {
            Target::Resource { rs: 0 } => &mut self.resource,
            Target::Scope { rs: 0, ss } => &mut self.scopes.get_mut(ss as usize)?.attrs,
            Target::Span { rs: 0, ss, span } => {
                &mut self
                    .scopes
                    .get_mut(ss as usize)?
                    .spans
                    .get_mut(span as usize)?
                    .attrs
            }
            Target::Event {
                rs: 0,
                ss,
                span,
                event,
            } => {
                &mut self
                    .span_mut(ss, span)?
                    .events
                    .get_mut(event as usize)?
                    .attrs
            }
            Target::Link {
                rs: 0,
                ss,
                span,
                link,
            } => self.span_mut(ss, span)?.links.get_mut(link as usize)?,
            _ => return None,
        })
    }

    fn span_mut(&mut self, ss: u32, span: u32) -> Option<&mut RawSpan> {
        self.scopes
            .get_mut(ss as usize)?
            .spans
            .get_mut(span as usize)
    }

    /// Applies edits as Go does; keys are compared as decoded (lossily, like `edits::decode`).
    /// An every-copy op removes every entry with its key first. Returns the number of spans
    /// dropped; panics on an edit that addresses nothing.
    pub fn apply(&mut self, edits: &[(Target, Op)]) -> usize {
        let mut dropped = Vec::new();
        for (at, op) in edits {
            let op = match op {
                Op::EveryCopy(inner) => {
                    let k = inner.key().expect("every-copy ops are keyed");
                    self.attrs_mut(*at)
                        .expect("edit addresses the batch")
                        .retain(|(key, _)| String::from_utf8_lossy(key) != k);
                    &**inner
                }
                op => op,
            };
            let set = |attrs: &mut Attrs, key: &str, v: Val| match attrs
                .iter_mut()
                .find(|(k, _)| String::from_utf8_lossy(k) == key)
            {
                Some(kv) => kv.1 = v,
                None => attrs.push((key.as_bytes().to_vec(), v)),
            };
            match (op, *at) {
                (Op::DropSpan, Target::Span { ss, span, .. }) => dropped.push((ss, span)),
                (Op::SetStatusMessage(m), Target::Span { ss, span, .. }) => {
                    self.span_mut(ss, span).unwrap().status = m.as_bytes().to_vec()
                }
                (Op::SetSpanName(n), Target::Span { ss, span, .. }) => {
                    self.span_mut(ss, span).unwrap().name = n.as_bytes().to_vec()
                }
                (
                    Op::SetEventName(n),
                    Target::Event {
                        ss, span, event, ..
                    },
                ) => {
                    self.span_mut(ss, span).unwrap().events[event as usize].name =
                        n.as_bytes().to_vec()
                }
                (Op::SetScopeName(n), Target::Scope { ss, .. }) => {
                    self.scopes[ss as usize].name = n.as_bytes().to_vec()
                }
                (Op::Delete(k), _) => self
                    .attrs_mut(*at)
                    .expect("edit addresses the batch")
                    .retain(|(key, _)| String::from_utf8_lossy(key) != *k),
                (Op::SetStr(k, v), _) => set(
                    self.attrs_mut(*at).expect("edit addresses the batch"),
                    k,
                    Val::Str(v.as_bytes().to_vec()),
                ),
                (Op::SetInt(k, v), _) => set(
                    self.attrs_mut(*at).expect("edit addresses the batch"),
                    k,
                    Val::Int(*v),
                ),
                (Op::SetDouble(k, v), _) => set(
                    self.attrs_mut(*at).expect("edit addresses the batch"),
                    k,
                    Val::Double(*v),
                ),
                (Op::SetBool(k, v), _) => set(
                    self.attrs_mut(*at).expect("edit addresses the batch"),
                    k,
                    Val::Int(*v as i64),
                ),
                (Op::SetAny(k, b), _) => set(
                    self.attrs_mut(*at).expect("edit addresses the batch"),
                    k,
                    Val::Encoded(b.clone()),
                ),
                (op, at) => panic!("{op:?} on {at:?}"),
            }
        }
        for &(ss, span) in dropped.iter().rev() {
            self.scopes[ss as usize].spans.remove(span as usize);
        }
        dropped.len()
    }
}
