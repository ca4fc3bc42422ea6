#!/bin/sh
# SPDX-License-Identifier: ISC
# The bash completion completes the real binary:
#   completion.sh MCP_BRIDGE COMPLETION.bash [ZSH_COMPLETION]
# Sources the completion in bash, completes `mcp-bridge <TAB>`, a command's
# flags, a subcommand and a flag value, and compares with --help. The zsh
# file is syntax-checked when zsh is installed.
set -u
bin=$1 comp=$(cd "$(dirname "$2")" && pwd)/$(basename "$2") zcomp=${3:-}
[ -x "$bin" ] || { echo "completion.sh: $bin: not an executable" >&2; exit 1; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
# The completion runs `mcp-bridge` as typed: put this build's first on PATH.
ln -s "$(cd "$(dirname "$bin")" && pwd)/$(basename "$bin")" "$tmp/mcp-bridge"
: >"$tmp/conf-a.json"

# complete LINE: the candidates bash offers for LINE (cursor at the end).
cat >"$tmp/run.bash" <<'EOF'
source "$COMP"
complete_line() {
	COMP_LINE=$1
	read -r -a COMP_WORDS <<<"$1"
	[[ $1 == *" " ]] && COMP_WORDS+=("")
	COMP_CWORD=$((${#COMP_WORDS[@]} - 1))
	COMP_POINT=${#1}
	COMPREPLY=()
	_mcp_bridge
	printf '%s\n' "${COMPREPLY[@]}" | sort
}
complete_line "$1"
EOF
complete() {
	(cd "$tmp" && HOME=$tmp PATH="$tmp:$PATH" COMP="$comp" \
	    bash "$tmp/run.bash" "$1")
}

fail=0
check() { # check NAME EXPECTED GOT
	if [ "$2" != "$3" ]; then
		printf 'completion.sh: %s:\n  expected: %s\n  got:      %s\n' \
		    "$1" "$(echo $2)" "$(echo $3)" >&2
		fail=1
	else
		echo "ok: $1: $(echo $3)"
	fi
}

cmds=$("$bin" --help | awk '/^commands:/ { on = 1; next }
    on && /^  [a-z]/ { print $1; next } on && !/^  / { on = 0 }' | sort)
[ -n "$cmds" ] || { echo "completion.sh: no commands in --help" >&2; exit 1; }
check "commands" "$cmds" "$(complete 'mcp-bridge ')"
check "global flags" "--help
--version" "$(complete 'mcp-bridge --')"
first=$(echo "$cmds" | head -n 1)
check "prefix of '$first'" "$first" \
    "$(complete "mcp-bridge $(echo "$first" | cut -c1-3)" | grep -x "$first")"
check "run flags" \
    "$({ "$bin" run --help; echo --help; } |
        grep -o -e '--[a-z][a-z0-9-]*' | sort -u)" \
    "$(complete 'mcp-bridge run --')"
check "config subcommands" "show
validate" "$(complete 'mcp-bridge config ')"
check "config show flags" "--config
--help
--json" "$(complete 'mcp-bridge config show --')"
check "log levels" "debug
error
info
warn" "$(complete 'mcp-bridge run --log-level ')"
check "--config FILE" "conf-a.json" "$(complete 'mcp-bridge status --config conf')"
check "flag value skipped" "--all
--config
--help
--json
--log-level" "$(complete 'mcp-bridge servers --config x.json --')"
# `ide add <client>`: the clients of `mcp-bridge ide list`, once.
clients=""
if echo "$cmds" | grep -qx ide; then
	clients=$(HOME=$tmp "$bin" ide list | awk '/^[a-z]/ { print $1 }' | sort)
	[ -n "$clients" ] || { echo "completion.sh: ide list: no clients" >&2; fail=1; }
	check "ide clients" "$clients" "$(complete 'mcp-bridge ide add ')"
	check "ide client given" "" "$(complete 'mcp-bridge ide add cursor ')"
	check "ide --project DIR skipped" "$clients" \
	    "$(complete 'mcp-bridge ide print --project . ')"
fi

# zsh: the completion function runs with the completion builtins stubbed
# to print their candidates (real zsh filters them by the prefix).
if [ -n "$zcomp" ] && command -v zsh >/dev/null 2>&1; then
	zcomp=$(cd "$(dirname "$zcomp")" && pwd)/$(basename "$zcomp")
	cat >"$tmp/run.zsh" <<'EOF'
compadd() { print -l -- "${@[${@[(i)--]}+1,-1]}" }
_describe() { print -l -- "${(@)${(P)4}%%:*}" }
_files() { print -- "<files${1:+ $1}>" }
_message() { : }
words=(${(z)1})
[[ $1 == *' ' ]] && words+=('')
CURRENT=$#words PREFIX=$words[CURRENT] service=$words[1]
source "$ZCOMP"
EOF
	zcomplete() {
		(cd "$tmp" && HOME=$tmp PATH="$tmp:$PATH" ZCOMP="$zcomp" \
		    zsh -f "$tmp/run.zsh" "$1" | sort)
	}
	zsh -n "$zcomp" || { echo "completion.sh: zsh -n $zcomp" >&2; fail=1; }
	check "zsh commands" "$cmds" "$(zcomplete 'mcp-bridge ')"
	check "zsh run flags" \
	    "$({ "$bin" run --help; echo --help; } |
	        grep -o -e '--[a-z][a-z0-9-]*' | sort -u)" \
	    "$(zcomplete 'mcp-bridge run --')"
	check "zsh config subcommands" "show
validate" "$(zcomplete 'mcp-bridge config ')"
	check "zsh log levels" "debug
error
info
warn" "$(zcomplete 'mcp-bridge run --log-level ')"
	check "zsh --config FILE" "<files>" \
	    "$(zcomplete 'mcp-bridge status --config ')"
	check "zsh flag value skipped" "--all
--config
--help
--json
--log-level" "$(zcomplete 'mcp-bridge servers --config x.json --')"
	if [ -n "$clients" ]; then
		check "zsh ide clients" "$clients" \
		    "$(zcomplete 'mcp-bridge ide remove ')"
	fi
fi
exit $fail
