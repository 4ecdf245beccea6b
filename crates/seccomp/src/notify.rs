//! The kernel's seccomp user notification interface (seccomp_unotify(2)): receive a
//! notified call, answer it with an errno, a value, or "continue".
#![allow(unsafe_code)]

use crate::bpf::SeccompData;
use std::io;
use std::os::fd::{AsRawFd, BorrowedFd, FromRawFd, OwnedFd};

#[repr(C)]
#[derive(Default, Clone, Copy)]
struct RawData {
    nr: i32,
    arch: u32,
    instruction_pointer: u64,
    args: [u64; 6],
}

#[repr(C)]
#[derive(Default, Clone, Copy)]
struct RawNotif {
    id: u64,
    pid: u32,
    flags: u32,
    data: RawData,
}

#[repr(C)]
#[derive(Default, Clone, Copy)]
struct RawResp {
    id: u64,
    val: i64,
    error: i32,
    flags: u32,
}

// The structs as include/uapi/linux/seccomp.h lays them out: the ioctl numbers below encode
// their sizes, and the kernel matches the numbers exactly, so a struct of another size
// would make every call fail with EINVAL (or read past a buffer): checked at compile time.
const _: () = assert!(std::mem::size_of::<RawData>() == 64);
const _: () = assert!(std::mem::size_of::<RawNotif>() == 80);
const _: () = assert!(std::mem::size_of::<RawResp>() == 24);

// SECCOMP_IOCTL_NOTIF_RECV is _IOWR('!', 0, struct seccomp_notif) and so on. The kernel
// reads the request as 32 bits; as u32 here because nix's macros give musl's `int` (the
// value widened to u64 would be sign-extended).
const NOTIF_RECV: u32 =
    nix::request_code_readwrite!(b'!', 0, std::mem::size_of::<RawNotif>()) as u32;
const NOTIF_SEND: u32 =
    nix::request_code_readwrite!(b'!', 1, std::mem::size_of::<RawResp>()) as u32;
const NOTIF_ID_VALID: u32 = nix::request_code_write!(b'!', 2, std::mem::size_of::<u64>()) as u32;
const NOTIF_SET_FLAGS: u32 = nix::request_code_write!(b'!', 4, std::mem::size_of::<u64>()) as u32;
const FLAG_CONTINUE: u32 = 1;

#[cfg(test)]
mod numbers {
    /// The values the kernel's headers give (seccomp_unotify(2), x86_64).
    #[test]
    fn the_ioctl_numbers_are_the_kernels() {
        assert_eq!(super::NOTIF_RECV, 0xC050_2100);
        assert_eq!(super::NOTIF_SEND, 0xC018_2101);
        assert_eq!(super::NOTIF_ID_VALID, 0x4008_2102);
        assert_eq!(super::NOTIF_SET_FLAGS, 0x4008_2104);
    }
}
const FD_SYNC_WAKE_UP: u64 = 1;

/// One notified call.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Notification {
    pub id: u64,
    /// The calling thread, as the supervisor's pid namespace numbers it.
    pub pid: u32,
    pub data: SeccompData,
}

/// The answer to a notified call.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Response {
    /// Fail the call with this errno.
    Errno(i32),
    /// Let the kernel run the call (safe when the decision did not read user memory).
    Continue,
}

/// Waits for the next notification. `Ok(None)` when the calling thread died before it
/// could be read (ENOENT) or the wait was interrupted.
pub fn receive(fd: BorrowedFd<'_>) -> io::Result<Option<Notification>> {
    let mut n = RawNotif::default();
    // SAFETY: `n` is a zeroed seccomp_notif the kernel fills in; the size matches the
    // ioctl number.
    let r = unsafe { libc::ioctl(fd.as_raw_fd(), NOTIF_RECV as _, &mut n as *mut RawNotif) };
    if r < 0 {
        let e = io::Error::last_os_error();
        return match e.raw_os_error() {
            Some(libc::ENOENT) | Some(libc::EINTR) => Ok(None),
            _ => Err(e),
        };
    }
    Ok(Some(Notification {
        id: n.id,
        pid: n.pid,
        data: SeccompData {
            nr: n.data.nr as u32,
            arch: n.data.arch,
            instruction_pointer: n.data.instruction_pointer,
            args: n.data.args,
        },
    }))
}

/// Answers a notification. A thread that died meanwhile is not an error.
pub fn respond(fd: BorrowedFd<'_>, id: u64, r: Response) -> io::Result<()> {
    let resp = match r {
        Response::Errno(e) => RawResp {
            id,
            val: 0,
            error: -e,
            flags: 0,
        },
        Response::Continue => RawResp {
            id,
            val: 0,
            error: 0,
            flags: FLAG_CONTINUE,
        },
    };
    // SAFETY: `resp` is a valid seccomp_notif_resp read by the kernel during the call.
    let ret = unsafe { libc::ioctl(fd.as_raw_fd(), NOTIF_SEND as _, &resp as *const RawResp) };
    if ret < 0 {
        let e = io::Error::last_os_error();
        if e.raw_os_error() == Some(libc::ENOENT) {
            return Ok(());
        }
        return Err(e);
    }
    Ok(())
}

/// Whether a notification is still pending (its thread has not died or been interrupted):
/// call it after reading the thread's memory, before trusting what was read.
pub fn id_valid(fd: BorrowedFd<'_>, id: u64) -> bool {
    // SAFETY: the kernel reads one u64.
    unsafe { libc::ioctl(fd.as_raw_fd(), NOTIF_ID_VALID as _, &id as *const u64) == 0 }
}

/// Asks the kernel to wake the notified thread on the supervisor's CPU when answered
/// (SECCOMP_USER_NOTIF_FD_SYNC_WAKE_UP, Linux 6.6): a round trip then costs two context
/// switches on one CPU instead of a cross-CPU wake-up. Older kernels refuse; that is fine.
pub fn sync_wake_up(fd: BorrowedFd<'_>) -> bool {
    let flags = FD_SYNC_WAKE_UP;
    // SAFETY: the kernel reads one u64.
    unsafe { libc::ioctl(fd.as_raw_fd(), NOTIF_SET_FLAGS as _, flags) == 0 }
}

/// Receives bytes and the descriptors sent with them (SCM_RIGHTS) from a Unix socket, as
/// an OCI runtime sends a seccomp agent the notification fd with the container state.
/// Returns how many bytes were read, the descriptors (close-on-exec), and whether the
/// sender's descriptors did not all fit (MSG_CTRUNC: the kernel closed the rest). At most
/// `max_fds` descriptors are taken in.
pub fn recv_with_fds(
    sock: BorrowedFd<'_>,
    buf: &mut [u8],
    max_fds: usize,
) -> io::Result<(usize, Vec<OwnedFd>, bool)> {
    use nix::sys::socket::{recvmsg, ControlMessageOwned, MsgFlags};
    let mut iov = [io::IoSliceMut::new(buf)];
    let mut cmsg = vec![0u8; nix::sys::socket::cmsg_space::<std::os::fd::RawFd>() * max_fds.max(1)];
    let msg = recvmsg::<()>(
        sock.as_raw_fd(),
        &mut iov,
        Some(&mut cmsg),
        MsgFlags::MSG_CMSG_CLOEXEC,
    )
    .map_err(|e| io::Error::from_raw_os_error(e as i32))?;
    let mut fds = Vec::new();
    for c in msg
        .cmsgs()
        .map_err(|e| io::Error::from_raw_os_error(e as i32))?
    {
        if let ControlMessageOwned::ScmRights(raw) = c {
            for fd in raw {
                // SAFETY: the kernel installed this descriptor in our table for this
                // message (SCM_RIGHTS); nothing else owns it.
                fds.push(unsafe { OwnedFd::from_raw_fd(fd) });
            }
        }
    }
    Ok((msg.bytes, fds, msg.flags.contains(MsgFlags::MSG_CTRUNC)))
}

/// The thread group (process) a thread belongs to, from `/proc/TID/status`.
pub fn tgid_of(tid: u32) -> Option<u32> {
    std::fs::read_to_string(format!("/proc/{tid}/status"))
        .ok()?
        .lines()
        .find(|l| l.starts_with("Tgid:"))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|v| v.parse().ok())
}

/// `pidfd_open(2)`: an fd that refers to the process and becomes readable when it exits.
pub fn pidfd_open(pid: libc::pid_t) -> io::Result<OwnedFd> {
    // SAFETY: plain integer arguments; on success the return value is a new fd we own.
    let r = unsafe { libc::syscall(libc::SYS_pidfd_open, pid, 0) };
    if r < 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: a fresh fd returned by the kernel, owned by nobody else.
    Ok(unsafe { OwnedFd::from_raw_fd(r as i32) })
}

/// Kills, with SIGKILL, the process whose thread `tid` made the pending notification `id`,
/// never another one that reuses the pid: the process is pinned with a pidfd first, and
/// only if the notification is still pending afterwards (its thread, and so its process,
/// was alive from the pid lookup to the pin) is the signal sent through the pidfd.
/// `ESRCH` when the thread is gone (there is nothing to kill).
pub fn kill_notifier(fd: BorrowedFd<'_>, id: u64, tid: u32) -> io::Result<()> {
    let tgid = tgid_of(tid).ok_or_else(|| io::Error::from_raw_os_error(libc::ESRCH))?;
    let pidfd = pidfd_open(tgid as libc::pid_t)?;
    if !id_valid(fd, id) {
        return Err(io::Error::from_raw_os_error(libc::ESRCH));
    }
    // SAFETY: pidfd_send_signal(pidfd, sig, NULL info, 0 flags).
    let r = unsafe {
        libc::syscall(
            libc::SYS_pidfd_send_signal,
            pidfd.as_raw_fd(),
            libc::SIGKILL,
            std::ptr::null::<libc::siginfo_t>(),
            0,
        )
    };
    if r < 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}
