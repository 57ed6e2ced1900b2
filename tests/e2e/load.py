"""A steady GenAI load for the soak and fault-injection tests.

Batches are encoded once, up front: each is an OTLP/HTTP export request holding one trace (an
agent span over a few model calls, with the usage, model and error attributes instrumentations
write). Sending patches only the trace ID in place - a placeholder of the same length - so
every trace is new to the tail sampler and the generator costs little CPU next to the
collector it measures. It counts what the collector acknowledged (HTTP 200): the truth the
tests compare the collector's self-metrics and outputs with.
"""

from __future__ import annotations

import http.client
import os
import threading
import time
from dataclasses import dataclass, field

from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.proto.trace.v1 import trace_pb2

TRACE_PLACEHOLDER = bytes.fromhex("ab" * 16)
MODELS = ["gpt-4o", "gpt-4o-mini", "claude-3-5-sonnet-20241022", "claude-haiku-4-5-20251001"]


@dataclass
class Template:
    """One encoded request and what it carries."""

    body: bytes
    spans: int
    calls: int
    input_tokens: int
    output_tokens: int
    span_ids: list[bytes]


def _attr(span: trace_pb2.Span, key: str, value) -> None:
    kv = span.attributes.add()
    kv.key = key
    if isinstance(value, int):
        kv.value.int_value = value
    else:
        kv.value.string_value = value


def template(i: int, model: str | None = None, service: str = "soak") -> Template:
    """Request `i`: an agent root and 1-4 chat calls; every seventh call fails. Span IDs carry
    `i` so a test can tell every span apart (trace IDs are patched in at send time)."""
    req = ExportTraceServiceRequest()
    rs = req.resource_spans.add()
    kv = rs.resource.attributes.add()
    kv.key, kv.value.string_value = "service.name", service
    ss = rs.scope_spans.add()
    ss.scope.name = "opentelemetry.instrumentation.openai_v2"
    start = 1_760_000_000_000_000_000 + i * 1_000_000
    root = ss.spans.add(trace_id=TRACE_PLACEHOLDER, span_id=(0x1000 + i * 16).to_bytes(8, "big"),
                        name="invoke_agent support", start_time_unix_nano=start,
                        end_time_unix_nano=start + 900_000_000)
    _attr(root, "gen_ai.operation.name", "invoke_agent")
    calls = 1 + i % 4
    ins = outs = 0
    ids = [root.span_id]
    for c in range(calls):
        m = model or MODELS[(i + c) % len(MODELS)]
        s = ss.spans.add(trace_id=TRACE_PLACEHOLDER, span_id=(0x1000 + i * 16 + c + 1).to_bytes(8, "big"),
                         parent_span_id=root.span_id, name=f"chat {m}",
                         start_time_unix_nano=start + c * 100_000_000,
                         end_time_unix_nano=start + c * 100_000_000 + 80_000_000)
        n_in, n_out = 200 + (i * 7 + c) % 500, 20 + (i + c) % 80
        for k, v in [("gen_ai.provider.name", "anthropic" if m.startswith("claude") else "openai"),
                     ("gen_ai.operation.name", "chat"), ("gen_ai.request.model", m),
                     ("gen_ai.usage.input_tokens", n_in), ("gen_ai.usage.output_tokens", n_out),
                     ("gen_ai.prompt.0.content", f"question {i}: mail me at user{i}@example.com")]:
            _attr(s, k, v)
        if (i + c) % 7 == 0:
            s.status.code = trace_pb2.Status.STATUS_CODE_ERROR
            _attr(s, "error.type", "rate_limit_exceeded")
        ins, outs = ins + n_in, outs + n_out
        ids.append(s.span_id)
    return Template(req.SerializeToString(), calls + 1, calls, ins, outs, ids)


@dataclass
class Sent:
    """What the collector acknowledged."""

    requests: int = 0
    spans: int = 0
    calls: int = 0
    input_tokens: int = 0
    output_tokens: int = 0
    refused: int = 0
    # (trace ID hex, span ID hex) of every acknowledged span, as OTLP JSON spells them.
    keys: set = field(default_factory=set)

    def add(self, t: Template, trace_id: bytes) -> None:
        self.requests += 1
        self.spans += t.spans
        self.calls += t.calls
        self.input_tokens += t.input_tokens
        self.output_tokens += t.output_tokens
        tid = trace_id.hex()
        self.keys.update((tid, sid.hex()) for sid in t.span_ids)


class Load:
    """Sends templates round-robin at `rate` requests per second on one keep-alive HTTP
    connection, from a background thread, until stop() or `limit` requests."""

    def __init__(self, http_endpoint: str, rate: float = 20.0, templates: list[Template] | None = None,
                 limit: int | None = None):
        self.endpoint = http_endpoint
        self.rate = rate
        self.templates = templates or [template(i) for i in range(64)]
        self.limit = limit
        self.sent = Sent()
        self.errors: list[str] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._lock = threading.Lock()

    def __enter__(self) -> "Load":
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.stop()

    def stop(self) -> Sent:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout=30)
        return self.sent

    def send_one(self, conn: http.client.HTTPConnection, n: int) -> bool:
        t = self.templates[n % len(self.templates)]
        trace_id = n.to_bytes(8, "big") + os.urandom(8)
        body = t.body.replace(TRACE_PLACEHOLDER, trace_id)
        conn.request("POST", "/v1/traces", body=body, headers={"Content-Type": "application/x-protobuf"})
        resp = conn.getresponse()
        resp.read()
        if resp.status != 200:
            with self._lock:
                self.sent.refused += 1
            return False
        with self._lock:
            self.sent.add(t, trace_id)
        return True

    def _run(self) -> None:
        host, port = self.endpoint.rsplit(":", 1)
        conn = http.client.HTTPConnection(host, int(port), timeout=10)
        n, started = 0, time.monotonic()
        while not self._stop.is_set() and (self.limit is None or n < self.limit):
            try:
                self.send_one(conn, n)
            except (OSError, http.client.HTTPException) as e:
                self.errors.append(repr(e))
                conn.close()
                conn = http.client.HTTPConnection(host, int(port), timeout=10)
            n += 1
            # Steady pacing: sleep until this request's slot (never bursts to catch up).
            delay = started + n / self.rate - time.monotonic()
            if delay > 0:
                self._stop.wait(delay)
            else:
                started = time.monotonic() - n / self.rate
        conn.close()
