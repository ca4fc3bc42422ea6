#!/bin/sh
# Aggregation benchmark (issue 6): N hosted servers (tests/node/hosted-server.mjs,
# official TS SDK) on loopback; in the same run, one `mcp-bridge run --config`
# serving all of them against N `mcp-remote` processes (one per server, as IDEs
# run them today), plus a direct HTTP client as the floor. Prints a Markdown
# table (median and max over the runs), the ratios and a PASS/MISS line per
# target. Method: bench/README.md. Exits 0 when everything ran (targets met or
# not), 1 when something could not run, 2 on bad arguments.
#
# usage: bench/aggregate.sh [--servers 20] [--runs 5] [--json] [...]
#        (bench/aggregate.sh --help lists every option)
# Assumes ./scripts/setup.sh has run (Node >= 20, tests/node installed).
# Installs mcp-remote (pinned in bench/node/package-lock.json, benchmark only,
# never by CI) with npm ci when missing. BENCH_BUILD=DIR picks the build
# directory (default: build; set up as a release build when missing).
set -eu
cd "$(dirname "$0")/.."
. ./scripts/env.sh

for a in "$@"; do
	case $a in
	-h | --help) exec node bench/aggregate.mjs --help ;;
	esac
done

if [ ! -d tests/node/node_modules/@modelcontextprotocol/sdk ]; then
	echo "aggregate: tests/node is not installed; run ./scripts/setup.sh first" >&2
	exit 1
fi
if [ ! -f bench/node/node_modules/.package-lock.json ] ||
    [ bench/node/package-lock.json -nt bench/node/node_modules/.package-lock.json ]; then
	echo "aggregate: installing bench/node (mcp-remote)" >&2
	if ! out=$(cd bench/node && npm ci --no-audit --no-fund 2>&1); then
		printf '%s\n' "$out" >&2
		echo "aggregate: npm ci in bench/node failed" >&2
		exit 1
	fi
fi

b=${BENCH_BUILD:-build}
if [ ! -f "$b/build.ninja" ]; then
	meson setup "$b" --buildtype=release >/dev/null
fi
if ! out=$(ninja -C "$b" src/mcp-bridge 2>&1); then
	printf '%s\n' "$out" >&2
	echo "aggregate: build failed" >&2
	exit 1
fi
bt=$(meson introspect --buildoptions "$b" |
    node -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>{const o=JSON.parse(s).find(x=>x.name==="buildtype");process.stdout.write(o?o.value:"?")})')

exec node bench/aggregate.mjs \
    --bridge "$b/src/mcp-bridge" \
    --hosted-server tests/node/hosted-server.mjs \
    --mcp-remote bench/node/node_modules/mcp-remote/dist/proxy.js \
    --bridge-info "$bt build" "$@"
