"""End to end with real instrumentation libraries.

Each library instruments the official provider SDK in its own process (instr_client.py, run with the
instrumentation venv .venv-instr), calls our fake provider (fake_llm.py) on loopback and exports over
OTLP/HTTP to the built collector. The test then reads out/traces.jsonl and checks that every
inference span carries the cost the provider would bill, computed here independently with Decimal
from the fake server's token counts and the per-million prices in config/pricing/genai-prices.json,
and that the hand-written agent span around the calls is not priced.

What each library puts on its spans (and so what the collector can know) is recorded in
INSTRUMENTATIONS.md; `visible_usage` below encodes the same facts.

Several libraries report one call in more than one span (a framework span over a provider-SDK
span, or an SDK's own tracing under an instrumentation library). Every test checks exactly-once
accounting: one accounted span per real call, every other span of that call marked
`tollbooth.cost.status = duplicate` without a cost, and the metrics counting each call once.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import dataclass, replace
from decimal import Decimal
from pathlib import Path

import pytest

from conftest import ROOT, attributes, wait_until

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from fake_llm import USAGE, AnthropicUsage, FakeLLM, OpenAIUsage  # noqa: E402

PRICING = ROOT / "config" / "pricing" / "genai-prices.json"
INSTR_PYTHON = Path(os.environ.get("TOLLBOOTH_INSTR_PYTHON", ROOT / ".venv-instr" / "bin" / "python"))
# Libraries whose pins conflict with .venv-instr run in .venv-instr-GROUP (Makefile INSTR_GROUPS).
VENV_GROUP = {"openlit": "openlit", "pyai-logfire": "pyai", "langchain-openinference": "langchain", "litellm": "litellm"}
AISDK_DIR = HERE / "aisdk"
MTOK = Decimal(1_000_000)

# library -> [(requested model, streamed)], the same list instr_client.py calls.
CALLS = {
    "openai-v2": [("o3-mini", False), ("gpt-4o", True)],
    "openllmetry-openai": [("o3-mini", False), ("gpt-4o", True)],
    "openllmetry-anthropic": [("claude-sonnet-4-5", False), ("claude-haiku-4-5", True)],
    "openinference-openai": [("o3-mini", False), ("gpt-4o", True)],
    "anthropic-sdk": [("claude-sonnet-4-5", False), ("claude-haiku-4-5", True)],
    "openlit": [("o3-mini", False), ("gpt-4o", True), ("claude-sonnet-4-5", False), ("claude-haiku-4-5", True)],
    "pyai-logfire": [("o3-mini", False), ("gpt-4o", True)],
    "langchain-openinference": [("o3-mini", False), ("gpt-4o", True)],
    "litellm": [("o3-mini", False), ("gpt-4o", True)],
    "aisdk": [("o3-mini", False), ("gpt-4o", True)],
}
# How many spans report each call with its usage (observed; INSTRUMENTATIONS.md): all but one
# must be marked duplicates.
REPORTS = {"pyai-logfire": 2, "langchain-openinference": 2}
# Spans that wrap the calls and repeat their usage: never accounted.
WRAPPER_OPERATIONS = ("ai.generateText", "ai.streamText")
# Price entries in genai-prices.json for the requested models (provider id, model id).
PRICE_ENTRY = {
    "o3-mini": ("openai", "o3-mini"),
    "gpt-4o": ("openai", "gpt-4o"),
    "claude-sonnet-4-5": ("anthropic", "claude-sonnet-4-5"),
    "claude-haiku-4-5": ("anthropic", "claude-haiku-4-5"),
}


# ---- an independent calculator, for the few models used here ----

def unit_prices(model: str) -> dict[str, Decimal]:
    """USD per million tokens by unit, standard tier, from the shipped table. Tiered units give
    their base price: every call here stays far below the first tier's threshold (checked)."""
    provider_id, model_id = PRICE_ENTRY[model]
    data = json.loads(PRICING.read_text())
    provider = next(p for p in data["providers"] if p["id"] == provider_id)
    entry = next(m for m in provider["models"] if m["id"] == model_id)
    prices = entry["prices"]
    assert isinstance(prices, dict), f"{model_id}: dated price list; this calculator handles one price set"
    out = {}
    for unit, value in prices.items():
        if isinstance(value, dict):
            assert all(t["start"] > 100_000 for t in value["tiers"]), (model_id, unit)
            value = value["base"]
        out[unit] = Decimal(value)
    return out


@dataclass(frozen=True)
class Tokens:
    """Usage as the provider bills it, in the inclusive convention: input includes cache reads and
    writes, output includes reasoning."""

    input_total: int
    cache_read: int
    cache_write_5m: int
    cache_write_1h: int
    output_total: int
    reasoning: int

    @property
    def cache_write(self) -> int:
        return self.cache_write_5m + self.cache_write_1h


def expected_cost(model: str, t: Tokens) -> dict[str, Decimal]:
    p = unit_prices(model)
    uncached = t.input_total - t.cache_read - t.cache_write
    assert uncached >= 0
    # Reasoning is already inside output_total; a model with a separate reasoning price would bill
    # those tokens at it instead, never at both.
    p_reason = p.get("output_reasoning_mtok", p["output_mtok"])
    parts = {
        "input": uncached * p["input_mtok"],
        "cache_read": t.cache_read * p.get("cache_read_mtok", p["input_mtok"]),
        "cache_write": t.cache_write_5m * p.get("cache_write_mtok", p["input_mtok"])
        + t.cache_write_1h * p.get("cache_write_1h_mtok", p.get("cache_write_mtok", p["input_mtok"])),
        "output": (t.output_total - t.reasoning) * p["output_mtok"] + t.reasoning * p_reason,
    }
    parts = {k: v / MTOK for k, v in parts.items()}
    parts["total"] = sum(parts.values(), Decimal(0))
    return parts


def provider_tokens(model: str) -> Tokens:
    """What the fake provider returned, converted to the inclusive convention by provider rules:
    OpenAI prompt_tokens already include cached_tokens; Anthropic input_tokens exclude cache reads
    and writes."""
    u = USAGE[model]
    if isinstance(u, OpenAIUsage):
        return Tokens(u.prompt_tokens, u.cached_tokens, 0, 0, u.completion_tokens, u.reasoning_tokens)
    assert isinstance(u, AnthropicUsage)
    return Tokens(
        u.input_tokens + u.cache_read_input_tokens + u.cache_creation_input_tokens,
        u.cache_read_input_tokens,
        u.cache_creation_5m,
        u.cache_creation_1h,
        u.output_tokens,
        0,
    )


def visible_usage(library: str, model: str, streamed: bool) -> Tokens:
    """The usage a library's span lets anyone downstream know (observed; see INSTRUMENTATIONS.md).
    For a call reported twice, the span accounted is the one that reaches the collector first:
    instrumentations export a span when it ends, so the inner (provider SDK) span."""
    t = provider_tokens(model)
    if library == "openlit":
        # No reasoning count on OpenAI spans; no 5m/1h split of Anthropic cache writes.
        t = replace(t, reasoning=0)
        return replace(t, cache_write_5m=t.cache_write, cache_write_1h=0)
    if library == "pyai-logfire" and not streamed:
        # logfire's `Chat Completion` span (ends first, so accounted) has no reasoning count;
        # pydantic-ai's span has it. Reasoning is billed as output for o3-mini: same cost.
        return replace(t, reasoning=0)
    if library == "openai-v2":
        # Chat Completions spans carry only gen_ai.usage.input_tokens/output_tokens: the cached
        # and reasoning counts are dropped, so cached input can only be billed at the full rate.
        return replace(t, cache_read=0, reasoning=0)
    if library == "openllmetry-anthropic":
        # No 5m/1h split on the span: every cache write looks like a 5-minute one.
        t = replace(t, cache_write_5m=t.cache_write, cache_write_1h=0)
        if streamed:
            # Adds message_start's output_tokens (1) to message_delta's cumulative count.
            t = replace(t, output_total=t.output_total + 1)
        return t
    return t


# ---- running one library ----

def client_command(library: str) -> list[str]:
    if library == "aisdk":
        if not (AISDK_DIR / "node_modules").exists():
            pytest.fail(f"{AISDK_DIR}/node_modules is missing: run `make node-aisdk` (make test-e2e does it)")
        return ["node", str(AISDK_DIR / "client.mjs")]
    python = INSTR_PYTHON
    if library in VENV_GROUP:
        python = ROOT / f".venv-instr-{VENV_GROUP[library]}" / "bin" / "python"
    if not python.exists():
        pytest.fail(f"{python} is missing: run `make venv-instr venv-instr-groups` (make test-e2e does it)")
    return [str(python), str(HERE / "instr_client.py"), library]


def run_client(library: str, collector, fake: FakeLLM, sdk_tracing: bool = False) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OTEL_", "OPENAI_", "ANTHROPIC_", "TRACELOOP_", "LOGFIRE_"))}
    env["OTEL_SDK_DISABLED"] = "false"
    # No price downloads from the libraries that try (LiteLLM, OpenLIT): offline here.
    env["LITELLM_LOCAL_MODEL_COST_MAP"] = "True"
    if library != "anthropic-sdk" and not sdk_tracing:
        # One span per call: the anthropic SDK's own tracing would add a second span.
        env["ANTHROPIC_OPEN_TELEMETRY"] = "false"
    proc = subprocess.run(
        [*client_command(library), f"http://{collector.http}", fake.url],
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert proc.returncode == 0, f"{library} client failed:\n{proc.stdout}\n{proc.stderr}"
    done = json.loads(proc.stdout.strip().splitlines()[-1])
    assert [tuple(c) for c in done["calls"]] == CALLS[library], "instr_client.py and CALLS disagree"


def response_model(a: dict) -> str | None:
    return a.get("gen_ai.response.model") or a.get("llm.model_name")


def requested(model_name: str) -> str:
    return next((m for m in PRICE_ENTRY if model_name.startswith(m)), "")


def close(actual: float, expected: Decimal, what: str) -> None:
    exp = float(expected)
    assert abs(actual - exp) <= 1e-9 * max(abs(exp), 1e-12), f"{what}: {actual!r} != {expected}"


def metric_sum(text: str, name: str, service: str, *labels: str) -> float:
    """Sum of a Prometheus counter's samples for one service (and the given label matchers)."""
    total = 0.0
    for line in text.splitlines():
        metric = line.split("{", 1)[0].split(" ", 1)[0]
        # The exporter may append the unit and _total (tollbooth_genai_cost_USD_total).
        if line.startswith("#") or metric not in (name, f"{name}_total", f"{name}_USD_total"):
            continue
        head = line.rsplit(" ", 1)[0]
        if f'service_name="{service}"' in head and all(lb in head for lb in labels):
            total += float(line.rsplit(" ", 1)[1])
    return total


@pytest.fixture
def fake_llm():
    with FakeLLM() as f:
        yield f


ACCOUNTED = ("priced", "provider_reported")


def is_wrapper(span: dict, a: dict) -> bool:
    return a.get("gen_ai.operation.name") == "invoke_agent" or a.get("ai.operationId") in WRAPPER_OPERATIONS


def collect(library: str, collector, calls, reports: int) -> list[tuple[dict, dict]]:
    """Waits until every span reporting a call has been through the collector."""

    def ready():
        spans = collector.exported_spans()
        by_span = [(s, attributes(s)) for s in spans]
        judged = [a for _, a in by_span if a.get("tollbooth.cost.status") in (*ACCOUNTED, "duplicate")]
        return by_span if len(judged) >= len(calls) * reports else None

    return wait_until(ready, timeout=30, what=f"{library} spans in out/traces.jsonl")


def check_call_spans(library: str, by_span, calls, reports: int) -> None:
    """One accounted span per real call, at the right cost; the rest of its spans duplicates."""
    accounted = [(s, a) for s, a in by_span if a.get("tollbooth.cost.status") in ACCOUNTED]
    duplicates = [(s, a) for s, a in by_span if a.get("tollbooth.cost.status") == "duplicate"]
    statuses = [(s["name"], a.get("tollbooth.cost.status")) for s, a in by_span]
    assert len(accounted) == len(calls), statuses
    assert len(duplicates) == len(calls) * (reports - 1), statuses
    for s, a in duplicates:
        assert "gen_ai.usage.cost" not in a and "tollbooth.cost.input" not in a, (s["name"], a)

    # Wrappers repeat their children's usage: never accounted.
    for s, a in by_span:
        if is_wrapper(s, a):
            assert "gen_ai.usage.cost" not in a, (s["name"], a)
            assert a.get("tollbooth.cost.status") is None, (s["name"], a)

    for model, streamed in calls:
        matching = [(s, a) for s, a in accounted if requested(response_model(a) or "") == model]
        assert len(matching) == 1, f"{library}: expected one accounted span for {model}, got {len(matching)}"
        span, a = matching[0]
        what = f"{library} {span['name']} ({model}, stream={streamed})"
        truth = provider_tokens(model)
        seen = visible_usage(library, model, streamed)
        want = expected_cost(model, seen)

        # Canonical names written (or kept) on every inference span.
        assert a["gen_ai.usage.input_tokens"] == seen.input_total, what
        assert a["gen_ai.usage.output_tokens"] == seen.output_total, what
        if seen.cache_read:
            assert a["gen_ai.usage.cache_read.input_tokens"] == seen.cache_read, what
        if seen.cache_write:
            assert a["gen_ai.usage.cache_creation.input_tokens"] == seen.cache_write, what
        if seen.reasoning:
            assert a["gen_ai.usage.reasoning.output_tokens"] == seen.reasoning, what
        assert a["gen_ai.provider.name"] == ("anthropic" if model.startswith("claude") else "openai"), what

        # The money: our price, whatever the instrumentation estimated (or wrote as 0).
        assert a["tollbooth.cost.status"] == "priced", what
        assert a["tollbooth.cost.source"] == "price_book", what
        assert a["tollbooth.cost.price_entry"] == "genai-prices:{}/{}".format(*PRICE_ENTRY[model]), what
        close(a["gen_ai.usage.cost"], want["total"], f"{what} gen_ai.usage.cost")
        close(a["tollbooth.cost.input"], want["input"], f"{what} tollbooth.cost.input")
        close(a["tollbooth.cost.cache_read"], want["cache_read"], f"{what} tollbooth.cost.cache_read")
        close(a["tollbooth.cost.cache_write"], want["cache_write"], f"{what} tollbooth.cost.cache_write")
        close(
            a["tollbooth.cost.output"] + a["tollbooth.cost.reasoning"],
            want["output"],
            f"{what} tollbooth.cost.output + reasoning",
        )
        if library in ("openlit", "pyai-logfire", "litellm"):
            # The library's own figure is kept beside ours, never taken as the bill.
            assert "tollbooth.cost.reported" in a, what
        if seen == truth:
            # Lossless instrumentation: the span's cost is what the provider bills.
            close(a["gen_ai.usage.cost"], expected_cost(model, truth)["total"], f"{what} vs provider bill")


def check_metrics(library: str, collector, calls, service: str) -> str:
    """The metrics count each call once, with the tokens and money of the accounted spans."""
    seen_all = [visible_usage(library, m, st) for m, st in calls]
    want_tokens = {
        "input": sum(t.input_total for t in seen_all),
        "output": sum(t.output_total for t in seen_all),
        "cache_read": sum(t.cache_read for t in seen_all),
        "cache_write": sum(t.cache_write for t in seen_all),
        "reasoning": sum(t.reasoning for t in seen_all),
    }
    text = wait_until(
        lambda: (t := collector.metrics()) and metric_sum(t, "tollbooth_genai_requests_total", service) >= len(calls) and t,
        timeout=20,
        what="the GenAI metrics of the calls",
    )
    assert metric_sum(text, "tollbooth_genai_requests_total", service) == len(calls), library
    got_tokens = {k: metric_sum(text, "tollbooth_genai_tokens_total", service, f'gen_ai_token_type="{k}"') for k in want_tokens}
    assert got_tokens == {k: float(v) for k, v in want_tokens.items()}, library
    want_usd = sum((expected_cost(m, t)["total"] for (m, _), t in zip(calls, seen_all)), Decimal(0))
    close(metric_sum(text, "tollbooth_genai_cost", service), want_usd, f"{library} cost metric")
    # Every call has an operation, and one model is one series whatever the instrumentation.
    assert metric_sum(text, "tollbooth_genai_requests_total", service, 'gen_ai_operation_name="chat"') == len(calls)
    for model, _ in calls:
        assert metric_sum(text, "tollbooth_genai_requests_total", service, f'gen_ai_request_model="{model}"') == 1, (
            library, model)
    return text


@pytest.mark.parametrize("library", list(CALLS))
def test_instrumentation_spans_are_priced_like_the_provider_bills(library, collector, fake_llm):
    calls = CALLS[library]
    run_client(library, collector, fake_llm)
    assert len(fake_llm.requests) == len(calls)
    reports = REPORTS.get(library, 1)
    by_span = collect(library, collector, calls, reports)
    check_call_spans(library, by_span, calls, reports)
    check_metrics(library, collector, calls, f"instr-{library}")
    if library == "langchain-openinference":
        # The pair is in different traces: a rule within one trace would miss it.
        traces = {s["traceId"] for s, a in by_span if a.get("tollbooth.cost.status")}
        assert len(traces) == len(calls) * reports, traces


def test_calculator_sanity():
    """The independent calculator itself, on hand-worked numbers (USD)."""
    # o3-mini: 86 uncached x 1.1 + 1920 cached x 0.55 + 913 output x 4.4, per million.
    assert expected_cost("o3-mini", provider_tokens("o3-mini"))["total"] == Decimal("0.0051678")
    # claude-haiku-4-5: 230 x 1 + 2048 one-hour writes x 2 + 96 x 5, per million.
    assert expected_cost("claude-haiku-4-5", provider_tokens("claude-haiku-4-5"))["total"] == Decimal("0.004806")


def test_sdk_tracing_plus_openllmetry_prices_each_call_once(collector, fake_llm):
    """With the anthropic SDK's built-in tracing left on (its default) under OpenLLMetry, each call
    yields two sibling inference spans carrying the same usage and response id. The SDK's span
    ends first, reaches the collector first and is accounted (it is also the lossless one: 1-hour
    cache writes, streamed output counted right); OpenLLMetry's is the duplicate."""
    run_client("openllmetry-anthropic", collector, fake_llm, sdk_tracing=True)
    calls = CALLS["openllmetry-anthropic"]
    by_span = collect("anthropic SDK + OpenLLMetry", collector, calls, 2)
    check_call_spans("anthropic-sdk", by_span, calls, 2)
    accounted = [s for s, a in by_span if a.get("tollbooth.cost.status") in ACCOUNTED]
    assert {s["name"] for s in accounted} == {"anthropic.messages.create"}
    check_metrics("anthropic-sdk", collector, calls, "instr-openllmetry-anthropic")
