#!/usr/bin/env bash
# bench/kvm/run.sh — the real-KVM benchmark: doorbell round trips of the
# test guest, and (where the host has vmx/svm) Linux boot-to-marker beside
# Debian's qemu-system-x86_64 -M microvm on the same kernel and initramfs.
# Installs what it needs from Debian (qemu-system-x86 only where Linux can
# boot), builds, runs.  Usage: bench/kvm/run.sh [VMS]   (default 5)
set -euo pipefail
cd "$(dirname "$0")/../.."
scripts/deps.sh core
if grep -qE '\b(vmx|svm)\b' /proc/cpuinfo; then
  scripts/kvm-fetch-linux.sh
  if ! command -v qemu-system-x86_64 >/dev/null && [[ $(id -u) == 0 ]]; then
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq qemu-system-x86 >/dev/null
  fi
else
  echo "bench/kvm: no vmx/svm on this host: the Linux boot comparison will be skipped" >&2
fi
cmake -S . -B build/bench -DCMAKE_BUILD_TYPE=Release -DQLOOP_BUILD_BENCH=ON >/dev/null
cmake --build build/bench -j"$(nproc)" --target bench-kvm >/dev/null
exec build/bench/bench/kvm/bench-kvm "${1:-5}"
