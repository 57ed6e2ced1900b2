//! Exactly-once accounting: one model call is priced and counted once, however many spans
//! report it.
//!
//! Instrumentations stack: a framework span (pydantic-ai, LangChain) wraps a provider-SDK
//! span (logfire, OpenInference, the anthropic SDK's own tracing), and each carries the same
//! usage. Sometimes the pair is not even in one trace (OpenInference's LangChain instrumentor
//! does not make its span current, so the OpenAI span under it starts a trace of its own).
//! This module decides, span by span, whether a call was already seen:
//!
//! 1. **Response id.** The provider's id for the response (`gen_ai.response.id` and each
//!    convention's spelling) names one call. Two spans of the same service and provider with
//!    the same id whose times overlap are the same call.
//! 2. **Fingerprint**, for spans without a shared id: same service, compatible provider and
//!    model family (date suffixes and routing prefixes ignored), the same input and output
//!    token totals, one span inside the other with end times within `time_slack` (a
//!    zero-length usage log at the end of a stream sits inside the call), in one trace or with
//!    one of them a trace root. Two spans that both carry response ids, and different ones,
//!    are never merged; calls made one after another never nest.
//!
//! Which span is "the" call: within one batch, the span with the most usage detail (see
//! [`CallIdentity::detail`]), then the earlier end, then the smaller span id. Across batches,
//! the one that arrived first: its price and metrics are already out when the second comes.
//! Exporters send spans as they end, so the innermost span (the provider SDK's, nearest the
//! wire) normally arrives first. docs/exactly-once.md has the rules and their limits.
//!
//! Memory: [`window::Window`] remembers recent calls as fixed-size hashed entries, bounded by
//! age, entry count and bytes, whatever the spans carry.

pub mod identity;
pub mod window;

use std::sync::Mutex;

use serde::Deserialize;

pub use identity::CallIdentity;
pub use window::{Window, WindowStats};

/// `dedupe` section of the engine configuration.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct DedupeConfig {
    /// Off: every span with usage is a call (the behaviour before exactly-once accounting).
    #[serde(default = "yes")]
    pub enabled: bool,
    /// How long a call is remembered, in seconds of collector time.
    #[serde(default = "default_window_seconds")]
    pub window_seconds: u64,
    /// Most calls remembered at once; the oldest are forgotten first (counted).
    #[serde(default = "default_max_entries")]
    pub max_entries: u64,
    /// Most bytes the remembered calls may take; the oldest are forgotten first (counted).
    #[serde(default = "default_max_bytes")]
    pub max_bytes: u64,
    /// How far apart, in milliseconds, the ends of two nested spans of one call may be.
    #[serde(default = "default_time_slack_ms")]
    pub time_slack_ms: u64,
}

fn yes() -> bool {
    true
}
fn default_window_seconds() -> u64 {
    300
}
fn default_max_entries() -> u64 {
    100_000
}
fn default_max_bytes() -> u64 {
    16 << 20
}
fn default_time_slack_ms() -> u64 {
    1_000
}

impl Default for DedupeConfig {
    fn default() -> Self {
        DedupeConfig {
            enabled: true,
            window_seconds: default_window_seconds(),
            max_entries: default_max_entries(),
            max_bytes: default_max_bytes(),
            time_slack_ms: default_time_slack_ms(),
        }
    }
}

impl DedupeConfig {
    /// Checks ranges; messages name the key and the fix.
    pub fn validate(&self) -> Result<(), String> {
        if !(1..=86_400).contains(&self.window_seconds) {
            return Err(format!(
                "dedupe.window_seconds must be between 1 and 86400 (default 300), got {}",
                self.window_seconds
            ));
        }
        if self.max_entries == 0 {
            return Err("dedupe.max_entries must be at least 1 (default 100000)".into());
        }
        if self.max_bytes < window::ENTRY_BYTES {
            return Err(format!(
                "dedupe.max_bytes must be at least {} (default 16777216), got {}",
                window::ENTRY_BYTES,
                self.max_bytes
            ));
        }
        if self.time_slack_ms > 60_000 {
            return Err(format!(
                "dedupe.time_slack_ms must be at most 60000 (default 1000), got {}",
                self.time_slack_ms
            ));
        }
        Ok(())
    }
}

/// What the window says about one span.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// The first span of this call: price and count it.
    First,
    /// Another span of a call already counted.
    Duplicate,
}

/// The engine's exactly-once stage: a window behind one short-held lock.
pub struct Deduper {
    window: Mutex<Window>,
}

impl Deduper {
    pub fn new(cfg: &DedupeConfig) -> Deduper {
        Deduper {
            window: Mutex::new(Window::new(cfg)),
        }
    }

    /// Judges one batch's calls: `calls[i]` gets `verdicts[i]`. Calls are compared in the
    /// batch's preference order (most detail first), so the same batch always keeps the same
    /// span. The lock is held for hash lookups only.
    pub fn judge(&self, calls: &[CallIdentity<'_>], now_ns: u64) -> Vec<Verdict> {
        let mut order: Vec<usize> = (0..calls.len()).collect();
        order.sort_by(|&a, &b| calls[a].preference_cmp(&calls[b]));
        let mut out = vec![Verdict::First; calls.len()];
        let mut w = self.window.lock().unwrap_or_else(|p| p.into_inner());
        w.expire(now_ns);
        for i in order {
            out[i] = w.observe(&calls[i], now_ns);
        }
        out
    }

    pub fn stats(&self) -> WindowStats {
        self.window
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .stats()
    }
}

#[cfg(test)]
mod tests;
