"""A deliberately slow OTLP/gRPC trace backend on loopback: every export waits `delay`
seconds before it is accepted, and every span it accepted is recorded (trace ID, span ID)."""

from __future__ import annotations

import threading
import time
from concurrent import futures

import grpc
from opentelemetry.proto.collector.trace.v1 import trace_service_pb2, trace_service_pb2_grpc


class SlowBackend(trace_service_pb2_grpc.TraceServiceServicer):
    def __init__(self, delay: float):
        self.delay = delay
        self.spans: list[tuple[str, str]] = []
        self.requests = 0
        self._lock = threading.Lock()
        self._server = grpc.server(futures.ThreadPoolExecutor(max_workers=4))
        trace_service_pb2_grpc.add_TraceServiceServicer_to_server(self, self._server)
        self.port = self._server.add_insecure_port("127.0.0.1:0")

    def Export(self, request, context):  # noqa: N802 (the gRPC method name)
        time.sleep(self.delay)
        with self._lock:
            self.requests += 1
            for rs in request.resource_spans:
                for ss in rs.scope_spans:
                    self.spans.extend((s.trace_id.hex(), s.span_id.hex()) for s in ss.spans)
        return trace_service_pb2.ExportTraceServiceResponse()

    def __enter__(self) -> "SlowBackend":
        self._server.start()
        return self

    def __exit__(self, *exc) -> None:
        self._server.stop(grace=None)
