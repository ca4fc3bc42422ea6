#!/bin/sh
# Sets up, builds and runs the demo: the company stack on loopback (an
# IdP on oidc-provider, mcp-registryd, three hosted MCP servers), two users
# signing in with the device flow (tokens in a real gnome-keyring, private
# D-Bus session) and seeing different servers, and a real MCP client
# session (the official SDK) through mcp-bridge.
set -eu
cd "$(dirname "$0")/.."
./scripts/setup.sh
. ./scripts/env.sh
[ -f build/build.ninja ] || meson setup build >/dev/null
ninja -C build >/dev/null
exec tests/integration/with-keyring.sh \
    node scripts/demo.mjs "$(pwd)/build/src/mcp-bridge"
