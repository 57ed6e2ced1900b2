#!/usr/bin/env bash
# LiteLLM oracle: our cost vs litellm's own cost function over a generated grid.
# Usage: tests/oracle/run.sh [--limit N]    (env ORACLE_VENV to reuse a venv)
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
venv="${ORACLE_VENV:-$root/.venv-oracle}"
LITELLM_VERSION=1.109.1

if [ ! -x "$venv/bin/python" ]; then
  python3 -m venv "$venv"
fi
if ! "$venv/bin/python" -c "import importlib.metadata as m,sys; sys.exit(m.version('litellm')!='$LITELLM_VERSION')" 2>/dev/null; then
  # litellm pins certifi>=2026.10.19, which the registry here does not serve: install its
  # other requirements, then litellm itself without dependency resolution.
  "$venv/bin/pip" install -q -r "$here/requirements.txt"
  "$venv/bin/pip" install -q --no-deps "litellm==$LITELLM_VERSION"
fi
(cd "$root" && cargo build -q --release --example price_grid)
exec "$venv/bin/python" "$here/oracle.py" "$root/target/release/examples/price_grid" "$@"
