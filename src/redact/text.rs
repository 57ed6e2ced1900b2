//! Text: masking what `blocked_values` and the detectors find in one string, the JSON walk
//! that keeps JSON content valid JSON, and truncation. Shared by attribute values, nested
//! leaves, names and status messages.

use std::borrow::Cow;

use serde_json::Value as Json;

use super::counts::RedactionCounts;
use super::hashing::contrib_hash;
use super::{HashFunction, Redactor};

/// Prefix of content-policy hash tokens; a value already carrying one is not hashed again.
pub const HASH_TOKEN_PREFIX: &str = "hmac-sha256:";

/// JSON nested inside JSON strings (tool arguments inside messages) is walked this deep.
const MAX_JSON_DEPTH: u8 = 3;

/// How much of a text is kept.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Limit {
    None,
    Bytes(usize),
    Chars(usize),
}

/// Bytes as text, each invalid sequence as U+FFFD. Borrows when they are UTF-8, checked by the
/// standard library's fast validator first (the lossy decoder is several times slower, and
/// almost every value is valid).
pub(crate) fn lossy(b: &[u8]) -> Cow<'_, str> {
    match std::str::from_utf8(b) {
        Ok(s) => Cow::Borrowed(s),
        Err(_) => String::from_utf8_lossy(b),
    }
}

impl Redactor {
    pub(super) fn is_value_allowed(&self, v: &str) -> bool {
        self.allowed_values.iter().any(|r| r.is_match(v))
    }

    /// contrib's replacement for one match: `****`, or the configured hash.
    fn mask_token(&self, m: &str) -> String {
        match self.hash_function {
            HashFunction::None => "****".to_string(),
            f => contrib_hash(f, &self.key, m),
        }
    }

    /// Masks a whole value (blocked key): every `.*` match, as contrib does.
    pub(super) fn mask_whole(&self, v: &str) -> String {
        self.mask_all
            .replace_all(v, |c: &regex::Captures| self.mask_token(&c[0]))
            .into_owned()
    }

    /// `blocked_values` in order, then the detectors. `None` when nothing matched.
    pub(super) fn mask_text(&self, s: &str, counts: &mut RedactionCounts) -> Option<String> {
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
    pub(super) fn text(
        &self,
        s: &str,
        limit: Limit,
        depth: u8,
        counts: &mut RedactionCounts,
    ) -> Option<(String, bool)> {
        let t = s.trim_start();
        let json_like = t.starts_with('{') || t.starts_with('[') || t.starts_with('"');
        if json_like
            && self.json_fast_path
            && !s.contains('\\')
            && !self.may_mask(s)
            && !self.has_sensitive_json_key(s)
        {
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

    /// Whether JSON text without escapes has an object key that is a sensitive key. Without
    /// escapes every `"` delimits a string, and a string followed by `:` is a key.
    fn has_sensitive_json_key(&self, s: &str) -> bool {
        if !self.sensitive.may_have_json_key(s) {
            return false;
        }
        let mut rest = s;
        while let Some(open) = rest.find('"') {
            let Some(len) = rest[open + 1..].find('"') else {
                return false;
            };
            let key = &rest[open + 1..open + 1 + len];
            rest = &rest[open + len + 2..];
            if rest.trim_start().starts_with(':') && self.is_key_sensitive(key.as_bytes()) {
                return true;
            }
        }
        false
    }

    /// Whether blocked values or detectors could change anything in `s`.
    pub(super) fn may_mask(&self, s: &str) -> bool {
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
    /// scalar values masked whole, sensitive keys their strings, arrays and objects.
    /// Structure (keys, roles, counts, tool names) is untouched.
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
                    if self.is_key_sensitive(k.as_bytes()) {
                        let whole = match x {
                            Json::String(s) => Some(std::mem::take(s)),
                            Json::Array(_) | Json::Object(_) => Some(String::new()),
                            _ => None,
                        };
                        if let Some(w) = whole {
                            counts.sensitive_values_masked += 1;
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
}

pub(super) fn is_hash_token(s: &str) -> bool {
    s.strip_prefix(HASH_TOKEN_PREFIX)
        .is_some_and(|h| h.len() == 64 && h.bytes().all(|b| b.is_ascii_hexdigit()))
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
