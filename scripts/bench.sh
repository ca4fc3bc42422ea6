#!/bin/sh
# Builds and runs the benchmark (bench/): in one run, against the same
# loopback MCP upstream (bench_upstream), a direct HTTP/1.1 keep-alive
# client, mcp-bridge and mcp-remote 0.15.1 (npm, pinned in tests/node).
# Prints a Markdown table, the bridge/mcp-remote ratios, bridge-direct
# differences and a PASS/MISS line per target. Exits 0 when everything
# ran (targets missed or not), non-zero when something could not run.
#
# usage: ./scripts/bench.sh [bench options]   e.g. --calls 5000 --json
#        (./scripts/bench.sh --help lists them)
# Assumes ./scripts/setup.sh has run. BENCH_BUILD=DIR picks the build
# directory (default: build; set up with -Dbench=true when missing).
set -eu
cd "$(dirname "$0")/.."
. ./scripts/env.sh

b=${BENCH_BUILD:-build}
if [ ! -f "$b/build.ninja" ]; then
	meson setup "$b" -Dbench=true >/dev/null
elif ! meson introspect --buildoptions "$b" |
    grep -q '"name": "bench", "value": true'; then
	meson configure "$b" -Dbench=true >/dev/null
fi
if ! out=$(ninja -C "$b" src/mcp-bridge bench/bench bench/bench_upstream \
    2>&1); then
	printf '%s\n' "$out" >&2
	echo "bench: build failed" >&2
	exit 1
fi

node=$(command -v node || echo node)
exec "$b/bench/bench" \
    --bridge "$b/src/mcp-bridge" \
    --upstream "$b/bench/bench_upstream" \
    --mcp-remote "$(pwd)/tests/node/node_modules/mcp-remote/dist/proxy.js" \
    --node "$node" "$@"
