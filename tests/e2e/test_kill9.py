"""kill -9 with the persistent sending queue (issue 11 item 6b; README "What a crash or kill -9
loses").

The front collector runs the default pipeline with its sampled traces exported over OTLP/gRPC
through a sending queue kept by the file_storage extension (configs/front-persistent.yaml). The
backend is down, so everything the sampler releases waits in that queue. The front is killed
with SIGKILL once the sampler has decided and released every trace; then the backend comes up
and the front is started again on the same storage directory. Every span that had left the
sampler must reach the backend (at least once: a request in flight at the kill may come twice).
"""

import signal
import time
from pathlib import Path

from conftest import Collector, free_port, wait_until
from procs import make_span, metric_value, post_spans, read_requests, spans_of

HERE = Path(__file__).resolve().parent
BACKEND = HERE / "configs" / "backend.yaml"
FRONT_OTLP = HERE / "configs" / "front-otlp.yaml"
FRONT_PERSISTENT = HERE / "configs" / "front-persistent.yaml"

TRACES, SPANS_PER_TRACE = 300, 4


def sub(tmp: Path, name: str) -> Path:
    d = tmp / name
    d.mkdir()
    return d


def test_kill9_keeps_what_left_the_sampler_in_the_persistent_queue(tmp_path):
    addr = f"127.0.0.1:{free_port()}"  # nothing listens here until the restart
    storage = sub(tmp_path, "storage")
    env = {"TOLLBOOTH_BACKEND": addr, "TOLLBOOTH_STORAGE_DIR": str(storage)}
    overlays = (FRONT_OTLP, FRONT_PERSISTENT)
    front = Collector(sub(tmp_path, "front1"), overlays=overlays, name="front", env=env)
    sent = set()
    try:
        for t in range(TRACES):
            tid = (0xd000 + t).to_bytes(16, "big")
            spans = []
            for s in range(SPANS_PER_TRACE):
                sid = (t << 8 | s | 1 << 40).to_bytes(8, "big")
                spans.append(make_span(tid, sid, parent=b"" if s == 0 else (t << 8 | 1 << 40).to_bytes(8, "big")))
                sent.add(sid.hex())
            post_spans(front.http, spans)

        def released() -> bool:
            m = front.self_metrics()
            decided = metric_value(m, "otelcol_processor_genai_tail_sampling_traces", decision="sampled")
            buffered = metric_value(m, "otelcol_processor_genai_tail_sampling_spans_buffered")
            return decided >= TRACES and buffered == 0

        wait_until(released, timeout=60, what="every trace decided and released by the sampler")
        time.sleep(1.0)  # the release loop hands the last pieces to the exporter's queue
        queued = metric_value(front.self_metrics(), "otelcol_exporter_queue_size")
        assert queued > 0, "the backend is down: the released spans wait in the sending queue"
        front.proc.send_signal(signal.SIGKILL)
        front.proc.wait(timeout=10)
    finally:
        front.stop()

    back = Collector(sub(tmp_path, "backend"), config=BACKEND, keep_everything=False,
                     name="backend", env={"TOLLBOOTH_OTLP_GRPC": addr})
    front2 = Collector(sub(tmp_path, "front2"), overlays=overlays, name="front-restarted", env=env)
    try:
        def arrived() -> set:
            return {s["spanId"].lower() for r in read_requests(back.traces_file()) for s in spans_of(r)}

        wait_until(lambda: arrived() >= sent, timeout=90,
                   what=f"{len(sent)} spans at the backend after the restart")
        got = arrived()
        assert got == sent, f"{len(got - sent)} spans at the backend that were never sent"
    finally:
        assert front2.stop() == 0, front2.log_text()[-3000:]
        assert back.stop() == 0, back.log_text()[-3000:]
