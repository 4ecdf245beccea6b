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
    // SAFETY: plain integer arguments; on success the return value is a new fd we own.
    let ret = unsafe { libc::syscall(libc::SYS_pidfd_open, pid.as_raw(), 0) };
    if ret < 0 {
        return Err(Errno::last());
    }
    // SAFETY: a fresh fd returned by the kernel, owned by nobody else.
    Ok(unsafe { OwnedFd::from_raw_fd(ret as RawFd) })
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
    let ret = unsafe { libc::ioctl(sock.as_raw_fd(), libc::SIOCGIFFLAGS, &mut req) };
    if ret < 0 {
        return Err(Errno::last());
    }
    // SAFETY: the union member ifru_flags is the one SIOCGIFFLAGS filled in.
    unsafe {
        req.ifr_ifru.ifru_flags |= (libc::IFF_UP | libc::IFF_RUNNING) as libc::c_short;
    }
    // SAFETY: as above.
    let ret = unsafe { libc::ioctl(sock.as_raw_fd(), libc::SIOCSIFFLAGS, &req) };
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

/// Closes (or, with `cloexec`, marks close-on-exec) every fd from `first` up, except
/// `keep` (close_range(2), Linux 5.9/5.11). An fd the caller of syscage leaked without
/// CLOEXEC must never reach the container: an open host directory is a way out of any
/// root file system (CVE-2024-21626).
pub fn close_fds_from(first: RawFd, keep: Option<RawFd>, cloexec: bool) -> Result<(), Errno> {
    const CLOSE_RANGE_CLOEXEC: libc::c_uint = 1 << 2;
    let flags = if cloexec { CLOSE_RANGE_CLOEXEC } else { 0 };
    let range = |lo: RawFd, hi: RawFd| -> Result<(), Errno> {
        if lo > hi {
            return Ok(());
        }
        // SAFETY: integer arguments only; the fds closed are owned by this process and no
        // Rust object refers to them (`keep` is skipped).
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
    match keep {
        Some(k) if k >= first => {
            range(first, k - 1)?;
            range(k + 1, RawFd::MAX)
        }
        _ => range(first, RawFd::MAX),
    }
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
