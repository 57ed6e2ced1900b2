"""Equivalence with contrib's tail_sampling: the bench collector runs contrib's processor and
ours side by side on the same input (one receiver fanning out to both pipelines) with the same
policy list, and both must keep exactly the same traces."""

import json
import random

import pytest

from conftest import wait_until
from procs import Proc, make_span, metric_value, post_spans, trace_spans

TRACES = 400


def sattr(name, key, values, **kw):
    return {"name": name, "type": "string_attribute", "string_attribute": {"key": key, "values": values, **kw}}


# Deterministic policies only (no rate limits: their decisions depend on timing).
POLICIES_MIXED = [
    {"name": "drop-health", "type": "drop", "drop": {"drop_sub_policy": [sattr("d1", "route", ["/health"])]}},
    {"name": "errors", "type": "status_code", "status_code": {"status_codes": ["ERROR"]}},
    {"name": "slow", "type": "latency", "latency": {"threshold_ms": 900}},
    {"name": "big", "type": "numeric_attribute",
     "numeric_attribute": {"key": "tokens", "min_value": 5000, "max_value": 100000}},
    sattr("vip", "tier", ["vip"]),
    sattr("chat-api", "route", ["^/api/v[0-9]+/chat$"], enabled_regex_matching=True),
    {"name": "flagged", "type": "boolean_attribute", "boolean_attribute": {"key": "flagged", "value": True}},
    {"name": "salted", "type": "probabilistic", "probabilistic": {"hash_salt": "eq-salt", "sampling_percentage": 15}},
    {"name": "many-spans", "type": "span_count", "span_count": {"min_spans": 9, "max_spans": 10}},
    {"name": "ts", "type": "trace_state", "trace_state": {"key": "vendor", "values": ["keep"]}},
    {"name": "gold-mid", "type": "and", "and": {"and_sub_policy": [
        sattr("a1", "tier", ["gold"]),
        {"name": "a2", "type": "numeric_attribute", "numeric_attribute": {"key": "tokens", "min_value": 100, "max_value": 999}},
    ]}},
    {"name": "unknown-region", "type": "not", "not": {"not_sub_policy": sattr("n1", "region", ["eu", "us", "ap"])}},
]

# Inverted matches (deprecated in contrib but still in users' lists), with sample_on_first_match.
POLICIES_INVERT = [
    {"name": "errors", "type": "status_code", "status_code": {"status_codes": ["ERROR"]}},
    sattr("unknown-region", "region", ["eu", "us", "ap"], invert_match=True),
    {"name": "high-shard", "type": "numeric_attribute",
     "numeric_attribute": {"key": "shard", "min_value": 0, "max_value": 7, "invert_match": True}},
    {"name": "salted", "type": "probabilistic", "probabilistic": {"hash_salt": "other", "sampling_percentage": 30}},
]


def build_config(tmp_path, out_dir_env="${env:TOLLBOOTH_OUT_DIR}"):
    procs, pipes, exporters = {}, {}, {}
    for case, policies, first_match in (("mixed", POLICIES_MIXED, False), ("invert", POLICIES_INVERT, True)):
        common = {"decision_wait": "2s", "num_traces": 100000, "policies": policies}
        if first_match:
            common["sample_on_first_match"] = True
        procs[f"tail_sampling/{case}"] = common
        procs[f"genai_tail_sampling/{case}"] = {**common, "release_interval": "50ms"}
        for impl in ("tail_sampling", "genai_tail_sampling"):
            exporters[f"file/{impl}_{case}"] = {"path": f"{out_dir_env}/{impl}_{case}.jsonl", "format": "json",
                                                "flush_interval": "100ms"}
            pipes[f"traces/{impl}_{case}"] = {"receivers": ["otlp"], "processors": [f"{impl}/{case}"],
                                              "exporters": [f"file/{impl}_{case}"]}
    cfg = {
        "extensions": {"health_check": {"endpoint": "${env:TOLLBOOTH_HEALTH}"}},
        "receivers": {"otlp": {"protocols": {"http": {"endpoint": "${env:TOLLBOOTH_OTLP_HTTP}"},
                                             "grpc": {"endpoint": "${env:TOLLBOOTH_OTLP_GRPC}"}}}},
        "processors": procs,
        "exporters": exporters,
        "service": {
            "extensions": ["health_check"],
            "telemetry": {"metrics": {"readers": [{"pull": {"exporter": {"prometheus": {
                "host": "${env:TOLLBOOTH_SELF_METRICS_HOST}", "port": "${env:TOLLBOOTH_SELF_METRICS_PORT}"}}}}]}},
            "pipelines": pipes,
        },
    }
    path = tmp_path / "equivalence.yaml"
    path.write_text(json.dumps(cfg, indent=1))  # JSON is YAML
    return path


def random_traces(seed: int):
    rng = random.Random(seed)
    base = 1_760_000_000_000_000_000
    traces = []
    for t in range(TRACES):
        tid = rng.randbytes(16)
        n = rng.randint(1, 10)
        start = base + t * 10_000_000_000
        spans = []
        root = rng.randbytes(8)
        region = rng.choice(["eu", "us", "ap", "eu", "us", "ap", "mars"])
        shard = rng.randrange(10)
        for i in range(n):
            attrs = {"region": region, "shard": shard}
            if rng.random() < 0.15:
                attrs["tokens"] = rng.choice([50, 100, 500, 999, 1000, 4999, 5000, 20000, 100000, 100001])
            if rng.random() < 0.1:
                attrs["tier"] = rng.choice(["vip", "gold", "silver", "VIP"])
            if rng.random() < 0.1:
                attrs["route"] = rng.choice(["/health", "/api/v1/chat", "/api/v22/chat", "/api/vx/chat",
                                             "/api/v1/chat/x", "/v1/chat"])
            if rng.random() < 0.05:
                attrs["flagged"] = rng.random() < 0.5
            if rng.random() < 0.1:
                attrs["env"] = rng.choice(["internal", "prod"])
            dur_ms = rng.choice([1, 10, 100, 400, 899, 900, 901, 2000]) if i == 0 else rng.randint(1, 300)
            offset_ms = 0 if i == 0 else rng.randint(0, 600)
            spans.append(make_span(
                tid, root if i == 0 else rng.randbytes(8), b"" if i == 0 else root, name=f"op{i}",
                start_ns=start + offset_ms * 1_000_000, dur_ns=dur_ms * 1_000_000,
                error=rng.random() < 0.03, attrs=attrs,
                trace_state=rng.choice(["vendor=keep", "vendor=other", "", "", "", "", "", ""]) if i == 0 else ""))
        traces.append((tid, spans))
    return traces


@pytest.fixture
def bench(tmp_path):
    p = Proc(tmp_path, "equivalence", build_config(tmp_path))
    yield p
    code = p.stop()
    assert code == 0, f"collector exited with {code}:\n{p.log_text()}"


def test_same_kept_traces_as_contrib_tail_sampling(bench):
    traces = random_traces(seed=7)
    # Several traces per batch; every span of a trace in one batch (no late spans).
    for i in range(0, len(traces), 25):
        post_spans(bench.http, [s for _, spans in traces[i:i + 25] for s in spans])

    def decided():
        text = bench.self_metrics()
        contrib = metric_value(text, "otelcol_processor_tail_sampling_global_count_traces_sampled")
        ours = sum(metric_value(text, "otelcol_processor_genai_tail_sampling_traces", decision=d)
                   for d in ("sampled", "not_sampled", "dropped"))
        return contrib == 2 * TRACES and ours == 2 * TRACES

    wait_until(decided, timeout=60, what="both samplers deciding every trace in both cases")

    def kept(name):
        return set(trace_spans(bench.out_dir / f"{name}.jsonl"))

    for case in ("mixed", "invert"):
        # Files flush every 100 ms; wait until both outputs stop growing and agree in size.
        # Every trace is decided (above); wait until both files stop growing (100 ms flushes).
        last = {}

        def settled():
            now = {impl: len(kept(f"{impl}_{case}")) for impl in ("tail_sampling", "genai_tail_sampling")}
            done = now == last.get("v") and now["tail_sampling"] > 0
            last["v"] = now
            return done

        wait_until(settled, timeout=30, interval=1.0, what=f"{case}: kept traces written")
        theirs, ours = kept(f"tail_sampling_{case}"), kept(f"genai_tail_sampling_{case}")
        assert 0 < len(ours) < TRACES, f"{case}: the policy mix should keep some, not all ({len(ours)})"
        assert ours == theirs, (f"{case}: only contrib kept {sorted(theirs - ours)[:10]}, "
                                f"only ours kept {sorted(ours - theirs)[:10]}")
        # And the same spans of each kept trace.
        ts, os_ = trace_spans(bench.out_dir / f"tail_sampling_{case}.jsonl"), \
            trace_spans(bench.out_dir / f"genai_tail_sampling_{case}.jsonl")
        for tid in ours:
            assert sorted(ts[tid]) == sorted(os_[tid]), tid
