"""Cost per agent run, end to end, with the default configuration's sampler.

Agent runs are sent with the OTel Python SDK: a root span (an agent wrapper that repeats its
children's usage, so it is never priced) over a few model calls, one of them reported twice
(the same response id in a second span, as when two instrumentations trace one call). The
default sampler keeps errors, slow and expensive traces and 10% of the rest, so most runs are
dropped. The test checks, against an independent Decimal calculation from the price table:
- the root span of every kept run carries the run's totals (cost, tokens, calls), equal to
  the sum of the priced spans of that run as exported, duplicates excluded;
- the cost-per-trace histogram in genai_tail_sampling's self-telemetry has recorded every run,
  kept or dropped, and its sum is the sum of all runs' costs.
Trace ids come from a seeded generator, so the same runs are kept on every run of the test.
"""

from __future__ import annotations

import random
import sys
from decimal import Decimal
from pathlib import Path

from opentelemetry import trace
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor
from opentelemetry.sdk.trace.id_generator import IdGenerator

from conftest import BINARY, Collector, attributes, wait_until

sys.path.insert(0, str(Path(__file__).resolve().parent))
from test_instrumentations import Tokens, close, expected_cost  # noqa: E402

RUNS = 30
SERVICE = "agent-runs"
HIST = "otelcol_processor_genai_tail_sampling_trace_cost"


class SeededIds(IdGenerator):
    def __init__(self, seed: int):
        self.rng = random.Random(seed)

    def generate_span_id(self) -> int:
        return self.rng.getrandbits(64) or 1

    def generate_trace_id(self) -> int:
        return self.rng.getrandbits(128) or 1


def run_plan(i: int) -> list[tuple[str, int, int, int, bool]]:
    """(model, input, cached input, output, reported twice) for each call of run i. Run 0 is
    expensive enough for the `expensive` policy (> $0.05), so at least one run is kept."""
    if i == 0:
        return [("gpt-4o", 20_000, 0, 4_000, False)]
    calls = [("o3-mini", 2006 + i, 1920, 913, False), ("gpt-4o", 1536, 1024, 187 + i, i % 3 == 0)]
    if i % 2:
        calls.append(("o3-mini", 500, 0, 100 + i, False))
    return calls


def call_cost(model: str, inp: int, cached: int, out: int) -> Decimal:
    return expected_cost(model, Tokens(inp, cached, 0, 0, out, 0))["total"]


def send_runs(endpoint: str) -> dict[str, Decimal]:
    """Sends RUNS agent runs; returns each run's expected cost by trace id (hex)."""
    provider = TracerProvider(resource=Resource.create({"service.name": SERVICE}), id_generator=SeededIds(13))
    provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter(endpoint=f"http://{endpoint}/v1/traces")))
    tracer = provider.get_tracer("tollbooth.e2e.runs")
    want: dict[str, Decimal] = {}
    for i in range(RUNS):
        plan = run_plan(i)
        with tracer.start_as_current_span(
            "invoke_agent planner",
            attributes={
                "gen_ai.operation.name": "invoke_agent",
                "gen_ai.agent.name": "planner",
                "gen_ai.usage.input_tokens": sum(c[1] for c in plan),
                "gen_ai.usage.output_tokens": sum(c[3] for c in plan),
            },
        ) as root:
            total = Decimal(0)
            for n, (model, inp, cached, out, twice) in enumerate(plan):
                attrs = {
                    "gen_ai.operation.name": "chat",
                    "gen_ai.provider.name": "openai",
                    "gen_ai.request.model": model,
                    "gen_ai.response.id": f"chatcmpl-run{i}-{n}",
                    "gen_ai.usage.input_tokens": inp,
                    "gen_ai.usage.cache_read.input_tokens": cached,
                    "gen_ai.usage.output_tokens": out,
                }
                with tracer.start_as_current_span(f"chat {model}", attributes=attrs):
                    if twice:
                        # The same call seen by a second instrumentation: one call, one price.
                        with tracer.start_as_current_span(f"{model} (sdk span)", attributes=attrs):
                            pass
                total += call_cost(model, inp, cached, out)
            want[format(root.get_span_context().trace_id, "032x")] = total
    provider.force_flush()
    provider.shutdown()
    return want


def histogram(text: str, suffix: str) -> float:
    total = 0.0
    for line in text.splitlines():
        name = line.split("{", 1)[0].split(" ", 1)[0]
        if name.startswith(HIST) and name.endswith(suffix) and f'service_name="{SERVICE}"' in line:
            total += float(line.rsplit(" ", 1)[1])
    return total


def test_cost_per_run_on_kept_roots_and_in_the_histogram_for_every_run(tmp_path):
    assert BINARY.exists(), "run `make dist`"
    c = Collector(tmp_path, keep_everything=False, env={"TOLLBOOTH_DECISION_WAIT": "1s"})
    try:
        want = send_runs(c.http)
        # Every run decided: the histogram has one observation per run, kept or not.
        text = wait_until(
            lambda: (t := c.self_metrics()) and histogram(t, "_count") >= RUNS and t,
            timeout=30,
            what="the cost-per-trace histogram",
        )
        assert histogram(text, "_count") == RUNS
        close(histogram(text, "_sum"), sum(want.values(), Decimal(0)), "histogram sum")
        assert 'tollbooth_trace_root="invoke_agent planner"' in text

        spans = c.exported_spans()
        kept = {s["traceId"] for s in spans}
        assert 1 <= len(kept) <= RUNS // 2, f"the default sampler keeps few runs, kept {len(kept)}"
        for trace_id in kept:
            mine = [(s, attributes(s)) for s in spans if s["traceId"] == trace_id]
            roots = [a for s, a in mine if not s.get("parentSpanId")]
            assert len(roots) == 1, trace_id
            root = roots[0]
            priced = [a for _, a in mine if a.get("tollbooth.cost.status") == "priced"]
            duplicates = [a for _, a in mine if a.get("tollbooth.cost.status") == "duplicate"]
            plan = run_plan(next(i for i in range(RUNS) if f"chatcmpl-run{i}-0" in {a.get("gen_ai.response.id") for a in priced}))
            assert len(priced) == len(plan)
            assert len(duplicates) == sum(1 for c_ in plan if c_[4])
            assert root["tollbooth.trace.llm_calls"] == len(plan)
            assert root["tollbooth.trace.input_tokens"] == sum(a["gen_ai.usage.input_tokens"] for a in priced)
            assert root["tollbooth.trace.output_tokens"] == sum(a["gen_ai.usage.output_tokens"] for a in priced)
            close(root["tollbooth.trace.cost"], sum(Decimal(repr(a["gen_ai.usage.cost"])) for a in priced), "root vs spans")
            close(root["tollbooth.trace.cost"], want[trace_id_hex(trace_id)], "root vs calculator")
    finally:
        assert c.stop() == 0, c.log_text()


def trace_id_hex(trace_id: str) -> str:
    """OTLP JSON writes trace ids as hex (the file exporter) or base64; ours are hex."""
    return trace_id.lower()
