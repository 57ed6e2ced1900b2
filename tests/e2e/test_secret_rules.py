"""gitleaks' secret rules through the built collector on config/collector.yaml (issue 15 item 4).

For each rule, its first true-positive example from gitleaks itself
(tests/fixtures/gitleaks/examples.jsonl, stored reversed) is pasted into a chat prompt
(gen_ai.input.messages JSON) and into a plain attribute of one span; the false-positive
examples go the same way. Every secret gitleaks extracts must be gone from the exported file,
each masked under its rule's name as the counters name it; at least 95% of the false positives
must arrive verbatim (tests/secret_rules_examples.rs measures 96.8% on all of them, in Rust).
"""

import json
from collections import Counter
from pathlib import Path

from conftest import attributes, wait_until
from procs import make_span, metric_value, post_spans

EXAMPLES = Path(__file__).resolve().parents[1] / "fixtures" / "gitleaks" / "examples.jsonl"


def examples():
    tps, fps, seen = [], [], set()
    for line in EXAMPLES.read_text().splitlines():
        e = json.loads(line)
        if e.get("path"):
            continue  # checked together with a file path: not telemetry
        text = e["text"][::-1]
        if e["kind"] == "tp" and e["rule"] not in seen and e["secrets"]:
            seen.add(e["rule"])
            tps.append((e["rule"], text, [s[::-1] for s in e["secrets"]]))
        elif e["kind"] == "fp" and not e["findings"]:
            # (An example gitleaks' full rule set flags is no false positive.)
            fps.append((e["rule"], text))
    return tps, fps


def prompt(text: str) -> str:
    return json.dumps([{"role": "user", "parts": [{"type": "text", "content": text}]}])


def genai_attrs(text: str) -> dict:
    return {"gen_ai.provider.name": "openai", "gen_ai.operation.name": "chat",
            "gen_ai.request.model": "gpt-4o-mini", "gen_ai.input.messages": prompt(text),
            "note": text}


def test_gitleaks_examples_through_the_default_collector(collector):
    tps, fps = examples()
    assert len(tps) >= 200, f"one example per rule: {len(tps)}"
    spans, want = [], {}
    for i, (rule, text, secrets) in enumerate(tps + [(r, t, []) for r, t in fps]):
        sid = (0x5ec0_0000_0000 + i).to_bytes(8, "big")
        spans.append(make_span((0x5ec0 + i).to_bytes(16, "big"), sid, name="chat", attrs=genai_attrs(text)))
        want[sid.hex()] = (rule, text, secrets)
    for k in range(0, len(spans), 100):
        post_spans(collector.http, spans[k:k + 100])

    def exported():
        got = {s["spanId"].lower(): attributes(s) for s in collector.exported_spans()}
        return got if len(got) >= len(spans) else None

    got = wait_until(exported, timeout=60, what=f"{len(spans)} spans exported")
    leaked, verbatim, masks = [], 0, Counter()
    for sid, (rule, text, secrets) in want.items():
        attrs = got[sid]
        note, messages = attrs["note"], json.loads(attrs["gen_ai.input.messages"])
        content = messages[0]["parts"][0]["content"]
        if secrets:
            for where, value in (("note", note), ("prompt", content)):
                for s in secrets:
                    if s in value:
                        leaked.append(f"{rule} in {where}: {s[:12]}...")
                assert "<REDACTED:" in value, f"{rule}: nothing masked in {where}"
            masks.update(m.split(">")[0] for m in note.split("<REDACTED:")[1:])
        elif note == text and content == text:
            verbatim += 1
    assert not leaked, f"{len(leaked)} secrets left in clear: {leaked[:10]}"
    assert verbatim >= 0.95 * len(fps), f"false positives verbatim: {verbatim}/{len(fps)}"
    # The mask names what found it, and the counter uses the same name (detected.<name>).
    text = collector.self_metrics()
    for name in ("github-pat", "adafruit-api-key", "1password-secret-key"):
        if masks[name]:
            assert metric_value(text, "otelcol_processor_genai_redactions", detector=f"detected.{name}") >= masks[name], name
    assert len(masks) >= 100, f"masks should name the specific rules: {masks.most_common(5)}"
    print(f"tp rules {len(tps)} all masked; fp verbatim {verbatim}/{len(fps)}; mask names {len(masks)}")
