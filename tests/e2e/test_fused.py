"""End to end: the fused wiring (`genai_metrics: {processor: genai}`, config/collector.yaml's
default) exports exactly the Prometheus metrics the separate wiring (configs/separate.yaml)
exports for the same input, with secrets in a dimension
attribute, in service.name and in the model name, spans a redaction drop rule removes, and a
call reported twice."""

import urllib.request
from pathlib import Path

import pytest

from conftest import Collector, wait_until
from rawotlp import Span, export_request

CONFIGS = Path(__file__).parent / "configs"
KEY = "sk-proj-Ab3dE5fG7hJ9kL1mN2pQ4rS6tU8vW0xYz1A2bC3dE4fG5hJ6"


def chat(i: int, model: str, inp: int, out: int, name: str | None = None, **extra) -> Span:
    attrs = {
        "gen_ai.provider.name": "openai",
        "gen_ai.operation.name": "chat",
        "gen_ai.request.model": model,
        "gen_ai.usage.input_tokens": inp,
        "gen_ai.usage.output_tokens": out,
        **extra,
    }
    return Span(
        trace_id=bytes([i]) * 16,
        span_id=bytes([i]) * 8,
        name=name or f"chat {model}",
        attrs=attrs,
        start_ns=1_760_000_000_000_000_000 + i * 10_000_000_000,
    )


def batches() -> list[bytes]:
    secret_service = {"service.name": "billing jane.doe@example.com"}
    plain = {"service.name": "support"}
    twice = dict(trace_id=b"\x77" * 16, start_ns=1_760_000_500_000_000_000)
    first = chat(40, "gpt-4o", 777, 77)
    first.trace_id, first.start_ns = twice["trace_id"], twice["start_ns"]
    second = chat(41, "gpt-4o", 777, 77)
    # Nested in the first span's time: an outer wrapper and the call it reports.
    second.trace_id, second.start_ns = b"\x78" * 16, twice["start_ns"] + 5_000_000
    second.dur_ns = first.dur_ns - 10_000_000
    return [
        export_request(secret_service, [("e2e.fused", [
            chat(1, "gpt-4o", 1200, 300, **{"tenant.id": "owner bob@example.org"}),
            chat(2, f"gpt-4o {KEY}", 500, 50),
            chat(3, "gpt-4o-mini", 100, 10, **{"tenant.id": "acme"}),
            chat(4, "gpt-4o", 10, 1, name="healthcheck chat"),
            first,
        ])]),
        export_request(plain, [("e2e.fused", [
            chat(5, "gpt-4o-mini", 321, 12, **{"tenant.id": "acme"}),
            chat(6, "acme-unknown-model", 40, 4),
        ])]),
        # The call of span 40 again, from another span in another trace: counted once.
        export_request(secret_service, [("e2e.fused", [second])]),
    ]


def post(collector: Collector, body: bytes) -> None:
    req = urllib.request.Request(
        f"http://{collector.http}/v1/traces", data=body, headers={"Content-Type": "application/x-protobuf"}
    )
    with urllib.request.urlopen(req, timeout=10) as r:
        assert r.status == 200


def genai_series(text: str) -> list[str]:
    """The GenAI metric samples of a /metrics page, sorted (no timestamps are exported)."""
    return sorted(
        line for line in text.splitlines()
        if line.startswith(("tollbooth_genai_", "gen_ai_")) and not line.startswith("#")
    )


def run(tmp: Path, overlays: tuple) -> list[str]:
    c = Collector(tmp, overlays=(CONFIGS / "metrics-labels.yaml", *overlays))
    try:
        for body in batches():
            post(c, body)
        # Six calls are counted: the dropped span and the duplicate are not.
        wait_until(
            lambda: sum(
                float(line.rsplit(" ", 1)[1]) for line in genai_series(c.metrics())
                if line.startswith("tollbooth_genai_requests_total")
            ) == 6,
            timeout=60,
            what="six requests counted",
        )
        return genai_series(c.metrics())
    finally:
        assert c.stop() == 0, c.log_text()


def test_fused_wiring_exports_what_the_separate_wiring_exports(tmp_path):
    (tmp_path / "separate").mkdir()
    (tmp_path / "fused").mkdir()
    separate = run(tmp_path / "separate", (CONFIGS / "separate.yaml",))
    fused = run(tmp_path / "fused", (CONFIGS / "fused.yaml",))
    assert separate, "nothing exported"
    assert fused == separate, "\n".join(
        ["only separate:", *sorted(set(separate) - set(fused)), "only fused:", *sorted(set(fused) - set(separate))]
    )
    text = "\n".join(fused)
    for secret in ("jane.doe@example.com", "bob@example.org", KEY[:20]):
        assert secret not in text, f"{secret} reached a label"
    assert "REDACTED" in text, "the masked values are the labels"
    assert 'tenant_id="acme"' in text


def test_fused_connector_without_its_processor_fails_at_start(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("connectors:\n  genai_metrics:\n    processor: genai/other\n")
    with pytest.raises(pytest.fail.Exception) as e:
        Collector(tmp_path, overlays=(bad,))
    assert "must be an exporter of a pipeline whose processors include" in str(e.value)
