#!/bin/sh
# Banned libc calls (house style): use snprintf with a truncation check
# and str_tonum() instead.
# usage: banned.sh SRCDIR
set -u
hits=$(grep -nE '\b(sprintf|vsprintf|strcpy|strcat|strtok|atoi|atol|gets)[[:space:]]*\(' \
    "$1"/*.c "$1"/*.h 2>/dev/null)
if [ -n "$hits" ]; then
	echo "banned calls:"
	echo "$hits"
	exit 1
fi
exit 0
