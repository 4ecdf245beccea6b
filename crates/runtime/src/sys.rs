//! Raw system calls that nix does not wrap (or wraps in a way that does not fit), each in
//! one small function with its SAFETY argument. The rest of the runtime calls these and nix.
#![allow(unsafe_code)]

use nix::errno::Errno;
use nix::unistd::Pid;
use std::os::fd::{AsRawFd, BorrowedFd, FromRawFd, OwnedFd, RawFd};

/// `clone(2)` used like `fork(2)` with namespace flags: no new stack, the child continues
/// from the call with a copy of the address space. Returns `None` in the child.
///
/// The caller must be single-threaded (syscage's parent is): the child may then use the
/// allocator and everything else, as after `fork` in a single-threaded program.
pub fn clone_fork(flags: libc::c_int) -> Result<Option<Pid>, Errno> {
    // SAFETY: with a NULL stack and without CLONE_VM the kernel gives the child a copy of
    // the caller's memory and stack, exactly as fork(2); no pointer arguments are passed.
    let ret = unsafe {
        libc::syscall(
            libc::SYS_clone,
            (flags | libc::SIGCHLD) as libc::c_ulong,
            std::ptr::null_mut::<libc::c_void>(),
            std::ptr::null_mut::<libc::c_int>(),
            std::ptr::null_mut::<libc::c_int>(),
            0 as libc::c_ulong,
        )
    };
    match ret {
        -1 => Err(Errno::last()),
        0 => Ok(None),
        pid => Ok(Some(Pid::from_raw(pid as libc::pid_t))),
    }
}

/// `pidfd_open(2)`: an fd that refers to the process and becomes readable when it exits.
pub fn pidfd_open(pid: Pid) -> Result<OwnedFd, Errno> {
    syscage_seccomp::notify::pidfd_open(pid.as_raw())
        .map_err(|e| Errno::from_raw(e.raw_os_error().unwrap_or(libc::EIO)))
}

/// `pidfd_getfd(2)`: a duplicate of fd `target` of the process behind `pidfd`.
pub fn pidfd_getfd(pidfd: BorrowedFd<'_>, target: RawFd) -> Result<OwnedFd, Errno> {
    // SAFETY: integer arguments only; a non-negative return is a new fd we own.
    let ret = unsafe { libc::syscall(libc::SYS_pidfd_getfd, pidfd.as_raw_fd(), target, 0) };
    if ret < 0 {
        return Err(Errno::last());
    }
    // SAFETY: as above.
    Ok(unsafe { OwnedFd::from_raw_fd(ret as RawFd) })
}

// include/uapi/linux/mount.h
pub const MOUNT_ATTR_RDONLY: u64 = 0x0000_0001;
pub const MOUNT_ATTR_NOSUID: u64 = 0x0000_0002;
pub const MOUNT_ATTR_NODEV: u64 = 0x0000_0004;
pub const MOUNT_ATTR_NOEXEC: u64 = 0x0000_0008;
const AT_RECURSIVE: libc::c_uint = 0x8000;

#[repr(C)]
struct MountAttr {
    attr_set: u64,
    attr_clr: u64,
    propagation: u64,
    userns_fd: u64,
}

/// `mount_setattr(2)` (Linux 5.12) on the mount `fd` refers to (an attached mount or a
/// detached tree from `open_tree`/`fsmount`), and with `recursive` on every mount below
/// it: a plain remount only changes the top mount, and a read-only bind of `/` would
/// leave `/home` or `/boot` writable. `propagation` is 0 (unchanged) or one of
/// MS_PRIVATE, MS_SLAVE, MS_SHARED.
pub fn mount_setattr(
    fd: BorrowedFd<'_>,
    recursive: bool,
    set: u64,
    propagation: u64,
) -> Result<(), Errno> {
    let attr = MountAttr {
        attr_set: set,
        attr_clr: 0,
        propagation,
        userns_fd: 0,
    };
    let flags = libc::AT_EMPTY_PATH as libc::c_uint | if recursive { AT_RECURSIVE } else { 0 };
    // SAFETY: the path is a valid empty C string and `attr` a valid struct of the size
    // passed; the kernel only reads both during the call.
    let ret = unsafe {
        libc::syscall(
            libc::SYS_mount_setattr,
            fd.as_raw_fd(),
            c"".as_ptr(),
            flags,
            &attr as *const MountAttr,
            std::mem::size_of::<MountAttr>(),
        )
    };
    if ret < 0 {
        return Err(Errno::last());
    }
    Ok(())
}

/// Brings the loopback interface up: `SIOCGIFFLAGS` then `SIOCSIFFLAGS` with IFF_UP, on a
/// datagram socket of the container's network namespace.
pub fn loopback_up() -> Result<(), Errno> {
    use nix::sys::socket::{socket, AddressFamily, SockFlag, SockType};
    let sock = socket(
        AddressFamily::Inet,
        SockType::Datagram,
        SockFlag::SOCK_CLOEXEC,
        None,
    )?;
    // SAFETY: ifreq is plain old data; zeroed is a valid value.
    let mut req: libc::ifreq = unsafe { std::mem::zeroed() };
    for (d, s) in req.ifr_name.iter_mut().zip(b"lo\0") {
        *d = *s as libc::c_char;
    }
    // SAFETY: `req` is a valid ifreq for these requests; the kernel reads and writes only it.
    let ret = unsafe {
        libc::ioctl(
            sock.as_raw_fd(),
            libc::SIOCGIFFLAGS as libc::Ioctl,
            &mut req,
        )
    };
    if ret < 0 {
        return Err(Errno::last());
    }
    // SAFETY: the union member ifru_flags is the one SIOCGIFFLAGS filled in.
    unsafe {
        req.ifr_ifru.ifru_flags |= (libc::IFF_UP | libc::IFF_RUNNING) as libc::c_short;
    }
    // SAFETY: as above.
    let ret = unsafe { libc::ioctl(sock.as_raw_fd(), libc::SIOCSIFFLAGS as libc::Ioctl, &req) };
    if ret < 0 {
        return Err(Errno::last());
    }
    Ok(())
}

/// The lowest fd number not in use: what the next fd-creating call will return in a
/// single-threaded process.
pub fn lowest_free_fd() -> Result<RawFd, Errno> {
    let probe = nix::fcntl::open(
        "/",
        nix::fcntl::OFlag::O_PATH | nix::fcntl::OFlag::O_CLOEXEC,
        nix::sys::stat::Mode::empty(),
    )?;
    Ok(probe.as_raw_fd())
}

/// A page of memory shared between the parent and the container's processes across
/// `fork`, for the one hand-over that must not make system calls (see `listener`).
pub struct SharedPage {
    ptr: *mut u8,
}

impl SharedPage {
    pub fn new() -> Result<SharedPage, Errno> {
        // SAFETY: an anonymous shared mapping with no address hint; checked for failure.
        let ptr = unsafe {
            libc::mmap(
                std::ptr::null_mut(),
                4096,
                libc::PROT_READ | libc::PROT_WRITE,
                libc::MAP_SHARED | libc::MAP_ANONYMOUS,
                -1,
                0,
            )
        };
        if ptr == libc::MAP_FAILED {
            return Err(Errno::last());
        }
        Ok(SharedPage { ptr: ptr.cast() })
    }

    /// The word at index `i` (0..512) as an atomic.
    pub fn word(&self, i: usize) -> &std::sync::atomic::AtomicU64 {
        assert!(i < 512, "shared page index");
        // SAFETY: the page is 4096 bytes, page-aligned, lives as long as `self`, and is
        // only ever accessed through atomics.
        unsafe { &*(self.ptr.add(i * 8) as *const std::sync::atomic::AtomicU64) }
    }
}

impl SharedPage {
    /// Unmaps the page in the calling process only (the others keep theirs).
    ///
    /// # Safety
    /// Nothing in this process may use the page afterwards (its drop unmaps nothing
    /// mapped there since: call it only in a process that leaves with `_exit`).
    pub unsafe fn unmap_here(&self) {
        // SAFETY: the caller promises no later use; the range is this page's own.
        unsafe {
            libc::munmap(self.ptr.cast(), 4096);
        }
    }
}

impl Drop for SharedPage {
    fn drop(&mut self) {
        // SAFETY: `ptr` is the mapping made in `new`, unmapped once.
        unsafe {
            libc::munmap(self.ptr.cast(), 4096);
        }
    }
}

/// `_exit(2)`: ends the process now, without running atexit handlers or flushing stdio
/// buffers copied from the parent (which would print the parent's output twice).
pub fn exit_now(code: i32) -> ! {
    // SAFETY: _exit never returns and touches no Rust state.
    unsafe { libc::_exit(code) }
}

/// A standard fd (0, 1, 2), open for the life of the process.
pub fn std_fd(fd: RawFd) -> BorrowedFd<'static> {
    debug_assert!((0..=2).contains(&fd));
    // SAFETY: the standard fds are never closed by syscage.
    unsafe { BorrowedFd::borrow_raw(fd) }
}

/// `fork(2)`. The caller is single-threaded (the container's init), so the child may do
/// anything until it executes or exits. `None` in the child.
pub fn fork() -> Result<Option<Pid>, Errno> {
    // SAFETY: the init is single-threaded; the child runs only `exec::command_main`,
    // which ends in execve or _exit.
    match unsafe { nix::unistd::fork() }? {
        nix::unistd::ForkResult::Child => Ok(None),
        nix::unistd::ForkResult::Parent { child } => Ok(Some(child)),
    }
}

extern "C" fn noop(_: libc::c_int) {}

/// Gives `sig` a handler that does nothing: a pid namespace's init ignores signals left
/// at their default action, even blocked ones read from a signalfd.
pub fn catch_with_noop(sig: nix::sys::signal::Signal) -> Result<(), Errno> {
    use nix::sys::signal::{sigaction, SaFlags, SigAction, SigHandler, SigSet};
    let act = SigAction::new(
        SigHandler::Handler(noop),
        SaFlags::SA_RESTART,
        SigSet::empty(),
    );
    // SAFETY: `noop` is async-signal-safe: it does nothing.
    unsafe { sigaction(sig, &act) }.map(|_| ())
}

/// Puts `sig` back to its default action (execve keeps ignored signals ignored).
pub fn default_action(sig: nix::sys::signal::Signal) {
    // SAFETY: SIG_DFL installs no code as a handler.
    let _ = unsafe { nix::sys::signal::signal(sig, nix::sys::signal::SigHandler::SigDfl) };
}

/// Unlocks a pseudo-terminal master and opens its slave (TIOCSPTLCK, TIOCGPTPEER).
pub fn pty_peer(master: BorrowedFd<'_>) -> Result<OwnedFd, Errno> {
    let unlock: libc::c_int = 0;
    // SAFETY: TIOCSPTLCK reads one int.
    Errno::result(unsafe { libc::ioctl(master.as_raw_fd(), libc::TIOCSPTLCK, &unlock) })?;
    // SAFETY: TIOCGPTPEER takes open flags and returns a new fd.
    let fd = Errno::result(unsafe {
        libc::ioctl(
            master.as_raw_fd(),
            libc::TIOCGPTPEER,
            libc::O_RDWR | libc::O_NOCTTY,
        )
    })?;
    // SAFETY: a new fd returned by the kernel, owned by nobody else.
    Ok(unsafe { OwnedFd::from_raw_fd(fd) })
}

/// Makes `tty` the controlling terminal of the calling session leader and its stdin,
/// stdout and stderr.
pub fn take_terminal(tty: BorrowedFd<'_>) -> Result<(), Errno> {
    // SAFETY: TIOCSCTTY takes an integer argument.
    Errno::result(unsafe { libc::ioctl(tty.as_raw_fd(), libc::TIOCSCTTY, 0) })?;
    for target in 0..=2 {
        // SAFETY: dup2 onto the standard fds, which this process owns.
        Errno::result(unsafe { libc::dup2(tty.as_raw_fd(), target) })?;
    }
    Ok(())
}

/// Copies the window size of one terminal to another.
pub fn copy_window_size(from: BorrowedFd<'_>, to: BorrowedFd<'_>) {
    let mut ws = libc::winsize {
        ws_row: 0,
        ws_col: 0,
        ws_xpixel: 0,
        ws_ypixel: 0,
    };
    // SAFETY: TIOCGWINSZ/TIOCSWINSZ read or write one winsize struct.
    unsafe {
        if libc::ioctl(from.as_raw_fd(), libc::TIOCGWINSZ, &mut ws) == 0 {
            libc::ioctl(to.as_raw_fd(), libc::TIOCSWINSZ, &ws);
        }
    }
}

/// Takes ownership of an fd the kernel installed for us (SCM_RIGHTS).
pub fn own_received_fd(fd: RawFd) -> OwnedFd {
    // SAFETY: the kernel created this fd in our table for this message; nothing else
    // refers to it.
    unsafe { OwnedFd::from_raw_fd(fd) }
}

/// Spawns `cmd` in a session of its own that inherits, of this process's descriptors
/// beyond the standard streams, only `keep` (at their numbers): a process that outlives
/// its starter and holds none of the descriptors its starter's client gave it.
pub fn spawn_detached(
    cmd: &mut std::process::Command,
    keep: [RawFd; 2],
) -> std::io::Result<std::process::Child> {
    use std::os::unix::process::CommandExt;
    // SAFETY: between fork and exec only async-signal-safe calls are made (setsid,
    // close_range, fcntl) and nothing is allocated.
    unsafe {
        cmd.pre_exec(move || {
            const CLOSE_RANGE_CLOEXEC: libc::c_uint = 1 << 2;
            if libc::setsid() < 0
                || libc::syscall(
                    libc::SYS_close_range,
                    3,
                    libc::c_uint::MAX,
                    CLOSE_RANGE_CLOEXEC,
                ) < 0
            {
                return Err(std::io::Error::last_os_error());
            }
            // Close-on-exec rather than closed: the spawner's own error pipe is among them.
            for fd in keep {
                if libc::fcntl(fd, libc::F_SETFD, 0) < 0 {
                    return Err(std::io::Error::last_os_error());
                }
            }
            Ok(())
        })
        .spawn()
    }
}

/// Closes (or, with `cloexec`, marks close-on-exec) every fd from `first` up, except
/// those in `keep` (close_range(2), Linux 5.9/5.11). An fd the caller of syscage leaked
/// without CLOEXEC must never reach the container: an open host directory is a way out
/// of any root file system (CVE-2024-21626).
pub fn close_fds_from(first: RawFd, keep: &[RawFd], cloexec: bool) -> Result<(), Errno> {
    const CLOSE_RANGE_CLOEXEC: libc::c_uint = 1 << 2;
    let flags = if cloexec { CLOSE_RANGE_CLOEXEC } else { 0 };
    let range = |lo: RawFd, hi: RawFd| -> Result<(), Errno> {
        if lo > hi {
            return Ok(());
        }
        // SAFETY: integer arguments only; the fds closed are owned by this process and no
        // Rust object refers to them (those in `keep` are skipped).
        let r = unsafe {
            libc::syscall(
                libc::SYS_close_range,
                lo as libc::c_uint,
                hi as libc::c_uint,
                flags,
            )
        };
        Errno::result(r).map(|_| ())
    };
    let mut kept: Vec<RawFd> = keep.iter().copied().filter(|k| *k >= first).collect();
    kept.sort_unstable();
    kept.dedup();
    let mut lo = first;
    for k in kept {
        range(lo, k - 1)?;
        lo = k + 1;
    }
    range(lo, RawFd::MAX)
}

/// `personality(2)`: sets the execution domain (PER_LINUX32...).
pub fn set_personality(persona: u64) -> Result<(), Errno> {
    // SAFETY: an integer argument; the call returns the previous persona or -1.
    let r = unsafe { libc::personality(persona as libc::c_ulong) };
    Errno::result(r).map(|_| ())
}

/// `setdomainname(2)`, in the calling process's UTS namespace.
pub fn set_domainname(name: &str) -> Result<(), Errno> {
    // SAFETY: a pointer and length of a live byte slice the kernel only reads.
    let r = unsafe { libc::setdomainname(name.as_ptr().cast(), name.len()) };
    Errno::result(r).map(|_| ())
}

/// The CLONE_NEW* type of a namespace file (ioctl NS_GET_NSTYPE, Linux 4.11); EINVAL or
/// ENOTTY when it is not one.
pub fn ns_type(fd: BorrowedFd<'_>) -> Result<i32, Errno> {
    // _IO(0xb7, 0x3)
    const NS_GET_NSTYPE: libc::Ioctl = 0xb703;
    // SAFETY: NS_GET_NSTYPE takes no argument and returns an integer.
    let r = unsafe { libc::ioctl(fd.as_raw_fd(), NS_GET_NSTYPE) };
    Errno::result(r)
}

/// Clears FD_CLOEXEC on `fd`, so that it survives execve (the `--preserve-fds` ones).
pub fn keep_on_exec(fd: RawFd) -> Result<(), Errno> {
    let b = std_fd_any(fd);
    let fl = nix::fcntl::fcntl(b, nix::fcntl::FcntlArg::F_GETFD)?;
    let fl = nix::fcntl::FdFlag::from_bits_retain(fl) - nix::fcntl::FdFlag::FD_CLOEXEC;
    nix::fcntl::fcntl(b, nix::fcntl::FcntlArg::F_SETFD(fl)).map(|_| ())
}

/// Whether fd number `fd` is open in this process.
pub fn fd_is_open(fd: RawFd) -> bool {
    nix::fcntl::fcntl(std_fd_any(fd), nix::fcntl::FcntlArg::F_GETFD).is_ok()
}

/// Drops capability `n` from the bounding set (PR_CAPBSET_DROP), for every number the
/// kernel knows, including ones the capability table does not name.
pub fn drop_bounding(n: u8) -> Result<(), Errno> {
    // SAFETY: prctl with integer arguments.
    let r = unsafe { libc::prctl(libc::PR_CAPBSET_DROP, libc::c_ulong::from(n), 0, 0, 0) };
    Errno::result(r).map(|_| ())
}

/// Whether the peer of a socket has closed it (POLLHUP), without waiting.
pub fn peer_gone(sock: BorrowedFd<'_>) -> bool {
    use nix::poll::{poll, PollFd, PollFlags, PollTimeout};
    let mut fds = [PollFd::new(sock, PollFlags::empty())];
    matches!(poll(&mut fds, PollTimeout::ZERO), Ok(n) if n > 0)
        && fds[0]
            .revents()
            .is_some_and(|r| r.intersects(PollFlags::POLLHUP | PollFlags::POLLERR))
}

// ---------------------------------------------------------------------------------------
// Blocking hand-offs, signals from outside the container, the init's own name, and the
// user's terminal put back on a fatal signal.

impl SharedPage {
    /// The 32-bit word at index `i` (0..1024), for futexes.
    pub fn word32(&self, i: usize) -> &std::sync::atomic::AtomicU32 {
        assert!(i < 1024, "shared page index");
        // SAFETY: the page is 4096 bytes, page-aligned, lives as long as `self`, and is
        // only ever accessed through atomics.
        unsafe { &*(self.ptr.add(i * 4) as *const std::sync::atomic::AtomicU32) }
    }

    /// The address of 32-bit word `i`, the same in every process that shares the page
    /// (it is mapped before the container's processes are forked).
    pub fn addr32(&self, i: usize) -> u64 {
        self.word32(i) as *const std::sync::atomic::AtomicU32 as u64
    }

    /// Registers, as the calling thread's robust futex list (set_robust_list(2)), one
    /// entry: the 64-bit word `entry` of this page, whose futex is the 32-bit word right
    /// after it. When the thread exits or executes, however it happens (a SIGKILL
    /// included), the kernel marks that futex FUTEX_OWNER_DIED if it still holds the
    /// thread's id, and wakes a waiter (kernel/futex/core.c, `exit_robust_list`). This
    /// replaces the C library's own list: only for a process that runs no threads and is
    /// about to execute.
    pub fn register_robust(&self, entry: usize) -> Result<(), Errno> {
        #[repr(C)]
        struct RobustListHead {
            next: u64,
            futex_offset: libc::c_long,
            list_op_pending: u64,
        }
        let entry_addr = self.word(entry) as *const std::sync::atomic::AtomicU64 as u64;
        // The head must outlive the thread: the kernel reads it at exit or execve.
        let head: &'static RobustListHead = Box::leak(Box::new(RobustListHead {
            next: entry_addr,
            futex_offset: 8,
            list_op_pending: 0,
        }));
        // The list is circular: the entry points back at the head.
        self.word(entry).store(
            head as *const RobustListHead as u64,
            std::sync::atomic::Ordering::SeqCst,
        );
        // SAFETY: `head` is a valid robust_list_head that lives for the rest of the
        // process; its entry is in this shared page, which the process keeps mapped until
        // it executes or exits (the only times the kernel reads the list).
        let r = unsafe {
            libc::syscall(
                libc::SYS_set_robust_list,
                head as *const RobustListHead,
                std::mem::size_of::<RobustListHead>(),
            )
        };
        Errno::result(r).map(|_| ())
    }
}

/// `futex(FUTEX_WAIT)` on a word others may map (not FUTEX_PRIVATE): sleeps while
/// `*word == expected`, until a FUTEX_WAKE. EAGAIN (the word changed) and EINTR are
/// returned for the caller to look again.
pub fn futex_wait(word: &std::sync::atomic::AtomicU32, expected: u32) -> Result<(), Errno> {
    // SAFETY: `word` is a valid, aligned u32 for the duration of the call; no timeout.
    let r = unsafe {
        libc::syscall(
            libc::SYS_futex,
            word as *const std::sync::atomic::AtomicU32,
            libc::FUTEX_WAIT,
            expected,
            std::ptr::null::<libc::timespec>(),
        )
    };
    Errno::result(r).map(|_| ())
}

/// `futex(FUTEX_WAKE)`: wakes up to `n` waiters on `word`.
pub fn futex_wake(word: &std::sync::atomic::AtomicU32, n: i32) -> Result<(), Errno> {
    // SAFETY: `word` is a valid, aligned u32; FUTEX_WAKE only reads the arguments.
    let r = unsafe {
        libc::syscall(
            libc::SYS_futex,
            word as *const std::sync::atomic::AtomicU32,
            libc::FUTEX_WAKE,
            n,
        )
    };
    Errno::result(r).map(|_| ())
}

/// The calling thread's id in its own pid namespace (gettid(2)).
pub fn gettid() -> i32 {
    // SAFETY: no arguments; cannot fail.
    unsafe { libc::syscall(libc::SYS_gettid) as i32 }
}

/// `pidfd_send_signal(2)` with `flags` (0, or PIDFD_SIGNAL_PROCESS_GROUP: every process
/// of the group whose id is the pidfd's process, Linux 6.9).
pub fn pidfd_send_signal(pidfd: BorrowedFd<'_>, sig: libc::c_int, flags: u32) -> Result<(), Errno> {
    // SAFETY: integer arguments and a NULL siginfo (the kernel fills in SI_USER).
    let r = unsafe {
        libc::syscall(
            libc::SYS_pidfd_send_signal,
            pidfd.as_raw_fd(),
            sig,
            std::ptr::null::<libc::siginfo_t>(),
            flags,
        )
    };
    Errno::result(r).map(|_| ())
}

/// `PIDFD_SIGNAL_PROCESS_GROUP` (include/uapi/linux/pidfd.h).
pub const PIDFD_SIGNAL_PROCESS_GROUP: u32 = 1 << 2;

/// `/proc/PID/stat` of one process (`pid` a number or `self`), read once: its fields from
/// the state (field 3) on, counted from the last `)` since the command name before them
/// (field 2) may hold spaces and parentheses.
pub struct ProcStat(Vec<String>);

impl ProcStat {
    pub fn read(pid: impl std::fmt::Display) -> Option<ProcStat> {
        let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
        let rest = stat.rsplit_once(')')?.1;
        Some(ProcStat(
            rest.split_whitespace().map(str::to_string).collect(),
        ))
    }

    /// Field `n` (as proc(5) numbers them, from 3).
    pub fn field(&self, n: usize) -> Option<&str> {
        self.0.get(n.checked_sub(3)?).map(String::as_str)
    }

    /// Field `n` as a number.
    pub fn number(&self, n: usize) -> Option<u64> {
        self.field(n)?.parse().ok()
    }

    /// Field 3: R, S, D, Z, T...
    pub fn state(&self) -> &str {
        self.field(3).unwrap_or("X")
    }

    /// Field 22: when the process started, in clock ticks since boot (a reused pid has
    /// another).
    pub fn start_time(&self) -> Option<u64> {
        self.number(22)
    }
}

/// Replaces this process's command line, as `/proc/PID/cmdline` shows it, with `title`,
/// and its name (`comm`) with the title's first word. The argument strings the kernel
/// copied at execve, [arg_start, arg_end) in `/proc/self/stat`, are overwritten in place:
/// the title, then zeros, and a last byte that is not zero, which tells the kernel to show
/// the area up to the first zero (fs/proc/base.c, `get_mm_cmdline`, the setproctitle
/// case). PR_SET_MM_ARG_START would need CAP_SYS_RESOURCE; a new execve would need the
/// whole configuration again. The old strings are gone from memory, not just hidden.
pub fn set_process_title(title: &str) -> Result<(), Errno> {
    let stat = ProcStat::read("self").ok_or(Errno::EIO)?;
    let field =
        |n: usize| -> Result<usize, Errno> { stat.number(n).map(|v| v as usize).ok_or(Errno::EIO) };
    let (start, end) = (field(48)?, field(49)?);
    if end <= start + 1 {
        return Err(Errno::ENOSPC);
    }
    let len = end - start;
    let bytes = title.as_bytes();
    let n = bytes.len().min(len - 2);
    // SAFETY: [start, end) is this process's argument area, mapped writable on its stack
    // since execve; nothing reads it after start-up (std::env::args is not called again).
    unsafe {
        let p = start as *mut u8;
        std::ptr::copy_nonoverlapping(bytes.as_ptr(), p, n);
        std::ptr::write_bytes(p.add(n), 0, len - n - 1);
        *p.add(len - 1) = b' ';
    }
    let name = title.split(' ').next().unwrap_or(title);
    let name = std::ffi::CString::new(name).map_err(|_| Errno::EINVAL)?;
    nix::sys::prctl::set_name(&name)
}

static RESTORE_ARMED: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);
static RESTORE_FD: std::sync::atomic::AtomicI32 = std::sync::atomic::AtomicI32::new(-1);
static mut RESTORE_TERMIOS: std::mem::MaybeUninit<libc::termios> = std::mem::MaybeUninit::zeroed();

/// Signals whose default action ends syscage and that it does not read from its
/// signalfd: a crash, or one nobody expects (`kill -ALRM`).
const FATAL: &[libc::c_int] = &[
    libc::SIGABRT,
    libc::SIGSEGV,
    libc::SIGBUS,
    libc::SIGILL,
    libc::SIGFPE,
    libc::SIGSYS,
    libc::SIGTRAP,
    libc::SIGALRM,
    libc::SIGVTALRM,
    libc::SIGPROF,
    libc::SIGXCPU,
    libc::SIGXFSZ,
    libc::SIGPWR,
    libc::SIGSTKFLT,
    libc::SIGIO,
];

extern "C" fn restore_and_die(sig: libc::c_int) {
    if RESTORE_ARMED.load(std::sync::atomic::Ordering::Acquire) {
        let fd = RESTORE_FD.load(std::sync::atomic::Ordering::Acquire);
        // SAFETY: tcsetattr is async-signal-safe; the termios was written before the
        // flag was set (release/acquire) and is not written again while armed.
        unsafe {
            libc::tcsetattr(
                fd,
                libc::TCSANOW,
                std::ptr::addr_of!(RESTORE_TERMIOS).cast(),
            );
        }
    }
    // SAFETY: signal and raise are async-signal-safe; the signal is blocked while this
    // handler runs, and is delivered with its default action once it returns (a fault
    // happens again and is then fatal).
    unsafe {
        libc::signal(sig, libc::SIG_DFL);
        libc::raise(sig);
    }
}

/// The handlers [`restore_terminal_on_fatal_signals`] replaced (Rust's own, for stack
/// overflows), put back by [`forget_terminal`].
static PREVIOUS: std::sync::Mutex<Vec<(nix::sys::signal::Signal, nix::sys::signal::SigAction)>> =
    std::sync::Mutex::new(Vec::new());

/// Until [`forget_terminal`], a signal in [`FATAL`] puts the terminal `fd` back to `t`
/// before syscage dies of it (a panic unwinds and restores through `Drop`; an abort, a
/// crash or an unexpected signal comes here).
pub fn restore_terminal_on_fatal_signals(
    fd: BorrowedFd<'_>,
    t: &libc::termios,
) -> Result<(), Errno> {
    use nix::sys::signal::{sigaction, SaFlags, SigAction, SigHandler, SigSet, Signal};
    // SAFETY: written only while disarmed, before the release store below; the handler
    // reads it only after the acquire load of the flag.
    unsafe {
        std::ptr::addr_of_mut!(RESTORE_TERMIOS).write(std::mem::MaybeUninit::new(*t));
    }
    RESTORE_FD.store(fd.as_raw_fd(), std::sync::atomic::Ordering::Release);
    RESTORE_ARMED.store(true, std::sync::atomic::Ordering::Release);
    let act = SigAction::new(
        SigHandler::Handler(restore_and_die),
        // On the alternate stack: a stack overflow must reach the handler too.
        SaFlags::SA_ONSTACK,
        SigSet::empty(),
    );
    let mut prev = PREVIOUS.lock().unwrap_or_else(|p| p.into_inner());
    for &n in FATAL {
        let sig = Signal::try_from(n)?;
        // SAFETY: `restore_and_die` is async-signal-safe (see above).
        let old = unsafe { sigaction(sig, &act) }?;
        prev.push((sig, old));
    }
    Ok(())
}

/// The terminal is restored: fatal signals act as before.
pub fn forget_terminal() {
    RESTORE_ARMED.store(false, std::sync::atomic::Ordering::Release);
    let mut prev = PREVIOUS.lock().unwrap_or_else(|p| p.into_inner());
    for (sig, old) in prev.drain(..) {
        // SAFETY: puts back the handler that was there before (Rust's, or the default).
        let _ = unsafe { nix::sys::signal::sigaction(sig, &old) };
    }
}

/// Puts `from` on fd number `to` (dup2(2)), without close-on-exec.
pub fn dup_onto(from: RawFd, to: RawFd) -> Result<(), Errno> {
    if from == to {
        let fd = std_fd_any(to);
        let fl = nix::fcntl::fcntl(fd, nix::fcntl::FcntlArg::F_GETFD)?;
        let fl = nix::fcntl::FdFlag::from_bits_retain(fl) - nix::fcntl::FdFlag::FD_CLOEXEC;
        return nix::fcntl::fcntl(fd, nix::fcntl::FcntlArg::F_SETFD(fl)).map(|_| ());
    }
    // SAFETY: dup2 on fd numbers this process owns; `to` is replaced atomically.
    Errno::result(unsafe { libc::dup2(from, to) }).map(|_| ())
}

/// Borrows fd number `fd`, which the caller owns and keeps open while it is used.
pub fn std_fd_any(fd: RawFd) -> BorrowedFd<'static> {
    // SAFETY: only used on an fd the caller owns, for calls that do not outlive it.
    unsafe { BorrowedFd::borrow_raw(fd) }
}

// SAFETY: the page is only ever accessed through atomics (`word`, `word32`), which may be
// shared between threads; the pointer itself is never written after `new`.
unsafe impl Sync for SharedPage {}
// SAFETY: as above; the mapping belongs to the process, not to a thread.
unsafe impl Send for SharedPage {}

/// `kill(2)` with a signal number (nix's `Signal` lacks the real-time ones).
pub fn kill_raw(pid: i32, sig: libc::c_int) -> Result<(), Errno> {
    // SAFETY: integer arguments only.
    let r = unsafe { libc::kill(pid, sig) };
    Errno::result(r).map(|_| ())
}

/// Connects to the listening Unix stream socket at `path` and sends `data` with `fd`
/// attached (SCM_RIGHTS) in one message: how a console socket gets a terminal and an OCI
/// seccomp agent a notification fd. On failure, the step that failed (`create a
/// socket`, `use the path`, `connect`, `send`) and the errno.
pub fn send_fd(
    path: &std::path::Path,
    data: &[u8],
    fd: BorrowedFd<'_>,
) -> Result<(), (&'static str, Errno)> {
    use nix::sys::socket::{
        connect, sendmsg, socket, AddressFamily, ControlMessage, MsgFlags, SockFlag, SockType,
        UnixAddr,
    };
    let sock = socket(
        AddressFamily::Unix,
        SockType::Stream,
        SockFlag::SOCK_CLOEXEC,
        None,
    )
    .map_err(|e| ("create a socket", e))?;
    let addr = UnixAddr::new(path).map_err(|e| ("use the path", e))?;
    loop {
        match connect(sock.as_raw_fd(), &addr) {
            Err(Errno::EINTR) => continue,
            r => break r.map_err(|e| ("connect", e))?,
        }
    }
    let iov = [std::io::IoSlice::new(data)];
    let fds = [fd.as_raw_fd()];
    sendmsg::<()>(
        sock.as_raw_fd(),
        &iov,
        &[ControlMessage::ScmRights(&fds)],
        MsgFlags::MSG_NOSIGNAL,
        None,
    )
    .map_err(|e| ("send", e))?;
    Ok(())
}

/// Fills `buf` from the kernel's random pool with `getrandom(2)`, without blocking (one
/// call where opening and reading /dev/urandom takes four). `EAGAIN` early in boot, before
/// the pool is ready; the caller has a fallback.
pub fn random_bytes(buf: &mut [u8]) -> Result<(), Errno> {
    // SAFETY: the kernel writes at most `buf.len()` bytes into `buf`, which is valid and
    // writable for that length.
    let ret = unsafe {
        libc::syscall(
            libc::SYS_getrandom,
            buf.as_mut_ptr(),
            buf.len(),
            libc::GRND_NONBLOCK,
        )
    };
    match ret {
        -1 => Err(Errno::last()),
        n if n as usize == buf.len() => Ok(()),
        _ => Err(Errno::EAGAIN),
    }
}
