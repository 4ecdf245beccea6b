#!/usr/bin/env bash
# Runs every test: unit tests, the policy/compiler differential tests, the short fuzz
# run, and the end-to-end tests with real containers (these need root; without it each
# says SKIPPED).
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/rust.sh
syscage_need_rust
. scripts/deps.sh
syscage_deps crun runc podman conmon containerd bsdutils bubblewrap
if [ "$(id -u)" -ne 0 ]; then
    echo "note: not root: the end-to-end tests will be skipped; run as root (sudo -E env \"PATH=\$PATH\" $0) to include them" >&2
fi
cargo test --workspace --features fault-injection "$@"
