#!/usr/bin/env bash
# Real servers and tool chains on a Debian root file system, each run under
# `--seccomp unconfined` and `--seccomp default` with `--report=FILE`. Prints a table and
# fails when a workload breaks, or when `default` denies a call that is not on
# tests/workloads/deliberate-denials.
#
#   sudo scripts/workloads.sh [WORKLOAD...]     (default: every tests/workloads/*.sh)
#
# The root file system (debootstrap minbase + tests/workloads/packages, from Debian's
# mirror) is built once and kept in $SYSCAGE_WORKLOADS_CACHE (/var/cache/syscage-workloads),
# keyed by the package list and the build recipe. Containers get it read-only (with tmpfs
# on /tmp, /run and what a workload declares), so runs cannot change it and share it.
# Outputs and --report files go to target/workloads/. $SYSCAGE names the syscage binary to
# test (default: a release build of this tree).
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
syscage_deps debootstrap python3

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
    bash scripts/build-release.sh --quiet
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
root=$cache/rootfs-$suite-$key
results=$repo/target/workloads
mkdir -p "$cache"
build=""
builder=""
cleanup() {
    # The build runs in a pid namespace whose init is killed with unshare (--kill-child):
    # killing unshare ends every process of the build, debootstrap's and dpkg's included
    # (they ignore SIGINT).
    [ -z "$builder" ] || { kill -KILL "$builder" 2>/dev/null || true; wait "$builder" 2>/dev/null || true; }
    [ -z "$build" ] || remove_tree "$build"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# One build at a time (the lock is inherited by the build's processes, so it is held until
# the last of them ends, even if this script is killed); a second run waits, then finds
# the root. A build directory found while holding the lock was left by a killed run.
exec 9>"$cache/lock"
flock 9
for d in "$cache"/build.*; do remove_tree "$d"; done
if [ -d "$root" ]; then
    say "root file system from the cache: $root"
else
    say "building the root file system ($suite, $(grep -vc '^#' "$wl/packages") packages) from $mirror"
    t=$EPOCHREALTIME
    build=$(mktemp -d "$cache/build.XXXXXX")
    unshare --mount --propagation private --pid --fork --kill-child --mount-proc \
        "$wl/build-rootfs.sh" "$build/root" "$mirror" "$suite" "$wl/packages" &
    builder=$!
    status=0
    wait "$builder" || status=$?
    builder=""
    [ "$status" -eq 0 ] || die "building the root file system failed (exit $status)"
    mv "$build/root" "$root"
    remove_tree "$build"
    build=""
    say "built in $(elapsed "$t")s: $root ($(du -sh "$root" | cut -f1))"
fi
# Runs hold a shared lock on the root they use; roots of other keys that no run holds go.
exec 8>"$root.lock"
flock -s 8
for d in "$cache"/rootfs-*/; do
    d=${d%/}
    [ "$d" = "$root" ] && continue
    if flock -n -x "$d.lock" true; then remove_tree "$d" && rm -f "$d.lock"; fi
done
flock -u 9

rm -rf "$results"
mkdir -p "$results"
for w in "${workloads[@]}"; do
    # A workload names the writable places it needs on a line `# syscage: OPTIONS`.
    read -r -a extra <<<"$(sed -n 's/^# syscage: //p' "$wl/$w.sh")"
    for p in unconfined default; do
        t=$EPOCHREALTIME
        set +e
        timeout --kill-after=10 "$timeout_secs" "$SYSCAGE" run --rootfs "$root" --read-only \
            -v "$wl:/workloads:ro" "${extra[@]}" --seccomp "$p" --report="$results/$w.$p.json" \
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
say "outputs and reports in $results; total $(elapsed "$start")s"
exit $rc
