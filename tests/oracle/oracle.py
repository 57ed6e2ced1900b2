#!/usr/bin/env python3
"""LiteLLM oracle: price a grid of LiteLLM keys x token shapes with litellm and with our
engine (examples/price_grid.rs), from the same JSON file, and require agreement to 1e-9
relative. Run through tests/oracle/run.sh, which builds the venv and the example.

Usage: oracle.py <path-to-price_grid-binary> [--limit N]
"""
from __future__ import annotations

import json
import os
import pathlib
import re
import subprocess
import sys
from collections import Counter

os.environ["LITELLM_LOCAL_MODEL_COST_MAP"] = "True"  # never fetch the file from GitHub

import litellm  # noqa: E402
from litellm.types.utils import Usage  # noqa: E402

REL = 1e-9
TEXT_MODES = {None, "chat", "completion", "responses"}
THRESHOLD = re.compile(r"^input_cost_per_token_above_(\d+)(k?)_tokens$")


def shapes(entry: dict):
    yield dict(input=1000, output=500)
    yield dict(input=10000, cache_read=6000, output=200)
    yield dict(input=5000, cache_write=1000, output=100)
    yield dict(input=4000, cache_read=500, cache_write=1500, cache_write_1h=1000, output=300)
    yield dict(input=1000, output=2000, reasoning=1500)
    yield dict(input=123457, cache_read=54321, output=9876, reasoning=1234)
    for k in entry:
        m = THRESHOLD.match(k)
        if m:
            t = int(m.group(1)) * (1000 if m.group(2) else 1)
            yield dict(input=t, output=1000)
            yield dict(input=t + 1, cache_read=1000, cache_write=500, output=1000, reasoning=10)
    for tier in ("priority", "flex"):
        if f"input_cost_per_token_{tier}" in entry:
            yield dict(input=20000, cache_read=5000, output=700, service_tier=tier)


def litellm_cost(key: str, provider: str, s: dict) -> float:
    details = {}
    if s.get("cache_read"):
        details["cached_tokens"] = s["cache_read"]
    if s.get("cache_write"):
        details["cache_creation_tokens"] = s["cache_write"]
        w1h = s.get("cache_write_1h", 0)
        details["cache_creation_token_details"] = {
            "ephemeral_5m_input_tokens": s["cache_write"] - w1h,
            "ephemeral_1h_input_tokens": w1h,
        }
    usage = Usage(
        prompt_tokens=s["input"],
        completion_tokens=s["output"],
        total_tokens=s["input"] + s["output"],
        reasoning_tokens=s.get("reasoning") or None,
        prompt_tokens_details=details or None,
    )
    p, c = litellm.cost_per_token(
        model=key,
        custom_llm_provider=provider,
        usage_object=usage,
        service_tier=s.get("service_tier"),
    )
    return p + c


def main() -> int:
    binary = sys.argv[1]
    limit = int(sys.argv[sys.argv.index("--limit") + 1]) if "--limit" in sys.argv else None
    path = pathlib.Path(litellm.__file__).parent / "model_prices_and_context_window_backup.json"
    data = json.loads(path.read_text())
    skipped = Counter()
    cases, expected = [], {}
    for key, e in data.items():
        if key in ("sample_spec", "fallback_generalizations") or not isinstance(e, dict):
            continue
        provider = e.get("litellm_provider") or ""
        if e.get("mode") not in TEXT_MODES:
            skipped["not a text mode"] += 1
            continue
        if not isinstance(e.get("input_cost_per_token"), (int, float)) or not isinstance(
            e.get("output_cost_per_token"), (int, float)
        ):
            skipped["no per-token price"] += 1
            continue
        if key.startswith("perplexity/perplexity/"):
            # litellm's perplexity cost path re-resolves the doubled prefix to another row.
            skipped["perplexity/perplexity/* (litellm prices another row)"] += 1
            continue
        if provider.startswith("fireworks_ai"):
            skipped["fireworks default cache rate"] += 1
            continue
        try:
            info = litellm.get_model_info(model=key, custom_llm_provider=provider)
        except Exception:
            skipped["litellm cannot resolve its own key"] += 1
            continue
        used = info.get("key") or key
        if used.lower() != key.lower():
            skipped["litellm resolves the key to another row"] += 1
            continue
        for s in shapes(e):
            if provider == "perplexity" and (s.get("cache_read") or s.get("cache_write")):
                # litellm's perplexity cost path bills every prompt token at the input rate and
                # ignores the row's cache_read_input_token_cost; we follow the row.
                skipped["perplexity cache shapes (litellm ignores the cache rate)"] += 1
                continue
            try:
                want = litellm_cost(key, provider, s)
            except Exception as ex:  # noqa: BLE001
                skipped[f"litellm error: {type(ex).__name__}"] += 1
                continue
            cid = len(cases)
            cases.append(dict(id=cid, key=key, **s))
            expected[cid] = (key, s, want)
        if limit and len(cases) >= limit:
            break
    grid = json.dumps({"pricing_file": str(path), "cases": cases})
    out = subprocess.run([binary], input=grid, capture_output=True, text=True, check=True).stdout
    bad = 0
    for line in out.splitlines():
        r = json.loads(line)
        key, s, want = expected[r["id"]]
        got = None if r["cost"] is None else float(r["cost"])
        ok = got is not None and (abs(got - want) <= REL * max(abs(want), 1e-300) or got == want)
        if not ok:
            bad += 1
            if bad <= int(os.environ.get("ORACLE_SHOW", "25")):
                print(f"MISMATCH {key} {s}: litellm={want!r} ours={r['cost']}")
    import importlib.metadata as md

    print(f"litellm {md.version('litellm')} ({path.name}): "
          f"{len(cases)} cases over {len({c['key'] for c in cases})} models, {bad} mismatches")
    for reason, n in skipped.most_common():
        print(f"  skipped {n}: {reason}")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
