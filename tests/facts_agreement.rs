//! Cost, metrics and the GenAI sampling policies read one set of span facts, so they agree on
//! what a span is. Each test is a disagreement the four former alias tables had (issue 9) or
//! a token-sanity case (issue 11); each would fail on the old code.

use opentelemetry_proto::tonic::common::v1::{any_value::Value, KeyValue};
use opentelemetry_proto::tonic::metrics::v1::{metric, number_data_point, MetricsData};
use opentelemetry_proto::tonic::resource::v1::Resource;
use opentelemetry_proto::tonic::trace::v1::{ResourceSpans, ScopeSpans, Span, TracesData};
use prost::Message;
use tollbooth::config::EngineConfig;
use tollbooth::edits::{apply, decode};
use tollbooth::otlp::{find, find_str, kv_int, kv_str};
use tollbooth::Engine;

fn span(name: &str, attrs: Vec<KeyValue>) -> Span {
    Span {
        trace_id: vec![7; 16],
        span_id: vec![1; 8],
        name: name.into(),
        attributes: attrs,
        start_time_unix_nano: 1_790_000_000_000_000_000,
        end_time_unix_nano: 1_790_000_001_000_000_000,
        ..Default::default()
    }
}

fn batch(spans: Vec<Span>) -> TracesData {
    TracesData {
        resource_spans: vec![ResourceSpans {
            resource: Some(Resource {
                attributes: vec![kv_str("service.name", "svc")],
                ..Default::default()
            }),
            scope_spans: vec![ScopeSpans {
                spans,
                ..Default::default()
            }],
            schema_url: String::new(),
        }],
    }
}

fn engine(json: &str) -> Engine {
    Engine::new(EngineConfig::from_json(json.as_bytes()).unwrap(), 0).unwrap()
}

/// Runs a cost + metrics engine (the `genai` processor and connector fused) and returns the
/// edited spans and the metrics.
fn priced_and_counted(spans: Vec<Span>) -> (TracesData, MetricsData, Engine) {
    let e = engine(r#"{"cost": {}, "metrics": {}}"#);
    let mut td = batch(spans);
    let out = e.process(&td.encode_to_vec(), 1).unwrap();
    let (_, list) = decode(&out).unwrap();
    assert!(apply(&mut td, &list));
    let md = MetricsData::decode(e.collect_metrics(2).unwrap().as_slice()).unwrap();
    (td, md, e)
}

/// Runs the metrics connector alone over already enriched spans.
fn counted_downstream(td: &TracesData) -> MetricsData {
    let e = engine(r#"{"metrics": {}}"#);
    e.process(&td.encode_to_vec(), 1).unwrap();
    MetricsData::decode(e.collect_metrics(2).unwrap().as_slice()).unwrap()
}

/// Whether a one-policy sampler keeps the trace.
fn kept(policy: &str, spans: Vec<Span>) -> bool {
    let e = engine(&format!(
        r#"{{"sampling": {{"decision_wait": "1s", "policies": [{policy}]}}}}"#
    ));
    e.process(&batch(spans).encode_to_vec(), 0).unwrap();
    !e.release(2_000_000_000, false).unwrap().is_empty()
}

fn metric<'m>(md: &'m MetricsData, name: &str) -> Option<&'m metric::Data> {
    md.resource_metrics
        .first()?
        .scope_metrics
        .first()?
        .metrics
        .iter()
        .find(|m| m.name == name)?
        .data
        .as_ref()
}

/// Sum over a counter's points (optionally of one `gen_ai.token.type`).
fn total(md: &MetricsData, name: &str, token_type: Option<&str>) -> f64 {
    let Some(metric::Data::Sum(s)) = metric(md, name) else {
        return 0.0;
    };
    s.data_points
        .iter()
        .filter(|p| {
            token_type.is_none_or(|t| find_str(&p.attributes, "gen_ai.token.type") == Some(t))
        })
        .map(|p| match p.value {
            Some(number_data_point::Value::AsInt(v)) => v as f64,
            Some(number_data_point::Value::AsDouble(v)) => v,
            None => 0.0,
        })
        .sum()
}

fn requests(md: &MetricsData) -> f64 {
    total(md, tollbooth::metrics::REQUESTS, None)
}

fn tokens(md: &MetricsData, kind: &str) -> f64 {
    total(md, tollbooth::metrics::TOKENS, Some(kind))
}

fn histogram_count(md: &MetricsData, name: &str) -> u64 {
    match metric(md, name) {
        Some(metric::Data::Histogram(h)) => h.data_points.iter().map(|p| p.count).sum(),
        _ => 0,
    }
}

fn attrs(td: &TracesData, i: usize) -> &[KeyValue] {
    &td.resource_spans[0].scope_spans[0].spans[i].attributes
}

fn status(td: &TracesData, i: usize) -> Option<&str> {
    find_str(attrs(td, i), "tollbooth.cost.status")
}

#[test]
fn a_langfuse_only_generation_is_a_priced_counted_call() {
    // Was: usage.rs knew it, genai.rs did not recognise it, so it was never priced.
    let generation = span(
        "generation",
        vec![
            kv_str("langfuse.observation.type", "generation"),
            kv_str("langfuse.observation.model.name", "gpt-4o-2024-08-06"),
            kv_str(
                "langfuse.observation.usage_details",
                r#"{"input":900,"input_cached_tokens":100,"output":50}"#,
            ),
        ],
    );
    let (td, md, _) = priced_and_counted(vec![generation.clone()]);
    assert_eq!(status(&td, 0), Some("priced"));
    assert_eq!(requests(&md), 1.0);
    assert_eq!(tokens(&md, "input"), 1000.0, "buckets re-summed");
    assert!(kept(
        r#"{"name":"t","type":"genai_tokens","genai_tokens":{"threshold":1050}}"#,
        vec![generation]
    ));
}

#[test]
fn a_pydantic_ai_aggregate_span_is_not_a_request() {
    // Was: usage.rs called it an aggregate, the metrics counted it as a call.
    let agent = span(
        "agent run",
        vec![
            kv_str("gen_ai.agent.name", "support"),
            kv_str("gen_ai.request.model", "gpt-4o"),
            kv_int("gen_ai.aggregated_usage.input_tokens", 900),
            kv_int("gen_ai.usage.input_tokens", 900),
        ],
    );
    let call = span(
        "chat gpt-4o",
        vec![
            kv_str("gen_ai.system", "openai"),
            kv_str("gen_ai.operation.name", "chat"),
            kv_str("gen_ai.request.model", "gpt-4o"),
            kv_int("gen_ai.usage.input_tokens", 900),
            kv_int("gen_ai.usage.output_tokens", 10),
        ],
    );
    let (td, md, _) = priced_and_counted(vec![agent.clone(), call.clone()]);
    assert_eq!(requests(&md), 1.0);
    assert_eq!(tokens(&md, "input"), 900.0);
    assert_eq!(status(&td, 0), None, "aggregates are not priced");
    let policy = r#"{"name":"t","type":"genai_tokens","genai_tokens":{"threshold":1000}}"#;
    assert!(!kept(policy, vec![agent, call]), "910 tokens, not 1810");
}

#[test]
fn llm_usage_prompt_and_completion_tokens_are_known_everywhere() {
    // Was: known to the metrics and the sampler only; the cost stage saw no usage.
    let s = span(
        "openai.chat",
        vec![
            kv_str("gen_ai.system", "openai"),
            kv_str("llm.request.type", "chat"),
            kv_str("gen_ai.request.model", "gpt-4o-2024-08-06"),
            kv_int("llm.usage.prompt_tokens", 1000),
            kv_int("llm.usage.completion_tokens", 100),
        ],
    );
    let (td, md, _) = priced_and_counted(vec![s.clone()]);
    assert_eq!(status(&td, 0), Some("priced"));
    assert_eq!(tokens(&md, "input"), 1000.0);
    assert_eq!(tokens(&md, "output"), 100.0);
    let downstream = counted_downstream(&td);
    assert_eq!(tokens(&downstream, "input"), 1000.0);
    assert!(kept(
        r#"{"name":"t","type":"genai_tokens","genai_tokens":{"threshold":1100}}"#,
        vec![s]
    ));
}

#[test]
fn ai_sdk_input_tokens_win_over_prompt_tokens_in_every_stage() {
    // AI SDK v5 renamed promptTokens to inputTokens; the newer name wins. Was: the cost
    // stage preferred inputTokens, the metrics promptTokens.
    let s = span(
        "ai.generateText.doGenerate",
        vec![
            kv_str("ai.operationId", "ai.generateText.doGenerate"),
            kv_str("ai.model.provider", "openai.chat"),
            kv_str("ai.model.id", "gpt-4o-2024-08-06"),
            kv_int("ai.usage.inputTokens", 2000),
            kv_int("ai.usage.promptTokens", 1000),
            kv_int("ai.usage.outputTokens", 10),
        ],
    );
    let (td, md, _) = priced_and_counted(vec![s.clone()]);
    assert_eq!(tokens(&md, "input"), 2000.0);
    assert_eq!(
        find(attrs(&td, 0), "gen_ai.usage.input_tokens"),
        Some(&Value::IntValue(2000))
    );
    // The metrics connector alone reads the enriched span's canonical keys, and the raw
    // spellings rank the same when it sees the span unenriched.
    let raw = batch(vec![s.clone()]);
    assert_eq!(tokens(&counted_downstream(&raw), "input"), 2000.0);
    let policy = r#"{"name":"t","type":"genai_tokens","genai_tokens":{"threshold":2010}}"#;
    assert!(kept(policy, vec![s]));
}

#[test]
fn every_time_to_first_token_key_is_read_by_every_stage() {
    // Was: three keys in the metrics, five in the sampler.
    for (key, value, seconds) in [
        ("gen_ai.response.time_to_first_chunk", 2.0, 2.0),
        ("gen_ai.server.time_to_first_token", 2.0, 2.0),
        ("llm.time_to_first_token", 2.0, 2.0),
        ("ai.response.msToFirstChunk", 2000.0, 2.0),
        ("ai.stream.msToFirstChunk", 2000.0, 2.0),
    ] {
        let s = span(
            "chat",
            vec![
                kv_str("gen_ai.provider.name", "openai"),
                kv_str("gen_ai.operation.name", "chat"),
                // A call with usage: a span without usage is not a request (issue 13), and
                // only requests feed the latency histograms.
                kv_int("gen_ai.usage.input_tokens", 10),
                kv_int("gen_ai.usage.output_tokens", 5),
                KeyValue {
                    key: key.into(),
                    value: Some(opentelemetry_proto::tonic::common::v1::AnyValue {
                        value: Some(Value::DoubleValue(value)),
                    }),
                },
            ],
        );
        let (_, md, _) = priced_and_counted(vec![s.clone()]);
        assert_eq!(
            histogram_count(&md, tollbooth::metrics::TIME_TO_FIRST_CHUNK),
            1,
            "{key}"
        );
        let at = |ms: f64| {
            format!(r#"{{"name":"t","type":"genai_ttft","genai_ttft":{{"threshold_ms":{ms}}}}}"#)
        };
        assert!(kept(&at(seconds * 1000.0), vec![s.clone()]), "{key}");
        assert!(!kept(&at(seconds * 1000.0 + 1.0), vec![s]), "{key}");
    }
}

fn chat_with(input: KeyValue, output: i64) -> Span {
    span(
        "chat gpt-4o",
        vec![
            kv_str("gen_ai.provider.name", "openai"),
            kv_str("gen_ai.operation.name", "chat"),
            kv_str("gen_ai.request.model", "gpt-4o-2024-08-06"),
            input,
            kv_int("gen_ai.usage.output_tokens", output),
            kv_str("gen_ai.usage.cost", "0.5"),
        ],
    )
}

#[test]
fn negative_counts_are_no_usage_in_every_stage() {
    // Was: the cost stage skipped the value, the metrics counted it as 0, the sampler summed
    // it as negative; INT64_MIN was priced at $0 while -1,000,000 was no_usage.
    for bad in [-5, -1_000_000, i64::MIN] {
        let s = chat_with(kv_int("gen_ai.usage.input_tokens", bad), 100);
        let (td, md, e) = priced_and_counted(vec![s.clone()]);
        assert_eq!(status(&td, 0), Some("no_usage"), "{bad}");
        assert!(find_str(attrs(&td, 0), "tollbooth.cost.flags")
            .is_some_and(|f| f.contains("negative_tokens")));
        assert_eq!(e.stats().cost_no_usage, 1);
        // Without usable usage the span is not counted as a request (issue 13: only spans
        // with usage are calls); the no_usage counter above is where it shows.
        assert_eq!(requests(&md), 0.0, "{bad}");
        assert_eq!(tokens(&md, "input") + tokens(&md, "output"), 0.0);
        assert_eq!(total(&md, tollbooth::metrics::COST, None), 0.0);
        let policy = r#"{"name":"t","type":"genai_tokens","genai_tokens":{"threshold":100}}"#;
        assert!(!kept(policy, vec![s.clone()]), "{bad}");
        let cost = r#"{"name":"c","type":"genai_cost","genai_cost":{"threshold_usd":0.5}}"#;
        assert!(!kept(cost, vec![s]), "{bad}");
    }
}

#[test]
fn implausible_counts_are_flagged_and_kept_out_of_every_counter() {
    // Was: output_tokens = INT64_MAX wrapped the token counter negative and added trillions
    // of dollars.
    let huge = [
        kv_int("gen_ai.usage.output_tokens", i64::MAX),
        kv_int("gen_ai.usage.output_tokens", 100_000_001),
        kv_str("gen_ai.usage.output_tokens", "99999999999999999999999"),
    ];
    for output in huge {
        let mut s = chat_with(kv_int("gen_ai.usage.input_tokens", 10), 0);
        s.attributes
            .retain(|kv| kv.key != "gen_ai.usage.output_tokens");
        s.attributes.push(output.clone());
        let ok = chat_with(kv_int("gen_ai.usage.input_tokens", 1000), 100);
        let (td, md, _) = priced_and_counted(vec![s.clone(), ok.clone(), s.clone()]);
        assert_eq!(status(&td, 0), Some("no_usage"), "{output:?}");
        assert!(find_str(attrs(&td, 0), "tollbooth.cost.flags")
            .is_some_and(|f| f.contains("implausible_tokens")));
        // The two implausible spans have no usable usage, so only the good call is a
        // request (issue 13); their flag and the no_usage counter say what happened.
        assert_eq!(requests(&md), 1.0);
        assert_eq!(tokens(&md, "input"), 1000.0);
        assert_eq!(tokens(&md, "output"), 100.0);
        let cost = total(&md, tollbooth::metrics::COST, None);
        assert!(cost > 0.0 && cost < 0.1, "{cost}");
        // Downstream, the connector sees the same.
        let downstream = counted_downstream(&td);
        assert_eq!(tokens(&downstream, "output"), 100.0);
        let policy = r#"{"name":"t","type":"genai_tokens","genai_tokens":{"threshold":2000}}"#;
        assert!(!kept(policy, vec![s.clone(), ok, s]));
    }
}

#[test]
fn the_token_ceiling_is_configurable_and_validated() {
    let e = engine(r#"{"cost": {"max_tokens_per_call": 1000}, "metrics": {}}"#);
    let mut td = batch(vec![chat_with(
        kv_int("gen_ai.usage.input_tokens", 1001),
        1,
    )]);
    let (_, list) = decode(&e.process(&td.encode_to_vec(), 1).unwrap()).unwrap();
    assert!(apply(&mut td, &list));
    assert_eq!(status(&td, 0), Some("no_usage"));
    for bad in ["0", "1000000000001", "-1", "\"many\""] {
        let cfg = EngineConfig::from_json(
            format!(r#"{{"cost": {{"max_tokens_per_call": {bad}}}}}"#).as_bytes(),
        )
        .unwrap();
        let err = Engine::new(cfg, 0).err().unwrap();
        assert!(err.contains("max_tokens_per_call"), "{bad}: {err}");
    }
}

#[test]
fn the_metrics_connector_counts_the_cost_the_processor_wrote() {
    // With an instrumentation's cost estimate on the span (gen_ai.usage.cost, not the
    // provider's bill: issue 13), the processor prices the call itself: ours replaces the
    // cost attribute and the estimate is kept as tollbooth.cost.reported; the connector alone
    // and the fused engine count the same (ours).
    let s = chat_with(kv_int("gen_ai.usage.input_tokens", 1_000_000), 0);
    let (td, fused, _) = priced_and_counted(vec![s]);
    assert_eq!(status(&td, 0), Some("priced"));
    let double = |key: &str| match find(attrs(&td, 0), key) {
        Some(Value::DoubleValue(d)) => *d,
        other => panic!("{key}: {other:?}"),
    };
    let ours = double("gen_ai.usage.cost");
    assert_ne!(ours, 0.5);
    assert_eq!(double("tollbooth.cost.reported"), 0.5);
    let downstream = counted_downstream(&td);
    assert_eq!(total(&fused, tollbooth::metrics::COST, None), ours);
    assert_eq!(total(&downstream, tollbooth::metrics::COST, None), ours);
}

#[test]
fn tools_agents_and_workflows_are_neither_priced_nor_counted() {
    let usage = || kv_int("gen_ai.usage.input_tokens", 500);
    let spans = vec![
        span(
            "execute_tool search",
            vec![kv_str("gen_ai.operation.name", "execute_tool"), usage()],
        ),
        span(
            "search",
            vec![kv_str("openinference.span.kind", "TOOL"), usage()],
        ),
        span(
            "ai.toolCall",
            vec![kv_str("ai.operationId", "ai.toolCall"), usage()],
        ),
        span(
            "search.tool",
            vec![kv_str("traceloop.span.kind", "tool"), usage()],
        ),
        span(
            "invoke_agent planner",
            vec![kv_str("gen_ai.operation.name", "invoke_agent"), usage()],
        ),
        span(
            "planner",
            vec![kv_str("openinference.span.kind", "AGENT"), usage()],
        ),
        span(
            "flow.workflow",
            vec![kv_str("traceloop.span.kind", "workflow"), usage()],
        ),
        span(
            "invoke_workflow",
            vec![kv_str("gen_ai.operation.name", "invoke_workflow"), usage()],
        ),
        span(
            "ai.generateText",
            vec![kv_str("ai.operationId", "ai.generateText"), usage()],
        ),
    ];
    let n = spans.len();
    let (td, md, e) = priced_and_counted(spans.clone());
    for i in 0..n {
        assert_eq!(status(&td, i), None, "span {i}");
    }
    assert_eq!(requests(&md), 0.0);
    let s = e.stats();
    assert_eq!((s.genai_spans, s.genai_inference_spans), (n as u64, 0));
    let policy = r#"{"name":"t","type":"genai_tokens","genai_tokens":{"threshold":1}}"#;
    assert!(!kept(policy, spans));
}
