//! Span identities and counts: how the targets prove that nothing is lost or duplicated
//! (invariant 1: spans in = spans out + spans dropped by decision + spans still held).

use std::collections::BTreeMap;

use tollbooth::otlp::read_traces;

/// A span as the sampler must keep it: its trace and span ID (its attributes may be edited).
pub type SpanKey = (Vec<u8>, Vec<u8>);

/// How many times each span key occurs.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct SpanBag(BTreeMap<SpanKey, u64>);

impl SpanBag {
    /// The spans of an OTLP batch the engine accepted, read with the borrowed reader (which
    /// accepts everything pdata can hold). Panics when the reader refuses the batch.
    pub fn of_batch(bytes: &[u8]) -> SpanBag {
        let t = read_traces(bytes).expect("the engine accepted a batch the reader refuses");
        let mut bag = SpanBag::default();
        for s in t.spans() {
            bag.add((s.trace_id().to_vec(), s.span_id().to_vec()), 1);
        }
        bag
    }

    /// The spans of released output; empty bytes mean nothing was released. Read with the
    /// borrowed reader: the sampler releases spans as the bytes they arrived as, so a string
    /// that is not UTF-8 (which pdata carries and prost refuses) leaves as it came. Panics when
    /// the output is not well-formed OTLP.
    pub fn of_release(bytes: &[u8]) -> SpanBag {
        let t = read_traces(bytes).expect("released traces read as OTLP");
        let mut bag = SpanBag::default();
        for s in t.spans() {
            bag.add((s.trace_id().to_vec(), s.span_id().to_vec()), 1);
        }
        bag
    }

    pub fn add(&mut self, key: SpanKey, n: u64) {
        *self.0.entry(key).or_default() += n;
    }

    pub fn merge(&mut self, other: &SpanBag) {
        for (k, n) in &other.0 {
            self.add(k.clone(), *n);
        }
    }

    pub fn total(&self) -> u64 {
        self.0.values().sum()
    }

    /// Panics when `self` holds a span more often than `input` did (a duplicate or an
    /// invented span).
    pub fn assert_within(&self, input: &SpanBag) {
        for (k, n) in &self.0 {
            let had = input.0.get(k).copied().unwrap_or(0);
            assert!(
                *n <= had,
                "span {:02x?}/{:02x?} released {n} times, received {had} times",
                k.0,
                k.1
            );
        }
    }
}
