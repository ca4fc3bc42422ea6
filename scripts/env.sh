# Sourced by the scripts: puts the Node runtime that setup.sh chose first.
if [ -x "$(pwd)/tests/node/runtime/node_modules/.bin/node" ]; then
	PATH="$(pwd)/tests/node/runtime/node_modules/.bin:$PATH"
	export PATH
fi
