"""Helpers for end-to-end tests that run several collectors (two-tier, equivalence, bench).

Kept apart from conftest.py: these tests use the bench distribution
(build/otelcol-tollbooth-bench, `make dist-bench`) and arbitrary configs and extra env vars.
"""

import json
import urllib.request
from pathlib import Path

import pytest
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.proto.trace.v1 import trace_pb2

from conftest import ROOT, Collector

BENCH_BINARY = ROOT / "build" / "otelcol-tollbooth-bench"


def require_bench_binary() -> Path:
    if not BENCH_BINARY.exists():
        pytest.fail(f"{BENCH_BINARY} is missing: run `make dist-bench` (`make test-e2e-bench` does it)")
    return BENCH_BINARY


class Proc(Collector):
    """A bench-distribution collector in its own directory under `tmp`, with the config's own
    sampling settings (no test defaults)."""

    def __init__(self, tmp: Path, name: str, config: Path, extra_env: dict | None = None):
        self.dir = tmp / name
        self.dir.mkdir()
        super().__init__(
            self.dir, config, extra_env, binary=require_bench_binary(), name=name, keep_everything=False
        )


def read_requests(path: Path) -> list[dict]:
    """One dict per line of a file exporter's JSON output (one export request each)."""
    if not path.exists():
        return []
    out = []
    data = path.read_bytes()
    # A line still being written has no newline yet; read only complete lines.
    for line in data[: data.rfind(b"\n") + 1].splitlines():
        if line.strip():
            out.append(json.loads(line))
    return out


def spans_of(request: dict):
    for rs in request.get("resourceSpans", []):
        for ss in rs.get("scopeSpans", []):
            yield from ss.get("spans", [])


def trace_spans(path: Path) -> dict[str, list[str]]:
    """traceId (hex) -> span IDs exported to `path`."""
    out: dict[str, list[str]] = {}
    for req in read_requests(path):
        for s in spans_of(req):
            out.setdefault(s["traceId"].lower(), []).append(s["spanId"].lower())
    return out


def metric_value(text: str, name: str, **labels) -> float:
    """Sum of the Prometheus samples `name{labels...}` (or `name_total`) in an exposition text
    (0 if absent)."""
    total = 0.0
    for line in text.splitlines():
        if line.startswith("#") or not line.startswith(name):
            continue
        head, _, value = line.rpartition(" ")
        metric = head.split("{", 1)[0]
        if metric not in (name, name + "_total"):
            continue
        if all(f'{k}="{v}"' in head for k, v in labels.items()):
            total += float(value)
    return total


def post_spans(http_endpoint: str, spans: list[trace_pb2.Span], service: str = "svc"):
    """Sends one OTLP/HTTP protobuf export request holding `spans`."""
    req = ExportTraceServiceRequest()
    rs = req.resource_spans.add()
    kv = rs.resource.attributes.add()
    kv.key = "service.name"
    kv.value.string_value = service
    ss = rs.scope_spans.add()
    ss.scope.name = "tollbooth.e2e"
    ss.spans.extend(spans)
    r = urllib.request.Request(
        f"http://{http_endpoint}/v1/traces",
        data=req.SerializeToString(),
        headers={"Content-Type": "application/x-protobuf"},
        method="POST",
    )
    with urllib.request.urlopen(r, timeout=10) as resp:
        assert resp.status == 200, resp.status


def make_span(trace_id: bytes, span_id: bytes, parent: bytes = b"", name: str = "op", start_ns: int = 0,
              dur_ns: int = 1_000_000, error: bool = False, attrs: dict | None = None,
              trace_state: str = "") -> trace_pb2.Span:
    s = trace_pb2.Span(trace_id=trace_id, span_id=span_id, parent_span_id=parent, name=name,
                       start_time_unix_nano=start_ns or 1_760_000_000_000_000_000,
                       trace_state=trace_state)
    s.end_time_unix_nano = s.start_time_unix_nano + dur_ns
    if error:
        s.status.code = trace_pb2.Status.STATUS_CODE_ERROR
    for k, v in (attrs or {}).items():
        kv = s.attributes.add()
        kv.key = k
        if isinstance(v, bool):
            kv.value.bool_value = v
        elif isinstance(v, int):
            kv.value.int_value = v
        elif isinstance(v, float):
            kv.value.double_value = v
        else:
            kv.value.string_value = str(v)
    return s
