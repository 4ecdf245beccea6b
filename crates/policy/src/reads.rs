//! Which argument registers the kernel reads in a given call. A rule that compares an
//! argument the kernel ignores in some form of the call judges whatever the caller left in
//! that register: jemalloc calls `syscall(SYS_open, path, O_RDONLY|O_CLOEXEC)` with no
//! third argument, and a mode rule then refuses a harmless read at random. The built-in
//! profiles make every such condition depend on the argument that makes the kernel read
//! it; the tests check it with this table, and the linter warns about profiles that do not.
//!
//! The table covers what the kernel's entry points decide before anything else; an
//! argument a call reads only in some forms is listed with the form. Beyond it every
//! argument the call declares counts as read (`ioctl`'s third argument, which only the
//! request gives a meaning, and `prctl`'s, which only the option does, are read as far as
//! a filter can tell), and the registers past its arguments never are.

use crate::syscalls::SyscallInfo;

// include/uapi/asm-generic/fcntl.h (x86).
pub const O_CREAT: u64 = 0o100;
pub const O_PATH: u64 = 0o10000000;
pub const __O_TMPFILE: u64 = 0o20000000;
// include/uapi/linux/stat.h
pub const S_IFMT: u64 = 0o170000;
pub const S_IFCHR: u64 = 0o020000;
pub const S_IFBLK: u64 = 0o060000;
// include/uapi/linux/sched.h
pub const CLONE_SETTLS: u64 = 0x0008_0000;
pub const CLONE_PARENT_SETTID: u64 = 0x0010_0000;
pub const CLONE_CHILD_CLEARTID: u64 = 0x0020_0000;
pub const CLONE_CHILD_SETTID: u64 = 0x0100_0000;
pub const CLONE_PIDFD: u64 = 0x0000_1000;

/// Whether open flags make the kernel read the mode: `build_open_how` (fs/open.c) keeps
/// the mode only when `WILL_CREATE(flags)` (O_CREAT or __O_TMPFILE), after O_PATH has
/// cut the flags down to O_PATH_FLAGS.
pub fn open_reads_mode(flags: u64) -> bool {
    let flags = flags & 0xffff_ffff;
    flags & O_PATH == 0 && flags & (O_CREAT | __O_TMPFILE) != 0
}

/// For each of the six registers, whether the kernel ignores it in this call.
pub fn ignored(s: &SyscallInfo, args: &[u64; 6]) -> [bool; 6] {
    let mut out = [false; 6];
    for (i, o) in out.iter_mut().enumerate() {
        *o = i >= s.args.len();
    }
    let device = |mode: u64| matches!(mode & S_IFMT, S_IFCHR | S_IFBLK);
    match s.name {
        // open(filename, flags, mode), openat(dfd, filename, flags, mode)
        "open" => out[2] |= !open_reads_mode(args[1]),
        "openat" => out[3] |= !open_reads_mode(args[2]),
        // mknod(filename, mode, dev): `dev` makes sense for device nodes only
        // (`vfs_mknod`); mknodat(dfd, filename, mode, dev) likewise.
        "mknod" => out[2] |= !device(args[1]),
        "mknodat" => out[3] |= !device(args[2]),
        // clone(flags, newsp, parent_tid, child_tid, tls) on x86_64 (kernel/fork.c).
        "clone" => {
            let f = args[0];
            out[2] |= f & (CLONE_PARENT_SETTID | CLONE_PIDFD) == 0;
            out[3] |= f & (CLONE_CHILD_SETTID | CLONE_CHILD_CLEARTID) == 0;
            out[4] |= f & CLONE_SETTLS == 0;
        }
        _ => {}
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::syscalls;

    #[test]
    fn the_mode_counts_only_when_the_flags_create() {
        let open = syscalls::lookup("open").unwrap();
        assert_eq!(
            ignored(open, &[0, 0o2000000, 0o4000, 0, 0, 0]),
            [false, false, true, true, true, true],
            "O_RDONLY|O_CLOEXEC"
        );
        assert!(!ignored(open, &[0, O_CREAT | 1, 0o4755, 0, 0, 0])[2]);
        assert!(!ignored(open, &[0, __O_TMPFILE | 0o200000 | 2, 0o4755, 0, 0, 0])[2]);
        assert!(ignored(open, &[0, O_PATH | O_CREAT, 0o4755, 0, 0, 0])[2]);
        assert!(!ignored(open, &[0, 1 << 40 | O_CREAT, 0o4755, 0, 0, 0])[2]);
        let openat = syscalls::lookup("openat").unwrap();
        assert!(ignored(openat, &[0, 0, 0, 0o6000, 0, 0])[3]);
        let getpid = syscalls::lookup("getpid").unwrap();
        assert_eq!(ignored(getpid, &[0; 6]), [true; 6]);
    }
}
