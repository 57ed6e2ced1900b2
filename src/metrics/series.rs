//! The tallies of one series (one dimension set) and how a call updates them.

use std::sync::Arc;

use super::buckets::{seconds_to_ns, Shape};
use super::histogram::Hist;
use super::record::CallRecord;

/// Index into the aggregator's table of distinct `error.type` values.
pub type ErrorId = u16;

/// Everything counted for one dimension set since its start (cumulative) or since the last
/// collect (delta).
#[derive(Debug, Clone)]
pub struct Tallies {
    pub requests: u64,
    /// Failed calls by error type; a handful at most, so a vector beats a map.
    pub errors: Vec<(ErrorId, u64)>,
    pub unpriced: u64,
    /// Priced calls: the cost point exists only when this is non-zero (never a fake $0).
    pub priced: u64,
    pub cost_pico_usd: i128,
    /// Exact totals in the order of `names::TOKEN_TYPES`.
    pub tokens: [u64; 5],
    pub input_tokens: Hist,
    pub output_tokens: Hist,
    /// Duration by error type (`None`: success), as semconv adds `error.type` to it.
    pub duration: Vec<(Option<ErrorId>, Hist)>,
    pub ttft: Hist,
    exponential: bool,
}

impl Tallies {
    pub fn new(exponential: bool) -> Tallies {
        Tallies {
            requests: 0,
            errors: Vec::new(),
            unpriced: 0,
            priced: 0,
            cost_pico_usd: 0,
            tokens: [0; 5],
            input_tokens: Hist::new(exponential),
            output_tokens: Hist::new(exponential),
            duration: Vec::new(),
            ttft: Hist::new(exponential),
            exponential,
        }
    }

    /// Adds one call. Allocates only the first time a series sees a given error type.
    /// Every sum saturates and a cost below zero adds nothing: counters never decrease.
    pub fn add(&mut self, call: &CallRecord<'_>, error: Option<ErrorId>) {
        self.requests = self.requests.saturating_add(1);
        if let Some(e) = error {
            match self.errors.iter_mut().find(|(id, _)| *id == e) {
                Some((_, n)) => *n = n.saturating_add(1),
                None => self.errors.push((e, 1)),
            }
        }
        if let Some(cost) = &call.cost {
            self.priced = self.priced.saturating_add(1);
            self.cost_pico_usd = self.cost_pico_usd.saturating_add(cost.pico_usd().max(0));
        } else if call.unpriced {
            self.unpriced = self.unpriced.saturating_add(1);
        }
        let mut add = |k: usize, t: u64| self.tokens[k] = self.tokens[k].saturating_add(t);
        if let Some(t) = call.input_tokens {
            add(0, t);
            self.input_tokens.record(Shape::Tokens, t);
        }
        if let Some(t) = call.output_tokens {
            add(1, t);
            self.output_tokens.record(Shape::Tokens, t);
        }
        add(2, call.cache_read_tokens);
        add(3, call.cache_write_tokens);
        add(4, call.reasoning_tokens);
        let ns = seconds_to_ns(call.duration_s);
        match self.duration.iter_mut().find(|(id, _)| *id == error) {
            Some((_, h)) => h.record(Shape::Seconds, ns),
            None => {
                let mut h = Hist::new(self.exponential);
                h.record(Shape::Seconds, ns);
                self.duration.push((error, h));
            }
        }
        if let Some(t) = call.ttft_s {
            self.ttft.record(Shape::Seconds, seconds_to_ns(t));
        }
    }

    /// Starts a new delta interval, keeping allocations for the next one.
    pub fn reset(&mut self) {
        self.requests = 0;
        self.errors.iter_mut().for_each(|e| e.1 = 0);
        self.unpriced = 0;
        self.priced = 0;
        self.cost_pico_usd = 0;
        self.tokens = [0; 5];
        self.input_tokens.reset();
        self.output_tokens.reset();
        self.duration.iter_mut().for_each(|d| d.1.reset());
        self.ttft.reset();
    }
}

/// One series: its dimension values, its times and its tallies.
#[derive(Debug, Clone)]
pub struct Series {
    /// Base dimensions then configured extras; `None` leaves the label off. Empty for the
    /// overflow series.
    pub dims: Box<[Option<Arc<str>>]>,
    pub hash: u64,
    /// Start of what the tallies cover: first call (cumulative) or previous collect (delta).
    pub start_unix_nano: u64,
    pub last_seen_unix_nano: u64,
    /// Whether a call arrived since the last collect (delta exports only those).
    pub touched: bool,
    pub tallies: Tallies,
}
