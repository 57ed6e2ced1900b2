"""The user's install path, end to end.

The Go module is packed as a real module zip (golang.org/x/mod/zip, via go-shim/tools/modpack) with
its prebuilt engine and served from a file-based GOPROXY in front of the real one. The manifest
that leads README's "Components" section - a user's own distribution listing our module with
`gomod:` and a version next to stock components - is built by ocb with no Rust toolchain on PATH.
The binary then starts on a config using our three components and must price a span.

The module is packed from the files git tracks under go-shim/ (what a proxy serves from a tagged
commit), as they are in the working tree. The prebuilt archive is the committed one when there is
one; until then, the one `make e2e-prebuilt` built with the same recipe (TOLLBOOTH_E2E_PREBUILT_DIR).
"""

import hashlib
import json
import os
import re
import secrets
import shutil
import signal
import stat
import subprocess
import time
import urllib.request
import zipfile
from pathlib import Path

import pytest

from conftest import ROOT, free_port, wait_until

MODULE = "github.com/tollbooth-dev/tollbooth/go-shim"
PREBUILT = "go-shim/internal/engine/prebuilt/linux_amd64"
PREBUILT_FILES = ("libtollbooth.a", "tollbooth.h", "libtollbooth.stamp")
README_VERSION = "v0.1.0"


def git(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(["git", *args], cwd=ROOT, capture_output=True, text=True)


def readme_manifest() -> str:
    """The first yaml block of README's "Components" section: the manifest users copy."""
    text = (ROOT / "README.md").read_text()
    section = text.split("\n## Components\n", 1)
    assert len(section) == 2, "README.md has no '## Components' section"
    m = re.search(r"```yaml\n(.*?)```", section[1], re.S)
    assert m, "README's Components section has no yaml block"
    assert "\n## " not in section[1][: m.start()], "the manifest must lead the Components section"
    return m.group(1)


def prebuilt_source() -> Path:
    """Where the prebuilt archive, header and stamp come from: the committed copy, or the
    `make e2e-prebuilt` output while none is committed."""
    if git("ls-files", "--error-unmatch", f"{PREBUILT}/libtollbooth.a").returncode == 0:
        return ROOT / PREBUILT
    fallback = os.environ.get("TOLLBOOTH_E2E_PREBUILT_DIR", str(ROOT / "build" / "lib-release"))
    path = Path(fallback)
    if not (path / "libtollbooth.a").exists():
        pytest.fail(f"no prebuilt archive committed and none in {path}: run `make e2e-prebuilt` (make test-e2e does)")
    return path


def stage_module(stage: Path) -> Path:
    """Copies the module as a proxy would serve it (tracked files) plus the prebuilt engine."""
    listed = git("ls-files", "-z", "go-shim")
    assert listed.returncode == 0, listed.stderr
    for rel in filter(None, listed.stdout.split("\0")):
        src = ROOT / rel
        if not src.is_file():  # deleted in the working tree
            continue
        dst = stage / Path(rel).relative_to("go-shim")
        dst.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(src, dst)
    source = prebuilt_source()
    check = subprocess.run(["tools/lib-release.sh", "check", str(source)], cwd=ROOT, capture_output=True, text=True)
    assert check.returncode == 0, f"the prebuilt archive does not match the sources:\n{check.stderr}"
    target = stage / Path(PREBUILT).relative_to("go-shim")
    target.mkdir(parents=True, exist_ok=True)
    for name in PREBUILT_FILES:
        shutil.copy2(source / name, target / name)
    return stage


def content_version(stage: Path) -> str:
    """A version naming the staged content and unique to this run: the module cache never
    serves a stale copy, and runs in other checkouts of this machine (which share the module
    cache) never remove the version this one is building."""
    h = hashlib.sha256()
    for f in sorted(p for p in stage.rglob("*") if p.is_file()):
        h.update(str(f.relative_to(stage)).encode() + b"\0" + f.read_bytes())
    return f"{README_VERSION}-e2e-{h.hexdigest()[:12]}-{secrets.token_hex(4)}"


def go_env(name: str) -> str:
    return subprocess.run(["go", "env", name], capture_output=True, text=True, check=True).stdout.strip()


def without_rust_env(proxy: Path) -> dict:
    """The user's environment: Go and a C compiler, no Rust; our module from the file proxy."""
    go_dir = str(Path(shutil.which("go")).resolve().parent)
    path = os.pathsep.join([go_dir, "/usr/bin", "/bin"])
    for tool in ("cargo", "rustc", "rustup"):
        assert shutil.which(tool, path=path) is None, f"{tool} is on the test's PATH {path}"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CARGO", "RUSTUP", "RUSTFLAGS"))}
    env.update(
        PATH=path,
        GOPROXY=f"file://{proxy},{go_env('GOPROXY')}",
        # Our module is not in the public checksum database; everything else is checked as usual.
        GONOSUMDB="github.com/tollbooth-dev",
        # The developer tag (link the engine built from src/) must not leak into the user's build.
        GOFLAGS="-buildvcs=false",
        CGO_ENABLED="1",
    )
    return env


def forget_module(version: str) -> None:
    """Removes our test version from the module cache (read-only files, so chmod first)."""
    cache = Path(go_env("GOMODCACHE"))
    targets = [cache / f"{MODULE}@{version}"]
    targets += list((cache / "cache" / "download" / MODULE / "@v").glob(f"{version}.*"))
    for t in targets:
        if t.is_dir():
            for p in [t, *t.rglob("*")]:
                if p.is_dir():
                    p.chmod(p.stat().st_mode | stat.S_IWUSR)
            shutil.rmtree(t)
        elif t.exists():
            t.unlink()


USER_CONFIG = """
receivers:
  otlp:
    protocols:
      http:
        endpoint: {http}
processors:
  batch:
  genai:
  genai_tail_sampling:
    decision_wait: 1s
    policies:
      - name: keep-all
        type: always_sample
connectors:
  forward:
  genai_metrics:
    metrics_flush_interval: 1s
exporters:
  file/traces:
    path: {out}/traces.jsonl
    create_directory: true
  file/metrics:
    path: {out}/metrics.jsonl
    create_directory: true
service:
  telemetry:
    metrics:
      level: none
  pipelines:
    traces:
      receivers: [otlp]
      processors: [batch, genai]
      exporters: [genai_metrics, forward]
    traces/sampled:
      receivers: [forward]
      processors: [genai_tail_sampling]
      exporters: [file/traces]
    metrics:
      receivers: [genai_metrics]
      exporters: [file/metrics]
"""

CHAT_SPAN = {
    "resourceSpans": [{
        "resource": {"attributes": [{"key": "service.name", "value": {"stringValue": "gomod-e2e"}}]},
        "scopeSpans": [{"spans": [{
            "traceId": "5b8efff798038103d269b633813fc60c", "spanId": "eee19b7ec3c1b174",
            "name": "chat gpt-4o", "kind": 3,
            "startTimeUnixNano": "1760000000000000000", "endTimeUnixNano": "1760000001000000000",
            "attributes": [
                {"key": "gen_ai.provider.name", "value": {"stringValue": "openai"}},
                {"key": "gen_ai.operation.name", "value": {"stringValue": "chat"}},
                {"key": "gen_ai.request.model", "value": {"stringValue": "gpt-4o"}},
                {"key": "gen_ai.usage.input_tokens", "value": {"intValue": "1000"}},
                {"key": "gen_ai.usage.output_tokens", "value": {"intValue": "500"}},
            ],
        }]}],
    }]
}


def post_json(url: str, body: dict) -> int:
    req = urllib.request.Request(url, data=json.dumps(body).encode(), headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=5) as r:
        return r.status


def span_attributes(path: Path) -> dict | None:
    if not path.exists():
        return None
    for line in path.read_text().splitlines():
        for rs in json.loads(line).get("resourceSpans", []):
            for ss in rs.get("scopeSpans", []):
                for span in ss.get("spans", []):
                    if span["name"] == "chat gpt-4o":
                        return {kv["key"]: next(iter(kv["value"].values())) for kv in span.get("attributes", [])}
    return None


def test_users_gomod_manifest_builds_without_rust_and_prices_a_span(tmp_path):
    ocb = os.environ.get("TOLLBOOTH_OCB") or str(ROOT / ".tools" / "bin" / "ocb-v0.161.0")
    if not Path(ocb).exists():
        pytest.fail(f"ocb not found at {ocb}: run through `make test-e2e`, which installs it")

    stage = stage_module(tmp_path / "module")
    version = content_version(stage)
    proxy = tmp_path / "proxy"
    modpack = tmp_path / "modpack"
    subprocess.run(["go", "build", "-o", str(modpack), "./modpack"], cwd=ROOT / "go-shim" / "tools", check=True)
    packed = subprocess.run([str(modpack), "-dir", str(stage), "-module", MODULE, "-version", version,
                             "-proxy", str(proxy)], capture_output=True, text=True)
    assert packed.returncode == 0, packed.stderr
    zip_path = proxy / MODULE / "@v" / f"{version}.zip"
    archive_in_zip = f"{MODULE}@{version}/internal/engine/prebuilt/linux_amd64/libtollbooth.a"
    listing = zipfile.ZipFile(zip_path).namelist()
    assert archive_in_zip in listing, "the module zip must carry the prebuilt archive"
    assert not [n for n in listing if "/tools/" in n or "/samplingbench/" in n], "nested modules are not in the zip"

    manifest = readme_manifest()
    assert f"{MODULE} {README_VERSION}" in manifest, "README's manifest lists our module with a version"
    assert not re.search(r"^\s*(- )?path:", manifest, re.M), "a user's manifest fetches the module; no local path"
    user = tmp_path / "user"
    user.mkdir()
    (user / "builder-config.yaml").write_text(manifest.replace(f"{MODULE} {README_VERSION}", f"{MODULE} {version}"))

    env = without_rust_env(proxy)
    started = time.monotonic()
    try:
        built = subprocess.run([ocb, "--config", "builder-config.yaml"], cwd=user, env=env,
                               capture_output=True, text=True, timeout=1500)
        took = time.monotonic() - started
        assert built.returncode == 0, f"ocb failed after {took:.0f}s:\n{built.stdout[-4000:]}\n{built.stderr[-8000:]}"
        print(f"gomod build: {took:.0f}s")
        output_path = re.search(r"^\s+output_path:\s*(\S+)", manifest, re.M).group(1)
        name = re.search(r"^\s+name:\s*(\S+)", manifest, re.M).group(1)
        binary = user / output_path / name
        assert binary.is_file(), f"ocb wrote no {binary}"
        deps = subprocess.run(["go", "version", "-m", str(binary)], capture_output=True, text=True, env=env).stdout
        assert re.search(rf"\bdep\s+{re.escape(MODULE)}\s+{re.escape(version)}\b", deps), deps
        assert "=>" not in deps.split(MODULE, 1)[1].splitlines()[0], "our module must not be replaced"

        out = tmp_path / "out"  # does not exist yet: create_directory makes it
        http = f"127.0.0.1:{free_port()}"
        config = tmp_path / "config.yaml"
        config.write_text(USER_CONFIG.format(http=http, out=out))
        log = open(tmp_path / "collector.log", "wb")
        proc = subprocess.Popen([str(binary), "--config", str(config)], stdout=log, stderr=subprocess.STDOUT)
        try:
            def accepted():
                if proc.poll() is not None:
                    pytest.fail(f"the collector exited: {(tmp_path / 'collector.log').read_text()}")
                return post_json(f"http://{http}/v1/traces", CHAT_SPAN) == 200

            wait_until(accepted, timeout=60, what="the user's collector to accept a span")
            attrs = wait_until(lambda: span_attributes(out / "traces.jsonl"), timeout=30, what="the span in traces.jsonl")
            assert attrs.get("tollbooth.cost.status") == "priced", attrs
            assert float(attrs["gen_ai.usage.cost"]) > 0, attrs
            wait_until(lambda: (out / "metrics.jsonl").exists() and "tollbooth.genai.cost" in (out / "metrics.jsonl").read_text(),
                       timeout=30, what="tollbooth.genai.cost in metrics.jsonl")
        finally:
            proc.send_signal(signal.SIGINT)
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
            log.close()
    finally:
        forget_module(version)
