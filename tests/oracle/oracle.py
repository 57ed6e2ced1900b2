#!/usr/bin/env python3
"""LiteLLM oracle: price a grid of cases with litellm's own cost function and with our
engine (examples/price_grid.rs), from the same JSON file, and require agreement to 1e-9
relative. Run through tests/oracle/run.sh, which builds the venv and the example.

Two kinds of case:
* rows: every text row x token shapes, priced by its key (standard, service tiers, batch,
  1-hour cache writes, long-context tiers, residency/regional/geo/speed uplifts);
* spans: what a span reports (OTel provider + model string + where it ran), resolved by our
  lookup with LiteLLM's file loaded after the built-in table: OpenAI fine-tunes by full name,
  Bedrock region-keyed rows and cross-region profiles (also as ARNs), Azure data zones
  through a configured deployment.

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

AWS_REGION = re.compile(r"^[a-z]{2}(-gov)?-[a-z]+-\d$")
GEO_PREFIXES = ("us.", "eu.", "apac.", "au.", "jp.", "global.", "us-gov.", "ca.")
AZURE_ZONES = ("us", "eu", "global", "global-standard", "us-gov", "apac")

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
    yield dict(input=3000, cache_write=2000, cache_write_1h=2000, output=50)
    for tier in ("priority", "flex"):
        if f"input_cost_per_token_{tier}" in entry:
            yield dict(input=20000, cache_read=5000, output=700, service_tier=tier)
            yield dict(input=20000, cache_write=3000, cache_write_1h=1000, output=700,
                       reasoning=300, service_tier=tier)
            for k in entry:
                m = THRESHOLD.match(k)
                if m:
                    t = int(m.group(1)) * (1000 if m.group(2) else 1)
                    yield dict(input=t + 1, cache_read=1000, output=1000, service_tier=tier)


def batch_shapes(entry: dict):
    yield dict(input=1000, output=500, batch=True)
    yield dict(input=4000, cache_read=500, cache_write=1500, cache_write_1h=1000, output=300,
               reasoning=100, batch=True)
    for k in entry:
        m = re.match(r"^input_cost_per_token_above_(\d+)(k?)_tokens_batches$", k)
        if m:
            t = int(m.group(1)) * (1000 if m.group(2) else 1)
            yield dict(input=t + 1, cache_read=1000, output=1000, batch=True)


def uplift_shapes(entry: dict):
    base = dict(input=10000, cache_read=2000, output=500)
    for zone in ("eu", "us"):
        if f"regional_processing_uplift_multiplier_{zone}" in entry:
            yield dict(base, data_residency=zone)
    if "regional_endpoint_uplift_multiplier" in entry:
        yield dict(base, vertex_location="us-east5")
        yield dict(base, vertex_location="global")
    pse = entry.get("provider_specific_entry")
    if isinstance(pse, dict):
        for k, v in pse.items():
            if isinstance(v, (int, float)):
                yield dict(base, **({"speed": "fast"} if k == "fast" else {"inference_geo": k}))


def litellm_cost(args: dict, s: dict) -> float:
    """litellm's cost for one case; `args` are cost_per_token's model/provider/region."""
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
    for k in ("inference_geo", "speed"):
        if s.get(k):
            setattr(usage, k, s[k])
    extra = {}
    if s.get("batch"):
        extra["call_type"] = "retrieve_batch"
    for k in ("data_residency", "vertex_location"):
        if s.get(k):
            extra[k] = s[k]
    p, c = litellm.cost_per_token(
        usage_object=usage, service_tier=s.get("service_tier"), **args, **extra
    )
    return p + c


def row_cases(data: dict, skipped: Counter):
    """(our case, litellm args) for every text row priced by its key."""
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
        args = dict(model=key, custom_llm_provider=provider)
        # github_copilot has no batch API; litellm's batch path tries to sign in to it.
        batch = [] if provider == "github_copilot" else list(batch_shapes(e))
        for s in [*shapes(e), *batch, *uplift_shapes(e)]:
            if provider == "perplexity" and (s.get("cache_read") or s.get("cache_write")):
                # litellm's perplexity cost path bills every prompt token at the input rate and
                # ignores the row's cache_read_input_token_cost; we follow the row.
                skipped["perplexity cache shapes (litellm ignores the cache rate)"] += 1
                continue
            if (s.get("batch") and s.get("cache_read") and "input_cost_per_token_batches" not in e
                    and "cache_read_input_token_cost" not in e):
                # litellm's half-price batch path bills cache hits at $0 when the row has no
                # cache-read rate; we bill them as input (flagged cache_rate_defaulted).
                skipped["batch cache reads on a row without a cache rate (litellm: $0)"] += 1
                continue
            if s.get("vertex_location") and provider.startswith("vertex_ai-"):
                # litellm applies regional_endpoint_uplift_multiplier only for provider
                # `vertex_ai`; for its vertex_ai-* rows it ignores the row's own multiplier.
                # We apply it: Google bills regional endpoints at the uplift.
                skipped[f"regional uplift on {provider} rows (litellm ignores it)"] += 1
                continue
            yield dict(key=key, **s), args


def span_cases(data: dict, deployments: dict):
    """(our case, litellm args) for model strings as spans report them."""
    text = {k: e for k, e in data.items() if isinstance(e, dict) and e.get("mode") in TEXT_MODES
            and isinstance(e.get("input_cost_per_token"), (int, float))
            and isinstance(e.get("output_cost_per_token"), (int, float))}
    cached = [dict(input=100000, cache_read=60000, output=2000),
              dict(input=5000, cache_write=2000, cache_write_1h=1500, output=300)]
    for key, e in text.items():
        provider = e.get("litellm_provider") or ""
        # OpenAI fine-tunes by their full name, with and without a custom suffix.
        if key.startswith("ft:") and provider == "openai":
            for full in (f"{key}:acme:triage:AbC123", f"{key}:acme::AbC123"):
                for s in cached:
                    yield (dict(provider="openai", model=full, **s),
                           dict(model=full, custom_llm_provider="openai"))
        # Bedrock rows keyed by the region that serves the call.
        parts = key.split("/")
        if len(parts) == 3 and parts[0] == "bedrock" and AWS_REGION.match(parts[1]):
            for s in cached:
                yield (dict(provider="aws.bedrock", model=parts[2], region=parts[1], **s),
                       dict(model=parts[2], custom_llm_provider="bedrock", region_name=parts[1]))
        # Cross-region inference profiles, bare, routed and as an inference-profile ARN.
        if key.startswith(GEO_PREFIXES) and provider.startswith("bedrock"):
            arn = f"arn:aws:bedrock:us-east-1:123456789012:inference-profile/{key}"
            for model in (key, f"bedrock/{key}", arn):
                for s in cached:
                    yield (dict(provider="aws.bedrock", model=model, **s),
                           dict(model=key, custom_llm_provider="bedrock"))
        # Azure data zones through a deployment configured with its zone.
        if len(parts) == 3 and parts[0] == "azure" and parts[1] in AZURE_ZONES:
            dep = f"dep-{len(deployments)}"
            deployments[dep] = {"model": parts[2], "data_zone": parts[1]}
            for s in cached:
                yield (dict(provider="azure.ai.openai", model=dep, **s),
                       dict(model=f"{parts[1]}/{parts[2]}", custom_llm_provider="azure"))


def main() -> int:
    binary = sys.argv[1]
    limit = int(sys.argv[sys.argv.index("--limit") + 1]) if "--limit" in sys.argv else None
    path = pathlib.Path(litellm.__file__).parent / "model_prices_and_context_window_backup.json"
    data = json.loads(path.read_text())
    skipped = Counter()
    cases, expected = [], {}
    deployments: dict = {}
    kinds = Counter()
    for kind, gen in (("rows", row_cases(data, skipped)), ("spans", span_cases(data, deployments))):
        for case, args in gen:
            try:
                want = litellm_cost(args, case)
            except Exception as ex:  # noqa: BLE001
                skipped[f"litellm error: {type(ex).__name__}"] += 1
                if os.environ.get("ORACLE_SHOW_ERRORS"):
                    print(f"litellm error on {args} {case}: {ex!r}"[:300])
                continue
            if want == 0 and case.get("batch"):
                # litellm's batch path could not resolve the row and returned $0.
                skipped["litellm batch path returns $0 for the row"] += 1
                continue
            cid = len(cases)
            cases.append(dict(id=cid, **case))
            expected[cid] = (args["model"], case, want)
            kinds[kind] += 1
            if limit and len(cases) >= limit:
                break
    grid = json.dumps({"pricing_file": str(path), "deployments": deployments, "cases": cases})
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
                print(f"MISMATCH {key} {s}: litellm={want!r} ours={r['cost']} "
                      f"({r.get('entry')}, {r.get('match')})")
    import importlib.metadata as md

    models = {c.get("key") or c.get("model") for c in cases}
    print(f"litellm {md.version('litellm')} ({path.name}): "
          f"{len(cases)} cases ({kinds['rows']} by row, {kinds['spans']} as spans) over "
          f"{len(models)} models, {bad} mismatches")
    by = Counter()
    for c in cases:
        for k in ("service_tier", "batch", "region", "data_residency", "vertex_location",
                  "inference_geo", "speed", "cache_write_1h"):
            if c.get(k):
                by[k] += 1
        if str(c.get("model", "")).startswith("ft:"):
            by["fine-tune by full name"] += 1
        if str(c.get("model", "")).startswith("dep-"):
            by["azure data zone deployment"] += 1
    print("  covering: " + ", ".join(f"{k} {n}" for k, n in sorted(by.items())))
    for reason, n in skipped.most_common():
        print(f"  skipped {n}: {reason}")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
