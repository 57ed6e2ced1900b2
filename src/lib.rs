//! Tollbooth: the GenAI telemetry engine behind an OpenTelemetry Collector component.
//!
//! The Go side (`go-shim/`) marshals each `ptrace.Traces` batch once and hands the bytes to
//! [`engine::Engine`] through the C ABI in [`ffi`]. Stateless stages answer with an [`edits`]
//! list that Go applies to the pdata it already holds; stateful stages keep data in Rust and
//! give it back when Go polls. Every stage is a plain Rust module, testable without the ABI.
//!
//! Module map (one idea each):
//! - [`config`]: the engine configuration the Go side serialises as JSON.
//! - [`otlp`]: decoding OTLP bytes and reading attributes.
//! - [`facts`]: what each span says about a GenAI call, read once from one alias table.
//! - [`edits`]: the binary edit list returned to Go.
//! - [`metrics`]: aggregation of GenAI calls into OTLP metrics.
//! - [`sampling`]: tail sampling (buffer by trace ID, decide on release).
//! - [`redact`]: contrib-compatible redaction, secret/PII detectors, GenAI content policy.
//! - [`stats`]: the engine's own counters.
//! - [`money`]: exact USD arithmetic.
//! - [`pricing`]: price tables (native and LiteLLM), model matching, cost arithmetic.
//! - [`cost`]: the cost stage: usage + prices → span edits and a call summary.
//! - [`engine`]: runs the configured stages over a batch.
//! - [`ffi`]: the C ABI (panic boundary, owned buffers, status codes).

pub mod config;
pub mod cost;
pub mod dedupe;
pub mod edits;
pub mod engine;
pub mod facts;
pub mod ffi;
pub mod heap;
pub mod metrics;
pub mod money;
pub mod otlp;
pub mod pricing;
pub mod redact;
pub mod sampling;
pub mod stats;

pub use engine::Engine;
