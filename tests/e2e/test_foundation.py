"""End to end: the OpenTelemetry Python SDK sends to the built collector; spans come out of the
file exporter enriched by the Rust engine and GenAI calls are counted on the metrics endpoint."""

import re
import signal
import urllib.request

from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import OTLPSpanExporter as GrpcExporter
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter as HttpExporter
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.proto.common.v1.common_pb2 import AnyValue, KeyValue
from opentelemetry.proto.trace.v1.trace_pb2 import ResourceSpans, ScopeSpans, Span
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor

from conftest import Collector, attributes, wait_until


def send_chat_spans(exporter, service: str, model: str, count: int) -> None:
    """Emits `count` OTel-GenAI chat spans (1.27-1.36 names: gen_ai.system) under one agent span."""
    provider = TracerProvider(resource=Resource.create({"service.name": service}))
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    tracer = provider.get_tracer("e2e.genai")
    with tracer.start_as_current_span("invoke_agent support", attributes={"gen_ai.operation.name": "invoke_agent"}):
        for i in range(count):
            with tracer.start_as_current_span(
                f"chat {model}",
                attributes={
                    "gen_ai.system": "openai",
                    "gen_ai.operation.name": "chat",
                    "gen_ai.request.model": model,
                    "gen_ai.usage.input_tokens": 100 + i,
                    "gen_ai.usage.output_tokens": 20,
                },
            ):
                pass
    provider.shutdown()


def spans_named(c: Collector, prefix: str) -> list[dict]:
    return [s for s in c.exported_spans() if s["name"].startswith(prefix)]


def requests_total(metrics_text: str, model: str) -> float:
    total = 0.0
    for line in metrics_text.splitlines():
        if line.startswith("tollbooth_genai_requests_total{") and f'gen_ai_request_model="{model}"' in line:
            total += float(line.rsplit(" ", 1)[1])
    return total


def test_grpc_and_http_spans_pass_through_the_engine(collector):
    send_chat_spans(GrpcExporter(endpoint=f"http://{collector.grpc}", insecure=True), "svc-grpc", "gpt-4o", 2)
    send_chat_spans(HttpExporter(endpoint=f"http://{collector.http}/v1/traces"), "svc-http", "gpt-4o-mini", 3)

    chats = wait_until(
        lambda: (s := spans_named(collector, "chat ")) and len(s) == 5 and s,
        what="5 chat spans in out/traces.jsonl",
    )
    for span in chats:
        attrs = attributes(span)
        # Written by the Rust engine: the latest OTel name beside the original.
        assert attrs["gen_ai.provider.name"] == "openai", attrs
        assert attrs["gen_ai.system"] == "openai"
    agents = spans_named(collector, "invoke_agent")
    assert len(agents) == 2
    assert "gen_ai.provider.name" not in attributes(agents[0]), "nothing invented for spans naming no provider"


def test_calls_are_counted_on_the_metrics_endpoint(collector):
    send_chat_spans(HttpExporter(endpoint=f"http://{collector.http}/v1/traces"), "svc", "gpt-4o", 4)
    send_chat_spans(GrpcExporter(endpoint=f"http://{collector.grpc}", insecure=True), "svc", "o3-mini", 1)
    text = wait_until(
        lambda: (t := collector.metrics()) and requests_total(t, "gpt-4o") == 4 and requests_total(t, "o3-mini") == 1 and t,
        timeout=40,
        what="tollbooth_genai_requests_total for gpt-4o == 4 and o3-mini == 1",
    )
    # The agent span wraps the calls; it is not a call of its own.
    assert 'gen_ai_operation_name="invoke_agent"' not in text


def invalid_utf8_request() -> bytes:
    """An OTLP request whose span has a string attribute that is not UTF-8.

    Python's protobuf cannot hold such a string, so a placeholder of the same length is
    serialised and its bytes swapped afterwards: the length prefixes stay right.
    """
    placeholder = "PLACEHOLDER-1234"
    bad = b"caf\xe9 \xff\xfe bytes!!!!"[: len(placeholder)]
    assert len(bad) == len(placeholder)
    span = Span(
        trace_id=bytes(range(1, 17)),
        span_id=bytes(range(1, 9)),
        name="chat invalid-utf8",
        kind=Span.SPAN_KIND_CLIENT,
        start_time_unix_nano=1_700_000_000_000_000_000,
        end_time_unix_nano=1_700_000_001_000_000_000,
        attributes=[
            KeyValue(key="gen_ai.system", value=AnyValue(string_value="openai")),
            KeyValue(key="gen_ai.prompt.0.content", value=AnyValue(string_value=placeholder)),
        ],
    )
    req = ExportTraceServiceRequest(resource_spans=[ResourceSpans(scope_spans=[ScopeSpans(spans=[span])])])
    raw = req.SerializeToString()
    assert raw.count(placeholder.encode()) == 1
    return raw.replace(placeholder.encode(), bad)


def test_invalid_utf8_batch_fails_open_and_is_counted(collector):
    body = invalid_utf8_request()
    req = urllib.request.Request(
        f"http://{collector.http}/v1/traces", data=body, headers={"Content-Type": "application/x-protobuf"}
    )
    with urllib.request.urlopen(req, timeout=5) as r:
        assert r.status == 200

    def exported():
        raw = collector.traces_file().read_bytes() if collector.traces_file().exists() else b""
        return b"chat invalid-utf8" in raw

    wait_until(exported, what="the invalid-UTF-8 span in out/traces.jsonl")
    counted = wait_until(
        lambda: re.search(
            r'^otelcol_processor_genai_batches_failed_open(_total)?\{[^}]*reason="undecodable"[^}]*\} (\S+)',
            collector.self_metrics(),
            re.M,
        ),
        what="the fail-open self-metric",
    )
    assert float(counted.group(2)) >= 1


def test_interrupt_stops_the_collector_cleanly(tmp_path):
    c = Collector(tmp_path)
    send_chat_spans(HttpExporter(endpoint=f"http://{c.http}/v1/traces"), "svc", "gpt-4o", 1)
    wait_until(lambda: spans_named(c, "chat "), what="a span before shutdown")
    assert c.stop(signal.SIGINT) == 0, c.log_text()
    assert "Shutdown complete" in c.log_text()
