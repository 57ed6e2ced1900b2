//! One attribute map at a time, in contrib's order: ignored keys pass, keys not allowed are
//! removed, `allowed_values` wins, blocked keys are masked whole, blocked values and the
//! detectors mask only what they match. Then the content policy and truncation, then the
//! audit attributes.

use std::borrow::Cow;

use opentelemetry_proto::tonic::common::v1::{
    any_value::Value, AnyValue, ArrayValue, KeyValue, KeyValueList,
};
use serde_json::Value as Json;

use super::config::{ContentPolicy, HashFunction, Summary};
use super::content::{self, Kind};
use super::counts::RedactionCounts;
use super::hashing::{contrib_hash, hmac_sha256_hex};
use super::Redactor;
use crate::edits::Op;

/// Prefix of content-policy hash tokens; a value already carrying one is not hashed again.
pub const HASH_TOKEN_PREFIX: &str = "hmac-sha256:";

/// JSON nested inside JSON strings (tool arguments inside messages) is walked this deep.
const MAX_JSON_DEPTH: u8 = 3;

#[derive(Debug, Clone, Copy)]
enum Limit {
    None,
    Bytes(usize),
    Chars(usize),
}

/// The string form contrib's `AsString` gives scalars; `None` for arrays, maps and absence.
pub fn scalar_string(v: Option<&AnyValue>) -> Option<Cow<'_, str>> {
    Some(match v?.value.as_ref()? {
        Value::StringValue(s) => Cow::Borrowed(s.as_str()),
        Value::BoolValue(b) => Cow::Owned(b.to_string()),
        Value::IntValue(i) => Cow::Owned(i.to_string()),
        Value::DoubleValue(d) => Cow::Owned(d.to_string()),
        Value::BytesValue(b) => Cow::Owned(base64(b)),
        Value::ArrayValue(_) | Value::KvlistValue(_) => return None,
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

fn str_value(s: String) -> AnyValue {
    AnyValue {
        value: Some(Value::StringValue(s)),
    }
}

#[derive(Default)]
struct Audit {
    redacted: Vec<String>,
    masked: Vec<String>,
    allowed: Vec<String>,
    ignored: Vec<String>,
}

impl Redactor {
    fn is_ignored(&self, key: &str) -> bool {
        self.ignored_keys.contains(key) || self.ignored_key_patterns.iter().any(|r| r.is_match(key))
    }

    fn is_value_allowed(&self, v: &str) -> bool {
        self.allowed_values.iter().any(|r| r.is_match(v))
    }

    fn is_key_blocked(&self, key: &str) -> bool {
        self.blocked_key_patterns.iter().any(|r| r.is_match(key))
    }

    /// contrib's replacement for one match: `****`, or the configured hash.
    fn mask_token(&self, m: &str) -> String {
        match self.hash_function {
            HashFunction::None => "****".to_string(),
            f => contrib_hash(f, &self.key, m),
        }
    }

    /// Masks a whole value (blocked key): every `.*` match, as contrib does.
    fn mask_whole(&self, v: &str) -> String {
        self.mask_all
            .replace_all(v, |c: &regex::Captures| self.mask_token(&c[0]))
            .into_owned()
    }

    /// `blocked_values` in order, then the detectors. `None` when nothing matched.
    fn mask_text(&self, s: &str, counts: &mut RedactionCounts) -> Option<String> {
        let mut cur: Cow<str> = Cow::Borrowed(s);
        for re in &self.blocked_values {
            if re.is_match(&cur) {
                let next = re
                    .replace_all(&cur, |c: &regex::Captures| self.mask_token(&c[0]))
                    .into_owned();
                cur = Cow::Owned(next);
            }
        }
        if let Some(d) = self
            .detectors
            .redact(&cur, &self.key, &mut counts.detections)
        {
            cur = Cow::Owned(d);
        }
        match cur {
            Cow::Owned(o) if o != s => Some(o),
            _ => None,
        }
    }

    /// Redacts a text value, walking it as JSON when it is a JSON object, array or string so
    /// it stays valid JSON (a bare number is treated as text). Returns the new text and whether anything was masked (as opposed to only
    /// truncated).
    fn text(
        &self,
        s: &str,
        limit: Limit,
        depth: u8,
        counts: &mut RedactionCounts,
    ) -> Option<(String, bool)> {
        let t = s.trim_start();
        let json_like = t.starts_with('{') || t.starts_with('[') || t.starts_with('"');
        if json_like && self.json_fast_path && !s.contains('\\') && !self.may_mask(s) {
            // Without escapes every JSON leaf is a substring of the raw text bounded by
            // non-word characters, so no match in the raw text means none in any leaf: skip
            // the parse (the common case for clean prompts). Only truncation can apply.
            return self.text_unmasked_json(s, limit, counts);
        }
        if depth < MAX_JSON_DEPTH && json_like {
            if let Ok(mut v) = serde_json::from_str::<Json>(s) {
                let masked = self.json(&mut v, depth, counts);
                let mut out = if masked {
                    serde_json::to_string(&v).unwrap_or_else(|_| s.to_string())
                } else {
                    s.to_string()
                };
                let truncated = self.truncate_json(&mut v, &mut out, limit);
                if truncated {
                    counts.values_truncated += 1;
                }
                return (masked || truncated).then_some((out, masked));
            }
        }
        let masked = self.mask_text(s, counts);
        let base = masked.as_deref().unwrap_or(s);
        match truncate(base, limit) {
            Some(t) => {
                counts.values_truncated += 1;
                Some((t, masked.is_some()))
            }
            None => masked.map(|m| (m, true)),
        }
    }

    /// Whether blocked values or detectors could change anything in `s`.
    fn may_mask(&self, s: &str) -> bool {
        self.detectors.may_match(s) || self.blocked_values.iter().any(|r| r.is_match(s))
    }

    /// Truncation only, for JSON-looking text known to need no masking.
    fn text_unmasked_json(
        &self,
        s: &str,
        limit: Limit,
        counts: &mut RedactionCounts,
    ) -> Option<(String, bool)> {
        let fits = match limit {
            Limit::None => true,
            Limit::Bytes(n) => s.len() <= n,
            Limit::Chars(n) => s.chars().count() <= n,
        };
        if fits {
            return None;
        }
        let out = match serde_json::from_str::<Json>(s) {
            Ok(mut v) => {
                let mut out = s.to_string();
                if !self.truncate_json(&mut v, &mut out, limit) {
                    return None;
                }
                out
            }
            Err(_) => truncate(s, limit)?,
        };
        counts.values_truncated += 1;
        Some((out, false))
    }

    /// Masks JSON leaves in place; object keys matching `blocked_key_patterns` have their
    /// scalar values masked whole. Structure (keys, roles, counts, tool names) is untouched.
    fn json(&self, v: &mut Json, depth: u8, counts: &mut RedactionCounts) -> bool {
        match v {
            Json::String(s) => {
                if self.is_value_allowed(s) {
                    return false;
                }
                match self.text(s, Limit::None, depth + 1, counts) {
                    Some((new, true)) => {
                        *s = new;
                        true
                    }
                    _ => false,
                }
            }
            Json::Number(n) => {
                let text = n.to_string();
                match self.mask_text(&text, counts) {
                    Some(new) => {
                        *v = Json::String(new);
                        true
                    }
                    None => false,
                }
            }
            Json::Array(a) => a
                .iter_mut()
                .fold(false, |acc, x| self.json(x, depth, counts) | acc),
            Json::Object(o) => {
                let mut changed = false;
                for (k, x) in o.iter_mut() {
                    if self.is_key_blocked(k) {
                        let whole = match x {
                            Json::String(s) => Some(s.clone()),
                            Json::Number(n) => Some(n.to_string()),
                            Json::Bool(b) => Some(b.to_string()),
                            _ => None,
                        };
                        if let Some(w) = whole {
                            *x = Json::String(self.mask_whole(&w));
                            changed = true;
                            continue;
                        }
                    }
                    changed |= self.json(x, depth, counts);
                }
                changed
            }
            Json::Bool(_) | Json::Null => false,
        }
    }

    /// Cuts JSON string leaves so the text fits the limit; `out` is re-serialised if so.
    fn truncate_json(&self, v: &mut Json, out: &mut String, limit: Limit) -> bool {
        let per_leaf = match limit {
            Limit::None => return false,
            Limit::Chars(n) => Limit::Chars(n),
            Limit::Bytes(n) if out.len() <= n => return false,
            Limit::Bytes(n) => {
                let leaves = count_leaves(v).max(1);
                Limit::Bytes((n / leaves).max(64))
            }
        };
        if !cut_leaves(v, per_leaf) {
            return false;
        }
        *out = serde_json::to_string(v).unwrap_or_default();
        true
    }

    /// Processes one attribute map and returns its edits (deletes, sets, then the audit
    /// attributes). `content_event` marks span events whose attributes are message content.
    pub(crate) fn attrs(
        &self,
        attrs: &[KeyValue],
        content_event: bool,
        counts: &mut RedactionCounts,
    ) -> Vec<Op> {
        let mut ops = Vec::new();
        let mut audit = Audit::default();
        for kv in attrs {
            let key = kv.key.as_str();
            if self.is_ignored(key) {
                audit.ignored.push(key.to_string());
                continue;
            }
            if !self.allow_all_keys && !self.allowed_keys.contains(key) {
                audit.redacted.push(key.to_string());
                ops.push(Op::Delete(key.to_string()));
                continue;
            }
            let kind = if content_event {
                content::event_kind(key)
            } else {
                content::kind(key)
            };
            let policy = self.content.policy;
            match (kind, policy) {
                (Some(Kind::Message), ContentPolicy::Keep) => continue,
                (Some(_), ContentPolicy::Drop) => {
                    counts.content_dropped += 1;
                    audit.redacted.push(key.to_string());
                    ops.push(Op::Delete(key.to_string()));
                    continue;
                }
                (Some(_), ContentPolicy::Hash) => {
                    let text = match kv.value.as_ref().and_then(|v| v.value.as_ref()) {
                        Some(Value::StringValue(s)) => Cow::Borrowed(s.as_str()),
                        _ => Cow::Owned(any_to_json(kv.value.as_ref()).to_string()),
                    };
                    if is_hash_token(&text) {
                        continue;
                    }
                    let token = format!("{HASH_TOKEN_PREFIX}{}", hmac_sha256_hex(&self.key, &text));
                    counts.content_hashed += 1;
                    audit.masked.push(key.to_string());
                    ops.push(Op::SetStr(key.to_string(), token));
                    continue;
                }
                _ => {}
            }
            let limit = match (kind, policy) {
                (Some(_), ContentPolicy::Truncate) => Limit::Chars(self.content.max_chars),
                _ if self.max_value_bytes == 0 => Limit::None,
                _ => Limit::Bytes(self.max_value_bytes),
            };
            let value = kv.value.as_ref();
            let inner = value.and_then(|v| v.value.as_ref());
            let nested = matches!(inner, Some(Value::ArrayValue(_) | Value::KvlistValue(_)));
            // contrib reads non-strings as "" unless redact_all_types.
            let as_str: Cow<str> = match inner {
                Some(Value::StringValue(s)) => Cow::Borrowed(s.as_str()),
                _ if self.redact_all_types => scalar_string(value).unwrap_or(Cow::Borrowed("")),
                _ => Cow::Borrowed(""),
            };
            if !nested && self.is_value_allowed(&as_str) {
                counts.values_allowed += 1;
                audit.allowed.push(key.to_string());
                continue;
            }
            if self.is_key_blocked(key) {
                audit.masked.push(key.to_string());
                ops.push(Op::SetStr(key.to_string(), self.mask_whole(&as_str)));
                continue;
            }
            match inner {
                Some(Value::StringValue(s)) => {
                    if let Some((new, masked)) = self.text(s, limit, 0, counts) {
                        if masked {
                            audit.masked.push(key.to_string());
                        }
                        ops.push(Op::SetStr(key.to_string(), new));
                    }
                }
                Some(
                    Value::IntValue(_)
                    | Value::DoubleValue(_)
                    | Value::BoolValue(_)
                    | Value::BytesValue(_),
                ) if self.redact_all_types => {
                    if let Some(new) = self.mask_text(&as_str, counts) {
                        audit.masked.push(key.to_string());
                        ops.push(Op::SetStr(key.to_string(), new));
                    }
                }
                Some(Value::ArrayValue(_) | Value::KvlistValue(_)) => {
                    let mut v = value.cloned().expect("nested value present");
                    if self.nested(&mut v, limit, counts) {
                        audit.masked.push(key.to_string());
                        ops.push(Op::SetAny(key.to_string(), prost::Message::encode_to_vec(&v)));
                    }
                }
                _ => {}
            }
        }
        self.audit(attrs, audit, counts, &mut ops);
        ops
    }

    /// Redacts the string leaves of arrays and kvlists in place; kvlist keys matching
    /// `blocked_key_patterns` have their scalar values masked whole.
    fn nested(&self, v: &mut AnyValue, limit: Limit, counts: &mut RedactionCounts) -> bool {
        match v.value.as_mut() {
            Some(Value::StringValue(s)) => {
                if self.is_value_allowed(s) {
                    return false;
                }
                match self.text(s, limit, 0, counts) {
                    Some((new, masked)) => {
                        *s = new;
                        masked
                    }
                    None => false,
                }
            }
            Some(Value::ArrayValue(ArrayValue { values })) => values
                .iter_mut()
                .fold(false, |acc, x| self.nested(x, limit, counts) | acc),
            Some(Value::KvlistValue(KeyValueList { values })) => {
                let mut changed = false;
                for kv in values.iter_mut() {
                    let Some(x) = kv.value.as_mut() else { continue };
                    if self.is_key_blocked(&kv.key) {
                        if let Some(s) = scalar_string(Some(x)) {
                            let masked = self.mask_whole(&s);
                            *x = str_value(masked);
                            changed = true;
                            continue;
                        }
                    }
                    changed |= self.nested(x, limit, counts);
                }
                changed
            }
            _ => false,
        }
    }

    /// Detectors and blocked values over a span's status message.
    pub(crate) fn status_message(&self, m: &str, counts: &mut RedactionCounts) -> Option<String> {
        if m.is_empty() || self.is_value_allowed(m) {
            return None;
        }
        let limit = match self.max_value_bytes {
            0 => Limit::None,
            n => Limit::Bytes(n),
        };
        let (new, _) = self.text(m, limit, 0, counts)?;
        counts.status_messages_masked += 1;
        Some(new)
    }

    /// contrib's audit attributes, merged with any an earlier processor wrote.
    fn audit(&self, attrs: &[KeyValue], a: Audit, counts: &mut RedactionCounts, ops: &mut Vec<Op>) {
        counts.keys_redacted += a.redacted.len() as u64;
        counts.values_masked += a.masked.len() as u64;
        counts.keys_ignored += a.ignored.len() as u64;
        if self.summary == Summary::Silent {
            return;
        }
        let lists = [
            (
                a.redacted,
                Some("redaction.redacted.keys"),
                "redaction.redacted.count",
            ),
            (
                a.masked,
                Some("redaction.masked.keys"),
                "redaction.masked.count",
            ),
            (
                a.allowed,
                Some("redaction.allowed.keys"),
                "redaction.allowed.count",
            ),
            (a.ignored, None, "redaction.ignored.count"),
        ];
        for (mut keys, keys_attr, count_attr) in lists {
            if keys.is_empty() {
                continue;
            }
            let mut count = keys.len() as i64;
            if self.summary == Summary::Debug {
                if let Some(ka) = keys_attr {
                    if let Some(prev) = crate::otlp::find_str(attrs, ka).filter(|s| !s.is_empty()) {
                        keys.extend(prev.split(',').map(str::to_string));
                    }
                    keys.sort();
                    ops.push(Op::SetStr(ka.to_string(), keys.join(",")));
                }
            }
            if let Some(Value::IntValue(prev)) = crate::otlp::find(attrs, count_attr) {
                count += prev;
            }
            ops.push(Op::SetInt(count_attr.to_string(), count));
        }
    }
}

fn is_hash_token(s: &str) -> bool {
    s.strip_prefix(HASH_TOKEN_PREFIX)
        .is_some_and(|h| h.len() == 64 && h.bytes().all(|b| b.is_ascii_hexdigit()))
}

/// A value as JSON (for hashing non-string content deterministically).
fn any_to_json(v: Option<&AnyValue>) -> Json {
    match v.and_then(|v| v.value.as_ref()) {
        None => Json::Null,
        Some(Value::StringValue(s)) => Json::String(s.clone()),
        Some(Value::BoolValue(b)) => Json::Bool(*b),
        Some(Value::IntValue(i)) => Json::from(*i),
        Some(Value::DoubleValue(d)) => Json::from(*d),
        Some(Value::BytesValue(b)) => Json::from(b.clone()),
        Some(Value::ArrayValue(a)) => {
            Json::Array(a.values.iter().map(|x| any_to_json(Some(x))).collect())
        }
        Some(Value::KvlistValue(l)) => Json::Object(
            l.values
                .iter()
                .map(|kv| (kv.key.clone(), any_to_json(kv.value.as_ref())))
                .collect(),
        ),
    }
}

fn count_leaves(v: &Json) -> usize {
    match v {
        Json::String(_) => 1,
        Json::Array(a) => a.iter().map(count_leaves).sum(),
        Json::Object(o) => o.values().map(count_leaves).sum(),
        _ => 0,
    }
}

fn cut_leaves(v: &mut Json, limit: Limit) -> bool {
    match v {
        Json::String(s) => match truncate(s, limit) {
            Some(t) => {
                *s = t;
                true
            }
            None => false,
        },
        Json::Array(a) => a
            .iter_mut()
            .fold(false, |acc, x| cut_leaves(x, limit) | acc),
        Json::Object(o) => o
            .values_mut()
            .fold(false, |acc, x| cut_leaves(x, limit) | acc),
        _ => false,
    }
}

/// Cuts `s` to the limit, marker included, so a second pass leaves it alone.
fn truncate(s: &str, limit: Limit) -> Option<String> {
    match limit {
        Limit::None => None,
        Limit::Bytes(n) if s.len() <= n => None,
        Limit::Bytes(n) => {
            let digits = s.len().to_string().len();
            let marker_len = "…[truncated  bytes]".len() + digits;
            let mut keep = n.saturating_sub(marker_len);
            while !s.is_char_boundary(keep) {
                keep -= 1;
            }
            Some(format!(
                "{}…[truncated {} bytes]",
                &s[..keep],
                s.len() - keep
            ))
        }
        Limit::Chars(n) => {
            let total = s.chars().count();
            if total <= n {
                return None;
            }
            let digits = total.to_string().len();
            let marker_len = "…[truncated  chars]".chars().count() + digits;
            let keep = n.saturating_sub(marker_len);
            let cut = s.char_indices().nth(keep).map_or(s.len(), |(i, _)| i);
            Some(format!("{}…[truncated {} chars]", &s[..cut], total - keep))
        }
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
    fn truncation_fits_the_limit_and_is_stable() {
        let s = "é".repeat(5000);
        let t = truncate(&s, Limit::Bytes(1000)).unwrap();
        assert!(t.len() <= 1000 && t.ends_with("bytes]"), "{}", t.len());
        assert!(truncate(&t, Limit::Bytes(1000)).is_none());
        let c = truncate(&s, Limit::Chars(100)).unwrap();
        assert_eq!(c.chars().count(), 100);
        assert!(truncate(&c, Limit::Chars(100)).is_none());
    }
}
