#!/bin/sh
# Benchmark of mcp-registryd: GET /v0.1/servers?limit=100 on a catalog of
# 1,000 servers, every request's JWT verified (ES256, the test IdP's key),
# driven by wrk over loopback (4 threads, 32 connections, 10 s). Prints
# requests/s and the latency percentiles. Installs wrk when missing.
#
# usage: bench/registryd.sh [BUILD_DIR]      (default: build)
set -eu
cd "$(dirname "$0")/.."
. ./scripts/env.sh
b=${1:-build}
command -v wrk >/dev/null 2>&1 || apt-get install -y wrk >/dev/null
ninja -C "$b" src/mcp-registryd >/dev/null
tmp=$(mktemp -d)
pids=
trap 'kill $pids 2>/dev/null; rm -rf "$tmp"' EXIT INT TERM

mkdir "$tmp/catalog"
i=0
while [ $i -lt 1000 ]; do
	printf '{"name":"com.example.mcp/server-%04d","title":"Server %d","description":"Hosted MCP server number %d","version":"1.0.%d","remotes":[{"type":"streamable-http","url":"https://mcp.example.com/s%d/mcp"}]}\n' \
	    $i $i $i $i $i >"$tmp/catalog/s$i.json"
	i=$((i + 1))
done
printf '{"default":{"groups":["eng"]}}\n' >"$tmp/policy.json"

node tests/node/test-idp.mjs --interval 1 --auto-approve-ms 100 \
    >"$tmp/idp.out" 2>/dev/null &
pids="$pids $!"
while ! grep -q ready "$tmp/idp.out" 2>/dev/null; do sleep 0.1; done
iss=$(sed -n 's/.*"issuer":"\([^"]*\)".*/\1/p' "$tmp/idp.out")

"$b/src/mcp-registryd" --catalog "$tmp/catalog" --policy "$tmp/policy.json" \
    --issuer "$iss" --audience http://127.0.0.1/mcp-registry \
    --log-file "$tmp/access.log" >"$tmp/rd.out" &
pids="$pids $!"
while ! grep -q READY "$tmp/rd.out" 2>/dev/null; do sleep 0.1; done
port=$(awk '{print $2}' "$tmp/rd.out")

# alice's access token, through the device flow.
token=$(ISS="$iss" node --input-type=module -e '
const iss = process.env.ISS, post = (p, b) => fetch(iss + p, { method: "POST", body: new URLSearchParams(b) });
const d = await (await post("/device/auth", { client_id: "mcp-bridge", scope: "openid groups" })).json();
for (;;) {
  await new Promise((r) => setTimeout(r, 1100));
  const r = await post("/token", { grant_type: "urn:ietf:params:oauth:grant-type:device_code", device_code: d.device_code, client_id: "mcp-bridge" });
  if (r.status === 200) { process.stdout.write((await r.json()).access_token); break; }
}')
cat >"$tmp/auth.lua" <<LUA
wrk.headers["Authorization"] = "Bearer $token"
LUA
url="http://127.0.0.1:$port/v0.1/servers?limit=100"
check=$(curl -s -o /dev/null -w '%{http_code} %{size_download}' \
    -H "Authorization: Bearer $token" "$url")
echo "check: GET /v0.1/servers?limit=100 -> HTTP $check bytes"
wrk -t4 -c32 -d10s --latency -s "$tmp/auth.lua" "$url" >"$tmp/wrk.out"
rps=$(awk '/Requests\/sec/ {print $2}' "$tmp/wrk.out")
p50=$(awk '$1 == "50%" {print $2}' "$tmp/wrk.out")
p99=$(awk '$1 == "99%" {print $2}' "$tmp/wrk.out")
errs=$(awk '/Non-2xx/ {print $4}' "$tmp/wrk.out")
echo "mcp-registryd, 1000 servers, limit=100, JWT verified per request:"
echo "  requests/s: $rps   p50: $p50   p99: $p99   non-2xx: ${errs:-0}"
