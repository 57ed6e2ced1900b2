"""End to end: the OpenTelemetry Python SDK sends to the built collector; spans come out of the
file exporter enriched by the Rust engine and GenAI calls are counted on the metrics endpoint."""

import signal

from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import OTLPSpanExporter as GrpcExporter
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter as HttpExporter
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


def test_interrupt_stops_the_collector_cleanly(tmp_path):
    c = Collector(tmp_path)
    send_chat_spans(HttpExporter(endpoint=f"http://{c.http}/v1/traces"), "svc", "gpt-4o", 1)
    wait_until(lambda: spans_named(c, "chat "), what="a span before shutdown")
    assert c.stop(signal.SIGINT) == 0, c.log_text()
    assert "Shutdown complete" in c.log_text()
