//! The system call table: names, numbers for each x86 ABI, argument types and the kernel
//! version that introduced each call.
//!
//! The table is generated (see `table.rs` for how to regenerate it). syscage keeps its own
//! table instead of asking libseccomp because Debian's libseccomp 2.5.4 predates many calls
//! the running kernel has (statmount, mseal, setxattrat...), and the pure policy crate must
//! validate names and decide argument widths without linking any C library.

mod table;

/// How the kernel declares one argument in its `SYSCALL_DEFINE`. What matters for filtering
/// is the width the kernel truncates the 64-bit register to before using the value.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ArgType {
    /// `int`, `pid_t`, `key_serial_t`...: signed 32-bit; the upper 32 bits are ignored.
    Int,
    /// `unsigned int`, `uid_t`, `gid_t`, `u32`...: unsigned 32-bit.
    UInt,
    /// `umode_t` and other 16-bit types: only the low 16 bits reach the kernel.
    UShort,
    /// `long`, `unsigned long`, `size_t`, `loff_t`, `u64`...: all 64 bits are used.
    Long,
    /// A pointer to user memory other than a path.
    Ptr,
    /// A `const char __user *` naming a file system path.
    Path,
}

impl ArgType {
    /// Number of low bits of the register the kernel actually uses.
    pub fn bits(self) -> u32 {
        match self {
            ArgType::Int | ArgType::UInt => 32,
            ArgType::UShort => 16,
            ArgType::Long | ArgType::Ptr | ArgType::Path => 64,
        }
    }
}

/// One argument: its name in the kernel source and its type.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ArgInfo {
    pub name: &'static str,
    pub ty: ArgType,
}

/// One system call as the x86 ABIs know it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct SyscallInfo {
    pub name: &'static str,
    /// Number on x86_64 (native 64-bit ABI).
    pub x86_64: Option<u32>,
    /// Number on i386 (`int 0x80`, and 32-bit programs on a 64-bit kernel).
    pub x86: Option<u32>,
    /// Number on x32, including the `__X32_SYSCALL_BIT` (0x40000000).
    pub x32: Option<u32>,
    /// Kernel version (major, minor) that introduced the call on x86.
    pub since: (u8, u8),
    /// Arguments as the x86_64 `SYSCALL_DEFINE` declares them.
    pub args: &'static [ArgInfo],
}

use crate::arch::{Arch, X32_SYSCALL_BIT};

/// Every x86 system call syscage knows, sorted by name.
pub fn all() -> &'static [SyscallInfo] {
    table::SYSCALLS
}

/// A system call by name.
pub fn lookup(name: &str) -> Option<&'static SyscallInfo> {
    table::SYSCALLS
        .binary_search_by(|s| s.name.cmp(name))
        .ok()
        .map(|i| &table::SYSCALLS[i])
}

/// Whether `name` is a system call of another architecture (Docker profiles list
/// `arm_fadvise64_64`, `s390_pci_mmio_read`...). Rules for them are valid and ignored here.
pub fn is_other_arch(name: &str) -> bool {
    table::OTHER_ARCH_NAMES.binary_search(&name).is_ok()
}

/// The system call with this number on this ABI. x32 numbers include the x32 bit.
pub fn by_number(arch: Arch, nr: u32) -> Option<&'static SyscallInfo> {
    table::SYSCALLS.iter().find(|s| number(s, arch) == Some(nr))
}

/// The number of a system call on an ABI, if it exists there.
pub fn number(s: &SyscallInfo, arch: Arch) -> Option<u32> {
    match arch {
        Arch::X86_64 => s.x86_64,
        Arch::X86 => s.x86,
        Arch::X32 => s.x32,
        _ => None,
    }
}

/// The highest number on an ABI (x32: including the x32 bit).
pub fn max_number(arch: Arch) -> Option<u32> {
    table::SYSCALLS.iter().filter_map(|s| number(s, arch)).max()
}

/// Whether an x86_64-ABI number is really an x32 call.
pub fn is_x32_number(nr: u32) -> bool {
    nr & X32_SYSCALL_BIT != 0
}

/// x32's own entry points, 512..=547 with the x32 bit (`arch/x86/entry/syscalls/
/// syscall_64.tbl`): compat versions of old calls, numbered above every call added later.
pub fn is_x32_compat(nr: u32) -> bool {
    nr & X32_SYSCALL_BIT != 0 && (512..=547).contains(&(nr & !X32_SYSCALL_BIT))
}

/// Whether call `nr` of ABI `arch` is newer than a profile whose highest known number on
/// that ABI is `max`: above it, except x32's compat entry points 512..=547, which are old
/// calls numbered above the new ones.
pub fn is_newer_than(arch: Arch, nr: u32, max: u32) -> bool {
    nr > max && !(arch == Arch::X32 && is_x32_compat(nr))
}

/// How many low bits of argument `index` the kernel uses for this call: 64 for pointers,
/// `long`s and arguments the call does not have (seccomp still sees the register).
pub fn arg_bits(s: &SyscallInfo, index: u8) -> u32 {
    s.args
        .get(usize::from(index))
        .map(|a| a.ty.bits())
        .unwrap_or(64)
}

/// How many low bits of argument `index` a filter judges for a call on an ABI: what the
/// kernel uses of it ([`arg_bits`]), within the bits the ABI's registers hold.
pub fn compared_bits(s: &SyscallInfo, arch: Arch, index: u8) -> u32 {
    arg_bits(s, index).min(arch.compared_bits())
}

/// The known name closest to `name`, for "did you mean" hints.
pub fn suggest(name: &str) -> Option<&'static str> {
    let mut best: Option<(usize, &'static str)> = None;
    let candidates = table::SYSCALLS
        .iter()
        .map(|s| s.name)
        .chain(table::OTHER_ARCH_NAMES.iter().copied());
    for cand in candidates {
        let d = edit_distance(name, cand);
        if best.is_none_or(|(bd, _)| d < bd) {
            best = Some((d, cand));
        }
    }
    // A suggestion further than a third of the name away is noise.
    best.filter(|(d, _)| *d <= 2.max(name.len() / 3))
        .map(|(_, n)| n)
}

/// Edit distance counting a swap of two neighbouring letters as one edit (optimal string
/// alignment), for suggestions only: `getpdi` is one edit from `getpid`.
pub(crate) fn edit_distance(a: &str, b: &str) -> usize {
    strsim::osa_distance(a, b)
}

/// i386 multiplexes socket and System V IPC calls through `socketcall(2)` and `ipc(2)`,
/// whose first argument names the call. libseccomp turns a rule for one of these calls on
/// the x86 ABI into the direct call's rule plus a rule on the multiplexer with
/// `arg0 == CALL` (keeping the rule's other conditions by index), and runc, crun and
/// Docker inherit that. syscage models it the same way so that `profile check` and the
/// compiled program agree. (call, multiplexer, call number), from linux/net.h and
/// linux/ipc.h.
pub const MULTIPLEXED: &[(&str, &str, u64)] = &[
    ("socket", "socketcall", 1),
    ("bind", "socketcall", 2),
    ("connect", "socketcall", 3),
    ("listen", "socketcall", 4),
    ("accept", "socketcall", 5),
    ("getsockname", "socketcall", 6),
    ("getpeername", "socketcall", 7),
    ("socketpair", "socketcall", 8),
    ("send", "socketcall", 9),
    ("recv", "socketcall", 10),
    ("sendto", "socketcall", 11),
    ("recvfrom", "socketcall", 12),
    ("shutdown", "socketcall", 13),
    ("setsockopt", "socketcall", 14),
    ("getsockopt", "socketcall", 15),
    ("sendmsg", "socketcall", 16),
    ("recvmsg", "socketcall", 17),
    ("accept4", "socketcall", 18),
    ("recvmmsg", "socketcall", 19),
    ("sendmmsg", "socketcall", 20),
    ("semop", "ipc", 1),
    ("semget", "ipc", 2),
    ("semctl", "ipc", 3),
    ("semtimedop", "ipc", 4),
    ("msgsnd", "ipc", 11),
    ("msgrcv", "ipc", 12),
    ("msgget", "ipc", 13),
    ("msgctl", "ipc", 14),
    ("shmat", "ipc", 21),
    ("shmdt", "ipc", 22),
    ("shmget", "ipc", 23),
    ("shmctl", "ipc", 24),
];

/// The multiplexer and call number of a call on i386, if it has one.
pub fn multiplexed(name: &str) -> Option<(&'static str, u64)> {
    MULTIPLEXED
        .iter()
        .find(|(n, _, _)| *n == name)
        .map(|(_, m, c)| (*m, *c))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn looks_up_names_and_numbers() {
        let chmod = lookup("fchmodat2").expect("fchmodat2");
        assert_eq!(chmod.x86_64, Some(452));
        assert_eq!(chmod.x86, Some(452));
        assert_eq!(by_number(Arch::X86_64, 39).map(|s| s.name), Some("getpid"));
        assert_eq!(by_number(Arch::X86, 20).map(|s| s.name), Some("getpid"));
        assert_eq!(
            by_number(Arch::X32, 39 | X32_SYSCALL_BIT).map(|s| s.name),
            Some("getpid")
        );
        assert!(lookup("chmood").is_none());
        assert!(is_other_arch("arm_fadvise64_64"));
        assert!(!is_other_arch("chmod"));
    }

    #[test]
    fn table_is_sorted_and_numbers_unique() {
        let names: Vec<&str> = all().iter().map(|s| s.name).collect();
        let mut sorted = names.clone();
        sorted.sort_unstable();
        sorted.dedup();
        assert_eq!(names, sorted);
        for arch in [Arch::X86_64, Arch::X86, Arch::X32] {
            let mut nrs: Vec<u32> = all().iter().filter_map(|s| number(s, arch)).collect();
            let n = nrs.len();
            nrs.sort_unstable();
            nrs.dedup();
            assert_eq!(nrs.len(), n, "{arch}");
        }
    }

    #[test]
    fn argument_widths_follow_the_kernel() {
        let w = |name: &str, i: u8| arg_bits(lookup(name).expect(name), i);
        assert_eq!(w("ioctl", 0), 32);
        assert_eq!(
            w("ioctl", 1),
            32,
            "ioctl's cmd is `unsigned int` in SYSCALL_DEFINE3"
        );
        assert_eq!(w("socket", 0), 32);
        assert_eq!(w("personality", 0), 32);
        assert_eq!(w("fchmod", 1), 16);
        assert_eq!(w("clone", 0), 64);
        assert_eq!(w("unshare", 0), 64);
        assert_eq!(w("mmap", 1), 64);
    }

    #[test]
    fn suggests_close_names() {
        assert_eq!(suggest("chmood"), Some("chmod"));
        assert_eq!(suggest("open_by_handle"), Some("open_by_handle_at"));
        assert_eq!(suggest("zzzzzzzzzzzzzzzz"), None);
    }
}
