#!/usr/bin/env bash
# The prebuilt engine shipped inside the Go module (docs/distribution.md).
#
#   tools/lib-release.sh build DIR   build libtollbooth.a with the dist-lib cargo profile, strip
#                                    its debug info, and write it to DIR with the header it was
#                                    built with and a stamp of what it was built from
#   tools/lib-release.sh check DIR   fail if the archive in DIR no longer matches the sources
#
# `make lib-release` and `make check-lib` call it with DIR = the module's prebuilt directory.
#
# Why a stamp of the inputs rather than a rebuild and a byte comparison: checking must be cheap
# and must not need the Rust toolchain's exact version (a rebuild takes ~7 minutes on this
# project's 2-core machines, and another rustc release or checkout path gives other bytes for
# the same sources). The stamp lists the sha256 of every file the archive is built from (the
# crate's manifest and lock file, src/**, cbindgen.toml, the header, this script, which holds
# the build recipe) and the sha256 of the archive and header it wrote. `check` recomputes the
# inputs and fails on any difference, naming the files, and fails if the archive or header was
# replaced after stamping. The rustc version is recorded; a different one is reported but does
# not fail the check, since it cannot be installed by version here and does not make the
# archive wrong for its sources.
set -euo pipefail

cd "$(dirname "$0")/.."
mode=${1:-}
dir=${2:-}
if [[ -z "$mode" || -z "$dir" ]]; then
  echo "usage: $0 build|check DIR" >&2
  exit 2
fi

ARCHIVE=libtollbooth.a
HEADER=tollbooth.h
STAMP=libtollbooth.stamp
TARGET=x86_64-unknown-linux-gnu

# Every file the archive depends on, one "sha256  path" line each, in a fixed order.
inputs() {
  {
    printf '%s\n' Cargo.toml Cargo.lock cbindgen.toml include/tollbooth.h tools/lib-release.sh
    find src -type f
  } | LC_ALL=C sort | xargs sha256sum
}

toolchain() { rustc --version 2>/dev/null || echo "rustc not found"; }

build() {
  local host
  host=$(rustc -vV | sed -n 's/^host: //p')
  if [[ "$host" != "$TARGET" ]]; then
    echo "lib-release builds the $TARGET archive and must run on that host (this is $host)" >&2
    exit 1
  fi
  mkdir -p "$dir"
  # Paths of this checkout and of the cargo registry are compiled into panic locations; remap
  # them so the archive does not depend on (or reveal) where it was built.
  local cargo_home=${CARGO_HOME:-$HOME/.cargo}
  RUSTFLAGS="--remap-path-prefix=$cargo_home=/cargo --remap-path-prefix=$PWD=/tollbooth" \
    cargo rustc --profile dist-lib --locked --lib --crate-type staticlib
  strip --strip-debug -o "$dir/$ARCHIVE.tmp" "target/dist-lib/$ARCHIVE"
  mv "$dir/$ARCHIVE.tmp" "$dir/$ARCHIVE"
  cp include/tollbooth.h "$dir/$HEADER"
  {
    echo "# Written by tools/lib-release.sh build (make lib-release); checked by make check-lib. Do not edit."
    echo "target $TARGET"
    echo "toolchain $(toolchain)"
    echo "archive $(sha256sum "$dir/$ARCHIVE" | cut -d' ' -f1) $(stat -c %s "$dir/$ARCHIVE")"
    echo "header $(sha256sum "$dir/$HEADER" | cut -d' ' -f1)"
    inputs | sed 's/^/input /'
  } >"$dir/$STAMP"
  echo "wrote $dir/$ARCHIVE ($(stat -c %s "$dir/$ARCHIVE") bytes), $HEADER and $STAMP"
}

check() {
  local stamp="$dir/$STAMP" fail=0
  if [[ ! -f "$dir/$ARCHIVE" || ! -f "$stamp" ]]; then
    echo "check-lib: no prebuilt archive in $dir: run 'make lib-release' and commit $ARCHIVE, $HEADER and $STAMP" >&2
    exit 1
  fi
  local want got
  want=$(sed -n 's/^archive \([0-9a-f]*\) .*/\1/p' "$stamp")
  got=$(sha256sum "$dir/$ARCHIVE" | cut -d' ' -f1)
  if [[ "$want" != "$got" ]]; then
    echo "check-lib: $dir/$ARCHIVE is not the archive its stamp describes (sha256 $got, stamp says $want)" >&2
    fail=1
  fi
  want=$(sed -n 's/^header //p' "$stamp")
  got=$(sha256sum "$dir/$HEADER" 2>/dev/null | cut -d' ' -f1)
  if [[ "$want" != "$got" ]]; then
    echo "check-lib: $dir/$HEADER is not the header the archive was built with" >&2
    fail=1
  fi
  local changed
  changed=$(diff <(sed -n 's/^input //p' "$stamp") <(inputs) |
    sed -n 's/^[<>] [0-9a-f]*  //p' | LC_ALL=C sort -u || true)
  if [[ -n "$changed" ]]; then
    echo "check-lib: the sources changed since $ARCHIVE was built:" >&2
    sed 's/^/  /' <<<"$changed" >&2
    fail=1
  fi
  want=$(sed -n 's/^toolchain //p' "$stamp")
  if [[ "$want" != "$(toolchain)" ]]; then
    echo "check-lib: note: the archive was built with $want; this machine has $(toolchain)" >&2
  fi
  if [[ $fail != 0 ]]; then
    echo "check-lib: rebuild with 'make lib-release' and commit $dir/{$ARCHIVE,$HEADER,$STAMP}" >&2
    exit 1
  fi
  echo "check-lib: $dir/$ARCHIVE matches its sources"
}

case "$mode" in
  build) build ;;
  check) check ;;
  *) echo "usage: $0 build|check DIR" >&2; exit 2 ;;
esac
