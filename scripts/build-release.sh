#!/usr/bin/env bash
# Builds target/release/syscage as one static, position-independent executable
# (static-pie), the build the benchmarks measure. Arguments go to cargo (e.g. --quiet).
#
# Why: every `syscage run` is a fresh process. Linked dynamically, each start paid for the
# dynamic loader (mapping libc, libseccomp and libgcc_s, and its symbol lookups) and for
# libgcc_s's constructor, whose CPUID instructions cost ~9 µs each on a virtual machine.
# Over 150 interleaved starts of `syscage run /bin/true` on the bench machine: 7.27 ->
# 6.62 ms, 6.71 -> 6.11 ms of CPU, peak RSS 5,096 -> 4,104 KiB. Static-pie keeps ASLR for
# syscage's own code; a non-PIE static binary started ~0.3 ms faster still, at fixed
# addresses, which a root program that reads untrusted input should not have.
#
# syscage reads passwd and group itself and resolves no names: nothing needs glibc's NSS,
# which a static binary cannot load.
#
# The hot functions first in the text: see scripts/link-ordered.sh.
#
# Linked against musl when it can be (scripts/musl.sh): on this virtual machine every
# CPUID instruction traps to the hypervisor, and glibc's start-up runs about fifty of them
# to learn the caches' sizes (leaf 4, once per cache parameter): 0.75 ms before `main` in
# every glibc program here, a sixth of a whole `syscage run`. musl asks the CPU nothing at
# start-up: `syscage --version` 1.24 -> 0.46 ms. musl's allocator returns memory to the
# kernel at every chance (60 mmap/munmap calls per run, each munmap a TLB flush):
# syscage's Rust code uses dlmalloc on musl (src/main.rs).
#
# Otherwise glibc, static: crt-static only on the final link (`cargo rustc`): as a
# workspace-wide rustflag it would also apply to the proc-macro crates, which cannot be
# static. Without Debian's libseccomp.a this falls back to the ordinary dynamic build.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/musl.sh
if syscage_musl_env; then
    cargo rustc --release --bin syscage --target "$SYSCAGE_MUSL" "$@" -- \
        -C linker="$PWD/scripts/link-ordered.sh"
    # Where the bench, the demo and the workloads look for it (a new file: the old one
    # may be a hard link to cargo's own copy).
    rm -f target/release/syscage
    mkdir -p target/release
    cp "target/$SYSCAGE_MUSL/release/syscage" target/release/syscage
    exit 0
fi
if [ "$(uname -m)" = x86_64 ] && lib=$(syscage_static_libseccomp); then
    echo "note: building syscage static against glibc instead (slower start-up)" >&2
    export LIBSECCOMP_LINK_TYPE=static LIBSECCOMP_LIB_PATH
    LIBSECCOMP_LIB_PATH=$(dirname "$lib")
    cargo rustc --release --bin syscage "$@" -- -C target-feature=+crt-static \
        -C linker="$PWD/scripts/link-ordered.sh"
else
    echo "note: no static libseccomp (libseccomp-dev): building a dynamically linked syscage" >&2
    cargo rustc --release --bin syscage "$@" -- -C linker="$PWD/scripts/link-ordered.sh"
fi
