#!/bin/sh
# scripts/kvm-fetch-linux.sh — Debian's kernel and a busybox initramfs for
# the KVM smoke run's Linux guest.  Nothing is installed into the system
# except the busybox-static and cpio packages (their binaries are copied).
#
#   scripts/kvm-fetch-linux.sh [OUTDIR]      (default: build/kvm-linux)
#
# OUTDIR/vmlinuz      the bzImage from linux-image-6.1.0-N-amd64 (newest N
#                     apt-cache knows), unpacked with dpkg-deb -x
# OUTDIR/initrd.cpio  newc archive: busybox, /init mounts devtmpfs, prints
#                     "QLOOP-LINUX-OK $(uname -r)" and reboots (reboot=t)
# OUTDIR/version      the package version used
set -eu
here=$(cd "$(dirname "$0")/.." && pwd)
out=${1:-${QLOOP_KVM_LINUX_DIR:-$here/build/kvm-linux}}
mkdir -p "$out"
out=$(cd "$out" && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

pkg=$(apt-cache search --names-only '^linux-image-6\.1\.0-[0-9]+-amd64$' |
      awk '{print $1}' | sort -t- -k4,4n | tail -1)
[ -n "$pkg" ] || { echo "kvm-fetch-linux: no linux-image-6.1.0-*-amd64 in apt" >&2; exit 1; }
echo "kvm-fetch-linux: $pkg"
(cd "$work" && apt-get download "$pkg" >/dev/null)
dpkg-deb -x "$work"/"$pkg"_*.deb "$work/kernel"
cp "$work"/kernel/boot/vmlinuz-* "$out/vmlinuz"
echo "$pkg $(dpkg-deb -f "$work"/"$pkg"_*.deb Version)" > "$out/version"

# busybox-static replaces the dynamic busybox; apt makes this a no-op twice.
dpkg -s busybox-static >/dev/null 2>&1 ||
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q busybox-static >/dev/null
command -v cpio >/dev/null 2>&1 ||
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q cpio >/dev/null

root=$work/root
mkdir -p "$root/bin" "$root/dev" "$root/proc" "$root/sys"
cp /bin/busybox "$root/bin/busybox"
for app in sh mount uname echo reboot poweroff sleep cat; do
    ln -s busybox "$root/bin/$app"
done
cat > "$root/init" <<'INIT'
#!/bin/sh
mount -t devtmpfs devtmpfs /dev
mount -t proc proc /proc
echo "QLOOP-LINUX-OK $(uname -r)"
reboot -f
INIT
chmod 755 "$root/init"
(cd "$root" && find . | sort | cpio -o -H newc --quiet) > "$out/initrd.cpio"
ls -l "$out"
