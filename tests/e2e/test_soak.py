"""Soak: the default pipeline (config/collector.yaml, sampler on at its default 10 %) under a
steady GenAI load. `make soak` runs it for SOAK_MINUTES (default 10); `make test` for 60 s
(TOLLBOOTH_SOAK_SECONDS).

Holds at the end, once the load stops and the sampler has decided everything:
- RSS at the end is within 10 % of RSS after the warm-up (two minutes, or a third of a
  shorter run): the only timing-based bound, as stated in RELIABILITY.md;
- spans in = spans out + spans dropped by decision, exactly, from the self-metrics;
- every span written to the file is one that was sent, once;
- no error lines in the collector's log;
- the GenAI metrics on the Prometheus endpoint count exactly the calls and tokens sent.
The figures go to build/soak-report.json for RELIABILITY.md.
"""

import json
import os
import re
import time

from conftest import ROOT, Collector, wait_until
from load import Load
from procs import metric_value, read_requests, spans_of
from selfmetrics import books

SOAK_SECONDS = int(os.environ.get("TOLLBOOTH_SOAK_SECONDS", "60"))
RATE = float(os.environ.get("TOLLBOOTH_SOAK_RATE", "40"))  # requests/s, ~3.5 spans each
REPORT = ROOT / "build" / "soak-report.json"


def rss_kib(pid: int) -> int:
    with open(f"/proc/{pid}/status") as f:
        return int(re.search(r"VmRSS:\s+(\d+)", f.read()).group(1))


def slope_kib_per_min(samples: list[tuple[float, int]]) -> float:
    """Least-squares slope of RSS over time."""
    n = len(samples)
    mt = sum(t for t, _ in samples) / n
    mr = sum(r for _, r in samples) / n
    den = sum((t - mt) ** 2 for t, _ in samples) or 1.0
    return 60 * sum((t - mt) * (r - mr) for t, r in samples) / den


def error_lines(log: str) -> list[str]:
    return [line for line in log.splitlines() if "\terror\t" in line or "panic" in line.lower()]


def test_soak_default_pipeline(tmp_path):
    c = Collector(tmp_path, keep_everything=False)
    warmup = min(120.0, SOAK_SECONDS / 3)
    samples: list[tuple[float, int]] = []
    rss_warm = None
    try:
        with Load(c.http, rate=RATE) as load:
            t0 = time.monotonic()
            while (elapsed := time.monotonic() - t0) < SOAK_SECONDS:
                time.sleep(min(5.0, SOAK_SECONDS - elapsed))
                elapsed = time.monotonic() - t0
                samples.append((elapsed, rss_kib(c.proc.pid)))
                if rss_warm is None and elapsed >= warmup:
                    rss_warm = samples[-1][1]
        sent = load.sent
        assert not load.errors, load.errors[:5]
        assert sent.refused == 0
        rss_end = rss_kib(c.proc.pid)

        # Drain: decision_wait passes, the sampler releases, the file exporter writes.
        b = wait_until(lambda: (b := books(c.self_metrics(), "file")).held == 0
                       and b.balanced() and b.received == sent.spans and b,
                       timeout=60, what="the sampler to decide everything and the books to balance")
        assert b.received == sent.spans, "the receiver accepted exactly what was acknowledged"
        assert b.failed_open == 0 and b.export_failed == 0 and b.enqueue_failed == 0, b

        written = wait_until(lambda: (w := [(s["traceId"].lower(), s["spanId"].lower())
                                            for r in read_requests(c.traces_file()) for s in spans_of(r)])
                             and len(w) >= b.exported and w, timeout=30, what="the file to hold every span")
        assert len(written) == b.exported, "the file holds exactly what the exporter counted"
        assert len(set(written)) == len(written), "a span was written twice"
        assert set(written) <= sent.keys, "a span was written that was never sent"

        def genai_totals():
            text = c.metrics()
            return (metric_value(text, "tollbooth_genai_requests"),
                    metric_value(text, "tollbooth_genai_tokens", gen_ai_token_type="input"),
                    metric_value(text, "tollbooth_genai_tokens", gen_ai_token_type="output"))

        want = (sent.calls, sent.input_tokens, sent.output_tokens)
        wait_until(lambda: genai_totals() == want, timeout=30,
                   what=f"GenAI metric totals {want} (last {genai_totals()})")
    finally:
        code = c.stop()
    log = c.log_text()
    assert code == 0, log[-3000:]
    assert not error_lines(log), "\n".join(error_lines(log)[:20])

    report = {
        "seconds": SOAK_SECONDS, "rate_requests_per_s": RATE, "requests": sent.requests,
        "spans_in": b.received, "spans_out": b.exported, "spans_dropped_by_decision": b.dropped_by_decision,
        "calls": sent.calls, "rss_kib_after_warmup": rss_warm, "rss_kib_end": rss_end,
        "rss_slope_kib_per_min": round(slope_kib_per_min([s for s in samples if s[0] >= warmup]), 1),
        "rss_samples": samples,
    }
    REPORT.parent.mkdir(exist_ok=True)
    REPORT.write_text(json.dumps(report, indent=1))
    assert rss_end <= rss_warm * 1.10, f"RSS grew from {rss_warm} KiB to {rss_end} KiB ({report})"
