//! A held trace as the policies read it at decision time: the borrowed reader's index over
//! the held span bytes (src/otlp/reader.rs), with no decoded copy.
//!
//! Decoding a trace with prost for its decision cost most of the sampler's CPU and 1.3 to
//! 2.5 times the held bytes in memory (every key and value its own `String`). The index is
//! a few fixed-size entries per span and attribute, strings stay byte ranges of the held
//! groups, and a value that is not UTF-8 is read as the lossy text a policy compares, as
//! the decoded copy did.

use std::borrow::Cow;

use super::stored::{StoredGroup, StoredTrace};
use super::trace::TraceId;
use crate::facts::{FactsConfig, ResourceFacts, ScopeInput, SpanFacts, SpanInput};
use crate::otlp::{read_span_runs, AnyRef, KeyValueRef, ReadError, SpanRef, TracesRef};

/// One held trace, read in place.
pub struct TraceView<'t> {
    pub id: TraceId,
    pub span_count: u64,
    held: &'t StoredTrace,
    read: TracesRef<'t>,
}

impl<'t> TraceView<'t> {
    /// Reads the held groups. They were written by the store from spans it read or encoded,
    /// so an error means a bug, not hostile input; the caller keeps such a trace.
    pub fn of(t: &'t StoredTrace) -> Result<TraceView<'t>, ReadError> {
        let runs: Vec<&[u8]> = t.groups.iter().map(StoredGroup::framed).collect();
        Ok(TraceView {
            id: t.id,
            span_count: t.span_count,
            held: t,
            read: read_span_runs(&runs)?,
        })
    }

    /// Every span, in arrival order.
    pub fn spans(&self) -> impl Iterator<Item = SpanRef<'_, 't>> + '_ {
        self.read.spans()
    }

    /// The held groups, in order; span `(0, g, i)` of the index is span `i` of group `g`.
    pub fn groups(&self) -> &'t [StoredGroup] {
        &self.held.groups
    }

    /// The group a span of this view was read from.
    pub fn group_of(&self, span: &SpanRef<'_, 't>) -> &'t StoredGroup {
        &self.held.groups[span.position().1 as usize]
    }

    /// What `bytes_limiting` charges (see [`StoredTrace::otlp_size`]).
    pub fn otlp_size(&self) -> u64 {
        self.held.otlp_size()
    }

    /// The facts of every span, in span order. The resource is not read: no GenAI policy
    /// depends on it.
    pub fn facts(&self, cfg: &FactsConfig) -> Vec<SpanFacts<'_>> {
        let resource = ResourceFacts::default();
        self.spans()
            .map(|s| {
                let scope = self.group_of(&s).scope.scope.as_ref();
                SpanFacts::read(
                    SpanInput {
                        name: s.name(),
                        attributes: s.attributes().iter().copied(),
                        scope: ScopeInput {
                            name: scope.map_or(&[][..], |x| x.name.as_bytes()),
                            version: scope.map_or(&[][..], |x| x.version.as_bytes()),
                        },
                        status_code: s.status().code,
                        start_unix_nano: s.start_time_unix_nano(),
                        end_unix_nano: s.end_time_unix_nano(),
                    },
                    &resource,
                    cfg,
                )
            })
            .collect()
    }
}

/// True when attribute key bytes `k` name `key`. Bytes that are not UTF-8 compare as their
/// lossy text (what a decoded copy held), which only a key holding U+FFFD can equal.
pub fn key_is(k: &[u8], key: &str) -> bool {
    k == key.as_bytes() || (key.contains('\u{fffd}') && String::from_utf8_lossy(k) == key)
}

/// The value of the first attribute named `key`, as pdata's `Get` finds it.
pub fn attr<'a>(attrs: impl IntoIterator<Item = KeyValueRef<'a>>, key: &str) -> Option<AnyRef<'a>> {
    attrs
        .into_iter()
        .find(|kv| key_is(kv.key, key))
        .map(|kv| kv.value)
}

/// A string value as text (lossy); any other type reads as "" (pdata's `Str()`).
pub fn as_str(v: AnyRef<'_>) -> Cow<'_, str> {
    v.text().unwrap_or(Cow::Borrowed(""))
}
