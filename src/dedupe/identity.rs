//! What identifies one model call across the spans that report it.
//!
//! The engine fills a [`CallIdentity`] from a span's facts; the window compares hashes of its
//! parts, so memory per remembered call is fixed whatever the strings are.

use std::cmp::Ordering;
use std::hash::{Hash, Hasher};

/// One span that reports a model call with usage, as the exactly-once stage sees it.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct CallIdentity<'a> {
    /// `service.name` of the span's resource.
    pub service: &'a str,
    /// Provider in the latest OTel spelling, or as written; empty when unknown.
    pub provider: &'a str,
    /// Response model when known, else request model.
    pub model: Option<&'a str>,
    /// The provider's response id (`gen_ai.response.id` or a convention's equivalent).
    pub response_id: Option<&'a str>,
    /// Token totals in spec semantics (input includes cache, output includes reasoning).
    pub input_tokens: u64,
    pub output_tokens: u64,
    /// How much usage detail the span carries (see [`detail_score`]).
    pub detail: u8,
    pub start_ns: u64,
    pub end_ns: u64,
    /// The span id, for a stable tie-break.
    pub span_id: &'a [u8],
    pub trace_id: &'a [u8],
    /// The span has no parent: it started its trace.
    pub is_root: bool,
}

/// Scores a span's usage detail: each fact it reports that another span of the same call may
/// lack. The richer span is the one priced when both arrive together, so its cost is the
/// closer to the bill.
pub fn detail_score(
    has_response_id: bool,
    cache_read: u64,
    cache_write: u64,
    cache_write_1h: u64,
    reasoning: u64,
    has_duration: bool,
) -> u8 {
    [
        has_response_id,
        cache_read > 0,
        cache_write > 0,
        cache_write_1h > 0,
        reasoning > 0,
        // A zero-length span is a usage log, not the call: its duration means nothing.
        has_duration,
        has_duration,
    ]
    .iter()
    .filter(|b| **b)
    .count() as u8
}

impl CallIdentity<'_> {
    /// Batch preference order: more detail first, then the earlier end, then span id.
    pub fn preference_cmp(&self, other: &Self) -> Ordering {
        other
            .detail
            .cmp(&self.detail)
            .then(self.end_ns.cmp(&other.end_ns))
            .then(self.span_id.cmp(other.span_id))
    }

    pub(crate) fn id_key(&self) -> Option<u64> {
        let id = self.response_id.filter(|s| !s.is_empty())?;
        let mut h = hasher();
        self.service.hash(&mut h);
        id.hash(&mut h);
        Some(h.finish())
    }

    pub(crate) fn fingerprint_key(&self) -> u64 {
        let mut h = hasher();
        self.service.hash(&mut h);
        self.input_tokens.hash(&mut h);
        self.output_tokens.hash(&mut h);
        h.finish()
    }

    pub(crate) fn trace_key(&self) -> u64 {
        let mut h = hasher();
        self.trace_id.hash(&mut h);
        h.finish()
    }

    /// Zero when the provider is unknown (compatible with any).
    pub(crate) fn provider_key(&self) -> u64 {
        str_key(self.provider)
    }

    /// Zero when the model is unknown (compatible with any).
    pub(crate) fn model_key(&self) -> u64 {
        self.model.map_or(0, |m| str_key(model_family(m)))
    }
}

/// Fixed-key SipHash: the same input gives the same key in every process and run.
fn hasher() -> std::collections::hash_map::DefaultHasher {
    std::collections::hash_map::DefaultHasher::new()
}

fn str_key(s: &str) -> u64 {
    if s.is_empty() {
        return 0;
    }
    let mut h = hasher();
    for b in s.bytes() {
        h.write_u8(b.to_ascii_lowercase());
    }
    // Never zero: zero means "unknown".
    h.finish() | 1
}

/// The model name without what differs between two spans of one call: a routing prefix
/// (`openai/gpt-4o`) and a date suffix (`gpt-4o-2024-08-06`, `claude-sonnet-4-5-20250929`):
/// one span often has the request model, the other the dated response model.
pub fn model_family(model: &str) -> &str {
    let m = model.rsplit('/').next().unwrap_or(model);
    strip_date(m)
}

fn strip_date(m: &str) -> &str {
    let b = m.as_bytes();
    let digits = |s: &[u8]| s.iter().all(u8::is_ascii_digit);
    // -YYYY-MM-DD
    if b.len() > 11 {
        let t = &b[b.len() - 11..];
        if t[0] == b'-'
            && digits(&t[1..5])
            && t[5] == b'-'
            && digits(&t[6..8])
            && t[8] == b'-'
            && digits(&t[9..11])
        {
            return &m[..m.len() - 11];
        }
    }
    // -YYYYMMDD or @YYYYMMDD
    if b.len() > 9 {
        let t = &b[b.len() - 9..];
        if (t[0] == b'-' || t[0] == b'@') && digits(&t[1..]) && (t[1] == b'1' || t[1] == b'2') {
            return &m[..m.len() - 9];
        }
    }
    m
}
