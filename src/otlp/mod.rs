//! OTLP decoding and attribute access.
//!
//! Batches arrive as `TracesData` protobuf bytes (the same wire format as
//! `ExportTraceServiceRequest`) and are read in place ([`reader`]). prost validates UTF-8 in
//! string fields, which Go's pdata does not: where a stage still needs prost types and prost
//! refuses a batch Go accepted, it gets a lossy copy ([`owned`]).

pub mod owned;
pub mod reader;
pub mod value;
pub mod wire;

pub use owned::to_owned_lossy;
pub use reader::{
    any_value, array_values, kvlist_entries, read_span_runs, read_traces, EventRef, KvListEntries,
    LinkRef, ReadError, ResourceSpansRef, ScopeSpansRef, SpanRef, StatusRef, TracesRef,
    MAX_VALUE_DEPTH,
};
pub use value::{AnyRef, KeyValueRef};

use opentelemetry_proto::tonic::common::v1::{any_value, AnyValue, KeyValue};
use opentelemetry_proto::tonic::trace::v1::TracesData;
use prost::Message;

/// Why a batch could not be decoded.
#[derive(Debug)]
pub struct DecodeError(pub String);

impl std::fmt::Display for DecodeError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "OTLP traces decode failed: {}", self.0)
    }
}

impl std::error::Error for DecodeError {}

/// Decodes one OTLP traces batch.
pub fn decode_traces(bytes: &[u8]) -> Result<TracesData, DecodeError> {
    TracesData::decode(bytes).map_err(|e| DecodeError(e.to_string()))
}

/// Returns the value of the first attribute named `key`.
pub fn find<'a>(attrs: &'a [KeyValue], key: &str) -> Option<&'a any_value::Value> {
    attrs
        .iter()
        .find(|kv| kv.key == key)
        .and_then(|kv| kv.value.as_ref())
        .and_then(|v| v.value.as_ref())
}

/// Returns a string attribute, or `None` when absent or not a string.
pub fn find_str<'a>(attrs: &'a [KeyValue], key: &str) -> Option<&'a str> {
    match find(attrs, key) {
        Some(any_value::Value::StringValue(s)) => Some(s.as_str()),
        _ => None,
    }
}

/// Returns the first present string attribute among `keys`, in order.
pub fn first_str<'a>(attrs: &'a [KeyValue], keys: &[&str]) -> Option<&'a str> {
    keys.iter()
        .find_map(|k| find_str(attrs, k))
        .filter(|s| !s.is_empty())
}

/// Reads an integer attribute, accepting the spellings instrumentations really send:
/// int, double with no fraction, or a decimal string.
pub fn find_int(attrs: &[KeyValue], key: &str) -> Option<i64> {
    match find(attrs, key)? {
        any_value::Value::IntValue(i) => Some(*i),
        any_value::Value::DoubleValue(d) if d.fract() == 0.0 && d.is_finite() => Some(*d as i64),
        any_value::Value::StringValue(s) => s.trim().parse().ok(),
        _ => None,
    }
}

/// Builds a string `KeyValue` (used by tests and by stages that build OTLP output).
pub fn kv_str(key: &str, value: &str) -> KeyValue {
    KeyValue {
        key: key.to_string(),
        value: Some(AnyValue {
            value: Some(any_value::Value::StringValue(value.to_string())),
        }),
    }
}

/// Builds an integer `KeyValue`.
pub fn kv_int(key: &str, value: i64) -> KeyValue {
    KeyValue {
        key: key.to_string(),
        value: Some(AnyValue {
            value: Some(any_value::Value::IntValue(value)),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn find_int_accepts_int_double_and_string() {
        let attrs = vec![
            kv_int("a", 7),
            KeyValue {
                key: "b".into(),
                value: Some(AnyValue {
                    value: Some(any_value::Value::DoubleValue(12.0)),
                }),
            },
            kv_str("c", " 42 "),
            kv_str("d", "x"),
        ];
        assert_eq!(find_int(&attrs, "a"), Some(7));
        assert_eq!(find_int(&attrs, "b"), Some(12));
        assert_eq!(find_int(&attrs, "c"), Some(42));
        assert_eq!(find_int(&attrs, "d"), None);
        assert_eq!(find_int(&attrs, "missing"), None);
    }

    #[test]
    fn invalid_utf8_in_a_string_field_is_a_decode_error() {
        // TracesData{resource_spans:[{scope_spans:[{spans:[{name: 0xff}]}]}]}
        let span = [0x2a, 0x01, 0xff]; // field 5 (name), len 1, invalid byte
        let scope = [&[0x12, span.len() as u8][..], &span].concat();
        let rs = [&[0x12, scope.len() as u8][..], &scope].concat();
        let td = [&[0x0a, rs.len() as u8][..], &rs].concat();
        assert!(decode_traces(&td).is_err());
    }
}
