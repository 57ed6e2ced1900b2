//! Redaction through the ABI: a secret planted somewhere redaction must look (a span, event,
//! link, resource or scope attribute, inside an array or a key-value list, a content attribute,
//! a status message) never leaves the engine.
//!
//! Input: one byte choosing the engine (the default processor, a blocked-values processor, or
//! redaction in front of the tail sampler), one choosing the secret, then the bytes that build
//! the batch and choose where the secret goes. A forwarded batch is checked after its edits
//! are applied; a held one in what the sampler releases. A batch the engine cannot process is
//! forwarded unchanged by the Go side, so for a batch carrying a secret that is a bypass too.
//! Engines are shared across inputs (creating one compiles every detector).
#![no_main]

use libfuzzer_sys::fuzz_target;
use opentelemetry_proto::tonic::common::v1::{
    any_value::Value, AnyValue, ArrayValue, KeyValue, KeyValueList,
};
use opentelemetry_proto::tonic::resource::v1::Resource;
use opentelemetry_proto::tonic::trace::v1::span::{Event, Link};
use opentelemetry_proto::tonic::trace::v1::{ScopeSpans, Span, Status, TracesData};
use prost::Message;
use tollbooth::edits::{self, Disposition};
use tollbooth_fuzz::abi;
use tollbooth_fuzz::configs;
use tollbooth_fuzz::input::Cursor;
use tollbooth_fuzz::synth;

const BLOCKING: &str = r#"{"redaction": {"allow_all_keys": true, "blocked_values": ["tb-planted-4242"],
  "hash_function": "hmac-sha256", "hmac_key": "fuzz-key-of-thirty-two-bytes-xyz", "content": {"policy": "hash"}}}"#;
const BEFORE_SAMPLER: &str = r#"{"redaction": {"allow_all_keys": true,
  "detectors": ["secrets", "email"], "blocked_values": ["tb-planted-4242"],
  "content": {"policy": "truncate", "max_chars": 32}},
 "sampling": {"decision_wait": "1s", "policies": [{"name": "all", "type": "always_sample"}]}}"#;

/// (engine config, secrets it must stop). Each secret is one its detector accepts (an OpenAI
/// key needs letters and digits).
const ENGINES: &[(&str, &[&str])] = &[
    (
        configs::PROCESSOR,
        &[
            "jane.doe@example.com",
            "AKIAIOSFODNN7EXAMPLE",
            "sk-proj-Q3xb7Tn2Vw9LmZ4kRp8sJd6F",
        ],
    ),
    (BLOCKING, &["tb-planted-4242"]),
    (
        BEFORE_SAMPLER,
        &[
            "tb-planted-4242",
            "jane.doe@example.com",
            "AKIAIOSFODNN7EXAMPLE",
        ],
    ),
];

const CONTENT_KEYS: &[&str] = &[
    "gen_ai.prompt.0.content",
    "gen_ai.completion.0.content",
    "note",
];

fn text(v: String) -> Option<AnyValue> {
    Some(AnyValue {
        value: Some(Value::StringValue(v)),
    })
}

/// The secret joins any attribute of the same key (duplicate keys are legal on the wire and
/// in pdata; redaction must reach every copy: tests/duplicate_keys.rs).
const PLANT_BESIDE_SAME_KEY: bool = true;

/// Adds `kv` to `attrs` (see [`PLANT_BESIDE_SAME_KEY`]).
fn put(attrs: &mut Vec<KeyValue>, kv: KeyValue) {
    if !PLANT_BESIDE_SAME_KEY {
        attrs.retain(|a| a.key != kv.key);
    }
    attrs.push(kv);
}

fn kv(key: &str, value: Option<AnyValue>) -> KeyValue {
    KeyValue {
        key: key.into(),
        value,
    }
}

/// Puts `carrier` (text holding the secret) in one place redaction must cover.
fn plant(td: &mut TracesData, c: &mut Cursor, carrier: String) {
    if td.resource_spans.is_empty() {
        td.resource_spans.push(Default::default());
    }
    let rs = c.below(td.resource_spans.len());
    let r = &mut td.resource_spans[rs];
    if r.scope_spans.is_empty() {
        r.scope_spans.push(ScopeSpans::default());
    }
    let ss = c.below(r.scope_spans.len());
    if r.scope_spans[ss].spans.is_empty() {
        r.scope_spans[ss].spans.push(Span::default());
    }
    let n = r.scope_spans[ss].spans.len();
    let sp = c.below(n);
    let key = c.pick(CONTENT_KEYS);
    let choice = c.u8() % 9;
    let value = match choice {
        1 => text(format!(
            r#"[{{"role":"user","content":"{}"}}]"#,
            carrier.replace(['\\', '"'], "")
        )),
        2 => Some(AnyValue {
            value: Some(Value::ArrayValue(ArrayValue {
                values: vec![text("x".into()).unwrap(), text(carrier).unwrap()],
            })),
        }),
        3 => Some(AnyValue {
            value: Some(Value::KvlistValue(KeyValueList {
                values: vec![kv("inner", text(carrier))],
            })),
        }),
        8 => {
            r.scope_spans[ss].spans[sp].status = Some(Status {
                code: 2,
                message: carrier,
            });
            return;
        }
        _ => text(carrier),
    };
    let key = if choice == 1 {
        "gen_ai.input.messages"
    } else {
        key
    };
    let attrs = match choice {
        4 => {
            let events = &mut r.scope_spans[ss].spans[sp].events;
            if events.is_empty() {
                events.push(Event::default());
            }
            &mut events[0].attributes
        }
        5 => {
            let links = &mut r.scope_spans[ss].spans[sp].links;
            if links.is_empty() {
                links.push(Link::default());
            }
            &mut links[0].attributes
        }
        6 => &mut r.resource.get_or_insert_with(Resource::default).attributes,
        7 => {
            &mut r.scope_spans[ss]
                .scope
                .get_or_insert_with(Default::default)
                .attributes
        }
        _ => &mut r.scope_spans[ss].spans[sp].attributes,
    };
    put(attrs, kv(key, value));
}

fn contains(hay: &[u8], needle: &str) -> bool {
    hay.windows(needle.len()).any(|w| w == needle.as_bytes())
}

fuzz_target!(|data: &[u8]| {
    let mut c = Cursor::new(data);
    let (config, secrets) = ENGINES[c.below(ENGINES.len())];
    let secret = secrets[c.below(secrets.len())];
    let mut td = synth::batch(&mut c, 0);
    if contains(&td.encode_to_vec(), secret) {
        return; // the fuzzer wrote the secret itself, somewhere redaction does not look
    }
    for _ in 0..1 + c.below(3) {
        let (before, after) = (c.text(24), c.text(24));
        if before.contains(secret) || after.contains(secret) {
            // The fuzzer wrote the secret into the filler itself, perhaps glued to a word
            // ("7AKIA..."), where no detector is meant to see a key (found by the long run).
            return;
        }
        let carrier = format!("{before} {secret} {after}");
        plant(&mut td, &mut c, carrier);
    }
    let bytes = td.encode_to_vec();

    // Shared across inputs: each input ends with nothing held (the sampler is flushed), and
    // what an engine remembers must never let a secret through.
    let engine = abi::shared(config);
    let list = match engine.process(&bytes, 1_000_000_000) {
        Ok(list) => list,
        Err(e) => panic!("a batch holding a secret would pass unredacted: {e:?}"),
    };
    let (d, list) = edits::decode(&list).expect("the engine's edit list decodes");
    let out = if d == Disposition::Held {
        engine.release(u64::MAX / 2, true).expect("release")
    } else {
        assert!(edits::apply(&mut td, &list), "edits address the batch");
        td.encode_to_vec()
    };
    if let Some(at) = out
        .windows(secret.len())
        .position(|w| w == secret.as_bytes())
    {
        let around = &out[at.saturating_sub(80)..(at + secret.len() + 40).min(out.len())];
        panic!(
            "{secret:?} left the engine ({config:.60}...): ...{}...",
            String::from_utf8_lossy(around)
        );
    }
});
