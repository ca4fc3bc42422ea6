#!/bin/sh
# SPDX-License-Identifier: ISC
# Packaging stays consistent with the build:
#   packaging.sh SOURCE_ROOT VERSION
# * VERSION (meson.build's project version, the one place it is set) is
#   the upstream version of packaging/debian/changelog and the version in
#   the Homebrew formula's url;
# * every Build-Depends of packaging/debian/control is a package
#   scripts/setup.sh installs (so CI has what the package build needs);
# * packaging/debian/rules is executable and the shell scripts parse;
# * `ruby -c` accepts the Homebrew formula (when ruby is installed).
set -u
root=$1 ver=$2
fail=0
bad() {
	echo "packaging.sh: $*" >&2
	fail=1
}

deb=$(sed -n '1s/^mcp-bridge (\([^)]*\)).*/\1/p' \
    "$root/packaging/debian/changelog")
[ "${deb%-*}" = "$ver" ] || bad "packaging/debian/changelog: version" \
    "'$deb', meson.build has '$ver' (add a changelog entry)"

rb=$root/packaging/homebrew/mcp-bridge.rb
url=$(sed -n 's/^  url "\(.*\)"$/\1/p' "$rb")
case $url in
*/mcp-bridge-"$ver".tar.xz) ;;
*) bad "$rb: url '$url' is not the $ver tarball" \
    "(packaging/homebrew/update-formula.sh)" ;;
esac
grep -Eq '^  sha256 "[0-9a-f]{64}"$' "$rb" || bad "$rb: no sha256"

# Build-Depends, one per line after the field name, versions dropped.
deps=$(sed -n '/^Build-Depends:/,/^[A-Z]/p' "$root/packaging/debian/control" |
    sed '$d' | sed 's/^Build-Depends://; s/([^)]*)//g; s/,/ /g')
setup=$(sed -n '/^debs="/,/"$/p' "$root/scripts/setup.sh" |
    sed 's/^debs="//; s/"$//')
n=0
for d in $deps; do
	[ "$d" = debhelper-compat ] && continue
	n=$((n + 1))
	echo " $setup " | tr '\n' ' ' | grep -q " $d " ||
	    bad "packaging/debian/control: Build-Depends $d is not" \
	        "installed by scripts/setup.sh"
done
[ "$n" -gt 5 ] || bad "packaging/debian/control: Build-Depends not found"

[ -x "$root/packaging/debian/rules" ] ||
    bad "packaging/debian/rules is not executable"
for s in packaging/build-deb.sh packaging/homebrew/update-formula.sh \
    tests/deb.sh tests/brew.sh tests/man.sh tests/completion.sh \
    tests/packaging.sh; do
	sh -n "$root/$s" || bad "$s does not parse"
done
bash -n "$root/packaging/completions/mcp-bridge.bash" ||
    bad "packaging/completions/mcp-bridge.bash does not parse"

if command -v ruby >/dev/null 2>&1; then
	ruby -c "$rb" >/dev/null || bad "ruby -c $rb"
	ruby -c "$root/tests/brew-formula.rb" >/dev/null ||
	    bad "ruby -c tests/brew-formula.rb"
	echo "ruby -c: ok"
else
	echo "ruby not found: the formula's syntax is not checked"
fi
echo "version $ver; $n Build-Depends in setup.sh"
exit $fail
