#!/usr/bin/env bash
# Installs Debian's `prometheus` package (prometheus and promtool) when either is missing.
# Used by `make test` for the alert-rule tests and the end-to-end Prometheus scrape test.
set -euo pipefail
if command -v promtool >/dev/null 2>&1 && command -v prometheus >/dev/null 2>&1; then
    exit 0
fi
echo "prometheus/promtool not found; installing Debian package 'prometheus'" >&2
sudo=""
if [ "$(id -u)" -ne 0 ]; then
    command -v sudo >/dev/null 2>&1 || { echo "need root or sudo to install prometheus" >&2; exit 1; }
    sudo="sudo"
fi
$sudo apt-get update -qq
# The package may try to start a server through systemd where there is one; the tests start
# their own on free loopback ports.
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends prometheus >/dev/null

