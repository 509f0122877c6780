#!/usr/bin/env bash
# scripts/deps.sh — install the Debian packages qloop needs (idempotent).
#
# Usage: scripts/deps.sh [core|all]
#   core: compiler, cmake, glib, patch (enough to build and test the loop
#         core; patch applies variants/*.patch at build time), json-glib
#         (the VMM monitor's JSON parser)
#   all:  core + clang/libFuzzer runtime + libev/libuv (benchmarks, sanitizers)
#         + spin (the Promela models in models/, ctest label "model")
#         + afl++ (the AFL++ builds of the fuzz targets: oss-fuzz-build, and
#         the afl column of qloop mutants)
set -euo pipefail

level=${1:-all}
pkgs=(build-essential cmake pkg-config libglib2.0-dev libjson-glib-dev patch)
if [[ $level == all ]]; then
  pkgs+=(clang libclang-rt-14-dev llvm libev-dev libuv1-dev spin afl++)
fi

missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' \
    || missing+=("$p")
done
if ((${#missing[@]} == 0)); then
  exit 0
fi
echo "deps: installing ${missing[*]}"
if [[ $(id -u) != 0 ]]; then
  echo "deps: need root to apt-get install: ${missing[*]}" >&2
  exit 2
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
