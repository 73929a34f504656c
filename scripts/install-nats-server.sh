#!/usr/bin/env bash
# Fetches nats-server 2.10 (Debian trixie's package: the first release with `sync_interval: always`)
# into .cache/nats-server-2.10/, which git ignores, without installing it system-wide: the NATS
# test cluster and `bench … --nats-cluster` prefer it to the system's nats-server. apt checks
# the archive's signature with the machine's Debian keyring. Nothing to do when already there.
set -euo pipefail
cd "$(dirname "$0")/.."

dest="$(pwd)/.cache/nats-server-2.10"
bin="$dest/nats-server"
if [ -x "$bin" ] && "$bin" --version 2>/dev/null | grep -q 'v2\.1[0-9]\.'; then
  exit 0
fi

work="$dest/apt"
rm -rf "$work"
mkdir -p "$work/lists/partial" "$work/cache" "$work/deb"
printf 'deb http://deb.debian.org/debian trixie main\n' >"$work/sources.list"
touch "$work/status"
apt_opts=(
  -o "Dir::Etc::sourcelist=$work/sources.list" -o Dir::Etc::sourceparts=-
  -o "Dir::State::Lists=$work/lists" -o "Dir::State::status=$work/status"
  -o "Dir::Cache=$work/cache" -o APT::Sandbox::User="$(id -un)"
)
apt-get "${apt_opts[@]}" -qq update
(cd "$work/deb" && apt-get "${apt_opts[@]}" -qq download nats-server)
dpkg-deb -x "$work"/deb/nats-server_*.deb "$work/x"
"$work/x/usr/sbin/nats-server" --version
mv "$work/x/usr/sbin/nats-server" "$bin"
rm -rf "$work"
