#!/bin/sh
# Installs what mcp-bridge needs to build, test, benchmark and demo on a
# fresh Debian 12 machine (run as root; idempotent and quick when done).
set -eu
cd "$(dirname "$0")/.."

debs="build-essential meson ninja-build pkg-config ca-certificates clang
openssl libcurl4-openssl-dev libjansson-dev libjsmn-dev libssl-dev
libcriterion-dev libsecret-1-dev libqrencode-dev libmicrohttpd-dev
gnome-keyring dbus-daemon dbus-bin procps clang-format ruby
clang-tidy cppcheck"

missing=""
for p in $debs; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" ||
	    missing="$missing $p"
done
command -v node >/dev/null 2>&1 || missing="$missing nodejs"
command -v npm >/dev/null 2>&1 || missing="$missing npm"
if [ -n "$missing" ]; then
	if [ "$(id -u)" != 0 ]; then
		echo "setup: missing Debian packages:$missing (run as root)" >&2
		exit 1
	fi
	echo "setup: installing$missing" >&2
	apt-get update -qq
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
	    --no-install-recommends $missing >/dev/null
fi

# Node >= 20 runs the official MCP SDK peers and node's test runner. Debian
# 12 ships Node 18, so older machines get Node 22 from the npm registry
# (the `node` package ships the binary) in tests/node/runtime.
major=$(node -p 'process.versions.node.split(".")[0]')
if [ "$major" -lt 20 ] && [ ! -x tests/node/runtime/node_modules/.bin/node ]; then
	echo "setup: Node $major is too old; installing Node 22 for tests" >&2
	mkdir -p tests/node/runtime
	(cd tests/node/runtime && npm install --no-audit --no-fund --no-save \
	    node@22 >/dev/null)
fi

# npm test peers, pinned by tests/node/package-lock.json.
if [ ! -f tests/node/node_modules/.package-lock.json ] ||
   [ tests/node/package-lock.json -nt tests/node/node_modules/.package-lock.json ]; then
	echo "setup: installing npm test dependencies" >&2
	# A registry hiccup should not fail a whole CI run: try three times.
	npmlog=$(mktemp)
	for try in 1 2 3; do
		(cd tests/node && npm ci --no-audit --no-fund) >"$npmlog" 2>&1 &&
		    break
		[ "$try" = 3 ] && { cat "$npmlog" >&2; rm -f "$npmlog"; exit 1; }
		echo "setup: npm ci failed (try $try); retrying" >&2
		sleep 5
	done
	rm -f "$npmlog"
fi
