#!/usr/bin/env bash
# Builds syscage and shows what it does on a busybox root file system: a contained
# shell, the filter at work, and what a profile decides. Works as root or as a normal
# user (through a user namespace).
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/deps.sh
syscage_deps
cargo build --release --quiet
S=target/release/syscage
ROOT=target/demo-rootfs
if [ ! -x "$ROOT/bin/busybox" ]; then
    rm -rf "$ROOT"
    mkdir -p "$ROOT/bin" "$ROOT/etc" "$ROOT/tmp" "$ROOT/root"
    cp /bin/busybox "$ROOT/bin/busybox"
    for a in $(/bin/busybox --list); do [ "$a" = busybox ] || ln -s busybox "$ROOT/bin/$a"; done
    echo 'root:x:0:0:root:/root:/bin/sh' > "$ROOT/etc/passwd"
    chmod 1777 "$ROOT/tmp"
fi
say() { printf '\n\033[1m$ %s\033[0m\n' "$*"; }

say syscage run --rootfs $ROOT -- sh -c 'hostname; id; ps; ip -o addr'
$S run --rootfs "$ROOT" -- sh -c 'echo "hostname: $(hostname)"; id; ps; ip -o addr | cut -d" " -f2,7'

say syscage run --rootfs $ROOT -- grep -E 'Cap(Eff|Bnd)|NoNewPrivs|Seccomp' /proc/self/status
$S run --rootfs "$ROOT" -- grep -E 'Cap(Eff|Bnd)|NoNewPrivs|Seccomp' /proc/self/status

say syscage run --rootfs $ROOT -- sh -c 'unshare -U true; touch /tmp/f; chmod u+s /tmp/f; mknod /tmp/sda b 8 0'
$S run --rootfs "$ROOT" -- sh -c 'unshare -U true; touch /tmp/f; chmod u+s /tmp/f; mknod /tmp/sda b 8 0' || true

say syscage profile check default ioctl 0 0x5412
$S profile check default ioctl 0 0x5412 || true
say syscage profile check default socket 0x100000028
$S profile check default socket 0x100000028 || true

say syscage run --rootfs $ROOT --memory 32m -- dd if=/dev/zero of=/dev/null bs=64M count=1
status=0
$S run --rootfs "$ROOT" --memory 32m -- dd if=/dev/zero of=/dev/null bs=64M count=1 || status=$?
case $status in
    137) echo "exit status 137 (killed by the memory limit)" ;;
    *) echo "exit status $status" ;;
esac
echo
echo "Try it yourself: $S run --rootfs $ROOT -- sh"
