"""`otelcol validate` on the built binary, and the shipped configurations.

Every bad configuration of the table must make `build/otelcol-tollbooth validate --config ...` exit
non-zero with a message naming the key (invariant 5: config errors before start). The shipped
configurations must validate, the default one must start where ./out does not exist yet, and the
production example must start with its persistent queue.
"""

import json
import os
import signal
import subprocess
from pathlib import Path

import pytest

from conftest import BINARY, DEFAULT_CONFIG, ROOT, free_port, http_get, wait_until
from procs import make_span, post_spans

PRODUCTION = ROOT / "config" / "examples" / "production.yaml"


def base_config() -> dict:
    """Our three components wired as recommended, with stock receiver and exporter."""
    return {
        "receivers": {"otlp": {"protocols": {"http": {"endpoint": "127.0.0.1:4318"}}}},
        "processors": {
            "genai": {"cost": {}, "redaction": {"allow_all_keys": True, "detectors": ["secrets"]}},
            "genai_tail_sampling": {
                "decision_wait": "1s",
                "policies": [{"name": "keep-all", "type": "always_sample"}],
            },
        },
        "connectors": {"forward": None, "genai_metrics": {"metrics_flush_interval": "5s"}},
        "exporters": {"debug": None},
        "service": {
            "pipelines": {
                "traces": {"receivers": ["otlp"], "processors": ["genai"], "exporters": ["genai_metrics", "forward"]},
                "traces/sampled": {"receivers": ["forward"], "processors": ["genai_tail_sampling"], "exporters": ["debug"]},
                "metrics": {"receivers": ["genai_metrics"], "exporters": ["debug"]},
            }
        },
    }


def sampling(**keys) -> dict:
    return {"genai_tail_sampling": {"decision_wait": "1s", **keys}}


def policies(*p) -> dict:
    return sampling(policies=list(p))


def prob(pct, name="p") -> dict:
    return {"name": name, "type": "probabilistic", "probabilistic": {"sampling_percentage": pct}}


KEEP = {"name": "keep", "type": "always_sample"}

# (case id, processors/connectors to override, text the message must contain)
BAD = [
    ("sampling_percentage_250", ("processors", policies(prob(250))),
     'policies[0] ("p").probabilistic.sampling_percentage must be between 0 and 100, got 250'),
    ("sampling_percentage_negative", ("processors", policies(prob(-5))), "probabilistic.sampling_percentage"),
    ("sampling_percentage_in_and", ("processors", policies(
        {"name": "a", "type": "and", "and": {"and_sub_policy": [KEEP, prob(250)]}})),
     'policies[0] ("a").and.and_sub_policy[1] ("p").probabilistic.sampling_percentage'),
    ("sampling_percentage_in_composite", ("processors", policies(
        {"name": "c", "type": "composite", "composite": {"max_total_spans_per_second": 100,
                                                         "composite_sub_policy": [prob(250)]}})),
     'policies[0] ("c").composite.composite_sub_policy[0] ("p").probabilistic.sampling_percentage'),
    ("latency_negative_in_not", ("processors", policies(
        {"name": "n", "type": "not", "not": {"not_sub_policy": {"name": "l", "type": "latency",
                                                                "latency": {"threshold_ms": -1}}}})),
     'policies[0] ("n").not.not_sub_policy.latency.threshold_ms'),
    ("rate_allocation_over_100", ("processors", policies(
        {"name": "c", "type": "composite", "composite": {
            "max_total_spans_per_second": 100, "composite_sub_policy": [KEEP],
            "rate_allocation": [{"policy": "keep", "percent": 80}, {"policy": "keep", "percent": 70}]}})),
     "rate_allocation percents add up to 150"),
    ("composite_zero_rate", ("processors", policies(
        {"name": "c", "type": "composite", "composite": {"max_total_spans_per_second": 0,
                                                         "composite_sub_policy": [KEEP]}})),
     "composite.max_total_spans_per_second"),
    ("rate_limiting_zero", ("processors", policies(
        {"name": "r", "type": "rate_limiting", "rate_limiting": {"spans_per_second": 0}})),
     "rate_limiting.spans_per_second"),
    ("genai_cost_negative", ("processors", policies(
        {"name": "g", "type": "genai_cost", "genai_cost": {"threshold_usd": -1}})), "genai_cost.threshold_usd"),
    ("genai_cost_rate_zero", ("processors", policies(
        {"name": "g", "type": "genai_cost_rate_limiting", "genai_cost_rate_limiting": {"traces_per_second": 0}})),
     "genai_cost_rate_limiting.traces_per_second"),
    ("decision_wait_zero", ("processors", {"genai_tail_sampling": {"decision_wait": "0s", "policies": [KEEP]}}),
     "decision_wait must be greater than 0"),
    ("num_traces_zero", ("processors", sampling(num_traces=0, policies=[KEEP])), "num_traces must be at least 1"),
    ("max_buffered_bytes_negative", ("processors", sampling(max_buffered_bytes=-1, policies=[KEEP])),
     "max_buffered_bytes must be at least 1"),
    ("num_shards_1000", ("processors", sampling(num_shards=1000, policies=[KEEP])), "num_shards must be between 1 and 256"),
    ("decision_cache_negative", ("processors", sampling(decision_cache={"sampled_cache_size": -1}, policies=[KEEP])),
     "decision_cache.sampled_cache_size"),
    ("release_interval_zero", ("processors", sampling(release_interval="0s", policies=[KEEP])),
     "release_interval must be greater than 0"),
    ("release_max_spans_zero", ("processors", sampling(release={"max_spans": 0}, policies=[KEEP])),
     "release.max_spans must be between 1 and 1048576, got 0"),
    ("release_max_spans_negative", ("processors", sampling(release={"max_spans": -10}, policies=[KEEP])),
     "release.max_spans must be between 1 and 1048576, got -10"),
    ("release_max_bytes_below_64KiB", ("processors", sampling(release={"max_bytes": 1000}, policies=[KEEP])),
     "release.max_bytes must be between 65536 and 67108864, got 1000"),
    ("release_max_bytes_over_64MiB", ("processors", sampling(release={"max_bytes": 128 << 20}, policies=[KEEP])),
     "release.max_bytes must be between 65536 and 67108864, got 134217728"),
    ("block_on_overflow_true", ("processors", sampling(block_on_overflow=True, policies=[KEEP])),
     "block_on_overflow true is not supported"),
    ("reload_interval_negative", ("processors", {"genai": {"cost": {"pricing": {"reload_interval_seconds": -1}}}}),
     "cost.pricing.reload_interval_seconds must be 0 or more"),
    ("max_file_bytes_zero", ("processors", {"genai": {"cost": {"pricing": {"max_file_bytes": 0}}}}),
     "cost.pricing.max_file_bytes must be at least 1"),
    ("pricing_file_dev_zero", ("processors", {"genai": {"cost": {"pricing": {"files": ["/dev/zero"]}}}}),
     "/dev/zero"),
    ("max_value_bytes_negative", ("processors", {"genai": {"redaction": {"max_value_bytes": -1}}}),
     "redaction.max_value_bytes must be 0 or more"),
    ("max_chars_zero", ("processors", {"genai": {"redaction": {"content": {"policy": "truncate", "max_chars": 0}}}}),
     "redaction.content.max_chars must be at least 1"),
    ("cardinality_limit_zero", ("connectors", {"genai_metrics": {"aggregation_cardinality_limit": 0}}),
     "aggregation_cardinality_limit"),
    ("flush_interval_zero", ("connectors", {"genai_metrics": {"metrics_flush_interval": "0s"}}), "metrics_flush_interval"),
    ("expiration_negative", ("connectors", {"genai_metrics": {"metrics_expiration": "-1m"}}), "metrics_expiration"),
    ("exponential_one_bucket", ("connectors", {"genai_metrics": {"histogram": {"exponential": {"max_size": 1}}}}),
     "histogram.exponential.max_size must be at least 2"),
    ("dedupe_window_zero", ("processors", {"genai": {"dedupe": {"window_seconds": 0}}}),
     "dedupe.window_seconds must be"),
    ("dedupe_entries_zero", ("connectors", {"genai_metrics": {"dedupe": {"max_entries": 0}}}),
     "dedupe.max_entries must be at least 1"),
    ("fused_with_dedupe", ("connectors", {"genai_metrics": {"processor": "genai", "dedupe": {"enabled": False}}}),
     "move the dedupe block to that processor"),
    ("fused_not_a_genai_processor", ("connectors", {"genai_metrics": {"processor": "batch"}}),
     "must name a genai processor"),
    # Errors the engine finds when the component is created (validate builds the pipelines).
    ("unknown_sampling_key", ("processors", sampling(decison_wait="1s", policies=[KEEP])), "decison_wait"),
    ("unsupported_policy_type", ("processors", policies({"name": "o", "type": "ottl_condition"})), "ottl_condition"),
    ("unclosed_regex", ("processors", {"genai": {"redaction": {"allow_all_keys": True, "blocked_values": ["(unclosed"]}}}),
     "(unclosed"),
    ("missing_pricing_file", ("processors", {"genai": {"cost": {"pricing": {"files": ["/nonexistent/prices.json"]}}}}),
     "/nonexistent/prices.json"),
]


def run_validate(config: Path, env: dict | None = None) -> subprocess.CompletedProcess:
    if not BINARY.exists():
        pytest.fail(f"{BINARY} is missing: run `make dist` (`make test-e2e` does it)")
    return subprocess.run([str(BINARY), "validate", "--config", str(config)], capture_output=True, text=True,
                          timeout=60, env=env)


@pytest.mark.parametrize("section,override,want", [(c[1][0], c[1][1], c[2]) for c in BAD], ids=[c[0] for c in BAD])
def test_validate_refuses_bad_configuration(tmp_path, section, override, want):
    cfg = base_config()
    cfg[section].update(override)
    path = tmp_path / "bad.yaml"
    path.write_text(json.dumps(cfg, indent=1))  # JSON is YAML
    r = run_validate(path)
    out = r.stdout + r.stderr
    assert r.returncode != 0, f"validate accepted a bad configuration:\n{path.read_text()}\n{out}"
    assert want in out, f"the message does not name {want!r}:\n{out}"


def test_validate_refuses_a_bad_value_in_a_component_no_pipeline_uses(tmp_path):
    """Validate runs for every configured component, not only those the pipelines build."""
    cfg = base_config()
    cfg["processors"]["genai_tail_sampling/unused"] = {"policies": [prob(250)]}
    path = tmp_path / "bad.yaml"
    path.write_text(json.dumps(cfg))
    r = run_validate(path)
    assert r.returncode != 0 and "sampling_percentage" in r.stdout + r.stderr, r.stdout + r.stderr


def test_the_base_configuration_of_the_table_is_valid(tmp_path):
    path = tmp_path / "good.yaml"
    path.write_text(json.dumps(base_config()))
    r = run_validate(path)
    assert r.returncode == 0, r.stdout + r.stderr


@pytest.mark.parametrize("config", [DEFAULT_CONFIG, PRODUCTION], ids=lambda p: p.name)
def test_shipped_configurations_validate(tmp_path, config):
    r = run_validate(config, env=dict(os.environ, TOLLBOOTH_STORAGE_DIR=str(tmp_path / "queue")))
    assert r.returncode == 0, r.stdout + r.stderr


def ports_env(**extra) -> tuple[dict, str]:
    health = f"127.0.0.1:{free_port()}"
    env = dict(
        os.environ,
        TOLLBOOTH_OTLP_GRPC=f"127.0.0.1:{free_port()}",
        TOLLBOOTH_OTLP_HTTP=f"127.0.0.1:{free_port()}",
        TOLLBOOTH_PROMETHEUS=f"127.0.0.1:{free_port()}",
        TOLLBOOTH_SELF_METRICS_HOST="127.0.0.1",
        TOLLBOOTH_SELF_METRICS_PORT=str(free_port()),
        TOLLBOOTH_HEALTH=health,
        **extra,
    )
    env.pop("TOLLBOOTH_OUT_DIR", None)
    return env, health


def start(config: Path, cwd: Path, env: dict, health: str, log: Path) -> subprocess.Popen:
    out = open(log, "wb")
    proc = subprocess.Popen([str(BINARY), "--config", str(config)], cwd=cwd, env=env, stdout=out, stderr=subprocess.STDOUT)

    def healthy():
        if proc.poll() is not None:
            pytest.fail(f"the collector exited with {proc.returncode}:\n{log.read_text()}")
        return "Server available" in http_get(f"http://{health}/")

    wait_until(healthy, timeout=60, what="health check")
    return proc


def stop(proc: subprocess.Popen, log: Path) -> None:
    proc.send_signal(signal.SIGINT)
    try:
        assert proc.wait(timeout=30) == 0, log.read_text()
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
        pytest.fail(f"the collector did not stop:\n{log.read_text()}")


def test_default_config_starts_where_the_output_directory_does_not_exist(tmp_path):
    """`./build/otelcol-tollbooth --config config/collector.yaml` from a fresh clone: ./out is
    created by the file exporter (create_directory), not by `make run`."""
    cwd = tmp_path / "fresh-clone"
    cwd.mkdir()
    env, health = ports_env(TOLLBOOTH_SAMPLE_PERCENT="100", TOLLBOOTH_DECISION_WAIT="1s")
    log = tmp_path / "collector.log"
    proc = start(DEFAULT_CONFIG, cwd, env, health, log)
    try:
        assert (cwd / "out").is_dir(), "the output directory was not created at start"
        span = make_span(b"\x01" * 16, b"\x02" * 8, name="chat gpt-4o",
                         attrs={"gen_ai.provider.name": "openai", "gen_ai.request.model": "gpt-4o"})
        post_spans(env["TOLLBOOTH_OTLP_HTTP"], [span])
        wait_until(lambda: b"chat gpt-4o" in read_bytes(cwd / "out" / "traces.jsonl"), timeout=30,
                   what="the span in ./out/traces.jsonl")
    finally:
        stop(proc, log)


def read_bytes(path: Path) -> bytes:
    return path.read_bytes() if path.exists() else b""


def test_production_example_starts_with_its_persistent_queue(tmp_path):
    storage = tmp_path / "queue"  # does not exist yet: file_storage creates it
    env, health = ports_env(TOLLBOOTH_STORAGE_DIR=str(storage), TOLLBOOTH_BACKEND="127.0.0.1:9",
                            TOLLBOOTH_BACKEND_INSECURE="true")
    log = tmp_path / "collector.log"
    proc = start(PRODUCTION, tmp_path, env, health, log)
    try:
        wait_until(lambda: storage.is_dir() and any(storage.iterdir()), timeout=30,
                   what="the exporter's queue file in the file_storage directory")
    finally:
        stop(proc, log)
