//! Aggregation of GenAI calls into OTLP metrics, counted before any sampling decision.
//!
//! The engine turns each recognised inference span into a [`CallRecord`] and feeds it to
//! [`Aggregator::record`]; the Go connector polls [`Aggregator::collect`] (through the engine)
//! every `metrics_flush_interval` and hands the OTLP `MetricsData` to a metrics pipeline.
//!
//! - [`names`]: metric names, units, labels (the contract with alerts and dashboards).
//! - [`record`]: the per-call input and exact money helpers.
//! - [`buckets`]: semconv bucket boundaries as integers.
//! - [`histogram`]: one histogram cell (exact explicit buckets, HDR for exponential).
//! - [`series`]: per-series tallies.
//! - [`aggregator`]: series lookup, cardinality limit, expiry, temporality.
//! - [`export`]: building the OTLP output.
//! - [`span`]: reading usage, timings, errors and extra dimensions from a span.

pub mod aggregator;
pub mod buckets;
pub mod export;
pub mod histogram;
pub mod names;
pub mod record;
pub mod series;
pub mod span;

#[cfg(test)]
mod tests;

pub use aggregator::{Aggregator, Snapshot};
pub use names::*;
pub use record::{pico_to_usd_f64, pico_usd_from_decimal, CallRecord, Cost, PICO_PER_USD};
