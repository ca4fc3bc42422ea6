#!/bin/sh
# Every C file follows the repository's .clang-format.
# usage: format.sh CLANG_FORMAT SRCROOT
set -u
cd "$2" || exit 1
out=$("$1" --dry-run -Werror src/*.c src/*.h bench/*.c tests/fuzz/*.c \
    tests/unit/*.c 2>&1) && exit 0
printf '%s\n' "$out" | grep 'error:'
echo "run: clang-format -i on the files above"
exit 1
