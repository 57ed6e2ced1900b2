#!/usr/bin/env python3
"""Checks that every metric the dashboard and the alert rules query is really exposed.

Usage:
  check_queries.py EXPOSED [--dashboard FILE] [--alerts FILE] [--ignore-missing-prefix P]

EXPOSED is either a file of metric names (one a line, `#` comments, e.g.
config/metric-names.txt) or an http(s) URL of a Prometheus text endpoint such as
http://127.0.0.1:8889/metrics, whose sample names are read. Exits 1 and lists each
metric that a query names but EXPOSED lacks, with the panel or rule that names it.

Metric names are found with a small PromQL lexer: strings, label matchers, ranges,
numbers, durations, Grafana variables, functions, aggregation operators, keywords and
the label lists of by/without/on/ignoring/group_* are skipped; every other identifier
is a metric name. Only the standard library is needed (PyYAML is used when present).
"""

import argparse
import json
import re
import sys
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

KEYWORDS = {
    "and", "or", "unless", "bool", "offset", "atan2", "inf", "nan",
    "sum", "min", "max", "avg", "group", "stddev", "stdvar", "count",
    "count_values", "bottomk", "topk", "quantile", "limitk", "limit_ratio",
}
LABEL_LIST_KEYWORDS = {"by", "without", "on", "ignoring", "group_left", "group_right"}
IDENT_START = re.compile(r"[A-Za-z_:]")
IDENT = re.compile(r"[A-Za-z_:][A-Za-z0-9_:]*")


def _skip_string(s, i):
    quote = s[i]
    i += 1
    while i < len(s) and s[i] != quote:
        i += 2 if s[i] == "\\" and quote != "`" else 1
    return i + 1


def _skip_group(s, i, open_ch, close_ch):
    """Skips a balanced group starting at s[i] == open_ch, honouring strings."""
    depth = 0
    while i < len(s):
        c = s[i]
        if c in "\"'`":
            i = _skip_string(s, i)
            continue
        if c == open_ch:
            depth += 1
        elif c == close_ch:
            depth -= 1
            if depth == 0:
                return i + 1
        i += 1
    return i


def metric_names(expr):
    """Returns the metric names a PromQL expression selects."""
    names = []
    s, i = expr, 0
    while i < len(s):
        c = s[i]
        if c.isspace():
            i += 1
        elif c == "#":
            nl = s.find("\n", i)
            i = len(s) if nl < 0 else nl
        elif c in "\"'`":
            i = _skip_string(s, i)
        elif c == "{":
            i = _skip_group(s, i, "{", "}")
        elif c == "[":
            i = _skip_group(s, i, "[", "]")
        elif c == "$":
            m = re.compile(r"\$(\{[^}]*\}|[A-Za-z0-9_]+)").match(s, i)
            i = m.end() if m else i + 1
        elif c.isdigit() or (c == "." and i + 1 < len(s) and s[i + 1].isdigit()):
            m = re.compile(r"[0-9.]+(?:[eE][+-]?[0-9]+)?[A-Za-z0-9]*").match(s, i)
            i = m.end()
        elif IDENT_START.match(c):
            m = IDENT.match(s, i)
            word = m.group(0)
            i = m.end()
            j = i
            while j < len(s) and s[j].isspace():
                j += 1
            nxt = s[j] if j < len(s) else ""
            if word in LABEL_LIST_KEYWORDS:
                if nxt == "(":
                    i = _skip_group(s, j, "(", ")")
            elif word in KEYWORDS:
                pass
            elif nxt == "(":
                pass  # a function call
            else:
                names.append(word)
        else:
            i += 1
    return names


def grafana_queries(dashboard):
    """Yields (where, expr) for every PromQL query of a dashboard, variables included."""
    def walk(node, where):
        if isinstance(node, dict):
            title = node.get("title", where)
            if isinstance(node.get("expr"), str):
                yield f"panel {title!r} {node.get('refId', '')}".strip(), node["expr"]
            for k, v in node.items():
                if k != "templating":
                    yield from walk(v, title)
        elif isinstance(node, list):
            for v in node:
                yield from walk(v, where)

    yield from walk(dashboard, "dashboard")
    for var in dashboard.get("templating", {}).get("list", []):
        if var.get("type") != "query":
            continue
        q = var.get("query")
        q = q.get("query", "") if isinstance(q, dict) else (q or "")
        m = re.fullmatch(r"\s*label_values\((.*),\s*[A-Za-z_][A-Za-z0-9_]*\s*\)\s*", q, re.S)
        if m:
            q = m.group(1)
        elif re.fullmatch(r"\s*label_values\(\s*[A-Za-z_][A-Za-z0-9_]*\s*\)\s*", q):
            continue
        yield f"variable ${var.get('name')}", q


def alert_queries(text):
    """Yields (where, expr) for every rule of a Prometheus rules file."""
    try:
        import yaml  # type: ignore
    except ImportError:
        yaml = None
    if yaml is not None:
        doc = yaml.safe_load(text) or {}
        for g in doc.get("groups", []):
            for r in g.get("rules", []):
                name = r.get("alert") or r.get("record")
                yield f"rule {name}", str(r.get("expr", ""))
        return
    # Fallback without PyYAML: `- alert:`/`record:` lines then `expr:` inline or as a block.
    lines = text.splitlines()
    name = "?"
    i = 0
    while i < len(lines):
        line = lines[i]
        m = re.match(r"\s*-?\s*(alert|record):\s*(\S+)", line)
        if m:
            name = m.group(2)
        m = re.match(r"(\s*)expr:\s*(.*)$", line)
        if m:
            indent, rest = len(m.group(1)), m.group(2).strip()
            if rest and rest[0] not in "|>":
                yield f"rule {name}", rest.strip("'\"")
            else:
                body = []
                i += 1
                while i < len(lines) and (not lines[i].strip() or len(lines[i]) - len(lines[i].lstrip()) > indent):
                    body.append(lines[i])
                    i += 1
                yield f"rule {name}", "\n".join(body)
                continue
        i += 1


def exposed_names(source):
    if re.match(r"https?://", source):
        with urllib.request.urlopen(source, timeout=10) as r:
            text = r.read().decode("utf-8", "replace")
        names = set()
        for line in text.splitlines():
            if line.startswith("#") or not line.strip():
                continue
            m = IDENT.match(line)
            if m:
                names.add(m.group(0))
        return names
    names = set()
    for line in Path(source).read_text().splitlines():
        line = line.split("#", 1)[0].strip()
        if line:
            names.add(line)
    return names


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("exposed", nargs="+",
                    help="metric-names files or http(s) /metrics URLs (e.g. the GenAI metrics on :8889 "
                         "and the collector's own on :8888); a name exposed by any of them counts")
    ap.add_argument("--dashboard", default=str(ROOT / "config/grafana-dashboard.json"))
    ap.add_argument("--alerts", default=str(ROOT / "config/alerts.yml"))
    ap.add_argument("--ignore-missing-prefix", action="append", default=[],
                    help="do not fail for missing names with this prefix (e.g. otelcol_processor_genai_tail_sampling_ when the sampler is off)")
    args = ap.parse_args(argv)

    queries = list(grafana_queries(json.loads(Path(args.dashboard).read_text())))
    queries += list(alert_queries(Path(args.alerts).read_text()))
    exposed = set()
    for source in args.exposed:
        exposed |= set(exposed_names(source))
    sources = " + ".join(args.exposed)

    missing = {}
    referenced = set()
    for where, expr in queries:
        names = metric_names(expr)
        if not names:
            print(f"error: no metric name found in {where}: {expr!r}", file=sys.stderr)
            return 1
        for n in names:
            referenced.add(n)
            if n not in exposed and not any(n.startswith(p) for p in args.ignore_missing_prefix):
                missing.setdefault(n, []).append(where)

    if missing:
        print(f"{len(missing)} metric(s) queried but not exposed by {sources}:", file=sys.stderr)
        for n in sorted(missing):
            print(f"  {n}  (in {', '.join(sorted(set(missing[n])))})", file=sys.stderr)
        return 1
    print(f"ok: {len(queries)} queries name {len(referenced)} metrics, all exposed by {sources}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
