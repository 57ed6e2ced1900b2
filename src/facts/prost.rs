//! Facts from prost-decoded spans: the one adapter from owned `KeyValue`s to the borrowed
//! `KeyValueRef`s the reader takes. Used where spans are still held decoded (the tail
//! sampler's buffer, tests, benches); the engine's per-batch pass reads the batch bytes.
//!
//! Array and key-value-list values are re-encoded once per attribute list into one buffer,
//! because `AnyRef` carries them as encoded bodies.

use opentelemetry_proto::tonic::common::v1::{any_value, KeyValue};
use opentelemetry_proto::tonic::trace::v1::Span;
use prost::Message;

use super::{FactsConfig, ResourceFacts, ScopeInput, SpanFacts, SpanInput};
use crate::otlp::{AnyRef, KeyValueRef};

/// One attribute list, ready to be read as `KeyValueRef`s.
#[derive(Debug)]
pub struct Attrs<'a> {
    attrs: &'a [KeyValue],
    nested: Vec<u8>,
}

impl<'a> Attrs<'a> {
    pub fn new(attrs: &'a [KeyValue]) -> Attrs<'a> {
        let mut nested = Vec::new();
        for kv in attrs {
            // Encoding into a Vec cannot fail (it grows as needed).
            let _ = match kv.value.as_ref().and_then(|v| v.value.as_ref()) {
                Some(any_value::Value::ArrayValue(a)) => a.encode(&mut nested),
                Some(any_value::Value::KvlistValue(l)) => l.encode(&mut nested),
                _ => Ok(()),
            };
        }
        Attrs { attrs, nested }
    }

    pub fn iter(&self) -> Refs<'_> {
        Refs {
            attrs: self.attrs.iter(),
            nested: &self.nested,
        }
    }
}

/// The attributes as `KeyValueRef`s, in order.
#[derive(Debug, Clone)]
pub struct Refs<'a> {
    attrs: std::slice::Iter<'a, KeyValue>,
    /// The encoded bodies not yet handed out, in attribute order.
    nested: &'a [u8],
}

impl<'a> Iterator for Refs<'a> {
    type Item = KeyValueRef<'a>;

    fn next(&mut self) -> Option<KeyValueRef<'a>> {
        let kv = self.attrs.next()?;
        let mut body = |len: usize| {
            let (b, rest) = self.nested.split_at(len.min(self.nested.len()));
            self.nested = rest;
            b
        };
        let value = match kv.value.as_ref().and_then(|v| v.value.as_ref()) {
            None => AnyRef::Empty,
            Some(any_value::Value::StringValue(s)) => AnyRef::Str(s.as_bytes()),
            Some(any_value::Value::BoolValue(b)) => AnyRef::Bool(*b),
            Some(any_value::Value::IntValue(i)) => AnyRef::Int(*i),
            Some(any_value::Value::DoubleValue(d)) => AnyRef::Double(*d),
            Some(any_value::Value::BytesValue(b)) => AnyRef::Bytes(b),
            Some(any_value::Value::ArrayValue(a)) => AnyRef::Array(body(a.encoded_len())),
            Some(any_value::Value::KvlistValue(l)) => AnyRef::KvList(body(l.encoded_len())),
        };
        Some(KeyValueRef {
            key: kv.key.as_bytes(),
            value,
        })
    }
}

/// A prost span with its attributes prepared; its facts borrow it.
#[derive(Debug)]
pub struct PreparedSpan<'a> {
    span: &'a Span,
    attrs: Attrs<'a>,
    scope: ScopeInput<'a>,
}

impl<'a> PreparedSpan<'a> {
    pub fn new(span: &'a Span, scope_name: &'a str, scope_version: &'a str) -> PreparedSpan<'a> {
        PreparedSpan {
            span,
            attrs: Attrs::new(&span.attributes),
            scope: ScopeInput {
                name: scope_name.as_bytes(),
                version: scope_version.as_bytes(),
            },
        }
    }

    pub fn facts<'s>(&'s self, resource: &ResourceFacts<'s>, cfg: &FactsConfig) -> SpanFacts<'s> {
        let s = self.span;
        SpanFacts::read(
            SpanInput {
                name: s.name.as_bytes(),
                attributes: self.attrs.iter(),
                scope: self.scope,
                status_code: s.status.as_ref().map_or(0, |st| st.code),
                start_unix_nano: s.start_time_unix_nano,
                end_unix_nano: s.end_time_unix_nano,
            },
            resource,
            cfg,
        )
    }
}

/// The attributes as `KeyValueRef`s with array and key-value-list bodies left empty: for
/// readers of scalar values only (resource facts, metric dimensions), so nothing is encoded.
pub fn flat_refs(attrs: &[KeyValue]) -> Refs<'_> {
    Refs {
        attrs: attrs.iter(),
        nested: &[],
    }
}

/// The resource facts of a prost resource's attributes.
pub fn resource_facts<'a>(attrs: &'a [KeyValue], cfg: &FactsConfig) -> ResourceFacts<'a> {
    ResourceFacts::read(flat_refs(attrs), cfg)
}
