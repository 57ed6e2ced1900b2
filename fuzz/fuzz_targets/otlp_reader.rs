//! The borrowed OTLP reader (src/otlp/reader.rs) on arbitrary bytes.
//!
//! Asserts: it never panics; everything it indexes can be walked (nested arrays and
//! key-value lists included); it reads every batch prost decodes once re-encoded (the reader
//! takes a superset: invalid UTF-8 too), and where both read the same bytes they see the same
//! spans in the same order, each with the same IDs, name, times and numbers of attributes,
//! events and links.
#![no_main]

use libfuzzer_sys::fuzz_target;
use opentelemetry_proto::tonic::trace::v1::TracesData;
use prost::Message;
use tollbooth::otlp::{array_values, kvlist_entries, read_traces, AnyRef, KeyValueRef};

/// Visits a value and everything nested in it; returns how many values it saw.
fn walk(v: AnyRef, depth: u32) -> u64 {
    assert!(depth < 10_000, "nesting beyond any batch size");
    1 + match v {
        AnyRef::Array(body) => array_values(body).map(|x| walk(x, depth + 1)).sum(),
        AnyRef::KvList(body) => walk_all(kvlist_entries(body), depth + 1),
        AnyRef::Str(_) => {
            let _ = v.text();
            0
        }
        _ => 0,
    }
}

fn walk_all<'a>(attrs: impl IntoIterator<Item = KeyValueRef<'a>>, depth: u32) -> u64 {
    attrs.into_iter().map(|kv| walk(kv.value, depth)).sum()
}

/// What both representations must agree on for one span.
type Shape = (Vec<u8>, Vec<u8>, Vec<u8>, u64, u64, usize, usize, usize);

fuzz_target!(|data: &[u8]| {
    let decoded = TracesData::decode(data);
    if let Ok(td) = &decoded {
        // Whatever pdata can hold, encoded as an encoder writes it, reads. (The raw bytes may
        // hold what no encoder writes, such as deprecated groups in unknown fields.)
        let canonical = td.encode_to_vec();
        assert!(
            read_traces(&canonical).is_ok(),
            "a canonical encoding is refused"
        );
    }
    let Ok(t) = read_traces(data) else { return };

    let mut from_reader: Vec<Shape> = Vec::new();
    for rs in t.resource_spans() {
        walk_all(rs.resource_attributes().iter().copied(), 0);
        for ss in rs.scope_spans() {
            assert_eq!(ss.resource_index(), rs.index());
            walk_all(ss.scope_attributes().iter().copied(), 0);
            for s in ss.spans() {
                assert_eq!(s.position(), (rs.index(), ss.index(), s.index()));
                walk_all(s.attributes().iter().copied(), 0);
                let events: Vec<_> = s.events().collect();
                let links: Vec<_> = s.links().collect();
                for e in &events {
                    walk_all(e.attributes().iter().copied(), 0);
                }
                for l in &links {
                    walk_all(l.attributes().iter().copied(), 0);
                }
                let _ = s.status();
                from_reader.push((
                    s.trace_id().to_vec(),
                    s.span_id().to_vec(),
                    s.name().to_vec(),
                    s.start_time_unix_nano(),
                    s.end_time_unix_nano(),
                    s.attributes().len(),
                    events.len(),
                    links.len(),
                ));
            }
        }
    }
    assert_eq!(from_reader.len(), t.span_count());
    assert_eq!(t.spans().count(), t.span_count());

    let Ok(td) = decoded else { return };
    let from_prost: Vec<Shape> = td
        .resource_spans
        .iter()
        .flat_map(|rs| &rs.scope_spans)
        .flat_map(|ss| &ss.spans)
        .map(|s| {
            (
                s.trace_id.clone(),
                s.span_id.clone(),
                s.name.as_bytes().to_vec(),
                s.start_time_unix_nano,
                s.end_time_unix_nano,
                s.attributes.len(),
                s.events.len(),
                s.links.len(),
            )
        })
        .collect();
    assert_eq!(from_reader, from_prost);
});
