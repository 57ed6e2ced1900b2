"""End to end: a real Prometheus server scrapes the built collector while GenAI traces are sent;
the cost, token and request totals Prometheus reports equal the totals computed from the spans
sent, exactly. Prices are read from the same table the collector loads, and the expected cost
is computed here independently in exact decimals."""

import json
from collections import defaultdict
from decimal import Decimal

import pytest
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor

from conftest import ROOT, Collector, wait_until
from prometheus_server import PrometheusServer

PRICES = ROOT / "config" / "pricing" / "genai-prices.json"

# (model, input tokens, output tokens) per call; the unknown model is unpriced, never $0.
CALLS = [
    ("gpt-4o-mini", 1200, 300),
    ("gpt-4o-mini", 801, 77),
    ("gpt-4o", 15000, 1234),
    ("gpt-4o", 3, 5),
    ("acme-unknown-model", 500, 500),
] * 6


def per_token(model: str) -> tuple[Decimal, Decimal]:
    table = json.loads(PRICES.read_text())
    openai = next(p for p in table["providers"] if p["id"] == "openai")
    m = next(m for m in openai["models"] if m["id"] == model)
    prices = m["prices"]
    assert isinstance(prices, dict), "test models have undated prices"
    million = Decimal(1_000_000)
    return Decimal(prices["input_mtok"]) / million, Decimal(prices["output_mtok"]) / million


def expected_totals():
    cost = defaultdict(Decimal)
    tokens = defaultdict(int)
    requests = defaultdict(int)
    for model, inp, out in CALLS:
        requests[model] += 1
        tokens[(model, "input")] += inp
        tokens[(model, "output")] += out
        if model != "acme-unknown-model":
            pin, pout = per_token(model)
            cost[model] += inp * pin + out * pout
    return cost, tokens, requests


def send(collector: Collector) -> None:
    provider = TracerProvider(resource=Resource.create({"service.name": "billing-e2e"}))
    provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter(endpoint=f"http://{collector.http}/v1/traces")))
    tracer = provider.get_tracer("e2e.prometheus")
    for i, (model, inp, out) in enumerate(CALLS):
        with tracer.start_as_current_span("invoke_agent billing", attributes={"gen_ai.operation.name": "invoke_agent"}):
            with tracer.start_as_current_span(
                f"chat {model}",
                attributes={
                    "gen_ai.provider.name": "openai",
                    "gen_ai.operation.name": "chat",
                    "gen_ai.request.model": model,
                    "gen_ai.usage.input_tokens": inp,
                    "gen_ai.usage.output_tokens": out,
                    "e2e.index": i,
                },
            ):
                pass
    provider.shutdown()


def by_model(result: list[dict], extra: str | None = None) -> dict:
    out = {}
    for r in result:
        key = r["metric"]["gen_ai_request_model"]
        if extra:
            key = (key, r["metric"][extra])
        out[key] = float(r["value"][1])
    return out


@pytest.fixture
def stack(tmp_path):
    # The default policies with no probabilistic share: only errors, slow, expensive and
    # unpriced traces are kept, so the sampler drops most of what is sent.
    c = Collector(tmp_path, env={"TOLLBOOTH_SAMPLE_PERCENT": "0"})
    prom = PrometheusServer(tmp_path, [c.prometheus, f"127.0.0.1:{c.self_metrics_port}"])
    yield c, prom
    prom.stop()
    assert c.stop() == 0, c.log_text()


def test_prometheus_totals_equal_the_spans_sent_with_sampling_on(stack):
    collector, prom = stack
    send(collector)
    # The sampler really drops traces: only the unpriced calls' traces are kept.
    dropped = wait_until(
        lambda: (r := prom.query('sum(otelcol_processor_genai_tail_sampling_traces{decision="not_sampled"})'))
        and float(r[0]["value"][1]) >= 24 and r,
        timeout=60,
        what="the sampler to report 24 traces not sampled",
    )
    assert float(dropped[0]["value"][1]) == 24
    exported = [s for s in collector.exported_spans() if s["name"].startswith("chat ")]
    assert sorted({s["name"] for s in exported}) == ["chat acme-unknown-model"]
    assert len(exported) == 6
    cost, tokens, requests = expected_totals()
    want_requests = {m: float(n) for m, n in requests.items()}
    wait_until(
        lambda: by_model(prom.query('tollbooth_genai_requests_total{service_name="billing-e2e"}')) == want_requests,
        timeout=60,
        what=f"requests per model == {want_requests}",
    )
    got_cost = by_model(prom.query('tollbooth_genai_cost_USD_total{service_name="billing-e2e"}'))
    # Exact: the collector sums in integer pico-dollars and converts once; so do we.
    assert got_cost == {m: float(c) for m, c in cost.items()}, (got_cost, cost)
    assert "acme-unknown-model" not in got_cost, "unpriced calls add no $0 cost series"
    got_tokens = by_model(prom.query('tollbooth_genai_tokens_total{service_name="billing-e2e"}'), "gen_ai_token_type")
    assert got_tokens == {k: float(v) for k, v in tokens.items()}, got_tokens
    unpriced = by_model(prom.query('tollbooth_genai_unpriced_requests_total{service_name="billing-e2e"}'))
    assert unpriced == {"acme-unknown-model": float(requests["acme-unknown-model"])}
    # The histogram counts every call too, so histogram_quantile works on it.
    counts = by_model(prom.query('sum by (gen_ai_request_model) (gen_ai_client_operation_duration_seconds_count{service_name="billing-e2e"})'))
    assert counts == want_requests
    p99 = prom.query(
        'histogram_quantile(0.99, sum by (le) (gen_ai_client_operation_duration_seconds_bucket{service_name="billing-e2e"}))'
    )
    assert len(p99) == 1 and float(p99[0]["value"][1]) >= 0, p99


def test_every_dashboard_and_alert_query_names_an_exposed_metric(tmp_path):
    """Sends spans that produce every GenAI metric (priced, unpriced, failed, streamed), then
    runs the dashboard/alert checker against the collector's real /metrics endpoint."""
    import subprocess
    import sys

    from opentelemetry.trace import Status, StatusCode

    c = Collector(tmp_path)
    try:
        provider = TracerProvider(resource=Resource.create({"service.name": "names-e2e"}))
        provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter(endpoint=f"http://{c.http}/v1/traces")))
        tracer = provider.get_tracer("e2e.names")
        base = {"gen_ai.provider.name": "openai", "gen_ai.operation.name": "chat"}
        with tracer.start_as_current_span("chat", attributes={**base, "gen_ai.request.model": "gpt-4o",
                                                               "gen_ai.usage.input_tokens": 10,
                                                               "gen_ai.usage.output_tokens": 5,
                                                               "gen_ai.response.time_to_first_chunk": 0.25}):
            pass
        with tracer.start_as_current_span("chat", attributes={**base, "gen_ai.request.model": "acme-unknown",
                                                               "gen_ai.usage.input_tokens": 1}):
            pass
        with tracer.start_as_current_span("chat", attributes={**base, "gen_ai.request.model": "gpt-4o",
                                                               "error.type": "rate_limit"}) as failed:
            failed.set_status(Status(StatusCode.ERROR, "429"))
        provider.shutdown()
        wait_until(lambda: "tollbooth_genai_errors_total" in c.metrics() and "tollbooth_genai_unpriced" in c.metrics(),
                   timeout=40, what="error and unpriced series on /metrics")
        out = subprocess.run(
            [sys.executable, str(ROOT / "tests" / "dashboard" / "check_queries.py"),
             f"http://{c.prometheus}/metrics", f"http://127.0.0.1:{c.self_metrics_port}/metrics"],
            capture_output=True, text=True,
        )
        assert out.returncode == 0, out.stdout + out.stderr
    finally:
        assert c.stop() == 0, c.log_text()
