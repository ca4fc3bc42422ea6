#!/bin/sh
# Compiles every src/*.h on its own: headers must be self-contained.
# usage: headers.sh SRCDIR CC...
set -u
src=$1; shift
rc=0
for h in "$src"/*.h; do
	if ! printf '#include "%s"\n' "$(basename "$h")" |
	    "$@" -std=c11 -D_POSIX_C_SOURCE=200809L -D_DEFAULT_SOURCE \
	    -Wall -Wextra -Werror -fsyntax-only -I"$src" -xc - ; then
		echo "not self-contained: $h"
		rc=1
	fi
done
exit $rc
