//! Arrays and maps: their leaves get the same rules as attribute values, to a bounded depth,
//! and a changed container is written back as a protobuf `AnyValue` for the `set_any` edit.
//!
//! The walk recurses at most [`MAX_DEPTH`] levels, whatever the batch holds. A container
//! nested deeper is one opaque value: its encoded bytes are scanned as text and, if anything
//! matches, it is replaced by [`NESTED_MASK`] (docs/redaction.md, "Nesting").
//!
//! Unchanged elements are re-encoded from their borrowed view, which is lossless: strings and
//! bytes are copied as the batch holds them (UTF-8 or not) and nested containers as their
//! encoded bodies.

use super::apply::Change;
use super::counts::RedactionCounts;
use super::text::{lossy, Limit};
use super::Redactor;
use crate::otlp::{array_values, kvlist_entries, AnyRef};

/// Deepest container walked; the attribute's own array or map is depth 1.
pub const MAX_DEPTH: usize = 32;

/// What replaces a too-deep value in which something matched.
pub const NESTED_MASK: &str = "<REDACTED:nested>";

// AnyValue fields (common.proto).
const STRING: u32 = 1;
const BOOL: u32 = 2;
const INT: u32 = 3;
const DOUBLE: u32 = 4;
const ARRAY: u32 = 5;
const KVLIST: u32 = 6;
const BYTES: u32 = 7;
/// `ArrayValue.values` and `KeyValueList.values`.
const VALUES: u32 = 1;
/// `KeyValue.key` and `KeyValue.value`.
const KEY: u32 = 1;
const VALUE: u32 = 2;

impl Redactor {
    /// Redacts the array or map `v` found at `depth`; `Some((AnyValue message, masked))` when
    /// anything changed.
    pub(super) fn container(
        &self,
        v: AnyRef<'_>,
        limit: Limit,
        depth: usize,
        counts: &mut RedactionCounts,
    ) -> Option<(Vec<u8>, bool)> {
        let (field, body) = match v {
            AnyRef::Array(b) => (ARRAY, b),
            AnyRef::KvList(b) => (KVLIST, b),
            _ => return None,
        };
        if depth > MAX_DEPTH {
            return self.opaque_matches(body).then(|| {
                counts.nested_masked += 1;
                (message(STRING, NESTED_MASK.as_bytes()), true)
            });
        }
        let (new_body, masked) = if field == ARRAY {
            self.array(body, limit, depth, counts)?
        } else {
            self.kvlist(body, limit, depth, counts)?
        };
        Some((message(field, &new_body), masked))
    }

    fn array(
        &self,
        body: &[u8],
        limit: Limit,
        depth: usize,
        counts: &mut RedactionCounts,
    ) -> Option<(Vec<u8>, bool)> {
        rebuild(
            body.len(),
            || array_values(body),
            |x| {
                self.leaf(x, limit, depth + 1, counts)
                    .map(|(c, m)| (c.into_message(), m))
            },
            any_message,
        )
    }

    fn kvlist(
        &self,
        body: &[u8],
        limit: Limit,
        depth: usize,
        counts: &mut RedactionCounts,
    ) -> Option<(Vec<u8>, bool)> {
        rebuild(
            body.len(),
            || kvlist_entries(body),
            |kv| {
                self.entry(kv.key, kv.value, limit, depth + 1, counts)
                    .map(|(c, m)| (kv_message(kv.key, &c.into_message()), m))
            },
            |kv| kv_message(kv.key, &any_message(kv.value)),
        )
    }

    /// One map entry: key rules first (a blocked key masks scalars whole, a sensitive key
    /// text-bearing values), then the value's own rules.
    fn entry(
        &self,
        key: &[u8],
        v: AnyRef<'_>,
        limit: Limit,
        depth: usize,
        counts: &mut RedactionCounts,
    ) -> Option<(Change, bool)> {
        if let Some(c) = self.key_rule(key, v, counts) {
            return Some((c, true));
        }
        self.leaf(v, limit, depth, counts)
    }

    /// One array element or map value at `depth`: strings and the other scalars by the
    /// attribute-value rules, containers by walking them.
    fn leaf(
        &self,
        v: AnyRef<'_>,
        limit: Limit,
        depth: usize,
        counts: &mut RedactionCounts,
    ) -> Option<(Change, bool)> {
        match v {
            AnyRef::Array(_) | AnyRef::KvList(_) => self
                .container(v, limit, depth, counts)
                .map(|(m, masked)| (Change::Encoded(m), masked)),
            AnyRef::Str(b) => {
                let s = lossy(b);
                if self.is_value_allowed(&s) {
                    return None;
                }
                self.text(&s, limit, 0, counts)
                    .map(|(new, masked)| (Change::Str(new), masked))
            }
            _ => self.scalar(v, counts).map(|c| (c, true)),
        }
    }

    /// Past the depth limit: whether the encoded bytes, read as text, hold a detector or
    /// `blocked_values` match or a word that a key rule would catch. Errs towards masking.
    fn opaque_matches(&self, body: &[u8]) -> bool {
        let text = lossy(body);
        if self.may_mask(&text)
            && self
                .mask_text(&text, &mut RedactionCounts::default())
                .is_some()
        {
            return true;
        }
        text.split(|c: char| !(c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-')))
            .filter(|w| !w.is_empty())
            .any(|w| self.is_key_sensitive(w.as_bytes()) || self.is_key_blocked(w))
    }
}

/// Rewrites the repeated `values` field of an array or map body: `change` gives an element's
/// new message, or `None` to keep it. Returns the new body (and whether anything was masked)
/// once some element changed; until then nothing is copied.
fn rebuild<T: Copy, I: Iterator<Item = T>>(
    len: usize,
    elements: impl Fn() -> I,
    mut change: impl FnMut(T) -> Option<(Vec<u8>, bool)>,
    unchanged: impl Fn(T) -> Vec<u8>,
) -> Option<(Vec<u8>, bool)> {
    let mut out: Option<Vec<u8>> = None;
    let mut masked = false;
    for (i, x) in elements().enumerate() {
        match change(x) {
            Some((message, m)) => {
                masked |= m;
                let buf = out.get_or_insert_with(|| {
                    let mut b = Vec::with_capacity(len + 32);
                    for earlier in elements().take(i) {
                        put_message(&mut b, VALUES, &unchanged(earlier));
                    }
                    b
                });
                put_message(buf, VALUES, &message);
            }
            None => {
                if let Some(buf) = out.as_mut() {
                    put_message(buf, VALUES, &unchanged(x));
                }
            }
        }
    }
    out.map(|b| (b, masked))
}

impl Change {
    /// The change as an `AnyValue` message.
    pub(super) fn into_message(self) -> Vec<u8> {
        match self {
            Change::Str(s) => message(STRING, s.as_bytes()),
            Change::Bytes(b) => message(BYTES, &b),
            Change::Encoded(m) => m,
        }
    }
}

/// An `AnyValue` message holding one length-delimited field.
pub(super) fn message(field: u32, payload: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(payload.len() + 6);
    put_message(&mut out, field, payload);
    out
}

/// A borrowed value as an `AnyValue` message, bytes as the batch held them.
fn any_message(v: AnyRef<'_>) -> Vec<u8> {
    let mut out = Vec::new();
    match v {
        AnyRef::Str(b) => put_message(&mut out, STRING, b),
        AnyRef::Bytes(b) => put_message(&mut out, BYTES, b),
        AnyRef::Array(b) => put_message(&mut out, ARRAY, b),
        AnyRef::KvList(b) => put_message(&mut out, KVLIST, b),
        AnyRef::Bool(x) => {
            put_varint(&mut out, (BOOL as u64) << 3);
            put_varint(&mut out, x as u64);
        }
        AnyRef::Int(i) => {
            put_varint(&mut out, (INT as u64) << 3);
            put_varint(&mut out, i as u64);
        }
        AnyRef::Double(d) => {
            put_varint(&mut out, (DOUBLE as u64) << 3 | 1);
            out.extend_from_slice(&d.to_le_bytes());
        }
        AnyRef::Empty => {}
    }
    out
}

fn kv_message(key: &[u8], any: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(key.len() + any.len() + 12);
    put_message(&mut out, KEY, key);
    put_message(&mut out, VALUE, any);
    out
}

fn put_message(out: &mut Vec<u8>, field: u32, payload: &[u8]) {
    put_varint(out, (field as u64) << 3 | 2);
    put_varint(out, payload.len() as u64);
    out.extend_from_slice(payload);
}

fn put_varint(out: &mut Vec<u8>, mut v: u64) {
    while v >= 0x80 {
        out.push(v as u8 | 0x80);
        v >>= 7;
    }
    out.push(v as u8);
}
