#!/bin/sh
# Sets up, builds and runs the demo: a hosted MCP server on loopback and a
# real MCP client session (the official SDK) through mcp-bridge.
set -eu
cd "$(dirname "$0")/.."
./scripts/setup.sh
. ./scripts/env.sh
[ -f build/build.ninja ] || meson setup build >/dev/null
ninja -C build >/dev/null
exec node scripts/demo.mjs "$(pwd)/build/src/mcp-bridge"
