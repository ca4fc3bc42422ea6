#!/bin/sh
# Sets up, builds and runs every test: Criterion unit tests and style
# checks under ASan+UBSan, a short libFuzzer smoke run of every parser
# (clang), then the integration tests with real MCP peers (official SDK
# client and servers) against the sanitized binary, the sign-in tests
# again with a real gnome-keyring, and (as root) the Debian packages
# built, installed, checked and purged. Prints "N passed, N failed"
# last; exits non-zero on any failure.
set -eu
cd "$(dirname "$0")/.."
./scripts/setup.sh
. ./scripts/env.sh

# Quiet builds, but a failure shows its output.
quiet() {
	out=$("$@" 2>&1) || { printf '%s\n' "$out" >&2; echo "failed: $*" >&2; exit 1; }
}
b=build-test
[ -f $b/build.ninja ] ||
    quiet meson setup $b -Db_sanitize=address,undefined -Db_lundef=false \
        -Dbench=false
quiet ninja -C $b
f=build-fuzz
[ -f $f/build.ninja ] ||
    quiet env CC=clang meson setup $f -Dfuzz=enabled -Dtests=false -Dbench=false
quiet ninja -C $f
# A build without sanitizers (they interpose malloc): fault injection
# with tests/fault's LD_PRELOAD shim, and load tests.
pl=build-plain
[ -f $pl/build.ninja ] ||
    quiet meson setup $pl -Dbench=false
quiet ninja -C $pl

log=$(mktemp -d)
trap 'rm -rf "$log"' EXIT
export ASAN_OPTIONS=detect_leaks=1:abort_on_error=0
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1

# Nothing may hang CI: every stage has a deadline (a hang is a failure
# that says which stage), every test one too, and node's runner exits
# when its tests are done even if a stray child is still running.
stage() { # NAME SECONDS CMD...
	name=$1 secs=$2
	shift 2
	rc=0
	timeout -k 15 "$secs" "$@" || rc=$?
	[ $rc -ne 124 ] && [ $rc -ne 137 ] ||
	    echo "test.sh: stage '$name' did not finish within $secs s" >&2
	echo $rc >"$log/$name.rc"
}
nodetest="node --test --test-concurrency=1 --test-reporter=spec
    --test-force-exit --test-timeout=120000"
export MCP_BRIDGE="$(pwd)/$b/src/mcp-bridge"
export MCP_BRIDGE_PLAIN="$(pwd)/$pl/src/mcp-bridge"
export FAULT_SHIM="$(pwd)/$pl/tests/fault/libfaultshim.so"

# sh has no pipefail: each stage writes its exit code to a file.
{
	stage unit 900 meson test -C $b --print-errorlogs
	stage fuzz 300 meson test -C $f --suite fuzz --print-errorlogs
} 2>&1 | tee "$log/unit"
# Secret hygiene: the integration and keyring stages (and the demo) run in
# sweep mode: bridges at log level debug (tests still see their own
# level), every bridge's and mcp-registryd's stderr, their log files,
# state, cache and runtime files and /proc/PID/{cmdline,environ,limits}
# kept in $log/sweep, and the test IdPs log every secret they issue; the
# sweep stage then looks for those secrets in all of it.
export MCP_BRIDGE_SWEEP_DIR="$log/sweep"
{
	stage integ 900 $nodetest tests/integration/
} 2>&1 | tee "$log/integ"
# The sign-in tests once more, with tokens in a real gnome-keyring.
{
	stage keyring 300 \
	    tests/integration/with-keyring.sh $nodetest \
	    tests/integration/signin.test.mjs
} 2>&1 | tee "$log/keyring"
# The demo in sweep mode (its transcript is swept too), then the sweep:
# no token or device code the IdPs issued in anything captured, and
# RLIMIT_CORE 0 in every bridge and mcp-registryd.
{
	stage demo 180 sh -c 'tests/integration/with-keyring.sh node \
	    scripts/demo.mjs "$1" >"$2/demo.out" 2>&1 ||
	    { rc=$?; cat "$2/demo.out"; exit $rc; }' sh "$MCP_BRIDGE" \
	    "$MCP_BRIDGE_SWEEP_DIR"
	stage sweep 300 node tests/secrets/sweep.mjs "$MCP_BRIDGE_SWEEP_DIR"
} 2>&1 | tee "$log/sweep.log"
unset MCP_BRIDGE_SWEEP_DIR
# The official MCP conformance suite's client scenarios, with the bridge
# between the suite's mock servers and an SDK client as the IDE
# (tests/conformance/expected.txt says which must pass).
{
	stage conformance 600 tests/conformance/run.sh
} 2>&1 | tee "$log/conf"
# Fault injection under load (tests/load/faultload.mjs, about 45 s): 32
# IDE requests in flight, 10,000 in all, while the hosted server is killed,
# slow, failing, cutting streams and expiring sessions and the registry is
# down; against the build without sanitizers (its RSS must stay flat).
{
	stage load 600 node tests/load/faultload.mjs
} 2>&1 | tee "$log/load"
# The Debian packages: built, linted, installed, checked, purged (root
# only: it uses apt-get and dpkg).
{
	if [ "$(id -u)" = 0 ]; then
		stage deb 900 tests/deb.sh
	else
		echo "skip: tests/deb.sh needs root"
		echo 0 >"$log/deb.rc"
	fi
} 2>&1 | tee "$log/deb"
unit_rc=$(cat "$log/unit.rc" 2>/dev/null || echo 1)
fuzz_rc=$(cat "$log/fuzz.rc" 2>/dev/null || echo 1)
integ_rc=$(cat "$log/integ.rc" 2>/dev/null || echo 1)
kr_rc=$(cat "$log/keyring.rc" 2>/dev/null || echo 1)
deb_rc=$(cat "$log/deb.rc" 2>/dev/null || echo 1)
conf_rc=$(cat "$log/conformance.rc" 2>/dev/null || echo 1)
load_rc=$(cat "$log/load.rc" 2>/dev/null || echo 1)

up=$(sed -n 's/^Ok: *\([0-9]*\).*/\1/p' "$log/unit" | awk '{s+=$1} END {print s+0}')
uf=$(sed -n 's/^\(Fail\|Timeout\): *\([0-9]*\).*/\2/p' "$log/unit" |
    awk '{s+=$1} END {print s+0}')
ip=$(grep -aE '^(ℹ|#) pass [0-9]+$' "$log/integ" | tail -1 | awk '{print $3}')
if_=$(grep -aE '^(ℹ|#) fail [0-9]+$' "$log/integ" | tail -1 | awk '{print $3}')
kp=$(grep -aE '^(ℹ|#) pass [0-9]+$' "$log/keyring" | tail -1 | awk '{print $3}')
kf=$(grep -aE '^(ℹ|#) fail [0-9]+$' "$log/keyring" | tail -1 | awk '{print $3}')
dp=0 df=0
if grep -q '^skip: tests/deb.sh' "$log/deb"; then :
elif [ "$deb_rc" -eq 0 ]; then dp=1; else df=1; fi
cp=0 cf=0
if [ "$conf_rc" -eq 0 ]; then cp=1; else cf=1; fi
passed=$(( ${up:-0} + ${ip:-0} + ${kp:-0} + dp + cp ))
failed=$(( ${uf:-0} + ${if_:-0} + ${kf:-0} + df + cf ))
lp=0 lf=0
if [ "$load_rc" -eq 0 ]; then lp=1; else lf=1; fi
passed=$((passed + lp)) failed=$((failed + lf))
# The demo and the secret sweep: one each.
for st in demo sweep; do
	if [ "$(cat "$log/$st.rc" 2>/dev/null || echo 1)" -eq 0 ]; then
		passed=$((passed + 1))
	else
		failed=$((failed + 1))
	fi
done
[ "$unit_rc" -eq 0 ] || [ "$failed" -gt 0 ] || failed=1
[ "$fuzz_rc" -eq 0 ] || [ "$failed" -gt 0 ] || failed=1
[ "$integ_rc" -eq 0 ] || [ "$failed" -gt 0 ] || failed=1
[ "$kr_rc" -eq 0 ] || [ "$failed" -gt 0 ] || failed=1
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
