#!/usr/bin/env bash
# Sourced by demo.sh and test.sh: checks that cargo is there and new enough to build
# syscage, and says in one line what to do when it is not.
SYSCAGE_RUST_MIN=1.87

syscage_need_rust() {
    if ! command -v cargo >/dev/null 2>&1; then
        if [ "$(id -u)" -eq 0 ] && [ -n "${SUDO_USER:-}" ]; then
            echo "syscage needs Rust $SYSCAGE_RUST_MIN or newer, and cargo is not on root's PATH: run as \`sudo -E env \"PATH=\$PATH\" $0\` to use yours" >&2
        else
            echo "syscage needs Rust $SYSCAGE_RUST_MIN or newer and cargo is not on PATH: install it with rustup (https://rustup.rs, then \`rustup default stable\`; Debian's own rustc is too old), then open a new shell" >&2
        fi
        exit 1
    fi
    local v
    v=$(rustc --version 2>/dev/null | awk '{print $2}')
    if [ -z "$v" ] || [ "$(printf '%s\n%s\n' "$SYSCAGE_RUST_MIN" "${v%%-*}" | sort -V | head -n 1)" != "$SYSCAGE_RUST_MIN" ]; then
        echo "syscage needs Rust $SYSCAGE_RUST_MIN or newer, found ${v:-none}: update it with \`rustup update stable\` (or install rustup from https://rustup.rs; Debian's own rustc is too old)" >&2
        exit 1
    fi
}
