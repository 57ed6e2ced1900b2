//! Released spans as OTLP `TracesData` bytes, written from the held bytes without decoding
//! or re-encoding a span: one `ResourceSpans` per shared resource and one `ScopeSpans` per
//! shared scope, in first-seen order.

use std::collections::HashMap;
use std::sync::Arc;

use prost::encoding::{encode_varint, encoded_len_varint};

use super::stored::StoredGroup;
use super::trace::{ResourceHdr, ScopeHdr};

/// Field keys (field number << 3 | length-delimited): 1, 2 and 3 of each message.
const FIELD_1: u8 = 0x0a;
const FIELD_2: u8 = 0x12;
const FIELD_3: u8 = 0x1a;

fn field_len(body: usize) -> usize {
    1 + encoded_len_varint(body as u64) + body
}

fn optional_len(body: &[u8]) -> usize {
    if body.is_empty() {
        0
    } else {
        field_len(body.len())
    }
}

fn put_header(out: &mut Vec<u8>, key: u8, len: usize) {
    out.push(key);
    encode_varint(len as u64, out);
}

fn put_optional(out: &mut Vec<u8>, key: u8, body: &[u8]) {
    if !body.is_empty() {
        put_header(out, key, body.len());
        out.extend_from_slice(body);
    }
}

struct ScopeOut<'g> {
    scope: &'g ScopeHdr,
    /// Runs of framed spans (src/sampling/stored.rs), written as they are.
    framed: Vec<&'g [u8]>,
}

impl ScopeOut<'_> {
    /// The encoded `ScopeSpans` body length.
    fn body_len(&self) -> usize {
        optional_len(&self.scope.raw)
            + self.framed.iter().map(|f| f.len()).sum::<usize>()
            + optional_len(&self.scope.raw_schema_url)
    }
}

struct ResourceOut<'g> {
    resource: &'g ResourceHdr,
    scopes: Vec<ScopeOut<'g>>,
}

impl ResourceOut<'_> {
    fn body_len(&self) -> usize {
        optional_len(&self.resource.raw)
            + self
                .scopes
                .iter()
                .map(|s| field_len(s.body_len()))
                .sum::<usize>()
            + optional_len(&self.resource.raw_schema_url)
    }
}

/// Writes `groups` as one `TracesData` message.
pub fn encode(groups: &[StoredGroup]) -> Vec<u8> {
    let mut resources: Vec<ResourceOut<'_>> = Vec::new();
    let mut rs_index: HashMap<*const ResourceHdr, usize> = HashMap::new();
    let mut ss_index: HashMap<(*const ResourceHdr, *const ScopeHdr), (usize, usize)> =
        HashMap::new();
    for g in groups {
        let rkey = Arc::as_ptr(&g.resource);
        let skey = (rkey, Arc::as_ptr(&g.scope));
        if let Some(&(r, s)) = ss_index.get(&skey) {
            resources[r].scopes[s].framed.push(g.framed());
            continue;
        }
        let r = *rs_index.entry(rkey).or_insert_with(|| {
            resources.push(ResourceOut {
                resource: &g.resource,
                scopes: Vec::new(),
            });
            resources.len() - 1
        });
        resources[r].scopes.push(ScopeOut {
            scope: &g.scope,
            framed: vec![g.framed()],
        });
        ss_index.insert(skey, (r, resources[r].scopes.len() - 1));
    }
    let total: usize = resources.iter().map(|r| field_len(r.body_len())).sum();
    let mut out = Vec::with_capacity(total);
    for r in &resources {
        put_header(&mut out, FIELD_1, r.body_len());
        put_optional(&mut out, FIELD_1, &r.resource.raw);
        for s in &r.scopes {
            put_header(&mut out, FIELD_2, s.body_len());
            put_optional(&mut out, FIELD_1, &s.scope.raw);
            for run in &s.framed {
                out.extend_from_slice(run);
            }
            put_optional(&mut out, FIELD_3, &s.scope.raw_schema_url);
        }
        put_optional(&mut out, FIELD_3, &r.resource.raw_schema_url);
    }
    debug_assert_eq!(out.len(), total);
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::otlp::{kv_int, kv_str};
    use opentelemetry_proto::tonic::common::v1::InstrumentationScope;
    use opentelemetry_proto::tonic::resource::v1::Resource;
    use opentelemetry_proto::tonic::trace::v1::{ResourceSpans, ScopeSpans, Span, TracesData};
    use prost::Message;

    fn span(trace: u8, name: &str) -> Span {
        Span {
            trace_id: vec![trace; 16],
            span_id: vec![trace, 1, 2, 3, 4, 5, 6, 7],
            name: name.into(),
            attributes: vec![kv_int("n", trace as i64)],
            ..Default::default()
        }
    }

    fn group(r: &Arc<ResourceHdr>, s: &Arc<ScopeHdr>, spans: &[Span]) -> StoredGroup {
        let mut g = StoredGroup::new(r, s);
        for span in spans {
            g.push(&span.encode_to_vec(), 0);
        }
        g
    }

    #[test]
    fn groups_are_merged_by_resource_and_scope_in_first_seen_order() {
        let resource = Resource {
            attributes: vec![kv_str("service.name", "svc")],
            ..Default::default()
        };
        let scope = InstrumentationScope {
            name: "lib".into(),
            version: "1".into(),
            ..Default::default()
        };
        let r1 = Arc::new(ResourceHdr::new(Some(resource.clone()), "https://r".into()));
        let r2 = Arc::new(ResourceHdr::new(None, String::new()));
        let s1 = Arc::new(ScopeHdr::new(Some(scope.clone()), "https://s".into()));
        let s2 = Arc::new(ScopeHdr::new(None, String::new()));
        let (a, b, c, d) = (span(1, "a"), span(2, "b"), span(3, "c"), span(4, "d"));
        let groups = vec![
            group(&r1, &s1, std::slice::from_ref(&a)),
            group(&r2, &s2, std::slice::from_ref(&b)),
            group(&r1, &s2, std::slice::from_ref(&c)),
            group(&r1, &s1, std::slice::from_ref(&d)),
        ];
        let bytes = encode(&groups);
        let expected = TracesData {
            resource_spans: vec![
                ResourceSpans {
                    resource: Some(resource),
                    scope_spans: vec![
                        ScopeSpans {
                            scope: Some(scope),
                            spans: vec![a, d],
                            schema_url: "https://s".into(),
                        },
                        ScopeSpans {
                            scope: None,
                            spans: vec![c],
                            schema_url: String::new(),
                        },
                    ],
                    schema_url: "https://r".into(),
                },
                ResourceSpans {
                    resource: None,
                    scope_spans: vec![ScopeSpans {
                        scope: None,
                        spans: vec![b],
                        schema_url: String::new(),
                    }],
                    schema_url: String::new(),
                },
            ],
        };
        assert_eq!(TracesData::decode(bytes.as_slice()).unwrap(), expected);
        assert!(encode(&[]).is_empty());
    }

    #[test]
    fn held_bytes_go_out_unchanged_even_when_not_utf8() {
        let mut raw = span(9, "chat-XX").encode_to_vec();
        let at = raw.windows(2).position(|w| w == b"XX").unwrap();
        raw[at..at + 2].copy_from_slice(b"\xff\xfe");
        let r = Arc::new(ResourceHdr::new(None, String::new()));
        let s = Arc::new(ScopeHdr::new(None, String::new()));
        let mut g = StoredGroup::new(&r, &s);
        g.push(&raw, raw.len());
        let out = encode(&[g]);
        let read = crate::otlp::read_traces(&out).unwrap();
        assert_eq!(read.spans().next().unwrap().raw(), &raw[..]);
    }
}
