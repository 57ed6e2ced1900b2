"""Fault injection end to end: the built collector on the default pipeline (keeping every
trace, deciding after 1 s) while the world around it fails.

- the OTLP backend (a second collector process, our binary on configs/backend.yaml) is down for
  30 s and comes back: every span the exporter's queue took is delivered, and every span beyond
  the queue's capacity is counted as lost (sent = delivered + counted loss, exactly);
- a slow backend (each export takes longer than the load's pace): nothing is lost or doubled;
- the pricing file is replaced by a broken one and restored under load: the last good table
  keeps pricing, the failure shows in the self-metrics and the log, the restored file is used;
- SIGTERM under load: pending traces are decided and written before the process exits.
"""

import json
import os
import signal
import time
from pathlib import Path

from conftest import ROOT, Collector, free_port, wait_until
from load import Load, template
from procs import metric_value, read_requests, spans_of
from selfmetrics import books
from slow_backend import SlowBackend

HERE = Path(__file__).resolve().parent
BACKEND = HERE / "configs" / "backend.yaml"
FRONT_OTLP = HERE / "configs" / "front-otlp.yaml"
FRONT_PRICING = HERE / "configs" / "front-pricing.yaml"
OUTAGE_SECONDS = float(os.environ.get("TOLLBOOTH_OUTAGE_SECONDS", "30"))
REPORT = ROOT / "build" / "faults-report.json"


def record(fault: str, **figures) -> None:
    """Adds one fault's figures to build/faults-report.json (for RELIABILITY.md)."""
    REPORT.parent.mkdir(exist_ok=True)
    report = json.loads(REPORT.read_text()) if REPORT.exists() else {}
    report[fault] = figures
    REPORT.write_text(json.dumps(report, indent=1))


def subdir(tmp: Path, name: str) -> Path:
    d = tmp / name
    d.mkdir()
    return d


def written(path: Path) -> list[tuple[str, str]]:
    return [(s["traceId"].lower(), s["spanId"].lower()) for r in read_requests(path) for s in spans_of(r)]


def backend(tmp: Path, addr: str) -> Collector:
    return Collector(tmp, config=BACKEND, keep_everything=False, name="backend",
                     env={"TOLLBOOTH_OTLP_GRPC": addr})


def test_backend_down_30s_then_back(tmp_path):
    addr = f"127.0.0.1:{free_port()}"
    first = backend(subdir(tmp_path, "backend1"), addr)
    front = Collector(subdir(tmp_path, "front"), overlays=(FRONT_OTLP,), name="front",
                      env={"TOLLBOOTH_BACKEND": addr, "TOLLBOOTH_QUEUE_SIZE": "10"})
    second = None
    try:
        with Load(front.http, rate=10) as load:
            wait_until(lambda: len(written(first.traces_file())) >= 20, what="spans at the backend")
            first.stop()
            time.sleep(OUTAGE_SECONDS)
            second = backend(subdir(tmp_path, "backend2"), addr)
            time.sleep(3)
        sent = load.sent
        assert not load.errors and sent.refused == 0, (load.errors[:3], sent.refused)

        def settled():
            b = books(front.self_metrics(), "otlp_grpc")
            queued = metric_value(front.self_metrics(), "otelcol_exporter_queue_size", exporter="otlp_grpc")
            return b.held == 0 and queued == 0 and b.balanced() and b.received == sent.spans and b

        b = wait_until(settled, timeout=90, what="the front's queue to drain and its books to balance")
        lost = b.enqueue_failed + b.export_failed
        # The backend's file exporter flushes every 200 ms: wait for the last export to land.
        delivered = wait_until(
            lambda: (d := written(first.traces_file()) + written(second.traces_file()))
            and len(d) >= b.exported and d, timeout=15, what="the backend to write what it received")
        unique = set(delivered)
        assert unique <= sent.keys, "the backend holds a span nobody sent"
        assert b.enqueue_failed > 0, "the outage never filled the queue: raise the load or shrink the queue"
        assert len(unique) + lost == sent.spans, (
            f"sent {sent.spans}, delivered {len(unique)}, counted lost {lost}: {b}")
        assert b.exported == len(delivered), "the exporter counted what the backend wrote"
        record("backend_down", outage_s=OUTAGE_SECONDS, spans_sent=sent.spans, delivered=len(unique),
               duplicates=len(delivered) - len(unique), enqueue_failed=b.enqueue_failed,
               send_failed=b.export_failed)
    finally:
        front.stop()
        for c in (first, second):
            if c is not None:
                c.stop()


def test_slow_backend_loses_and_doubles_nothing(tmp_path):
    with SlowBackend(delay=0.4) as slow:
        front = Collector(tmp_path, overlays=(FRONT_OTLP,), name="front",
                          env={"TOLLBOOTH_BACKEND": f"127.0.0.1:{slow.port}"})
        try:
            with Load(front.http, rate=25, limit=250) as load:
                wait_until(lambda: load.sent.requests + load.sent.refused >= 250 or load.errors,
                           timeout=60, what="the load to finish")
            sent = load.sent
            assert not load.errors and sent.refused == 0
            b = wait_until(lambda: (b := books(front.self_metrics(), "otlp_grpc")).held == 0
                           and b.exported + b.enqueue_failed + b.export_failed == sent.spans and b,
                           timeout=90, what="every span exported to the slow backend")
            assert b.enqueue_failed == 0 and b.export_failed == 0, b
            assert len(slow.spans) == len(set(slow.spans)) == sent.spans, "lost or doubled at the backend"
            assert set(slow.spans) == sent.keys
            record("slow_backend", delay_s=slow.delay, spans_sent=sent.spans, delivered=len(slow.spans),
                   export_requests=slow.requests)
        finally:
            assert front.stop() == 0


def pricing_file(path: Path, version: str, input_mtok: str) -> None:
    doc = {"tollbooth_pricing": 1, "source": "fault-test", "source_version": version,
           "providers": [{"id": "openai", "models": [
               {"id": "fault-model", "match": {"equals": "fault-model"},
                "prices": {"input_mtok": input_mtok, "output_mtok": "2"}}]}]}
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(doc))
    tmp.replace(path)  # atomic: the reloader never reads half a file


def test_broken_pricing_file_under_load_keeps_the_last_good_table(tmp_path):
    prices = tmp_path / "prices.json"
    pricing_file(prices, "v1", "1")
    c = Collector(subdir(tmp_path, "front"), overlays=(FRONT_PRICING,),
                  env={"TOLLBOOTH_PRICING_FILE": str(prices)})
    templates = [template(i, model="fault-model") for i in range(16)]

    def versions_since(n: int) -> set:
        out = set()
        for r in read_requests(c.traces_file())[n:]:
            for s in spans_of(r):
                for kv in s.get("attributes", []):
                    if kv["key"] == "tollbooth.cost.price_source_version":
                        out.add(kv["value"]["stringValue"])
        return out

    def self_metric(name: str) -> float:
        return metric_value(c.self_metrics(), name)

    try:
        with Load(c.http, rate=10, templates=templates):
            wait_until(lambda: "v1" in versions_since(0), what="spans priced from the v1 table")
            prices.with_suffix(".tmp").write_text('{"tollbooth_pricing": 1, "providers": [')
            prices.with_suffix(".tmp").replace(prices)
            wait_until(lambda: self_metric("otelcol_processor_genai_pricing_reload_errors") >= 1,
                       what="the failed reload counted")
            mark = len(read_requests(c.traces_file()))
            time.sleep(3)
            wait_until(lambda: len(read_requests(c.traces_file())) > mark + 1, what="spans after the failure")
            assert versions_since(mark) == {"v1"}, "the last good table stays in use"
            reloads = self_metric("otelcol_processor_genai_pricing_reloads")
            pricing_file(prices, "v2", "3")
            wait_until(lambda: self_metric("otelcol_processor_genai_pricing_reloads") > reloads,
                       what="the restored file reloaded")
            wait_until(lambda: "v2" in versions_since(0), what="spans priced from the v2 table")
            # Spans priced just before the reload may still be on their way: look past them.
            time.sleep(2.5)
            mark = len(read_requests(c.traces_file()))
            wait_until(lambda: len(read_requests(c.traces_file())) > mark + 1, what="spans after the restore")
            assert versions_since(mark) == {"v2"}, "the restored file prices what follows"
    finally:
        code = c.stop()
    log = c.log_text()
    assert code == 0, log[-2000:]
    assert str(prices) in log and "reload" in log.lower(), "the failure is named in the log"
    record("broken_pricing_file", outcome="last good table kept; failure counted and logged; restored file used")


def test_sigterm_under_load_delivers_pending_traces(tmp_path):
    # Traces wait 30 s for a decision: at SIGTERM they are all pending in the sampler.
    c = Collector(tmp_path, env={"TOLLBOOTH_DECISION_WAIT": "30s"})
    with Load(c.http, rate=30) as load:
        wait_until(lambda: load.sent.requests >= 60, what="load acknowledged")
        assert written(c.traces_file()) == [], "nothing is decided before decision_wait"
        c.proc.send_signal(signal.SIGTERM)
        code = c.proc.wait(timeout=60)
        load.stop()
    assert code == 0, c.log_text()[-2000:]
    out = written(c.traces_file())
    assert len(out) == len(set(out)), "a span was written twice"
    assert set(out) == load.sent.keys, (
        f"acknowledged {len(load.sent.keys)} spans, written {len(set(out))}")
    record("sigterm_under_load", spans_acknowledged=len(load.sent.keys), spans_written=len(out))
    c.stop()
