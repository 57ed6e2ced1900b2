//! Trace IDs and the shared handles to a batch's resource and scope that every held span
//! of the batch points to.
//!
//! A batch's resource and scope are wrapped in an `Arc` once per batch and shared by every
//! trace that has spans under them, so buffering a span costs the span itself, not another
//! copy of its resource (contrib deep-copies both per trace). The buffer itself holds spans
//! as bytes (src/sampling/stored.rs), which the policies read in place (src/sampling/view.rs).

use opentelemetry_proto::tonic::common::v1::InstrumentationScope;
use opentelemetry_proto::tonic::resource::v1::Resource;
use prost::Message;

/// A trace ID as the map key; IDs of another length are zero-padded or truncated.
pub type TraceId = [u8; 16];

/// Converts a span's trace-id bytes to the key type.
pub fn trace_id_of(bytes: &[u8]) -> TraceId {
    let mut id = [0u8; 16];
    let n = bytes.len().min(16);
    id[..n].copy_from_slice(&bytes[..n]);
    id
}

/// Encoded size of a length-delimited field with a one-byte tag.
pub(crate) fn field_len(len: usize) -> usize {
    1 + prost::length_delimiter_len(len) + len
}

/// The resource half of a `ResourceSpans`, shared by all traces of one batch: decoded for
/// the policies, and as its encoded bytes for the release, which copies them unchanged.
#[derive(Debug, Default)]
pub struct ResourceHdr {
    pub resource: Option<Resource>,
    pub schema_url: String,
    /// The encoded `Resource` message (empty when the batch had none).
    pub raw: Box<[u8]>,
    /// The encoded schema URL, bytes as sent.
    pub raw_schema_url: Box<[u8]>,
    /// Bytes the resource and schema URL add inside an encoded `ResourceSpans`.
    pub encoded_len: usize,
}

/// The scope half of a `ScopeSpans`, shared by all traces of one batch (as [`ResourceHdr`]).
#[derive(Debug, Default)]
pub struct ScopeHdr {
    pub scope: Option<InstrumentationScope>,
    pub schema_url: String,
    /// The encoded `InstrumentationScope` message (empty when the batch had none).
    pub raw: Box<[u8]>,
    pub raw_schema_url: Box<[u8]>,
    /// Bytes the scope and schema URL add inside an encoded `ScopeSpans`.
    pub encoded_len: usize,
}

/// Bytes an optional message and a schema URL add inside their parent message.
fn header_len(raw: &[u8], schema_url: &[u8]) -> usize {
    let msg = if raw.is_empty() {
        0
    } else {
        field_len(raw.len())
    };
    msg + if schema_url.is_empty() {
        0
    } else {
        field_len(schema_url.len())
    }
}

impl ResourceHdr {
    /// From a decoded resource (encoded here once, for the release).
    pub fn new(resource: Option<Resource>, schema_url: String) -> Self {
        let raw = resource
            .as_ref()
            .map(|r| r.encode_to_vec())
            .unwrap_or_default();
        ResourceHdr::from_parts(resource, raw.into(), schema_url.as_bytes().into())
    }

    /// From the encoded bytes as read, with their decoded (or lossily copied) form.
    pub fn from_parts(resource: Option<Resource>, raw: Box<[u8]>, schema_url: Box<[u8]>) -> Self {
        ResourceHdr {
            encoded_len: header_len(&raw, &schema_url),
            resource,
            schema_url: String::from_utf8_lossy(&schema_url).into_owned(),
            raw,
            raw_schema_url: schema_url,
        }
    }

    /// The resource attributes (empty when there is no resource).
    pub fn attributes(&self) -> &[opentelemetry_proto::tonic::common::v1::KeyValue] {
        self.resource
            .as_ref()
            .map(|r| r.attributes.as_slice())
            .unwrap_or(&[])
    }
}

impl ScopeHdr {
    /// From a decoded scope (encoded here once, for the release).
    pub fn new(scope: Option<InstrumentationScope>, schema_url: String) -> Self {
        let raw = scope
            .as_ref()
            .map(|s| s.encode_to_vec())
            .unwrap_or_default();
        ScopeHdr::from_parts(scope, raw.into(), schema_url.as_bytes().into())
    }

    /// From the encoded bytes as read, with their decoded (or lossily copied) form.
    pub fn from_parts(
        scope: Option<InstrumentationScope>,
        raw: Box<[u8]>,
        schema_url: Box<[u8]>,
    ) -> Self {
        ScopeHdr {
            encoded_len: header_len(&raw, &schema_url),
            scope,
            schema_url: String::from_utf8_lossy(&schema_url).into_owned(),
            raw,
            raw_schema_url: schema_url,
        }
    }
}

/// Fixed per-trace bookkeeping (map entry, queues, cache entry).
pub const TRACE_OVERHEAD_BYTES: u64 = 160;
