#!/bin/sh
# Runs a command against a real Secret Service: a private D-Bus session
# (dbus-run-session) with gnome-keyring-daemon unlocked by a test password,
# its keyring in a temporary HOME, so the user's keyring is never touched.
# The command gets DBUS_SESSION_BUS_ADDRESS and SIGNIN_STORE=keyring.
# usage: with-keyring.sh CMD [ARG...]   Exit: CMD's, or 77 if tools missing.
set -u
for tool in dbus-run-session gnome-keyring-daemon; do
	command -v "$tool" >/dev/null 2>&1 || { echo "skip: no $tool"; exit 77; }
done
tmp=$(mktemp -d) || exit 1
trap 'rm -rf "$tmp"' EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
mkdir -p "$tmp/home" "$tmp/run"
chmod 700 "$tmp/run"
export HOME="$tmp/home" XDG_DATA_HOME="$tmp/home/data" \
    XDG_RUNTIME_DIR="$tmp/run" SIGNIN_STORE=keyring
unset DISPLAY WAYLAND_DISPLAY GNOME_KEYRING_CONTROL
# The daemon outlives its parent; its stderr goes to a file, so that it
# never holds the caller's stdout/stderr pipe open. Not exec: the trap
# cleans $tmp.
dbus-run-session -- sh -c '
eval "$(printf %s test-password |
    gnome-keyring-daemon --unlock --components=secrets \
    2>"$HOME/gnome-keyring.log")" >/dev/null
export GNOME_KEYRING_CONTROL
exec "$@"
' with-keyring "$@"
