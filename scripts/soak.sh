#!/usr/bin/env bash
# Random runs of syscage for a while, judged by the README's rules, with a leak check
# around them (see scripts/soak.py for what is checked).
#
#   scripts/soak.sh [--minutes N] [--seed S] [--parallel P]
#
# Needs root. Prints a summary table; exits 1 on any deviation or leftover. The seed it
# prints replays the same choices of runs (not the same timing).
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/rust.sh
syscage_need_rust
. scripts/deps.sh
syscage_deps
if [ "$(id -u)" -ne 0 ]; then
    echo "soak: needs root (run: sudo -E env \"PATH=\$PATH\" $0 $*)" >&2
    exit 1
fi
# Fault injection makes set-up steps fail on demand (SYSCAGE_FAULT), as the tests do.
cargo build --quiet --features fault-injection
exec python3 scripts/soak.py --binary target/debug/syscage "$@"
