#!/bin/sh
# SPDX-License-Identifier: ISC
# Builds, lints, installs, checks and purges the Debian packages (as root,
# on Debian 12; takes minutes, so it is not in `meson test`):
#   tests/deb.sh
# 1. installs the packaging tools (dpkg-dev, debhelper, lintian) and the
#    Build-Depends with apt-get;
# 2. packaging/build-deb.sh from a clean copy of the tree;
# 3. lintian on the packages: no error or warning (overrides are in
#    packaging/debian/*.lintian-overrides, each with its reason);
# 4. apt-get install ./mcp-bridge_*.deb ./mcp-registryd_*.deb, then runs
#    mcp-bridge --version, config validate on the conffile, the bash
#    completion of the installed binary, the man pages, mcp-registryd
#    --check, and mcp-registryd itself as an unprivileged user;
# 5. apt-get purge, and checks nothing is left.
set -eu
root=$(cd "$(dirname "$0")/.." && pwd)
[ "$(id -u)" = 0 ] || { echo "deb.sh: run as root (apt-get)" >&2; exit 1; }
export DEBIAN_FRONTEND=noninteractive
out=$(mktemp -d "${TMPDIR:-/tmp}/deb-test.XXXXXX")
installed=0
cleanup() {
	rm -f /etc/mcp-registryd/policy.json /etc/mcp-registryd/catalog/*.json
	[ "$installed" = 0 ] ||
	    apt-get purge -y -qq mcp-bridge mcp-registryd >/dev/null 2>&1 || :
	rm -rf "$out"
}
trap cleanup EXIT
t0=$(date +%s)
step() {
	echo "deb.sh: [$(($(date +%s) - t0)) s] $*"
}
fail() {
	echo "deb.sh: FAIL: $*" >&2
	exit 1
}

for p in mcp-bridge mcp-registryd; do
	! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q installed ||
	    fail "$p is already installed here; remove it first"
done

step "installing dpkg-dev debhelper lintian and the Build-Depends"
builddeps=$(sed -n '/^Build-Depends:/,/^[A-Z]/p' \
    "$root/packaging/debian/control" | sed '$d' |
    sed 's/^Build-Depends://; s/([^)]*)//g; s/,/ /g' | tr -s ' \n' ' ')
missing=""
for p in dpkg-dev debhelper lintian $builddeps; do
	[ "$p" = debhelper-compat ] && continue
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" ||
	    missing="$missing $p"
done
if [ -n "$missing" ]; then
	apt-get update -qq
	apt-get install -y -qq --no-install-recommends $missing >/dev/null
fi

step "building (packaging/build-deb.sh)"
"$root/packaging/build-deb.sh" "$out" >"$out/build.log" 2>&1 || {
	grep -v '^\[[0-9]*/[0-9]*\] ' "$out/build.log" | tail -n 25 >&2
	fail "packaging/build-deb.sh (log above)"
}
ver=$(sed -n "s/^  version: '\([^']*\)',\$/\1/p" "$root/meson.build")
arch=$(dpkg --print-architecture)
for p in mcp-bridge mcp-registryd; do
	ls "$out/${p}_${ver}"-*"_$arch.deb" >/dev/null 2>&1 ||
	    fail "no ${p}_${ver}-*_$arch.deb"
done
step "built: $(cd "$out" && ls ./*.deb | tr '\n' ' ')"

step "lintian"
# lintian should not run as root: run it as nobody.
chmod -R a+rX "$out"
lint() {
	setpriv --reuid=nobody --regid=nogroup --clear-groups env HOME=/tmp \
	    lintian "$@" "$out"/*.changes
}
# (--show-overrides makes lintian 2.116 fail on overridden tags: the
# overrides are shown by a second run.)
lint --fail-on error,warning --display-info || fail "lintian (above)"
lint --fail-on none --show-overrides | grep '^O: ' || :

step "apt-get install"
installed=1
apt-get install -y -qq "$out"/mcp-bridge_*.deb "$out"/mcp-registryd_*.deb \
    >/dev/null || fail "apt-get install"

step "checks"
got=$(mcp-bridge --version)
[ "$got" = "mcp-bridge $ver" ] || fail "mcp-bridge --version: '$got'"
[ "$(command -v mcp-bridge)" = /usr/bin/mcp-bridge ] || fail "not /usr/bin"
mcp-bridge config validate /etc/mcp-bridge/config.json ||
    fail "config validate /etc/mcp-bridge/config.json"
dpkg-query -W -f='${Conffiles}\n' mcp-bridge |
    grep -q '^ /etc/mcp-bridge/config.json ' ||
    fail "/etc/mcp-bridge/config.json is not a conffile"
if mcp-bridge --help | grep -q '^  doctor '; then
	# The packaged defaults: valid, nothing to connect to yet.
	HOME=$out mcp-bridge doctor --offline --json >"$out/doctor.json" ||
	    fail "mcp-bridge doctor --offline: exit $?"
	grep -q '"name":"config","ok":true' "$out/doctor.json" ||
	    fail "doctor: $(cat "$out/doctor.json")"
fi
mcp-bridge config validate /usr/share/doc/mcp-bridge/examples/config.json ||
    fail "the example config does not validate"
man -w mcp-bridge | grep -q '^/usr/share/man/man1/mcp-bridge.1' ||
    fail "man mcp-bridge"
man -w 8 mcp-registryd | grep -q '^/usr/share/man/man8/mcp-registryd.8' ||
    fail "man 8 mcp-registryd"
for f in /usr/share/zsh/vendor-completions/_mcp-bridge \
    /usr/share/bash-completion/completions/mcp-registryd \
    /usr/share/doc/mcp-bridge/copyright \
    /usr/share/doc/mcp-registryd/copyright \
    /lib/systemd/system/mcp-registryd.service \
    /etc/default/mcp-registryd; do
	[ -f "$f" ] || fail "$f is missing"
done
"$root/tests/completion.sh" /usr/bin/mcp-bridge \
    /usr/share/bash-completion/completions/mcp-bridge \
    /usr/share/zsh/vendor-completions/_mcp-bridge >/dev/null ||
    fail "bash completion of the installed mcp-bridge"
zcat /usr/share/man/man1/mcp-bridge.1.gz >"$out/mcp-bridge.1"
zcat /usr/share/man/man8/mcp-registryd.8.gz >"$out/mcp-registryd.8"
"$root/tests/man.sh" /usr/bin/mcp-bridge "$out/mcp-bridge.1" \
    /usr/bin/mcp-registryd "$out/mcp-registryd.8" >/dev/null ||
    fail "installed man pages against --help"
if mcp-bridge --help | grep -q '^  ide '; then
	HOME=$out mcp-bridge ide print cursor 2>/dev/null | grep -q '"/usr/bin/mcp-bridge"' ||
	    fail "mcp-bridge ide print cursor (the packaged ide-configs)"
fi
mcp-registryd --check --catalog "$root/tests/fixtures/registry/catalog" \
    --policy "$root/tests/fixtures/registry/policy.json" ||
    fail "mcp-registryd --check (fixtures)"
ex=/usr/share/doc/mcp-registryd/examples
mcp-registryd --check --catalog $ex/catalog --policy $ex/policy.json ||
    fail "mcp-registryd --check (packaged examples)"
grep -qx 'DynamicUser=yes' /lib/systemd/system/mcp-registryd.service ||
    fail "the unit does not run as a dynamic user"
if command -v systemd-analyze >/dev/null 2>&1; then
	systemd-analyze verify /lib/systemd/system/mcp-registryd.service ||
	    fail "systemd-analyze verify"
fi

# The daemon as the unit runs it: its ExecStartPre and ExecStart lines,
# with /etc/default/mcp-registryd, as an unprivileged user, on loopback.
step "mcp-registryd.service's commands as nobody"
unit=/lib/systemd/system/mcp-registryd.service
pre=$(sed -n 's/^ExecStartPre=//p' $unit)
start=$(sed -n 's/^ExecStart=//p' $unit)
[ -n "$pre" ] && [ -n "$start" ] || fail "$unit: no ExecStartPre/ExecStart"
as_nobody() { # as_nobody OPTS COMMAND-LINE (split as systemd does)
	setpriv --reuid=nobody --regid=nogroup --clear-groups \
	    env MCP_REGISTRYD_OPTS="$1" sh -c "exec $2"
}
# Unconfigured: the packaged defaults refuse to start, saying why.
opts=$(. /etc/default/mcp-registryd && echo "$MCP_REGISTRYD_OPTS")
cp -R $ex/catalog/. /etc/mcp-registryd/catalog/
cp $ex/policy.json /etc/mcp-registryd/policy.json
rc=0
as_nobody "$opts" "$start" >/dev/null 2>"$out/regd.err" || rc=$?
[ "$rc" = 2 ] && grep -q 'are required' "$out/regd.err" ||
    fail "unconfigured mcp-registryd: exit $rc, $(cat "$out/regd.err")"
as_nobody "" "$pre" >/dev/null || fail "ExecStartPre (--check)"
# (not through as_nobody: $! must be the daemon, not a subshell)
setpriv --reuid=nobody --regid=nogroup --clear-groups env \
    MCP_REGISTRYD_OPTS="--issuer http://127.0.0.1:9
    --audience https://registry.example.com --listen 127.0.0.1:0" \
    sh -c "exec $start" >"$out/regd.out" 2>"$out/regd.err" &
pid=$!
for _ in $(seq 50); do
	grep -q '^READY ' "$out/regd.out" 2>/dev/null && break
	sleep 0.1
done
port=$(sed -n 's/^READY //p' "$out/regd.out")
[ -n "$port" ] || { cat "$out/regd.err" >&2; fail "no READY line"; }
user=$(ps -o user= -p $pid)
[ "$user" = nobody ] || fail "mcp-registryd runs as '$user'"
if command -v curl >/dev/null 2>&1; then
	code=$(curl -s -o /dev/null -w '%{http_code}' \
	    "http://127.0.0.1:$port/v0.1/servers" || echo none)
	[ "$code" = 401 ] || fail "GET /v0.1/servers without a token: $code"
fi
kill -HUP $pid # ExecReload
sleep 0.3
kill -0 $pid || fail "mcp-registryd died on SIGHUP"
kill -TERM $pid
wait $pid || fail "mcp-registryd exit status $? after SIGTERM"
rm -f /etc/mcp-registryd/policy.json /etc/mcp-registryd/catalog/*.json
step "mcp-registryd: unconfigured refused; configured READY $port as" \
    "nobody, 401 without a token, SIGHUP reload, exit 0 on SIGTERM"

step "apt-get purge"
apt-get purge -y -qq mcp-bridge mcp-registryd >/dev/null || fail "purge"
installed=0
for f in /usr/bin/mcp-bridge /usr/bin/mcp-registryd /etc/mcp-bridge \
    /etc/default/mcp-registryd /etc/mcp-registryd /lib/systemd/system/mcp-registryd.service; do
	[ ! -e "$f" ] || fail "$f is left after purge"
done
step "ok"
