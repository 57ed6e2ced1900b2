"""End to end, the default config against inputs a buggy or hostile client can send (issue 9):
one request mixing a string that is not UTF-8, a 40-deep map and secrets in attributes, span
names, event names, status messages, under sensitive keys and in the second copy of an attribute
key a span holds twice. Nothing may bypass redaction,
no span may be lost, and the GenAI calls must still be priced and counted."""

import json
import urllib.error
import urllib.request

from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest

from conftest import Collector, attributes, wait_until
from procs import metric_value
from rawotlp import Bytes, Event, Span, export_request, nested_kvlist

# Every planted secret; none may appear in anything the collector writes.
EMAIL_IN_NAME = "jane.doe@example.com"
CARD = "4111111111111111"
EMAIL_IN_ATTR = "alice@example.net"
EMAIL_IN_BAD_UTF8 = "carol@example.com"
EMAIL_DEEP = "deep.down@example.com"
EMAIL_IN_EVENT = "bob@example.org"
OPENAI_KEY = "sk-proj-Abc123Def456Ghi789Jkl012Mno345"
PASSWORD = "correct horse battery staple"
EMAIL_IN_SCOPE = "dave@example.com"
EMAIL_IN_BYTES = "erin@example.com"
EMAIL_IN_DUPLICATE = "frank@example.com"
SECRETS = [EMAIL_IN_NAME, CARD, EMAIL_IN_ATTR, EMAIL_IN_BAD_UTF8, EMAIL_DEEP, EMAIL_IN_EVENT,
           OPENAI_KEY, PASSWORD, EMAIL_IN_SCOPE, EMAIL_IN_BYTES, EMAIL_IN_DUPLICATE]


def genai(model: str, tokens: int) -> dict:
    return {
        "gen_ai.provider.name": "openai",
        "gen_ai.operation.name": "chat",
        "gen_ai.request.model": model,
        "gen_ai.usage.input_tokens": tokens,
        "gen_ai.usage.output_tokens": 50,
    }


def hostile_request(trace: bytes) -> tuple[bytes, dict[str, str]]:
    """The request and, per span id (hex), the model of each GenAI span in it."""
    sid = lambda i: bytes([0, 0, 0, 0, 0, 0, 0, i])  # noqa: E731
    bad_utf8 = Span(trace, sid(1), "chat gpt-4o", {
        **genai("gpt-4o", 1000),
        # Not UTF-8: pdata carries it; a strict decoder would refuse the whole batch.
        "gen_ai.prompt.0.content": b"caf\xe9 \xff\xfe write to " + EMAIL_IN_BAD_UTF8.encode(),
        "note": b"\xff only invalid bytes, nothing secret",
    })
    deep = Span(trace, sid(2), "chat gpt-4o-mini", {
        **genai("gpt-4o-mini", 2000),
        "tool.arguments": nested_kvlist(40, EMAIL_DEEP),
        "tool.shallow": nested_kvlist(3, "nothing to see"),
    })
    secrets = Span(
        trace, sid(3), f"GET /users/{EMAIL_IN_NAME}/cards/{CARD}",
        {
            **genai("o3-mini", 3000),
            "user.contact": f"mail {EMAIL_IN_ATTR} today",
            "db.password": PASSWORD,
            "payment.card": int(CARD),  # an integer that is a card number
            "blob": Bytes(f"to: {EMAIL_IN_BYTES}".encode()),
        },
        events=[Event(f"sent mail to {EMAIL_IN_EVENT}", {"attempt": 1})],
        status_message=f"provider rejected key {OPENAI_KEY}",
        status_code=2,
    )
    # The same key twice (protobuf allows it, pdata keeps both): the secret is in the second.
    plain = Span(trace, sid(4), "GET /healthy", [
        ("http.route", "/healthy"),
        ("note", "harmless"),
        ("note", f"mail {EMAIL_IN_DUPLICATE} today"),
    ])
    body = export_request(
        {"service.name": "hostile"},
        [("tollbooth.e2e", [bad_utf8, deep, secrets]), (f"lib for {EMAIL_IN_SCOPE}", [plain])],
    )
    models = {sid(1).hex(): "gpt-4o", sid(2).hex(): "gpt-4o-mini", sid(3).hex(): "o3-mini"}
    return body, models


def post(c: Collector, body: bytes, content_type: str) -> int:
    req = urllib.request.Request(f"http://{c.http}/v1/traces", data=body,
                                 headers={"Content-Type": content_type}, method="POST")
    try:
        with urllib.request.urlopen(req, timeout=10) as r:
            return r.status
    except urllib.error.HTTPError as e:
        return e.code


def exported_requests(c: Collector) -> list[dict]:
    path = c.traces_file()
    if not path.exists():
        return []
    # Values that are not UTF-8 and had nothing to mask are exported as they came.
    lines = path.read_bytes().splitlines()
    return [json.loads(line.decode("utf-8", "replace")) for line in lines if line.strip()]


def spans_of_trace(c: Collector, trace: bytes) -> dict[str, tuple[dict, dict]]:
    """span id (hex) -> (span, its scope) for one trace."""
    out = {}
    for req in exported_requests(c):
        for rs in req.get("resourceSpans", []):
            for ss in rs.get("scopeSpans", []):
                for s in ss.get("spans", []):
                    if s["traceId"].lower() == trace.hex():
                        out[s["spanId"].lower()] = (s, ss.get("scope", {}))
    return out


def self_metric(c: Collector, name: str, **labels) -> float:
    return metric_value(c.self_metrics(), f"otelcol_processor_genai_{name}", **labels)


def assert_nothing_leaked(c: Collector) -> None:
    raw = c.traces_file().read_bytes()
    for s in SECRETS:
        assert s.encode() not in raw, f"{s!r} left the collector:\n{raw.decode(errors='replace')[:4000]}"


def test_raw_encoder_matches_the_protobuf_library():
    """rawotlp writes the bytes the protobuf library would, wherever the library can."""
    s = Span(b"\x01" * 16, b"\x02" * 8, "chat", {"a": "b", "n": -5, "d": 1.5, "t": True,
             "by": Bytes(b"\x00"), "arr": ["x", 2], "kv": {"k": {"j": "v"}}},
             events=[Event("ev", {"e": "1"})], status_message="oops", status_code=2)
    raw = export_request({"service.name": "svc"}, [("scope", [s])])
    assert ExportTraceServiceRequest.FromString(raw).SerializeToString() == raw


def test_hostile_protobuf_request_is_redacted_delivered_priced_and_counted(collector):
    trace = bytes(range(0x40, 0x50))
    body, models = hostile_request(trace)
    assert post(collector, body, "application/x-protobuf") == 200

    spans = wait_until(lambda: (s := spans_of_trace(collector, trace)) and len(s) == 4 and s,
                       what="all 4 spans of the hostile request in out/traces.jsonl")
    assert_nothing_leaked(collector)

    for sid, model in models.items():
        attrs = attributes(spans[sid][0])
        assert attrs["tollbooth.cost.status"] == "priced", (model, attrs)
        assert attrs["gen_ai.usage.cost"] > 0
    named = {s["name"]: (s, scope) for s, scope in spans.values()}
    secrets, _ = named["GET /users/<REDACTED:email>/cards/<REDACTED:credit_card>"]
    attrs = attributes(secrets)
    assert attrs["user.contact"] == "mail <REDACTED:email> today"
    assert attrs["payment.card"] == "<REDACTED:credit_card>"
    assert attrs["db.password"] == "****", "a sensitive key is masked whatever it holds"
    assert secrets["events"][0]["name"] == "sent mail to <REDACTED:email>"
    assert secrets["status"]["message"] == "provider rejected key <REDACTED:openai_key>"
    bad = attributes(spans[bytes([0] * 7 + [1]).hex()][0])
    assert bad["gen_ai.prompt.0.content"].endswith("write to <REDACTED:email>")
    assert bad["gen_ai.prompt.0.content"].startswith("caf\ufffd"), "invalid bytes read as U+FFFD"
    deep = attributes(spans[bytes([0] * 7 + [2]).hex()][0])
    deep_json = json.dumps(deep["tool.arguments"])
    assert "<REDACTED:nested>" in deep_json, "past the depth limit a value is masked whole"
    assert deep_json.count("kvlistValue") >= 32, "the levels above the limit are kept"
    assert "kvlistValue" in deep["tool.shallow"], "shallow maps keep their shape"
    assert any(scope.get("name") == "lib for <REDACTED:email>" for _, scope in spans.values())
    dup = spans[bytes([0] * 7 + [4]).hex()][0]
    notes = [kv["value"]["stringValue"] for kv in dup["attributes"] if kv["key"] == "note"]
    assert notes == ["mail <REDACTED:email> today"], "every copy of a duplicated key is redacted"

    # Counted in the GenAI metrics, once per call.
    def counted():
        text = collector.metrics()
        return all(metric_value(text, "tollbooth_genai_requests", gen_ai_request_model=m) == 1
                   for m in models.values()) and text
    wait_until(counted, timeout=40, what="one tollbooth_genai_requests per GenAI span")

    # Nothing took the fail-open or drop path; this request is one the engine reads whole.
    text = collector.self_metrics()
    assert metric_value(text, "otelcol_processor_genai_batches_failed_open", reason="undecodable") == 0
    assert metric_value(text, "otelcol_processor_genai_batches_failed_open") == 0
    assert metric_value(text, "otelcol_processor_genai_batches_dropped") == 0


def test_json_request_with_a_raw_invalid_byte(collector):
    """OTLP/JSON carrying a raw 0xff byte inside a string: if the receiver accepts it, it is
    redacted and delivered like any other request."""
    trace = bytes(range(0x60, 0x70))
    span = {
        "traceId": trace.hex(), "spanId": "0000000000000009", "name": f"GET /u/{EMAIL_IN_NAME}",
        "kind": 3, "startTimeUnixNano": "1760000000000000000", "endTimeUnixNano": "1760000001000000000",
        "attributes": [
            {"key": "note", "value": {"stringValue": "PLACEHOLDER " + EMAIL_IN_ATTR}},
            {"key": "api_key", "value": {"stringValue": "not-a-known-shape"}},
        ],
    }
    req = {"resourceSpans": [{"resource": {"attributes": [
        {"key": "service.name", "value": {"stringValue": "json"}}]},
        "scopeSpans": [{"scope": {"name": "tollbooth.e2e"}, "spans": [span]}]}]}
    body = json.dumps(req).encode().replace(b"PLACEHOLDER", b"caf\xff")
    status = post(collector, body, "application/json")
    # The v0.161.0 receiver accepts it (and itself reads the byte as U+FFFD).
    if status != 200:
        # The receiver refused it: then nothing was exported, which is safe too.
        assert status == 400, status
        return
    got = wait_until(lambda: spans_of_trace(collector, trace), what="the JSON span")
    (s, _), = got.values()
    assert s["name"] == "GET /u/<REDACTED:email>"
    attrs = attributes(s)
    assert attrs["note"].endswith("<REDACTED:email>")
    assert attrs["api_key"] == "****"
    assert_nothing_leaked(collector)
    text = collector.self_metrics()
    assert metric_value(text, "otelcol_processor_genai_batches_failed_open") == 0
    assert metric_value(text, "otelcol_processor_genai_batches_dropped") == 0
