//! Shared pieces of the fuzz targets (fuzz_targets/*.rs): each target is a few lines over these.
//!
//! The targets drive the engine through its stable surfaces, the C ABI ([`abi`]) and the
//! public stage functions, so that internal rewrites change at most one module here.
//!
//! - [`abi`]: a safe owner of an engine handle, calling the exported `tollbooth_*` functions.
//! - [`input`]: a byte cursor and the splitting of one fuzz input into several batches.
//! - [`synth`]: GenAI batches built from fuzz bytes, so mutations explore the stages' logic
//!   rather than only the protobuf parser.
//! - [`spans`]: span identities and counts, to prove nothing is lost or duplicated.
//! - [`counters`]: "counters never decrease" over the engine's stats JSON.
//! - [`configs`]: the engine configurations the targets run.
//! - [`pricing`]: what must hold for any pricing file a loader accepts.

pub mod abi;
pub mod configs;
pub mod counters;
pub mod input;
pub mod pricing;
pub mod spans;
pub mod synth;
