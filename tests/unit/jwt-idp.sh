#!/bin/sh
# test_jwt against an access token and JWKS minted by the real test IdP
# (tests/node/test-idp.mjs): jwt_idp_tokens.mjs writes them to a scratch
# directory, then the Criterion binary runs with JWT_IDP_DIR set.
# usage: jwt-idp.sh TEST_JWT_EXE
set -eu
exe=$1
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
if [ ! -d "$root/tests/node/node_modules" ]; then
	echo "tests/node/node_modules missing (cd tests/node && npm ci)"
	exit 77
fi
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT INT TERM
node "$here/jwt_idp_tokens.mjs" "$root" "$dir"
JWT_IDP_DIR=$dir "$exe" --filter 'jwt_idp/*'
