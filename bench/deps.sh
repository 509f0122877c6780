#!/bin/sh
# bench/deps.sh — install what the benchmarks compare against (Debian/Ubuntu):
# glib 2.x, libev and libuv development packages.  Idempotent: asks apt only
# for the packages that are missing, and does nothing when none are.
#
# Usage: bench/deps.sh        (as root, or with sudo available)
set -eu

packages="libglib2.0-dev libev-dev libuv1-dev"
missing=""
for p in $packages; do
    if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
        missing="$missing $p"
    fi
done
[ -z "$missing" ] && exit 0

echo "bench/deps.sh: installing$missing" >&2
if [ "$(id -u)" -eq 0 ]; then
    sudo=""
elif command -v sudo >/dev/null 2>&1; then
    sudo="sudo"
else
    echo "bench/deps.sh: need root to install$missing" >&2
    exit 1
fi
$sudo apt-get update -qq
# shellcheck disable=SC2086  # word splitting of the package list is wanted
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends $missing
