//! GenAI batches built from fuzz bytes. Raw mutated protobuf mostly exercises the reader; a
//! batch built here always decodes, so the fuzzer's effort goes into the stages: the spellings
//! of provider, model and usage that instrumentations write, odd token counts, content
//! attributes, nested values, events and links, and trace IDs shared across batches.

use opentelemetry_proto::tonic::common::v1::{
    any_value::Value, AnyValue, ArrayValue, InstrumentationScope, KeyValue, KeyValueList,
};
use opentelemetry_proto::tonic::resource::v1::Resource;
use opentelemetry_proto::tonic::trace::v1::span::{Event, Link};
use opentelemetry_proto::tonic::trace::v1::{ResourceSpans, ScopeSpans, Span, Status, TracesData};

use crate::input::Cursor;

const PROVIDER_KEYS: &[&str] = &[
    "gen_ai.provider.name",
    "gen_ai.system",
    "llm.provider",
    "ai.model.provider",
];
const PROVIDERS: &[&str] = &[
    "openai",
    "anthropic",
    "aws.bedrock",
    "az.ai.openai",
    "gcp.vertex_ai",
    "mistral_ai",
    "",
];
const MODEL_KEYS: &[&str] = &[
    "gen_ai.request.model",
    "gen_ai.response.model",
    "llm.model_name",
    "ai.model.id",
];
const MODELS: &[&str] = &[
    "gpt-4o",
    "gpt-4o-mini-2024-07-18",
    "claude-3-5-sonnet-20241022",
    "claude-haiku-4-5-20251001",
    "anthropic.claude-3-haiku-20240307-v1:0",
    "gemini-1.5-pro",
    "no-such-model",
];
const OPERATIONS: &[&str] = &[
    "chat",
    "text_completion",
    "embeddings",
    "invoke_agent",
    "execute_tool",
    "generate_content",
];
const USAGE_KEYS: &[&str] = &[
    "gen_ai.usage.input_tokens",
    "gen_ai.usage.output_tokens",
    "gen_ai.usage.prompt_tokens",
    "gen_ai.usage.completion_tokens",
    "llm.token_count.prompt",
    "llm.token_count.completion",
    "gen_ai.usage.cache_read.input_tokens",
    "gen_ai.usage.cache_creation.input_tokens",
    "gen_ai.usage.reasoning.output_tokens",
    "ai.usage.promptTokens",
];
const OTHER_KEYS: &[&str] = &[
    "gen_ai.prompt.0.content",
    "gen_ai.completion.0.content",
    "gen_ai.input.messages",
    "gen_ai.tool.call.arguments",
    "gen_ai.usage.cost",
    "gen_ai.request.service_tier",
    "error.type",
    "server.address",
    "user.email",
    "http.url",
    "tenant.id",
    "note",
];
const NAMES: &[&str] = &[
    "chat gpt-4o",
    "invoke_agent support",
    "execute_tool search",
    "embeddings",
    "GET /health",
    "openai.chat",
];
const SERVICES: &[&str] = &["checkout", "agent", "rag", "unknown_service"];

/// Up to this many spans per batch: enough for several traces, small enough to stay fast.
pub const MAX_SPANS: usize = 24;

/// Trace IDs come from a small pool so traces continue across batches (the sampler's late
/// spans and decision caches); a few are malformed (empty, short).
pub fn trace_id(c: &mut Cursor) -> Vec<u8> {
    match c.u8() % 16 {
        0 => Vec::new(),
        1 => vec![c.u8(); 5],
        n => {
            let mut id = vec![0u8; 16];
            id[15] = n % 6;
            id[0] = 0x7b;
            id
        }
    }
}

fn any(c: &mut Cursor, depth: u8) -> AnyValue {
    let value = match c.u8() % if depth == 0 { 6 } else { 8 } {
        0 => Some(Value::StringValue(c.text(48))),
        1 => Some(Value::IntValue(c.u64() as i64)),
        2 => Some(Value::DoubleValue(f64::from_bits(c.u64()))),
        3 => Some(Value::BoolValue(c.bool())),
        4 => Some(Value::BytesValue(c.bytes(16).to_vec())),
        5 => None,
        6 => Some(Value::ArrayValue(ArrayValue {
            values: (0..c.below(4)).map(|_| any(c, depth - 1)).collect(),
        })),
        _ => Some(Value::KvlistValue(KeyValueList {
            values: (0..c.below(4)).map(|_| kv(c, depth - 1)).collect(),
        })),
    };
    AnyValue { value }
}

fn kv(c: &mut Cursor, depth: u8) -> KeyValue {
    let key = if c.one_in(8) {
        c.text(12)
    } else {
        c.pick(OTHER_KEYS).to_string()
    };
    KeyValue {
        key,
        value: Some(any(c, depth)),
    }
}

fn text_kv(key: &str, value: &str) -> KeyValue {
    KeyValue {
        key: key.to_string(),
        value: Some(AnyValue {
            value: Some(Value::StringValue(value.to_string())),
        }),
    }
}

fn int_kv(key: &str, value: i64) -> KeyValue {
    KeyValue {
        key: key.to_string(),
        value: Some(AnyValue {
            value: Some(Value::IntValue(value)),
        }),
    }
}

/// A token count: mostly plausible, sometimes zero, negative or huge.
fn tokens(c: &mut Cursor) -> i64 {
    match c.u8() % 8 {
        0 => 0,
        1 => -(c.u32() as i64),
        2 => c.u64() as i64,
        _ => i64::from(c.u32() % 200_000),
    }
}

fn genai_attributes(c: &mut Cursor) -> Vec<KeyValue> {
    let mut attrs = Vec::new();
    if !c.one_in(6) {
        let provider = c.pick(PROVIDERS);
        attrs.push(text_kv(c.pick(PROVIDER_KEYS), provider));
    }
    attrs.push(text_kv("gen_ai.operation.name", c.pick(OPERATIONS)));
    for _ in 0..c.below(3) {
        let model = if c.one_in(6) {
            c.text(40)
        } else {
            c.pick(MODELS).to_string()
        };
        attrs.push(text_kv(c.pick(MODEL_KEYS), &model));
    }
    for _ in 0..c.below(5) {
        let n = tokens(c);
        attrs.push(if c.one_in(8) {
            // Some instrumentations send numbers as strings.
            text_kv(c.pick(USAGE_KEYS), &n.to_string())
        } else {
            int_kv(c.pick(USAGE_KEYS), n)
        });
    }
    attrs
}

fn span(c: &mut Cursor, serial: u32) -> Span {
    let genai = !c.one_in(5);
    let mut attributes = if genai {
        genai_attributes(c)
    } else {
        Vec::new()
    };
    for _ in 0..c.below(4) {
        attributes.push(kv(c, 2));
    }
    let start = 1_760_000_000_000_000_000u64 + u64::from(c.u32());
    let end = if c.one_in(10) {
        start - u64::from(c.u8())
    } else {
        start + u64::from(c.u32()) * 16
    };
    let mut span_id = serial.to_le_bytes().to_vec();
    span_id.extend_from_slice(&[0x5b, c.u8(), 0, 0]);
    Span {
        trace_id: trace_id(c),
        span_id,
        parent_span_id: if c.bool() { vec![1; 8] } else { Vec::new() },
        name: if c.one_in(8) {
            c.text(24)
        } else {
            c.pick(NAMES).to_string()
        },
        kind: i32::from(c.u8() % 6),
        start_time_unix_nano: start,
        end_time_unix_nano: end,
        attributes,
        events: (0..c.below(3))
            .map(|_| Event {
                time_unix_nano: start,
                name: c
                    .pick(&["gen_ai.content.prompt", "exception", "log"])
                    .into(),
                attributes: (0..c.below(3)).map(|_| kv(c, 1)).collect(),
                ..Default::default()
            })
            .collect(),
        links: (0..c.below(2))
            .map(|_| Link {
                trace_id: trace_id(c),
                span_id: vec![2; 8],
                attributes: (0..c.below(2)).map(|_| kv(c, 1)).collect(),
                ..Default::default()
            })
            .collect(),
        status: match c.u8() % 4 {
            0 => None,
            1 => Some(Status {
                code: 2,
                message: c.text(24),
            }),
            _ => Some(Status {
                code: i32::from(c.u8() % 3),
                message: String::new(),
            }),
        },
        ..Default::default()
    }
}

/// A batch of one to three resources, each with one or two scopes of spans. Span IDs are
/// unique within the batch (`serial` + the span's position), so callers can track each span.
pub fn batch(c: &mut Cursor, serial: u32) -> TracesData {
    let mut n = 0u32;
    let mut resource_spans = Vec::new();
    for _ in 0..1 + c.below(3) {
        let resource = (!c.one_in(8)).then(|| Resource {
            attributes: vec![text_kv("service.name", c.pick(SERVICES))],
            ..Default::default()
        });
        let mut scope_spans = Vec::new();
        for _ in 0..1 + c.below(2) {
            let scope = (!c.one_in(8)).then(|| InstrumentationScope {
                name: c
                    .pick(&["opentelemetry.instrumentation.openai", "openinference", ""])
                    .into(),
                version: "1.0".into(),
                attributes: (0..c.below(2)).map(|_| kv(c, 1)).collect(),
                ..Default::default()
            });
            let mut spans = Vec::new();
            for _ in 0..c.below(8) {
                if n as usize >= MAX_SPANS {
                    break;
                }
                n += 1;
                spans.push(span(c, serial.wrapping_mul(1000).wrapping_add(n)));
            }
            scope_spans.push(ScopeSpans {
                scope,
                spans,
                schema_url: String::new(),
            });
        }
        resource_spans.push(ResourceSpans {
            resource,
            scope_spans,
            schema_url: String::new(),
        });
    }
    TracesData { resource_spans }
}
