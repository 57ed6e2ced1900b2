#!/usr/bin/env python3
"""Regenerate config/pricing/genai-prices.json from the pinned `genai-prices` PyPI package.

Run from a venv (`make update-prices` creates one):
    python -m venv .venv-prices && .venv-prices/bin/pip install genai-prices==0.2.3
    .venv-prices/bin/python tools/update_prices.py [--out config/pricing/genai-prices.json]

The package's data is MIT-licensed (Copyright (c) Pydantic Services Inc.); the licence text is
copied next to the output. Only token-priced units are kept: per-request, per-search and audio
hour units are outside what the engine bills (see config/pricing/README.md).
"""
from __future__ import annotations

import argparse
import dataclasses
import datetime as dt
import importlib.metadata as md
import json
import pathlib
import shutil
import sys

PIN = "0.2.3"
# genai-prices unit key -> our unit key (USD per million tokens).
UNITS = {
    "input_mtok": "input_mtok",
    "output_mtok": "output_mtok",
    "cache_read_mtok": "cache_read_mtok",
    "cache_write_mtok": "cache_write_mtok",
    "cache_write_1h_mtok": "cache_write_1h_mtok",
    "output_reasoning_mtok": "output_reasoning_mtok",
}


def dec(v) -> str:
    s = format(v, "f")
    if "." in s:
        s = s.rstrip("0").rstrip(".")
    return s or "0"


def clause(c):
    from genai_prices import types as t

    if isinstance(c, t.ClauseOr):
        return {"or": [clause(x) for x in c.or_]}
    if isinstance(c, t.ClauseAnd):
        return {"and": [clause(x) for x in c.and_]}
    if hasattr(c, "regex"):
        return regex_clause(c.regex)
    for name in ("equals", "starts_with", "ends_with", "contains"):
        if hasattr(c, name):
            return {name: getattr(c, name)}
    raise ValueError(f"unknown match clause {c!r}")


def regex_clause(r: str):
    """Rust's regex engine has no look-around: rewrite a leading `^(?!A)B` as not(^A) and ^B."""
    if not r.startswith("^(?!"):
        if "(?=" in r or "(?!" in r or "(?<" in r:
            raise ValueError(f"regex {r!r} uses look-around; extend regex_clause")
        return {"regex": r}
    depth, i = 0, 1
    for i in range(1, len(r)):
        if r[i] == "\\":
            continue
        if r[i] == "(" and r[i - 1] != "\\":
            depth += 1
        elif r[i] == ")" and r[i - 1] != "\\":
            depth -= 1
            if depth == 0:
                break
    inner, rest = r[4:i], r[i + 1 :]
    neg = {"not": regex_clause("^" + inner)}
    return {"and": [neg, regex_clause("^" + rest)]} if rest else neg


def utc_time(t: dt.time) -> str:
    if t.tzinfo is not None:
        t = dt.datetime.combine(dt.date(1970, 1, 1), t).astimezone(dt.UTC).time()
    return t.strftime("%H:%M:%S")


def constraint(c):
    if c is None:
        return None
    if hasattr(c, "start_date"):
        return {"start_date": c.start_date.isoformat()}
    return {"start_time": utc_time(c.start_time), "end_time": utc_time(c.end_time)}


def price_value(v):
    if hasattr(v, "tiers"):
        return {"base": dec(v.base), "tiers": [{"start": x.start, "price": dec(x.price)} for x in v.tiers]}
    return dec(v)


def model_price(p, dropped: set[str]):
    out = {}
    for k, v in vars(p).items():
        if v is None or k.startswith("_"):
            continue
        if k in UNITS:
            out[UNITS[k]] = price_value(v)
        else:
            dropped.add(k)
    return out


def model(m, dropped):
    if isinstance(m.prices, list):
        prices = []
        for cp in m.prices:
            e = {"prices": model_price(cp.prices, dropped)}
            c = constraint(cp.constraint)
            if c:
                e["constraint"] = c
            prices.append(e)
    else:
        prices = model_price(m.prices, dropped)
    out = {"id": m.id, "match": clause(m.match), "prices": prices}
    if m.name:
        out["name"] = m.name
    if m.context_window:
        out["context_window"] = m.context_window
    if m.deprecated:
        out["deprecated"] = True
    if m.price_variants:
        vs = []
        for v in m.price_variants:
            e = {"when": dict(v.when), "prices": model_price(v.prices, dropped)}
            c = constraint(v.constraint)
            if c:
                e["constraint"] = c
            vs.append(e)
        out["price_variants"] = vs
    return out


def main() -> int:
    ap = argparse.ArgumentParser()
    root = pathlib.Path(__file__).resolve().parent.parent
    ap.add_argument("--out", default=str(root / "config/pricing/genai-prices.json"))
    ap.add_argument("--allow-other-version", action="store_true")
    args = ap.parse_args()

    version = md.version("genai-prices")
    if version != PIN and not args.allow_other_version:
        print(f"genai-prices {version} installed, {PIN} pinned; pass --allow-other-version", file=sys.stderr)
        return 2
    from genai_prices.data import providers

    dropped: set[str] = set()
    doc = {
        "tollbooth_pricing": 1,
        "source": "genai-prices",
        "source_version": version,
        "licence": "MIT, Copyright (c) Pydantic Services Inc.; see LICENSE-genai-prices",
        "providers": [],
    }
    n_models = 0
    for p in providers:
        pe = {"id": p.id, "name": p.name}
        if p.api_pattern:
            pe["api_pattern"] = p.api_pattern
        if p.provider_match:
            pe["provider_match"] = clause(p.provider_match)
        if p.model_match:
            pe["model_match"] = clause(p.model_match)
        if p.fallback_model_providers:
            pe["fallback_model_providers"] = list(p.fallback_model_providers)
        pe["models"] = [model(m, dropped) for m in p.models]
        n_models += len(pe["models"])
        doc["providers"].append(pe)

    out = pathlib.Path(args.out)
    out.write_text(json.dumps(doc, indent=1, ensure_ascii=False) + "\n")
    lic = pathlib.Path(md.distribution("genai-prices").locate_file("")) / f"genai_prices-{version}.dist-info/licenses/LICENSE"
    if lic.exists():
        shutil.copyfile(lic, out.parent / "LICENSE-genai-prices")
    print(f"wrote {out}: {len(doc['providers'])} providers, {n_models} models; units not billed: {sorted(dropped)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
