# bash completion for mcp-bridge                      -*- shell-script -*-
# SPDX-License-Identifier: ISC
#
# Commands, subcommands and flags are read from the binary's own --help
# (`mcp-bridge --help`, `mcp-bridge CMD --help`), so the completion stays in
# step with the binary it completes. Needs no bash-completion helpers.

# Commands: the indented words under "commands:" in `mcp-bridge --help`.
_mcp_bridge_commands()
{
	"$1" --help 2>/dev/null |
	    awk '/^commands:/ { on = 1; next }
	         on && /^  [a-z]/ { print $1; next }
	         on && !/^  / { on = 0 }'
}

# Subcommands of $2: lower-case words right after "mcp-bridge $2" in its
# usage lines (config show, config validate, ...).
_mcp_bridge_subcommands()
{
	"$1" "$2" --help 2>/dev/null |
	    awk -v c="$2" '{ for (i = 1; i < NF; i++)
	        if ($i == "mcp-bridge" && $(i + 1) == c &&
	            $(i + 2) ~ /^[a-z][a-z-]*$/) print $(i + 2) }' | sort -u
}

# IDE clients `mcp-bridge ide` knows: the unindented first words of
# `mcp-bridge ide list`.
_mcp_bridge_clients()
{
	"$1" ide list 2>/dev/null | awk '/^[a-z]/ { print $1 }'
}

# Flags of $2 (and subcommand $3): every --word its --help lists, and
# --help.
_mcp_bridge_flags()
{
	{ "$1" $2 $3 --help 2>/dev/null; echo --help; } |
	    grep -o -e '--[a-z][a-z0-9-]*' | sort -u
}

_mcp_bridge()
{
	local cur prev cmd sub arg i w words
	cur=${COMP_WORDS[COMP_CWORD]}
	prev=${COMP_WORDS[COMP_CWORD - 1]}
	COMPREPLY=()

	case $prev in
	--config | --header-file | --cacert | --log-file | --policy)
		compopt -o filenames 2>/dev/null
		COMPREPLY=($(compgen -f -- "$cur"))
		return
		;;
	--project | --catalog)
		compopt -o filenames 2>/dev/null
		COMPREPLY=($(compgen -d -- "$cur"))
		return
		;;
	--log-level)
		COMPREPLY=($(compgen -W "error warn info debug" -- "$cur"))
		return
		;;
	--url | --server | --header | --name | --connect-timeout | \
	    --request-timeout | --max-request-time | --refresh | --timeout)
		return
		;;
	esac

	# The command and its subcommand: the first two words that are not
	# flags (flag values are skipped by the case above, not here: a
	# value never looks like a known command).
	cmd="" sub="" arg=""
	for ((i = 1; i < COMP_CWORD; i++)); do
		w=${COMP_WORDS[i]}
		case $w in
		--config | --header-file | --cacert | --log-file | --project | \
		    --log-level | --url | --server | --header | --name | \
		    --connect-timeout | --request-timeout | --max-request-time | \
		    --refresh | --timeout)
			((i++))
			continue
			;;
		-*) continue ;;
		esac
		if [[ -z $cmd ]]; then
			cmd=$w
		elif [[ -z $sub ]]; then
			sub=$w
		elif [[ -z $arg ]]; then
			arg=$w
		fi
	done

	if [[ -z $cmd ]]; then
		if [[ $cur == -* ]]; then
			words="--help --version"
		else
			words=$(_mcp_bridge_commands "${COMP_WORDS[0]}")
		fi
		COMPREPLY=($(compgen -W "$words" -- "$cur"))
		return
	fi

	words=$(_mcp_bridge_subcommands "${COMP_WORDS[0]}" "$cmd")
	if [[ -n $words && -z $sub && $cur != -* ]]; then
		COMPREPLY=($(compgen -W "$words" -- "$cur"))
		return
	fi
	if [[ $cur == -* ]]; then
		[[ -n $words ]] || sub=""
		words=$(_mcp_bridge_flags "${COMP_WORDS[0]}" "$cmd" "$sub")
		COMPREPLY=($(compgen -W "$words" -- "$cur"))
		return
	fi
	case $cmd.$sub in
	config.validate)
		compopt -o filenames 2>/dev/null
		COMPREPLY=($(compgen -f -- "$cur"))
		;;
	ide.add | ide.remove | ide.print)
		[[ -n $arg ]] && return
		words=$(_mcp_bridge_clients "${COMP_WORDS[0]}")
		COMPREPLY=($(compgen -W "$words" -- "$cur"))
		;;
	esac
}
complete -F _mcp_bridge mcp-bridge

# mcp-registryd: its flags, files and directories.
_mcp_registryd()
{
	local cur=${COMP_WORDS[COMP_CWORD]} prev=${COMP_WORDS[COMP_CWORD - 1]}
	COMPREPLY=()
	case $prev in
	--policy | --log-file | --cacert)
		compopt -o filenames 2>/dev/null
		COMPREPLY=($(compgen -f -- "$cur"))
		;;
	--catalog)
		compopt -o filenames 2>/dev/null
		COMPREPLY=($(compgen -d -- "$cur"))
		;;
	--issuer | --audience | --listen | --public-url | --groups-claim | \
	    --leeway | --threads | --max-age) ;;
	*)
		COMPREPLY=($(compgen -W "$(_mcp_bridge_flags \
		    "${COMP_WORDS[0]}")" -- "$cur"))
		;;
	esac
}
complete -F _mcp_registryd mcp-registryd
