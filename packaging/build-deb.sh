#!/bin/sh
# SPDX-License-Identifier: ISC
# Builds the Debian packages mcp-bridge and mcp-registryd:
#   packaging/build-deb.sh [OUTDIR]          (default /tmp/mcp-bridge-deb)
# from a clean copy of this tree (the files git knows, committed or not;
# or, outside a git checkout such as an unpacked `meson dist` tarball,
# every file but build directories), with packaging/debian/ as debian/,
# by `dpkg-buildpackage -us -uc -b`. Needs dpkg-dev, debhelper and the
# Build-Depends of packaging/debian/control (the packages scripts/setup.sh
# installs). Leaves OUTDIR/*.deb, *.changes and *.buildinfo.
set -eu
root=$(cd "$(dirname "$0")/.." && pwd)
out=${1:-/tmp/mcp-bridge-deb}

die() {
	echo "build-deb: $*" >&2
	exit 1
}

for t in dpkg-buildpackage dpkg-checkbuilddeps dh meson; do
	command -v "$t" >/dev/null 2>&1 ||
	    die "$t not found (apt-get install dpkg-dev debhelper meson)"
done

# The version comes from meson.build; the changelog must agree.
ver=$(sed -n "s/^  version: '\([^']*\)',\$/\1/p" "$root/meson.build")
deb=$(dpkg-parsechangelog -l "$root/packaging/debian/changelog" \
    -S Version)
[ -n "$ver" ] || die "meson.build: no project version"
[ "${deb%-*}" = "$ver" ] || die "packaging/debian/changelog: version" \
    "$deb does not match meson.build's $ver (add a changelog entry)"

work=$(mktemp -d "${TMPDIR:-/tmp}/mcp-bridge-deb.XXXXXX")
trap 'rm -rf "$work"' EXIT
src=$work/mcp-bridge-$ver
mkdir "$src"
if git -C "$root" rev-parse --is-inside-work-tree >/dev/null 2>&1; then
	# Tracked and new files, without deleted ones or ignored build output.
	(cd "$root" && git ls-files -z --cached --others --exclude-standard |
	    xargs -0 sh -c 'for f; do [ -e "$f" ] && printf "%s\0" "$f"; done' sh |
	    tar --null -T - -cf -) | tar -C "$src" -xf -
else
	(cd "$root" && tar --exclude='./build*' --exclude='./debian' \
	    --exclude='./tests/node/node_modules' \
	    --exclude='./tests/node/runtime' -cf - .) | tar -C "$src" -xf -
fi
rm -rf "$src/debian"
cp -R "$src/packaging/debian" "$src/debian"

cd "$src"
dpkg-checkbuilddeps || die "missing Build-Depends (listed above;" \
    "scripts/setup.sh installs them)"
dpkg-buildpackage -us -uc -b -j"$(nproc 2>/dev/null || echo 2)"
mkdir -p "$out"
for f in "$work"/*.deb "$work"/*.changes "$work"/*.buildinfo; do
	[ -e "$f" ] && cp "$f" "$out/"
done
ls -l "$out"
