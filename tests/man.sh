#!/bin/sh
# SPDX-License-Identifier: ISC
# The man pages cannot drift from --help:
#   man.sh MCP_BRIDGE MAN1 [MCP_REGISTRYD MAN8]
# * every command `mcp-bridge --help` lists has a `.SS <command>` section
#   in mcp-bridge(1), and every section names a real command;
# * every --flag that `mcp-bridge <command> [<subcommand>] --help` prints
#   is documented in that command's sections;
# * every --flag of `mcp-registryd --help` is in mcp-registryd(8);
# * groff (when installed) renders both pages without a warning.
set -u
bin=$1 man1=$2 regd=${3:-} man8=${4:-}
[ -x "$bin" ] || { echo "man.sh: $bin: not an executable" >&2; exit 1; }
fail=0
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

bad() {
	echo "man.sh: $*" >&2
	fail=1
}

# The page as plain text: \- is -, font escapes go.
plain() {
	sed -e 's/\\-/-/g' -e 's/\\f[BIRP]//g' -e 's/\\(aq/'"'"'/g' "$1"
}

# The text of every `.SS <cmd>...` section of $1 (plain) for command $2.
sections() {
	awk -v c="$2" '
	    /^\.S[SH] / { on = ($1 == ".SS" && $2 == c) }
	    on' "$1"
}

# Flags a --help output lists (on stdin).
flags() {
	grep -o -e '--[a-z][a-z0-9-]*' | sort -u
}

plain "$man1" >"$tmp/man1"
cmds=$("$bin" --help | awk '/^commands:/ { on = 1; next }
    on && /^  [a-z]/ { print $1; next } on && !/^  / { on = 0 }')
[ -n "$cmds" ] || bad "'$bin --help' lists no commands"

for c in $cmds; do
	sections "$tmp/man1" "$c" >"$tmp/sec"
	if [ ! -s "$tmp/sec" ]; then
		bad "$man1: no '.SS $c' section for command '$c'"
		continue
	fi
	"$bin" "$c" --help >"$tmp/help" 2>&1 ||
	    bad "'mcp-bridge $c --help' exits non-zero"
	# Subcommands (mcp-bridge config show, ...) have their own --help.
	subs=$(awk -v c="$c" '{ for (i = 1; i < NF; i++)
	    if ($i == "mcp-bridge" && $(i + 1) == c &&
	        $(i + 2) ~ /^[a-z][a-z-]*$/) print $(i + 2) }' "$tmp/help" |
	    sort -u)
	for s in $subs; do
		grep -Eq "^\.SS $c $s( |\$)" "$tmp/man1" ||
		    bad "$man1: no '.SS $c $s' section"
		"$bin" "$c" "$s" --help >>"$tmp/help" 2>&1
	done
	n=0
	for f in $(flags <"$tmp/help"); do
		[ "$f" = --help ] && continue
		n=$((n + 1))
		grep -Eq -e "$f([^a-z0-9-]|\$)" "$tmp/sec" ||
		    bad "$man1: 'mcp-bridge $c' flag $f is not documented" \
		        "in its section"
	done
	echo "mcp-bridge $c: $n flags, subcommands: $(echo ${subs:-none})"
done

# Every section is a real command; the global flags are documented.
for c in $(awk '/^\.SH COMMANDS/ { on = 1; next } /^\.SH/ { on = 0 }
    on && /^\.SS / { print $2 }' "$tmp/man1" | sort -u); do
	echo "$cmds" | grep -qx "$c" ||
	    bad "$man1: section '$c' is not a command of '$bin --help'"
done
for f in $("$bin" --help | flags); do
	grep -Eq -e "$f([^a-z0-9-]|\$)" "$tmp/man1" || bad "$man1: $f is not documented"
done

if [ -n "$regd" ]; then
	plain "$man8" >"$tmp/man8"
	n=0
	for f in $("$regd" --help | flags); do
		n=$((n + 1))
		grep -Eq -e "$f([^a-z0-9-]|\$)" "$tmp/man8" ||
		    bad "$man8: mcp-registryd flag $f is not documented"
	done
	echo "mcp-registryd: $n flags"
fi

if command -v groff >/dev/null 2>&1; then
	for m in "$man1" $man8; do
		w=$(groff -man -ww -z -Tutf8 "$m" 2>&1)
		[ -z "$w" ] || bad "$m: groff: $w"
	done
fi
exit $fail
