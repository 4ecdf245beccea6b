#!/usr/bin/env bash
# Runs every test: unit tests, the policy/compiler differential tests, the short fuzz
# run, and the end-to-end tests with real containers. Those need root: they are marked
# ignored ("needs root") and the test runner counts them so; as root this script includes
# them. Arguments go to `cargo test` (after a `--`, to the test programs).
#
# `--musl` first: the same tests on the musl build, the one scripts/build-release.sh makes
# (what the demo, the bench and the workloads run); fails when it cannot be built.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/rust.sh
syscage_need_rust
. scripts/deps.sh
syscage_deps crun runc podman conmon containerd bsdutils bubblewrap
target=()
if [ "${1:-}" = --musl ]; then
    shift
    . scripts/musl.sh
    syscage_musl_env || { echo "scripts/test.sh --musl: cannot build for $SYSCAGE_MUSL" >&2; exit 1; }
    target=(--target "$SYSCAGE_MUSL")
fi
args=("$@")
if [ "$(id -u)" -eq 0 ]; then
    # The tests' own scratch files go to the system's temporary directory as root (see
    # tests/support); what cargo builds is handed back to the user who ran sudo, so
    # that `cargo clean` keeps working for them.
    if [ -n "${SUDO_UID:-}" ] && [ "$SUDO_UID" != 0 ]; then
        trap 'chown -R "$SUDO_UID:${SUDO_GID:-$SUDO_UID}" target 2>/dev/null || true' EXIT
    fi
    sep=-1
    for i in "${!args[@]}"; do [ "${args[$i]}" = "--" ] && { sep=$i; break; }; done
    if [ "$sep" -ge 0 ]; then
        args=("${args[@]:0:$((sep + 1))}" --include-ignored "${args[@]:$((sep + 1))}")
    else
        args+=(-- --include-ignored)
    fi
else
    echo "note: not root: the end-to-end tests are counted as ignored (needs root); to run them too: sudo -E env \"PATH=\$PATH\" $0" >&2
fi
cargo test "${target[@]}" --workspace --features fault-injection "${args[@]}"
