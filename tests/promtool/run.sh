#!/usr/bin/env bash
# Checks and unit-tests the Prometheus alert rules with promtool (Debian's `prometheus`
# package), installing it first when it is missing. Called by `make test`.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"

if ! command -v promtool >/dev/null 2>&1; then
    echo "promtool not found; installing Debian package 'prometheus'" >&2
    sudo=""
    if [ "$(id -u)" -ne 0 ]; then
        command -v sudo >/dev/null 2>&1 || { echo "need root or sudo to install prometheus" >&2; exit 1; }
        sudo="sudo"
    fi
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends prometheus >/dev/null
    # The package starts a Prometheus server through systemd where there is one; these
    # checks need only the promtool binary.
fi

promtool check rules "$root/config/alerts.yml"
promtool test rules "$root/config/alerts_test.yml"
