"""The collector's own metrics (Prometheus text on the telemetry port), read as the span books
of invariant 1: what came in, what went out, what a decision dropped and what is still held."""

from __future__ import annotations

from dataclasses import dataclass

from procs import metric_value

TS = "otelcol_processor_genai_tail_sampling_"


@dataclass
class Books:
    received: float  # spans the OTLP receiver accepted
    exported: float  # spans an exporter sent
    export_failed: float  # spans an exporter gave up on (counted loss)
    enqueue_failed: float  # spans an exporter's full queue refused (counted loss)
    dropped_by_decision: float  # spans the tail sampler decided not to keep
    held: float  # spans the tail sampler still waits on
    failed_open: float  # spans passed on without sampling (still exported)

    def balanced(self) -> bool:
        """Invariant 1 at the collector's edges: in = out + dropped by decision + held +
        what an exporter counted as lost."""
        return self.received == (self.exported + self.dropped_by_decision + self.held
                                 + self.export_failed + self.enqueue_failed)


def books(text: str, exporter: str) -> Books:
    v = lambda name, **labels: metric_value(text, name, **labels)  # noqa: E731
    return Books(
        received=v("otelcol_receiver_accepted_spans", receiver="otlp"),
        exported=v("otelcol_exporter_sent_spans", exporter=exporter),
        export_failed=v("otelcol_exporter_send_failed_spans", exporter=exporter),
        enqueue_failed=v("otelcol_exporter_enqueue_failed_spans", exporter=exporter),
        dropped_by_decision=v(TS + "spans", decision="not_sampled") + v(TS + "spans", decision="dropped")
        + v(TS + "late_spans", decision="dropped"),
        held=v(TS + "spans_buffered"),
        failed_open=v(TS + "spans_failed_open"),
    )
