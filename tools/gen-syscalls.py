#!/usr/bin/env python3
"""Generate crates/policy/src/syscalls/table.rs from crates/policy/data/syscalls-x86.tsv.

    python3 tools/gen-syscalls.py            # (re)write table.rs
    python3 tools/gen-syscalls.py --check    # exit 1 if the committed table.rs is stale

Standard library only. Every C type in the TSV's argument column must be known to
C_TYPES (or be a pointer): an unknown type, an unclassified `char __user *` argument, a
duplicate name or number, or a malformed row stops the script with an error instead of
being guessed.
"""

import argparse
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TSV = ROOT / "crates/policy/data/syscalls-x86.tsv"
OUT = ROOT / "crates/policy/src/syscalls/table.rs"

TSV_REL = "crates/policy/data/syscalls-x86.tsv"
HEADER = ["name", "x86_64", "i386", "x32", "since", "args"]
X32_BIT = 0x40000000

# --- argument types ------------------------------------------------------------------
#
# What matters is the width the kernel uses: SYSCALL_DEFINE casts the 64-bit register to
# the declared type, so a 32-bit type ignores the upper half of the register. Widths are
# those of x86_64 (LP64); the compat_* types are the ones an x86_64 kernel declares for
# i386 tasks (32-bit registers). Only scalar types (after dropping `const`) are listed;
# every pointer is Ptr, or Path for a `char __user *` naming a file system path.
C_TYPES = {
    # signed 32-bit
    "int": "Int",
    "signed int": "Int",
    "s32": "Int",
    "__s32": "Int",
    "pid_t": "Int",            # __kernel_pid_t = int
    "key_serial_t": "Int",     # int32_t
    "key_t": "Int",            # __kernel_key_t = int
    "timer_t": "Int",          # __kernel_timer_t = int
    "clockid_t": "Int",        # __kernel_clockid_t = int
    "mqd_t": "Int",            # __kernel_mqd_t = int
    "rwf_t": "Int",            # typedef int __bitwise __kernel_rwf_t
    "compat_int_t": "Int",     # s32
    "compat_long_t": "Int",    # s32
    "compat_pid_t": "Int",     # s32
    "compat_off_t": "Int",     # s32
    # unsigned 32-bit
    "unsigned": "UInt",
    "unsigned int": "UInt",
    "u32": "UInt",
    "__u32": "UInt",
    "uid_t": "UInt",           # __kernel_uid32_t = unsigned int
    "gid_t": "UInt",           # __kernel_gid32_t = unsigned int
    "qid_t": "UInt",           # __kernel_uid32_t = unsigned int
    "compat_uint_t": "UInt",   # u32
    "compat_ulong_t": "UInt",  # u32
    "compat_size_t": "UInt",   # u32
    "compat_aio_context_t": "UInt",  # compat_ulong_t
    # an enum without negative values is an unsigned int for GCC and Clang
    "enum landlock_rule_type": "UInt",
    # 16-bit
    "umode_t": "UShort",       # unsigned short
    "unsigned short": "UShort",
    "u16": "UShort",
    "__u16": "UShort",
    "old_uid_t": "UShort",     # __kernel_old_uid_t = unsigned short on x86
    "old_gid_t": "UShort",     # __kernel_old_gid_t = unsigned short on x86
    # 64-bit
    "long": "Long",
    "unsigned long": "Long",
    "size_t": "Long",          # __kernel_size_t = unsigned long
    "ssize_t": "Long",
    "loff_t": "Long",          # long long
    "off_t": "Long",           # __kernel_off_t = long
    "u64": "Long",
    "__u64": "Long",
    "s64": "Long",
    "__s64": "Long",
    "aio_context_t": "Long",   # __kernel_ulong_t
    "old_sigset_t": "Long",    # unsigned long on x86
    "__kernel_long_t": "Long",
    "__kernel_ulong_t": "Long",
    # typedefs that are pointers to user memory
    "cap_user_header_t": "Ptr",  # struct __user_cap_header_struct *
    "cap_user_data_t": "Ptr",    # struct __user_cap_data_struct *
    "__sighandler_t": "Ptr",     # void (__user *)(int)
    "compat_uptr_t": "Ptr",      # a 32-bit user pointer (u32)
}

# A `char __user *` (const or not) is a Path when it names a file system path the kernel
# resolves, a Ptr otherwise; every one must be classified here.
PATH_ARGS = {
    "filename", "pathname", "path", "oldname", "newname", "from_pathname", "to_pathname",
    "library", "new_root", "put_old", "specialfile", "special", "dev_name", "dir_name",
}
NON_PATH_ARGS = {
    "buf", "ubuf", "list", "optval", "shmaddr", "u_msg_ptr", "_type", "_description",
    "_callout_info", "_fs_name", "_key", "cmdline_ptr", "name_user", "uargs", "uname",
    "u_name",   # POSIX message queue name, resolved in the mqueue mount, not the caller's tree
    "type",     # mount(2) file system type
}
# `name` is a path for some calls and an attribute or host name for others.
PATH_NAME_CALLS = {"acct", "umount", "umount2", "name_to_handle_at"}
NON_PATH_NAME_CALLS = {
    "sethostname", "setdomainname",
    "setxattr", "lsetxattr", "fsetxattr", "setxattrat",
    "getxattr", "lgetxattr", "fgetxattr", "getxattrat",
    "removexattr", "lremovexattr", "fremovexattr", "removexattrat",
}

CHAR_PTR = re.compile(r"^(const )?char __user \*$")
IDENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
NAME = re.compile(r"^[a-z_][a-z0-9_]*$")

# --- names other architectures know ----------------------------------------------------
#
# System call names that no x86 ABI has but libseccomp (2.5.4's seccomp-syscalls.h) or the
# kernel's tables for another architecture know (alpha, arc, arm, arm64, csky, hexagon,
# loongarch, m68k, microblaze, mips, nios2, openrisc, parisc, powerpc, riscv, s390, sh,
# sparc, xtensa; the arch tables and scripts/syscall.tbl of Linux 6.12..7.2 plus the
# private __ARM_NR_* calls), so that profiles written for several architectures (Docker's,
# Podman's) validate. Placeholder slots (availableNNN, reservedNNN, unusedNNN) are left out,
# and so are x86 calls newer than Linux 6.18 (listns, rseq_slice_yield).
OTHER_ARCH_NAMES = """
    arc_gettls arc_settls arc_usr_cmpxchg arm_fadvise64_64 arm_sync_file_range atomic_barrier
    atomic_cmpxchg_32 breakpoint cachectl cacheflush dipc exec_with_loader execv get_tls
    getdomainname getdtablesize gethostname getpagesize getxgid getxpid getxuid kern_features
    llseek memory_ordering multiplexer old_adjtimex oldumount or1k_atomic osf_adjtime
    osf_afs_syscall osf_alt_plock osf_alt_setsid osf_alt_sigpending osf_asynch_daemon
    osf_audcntl osf_audgen osf_chflags osf_execve osf_exportfs osf_fchflags osf_fdatasync
    osf_fpathconf osf_fstat osf_fstatfs osf_fstatfs64 osf_fuser osf_getaddressconf
    osf_getdirentries osf_getdomainname osf_getfh osf_getfsstat osf_gethostid osf_getitimer
    osf_getlogin osf_getmnt osf_getrusage osf_getsysinfo osf_gettimeofday osf_kloadcall
    osf_kmodcall osf_lstat osf_memcntl osf_mincore osf_mount osf_mremap osf_msfs_syscall
    osf_msleep osf_mvalid osf_mwakeup osf_naccept osf_nfssvc osf_ngetpeername osf_ngetsockname
    osf_nrecvfrom osf_nrecvmsg osf_nsendmsg osf_ntp_adjtime osf_ntp_gettime osf_old_creat
    osf_old_fstat osf_old_getpgrp osf_old_killpg osf_old_lstat osf_old_open osf_old_sigaction
    osf_old_sigblock osf_old_sigreturn osf_old_sigsetmask osf_old_sigvec osf_old_stat
    osf_old_vadvise osf_old_vtrace osf_old_wait osf_oldquota osf_pathconf osf_pid_block
    osf_pid_unblock osf_plock osf_priocntlset osf_profil osf_proplist_syscall osf_reboot
    osf_revoke osf_sbrk osf_security osf_select osf_set_program_attributes osf_set_speculative
    osf_sethostid osf_setitimer osf_setlogin osf_setsysinfo osf_settimeofday osf_shmat
    osf_signal osf_sigprocmask osf_sigsendset osf_sigstack osf_sigwaitprim osf_sstk osf_stat
    osf_statfs osf_statfs64 osf_subsys_info osf_swapctl osf_swapon osf_syscall osf_sysinfo
    osf_table osf_uadmin osf_usleep_thread osf_uswitch osf_utc_adjtime osf_utc_gettime
    osf_utimes osf_utsname osf_wait4 osf_waitid pciconfig_iobase pciconfig_read pciconfig_write
    perfctr recv riscv_flush_icache riscv_hwprobe rtas s390_guarded_storage s390_pci_mmio_read
    s390_pci_mmio_write s390_runtime_instr s390_sthyi sched_get_affinity sched_set_affinity send
    set_tls sethae setpgrp spill spu_create spu_run subpage_prot swapcontext switch_endian
    sync_file_range2 sys_debug_setcontext syscall sysmips timerfd usr26 usr32 utimesat
    utrap_install xtensa
"""


class GenError(Exception):
    pass


def fail(lineno, msg):
    raise GenError(f"{TSV_REL}:{lineno}: {msg}")


def parse_nr(field, lineno, what):
    if field == "-":
        return None
    if not re.fullmatch(r"0|[1-9][0-9]*", field):
        fail(lineno, f"{what} number {field!r} is not a decimal number or -")
    return int(field)


def arg_type(ctype, syscall, argname, lineno):
    """Map one C argument type to the name of an ArgType variant."""
    if "*" in ctype:
        if CHAR_PTR.match(ctype):
            if argname in PATH_ARGS:
                return "Path"
            if argname in NON_PATH_ARGS:
                return "Ptr"
            if argname == "name" and syscall in PATH_NAME_CALLS:
                return "Path"
            if argname == "name" and syscall in NON_PATH_NAME_CALLS:
                return "Ptr"
            fail(lineno, f"{syscall}: `{ctype} {argname}` is not classified as a path or not "
                         "(add the argument name to PATH_ARGS or NON_PATH_ARGS)")
        return "Ptr"
    base = ctype
    while True:
        stripped = re.sub(r"^const ", "", re.sub(r" const$", "", base))
        if stripped == base:
            break
        base = stripped
    if base not in C_TYPES:
        fail(lineno, f"{syscall}: unknown C type {ctype!r} for argument {argname!r} "
                     "(add it to C_TYPES with its width)")
    return C_TYPES[base]


def parse_args(field, syscall, lineno):
    if field == "void":
        return []
    args = []
    for part in field.split(";"):
        part = part.strip()
        if " " not in part:
            fail(lineno, f"{syscall}: argument {part!r} is not `type name`")
        ctype, argname = part.rsplit(" ", 1)
        ctype = " ".join(ctype.split())
        if not IDENT.match(argname):
            fail(lineno, f"{syscall}: bad argument name {argname!r}")
        if argname in (a for a, _ in args):
            fail(lineno, f"{syscall}: argument {argname!r} appears twice")
        args.append((argname, arg_type(ctype, syscall, argname, lineno)))
    if len(args) > 6:
        fail(lineno, f"{syscall}: {len(args)} arguments, a system call has at most 6")
    return args


def read_tsv(path):
    rows = []
    header_seen = False
    for lineno, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip() or line.startswith("#"):
            continue
        fields = line.split("\t")
        if not header_seen:
            if fields != HEADER:
                fail(lineno, f"expected the header {HEADER}, found {fields}")
            header_seen = True
            continue
        if len(fields) != len(HEADER):
            fail(lineno, f"expected {len(HEADER)} tab-separated fields, found {len(fields)}")
        name, f64, f32, fx32, since, args = fields
        if not NAME.match(name):
            fail(lineno, f"bad system call name {name!r}")
        x86_64 = parse_nr(f64, lineno, "x86_64")
        x86 = parse_nr(f32, lineno, "i386")
        x32 = parse_nr(fx32, lineno, "x32")
        if x86_64 is None and x86 is None and x32 is None:
            fail(lineno, f"{name}: no number on any ABI")
        for nr, what in ((x86_64, "x86_64"), (x86, "i386")):
            if nr is not None and nr >= 1024:
                fail(lineno, f"{name}: {what} number {nr} is out of range")
        if x32 is not None and not (X32_BIT <= x32 < X32_BIT + 1024):
            fail(lineno, f"{name}: x32 number {x32} lacks the x32 bit 0x40000000")
        if x32 is not None and x32 - X32_BIT < 512 and x32 - X32_BIT != x86_64:
            fail(lineno, f"{name}: x32 number below 512 must be the x86_64 number")
        m = re.fullmatch(r"([0-9]+)\.([0-9]+)", since)
        if not m or int(m.group(1)) > 255 or int(m.group(2)) > 255:
            fail(lineno, f"{name}: bad kernel version {since!r} (want major.minor)")
        rows.append({
            "line": lineno, "name": name, "x86_64": x86_64, "x86": x86, "x32": x32,
            "since": (int(m.group(1)), int(m.group(2))),
            "args": parse_args(args, name, lineno),
        })
    if not header_seen:
        raise GenError(f"{TSV_REL}: no header line")
    seen = {}
    for row in rows:
        if row["name"] in seen:
            fail(row["line"], f"{row['name']} already appears on line {seen[row['name']]}")
        seen[row["name"]] = row["line"]
    for abi in ("x86_64", "x86", "x32"):
        used = {}
        for row in rows:
            nr = row[abi]
            if nr is None:
                continue
            if nr in used:
                fail(row["line"], f"{abi} number {nr} of {row['name']} is also {used[nr]}'s")
            used[nr] = row["name"]
    return rows


def other_arch_names(x86_names):
    names = OTHER_ARCH_NAMES.split()
    if names != sorted(set(names)):
        raise GenError("tools/gen-syscalls.py: OTHER_ARCH_NAMES must be sorted and unique")
    for n in names:
        if not NAME.match(n):
            raise GenError(f"tools/gen-syscalls.py: bad name {n!r} in OTHER_ARCH_NAMES")
    both = sorted(set(names) & set(x86_names))
    if both:
        raise GenError(f"tools/gen-syscalls.py: OTHER_ARCH_NAMES has x86 system calls: {both}")
    return names


def opt(nr):
    return "None" if nr is None else f"Some({nr})"


def render(rows):
    rows = sorted(rows, key=lambda r: r["name"])
    others = other_arch_names([r["name"] for r in rows])
    out = [
        f"// @generated by tools/gen-syscalls.py from {TSV_REL}. Do not edit by hand:",
        f"// change {TSV_REL} (or the tables in the script) and regenerate with",
        "//     python3 tools/gen-syscalls.py",
        "// `python3 tools/gen-syscalls.py --check` fails when this file is out of date.",
        "",
        "use super::{ArgInfo, ArgType, SyscallInfo};",
        "",
        "/// Every system call name known on an x86 ABI (x86_64, i386, x32) up to Linux 6.18,",
        "/// sorted by name.",
        "#[rustfmt::skip]",
        "pub(super) static SYSCALLS: &[SyscallInfo] = &[",
    ]
    for r in rows:
        args = ", ".join(f'ArgInfo {{ name: "{a}", ty: ArgType::{t} }}' for a, t in r["args"])
        out.append(
            f'    SyscallInfo {{ name: "{r["name"]}", x86_64: {opt(r["x86_64"])}, '
            f'x86: {opt(r["x86"])}, x32: {opt(r["x32"])}, '
            f'since: ({r["since"][0]}, {r["since"][1]}), args: &[{args}] }},'
        )
    out += [
        "];",
        "",
        "/// System call names that no x86 ABI has but another architecture (or libseccomp)",
        "/// knows, sorted: profiles written for several architectures name them.",
        "#[rustfmt::skip]",
        "pub(super) static OTHER_ARCH_NAMES: &[&str] = &[",
    ]
    out += [f'    "{n}",' for n in others]
    out += ["];", ""]
    return "\n".join(out)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--check", action="store_true",
                    help="regenerate in memory; exit 1 if table.rs differs")
    opts = ap.parse_args()
    try:
        text = render(read_tsv(TSV))
    except GenError as e:
        print(f"gen-syscalls: error: {e}", file=sys.stderr)
        return 2
    rel = OUT.relative_to(ROOT)
    if opts.check:
        current = OUT.read_text(encoding="utf-8") if OUT.exists() else None
        if current != text:
            print(f"gen-syscalls: {rel} is out of date with {TSV_REL}; "
                  "run `python3 tools/gen-syscalls.py`", file=sys.stderr)
            return 1
        print(f"gen-syscalls: {rel} is up to date")
        return 0
    OUT.write_text(text, encoding="utf-8")
    print(f"gen-syscalls: wrote {rel}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
