//! Named system call groups (`@mount`, `@debug`...), in the spirit of systemd's
//! `SystemCallFilter=` sets, for `--seccomp-allow @GROUP` and `--seccomp-deny @GROUP`.
//!
//! The members follow systemd's `src/shared/seccomp-util.c` (the sets systemd-analyze
//! `syscall-filter` prints), brought up to Linux 6.18 with the calls in this crate's table,
//! with syscage's own additions:
//! - `@namespaces` (clone3, setns, unshare): `clone` itself is not in it, since every
//!   program needs it to start threads and processes; the profile's argument rules on
//!   `clone` decide about namespace flags;
//! - `@io-uring`, part of `@aio` as in systemd, but nameable alone because io_uring runs
//!   the operations it submits without passing through seccomp;
//! - `@mount-api-new`, part of `@mount`: the file-descriptor mount API (Linux 5.2+), which
//!   mounts without `mount(2)` and must be denied with it.
//!
//! Names of other architectures (`s390_pci_mmio_read`, `set_tls`...) are kept where systemd
//! has them, so the lists read like systemd's; expanding a group skips them. i386-only
//! variants (`chown32`, `_llseek`...) are members where systemd lists them.

use crate::syscalls::{self, SyscallInfo};
use std::collections::BTreeMap;
use thiserror::Error;

/// One group: a name with the leading `@`, what it is for, and its members (system call
/// names or other groups).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Group {
    pub name: &'static str,
    pub description: &'static str,
    pub members: &'static [&'static str],
}

#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum GroupError {
    /// `hint` is ` (did you mean `@mount`?)` or ` (known: @aio, ...)`.
    #[error("unknown system call group `{name}`{hint}")]
    UnknownGroup { name: String, hint: String },
}

/// Sorted by name (the test checks it), so `get` can search it.
static GROUPS: &[Group] = &[
    Group {
        name: "@aio",
        description: "asynchronous I/O, io_uring included",
        members: &[
            "@io-uring",
            "io_cancel",
            "io_destroy",
            "io_getevents",
            "io_pgetevents",
            "io_pgetevents_time64",
            "io_setup",
            "io_submit",
        ],
    },
    Group {
        name: "@basic-io",
        description: "reading, writing, seeking and closing file descriptors",
        members: &[
            "_llseek",
            "close",
            "close_range",
            "dup",
            "dup2",
            "dup3",
            "lseek",
            "pread64",
            "preadv",
            "preadv2",
            "pwrite64",
            "pwritev",
            "pwritev2",
            "read",
            "readv",
            "write",
            "writev",
        ],
    },
    Group {
        name: "@chown",
        description: "changing the owner of files",
        members: &[
            "chown", "chown32", "fchown", "fchown32", "fchownat", "lchown", "lchown32",
        ],
    },
    Group {
        name: "@clock",
        description: "setting the system clock",
        members: &[
            "adjtimex",
            "clock_adjtime",
            "clock_adjtime64",
            "clock_settime",
            "clock_settime64",
            "settimeofday",
            "stime",
        ],
    },
    Group {
        name: "@cpu-emulation",
        description: "CPU emulation (vm86, LDT changes)",
        members: &[
            "modify_ldt",
            "subpage_prot",
            "switch_endian",
            "vm86",
            "vm86old",
        ],
    },
    Group {
        name: "@debug",
        description: "debugging, tracing and performance monitoring, reaching into other processes",
        members: &[
            "lookup_dcookie",
            "perf_event_open",
            "pidfd_getfd",
            "ptrace",
            "rtas",
            "s390_runtime_instr",
            "sys_debug_setcontext",
        ],
    },
    Group {
        name: "@default",
        description: "calls every program makes (process start, time, identity, memory maps)",
        members: &[
            "arch_prctl",
            "brk",
            "cacheflush",
            "clock_getres",
            "clock_getres_time64",
            "clock_gettime",
            "clock_gettime64",
            "clock_nanosleep",
            "clock_nanosleep_time64",
            "execve",
            "exit",
            "exit_group",
            "futex",
            "futex_time64",
            "futex_waitv",
            "get_robust_list",
            "get_thread_area",
            "getegid",
            "getegid32",
            "geteuid",
            "geteuid32",
            "getgid",
            "getgid32",
            "getgroups",
            "getgroups32",
            "getpgid",
            "getpgrp",
            "getpid",
            "getppid",
            "getrandom",
            "getresgid",
            "getresgid32",
            "getresuid",
            "getresuid32",
            "getrlimit",
            "getsid",
            "gettid",
            "gettimeofday",
            "getuid",
            "getuid32",
            "map_shadow_stack",
            "membarrier",
            "mmap",
            "mmap2",
            "mprotect",
            "munmap",
            "nanosleep",
            "pause",
            "prlimit64",
            "restart_syscall",
            "riscv_flush_icache",
            "riscv_hwprobe",
            "rseq",
            "rt_sigreturn",
            "sched_getaffinity",
            "sched_yield",
            "set_robust_list",
            "set_thread_area",
            "set_tid_address",
            "set_tls",
            "sigreturn",
            "time",
            "ugetrlimit",
            "uprobe",
            "uretprobe",
        ],
    },
    Group {
        name: "@file-system",
        description: "file system operations: open, stat, create, link, rename, extended attributes",
        members: &[
            "access",
            "chdir",
            "chmod",
            "close",
            "creat",
            "faccessat",
            "faccessat2",
            "fallocate",
            "fchdir",
            "fchmod",
            "fchmodat",
            "fchmodat2",
            "fcntl",
            "fcntl64",
            "fgetxattr",
            "file_getattr",
            "file_setattr",
            "flistxattr",
            "fremovexattr",
            "fsetxattr",
            "fstat",
            "fstat64",
            "fstatat64",
            "fstatfs",
            "fstatfs64",
            "ftruncate",
            "ftruncate64",
            "futimesat",
            "getcwd",
            "getdents",
            "getdents64",
            "getxattr",
            "getxattrat",
            "inotify_add_watch",
            "inotify_init",
            "inotify_init1",
            "inotify_rm_watch",
            "lgetxattr",
            "link",
            "linkat",
            "listmount",
            "listxattr",
            "listxattrat",
            "llistxattr",
            "lremovexattr",
            "lsetxattr",
            "lstat",
            "lstat64",
            "mkdir",
            "mkdirat",
            "mknod",
            "mknodat",
            "mmap",
            "mmap2",
            "munmap",
            "newfstatat",
            "oldfstat",
            "oldlstat",
            "oldstat",
            "open",
            "openat",
            "openat2",
            "readlink",
            "readlinkat",
            "removexattr",
            "removexattrat",
            "rename",
            "renameat",
            "renameat2",
            "rmdir",
            "setxattr",
            "setxattrat",
            "stat",
            "stat64",
            "statfs",
            "statfs64",
            "statmount",
            "statx",
            "symlink",
            "symlinkat",
            "truncate",
            "truncate64",
            "unlink",
            "unlinkat",
            "utime",
            "utimensat",
            "utimensat_time64",
            "utimes",
        ],
    },
    Group {
        name: "@io-event",
        description: "event loops: poll, select, epoll, eventfd",
        members: &[
            "_newselect",
            "epoll_create",
            "epoll_create1",
            "epoll_ctl",
            "epoll_ctl_old",
            "epoll_pwait",
            "epoll_pwait2",
            "epoll_wait",
            "epoll_wait_old",
            "eventfd",
            "eventfd2",
            "poll",
            "ppoll",
            "ppoll_time64",
            "pselect6",
            "pselect6_time64",
            "select",
        ],
    },
    Group {
        name: "@io-uring",
        description: "io_uring, whose submitted operations do not pass through seccomp",
        members: &["io_uring_enter", "io_uring_register", "io_uring_setup"],
    },
    Group {
        name: "@ipc",
        description: "pipes, System V IPC, POSIX message queues, futexes and cross-process memory access",
        members: &[
            "futex_requeue",
            "futex_wait",
            "futex_waitv",
            "futex_wake",
            "ipc",
            "memfd_create",
            "mq_getsetattr",
            "mq_notify",
            "mq_open",
            "mq_timedreceive",
            "mq_timedreceive_time64",
            "mq_timedsend",
            "mq_timedsend_time64",
            "mq_unlink",
            "msgctl",
            "msgget",
            "msgrcv",
            "msgsnd",
            "pipe",
            "pipe2",
            "process_vm_readv",
            "process_vm_writev",
            "semctl",
            "semget",
            "semop",
            "semtimedop",
            "semtimedop_time64",
            "shmat",
            "shmctl",
            "shmdt",
            "shmget",
        ],
    },
    Group {
        name: "@keyring",
        description: "the kernel keyring",
        members: &["add_key", "keyctl", "request_key"],
    },
    Group {
        name: "@memlock",
        description: "locking memory into RAM",
        members: &["mlock", "mlock2", "mlockall", "munlock", "munlockall"],
    },
    Group {
        name: "@module",
        description: "loading and unloading kernel modules",
        members: &["delete_module", "finit_module", "init_module"],
    },
    Group {
        name: "@mount",
        description: "mounting, unmounting and changing the root, old and new mount API",
        members: &[
            "@mount-api-new",
            "chroot",
            "mount",
            "pivot_root",
            "umount",
            "umount2",
        ],
    },
    Group {
        name: "@mount-api-new",
        description: "the file-descriptor mount API (Linux 5.2+), which mounts without mount(2)",
        members: &[
            "fsconfig",
            "fsmount",
            "fsopen",
            "fspick",
            "mount_setattr",
            "move_mount",
            "open_tree",
            "open_tree_attr",
        ],
    },
    Group {
        name: "@namespaces",
        description: "creating and joining namespaces (clone itself is needed by every program and stays out)",
        members: &["clone3", "setns", "unshare"],
    },
    Group {
        name: "@network-io",
        description: "sockets",
        members: &[
            "accept",
            "accept4",
            "bind",
            "connect",
            "getpeername",
            "getsockname",
            "getsockopt",
            "listen",
            "recv",
            "recvfrom",
            "recvmmsg",
            "recvmmsg_time64",
            "recvmsg",
            "send",
            "sendmmsg",
            "sendmsg",
            "sendto",
            "setsockopt",
            "shutdown",
            "socket",
            "socketcall",
            "socketpair",
        ],
    },
    Group {
        name: "@obsolete",
        description: "unusual, obsolete or unimplemented calls",
        members: &[
            "_sysctl",
            "afs_syscall",
            "bdflush",
            "break",
            "create_module",
            "ftime",
            "get_kernel_syms",
            "getpmsg",
            "gtty",
            "idle",
            "lock",
            "mpx",
            "prof",
            "profil",
            "putpmsg",
            "query_module",
            "security",
            "sgetmask",
            "ssetmask",
            "stty",
            "sysfs",
            "tuxcall",
            "ulimit",
            "uselib",
            "ustat",
            "vserver",
        ],
    },
    Group {
        name: "@pkey",
        description: "memory protection keys",
        members: &["pkey_alloc", "pkey_free", "pkey_mprotect"],
    },
    Group {
        name: "@privileged",
        description: "calls that need a capability to do anything",
        members: &[
            "@chown",
            "@clock",
            "@module",
            "@raw-io",
            "@reboot",
            "@swap",
            "_sysctl",
            "acct",
            "bpf",
            "capset",
            "chroot",
            "fanotify_init",
            "fanotify_mark",
            "nfsservctl",
            "open_by_handle_at",
            "pivot_root",
            "quotactl",
            "quotactl_fd",
            "setdomainname",
            "setfsuid",
            "setfsuid32",
            "setgroups",
            "setgroups32",
            "sethostname",
            "setresuid",
            "setresuid32",
            "setreuid",
            "setreuid32",
            "setuid",
            "setuid32",
            "vhangup",
        ],
    },
    Group {
        name: "@process",
        description: "creating, running, signalling and waiting for processes, namespaces included",
        members: &[
            "@namespaces",
            "arch_prctl",
            "capget",
            "clone",
            "execveat",
            "fork",
            "getrusage",
            "kill",
            "pidfd_open",
            "pidfd_send_signal",
            "prctl",
            "process_mrelease",
            "rt_sigqueueinfo",
            "rt_tgsigqueueinfo",
            "swapcontext",
            "tgkill",
            "times",
            "tkill",
            "vfork",
            "wait4",
            "waitid",
            "waitpid",
        ],
    },
    Group {
        name: "@raw-io",
        description: "raw I/O port and PCI configuration access",
        members: &[
            "ioperm",
            "iopl",
            "pciconfig_iobase",
            "pciconfig_read",
            "pciconfig_write",
            "s390_pci_mmio_read",
            "s390_pci_mmio_write",
        ],
    },
    Group {
        name: "@reboot",
        description: "rebooting and loading a new kernel",
        members: &["kexec_file_load", "kexec_load", "reboot"],
    },
    Group {
        name: "@resources",
        description: "changing scheduling, priorities, NUMA placement and resource limits",
        members: &[
            "ioprio_set",
            "mbind",
            "migrate_pages",
            "move_pages",
            "nice",
            "process_madvise",
            "sched_setaffinity",
            "sched_setattr",
            "sched_setparam",
            "sched_setscheduler",
            "set_mempolicy",
            "set_mempolicy_home_node",
            "setpriority",
            "setrlimit",
        ],
    },
    Group {
        name: "@sandbox",
        description: "a program restricting itself: seccomp and Landlock",
        members: &[
            "landlock_add_rule",
            "landlock_create_ruleset",
            "landlock_restrict_self",
            "seccomp",
        ],
    },
    Group {
        name: "@setuid",
        description: "changing user and group IDs",
        members: &[
            "setgid",
            "setgid32",
            "setgroups",
            "setgroups32",
            "setregid",
            "setregid32",
            "setresgid",
            "setresgid32",
            "setresuid",
            "setresuid32",
            "setreuid",
            "setreuid32",
            "setuid",
            "setuid32",
        ],
    },
    Group {
        name: "@signal",
        description: "signal handling",
        members: &[
            "rt_sigaction",
            "rt_sigpending",
            "rt_sigprocmask",
            "rt_sigsuspend",
            "rt_sigtimedwait",
            "rt_sigtimedwait_time64",
            "sigaction",
            "sigaltstack",
            "signal",
            "signalfd",
            "signalfd4",
            "sigpending",
            "sigprocmask",
            "sigsuspend",
        ],
    },
    Group {
        name: "@swap",
        description: "enabling and disabling swap",
        members: &["swapoff", "swapon"],
    },
    Group {
        name: "@sync",
        description: "flushing files and memory to storage",
        members: &[
            "fdatasync",
            "fsync",
            "msync",
            "sync",
            "sync_file_range",
            "sync_file_range2",
            "syncfs",
        ],
    },
    Group {
        name: "@system-service",
        description: "what a general system service needs (systemd's allow-list for its own services)",
        members: &[
            "@aio",
            "@basic-io",
            "@chown",
            "@default",
            "@file-system",
            "@io-event",
            "@ipc",
            "@keyring",
            "@memlock",
            "@network-io",
            "@process",
            "@resources",
            "@setuid",
            "@signal",
            "@sync",
            "@timer",
            "arm_fadvise64_64",
            "brk",
            "cachestat",
            "capget",
            "capset",
            "copy_file_range",
            "fadvise64",
            "fadvise64_64",
            "flock",
            "get_mempolicy",
            "getcpu",
            "getpriority",
            "ioctl",
            "ioprio_get",
            "kcmp",
            "madvise",
            "mremap",
            "mseal",
            "name_to_handle_at",
            "oldolduname",
            "olduname",
            "personality",
            "readahead",
            "readdir",
            "remap_file_pages",
            "sched_get_priority_max",
            "sched_get_priority_min",
            "sched_getaffinity",
            "sched_getattr",
            "sched_getparam",
            "sched_getscheduler",
            "sched_rr_get_interval",
            "sched_rr_get_interval_time64",
            "sched_yield",
            "sendfile",
            "sendfile64",
            "setfsgid",
            "setfsgid32",
            "setfsuid",
            "setfsuid32",
            "setpgid",
            "setsid",
            "splice",
            "sysinfo",
            "tee",
            "umask",
            "uname",
            "userfaultfd",
            "vmsplice",
        ],
    },
    Group {
        name: "@timer",
        description: "timers and alarms",
        members: &[
            "alarm",
            "getitimer",
            "setitimer",
            "timer_create",
            "timer_delete",
            "timer_getoverrun",
            "timer_gettime",
            "timer_gettime64",
            "timer_settime",
            "timer_settime64",
            "timerfd_create",
            "timerfd_gettime",
            "timerfd_gettime64",
            "timerfd_settime",
            "timerfd_settime64",
            "times",
        ],
    },
];

/// Every group, sorted by name.
pub fn all() -> &'static [Group] {
    GROUPS
}

/// A group by its name, leading `@` included (`get("mount")` is `None`).
pub fn get(name: &str) -> Option<&'static Group> {
    GROUPS
        .binary_search_by(|g| g.name.cmp(name))
        .ok()
        .map(|i| &GROUPS[i])
}

/// The x86 system calls of a group, through its nested groups, each once, sorted by name.
/// Members that exist only on other architectures are left out.
pub fn expand(name: &str) -> Result<Vec<&'static SyscallInfo>, GroupError> {
    let group = get(name).ok_or_else(|| unknown(name))?;
    let mut calls = BTreeMap::new();
    let mut seen = vec![group.name];
    collect(group, &mut seen, &mut calls);
    Ok(calls.into_values().collect())
}

fn collect(
    group: &'static Group,
    seen: &mut Vec<&'static str>,
    calls: &mut BTreeMap<&'static str, &'static SyscallInfo>,
) {
    for m in group.members {
        if m.starts_with('@') {
            // `seen` stops a cycle; the test proves there is none, but a group edited into
            // one must not hang `--seccomp-allow`.
            if seen.contains(m) {
                continue;
            }
            seen.push(m);
            if let Some(g) = get(m) {
                collect(g, seen, calls);
            }
        } else if let Some(s) = syscalls::lookup(m) {
            calls.insert(s.name, s);
        }
    }
}

fn unknown(name: &str) -> GroupError {
    let closest = GROUPS
        .iter()
        .map(|g| (syscalls::edit_distance(name, g.name), g.name))
        .min();
    // As for system call names: a suggestion further than a third of the name away is noise.
    let hint = match closest {
        Some((d, g)) if d <= 2.max(name.len() / 3) => format!(" (did you mean `{g}`?)"),
        _ => {
            let names: Vec<&str> = GROUPS.iter().map(|g| g.name).collect();
            format!(" (known: {})", names.join(", "))
        }
    };
    GroupError::UnknownGroup {
        name: name.to_string(),
        hint,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn groups_are_sorted_and_unique() {
        let names: Vec<&str> = all().iter().map(|g| g.name).collect();
        let mut sorted = names.clone();
        sorted.sort_unstable();
        sorted.dedup();
        assert_eq!(names, sorted);
        for g in all() {
            assert!(g.name.starts_with('@'), "{}", g.name);
            let mut members = g.members.to_vec();
            members.sort_unstable();
            members.dedup();
            assert_eq!(
                members.len(),
                g.members.len(),
                "{} lists a member twice",
                g.name
            );
        }
    }

    #[test]
    fn the_required_groups_exist() {
        for name in [
            "@aio",
            "@basic-io",
            "@chown",
            "@clock",
            "@cpu-emulation",
            "@debug",
            "@file-system",
            "@io-event",
            "@ipc",
            "@keyring",
            "@memlock",
            "@module",
            "@mount",
            "@network-io",
            "@obsolete",
            "@pkey",
            "@privileged",
            "@process",
            "@raw-io",
            "@reboot",
            "@resources",
            "@sandbox",
            "@setuid",
            "@signal",
            "@swap",
            "@sync",
            "@system-service",
            "@timer",
            "@namespaces",
            "@io-uring",
            "@mount-api-new",
        ] {
            assert!(get(name).is_some(), "{name}");
        }
    }

    #[test]
    fn every_member_is_a_system_call_or_a_group() {
        for g in all() {
            for m in g.members {
                let known = if m.starts_with('@') {
                    get(m).is_some()
                } else {
                    syscalls::lookup(m).is_some() || syscalls::is_other_arch(m)
                };
                assert!(known, "{}: unknown member `{m}`", g.name);
            }
        }
    }

    #[test]
    fn no_group_contains_itself() {
        fn reaches(from: &Group, target: &str, path: &mut Vec<&'static str>) -> bool {
            for m in from.members.iter().filter(|m| m.starts_with('@')) {
                if *m == target {
                    return true;
                }
                if path.contains(m) {
                    continue;
                }
                path.push(m);
                if get(m).is_some_and(|g| reaches(g, target, path)) {
                    return true;
                }
            }
            false
        }
        for g in all() {
            assert!(
                !reaches(g, g.name, &mut vec![]),
                "{} contains itself",
                g.name
            );
        }
    }

    fn names(group: &str) -> Vec<&'static str> {
        expand(group).unwrap().iter().map(|s| s.name).collect()
    }

    #[test]
    fn mount_covers_the_old_and_the_new_api() {
        let mount = names("@mount");
        for call in [
            "mount",
            "umount2",
            "fsopen",
            "fsconfig",
            "fsmount",
            "fspick",
            "move_mount",
            "open_tree",
            "open_tree_attr",
            "mount_setattr",
            "umount",
            "pivot_root",
            "chroot",
        ] {
            assert!(mount.contains(&call), "{call}");
        }
        let mut sorted = mount.clone();
        sorted.sort_unstable();
        sorted.dedup();
        assert_eq!(mount, sorted, "sorted and deduplicated");
    }

    #[test]
    fn nested_groups_expand_and_foreign_names_are_skipped() {
        let aio = names("@aio");
        assert!(aio.contains(&"io_uring_setup") && aio.contains(&"io_submit"));
        let raw = names("@raw-io");
        assert_eq!(
            raw,
            ["ioperm", "iopl"],
            "pciconfig_* and s390_* are other arches"
        );
        let process = names("@process");
        assert!(process.contains(&"unshare") && process.contains(&"clone"));
        assert!(!names("@namespaces").contains(&"clone"));
        let service = names("@system-service");
        for call in [
            "read", "openat", "execve", "socket", "clone3", "futex", "chown32",
        ] {
            assert!(service.contains(&call), "{call}");
        }
        assert!(!service.contains(&"mount") && !service.contains(&"ptrace"));
        let privileged = names("@privileged");
        assert!(privileged.contains(&"chown32") && privileged.contains(&"kexec_load"));
    }

    #[test]
    fn the_at_sign_is_required() {
        assert!(get("mount").is_none());
        assert_eq!(get("@mount").map(|g| g.name), Some("@mount"));
    }

    #[test]
    fn unknown_groups_get_a_suggestion_or_the_list() {
        assert_eq!(
            expand("@mout").unwrap_err().to_string(),
            "unknown system call group `@mout` (did you mean `@mount`?)"
        );
        assert_eq!(
            expand("mount").unwrap_err().to_string(),
            "unknown system call group `mount` (did you mean `@mount`?)"
        );
        assert_eq!(
            expand("@everything").unwrap_err().to_string(),
            "unknown system call group `@everything` (known: @aio, @basic-io, @chown, @clock, \
             @cpu-emulation, @debug, @default, @file-system, @io-event, @io-uring, @ipc, \
             @keyring, @memlock, @module, @mount, @mount-api-new, @namespaces, @network-io, \
             @obsolete, @pkey, @privileged, @process, @raw-io, @reboot, @resources, @sandbox, \
             @setuid, @signal, @swap, @sync, @system-service, @timer)"
        );
    }
}
