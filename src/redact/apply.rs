//! One attribute map at a time, in contrib's order: ignored keys pass, keys not allowed are
//! removed, `allowed_values` wins, blocked keys are masked whole, then sensitive keys (ours),
//! then blocked values and the detectors mask only what they match. The content policy and
//! truncation apply on the way; the audit attributes come last. Edits go straight into the
//! edit list.
//!
//! A map may hold a key more than once (the wire format and pdata allow it), and every entry
//! is read and redacted. Edits address attributes by key, and an edit without the every-copy
//! bit changes only the first entry with its key, so an edit for a key the map holds twice is
//! written with the bit: all its entries are removed, then a set puts the value this entry
//! redacted to. The map then holds that key once, with the value of the last set written for
//! it (a redacted one); a copy no edit was written for (nothing to redact in it) goes too.
//! Whether the map has duplicates is only worked out once an edit is about to be written for it.
//!
//! Keys and values are read as the batch holds them: a key or string that is not UTF-8 is
//! matched and scanned as text in which invalid sequences read as U+FFFD, and addressed by its
//! exact bytes (docs/redaction.md).

use std::borrow::Cow;

use serde_json::Value as Json;

use super::config::{ContentPolicy, Summary};
use super::content::{self, Kind};
use super::counts::RedactionCounts;
use super::hashing::hmac_sha256_hex;
use super::nested::MAX_DEPTH;
use super::text::{is_hash_token, lossy, Limit, HASH_TOKEN_PREFIX};
use super::Redactor;
use crate::edits::{EditList, Target};
use crate::otlp::{array_values, kvlist_entries, AnyRef, KeyValueRef};

/// Numbers with fewer digits cannot be card numbers (13 to 19 digits), so they are never
/// scanned: spans carry many small integers.
const CARD_MIN: u64 = 1_000_000_000_000;

/// A redacted value.
pub(super) enum Change {
    /// A string (masked text, a mask, or text cut by truncation).
    Str(String),
    /// A bytes value holding masked text.
    Bytes(Vec<u8>),
    /// Any value as a protobuf `AnyValue` message (arrays and maps).
    Encoded(Vec<u8>),
}

/// The string form contrib's `AsString` gives scalars; `None` for arrays, maps and empty.
pub fn scalar_string<'a>(v: &AnyRef<'a>) -> Option<Cow<'a, str>> {
    Some(match *v {
        AnyRef::Str(b) => lossy(b),
        AnyRef::Bool(b) => Cow::Owned(b.to_string()),
        AnyRef::Int(i) => Cow::Owned(i.to_string()),
        AnyRef::Double(d) => Cow::Owned(d.to_string()),
        AnyRef::Bytes(b) => Cow::Owned(base64(b)),
        AnyRef::Array(_) | AnyRef::KvList(_) | AnyRef::Empty => return None,
    })
}

/// Standard base64 with padding, as pdata's `AsString` renders bytes.
fn base64(input: &[u8]) -> String {
    const A: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(input.len().div_ceil(3) * 4);
    for c in input.chunks(3) {
        let n = (c[0] as u32) << 16
            | (*c.get(1).unwrap_or(&0) as u32) << 8
            | *c.get(2).unwrap_or(&0) as u32;
        for i in 0..4 {
            if i <= c.len() {
                out.push(A[(n >> (18 - 6 * i) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// The audit attributes contrib writes: key lists and counts, and the values an earlier
/// processor left (merged, as contrib does).
const AUDIT: [(Option<&str>, &str); 4] = [
    (Some("redaction.redacted.keys"), "redaction.redacted.count"),
    (Some("redaction.masked.keys"), "redaction.masked.count"),
    (Some("redaction.allowed.keys"), "redaction.allowed.count"),
    (None, "redaction.ignored.count"),
];

#[derive(Default)]
struct Audit<'a> {
    /// Keys per kind, in `AUDIT` order: redacted, masked, allowed, ignored.
    keys: [Vec<&'a [u8]>; 4],
    prev_keys: [Option<&'a [u8]>; 4],
    prev_counts: [Option<i64>; 4],
}

const REDACTED: usize = 0;
const MASKED: usize = 1;
const ALLOWED: usize = 2;
const IGNORED: usize = 3;

impl<'a> Audit<'a> {
    /// Remembers an earlier processor's audit attributes (the first of each, as a lookup).
    fn note_previous(&mut self, key: &[u8], v: AnyRef<'a>) {
        if !key.starts_with(b"redaction.") {
            return;
        }
        for (i, (keys_attr, count_attr)) in AUDIT.iter().enumerate() {
            match v {
                AnyRef::Str(s) if keys_attr.is_some_and(|k| k.as_bytes() == key) => {
                    self.prev_keys[i].get_or_insert(s);
                }
                AnyRef::Int(n) if count_attr.as_bytes() == key => {
                    self.prev_counts[i].get_or_insert(n);
                }
                _ => {}
            }
        }
    }
}

impl Redactor {
    fn is_ignored(&self, key: &str) -> bool {
        self.ignored_keys.contains(key) || self.ignored_key_patterns.iter().any(|r| r.is_match(key))
    }

    pub(super) fn is_key_blocked(&self, key: &str) -> bool {
        self.blocked_key_patterns.iter().any(|r| r.is_match(key))
    }

    pub(super) fn is_key_sensitive(&self, key: &[u8]) -> bool {
        self.sensitive.matches(key)
    }

    /// Key rules for a map entry inside a value: a blocked key masks scalars whole (contrib),
    /// then the sensitive-key rule.
    pub(super) fn key_rule(
        &self,
        key: &[u8],
        v: AnyRef<'_>,
        counts: &mut RedactionCounts,
    ) -> Option<Change> {
        if !self.blocked_key_patterns.is_empty() && self.is_key_blocked(&lossy(key)) {
            if let Some(s) = scalar_string(&v) {
                return Some(Change::Str(self.mask_whole(&s)));
            }
        }
        self.sensitive_rule(key, v, counts)
    }

    /// A sensitive key masks strings, bytes, arrays and maps whole; numbers and booleans are
    /// kept.
    fn sensitive_rule(
        &self,
        key: &[u8],
        v: AnyRef<'_>,
        counts: &mut RedactionCounts,
    ) -> Option<Change> {
        if self.is_key_sensitive(key) {
            let whole = match v {
                AnyRef::Str(b) | AnyRef::Bytes(b) => lossy(b),
                AnyRef::Array(_) | AnyRef::KvList(_) => Cow::Borrowed(""),
                _ => return None,
            };
            counts.sensitive_values_masked += 1;
            return Some(Change::Str(self.mask_whole(&whole)));
        }
        None
    }

    /// Rules for scalars other than strings: with `redact_all_types` every scalar is scanned
    /// as its text (contrib); otherwise long numbers are checked for card numbers and bytes
    /// are scanned as text (ours, docs/redaction.md).
    pub(super) fn scalar(&self, v: AnyRef<'_>, counts: &mut RedactionCounts) -> Option<Change> {
        if self.redact_all_types {
            if let Some(new) = scalar_string(&v).and_then(|s| self.mask_text(&s, counts)) {
                return Some(Change::Str(new));
            }
        }
        match v {
            AnyRef::Int(i) if i.unsigned_abs() >= CARD_MIN => self.number(&i.to_string(), counts),
            AnyRef::Double(d)
                if d.fract() == 0.0 && d.abs() >= CARD_MIN as f64 && d.abs() < 1e19 =>
            {
                self.number(&(d as i128).to_string(), counts)
            }
            AnyRef::Bytes(b) => {
                let text = lossy(b);
                self.mask_text(&text, counts)
                    .map(|m| Change::Bytes(m.into_bytes()))
            }
            _ => None,
        }
    }

    /// Only the detectors look at numbers: a user's `blocked_values` were written for text.
    fn number(&self, digits: &str, counts: &mut RedactionCounts) -> Option<Change> {
        let masked = self
            .detectors
            .redact(digits, &self.key, &mut counts.detections)?;
        counts.numbers_masked += 1;
        Some(Change::Str(masked))
    }

    /// Processes one attribute map, writing its edits (deletes, sets, then the audit
    /// attributes) to `out`. `content_event` marks span events whose attributes are message
    /// content.
    pub(crate) fn attrs<'a>(
        &self,
        at: Target,
        attrs: &[KeyValueRef<'a>],
        content_event: bool,
        counts: &mut RedactionCounts,
        out: &mut EditList,
    ) {
        let mut out = MapEdits {
            out,
            at,
            attrs,
            dups: None,
        };
        let out = &mut out;
        let mut audit = Audit::default();
        for &kv in attrs {
            let key = kv.key;
            audit.note_previous(key, kv.value);
            let key_text = lossy(key);
            if self.is_ignored(&key_text) {
                audit.keys[IGNORED].push(key);
                continue;
            }
            if !self.allow_all_keys && !self.allowed_keys.contains(&*key_text) {
                audit.keys[REDACTED].push(key);
                out.delete(key);
                continue;
            }
            let kind = if content_event {
                content::event_kind(&key_text)
            } else {
                content::kind(&key_text)
            };
            let policy = self.content.policy;
            match (kind, policy) {
                (Some(Kind::Message), ContentPolicy::Keep) => continue,
                (Some(_), ContentPolicy::Drop) => {
                    counts.content_dropped += 1;
                    audit.keys[REDACTED].push(key);
                    out.delete(key);
                    continue;
                }
                (Some(_), ContentPolicy::Hash) => {
                    let text = match kv.value {
                        AnyRef::Str(s) => lossy(s),
                        v => Cow::Owned(any_to_json(v, 1).to_string()),
                    };
                    if is_hash_token(&text) {
                        continue;
                    }
                    let token = format!("{HASH_TOKEN_PREFIX}{}", hmac_sha256_hex(&self.key, &text));
                    counts.content_hashed += 1;
                    audit.keys[MASKED].push(key);
                    out.set_str(key, &token);
                    continue;
                }
                _ => {}
            }
            let limit = match (kind, policy) {
                (Some(_), ContentPolicy::Truncate) => Limit::Chars(self.content.max_chars),
                _ if self.max_value_bytes == 0 => Limit::None,
                _ => Limit::Bytes(self.max_value_bytes),
            };
            let value = kv.value;
            let nested = matches!(value, AnyRef::Array(_) | AnyRef::KvList(_));
            // contrib reads non-strings as "" unless redact_all_types.
            let as_str: Cow<str> = match value {
                AnyRef::Str(s) => lossy(s),
                _ if self.redact_all_types => scalar_string(&value).unwrap_or_default(),
                _ => Cow::Borrowed(""),
            };
            if !nested && self.is_value_allowed(&as_str) {
                counts.values_allowed += 1;
                audit.keys[ALLOWED].push(key);
                continue;
            }
            if self.is_key_blocked(&key_text) {
                // contrib masks the value's string form whatever its type.
                audit.keys[MASKED].push(key);
                out.set_str(key, &self.mask_whole(&as_str));
                continue;
            }
            if let Some(change) = self.sensitive_rule(key, value, counts) {
                audit.keys[MASKED].push(key);
                out.write(key, change);
                continue;
            }
            let change = match value {
                AnyRef::Str(_) => self
                    .text(&as_str, limit, 0, counts)
                    .map(|(new, masked)| (Change::Str(new), masked)),
                AnyRef::Array(_) | AnyRef::KvList(_) => self
                    .container(value, limit, 1, counts)
                    .map(|(m, masked)| (Change::Encoded(m), masked)),
                v => self.scalar(v, counts).map(|c| (c, true)),
            };
            if let Some((change, masked)) = change {
                if masked {
                    audit.keys[MASKED].push(key);
                }
                out.write(key, change);
            }
        }
        self.audit(audit, counts, out);
    }

    /// Detectors and blocked values over a span's status message, with truncation.
    pub(crate) fn status_message(&self, m: &[u8], counts: &mut RedactionCounts) -> Option<String> {
        if m.is_empty() {
            return None;
        }
        let m = lossy(m);
        if self.is_value_allowed(&m) {
            return None;
        }
        let limit = match self.max_value_bytes {
            0 => Limit::None,
            n => Limit::Bytes(n),
        };
        let (new, _) = self.text(&m, limit, 0, counts)?;
        counts.status_messages_masked += 1;
        Some(new)
    }

    /// Detectors and blocked values over a span, event or scope name; only what matches is
    /// replaced and names are never cut.
    pub(crate) fn name(&self, name: &[u8], counts: &mut RedactionCounts) -> Option<String> {
        if name.is_empty() {
            return None;
        }
        let name = lossy(name);
        if !self.may_mask(&name) || self.is_value_allowed(&name) {
            return None;
        }
        let new = self.mask_text(&name, counts)?;
        counts.names_masked += 1;
        Some(new)
    }

    /// contrib's audit attributes, merged with any an earlier processor wrote.
    fn audit(
        &self,
        mut a: Audit<'_>,
        counts: &mut RedactionCounts,
        out: &mut MapEdits<'_, '_, '_>,
    ) {
        counts.keys_redacted += a.keys[REDACTED].len() as u64;
        counts.values_masked += a.keys[MASKED].len() as u64;
        counts.keys_ignored += a.keys[IGNORED].len() as u64;
        if self.summary == Summary::Silent {
            return;
        }
        for (i, (keys_attr, count_attr)) in AUDIT.iter().enumerate() {
            let keys = std::mem::take(&mut a.keys[i]);
            if keys.is_empty() {
                continue;
            }
            let mut count = keys.len() as i64;
            if self.summary == Summary::Debug {
                if let Some(ka) = keys_attr {
                    let mut names: Vec<Cow<str>> = keys.iter().map(|k| lossy(k)).collect();
                    if let Some(prev) = a.prev_keys[i].filter(|s| !s.is_empty()) {
                        names.extend(lossy(prev).split(',').map(|s| Cow::Owned(s.to_string())));
                    }
                    names.sort();
                    out.set_str(ka.as_bytes(), &names.join(","));
                }
            }
            if let Some(prev) = a.prev_counts[i] {
                count += prev;
            }
            out.set_int(count_attr.as_bytes(), count);
        }
    }
}

/// The edits for one attribute map: keyed ops for a key the map holds more than once get the
/// every-copy bit (module docs).
struct MapEdits<'o, 'm, 'a> {
    out: &'o mut EditList,
    at: Target,
    attrs: &'m [KeyValueRef<'a>],
    /// The keys the map holds more than once, sorted; worked out at the first edit.
    dups: Option<Vec<&'a [u8]>>,
}

impl MapEdits<'_, '_, '_> {
    fn every_copy(&mut self, key: &[u8]) -> bool {
        let dups = self.dups.get_or_insert_with(|| duplicated(self.attrs));
        !dups.is_empty() && dups.binary_search(&key).is_ok()
    }

    fn delete(&mut self, key: &[u8]) {
        if self.every_copy(key) {
            self.out.every_copy().delete(self.at, key)
        } else {
            self.out.delete(self.at, key)
        }
    }

    fn set_str(&mut self, key: &[u8], value: &str) {
        if self.every_copy(key) {
            self.out.every_copy().set_str(self.at, key, value)
        } else {
            self.out.set_str(self.at, key, value)
        }
    }

    fn set_int(&mut self, key: &[u8], value: i64) {
        if self.every_copy(key) {
            self.out.every_copy().set_int(self.at, key, value)
        } else {
            self.out.set_int(self.at, key, value)
        }
    }

    fn set_any(&mut self, key: &[u8], encoded: &[u8]) {
        if self.every_copy(key) {
            self.out.every_copy().set_any(self.at, key, encoded)
        } else {
            self.out.set_any(self.at, key, encoded)
        }
    }

    /// Writes one value change as the edit that expresses it.
    fn write(&mut self, key: &[u8], change: Change) {
        match change {
            Change::Str(s) => self.set_str(key, &s),
            c @ Change::Bytes(_) => self.set_any(key, &c.into_message()),
            Change::Encoded(m) => self.set_any(key, &m),
        }
    }
}

/// Maps at most this long are checked for duplicated keys pair by pair; longer ones by sorting.
const PAIRWISE_MAX: usize = 16;

/// The keys `attrs` holds more than once, sorted and without repeats (usually none).
fn duplicated<'a>(attrs: &[KeyValueRef<'a>]) -> Vec<&'a [u8]> {
    let mut dups: Vec<&'a [u8]> = Vec::new();
    if attrs.len() <= PAIRWISE_MAX {
        for (i, kv) in attrs.iter().enumerate() {
            if attrs[..i].iter().any(|earlier| earlier.key == kv.key) {
                dups.push(kv.key);
            }
        }
        dups.sort_unstable();
        dups.dedup();
    } else {
        let mut keys: Vec<&'a [u8]> = attrs.iter().map(|kv| kv.key).collect();
        keys.sort_unstable();
        for w in keys.windows(2) {
            if w[0] == w[1] && dups.last() != Some(&w[0]) {
                dups.push(w[0]);
            }
        }
    }
    dups
}

/// A value as JSON (for hashing non-string content deterministically); past the depth limit
/// a container is its encoded bytes as text.
fn any_to_json(v: AnyRef<'_>, depth: usize) -> Json {
    match v {
        AnyRef::Empty => Json::Null,
        AnyRef::Str(s) => Json::String(lossy(s).into_owned()),
        AnyRef::Bool(b) => Json::Bool(b),
        AnyRef::Int(i) => Json::from(i),
        AnyRef::Double(d) => Json::from(d),
        AnyRef::Bytes(b) => Json::from(b.to_vec()),
        AnyRef::Array(b) | AnyRef::KvList(b) if depth > MAX_DEPTH => {
            Json::String(lossy(b).into_owned())
        }
        AnyRef::Array(b) => {
            Json::Array(array_values(b).map(|x| any_to_json(x, depth + 1)).collect())
        }
        AnyRef::KvList(b) => Json::Object(
            kvlist_entries(b)
                .map(|kv| (lossy(kv.key).into_owned(), any_to_json(kv.value, depth + 1)))
                .collect(),
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bytes_render_as_base64_like_pdata() {
        assert_eq!(base64(b"user:pass"), "dXNlcjpwYXNz");
        assert_eq!(base64(b"ab"), "YWI=");
        assert_eq!(base64(b""), "");
    }

    #[test]
    fn nested_message_helper_is_protobuf() {
        use opentelemetry_proto::tonic::common::v1::{any_value::Value, AnyValue};
        use prost::Message;
        let m = super::super::nested::message(1, b"x");
        assert_eq!(
            AnyValue::decode(m.as_slice()).unwrap().value,
            Some(Value::StringValue("x".into()))
        );
    }
}
