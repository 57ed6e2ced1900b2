//! Tail sampling: contrib `tail_sampling` semantics plus GenAI policies, with a byte budget.
//!
//! - [`config`]: the configuration (contrib keys verbatim, durations as Go strings or ns).
//! - [`stored`]: a buffered trace (each span's encoded bytes, under shared resource/scope
//!   handles, see [`trace`]); [`view`]: the same bytes read in place for the policies at
//!   decision time.
//! - [`decision`]: policy decisions and contrib's precedence when folding them.
//! - [`policy`]: contrib's policy evaluators; [`genai_policy`]: ours.
//! - [`probabilistic`], [`limiter`]: contrib-compatible hashing and token buckets.
//! - [`cache`]: decision caches for late spans.
//! - [`store`]: the sharded buffer; [`sampler`]: ingest / release; [`output`]: released
//!   spans written as OTLP bytes from the held bytes.
//! - [`telemetry`]: the sampler's own counters and gauges.
//!
//! Use: `Sampler::from_json(cfg)?`, then `ingest_read(&read_batch, now)` (or
//! `ingest(decoded_batch, now)`) per batch (the batch is held: report `Disposition::Held`), `release_bytes(now, false)` on a ticker, and
//! `release_bytes(now, true)` at shutdown. `stats()` serialises with serde.
//!
//! Configuration: contrib's `tail_sampling` YAML converted to JSON with the same keys, e.g.
//! ```json
//! {"decision_wait": "10s", "num_traces": 50000, "max_buffered_bytes": 268435456,
//!  "decision_cache": {"sampled_cache_size": 100000, "non_sampled_cache_size": 100000},
//!  "policies": [
//!    {"name": "no-health", "type": "drop", "drop": {"drop_sub_policy": [
//!      {"name": "h", "type": "string_attribute",
//!       "string_attribute": {"key": "url.path", "values": ["/health"]}}]}},
//!    {"name": "errors", "type": "status_code", "status_code": {"status_codes": ["ERROR"]}},
//!    {"name": "llm-errors", "type": "genai_error"},
//!    {"name": "expensive", "type": "genai_cost", "genai_cost": {"threshold_usd": 0.05}},
//!    {"name": "rest", "type": "probabilistic", "probabilistic": {"sampling_percentage": 10}}]}
//! ```

pub mod cache;
pub mod config;
pub mod decision;
pub mod genai_policy;
pub mod limiter;
pub mod output;
pub mod policy;
pub mod probabilistic;
pub mod sampler;
pub mod store;
pub mod stored;
pub mod telemetry;
pub mod trace;
pub mod trace_cost;
pub mod view;

pub use config::SamplingConfig;
pub use decision::FinalDecision;
pub use sampler::{IngestOutcome, Sampler};
pub use telemetry::{PolicyCounts, SamplingSnapshot};

#[cfg(test)]
mod equivalence;
#[cfg(test)]
mod tests;
