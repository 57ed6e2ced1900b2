"""Two-tier scale-out: stateless tier 1 (load_balancing by trace ID) in front of two
genai_tail_sampling collectors. Each trace's spans arrive in different batches at different
tier-1 instances; each trace must be decided once, all its spans together, in exactly one
tier-2 collector's output."""

import random
import time

import pytest

from conftest import ROOT, wait_until
from procs import Proc, make_span, metric_value, post_spans, read_requests, spans_of, trace_spans

TIER1 = ROOT / "config" / "two-tier" / "tier1.yaml"
TIER2 = ROOT / "config" / "two-tier" / "tier2.yaml"
TRACES = 60
SPANS_PER_TRACE = 4


@pytest.fixture
def tiers(tmp_path, request):
    percent = request.param
    started = []
    try:
        tier2 = [
            Proc(tmp_path, f"tier2-{i}", TIER2,
                 {"TOLLBOOTH_DECISION_WAIT": "3s", "TOLLBOOTH_SAMPLE_PERCENT": str(percent)})
            for i in range(2)
        ]
        started += tier2
        env = {"TOLLBOOTH_TIER2_A": tier2[0].grpc, "TOLLBOOTH_TIER2_B": tier2[1].grpc}
        tier1 = [Proc(tmp_path, f"tier1-{i}", TIER1, env) for i in range(2)]
        started += tier1
        yield tier1, tier2, percent
    finally:
        # Tier 1 first so its queues drain into tier 2; tier 2 flushes on shutdown.
        for p in reversed(started):
            code = p.stop()
            assert code == 0, f"{p.name} exited with {code}:\n{p.log_text()}"


def send_split_traces(tier1, seed: int) -> dict[str, set[str]]:
    """Sends TRACES traces, each split over SPANS_PER_TRACE batches alternating between the
    tier-1 instances, batches interleaving traces. Returns traceId hex -> span IDs hex."""
    rng = random.Random(seed)
    traces = {}
    for t in range(TRACES):
        tid = rng.randbytes(16)
        sids = [rng.randbytes(8) for _ in range(SPANS_PER_TRACE)]
        traces[tid] = sids
    for part in range(SPANS_PER_TRACE):
        batch = []
        for tid, sids in traces.items():
            parent = sids[0] if part else b""
            batch.append(make_span(tid, sids[part], parent, name=f"part-{part}"))
        # Different batches of one trace go to different tier-1 instances.
        half = len(batch) // 2
        post_spans(tier1[part % 2].http, batch[:half])
        post_spans(tier1[(part + 1) % 2].http, batch[half:])
    return {tid.hex(): {s.hex() for s in sids} for tid, sids in traces.items()}


def collect(tier2) -> list[dict[str, list[str]]]:
    return [trace_spans(p.out_dir / "traces.jsonl") for p in tier2]


def assert_whole_and_once(tier2, sent: dict[str, set[str]]):
    outputs = collect(tier2)
    seen_in: dict[str, int] = {}
    for i, out in enumerate(outputs):
        for tid, sids in out.items():
            assert tid in sent, f"unknown trace {tid}"
            assert tid not in seen_in, f"trace {tid} exported by tier2-{seen_in[tid]} and tier2-{i}"
            seen_in[tid] = i
            assert sorted(sids) == sorted(sent[tid]), f"trace {tid} split or duplicated in tier2-{i}: {sids}"
    # Decided once: all of a trace's spans were released together, in one export request.
    for p in tier2:
        per_request_traces: dict[str, int] = {}
        for req in read_requests(p.out_dir / "traces.jsonl"):
            for tid in {s["traceId"].lower() for s in spans_of(req)}:
                per_request_traces[tid] = per_request_traces.get(tid, 0) + 1
        split = {t: n for t, n in per_request_traces.items() if n > 1}
        assert not split, f"{p.name} released these traces in more than one piece: {split}"
    return seen_in


@pytest.mark.parametrize("tiers", [100], indirect=True)
def test_every_trace_decided_once_whole_in_one_sampler(tiers):
    tier1, tier2, _ = tiers
    sent = send_split_traces(tier1, seed=1)
    wait_until(lambda: sum(len(o) for o in collect(tier2)) == TRACES and
               sum(len(s) for o in collect(tier2) for s in o.values()) == TRACES * SPANS_PER_TRACE,
               timeout=60, what="every trace at tier 2")
    seen_in = assert_whole_and_once(tier2, sent)
    assert set(seen_in) == set(sent)
    # Both samplers took a share (the ring spread the traces), and each decided every trace it
    # received exactly once.
    assert set(seen_in.values()) == {0, 1}
    decided = 0
    for i, p in enumerate(tier2):
        text = p.self_metrics()
        n = metric_value(text, "otelcol_processor_genai_tail_sampling_traces", decision="sampled")
        assert n == sum(1 for v in seen_in.values() if v == i), text
        decided += n
        assert metric_value(text, "otelcol_processor_genai_tail_sampling_late_spans") == 0
    assert decided == TRACES


@pytest.mark.parametrize("tiers", [50], indirect=True)
def test_probabilistic_sampling_never_splits_a_trace(tiers):
    tier1, tier2, _ = tiers
    sent = send_split_traces(tier1, seed=2)

    def all_decided():
        total = 0
        for p in tier2:
            text = p.self_metrics()
            total += sum(metric_value(text, "otelcol_processor_genai_tail_sampling_traces", decision=d)
                         for d in ("sampled", "not_sampled"))
        return total == TRACES

    wait_until(all_decided, timeout=60, what="every trace decided at tier 2")
    time.sleep(1)  # the file exporter flushes every 200ms
    seen_in = assert_whole_and_once(tier2, sent)
    assert 0 < len(seen_in) < TRACES, f"50% kept {len(seen_in)} of {TRACES}"
