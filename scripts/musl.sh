#!/usr/bin/env bash
# Sourced by build-release.sh and test.sh: `syscage_musl_env` makes cargo able to build
# syscage for Rust's x86_64-unknown-linux-musl target (the release binary; see
# build-release.sh for why), and returns 1, saying why, when it cannot.
#
# What it takes: Rust's musl target (added with rustup when missing and rustup can), and
# Debian's libseccomp.a. That archive was built for glibc; it needs one symbol musl lacks,
# supplied by scripts/musl-compat.c, and is copied to a directory of its own: a -L to
# /usr/lib/x86_64-linux-gnu would also pull in glibc's libc.a. lld, the linker rustc
# ships, links (scripts/link-ordered.sh needs it).
SYSCAGE_MUSL=x86_64-unknown-linux-musl

# Debian's libseccomp.a, or nothing (without libseccomp-dev, gcc answers with the bare name).
syscage_static_libseccomp() {
    local lib
    lib=$(gcc -print-file-name=libseccomp.a 2>/dev/null || true)
    [ -f "$lib" ] && [ "$lib" != libseccomp.a ] && readlink -f "$lib"
}

syscage_musl_env() {
    local lib sysroot host dir
    [ "$(uname -m)" = x86_64 ] || { echo "note: not x86_64: no musl build" >&2; return 1; }
    lib=$(syscage_static_libseccomp) || {
        echo "note: no static libseccomp (libseccomp-dev): no musl build" >&2
        return 1
    }
    sysroot=$(rustc --print sysroot)
    if [ ! -d "$sysroot/lib/rustlib/$SYSCAGE_MUSL/lib" ] && command -v rustup >/dev/null; then
        # Not as root on a sudo user's behalf: the toolchain is theirs, and files root
        # wrote into it would break their next `rustup update`.
        if [ "$(id -u)" -eq 0 ] && [ -n "${SUDO_UID:-}" ] && [ "$SUDO_UID" != 0 ]; then
            echo "note: no Rust $SYSCAGE_MUSL target; as yourself, run \`rustup target add $SYSCAGE_MUSL\` for the faster build" >&2
            return 1
        else
            echo "note: adding Rust's $SYSCAGE_MUSL target (rustup target add $SYSCAGE_MUSL)" >&2
            rustup target add "$SYSCAGE_MUSL" >/dev/null 2>&1 || true
        fi
    fi
    if [ ! -d "$sysroot/lib/rustlib/$SYSCAGE_MUSL/lib" ]; then
        echo "note: no Rust $SYSCAGE_MUSL target (\`rustup target add $SYSCAGE_MUSL\` adds it)" >&2
        return 1
    fi
    host=$(rustc -vV | sed -n 's/^host: //p')
    dir=$PWD/target/musl-link
    mkdir -p "$dir"
    cp "$lib" "$dir/libseccomp.a"
    gcc -O2 -fPIE -ffreestanding -fno-stack-protector -c scripts/musl-compat.c -o "$dir/musl-compat.o"
    export LIBSECCOMP_LINK_TYPE=static LIBSECCOMP_LIB_PATH=$dir
    # A RUSTFLAGS of the caller's would take the place of these flags (cargo uses the
    # first of CARGO_ENCODED_RUSTFLAGS, RUSTFLAGS and the target's), and the link would
    # fail on __fprintf_chk: the caller's flags are added to these instead. With --target,
    # as here, RUSTFLAGS never reached the build scripts, so nothing else changes.
    if [ -n "${CARGO_ENCODED_RUSTFLAGS:-}" ]; then
        echo "note: CARGO_ENCODED_RUSTFLAGS is set and would replace the musl build's flags: no musl build" >&2
        return 1
    fi
    # sha2's portable code: its SHA-NI code asks the CPU first (CPUID, each a trap to the
    # hypervisor on a VM: ~49 µs per start here), for a key of a few hundred bytes when
    # the profile is built in; a 13 KiB profile file hashes in about the same time.
    export CARGO_TARGET_X86_64_UNKNOWN_LINUX_MUSL_RUSTFLAGS="-C link-arg=-fuse-ld=lld -C link-arg=-B$sysroot/lib/rustlib/$host/bin/gcc-ld -C link-arg=$dir/musl-compat.o --cfg sha2_backend=\"soft\" ${RUSTFLAGS:-}"
    unset RUSTFLAGS
}
