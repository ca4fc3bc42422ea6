#!/bin/sh
# Checks every #include in src/ against tests/layers.txt.
# usage: layers.sh SRCDIR LAYERS.TXT
set -u
src=$1 table=$2
awk -v src="$src" '
FNR == NR {
	if ($0 ~ /^#/ || NF == 0) next
	if ($1 == "=") { same[$2 " " $3] = 1; next }
	if ($1 == "!") { for (i = 3; i <= NF; i++) third[$2 " " $i] = 1; tp[$2] = 1; next }
	layer[$1] = $2; next
}
FNR == 1 {
	mod = FILENAME; sub(/.*\//, "", mod); sub(/\.[ch]$/, "", mod)
	if (!(mod in layer)) { printf "%s: module %s is not in layers.txt\n", FILENAME, mod; bad = 1 }
}
/^#include "/ {
	h = $2; gsub(/"/, "", h); dep = h; sub(/\.h$/, "", dep)
	if (dep == mod) next
	if (!(dep in layer)) { printf "%s:%d: includes unknown module %s\n", FILENAME, FNR, h; bad = 1; next }
	a = layer[mod]; b = layer[dep]
	if (b < a || (a == 0 && b == 0) || ((mod " " dep) in same)) next
	printf "%s:%d: %s (layer %d) must not include %s (layer %d)\n", FILENAME, FNR, mod, a, h, b; bad = 1
}
/^#include </ {
	h = $2; gsub(/[<>]/, "", h)
	for (p in tp) if (index(h, p) == 1 && !((p " " mod) in third)) {
		printf "%s:%d: %s may not include third-party header %s\n", FILENAME, FNR, mod, h; bad = 1
	}
}
END { exit bad }
' "$table" $(ls "$src"/*.c "$src"/*.h)
