"""Fixtures that start the real built collector on free ports and read what it exports."""

import json
import os
import signal
import socket
import subprocess
import time
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
BINARY = ROOT / "build" / "otelcol-tollbooth"
DEFAULT_CONFIG = ROOT / "config" / "collector.yaml"


# Ports handed out below the kernel's ephemeral range (32768-60999 by default), so an outbound
# connection of this or any other process can never take one between our check and the
# collector's bind; each port is handed out once per test session.
_PORT_LOW, _PORT_HIGH = 20000, 32767
_next_port = _PORT_LOW + (os.getpid() * 7919) % (_PORT_HIGH - _PORT_LOW)
_handed_out: set[int] = set()


def free_port() -> int:
    """A port on 127.0.0.1 that nothing listens on now and that no earlier call returned."""
    global _next_port
    for _ in range(_PORT_HIGH - _PORT_LOW):
        port = _next_port
        _next_port = _PORT_LOW + (_next_port + 1 - _PORT_LOW) % (_PORT_HIGH - _PORT_LOW)
        if port in _handed_out:
            continue
        with socket.socket() as s:
            try:
                s.bind(("127.0.0.1", port))
            except OSError:
                continue
        _handed_out.add(port)
        return port
    raise RuntimeError("no free port left between %d and %d" % (_PORT_LOW, _PORT_HIGH))


def http_get(url: str, timeout: float = 2.0) -> str:
    with urllib.request.urlopen(url, timeout=timeout) as r:
        return r.read().decode("utf-8", "replace")


def wait_until(predicate, timeout: float = 30.0, interval: float = 0.2, what: str = "condition"):
    """Polls until predicate() returns a truthy value; returns it or fails with `what`."""
    deadline = time.monotonic() + timeout
    last_error = None
    while time.monotonic() < deadline:
        try:
            value = predicate()
            if value:
                return value
        except Exception as e:  # the collector may not be listening yet
            last_error = e
        time.sleep(interval)
    pytest.fail(f"timed out after {timeout}s waiting for {what} (last error: {last_error})")


class Collector:
    """One running collector process and where to reach it."""

    def __init__(
        self,
        tmp: Path,
        config: Path = DEFAULT_CONFIG,
        env: dict | None = None,
        binary: Path = BINARY,
        name: str = "collector",
        keep_everything: bool = True,
        overlays: tuple = (),
    ):
        """Starts `binary` on `config` with its ports and output under `tmp`. With
        keep_everything the default config's sampler keeps every trace and decides in 1 s (most
        tests check what the file exporter wrote); `env` entries win over these defaults.
        `overlays` are further config files the collector merges over `config`, in order."""
        self.name = name
        self.out_dir = tmp / "out"
        self.out_dir.mkdir()
        self.grpc = f"127.0.0.1:{free_port()}"
        self.http = f"127.0.0.1:{free_port()}"
        self.prometheus = f"127.0.0.1:{free_port()}"
        self.self_metrics_port = free_port()
        self.health = f"127.0.0.1:{free_port()}"
        self.log_path = tmp / "collector.log"
        extra_env = env
        env = dict(
            os.environ,
            TOLLBOOTH_OTLP_GRPC=self.grpc,
            TOLLBOOTH_OTLP_HTTP=self.http,
            TOLLBOOTH_PROMETHEUS=self.prometheus,
            TOLLBOOTH_SELF_METRICS_HOST="127.0.0.1",
            TOLLBOOTH_SELF_METRICS_PORT=str(self.self_metrics_port),
            TOLLBOOTH_HEALTH=self.health,
            TOLLBOOTH_OUT_DIR=str(self.out_dir),
        )
        if keep_everything:
            env.update(TOLLBOOTH_SAMPLE_PERCENT="100", TOLLBOOTH_DECISION_WAIT="1s")
        env.update(extra_env or {})
        self.log = open(self.log_path, "wb")
        self.proc = subprocess.Popen(
            [str(binary), "--config", str(config), *(a for o in overlays for a in ("--config", str(o)))],
            env=env, stdout=self.log, stderr=subprocess.STDOUT,
        )
        wait_until(self._healthy, timeout=60, what=f"{name} health check")

    def _healthy(self) -> bool:
        if self.proc.poll() is not None:
            pytest.fail(f"{self.name} exited with {self.proc.returncode}:\n{self.log_text()}")
        return "Server available" in http_get(f"http://{self.health}/")

    def log_text(self) -> str:
        if not self.log.closed:
            self.log.flush()
        return self.log_path.read_text(errors="replace")

    def traces_file(self) -> Path:
        return self.out_dir / "traces.jsonl"

    def exported_spans(self) -> list[dict]:
        """Every span in out/traces.jsonl, with its resource attributes alongside."""
        path = self.traces_file()
        if not path.exists():
            return []
        spans = []
        for line in path.read_bytes().splitlines():
            if not line.strip():
                continue
            req = json.loads(line.decode("utf-8", "replace"))
            for rs in req.get("resourceSpans", []):
                for ss in rs.get("scopeSpans", []):
                    for span in ss.get("spans", []):
                        spans.append(span)
        return spans

    def metrics(self) -> str:
        return http_get(f"http://{self.prometheus}/metrics")

    def self_metrics(self) -> str:
        return http_get(f"http://127.0.0.1:{self.self_metrics_port}/metrics")

    def stop(self, sig=signal.SIGINT, timeout: float = 30.0) -> int:
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
            try:
                self.proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
                pytest.fail(f"{self.name} did not stop within {timeout}s of {sig!r}:\n{self.log_text()}")
        self.log.close()
        return self.proc.returncode


def attributes(span: dict) -> dict:
    """OTLP JSON attributes as a plain dict of python values."""
    out = {}
    for kv in span.get("attributes", []):
        v = kv.get("value", {})
        if "stringValue" in v:
            out[kv["key"]] = v["stringValue"]
        elif "intValue" in v:
            out[kv["key"]] = int(v["intValue"])
        elif "doubleValue" in v:
            out[kv["key"]] = float(v["doubleValue"])
        elif "boolValue" in v:
            out[kv["key"]] = v["boolValue"]
        else:
            out[kv["key"]] = v
    return out


@pytest.fixture
def collector(tmp_path):
    if not BINARY.exists():
        pytest.fail(f"{BINARY} is missing: run `make dist` (make test does it)")
    c = Collector(tmp_path)
    yield c
    code = c.stop()
    assert code == 0, f"collector exited with {code}:\n{c.log_text()}"
