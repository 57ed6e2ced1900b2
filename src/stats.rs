//! The engine's own counters, read by Go and reported as collector self-telemetry.
//!
//! Plain relaxed atomics: they are monotonic tallies read for reporting, never used to
//! synchronise anything.

use std::sync::atomic::{AtomicU64, Ordering};

use serde::Serialize;

macro_rules! counters {
    ($($(#[$doc:meta])* $name:ident),* $(,)?) => {
        /// Live counters, updated by the stages.
        #[derive(Default)]
        pub struct Stats { $($(#[$doc])* pub $name: AtomicU64,)* }

        /// A point-in-time copy, serialised as JSON across the ABI.
        #[derive(Debug, Default, Clone, PartialEq, Eq, Serialize)]
        pub struct Snapshot { $(pub $name: u64,)* }

        impl Stats {
            pub fn snapshot(&self) -> Snapshot {
                Snapshot { $($name: self.$name.load(Ordering::Relaxed),)* }
            }
        }
    };
}

counters! {
    /// Batches decoded and processed.
    batches_processed,
    /// Batches that are not protobuf at all (nothing pdata writes); the caller drops them when
    /// redaction is configured, and passes them on unchanged otherwise.
    batches_undecodable,
    /// Batches prost refused (strings that are not UTF-8, very deep nesting): redaction read
    /// them in place, the other stages read a lossy copy.
    batches_copied_lossily,
    /// Spans seen in processed batches.
    spans_processed,
    /// Spans recognised as GenAI spans (any level).
    genai_spans,
    /// Recognised spans that are model calls (inference level).
    genai_inference_spans,
    /// Edits returned to the caller.
    edits_emitted,
    /// Panics caught at the ABI boundary.
    panics_caught,
    /// Inference spans priced from the tables.
    cost_priced,
    /// Inference spans with usage whose model no table prices (visible on the span as
    /// `tollbooth.cost.status=unpriced`).
    cost_unpriced,
    /// Inference spans with no token usage to price.
    cost_no_usage,
    /// Inference spans that carried a provider-reported cost (kept; ours written beside it).
    cost_provider_reported,
    /// Pricing tables reloaded after their files changed.
    pricing_reloads,
    /// Pricing reloads that failed (the last good table stayed in use).
    pricing_reload_errors,
}

impl Stats {
    pub fn add(counter: &AtomicU64, n: u64) {
        counter.fetch_add(n, Ordering::Relaxed);
    }
}

/// Pricing state that is not a counter, merged into the stats JSON at the top level: the
/// lookup cache's size (bounded by `cost.pricing.cache_max_bytes`) and why the last
/// pricing reload failed, naming the file (absent after a good reload).
#[derive(Debug, Default, Clone, PartialEq, Eq, Serialize)]
pub struct PricingGauges {
    pub pricing_cache_entries: u64,
    pub pricing_cache_bytes: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pricing_last_reload_error: Option<String>,
}
