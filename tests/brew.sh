#!/bin/sh
# SPDX-License-Identifier: ISC
# The Homebrew formula builds from the `meson dist` tarball and its test
# block passes (Linux, without Homebrew: tests/brew-formula.rb models the
# DSL; the macOS-only Keychain build is not exercised here):
#   tests/brew.sh
# Makes the tarball with `meson dist` from a snapshot of this tree (the
# files git knows, committed or not, committed in a scratch repository:
# meson dist packs a commit), then runs the formula's install and test
# blocks on it. Needs ruby, git, meson and the build dependencies; jsmn.h
# comes from libjsmn-dev, checked against the sha256 the formula pins.
set -eu
root=$(cd "$(dirname "$0")/.." && pwd)
command -v ruby >/dev/null 2>&1 || { echo "brew.sh: needs ruby" >&2; exit 1; }
jsmn=${JSMN_H:-/usr/include/jsmn.h}
[ -f "$jsmn" ] || { echo "brew.sh: $jsmn: not found (libjsmn-dev)" >&2; exit 1; }
tmp=$(mktemp -d "${TMPDIR:-/tmp}/brew-test.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
t0=$(date +%s)

mkdir "$tmp/src"
(cd "$root" && git ls-files -z --cached --others --exclude-standard |
    xargs -0 sh -c 'for f; do [ -e "$f" ] && printf "%s\0" "$f"; done' sh |
    tar --null -T - -cf -) | tar -C "$tmp/src" -xf -
(cd "$tmp/src" && git init -q && git add -A &&
    git -c user.name=brew.sh -c user.email=brew.sh@localhost \
        commit -qm snapshot)
meson setup "$tmp/build" "$tmp/src" -Dtests=false -Dbench=false >/dev/null
meson dist -C "$tmp/build" --no-tests --formats xztar >/dev/null
tarball=$(ls "$tmp"/build/meson-dist/mcp-bridge-*.tar.xz)
echo "brew.sh: $(basename "$tarball") ($(($(date +%s) - t0)) s)"
ruby "$root/tests/brew-formula.rb" "$root/packaging/homebrew/mcp-bridge.rb" \
    "$tarball" "$jsmn" >"$tmp/log" 2>&1 || {
	grep -v '^\[[0-9]*/[0-9]*\] ' "$tmp/log" | tail -n 25 >&2
	echo "brew.sh: FAIL" >&2
	exit 1
}
grep -E '^(installed|test do):' "$tmp/log"
echo "brew.sh: ok ($(($(date +%s) - t0)) s)"
