#!/usr/bin/env bash
# syscage's benchmarks against its peers, on one busybox root file system, in one run.
# Prints the tables and writes them, with a chart, to bench/results/.
#   bench/run.sh           the full suite (a few minutes)
#   bench/run.sh --quick   fewer runs (under a minute)
set -euo pipefail
cd "$(dirname "$0")/.."
QUICK=0
[ "${1:-}" = "--quick" ] && QUICK=1
[ "$(id -u)" -eq 0 ] || { echo "bench/run.sh needs root (crun, runc and cgroups)"; exit 1; }
. scripts/deps.sh
syscage_deps crun runc bubblewrap firejail hyperfine time strace gnuplot-nox python3 podman conmon
bash scripts/build-release.sh --quiet
cargo build --release --quiet -p syscage-seccomp --example compile_time

W=target/bench
rm -rf "$W"
mkdir -p "$W"
ROOT=$PWD/$W/rootfs
mkdir -p "$ROOT"/{bin,etc,tmp,proc,dev,sys,root}
cp /bin/busybox "$ROOT/bin/busybox"
for a in $(/bin/busybox --list); do [ "$a" = busybox ] || ln -s busybox "$ROOT/bin/$a"; done
echo 'root:x:0:0:root:/root:/bin/sh' > "$ROOT/etc/passwd"
chmod 1777 "$ROOT/tmp"
gcc -static -O2 -pthread -o "$ROOT/probe" tests/probes/probe.c

# Docker's default profile as Docker hands it to runc: resolved for Docker's default
# capabilities (includes/excludes applied), in the OCI format.
target/release/syscage profile show profiles/docker-default.json --oci --as-written > "$W/docker-oci.json"

# OCI bundles for crun and runc: Docker's capability set, Docker's namespaces, the shared
# root read-only; with and without Docker's profile.
for variant in plain docker; do
    d="$W/bundle-$variant"
    mkdir -p "$d"
    python3 bench/bundle.py "$ROOT" "$W/docker-oci.json" "$variant" > "$d/config.json"
done

# crun 1.8 refuses a hybrid cgroup layout; the peers (and syscage, for fairness) run in a
# private mount namespace where /sys/fs/cgroup/unified is an empty tmpfs, so they all see
# plain cgroup v1. The host's mounts are untouched.
unshare -m bash -c '
    set -e
    mount --make-rprivate /
    mount -t tmpfs none /sys/fs/cgroup/unified
    python3 bench/measure.py "$@"
' bench "$PWD" "$ROOT" "$W" "$QUICK"

# The README shows the latest full run (not --quick ones).
if [ "$QUICK" = 0 ]; then
    python3 - <<'PY'
import re
readme = open("README.md").read()
latest = open("bench/results/latest.md").read().strip()
block = f"<!-- bench:start -->\n{latest}\n<!-- bench:end -->"
new = re.sub(r"<!-- bench:start -->.*?<!-- bench:end -->", lambda _: block, readme, flags=re.S)
open("README.md", "w").write(new)
PY
    echo "README.md: benchmark section updated"
fi
