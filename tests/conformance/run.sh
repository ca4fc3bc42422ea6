#!/bin/sh
# Runs the official MCP conformance suite (@modelcontextprotocol/conformance,
# pinned with Node 22 by package-lock.json here) against mcp-bridge: each
# client scenario's mock server is the hosted server, ide.mjs (official
# TypeScript SDK client) is the IDE, and the bridge sits in between.
#
#   tests/conformance/run.sh [--all] [--keep]
#
# Runs the scenarios marked `pass` in expected.txt; --all also runs the
# `na` ones and reports them (never required). Prints one line per
# scenario and "N passed, M failed" last (scenarios expected to pass);
# exits 0 only if every one of them passed. --keep keeps the results
# directory (checks.json, stdout/stderr of the IDE and the bridge, the
# runner's output per scenario), which is kept anyway when one failed.
# Env: MCP_BRIDGE (default <repo>/build/src/mcp-bridge).
set -eu
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
cd "$here"

all=0 keep=0
for a in "$@"; do
	case $a in
	--all) all=1 ;;
	--keep) keep=1 ;;
	-h | --help) sed -n '2,15s/^# \{0,1\}//p' "$0"; exit 0 ;;
	*) echo "run.sh: unknown argument '$a' (expected --all, --keep)" >&2; exit 2 ;;
	esac
done

bridge=${MCP_BRIDGE:-$repo/build/src/mcp-bridge}
if [ ! -x "$bridge" ] || [ -d "$bridge" ]; then
	echo "run.sh: no mcp-bridge binary at $bridge (build it, or set MCP_BRIDGE)" >&2
	exit 2
fi
MCP_BRIDGE=$(cd "$(dirname "$bridge")" && pwd)/$(basename "$bridge")
export MCP_BRIDGE
if [ ! -f "$repo/tests/node/node_modules/@modelcontextprotocol/sdk/package.json" ]; then
	echo "run.sh: the MCP SDK is not installed in tests/node (run scripts/setup.sh)" >&2
	exit 2
fi

# The suite and Node 22, exactly as package-lock.json pins them; nothing
# is fetched when they are installed already (or in npm's cache).
# shellcheck disable=SC3013 # -nt: dash, bash and busybox have it
if [ ! -f node_modules/.package-lock.json ] ||
   [ package-lock.json -nt node_modules/.package-lock.json ] ||
   [ ! -x node_modules/.bin/node ]; then
	npmlog=$(mktemp)
	for try in 1 2 3; do
		npm ci --no-audit --no-fund --prefer-offline --loglevel=error \
		    >"$npmlog" 2>&1 && break
		if [ "$try" = 3 ]; then
			cat "$npmlog" >&2
			rm -f "$npmlog"
			echo "run.sh: npm ci failed in tests/conformance" >&2
			exit 2
		fi
		sleep 5
	done
	rm -f "$npmlog"
fi
PATH="$here/node_modules/.bin:$PATH"
export PATH
major=$(node -p 'process.versions.node.split(".")[0]')
if [ "$major" -lt 22 ]; then
	echo "run.sh: node_modules/.bin/node is Node $major; the suite needs >= 22" >&2
	exit 2
fi
conf=$here/node_modules/@modelcontextprotocol/conformance/dist/index.js

res=$(mktemp -d "${TMPDIR:-/tmp}/conformance.XXXXXX")
passed=0 failed=0
t0=$(date +%s%N)

# "  - NAME [TAG,TAG]" lines: every client scenario of the pinned suite.
node "$conf" list --client >"$res/list.txt" 2>&1 || {
	cat "$res/list.txt" >&2
	echo "run.sh: the conformance runner does not start" >&2
	exit 2
}
sed -n 's/^ *- \([^ ]*\) \[\(.*\)\]$/\1 \2/p' "$res/list.txt" >"$res/scenarios"
[ -s "$res/scenarios" ] || { echo "run.sh: no client scenarios listed" >&2; exit 2; }
# VERDICT SPEC SCENARIO REASON (the comment), one entry a line
awk '/^[ \t]*(#|$)/ {next} {r = ""; i = index($0, "#")
	if (i) { r = substr($0, i + 1); sub(/^[ \t]+/, "", r) }
	split(substr($0, 1, i ? i - 1 : length($0)), f, " ")
	print f[1], f[2], f[3], r}' expected.txt >"$res/expected"

# The revision a scenario runs at when expected.txt says "-": 2025-11-25
# when tagged so, else its newest revision, else "extension" (then it
# runs with no --spec-version).
spec_of() {
	tags=$(awk -v n="$1" '$1 == n {print $2}' "$res/scenarios")
	case ",$tags," in
	*,2025-11-25,*) echo 2025-11-25 ;;
	*) echo "$tags" | tr , '\n' | grep -E '^[0-9]{4}-' | sort | tail -1 |
	    grep . || echo extension ;;
	esac
}

# Runs one scenario; sets $line and returns 0 when it passed.
run_one() { # SPEC NAME
	dir=$res/$(printf '%s@%s' "$2" "$1" | tr '/' '_')
	mkdir -p "$dir"
	set -- "$1" "$2" client --command ./ide.sh --scenario "$2" \
	    --timeout 30000 -o "$dir"
	[ "$1" = extension ] || set -- "$@" --spec-version "$1"
	r_t=$(date +%s%N)
	rc=0
	r_spec=$1 r_name=$2
	shift 2
	IDE_TIMEOUT_MS=25000 timeout -k 5 90 node "$conf" "$@" </dev/null \
	    >"$dir/runner.txt" 2>&1 ||
	    rc=$?
	ms=$(( ($(date +%s%N) - r_t) / 1000000 ))
	# "Passed: 3/5, 2 failed, 0 warnings" (colours stripped)
	counts=$(sed 's/\x1b\[[0-9;]*m//g' "$dir/runner.txt" | sed -n \
	    's/^Passed: \([0-9]*\/[0-9]*\), \([0-9]*\) failed, \([0-9]*\) warnings.*/\1 checks, \2 failed, \3 warnings/p' |
	    tail -1)
	why=""
	if grep -q '^SKIPPED: scenario' "$dir/runner.txt"; then
		why="not run: not applicable at $r_spec"
	elif [ -z "$counts" ]; then
		why="no result"
	elif [ "${counts%%/*}" = 0 ]; then
		why="no check passed"
	fi
	[ "$rc" -ne 124 ] && [ "$rc" -ne 137 ] || why="timed out"
	line="$r_name @$r_spec: ${counts:-0/0 checks}${why:+ ($why)} ($ms ms)"
	[ "$rc" -eq 0 ] && [ -z "$why" ] && return 0
	# what the IDE saw, when it failed (its one-line reason)
	r_ide=$(grep -a -m1 '^ide\.mjs: .*: ' "$dir/runner.txt" | cut -c1-240)
	line="$line${r_ide:+; $r_ide}"
	return 1
}

# Every client scenario of the suite must be classified in expected.txt.
while read -r name tags; do
	hit=0
	while read -r verdict spec pat reason; do
		# shellcheck disable=SC2254 # pat is a glob on purpose
		case $name in $pat) hit=1 ;; esac
	done <"$res/expected"
	if [ $hit = 0 ]; then
		echo "FAIL  $name [$tags]: not in expected.txt (classify it there)"
		failed=$((failed + 1))
	fi
done <"$res/scenarios"

while read -r verdict spec pat reason; do
	case $verdict in
	pass)
		if ! awk -v n="$pat" '$1 == n {f=1} END {exit !f}' "$res/scenarios"; then
			echo "FAIL  $pat: expected.txt names a scenario the suite does not have"
			failed=$((failed + 1))
		elif run_one "$spec" "$pat"; then
			echo "PASS  $line"
			passed=$((passed + 1))
		else
			echo "FAIL  $line"
			failed=$((failed + 1))
		fi
		;;
	na)
		names=$(while read -r n _; do
			# shellcheck disable=SC2254
			case $n in $pat) echo "$n" ;; esac
		done <"$res/scenarios")
		if [ $all = 0 ]; then
			at="" count=""
			[ "$spec" = - ] || at=" @$spec"
			[ "$pat" = "$names" ] || count=" ($(echo "$names" | wc -w) scenarios)"
			echo "n/a   $pat$at$count: $reason"
			continue
		fi
		for n in $names; do
			s=$spec
			[ "$s" != - ] || s=$(spec_of "$n")
			if run_one "$s" "$n"; then
				echo "info  $line: passes, but expected.txt says na"
			else
				echo "info  $line (not required)"
			fi
		done
		;;
	*)
		echo "run.sh: expected.txt: '$verdict $spec $pat': verdict must be pass or na" >&2
		failed=$((failed + 1))
		;;
	esac
done <"$res/expected"

echo "conformance: $(( ($(date +%s%N) - t0) / 1000000 )) ms in all"
if [ $failed -gt 0 ] || [ $keep = 1 ]; then
	echo "conformance results: $res"
else
	rm -rf "$res"
fi
echo "$passed passed, $failed failed"
[ $failed -eq 0 ] && [ $passed -gt 0 ]
