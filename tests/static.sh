#!/bin/sh
# Static analysis of src/ (not third-party code), run as the meson test
# 'static' (suite 'style'):
#  - clang-tidy with the checks of the repository's .clang-tidy, on every
#    src/ file of BUILDDIR's compile_commands.json, two at a time;
#    findings named in tests/static/tidy-suppressions.txt are ignored;
#  - cppcheck --enable=warning,performance,portability on the same files,
#    with tests/static/cppcheck-suppressions.txt.
# Each suppression carries its reason in those files. Prints every
# finding and exits 1 if there is one; 77 (skip) without the tools.
# usage: static.sh SRCROOT BUILDDIR
set -u
root=$(cd "$1" && pwd) || exit 1
build=$(cd "$2" && pwd) || exit 1
jobs=${STATIC_JOBS:-2}
tidy=${CLANG_TIDY:-clang-tidy}
for t in "$tidy" cppcheck python3; do
	command -v "$t" >/dev/null 2>&1 || {
		echo "static.sh: $t not found (scripts/setup.sh installs it); skipped"
		exit 77
	}
done
db=$build/compile_commands.json
[ -f "$db" ] || { echo "static.sh: no $db"; exit 1; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# The src/ translation units of this build (platform files it does not
# compile, e.g. the macOS keychain store, are not analysed here).
python3 - "$db" "$root/src/" >"$tmp/files" <<'PY' || exit 1
import json, os, sys
db, src = sys.argv[1], sys.argv[2]
seen = set()
for e in json.load(open(db)):
    f = os.path.normpath(os.path.join(e["directory"], e["file"]))
    if f.startswith(src) and f.endswith(".c") and f not in seen:
        seen.add(f)
        print(f)
PY
n=$(wc -l <"$tmp/files")
[ "$n" -gt 0 ] || { echo "static.sh: no src/ files in $db"; exit 1; }

rc=0
start=$(date +%s)
xargs -P "$jobs" -n 1 "$tidy" -p "$build" --quiet <"$tmp/files" \
    >"$tmp/tidy" 2>"$tmp/tidy.err"
tidy_rc=$?
# "FILE:LINE:COL: warning|error: text [check]" -> relative, deduplicated
# (a header's finding is reported by every file that includes it), minus
# the suppressed FILE CHECK pairs.
python3 - "$tmp/tidy" "$root" "$root/tests/static/tidy-suppressions.txt" \
    >"$tmp/findings" <<'PY'
import os, re, sys
out, root, supp = sys.argv[1:4]
skip = set()
for line in open(supp):
    line = line.split("#", 1)[0].split()
    if len(line) == 2:
        skip.add(tuple(line))
pat = re.compile(r"^(\S+?):(\d+):(\d+): (warning|error): (.*) \[([^\]]+)\]$")
seen = []
for line in open(out, errors="replace"):
    m = pat.match(line.rstrip("\n"))
    if not m:
        continue
    f = os.path.relpath(os.path.normpath(m.group(1)), root)
    check = m.group(6).split(",")[0]
    if (f, check) in skip:
        continue
    key = f"{f}:{m.group(2)}:{m.group(3)}: {m.group(5)} [{check}]"
    if key not in seen:
        seen.append(key)
print("\n".join(seen))
PY
tidy_n=$(grep -c . "$tmp/findings")
if [ "$tidy_n" -gt 0 ]; then
	echo "clang-tidy: $tidy_n finding(s):"
	cat "$tmp/findings"
	rc=1
elif [ "$tidy_rc" -ne 0 ] && [ "$tidy_rc" -ne 123 ]; then
	echo "clang-tidy did not run (exit $tidy_rc):"
	tail -20 "$tmp/tidy.err"
	rc=1
fi
mid=$(date +%s)
echo "clang-tidy: $n files, $tidy_n findings, $((mid - start)) s"

cppcheck -q --std=c11 -j "$jobs" --enable=warning,performance,portability \
    --error-exitcode=1 --inline-suppr \
    --suppressions-list="$root/tests/static/cppcheck-suppressions.txt" \
    --include="$root/tests/static/cppcheck-jansson.h" \
    --project="$db" --file-filter="$root/src/*" >"$tmp/cpp" 2>&1
cpp_rc=$?
if [ "$cpp_rc" -ne 0 ] || [ -s "$tmp/cpp" ]; then
	echo "cppcheck: findings (exit $cpp_rc):"
	cat "$tmp/cpp"
	rc=1
fi
echo "cppcheck: $(( $(date +%s) - mid )) s"
exit $rc
