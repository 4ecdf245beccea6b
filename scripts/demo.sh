#!/usr/bin/env bash
# Builds syscage and shows what it does on a busybox root file system: a contained
# shell, the filter at work, and what a profile decides. Works as root or as a normal
# user (through a user namespace); what needs root is said and skipped for a normal user.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/rust.sh
syscage_need_rust
. scripts/deps.sh
syscage_deps
bash scripts/build-release.sh --quiet
BIN=$PWD/target/release/syscage
ROOT=target/demo-rootfs
if [ ! -x "$ROOT/bin/busybox" ]; then
    rm -rf "$ROOT"
    mkdir -p "$ROOT/bin" "$ROOT/etc" "$ROOT/tmp" "$ROOT/root"
    cp /bin/busybox "$ROOT/bin/busybox"
    for a in $(/bin/busybox --list); do [ "$a" = busybox ] || ln -s busybox "$ROOT/bin/$a"; done
    echo 'root:x:0:0:root:/root:/bin/sh' > "$ROOT/etc/passwd"
    chmod 1777 "$ROOT/tmp"
fi
syscage() { "$BIN" "$@"; }

# Prints a command exactly as written, then runs it; a failing command does not end the
# demo (it shows a refusal), its status is printed.
show() {
    printf '\n\033[1m$ %s\033[0m\n' "$1"
    local status=0
    eval "$1" || status=$?
    [ "$status" -eq 0 ] || echo "(exit status $status${2:+: $2})"
}

show 'syscage run --rootfs "$ROOT" -- sh -c '\''echo "hostname: $(hostname)"; id; ps; ip -o addr | cut -d" " -f2,7'\'''
show 'syscage run --rootfs "$ROOT" -- grep -E "Cap(Eff|Bnd)|NoNewPrivs|Seccomp" /proc/self/status'
show 'syscage run --rootfs "$ROOT" -- sh -c '\''unshare -U true; touch /tmp/f; chmod u+s /tmp/f; mknod /tmp/sda b 8 0'\''' \
    "the filter refused them"
show 'syscage profile check default ioctl 0 0x5412'
show 'syscage profile check default socket 0x100000028'
if [ "$(id -u)" -eq 0 ]; then
    show 'syscage run --rootfs "$ROOT" --memory 32m -- dd if=/dev/zero of=/dev/null bs=64M count=1' \
        "137 is 128+9: killed by the memory limit"
else
    printf '\n--memory, --pids-limit, --cpus: skipped: cgroup limits need root (or a cgroup tree delegated to this user), and this demo runs as %s\n' "$(id -un)"
fi
echo
echo "Try it yourself: $BIN run --rootfs $ROOT -- sh"
