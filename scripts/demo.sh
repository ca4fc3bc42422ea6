#!/bin/sh
# Sets up, builds and runs the demo: a company IdP (oidc-provider) and a
# hosted MCP server on loopback, a device-flow sign-in with tokens in a
# real gnome-keyring (private D-Bus session), and a real MCP client session
# (the official SDK) through mcp-bridge.
set -eu
cd "$(dirname "$0")/.."
./scripts/setup.sh
. ./scripts/env.sh
[ -f build/build.ninja ] || meson setup build >/dev/null
ninja -C build >/dev/null
exec tests/integration/with-keyring.sh \
    node scripts/demo.mjs "$(pwd)/build/src/mcp-bridge"
