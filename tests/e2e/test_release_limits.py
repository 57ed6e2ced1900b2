"""Bounded releases of genai_tail_sampling against a real OTLP/gRPC backend (issue 11 items 1, 6).

A front collector holds everything in the tail sampler (decision_wait 1h) and exports with
otlp_grpc to a second collector, whose OTLP/gRPC receiver keeps gRPC's default 4 MiB message
limit. On SIGTERM the front flushes its whole buffer: one 30,000-span trace with 1 KB attributes
(~32 MB) and 5,000 small traces. Sent as one call this was refused with ResourceExhausted and
nothing arrived; with release.max_bytes (2 MiB) every span must arrive exactly once.
"""

import os
import signal
from pathlib import Path

import pytest

from conftest import BINARY, Collector, wait_until
from procs import make_span, post_spans

FRONT_CONFIG = """
extensions:
  health_check:
    endpoint: ${env:TOLLBOOTH_HEALTH}
receivers:
  otlp:
    protocols:
      http:
        endpoint: ${env:TOLLBOOTH_OTLP_HTTP}
processors:
  genai_tail_sampling:
    decision_wait: 1h
    policies:
      - name: keep
        type: always_sample
exporters:
  otlp_grpc:
    endpoint: ${env:TOLLBOOTH_BACKEND}
    tls:
      insecure: true
    sending_queue:
      enabled: false     # the exporter's result reaches the processor: a refusal would be counted
    retry_on_failure:
      enabled: false
service:
  extensions: [health_check]
  telemetry:
    metrics:
      readers:
        - pull:
            exporter:
              prometheus:
                host: ${env:TOLLBOOTH_SELF_METRICS_HOST}
                port: ${env:TOLLBOOTH_SELF_METRICS_PORT}
  pipelines:
    traces:
      receivers: [otlp]
      processors: [genai_tail_sampling]
      exporters: [otlp_grpc]
"""

BIG_SPANS = 30_000
SMALL_TRACES, SMALL_SPANS = 5_000, 4


def test_shutdown_flush_reaches_a_4mib_grpc_backend(tmp_path: Path):
    if not BINARY.exists():
        pytest.fail(f"{BINARY} is missing: run `make dist` (`make test-e2e` does it)")
    (tmp_path / "back").mkdir()
    back = Collector(tmp_path / "back", name="backend")  # default config: OTLP/gRPC, 4 MiB limit
    front = None
    try:
        (tmp_path / "front").mkdir()
        cfg = tmp_path / "front" / "front.yaml"
        cfg.write_text(FRONT_CONFIG)
        front = Collector(tmp_path / "front", config=cfg, name="front", keep_everything=False,
                          env={"TOLLBOOTH_BACKEND": back.grpc})

        pad = "x" * 1000
        big = bytes.fromhex("0b" * 16)
        want = set()
        batch = []
        for i in range(BIG_SPANS):
            sid = (1 << 40 | i).to_bytes(8, "big")
            batch.append(make_span(big, sid, attrs={"pad": pad, "i": i}))
            want.add(sid.hex())
            if len(batch) == 1000:
                post_spans(front.http, batch)
                batch = []
        for t in range(SMALL_TRACES):
            tid = (0xa000 + t).to_bytes(16, "big")
            for s in range(SMALL_SPANS):
                sid = (2 << 40 | t << 8 | s).to_bytes(8, "big")
                batch.append(make_span(tid, sid))
                want.add(sid.hex())
            if len(batch) >= 2000:
                post_spans(front.http, batch)
                batch = []
        if batch:
            post_spans(front.http, batch)

        assert front.stop(signal.SIGTERM, timeout=120) == 0, front.log_text()
        log = front.log_text()
        total = BIG_SPANS + SMALL_TRACES * SMALL_SPANS
        wait_until(lambda: len(back.exported_spans()) >= total, timeout=180,
                   what=f"{total} spans at the backend")
        got = [s["spanId"].lower() for s in back.exported_spans()]
        assert len(got) == total
        assert set(got) == want, "every span arrived exactly once"
        assert "refused released" not in log, log[-4000:]
        assert "ResourceExhausted" not in log, log[-4000:]
    finally:
        if front is not None:
            front.stop()
        assert back.stop() == 0, back.log_text()[-4000:]
