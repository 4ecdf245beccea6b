#!/usr/bin/env bash
# Real servers and tool chains on a Debian root file system, each run under
# `--seccomp unconfined` and `--seccomp default` with `--report=FILE`. Prints a table and
# fails when a workload breaks, or when `default` denies a call that is not on
# tests/workloads/deliberate-denials.
#
#   sudo scripts/workloads.sh [WORKLOAD...]     (default: every tests/workloads/*.sh)
#
# The root file system (debootstrap minbase + tests/workloads/packages, from Debian's
# mirror) is built once and kept as a tarball in $SYSCAGE_WORKLOADS_CACHE
# (/var/cache/syscage-workloads), keyed by the package list and the build recipe; each run
# unpacks it into a fresh directory and removes that at the end. $SYSCAGE names the
# syscage binary to test (default: a release build of this tree).
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$PWD
wl=$repo/tests/workloads
mirror=${SYSCAGE_WORKLOADS_MIRROR:-http://deb.debian.org/debian}
suite=bookworm
cache=${SYSCAGE_WORKLOADS_CACHE:-/var/cache/syscage-workloads}
timeout_secs=180

say() { printf 'workloads: %s\n' "$*" >&2; }
die() {
    say "$*"
    exit 1
}
[ "$(id -u)" -eq 0 ] || die "needs root (debootstrap, and containers without a user namespace): sudo -E env \"PATH=\$PATH\" $0"

. scripts/deps.sh
syscage_deps debootstrap zstd python3

if [ $# -gt 0 ]; then
    workloads=("$@")
else
    workloads=()
    for f in "$wl"/*.sh; do
        case $(basename "$f") in lib.sh | build-rootfs.sh) ;; *) workloads+=("$(basename "$f" .sh)") ;; esac
    done
fi
for w in "${workloads[@]}"; do
    [ -f "$wl/$w.sh" ] || die "no workload \`$w\` (tests/workloads/$w.sh)"
done

if [ -z "${SYSCAGE:-}" ]; then
    cargo build --release --quiet
    SYSCAGE=$repo/target/release/syscage
fi
[ -x "$SYSCAGE" ] || die "\`$SYSCAGE\` is not an executable (\$SYSCAGE)"

start=$EPOCHREALTIME
elapsed() { awk -v a="$1" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.1f", b - a }'; }

# Refuses to remove a directory that still has a mount below it (rm would go into it).
remove_tree() {
    local d=$1
    [ -e "$d" ] || return 0
    if awk -v d="$(realpath "$d")" '$5 == d || index($5, d "/") == 1 { found = 1 } END { exit !found }' /proc/self/mountinfo; then
        die "\`$d\` still has mounts below it; not removing it"
    fi
    rm -rf --one-file-system "$d"
}

key=$( (cat "$wl/packages" "$wl/build-rootfs.sh"; echo "$mirror $suite $(dpkg --print-architecture)") | sha256sum | cut -c1-16)
tarball=$cache/rootfs-$suite-$key.tar.zst
mkdir -p "$cache"
build=""
scratch=""
cleanup() {
    [ -z "$build" ] || remove_tree "$build"
    [ -z "$scratch" ] || remove_tree "$scratch"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# One build at a time; a second run waits and then finds the tarball.
exec 9>"$cache/lock"
flock 9
if [ -f "$tarball" ]; then
    say "root file system from the cache: $tarball"
else
    say "building the root file system ($suite, $(grep -vc '^#' "$wl/packages") packages) from $mirror"
    t=$EPOCHREALTIME
    build=$(mktemp -d "$cache/build.XXXXXX")
    unshare --mount --propagation private "$wl/build-rootfs.sh" "$build/root" "$mirror" "$suite" "$wl/packages"
    tar -C "$build/root" --numeric-owner -cf - . | zstd -q -T0 -o "$build/rootfs.tar.zst"
    mv "$build/rootfs.tar.zst" "$tarball"
    remove_tree "$build"
    build=""
    # Older keys are of no use any more.
    find "$cache" -maxdepth 1 -name "rootfs-*.tar.zst" ! -name "$(basename "$tarball")" -delete
    say "built in $(elapsed "$t")s: $tarball ($(du -h "$tarball" | cut -f1))"
fi
flock -u 9

t=$EPOCHREALTIME
scratch=$(mktemp -d /var/tmp/syscage-workloads.XXXXXX)
mkdir "$scratch/root" "$scratch/results"
zstd -q -d -c "$tarball" | tar -C "$scratch/root" --numeric-owner -xf -
say "unpacked in $(elapsed "$t")s"

results=$scratch/results
for w in "${workloads[@]}"; do
    for p in unconfined default; do
        t=$EPOCHREALTIME
        set +e
        timeout --kill-after=10 "$timeout_secs" "$SYSCAGE" run --rootfs "$scratch/root" --tmpfs /tmp \
            -v "$wl:/workloads:ro" --seccomp "$p" --report="$results/$w.$p.json" \
            -- /bin/sh "/workloads/$w.sh" >"$results/$w.$p.out" 2>"$results/$w.$p.err"
        echo $? >"$results/$w.$p.rc"
        set -e
        elapsed "$t" >"$results/$w.$p.secs"
        say "$w under $p: exit $(cat "$results/$w.$p.rc") in $(cat "$results/$w.$p.secs")s: $(tail -n 1 "$results/$w.$p.out")"
    done
done

set +e
python3 "$wl/summarize.py" "$results" "$wl/deliberate-denials" "${workloads[@]}"
rc=$?
set -e
if [ -n "${SYSCAGE_WORKLOADS_KEEP:-}" ]; then
    mkdir -p "$SYSCAGE_WORKLOADS_KEEP"
    cp -r "$results/." "$SYSCAGE_WORKLOADS_KEEP/"
    say "outputs and reports kept in $SYSCAGE_WORKLOADS_KEEP"
fi
say "total $(elapsed "$start")s"
exit $rc
