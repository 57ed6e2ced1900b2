//! Tail sampling: contrib `tail_sampling` semantics plus GenAI policies, with a byte budget.
//!
//! - [`config`]: the configuration (contrib keys verbatim, durations as Go strings or ns).
//! - [`trace`]: a buffered trace (owned spans grouped under shared resource/scope handles).
//! - [`decision`]: policy decisions and contrib's precedence when folding them.
//! - [`policy`]: contrib's policy evaluators; [`genai_policy`]: ours.
//! - [`probabilistic`], [`limiter`]: contrib-compatible hashing and token buckets.
//! - [`cache`]: decision caches for late spans.
//! - [`store`]: the sharded buffer; [`sampler`]: ingest / release.
//! - [`telemetry`]: the sampler's own counters and gauges.

pub mod cache;
pub mod config;
pub mod decision;
pub mod genai_policy;
pub mod limiter;
pub mod policy;
pub mod probabilistic;
pub mod sampler;
pub mod store;
pub mod telemetry;
pub mod trace;

pub use config::SamplingConfig;
pub use decision::FinalDecision;
pub use sampler::{IngestOutcome, Sampler};
pub use telemetry::SamplingSnapshot;

#[cfg(test)]
mod tests;
