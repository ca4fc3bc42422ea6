#!/bin/sh
# Runs tokstore-check against a real Secret Service: a private D-Bus
# session (dbus-run-session) with gnome-keyring-daemon unlocked by a test
# password, in a temporary HOME, so the user's keyring is never touched.
# Checks put/get/replace/del on the keyring and session stores, and that a
# keyring that does not answer (daemon stopped with SIGSTOP) or no D-Bus
# at all, or no unlocked keyring, makes tokstore_open() fail within its
# timeout instead of hanging.
# usage: keyring.sh TOKSTORE_CHECK
# Exit: 0 all passed, 1 a failure, 77 skipped (missing tools).
set -u
if [ $# -ne 1 ]; then
	echo "usage: keyring.sh TOKSTORE_CHECK" >&2
	exit 2
fi
for tool in dbus-run-session gnome-keyring-daemon; do
	if ! command -v "$tool" >/dev/null 2>&1; then
		echo "skip: $tool not installed"
		exit 77
	fi
done

tmp=$(mktemp -d) || exit 1
trap 'rm -rf "$tmp"' EXIT INT TERM
mkdir -p "$tmp/home" "$tmp/data" "$tmp/config" "$tmp/state" "$tmp/cache" \
    "$tmp/run"
chmod 700 "$tmp/run"
export HOME="$tmp/home" XDG_DATA_HOME="$tmp/data" \
    XDG_CONFIG_HOME="$tmp/config" XDG_STATE_HOME="$tmp/state" \
    XDG_CACHE_HOME="$tmp/cache" XDG_RUNTIME_DIR="$tmp/run"
export TOKSTORE_CHECK="$1"
unset DISPLAY WAYLAND_DISPLAY GNOME_KEYRING_CONTROL

dbus-run-session -- sh -c '
pass=0 fail=0
run() {
	echo "== $*"
	if "$@"; then pass=$((pass + 1)); else fail=$((fail + 1)); fi
}
# A fixed password creates and unlocks a fresh login keyring (an empty
# one makes gnome-keyring ask for a prompt, which fails headless).
eval "$(printf %s test-password | gnome-keyring-daemon --unlock --components=secrets)"
export GNOME_KEYRING_CONTROL

run "$TOKSTORE_CHECK" roundtrip keyring
run "$TOKSTORE_CHECK" roundtrip session

# No D-Bus session at all: fails at once with a reason.
run env -u DBUS_SESSION_BUS_ADDRESS "$TOKSTORE_CHECK" timeout 1500

# A keyring that never answers: stop the daemon that owns the name.
pid=$(dbus-send --session --print-reply --dest=org.freedesktop.DBus \
    /org/freedesktop/DBus org.freedesktop.DBus.GetConnectionUnixProcessID \
    string:org.freedesktop.secrets 2>/dev/null | awk "/uint32/ { print \$2 }")
if [ -n "$pid" ] && kill -STOP "$pid"; then
	run "$TOKSTORE_CHECK" timeout 1500
	kill -CONT "$pid"
else
	echo "FAIL cannot find the keyring daemon pid"
	fail=$((fail + 1))
fi
kill "$pid" 2>/dev/null
echo "$pass passed, $fail failed" >"$XDG_RUNTIME_DIR/counts"
[ "$fail" -eq 0 ]
'
rc=$?
read -r pass _ fail _ <"$tmp/run/counts" || { pass=0 fail=1; }

# A bus whose keyring daemon has no unlocked login keyring (it gets
# D-Bus-activated and cannot prompt): open fails with a reason.
echo "== no unlocked keyring"
mkdir -p "$tmp/home2"
if HOME="$tmp/home2" XDG_DATA_HOME="$tmp/home2/data" \
    dbus-run-session -- "$TOKSTORE_CHECK" timeout 5000; then
	pass=$((pass + 1))
else
	fail=$((fail + 1)) rc=1
fi
echo "$pass passed, $fail failed"
exit "$rc"
