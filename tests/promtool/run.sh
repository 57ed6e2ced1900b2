#!/usr/bin/env bash
# Checks and unit-tests the Prometheus alert rules with promtool (Debian's `prometheus`
# package), installing it first when it is missing. Called by `make test`.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"

"$root/tests/promtool/ensure-prometheus.sh"

promtool check rules "$root/config/alerts.yml"
promtool test rules "$root/config/alerts_test.yml"
