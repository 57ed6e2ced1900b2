"""A real Prometheus server (Debian's `prometheus` package) scraping a collector on loopback."""

import json
import shutil
import subprocess
import urllib.parse
from pathlib import Path

import pytest

from conftest import free_port, http_get, wait_until


class PrometheusServer:
    def __init__(self, tmp: Path, targets: list[str], scrape_interval: str = "1s"):
        binary = shutil.which("prometheus")
        if binary is None:
            pytest.fail("prometheus is not installed: `make test` installs Debian's prometheus package")
        self.addr = f"127.0.0.1:{free_port()}"
        config = tmp / "prometheus.yml"
        config.write_text(
            "global:\n"
            f"  scrape_interval: {scrape_interval}\n"
            "scrape_configs:\n"
            "  - job_name: tollbooth\n"
            "    static_configs:\n"
            f"      - targets: {json.dumps(targets)}\n"
        )
        self.log_path = tmp / "prometheus.log"
        self.log = open(self.log_path, "wb")
        self.proc = subprocess.Popen(
            [
                binary,
                f"--config.file={config}",
                f"--storage.tsdb.path={tmp / 'tsdb'}",
                f"--web.listen-address={self.addr}",
            ],
            stdout=self.log,
            stderr=subprocess.STDOUT,
        )
        wait_until(lambda: "Ready" in http_get(f"http://{self.addr}/-/ready"), timeout=60, what="Prometheus ready")

    def query(self, promql: str) -> list[dict]:
        q = urllib.parse.urlencode({"query": promql})
        body = json.loads(http_get(f"http://{self.addr}/api/v1/query?{q}"))
        assert body["status"] == "success", body
        return body["data"]["result"]

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self.log.close()
