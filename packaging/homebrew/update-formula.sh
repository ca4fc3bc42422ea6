#!/bin/sh
# SPDX-License-Identifier: ISC
# Points the Homebrew formula at a release tarball (a release step):
#   packaging/homebrew/update-formula.sh TARBALL [BASE_URL]
# TARBALL is what `meson dist` made (BUILDDIR/meson-dist/
# mcp-bridge-VERSION.tar.xz); it is uploaded to BASE_URL/vVERSION/ (default:
# the formula's current release address). Rewrites url and sha256 in
# packaging/homebrew/mcp-bridge.rb; copy the result to the tap.
set -eu
rb=$(cd "$(dirname "$0")" && pwd)/mcp-bridge.rb
tarball=${1:?usage: update-formula.sh TARBALL [BASE_URL]}
[ -f "$tarball" ] || { echo "update-formula: $tarball: no such file" >&2; exit 2; }
name=$(basename "$tarball")
ver=${name#mcp-bridge-}
ver=${ver%.tar.xz}
[ "$ver" != "$name" ] || {
	echo "update-formula: $name: expected mcp-bridge-VERSION.tar.xz" >&2
	exit 2
}
old=$(sed -n 's/^  url "\(.*\)"$/\1/p' "$rb")
base=${2:-${old%/v*/*}}
if command -v sha256sum >/dev/null 2>&1; then
	sum=$(sha256sum "$tarball" | cut -d' ' -f1)
else
	sum=$(shasum -a 256 "$tarball" | cut -d' ' -f1)
fi
tmp=$rb.tmp.$$
sed -e "s|^  url \".*\"\$|  url \"$base/v$ver/$name\"|" \
    -e "s|^  sha256 \"[0-9a-f]*\"\$|  sha256 \"$sum\"|" "$rb" >"$tmp"
mv "$tmp" "$rb"
echo "mcp-bridge.rb: $base/v$ver/$name sha256 $sum"
