#!/usr/bin/env bash
# Regenerates config/pricing/genai-prices.json from the pinned genai-prices PyPI package.
# `make update-prices` calls this. Needs python3 and the PyPI registry; uses .venv-prices/.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
venv="${PRICES_VENV:-$root/.venv-prices}"
version="$(sed -n 's/^PIN = "\(.*\)"$/\1/p' "$root/tools/update_prices.py")"
[ -x "$venv/bin/python" ] || python3 -m venv "$venv"
"$venv/bin/pip" install -q "genai-prices==$version"
"$venv/bin/python" "$root/tools/update_prices.py" "$@"
