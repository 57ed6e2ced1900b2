#!/usr/bin/env bash
# Refreshes the bundled secret rules from the gitleaks Go module (`make update-secret-rules`):
#   config/secret-rules/gitleaks.toml     the module's config/gitleaks.toml, byte for byte
#   config/secret-rules/LICENSE-gitleaks  its MIT licence
#   config/secret-rules/SOURCE            module, version and checksum (read by the engine)
#   tests/fixtures/gitleaks/examples.jsonl  gitleaks' own true/false-positive examples per rule,
#       with the secrets gitleaks extracts from them (tools/gitleaks-examples/validate.go),
#       every string reversed (see below)
# Needs Go and the Go module proxy. To move to another gitleaks release, change VERSION below,
# run this, review the diff (and the skipped-rule list the engine logs), commit.
set -euo pipefail
VERSION="${GITLEAKS_VERSION:-v8.30.1}"
MODULE=github.com/zricethezav/gitleaks/v8
root="$(cd "$(dirname "$0")/.." && pwd)"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

info="$(cd "$work" && GOFLAGS=-mod=mod go mod download -json "$MODULE@$VERSION")"
field() { python3 -c 'import json,sys; print(json.load(sys.stdin)[sys.argv[1]])' "$1" <<<"$info"; }
dir="$(field Dir)"
sum="$(field Sum)"

out="$root/config/secret-rules"
mkdir -p "$out" "$root/tests/fixtures/gitleaks"
cp "$dir/config/gitleaks.toml" "$out/gitleaks.toml"
cp "$dir/LICENSE" "$out/LICENSE-gitleaks"
cp "$dir/LICENSE" "$root/tests/fixtures/gitleaks/LICENSE-gitleaks"
chmod 644 "$out/gitleaks.toml" "$out/LICENSE-gitleaks" "$root/tests/fixtures/gitleaks/LICENSE-gitleaks"
printf '%s %s %s\n' "$MODULE" "$VERSION" "$sum" > "$out/SOURCE"

# gitleaks' rule generator, with its example checker replaced by our recorder. It also writes
# the rule file again from its Go sources; that copy must equal the shipped one.
cp -r "$dir" "$work/src" && chmod -R u+w "$work/src"
overlay="$work/overlay.json"
printf '{"Replace": {"%s": "%s"}}\n' "$work/src/cmd/generate/config/utils/validate.go" \
  "$root/tools/gitleaks-examples/validate.go" > "$overlay"
raw="$work/examples.jsonl"
(cd "$work/src/cmd/generate/config" && GOFLAGS=-mod=mod TOLLBOOTH_EXAMPLES_OUT="$raw" \
  go run -overlay "$overlay" . "$work/regenerated.toml")
cmp "$work/regenerated.toml" "$out/gitleaks.toml" ||
  { echo "gitleaks' generator did not reproduce config/gitleaks.toml of $VERSION" >&2; exit 1; }
# Every string is stored reversed, so no committed file carries a token-shaped string that
# secret scanners (or people) would take for a real one; the tests reverse them back.
python3 - "$raw" "$root/tests/fixtures/gitleaks/examples.jsonl" <<'PY'
import json, sys
rev = lambda s: s[::-1]
rows = []
for line in open(sys.argv[1], encoding="utf-8"):
    e = json.loads(line)
    e["text"] = rev(e["text"])
    e["secrets"] = [rev(x) for x in e["secrets"] or []]
    e["findings"] = [[r, rev(x)] for r, x in e["findings"] or []]
    rows.append(json.dumps(e, ensure_ascii=False, sort_keys=True))
with open(sys.argv[2], "w", encoding="utf-8") as f:
    f.write("".join(r + "\n" for r in sorted(rows)))
PY
echo "$VERSION" > "$root/tests/fixtures/gitleaks/VERSION"
echo "secret rules: $(grep -c '^\[\[rules\]\]' "$out/gitleaks.toml") rules from $MODULE $VERSION;" \
  "examples: $(wc -l < "$root/tests/fixtures/gitleaks/examples.jsonl")"
