"""config/examples/tail-sampling.yaml end to end (bench binary: it has every component the example
uses): every GenAI call is counted before sampling, and the sampler keeps an errored trace and an
LLM rate-limited trace while sampling the plain ones."""

import random

import pytest

from conftest import ROOT, wait_until
from procs import Proc, make_span, post_spans, trace_spans

EXAMPLE = ROOT / "config" / "examples" / "tail-sampling.yaml"
PLAIN = 40


def chat(tid, sid, parent=b"", **extra):
    attrs = {"gen_ai.operation.name": "chat", "gen_ai.provider.name": "openai",
             "gen_ai.request.model": "gpt-4o-mini", "gen_ai.usage.input_tokens": 12,
             "gen_ai.usage.output_tokens": 30}
    attrs.update(extra)
    return make_span(tid, sid, parent, name="chat gpt-4o-mini", dur_ns=200_000_000, attrs=attrs)


@pytest.fixture
def example(tmp_path):
    p = Proc(tmp_path, "example", EXAMPLE)
    yield p
    code = p.stop()
    assert code == 0, f"collector exited with {code}:\n{p.log_text()}"


def requests_total(text: str) -> float:
    return sum(float(l.rsplit(" ", 1)[1]) for l in text.splitlines()
               if l.startswith("tollbooth_genai_requests_total{"))


def test_example_counts_everything_and_keeps_what_matters(example):
    rng = random.Random(5)
    spans, plain = [], []
    errored, limited = rng.randbytes(16), rng.randbytes(16)
    root = rng.randbytes(8)
    spans += [make_span(errored, root, name="POST /chat", error=True), chat(errored, rng.randbytes(8), root)]
    root = rng.randbytes(8)
    spans += [make_span(limited, root, name="POST /chat"),
              chat(limited, rng.randbytes(8), root, **{"http.response.status_code": 429})]
    for _ in range(PLAIN):
        tid, root = rng.randbytes(16), rng.randbytes(8)
        plain.append(tid.hex())
        spans += [make_span(tid, root, name="POST /chat"), chat(tid, rng.randbytes(8), root)]
    post_spans(example.http, spans)

    # Counted before sampling: all 42 calls.
    wait_until(lambda: requests_total(example.metrics()) == PLAIN + 2, timeout=60,
               what="every GenAI call counted on the metrics endpoint")
    # Decided ~2 s after the root (decision_wait_after_root_received).
    wait_until(lambda: {errored.hex(), limited.hex()} <= set(trace_spans(example.out_dir / "traces.jsonl")),
               timeout=60, what="the errored and the rate-limited traces kept")
    wait_until(lambda: "otelcol_processor_genai_tail_sampling_traces" in (t := example.self_metrics()) and
               sum(float(l.rsplit(" ", 1)[1]) for l in t.splitlines()
                   if l.startswith("otelcol_processor_genai_tail_sampling_traces{")) == PLAIN + 2,
               timeout=60, what="every trace decided")
    kept = trace_spans(example.out_dir / "traces.jsonl")
    kept_plain = [t for t in plain if t in kept]
    assert len(kept_plain) < PLAIN / 2, f"10% probabilistic kept {len(kept_plain)} of {PLAIN}"
    for tid, sids in kept.items():
        assert len(sids) == 2, f"trace {tid} kept partly"
