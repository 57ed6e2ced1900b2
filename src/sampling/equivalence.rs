//! The policies, span facts and run totals read from the held bytes in place
//! (src/sampling/view.rs) give what they gave read from a decoded copy
//! (src/sampling/decoded_ref.rs), for generated traces with every kind of attribute value,
//! strings and keys that are not UTF-8, events, links, errors, several roots and GenAI
//! spans in several conventions, under every policy type.

use std::sync::Arc;

use opentelemetry_proto::tonic::common::v1::{
    any_value, AnyValue, ArrayValue, InstrumentationScope, KeyValue, KeyValueList,
};
use opentelemetry_proto::tonic::resource::v1::Resource;
use opentelemetry_proto::tonic::trace::v1::{span, Span, Status};
use prost::Message;

use super::config::PolicyConfig;
use super::decision::Decision;
use super::policy::decoded_ref::TraceData;
use super::policy::Policy;
use super::stored::{push_span, StoredTrace};
use super::trace::{trace_id_of, ResourceHdr, ScopeHdr};
use super::trace_cost::{root_index, TraceTotals};
use super::view::TraceView;
use crate::facts::FactsConfig;

/// A small deterministic generator (xorshift), so a failure names its trace.
struct Gen(u64);

impl Gen {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }

    fn pick<T: Clone>(&mut self, xs: &[T]) -> T {
        xs[self.below(xs.len() as u64) as usize].clone()
    }

    fn chance(&mut self, percent: u64) -> bool {
        self.below(100) < percent
    }
}

fn value(v: any_value::Value) -> Option<AnyValue> {
    Some(AnyValue { value: Some(v) })
}

fn kv(key: &str, v: Option<AnyValue>) -> KeyValue {
    KeyValue {
        key: key.into(),
        value: v,
    }
}

fn s(x: &str) -> Option<AnyValue> {
    value(any_value::Value::StringValue(x.into()))
}

fn i(x: i64) -> Option<AnyValue> {
    value(any_value::Value::IntValue(x))
}

fn d(x: f64) -> Option<AnyValue> {
    value(any_value::Value::DoubleValue(x))
}

fn b(x: bool) -> Option<AnyValue> {
    value(any_value::Value::BoolValue(x))
}

fn strs(xs: &[&str]) -> Option<AnyValue> {
    value(any_value::Value::ArrayValue(ArrayValue {
        values: xs.iter().map(|x| s(x).unwrap()).collect(),
    }))
}

/// "XX" in a generated string becomes the two bytes C3 28 (not UTF-8) once the span is
/// encoded; the length does not change, so the encoding stays whole.
const BAD: &str = "XX";

/// One attribute from a pool that hits every policy key with every value type.
fn attribute(g: &mut Gen) -> KeyValue {
    let kvlist = value(any_value::Value::KvlistValue(KeyValueList {
        values: vec![kv("inner", s("yes"))],
    }));
    match g.below(16) {
        0 => kv("keep", s(g.pick(&["yes", "no", "", "yesXX", "y"]))),
        1 => kv(
            "keep",
            g.pick(&[i(1), b(true), d(1.5), strs(&["yes"]), None, kvlist]),
        ),
        2 => kv("n", g.pick(&[i(5), i(50), i(-3), s("7"), d(5.0)])),
        3 => kv("debug", g.pick(&[b(true), b(false), s("true"), i(1)])),
        4 => kv("kXX", s("yes")),
        5 => kv("url.path", s(g.pick(&["/health", "/v1/chat", "/hXXlth"]))),
        6 => kv(
            "bin",
            value(any_value::Value::BytesValue(vec![0xff, 0x00, 0xc3])),
        ),
        7 => kv(
            "gen_ai.request.model",
            s(g.pick(&["gpt-4o", "claude-3-5-sonnet", "gptXX", "o1-mini"])),
        ),
        8 => kv(
            "gen_ai.provider.name",
            s(g.pick(&["openai", "OpenAI", "anthropic", "aXX"])),
        ),
        9 => kv(
            "gen_ai.response.finish_reasons",
            strs(g.pick(&[&["stop"][..], &["content_filter"], &["stXXp"]])),
        ),
        10 => kv(
            "error.type",
            s(g.pick(&["rate_limit_exceeded", "429", "XX"])),
        ),
        11 => kv(
            "gen_ai.server.time_to_first_token",
            g.pick(&[d(0.2), d(3.0), i(2), s("1.5")]),
        ),
        12 => kv("llm.model_name", s(g.pick(&["gpt-4o-mini", "mXX"]))),
        13 => kv("ai.usage.promptTokens", g.pick(&[i(100), i(5000), s("12")])),
        14 => kv("note", s("cafXX au lait")),
        _ => kv("gen_ai.usage.cost", g.pick(&[d(0.02), d(1.5), s("0.5")])),
    }
}

/// What an upstream cost stage wrote on a call, in one of several conventions.
fn call_attributes(g: &mut Gen) -> Vec<KeyValue> {
    let mut a = match g.below(3) {
        0 => vec![
            kv("gen_ai.operation.name", s("chat")),
            kv("gen_ai.system", s(g.pick(&["openai", "anthropic"]))),
            kv(
                "gen_ai.request.model",
                s(g.pick(&["gpt-4o", "claude-3-opus"])),
            ),
            kv("gen_ai.usage.input_tokens", i(g.below(20_000) as i64)),
            kv("gen_ai.usage.output_tokens", i(g.below(2_000) as i64)),
        ],
        1 => vec![
            kv("openinference.span.kind", s("LLM")),
            kv("llm.provider", s("openai")),
            kv("llm.model_name", s("gpt-4o-mini")),
            kv("llm.token_count.prompt", i(g.below(9_000) as i64)),
            kv("llm.token_count.completion", i(g.below(900) as i64)),
        ],
        _ => vec![
            kv("ai.operationId", s("ai.generateText.doGenerate")),
            kv("ai.model.provider", s("anthropic.messages")),
            kv("ai.model.id", s("claude-3-5-haiku")),
            kv("ai.usage.promptTokens", i(g.below(4_000) as i64)),
            kv("ai.usage.completionTokens", i(g.below(400) as i64)),
        ],
    };
    let status = g.pick(&[
        "priced",
        "provider_reported",
        "estimated",
        "unpriced",
        "duplicate",
        "no_usage",
        "pricXXd",
    ]);
    a.push(kv("tollbooth.cost.status", s(status)));
    if g.chance(80) {
        a.push(kv(
            "gen_ai.usage.cost",
            g.pick(&[d(0.0051678), d(0.25), d(-1.0), d(f64::NAN), i(3)]),
        ));
    }
    if g.chance(30) {
        a.push(kv("gen_ai.usage.input_tokens", i(-5)));
    }
    a
}

fn span(g: &mut Gen, trace: u8, n: u8) -> Span {
    let mut attributes: Vec<KeyValue> = (0..g.below(5)).map(|_| attribute(g)).collect();
    if g.chance(40) {
        attributes.extend(call_attributes(g));
    }
    let start = 1_000_000_000 + g.below(50) * 1_000_000;
    let root = n == 0 || g.chance(5);
    Span {
        trace_id: vec![trace; 16],
        span_id: vec![n + 1; 8],
        parent_span_id: if root { vec![] } else { vec![1; 8] },
        name: g
            .pick(&["invoke_agent planner", "chat gpt-4o", "GET /XX", ""])
            .to_string(),
        start_time_unix_nano: start,
        end_time_unix_nano: start + g.below(40) * 1_000_000,
        trace_state: g.pick(&["", "a=1,k=v", "k=vXX", " k=w , x=1"]).to_string(),
        flags: g.below(4) as u32,
        kind: g.below(6) as i32,
        status: g.chance(70).then(|| Status {
            code: g.below(3) as i32,
            message: g.pick(&["", "boom", "bXXd"]).to_string(),
        }),
        attributes,
        events: (0..g.below(3))
            .map(|k| span::Event {
                name: format!("ev{k}XX"),
                time_unix_nano: start + k,
                attributes: vec![attribute(g)],
                ..Default::default()
            })
            .collect(),
        links: (0..g.below(2))
            .map(|_| span::Link {
                trace_id: vec![9; 16],
                span_id: vec![9; 8],
                attributes: vec![attribute(g)],
                ..Default::default()
            })
            .collect(),
        ..Default::default()
    }
}

/// The encoded span, with its "XX" marks turned into bytes that are not UTF-8 (or into
/// "ok" when `bad` is false).
fn encode(span: &Span, bad: bool) -> Vec<u8> {
    let mut bytes = span.encode_to_vec();
    let with: &[u8] = if bad { b"\xc3\x28" } else { b"ok" };
    while let Some(at) = bytes.windows(2).position(|w| w == BAD.as_bytes()) {
        bytes[at..at + 2].copy_from_slice(with);
    }
    bytes
}

type Handles = (Vec<Arc<ResourceHdr>>, Vec<Arc<ScopeHdr>>);

fn handles() -> Handles {
    let resource = |attrs: Vec<KeyValue>| {
        Arc::new(ResourceHdr::new(
            Some(Resource {
                attributes: attrs,
                ..Default::default()
            }),
            String::new(),
        ))
    };
    let scope = |name: &str| {
        Arc::new(ScopeHdr::new(
            Some(InstrumentationScope {
                name: name.into(),
                version: "1".into(),
                ..Default::default()
            }),
            String::new(),
        ))
    };
    (
        vec![
            resource(vec![kv("service.name", s("svc"))]),
            resource(vec![
                kv("service.name", s("other")),
                kv("keep", s("yes")),
                kv("n", i(9)),
            ]),
            resource(vec![kv("debug", b(true)), kv("keep", s(""))]),
        ],
        vec![
            scope("opentelemetry.instrumentation.openai_v2"),
            scope("openinference.instrumentation.langchain"),
            scope("ai"),
        ],
    )
}

/// One generated trace, held as the store holds it; `bad` puts bytes that are not UTF-8
/// where the generator marked them.
fn trace(g: &mut Gen, id: u8, h: &Handles, bad: bool) -> StoredTrace {
    let mut t = StoredTrace {
        id: trace_id_of(&[id; 16]),
        ..Default::default()
    };
    for n in 0..1 + g.below(8) as u8 {
        let r = g.pick(&h.0);
        let sc = g.pick(&h.1);
        let bytes = encode(&span(g, id, n), bad);
        t.bytes += push_span(&mut t.groups, &r, &sc, &bytes, 0);
        t.span_count += 1;
    }
    t
}

/// One policy of every type, as JSON configs (composites of several).
const POLICIES: &[&str] = &[
    r#"{"name":"a","type":"always_sample"}"#,
    r#"{"name":"l","type":"latency","latency":{"threshold_ms":20}}"#,
    r#"{"name":"l2","type":"latency","latency":{"threshold_ms":10,"upper_threshold_ms":30}}"#,
    r#"{"name":"n","type":"numeric_attribute","numeric_attribute":{"key":"n","min_value":4,"max_value":10}}"#,
    r#"{"name":"ni","type":"numeric_attribute","numeric_attribute":{"key":"n","min_value":4,"invert_match":true}}"#,
    r#"{"name":"p","type":"probabilistic","probabilistic":{"sampling_percentage":30}}"#,
    r#"{"name":"st","type":"status_code","status_code":{"status_codes":["ERROR"]}}"#,
    r#"{"name":"st2","type":"status_code","status_code":{"status_codes":["OK","UNSET"]}}"#,
    r#"{"name":"s","type":"string_attribute","string_attribute":{"key":"keep","values":["yes",""]}}"#,
    r#"{"name":"sl","type":"string_attribute","string_attribute":{"key":"keep","values":["yes\ufffd("]}}"#,
    r#"{"name":"sk","type":"string_attribute","string_attribute":{"key":"k\ufffd(","values":["yes"]}}"#,
    r#"{"name":"sr","type":"string_attribute","string_attribute":{"key":"url.path","values":["^/h.*th$","\\(x"],"enabled_regex_matching":true}}"#,
    r#"{"name":"si","type":"string_attribute","string_attribute":{"key":"keep","values":["no"],"invert_match":true}}"#,
    r#"{"name":"b","type":"boolean_attribute","boolean_attribute":{"key":"debug","value":true}}"#,
    r#"{"name":"bi","type":"boolean_attribute","boolean_attribute":{"key":"debug","value":false,"invert_match":true}}"#,
    r#"{"name":"r","type":"rate_limiting","rate_limiting":{"spans_per_second":12}}"#,
    r#"{"name":"sc","type":"span_count","span_count":{"min_spans":3,"max_spans":6}}"#,
    r#"{"name":"ts","type":"trace_state","trace_state":{"key":"k","values":["v","w","v\ufffd("]}}"#,
    r#"{"name":"tf","type":"trace_flags"}"#,
    r#"{"name":"and","type":"and","and":{"and_sub_policy":[
        {"name":"x","type":"status_code","status_code":{"status_codes":["ERROR"]}},
        {"name":"y","type":"string_attribute","string_attribute":{"key":"keep","values":["yes"],"invert_match":true}}]}}"#,
    r#"{"name":"not","type":"not","not":{"not_sub_policy":
        {"name":"x","type":"boolean_attribute","boolean_attribute":{"key":"debug","value":true}}}}"#,
    r#"{"name":"drop","type":"drop","drop":{"drop_sub_policy":[
        {"name":"x","type":"string_attribute","string_attribute":{"key":"url.path","values":["/health"]}}]}}"#,
    r#"{"name":"c","type":"composite","composite":{"max_total_spans_per_second":40,
        "policy_order":["e","g","rest"],
        "composite_sub_policy":[
          {"name":"e","type":"status_code","status_code":{"status_codes":["ERROR"]}},
          {"name":"g","type":"genai_cost","genai_cost":{"threshold_usd":0.01}},
          {"name":"rest","type":"always_sample"}],
        "rate_allocation":[{"policy":"e","percent":50},{"policy":"g","percent":30},{"policy":"rest","percent":20}]}}"#,
    r#"{"name":"gc","type":"genai_cost","genai_cost":{"threshold_usd":0.1}}"#,
    r#"{"name":"gt","type":"genai_tokens","genai_tokens":{"threshold":3000}}"#,
    r#"{"name":"gm","type":"genai_model","genai_model":{"providers":["openai"],"models":["gpt-4o","gpt\ufffd("]}}"#,
    r#"{"name":"gmr","type":"genai_model","genai_model":{"models":["^claude-3"],"regex":true}}"#,
    r#"{"name":"gu","type":"genai_unpriced"}"#,
    r#"{"name":"ge","type":"genai_error","genai_error":{"errors":true,"rate_limits":true,"content_filter":true}}"#,
    r#"{"name":"gf","type":"genai_ttft","genai_ttft":{"threshold_ms":1000}}"#,
    r#"{"name":"gr","type":"genai_cost_rate_limiting","genai_cost_rate_limiting":{"traces_per_second":3,"always_keep_above_usd":0.2}}"#,
];

fn build(json: &str) -> Policy {
    let cfg: PolicyConfig = serde_json::from_str(json).unwrap();
    Policy::build(&cfg).unwrap_or_else(|e| panic!("{json}: {e}"))
}

/// Every policy decides every generated trace alike on both paths, stateful ones (rate
/// limits, composite budgets) over the same sequence of traces and times.
#[test]
fn policies_decide_alike_in_place_and_decoded() {
    let h = handles();
    let cfg = FactsConfig::default();
    let mut g = Gen(0x9e37_79b9_7f4a_7c15);
    let traces: Vec<StoredTrace> = (0..600)
        .map(|k| {
            let bad = g.next() % 3 != 0;
            trace(&mut g, k as u8, &h, bad)
        })
        .collect();
    let mut seen: Vec<Vec<Decision>> = vec![Vec::new(); POLICIES.len()];
    for (p, json) in POLICIES.iter().enumerate() {
        let (mut new, mut old) = (build(json), build(json));
        for (k, t) in traces.iter().enumerate() {
            let now = k as u64 * 50_000_000;
            let view = TraceView::of(t).unwrap();
            let facts = view.facts(&cfg);
            let decoded = TraceData::decode(t);
            let a = new.evaluate(&view, &facts, now);
            let b = decoded.with_facts(&cfg, |f| old.evaluate_decoded(&decoded, f, now));
            assert_eq!(a, b, "policy {json}, trace {k}");
            if !seen[p].contains(&a) {
                seen[p].push(a);
            }
        }
    }
    // Each policy gives more than one decision, so the comparison means something.
    for (p, ds) in seen.iter().enumerate() {
        assert!(
            ds.len() > 1 || POLICIES[p].contains("always_sample"),
            "{}: only {ds:?}",
            POLICIES[p]
        );
    }
}

/// `bytes_limiting` charges the held bytes; for spans prost can decode that is exactly the
/// decoded copy's encoded size, so it decides alike. (For bytes that are not UTF-8 the
/// decoded copy was bigger, each bad byte three bytes of U+FFFD; the held bytes are what
/// contrib's pdata marshals.)
#[test]
fn bytes_limiting_decides_alike_on_valid_spans() {
    let h = handles();
    let mut g = Gen(7);
    let json =
        r#"{"name":"bl","type":"bytes_limiting","bytes_limiting":{"bytes_per_second":3000}}"#;
    let (mut new, mut old) = (build(json), build(json));
    let mut sampled = 0;
    for k in 0..400u64 {
        let t = trace(&mut g, k as u8, &h, false);
        let view = TraceView::of(&t).unwrap();
        let decoded = TraceData::decode(&t);
        assert_eq!(view.otlp_size(), decoded.otlp_size());
        let now = k * 20_000_000;
        let a = new.evaluate(&view, &[], now);
        assert_eq!(a, old.evaluate_decoded(&decoded, &[], now), "trace {k}");
        sampled += usize::from(a == Decision::Sampled);
    }
    assert!((1..400).contains(&sampled), "{sampled}");
}

/// The run's totals and its root (the span that gets them) are the same on both paths.
#[test]
fn run_totals_and_root_are_alike_in_place_and_decoded() {
    let h = handles();
    let mut g = Gen(42);
    let mut with_calls = 0;
    for k in 0..600u64 {
        let t = trace(&mut g, k as u8, &h, k % 2 == 0);
        let view = TraceView::of(&t).unwrap();
        let totals = TraceTotals::of(view.spans().map(|s| s.attributes()));
        let root = root_index(
            view.spans()
                .map(|s| (s.parent_span_id(), s.start_time_unix_nano())),
        )
        .and_then(|i| view.spans().nth(i))
        .map(|s| {
            let (_, g, i) = s.position();
            (
                g as usize,
                i as usize,
                String::from_utf8_lossy(s.name()).into_owned(),
            )
        });
        let (old_totals, old_root) = TraceData::decode(&t).totals();
        assert_eq!(totals, old_totals, "trace {k}");
        assert_eq!(root, old_root, "trace {k}");
        with_calls += usize::from(totals.llm_calls > 0 && totals.unpriced_calls > 0);
    }
    assert!(with_calls > 10, "{with_calls}");
}
