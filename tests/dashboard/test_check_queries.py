"""Unit tests of check_queries.py: python3 -m unittest discover -s tests/dashboard"""

import http.server
import sys
import tempfile
import threading
import unittest
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import check_queries as cq  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]


class MetricNames(unittest.TestCase):
    def test_skips_everything_but_selectors(self):
        expr = (
            'histogram_quantile(0.99, sum by (le, gen_ai_request_model) '
            '(rate(a_bucket{x="{not_a_metric}"}[5m]))) > 1e8 # TUNE'
        )
        self.assertEqual(cq.metric_names(expr), ["a_bucket"])
        self.assertEqual(
            cq.metric_names('sum(x offset 30m) unless on(job) group_left(foo) y * $__range'),
            ["x", "y"],
        )
        self.assertEqual(cq.metric_names("sum without (a) (b) / ignoring(c) d"), ["b", "d"])

    def test_alert_fallback_parser_matches_yaml(self):
        text = (ROOT / "config/alerts.yml").read_text()
        with_yaml = list(cq.alert_queries(text))
        saved = sys.modules.get("yaml")
        sys.modules["yaml"] = None  # makes `import yaml` fail
        try:
            without = list(cq.alert_queries(text))
        finally:
            if saved is None:
                del sys.modules["yaml"]
            else:
                sys.modules["yaml"] = saved
        self.assertEqual(
            [(w, cq.metric_names(e)) for w, e in with_yaml],
            [(w, cq.metric_names(e)) for w, e in without],
        )

    def test_repo_files_pass_and_a_missing_name_fails(self):
        names = ROOT / "config/metric-names.txt"
        self.assertEqual(cq.main([str(names)]), 0)
        with tempfile.NamedTemporaryFile("w", suffix=".txt", delete=False) as f:
            f.write("\n".join(l for l in names.read_text().splitlines() if "cost_USD" not in l))
        self.assertEqual(cq.main([f.name]), 1)
        self.assertEqual(cq.main([f.name, "--ignore-missing-prefix", "tollbooth_genai_cost"]), 0)

    def test_live_metrics_url(self):
        names = [l.split("#", 1)[0].strip() for l in (ROOT / "config/metric-names.txt").read_text().splitlines()]
        lines = ["# HELP x y", "# TYPE x counter"]
        lines += [f'{n}{{service_name="svc",le="+Inf"}} 1' for n in names if n]
        body = ("\n".join(lines) + "\n").encode()

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self):
                self.send_response(200)
                self.send_header("Content-Type", "text/plain; version=0.0.4")
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        server = http.server.HTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        try:
            url = f"http://127.0.0.1:{server.server_port}/metrics"
            self.assertEqual(cq.exposed_names(url), {n for n in names if n})
            self.assertEqual(cq.main([url]), 0)
        finally:
            server.shutdown()


if __name__ == "__main__":
    unittest.main()
