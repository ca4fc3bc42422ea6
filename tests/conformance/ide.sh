#!/bin/sh
# The conformance runner splits --command on spaces and appends the mock
# server's URL: this wrapper keeps the launch one word (run.sh passes
# ./ide.sh from this directory) and hands every argument to the driver.
exec node "$(dirname "$0")/ide.mjs" "$@"
