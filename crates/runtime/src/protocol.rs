//! The typed messages between syscage (the parent) and the container (its init and the
//! command process), over a SOCK_SEQPACKET socket pair: one message per datagram, JSON.
//!
//! The sync points, in order:
//! 1. parent → init: [`ToChild::Go`], once the id maps are written and the init is in its
//!    cgroup. The init does nothing before it (it would run with the wrong identity).
//! 2. init → parent: [`ToParent::Pty`], with the pseudo-terminal's master fd attached
//!    (SCM_RIGHTS), when `--tty` asked for one.
//! 3. command → parent: [`ToParent::Exec`], with SCM_CREDENTIALS so that the kernel tells
//!    the parent the command's pid on the host. Sent just before the filter is loaded.
//! 4. command → parent: [`ToParent::Listener`] when the parent supervises notifications.
//! 5. end of file: every container copy of the socket is closed; the init closes its copy
//!    after starting the command, and the command's copy closes on `execve` (CLOEXEC).
//!    End of file after `Exec` means the command is running.
//!
//! Any step can instead send [`ToParent::Failed`], which names the step; the parent reports
//! it and exits 125, 126 or 127.

use nix::errno::Errno;
use nix::sys::socket::{
    recvmsg, sendmsg, setsockopt, sockopt, ControlMessage, ControlMessageOwned, MsgFlags,
    UnixCredentials,
};
use serde::{Deserialize, Serialize};
use std::io::{IoSlice, IoSliceMut};
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, OwnedFd, RawFd};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum ToChild {
    Go,
}

/// How a failure in the container maps to syscage's exit status (Docker's convention).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum FailureKind {
    /// Setting up the container failed: 125.
    Setup,
    /// The command exists but cannot be executed: 126.
    CannotExecute,
    /// The command was not found: 127.
    NotFound,
}

impl FailureKind {
    pub fn exit_code(self) -> i32 {
        match self {
            FailureKind::Setup => 125,
            FailureKind::CannotExecute => 126,
            FailureKind::NotFound => 127,
        }
    }
}

/// A step that failed inside the container.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Failure {
    pub kind: FailureKind,
    /// What was being done, e.g. "mount `proc` on `/proc`".
    pub step: String,
    /// The errno, when a system call failed.
    pub errno: Option<i32>,
    /// Why it probably failed, when the errno alone misleads.
    pub hint: Option<String>,
}

/// A [`Failure`] of `kind` at `step`, with the errno and hint when there are.
pub fn failure(
    kind: FailureKind,
    step: impl Into<String>,
    errno: Option<Errno>,
    hint: Option<String>,
) -> Failure {
    Failure {
        kind,
        step: step.into(),
        errno: errno.map(|e| e as i32),
        hint,
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum ToParent {
    /// The pseudo-terminal master is attached.
    Pty,
    /// The command is about to load its filter and execute; credentials attached.
    Exec,
    /// The command will have its notification listener at this fd number once the
    /// filter is loaded; the parent takes it with pidfd_getfd (see `listener`).
    Listener {
        fd: RawFd,
    },
    Failed(Failure),
}

/// A message and what came with it.
#[derive(Debug)]
pub struct Received<T> {
    pub msg: T,
    pub fd: Option<OwnedFd>,
    /// The sender's pid as the receiver's pid namespace sees it.
    pub pid: Option<i32>,
}

const MAX_MSG: usize = 16 * 1024;

/// Sends a message, optionally with an fd (SCM_RIGHTS) or the sender's credentials.
pub fn send<T: Serialize>(
    sock: BorrowedFd<'_>,
    msg: &T,
    fd: Option<RawFd>,
    creds: bool,
) -> Result<(), Errno> {
    let body = serde_json::to_vec(msg).map_err(|_| Errno::EINVAL)?;
    let iov = [IoSlice::new(&body)];
    let fds;
    let ucred;
    let mut cmsgs = Vec::new();
    if let Some(fd) = fd {
        fds = [fd];
        cmsgs.push(ControlMessage::ScmRights(&fds));
    }
    if creds {
        ucred = UnixCredentials::new();
        cmsgs.push(ControlMessage::ScmCredentials(&ucred));
    }
    sendmsg::<()>(sock.as_raw_fd(), &iov, &cmsgs, MsgFlags::MSG_NOSIGNAL, None)?;
    Ok(())
}

/// Asks the kernel to attach senders' credentials to what this socket receives.
pub fn want_credentials(sock: BorrowedFd<'_>) -> Result<(), Errno> {
    setsockopt(&sock, sockopt::PassCred, &true)
}

/// Receives one message; `Ok(None)` at end of file (every peer copy closed).
pub fn recv<T: for<'de> Deserialize<'de>>(
    sock: BorrowedFd<'_>,
) -> Result<Option<Received<T>>, Errno> {
    let mut buf = vec![0u8; MAX_MSG];
    let mut space = nix::cmsg_space!([RawFd; 1], UnixCredentials);
    let (len, fd, pid) = loop {
        let mut iov = [IoSliceMut::new(&mut buf)];
        let r = match recvmsg::<()>(
            sock.as_raw_fd(),
            &mut iov,
            Some(&mut space),
            MsgFlags::MSG_CMSG_CLOEXEC,
        ) {
            Err(Errno::EINTR) => continue,
            r => r?,
        };
        let mut fd = None;
        let mut pid = None;
        for c in r.cmsgs()? {
            match c {
                ControlMessageOwned::ScmRights(fds) => {
                    for f in fds {
                        let owned = crate::sys::own_received_fd(f);
                        if fd.is_none() {
                            fd = Some(owned);
                        }
                    }
                }
                ControlMessageOwned::ScmCredentials(c) => pid = Some(c.pid()),
                _ => {}
            }
        }
        break (r.bytes, fd, pid);
    };
    if len == 0 {
        return Ok(None);
    }
    let msg = serde_json::from_slice(&buf[..len]).map_err(|_| Errno::EBADMSG)?;
    Ok(Some(Received { msg, fd, pid }))
}

/// What the parent expects next, and what each message means at that point: the
/// handshake as a state machine, tested without any process.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Handshake {
    /// Go sent; waiting for the pty (if any) and then the command's Exec.
    Setup,
    /// Exec received; waiting for the listener (if any) or end of file.
    Exec,
    /// End of file after Exec: the command runs.
    Running,
}

/// What the parent must do after a message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Next {
    Continue,
    TakePty,
    TakeListener(RawFd),
    Running,
    Fail(Failure),
    /// The container ended or broke the protocol during set-up.
    Abort(&'static str),
}

impl Handshake {
    pub fn on(&mut self, msg: Option<&ToParent>) -> Next {
        match (*self, msg) {
            (_, Some(ToParent::Failed(f))) => Next::Fail(f.clone()),
            (Handshake::Setup, Some(ToParent::Pty)) => Next::TakePty,
            (Handshake::Setup, Some(ToParent::Exec)) => {
                *self = Handshake::Exec;
                Next::Continue
            }
            (Handshake::Exec, Some(ToParent::Listener { fd })) => Next::TakeListener(*fd),
            (Handshake::Exec, None) => {
                *self = Handshake::Running;
                Next::Running
            }
            (Handshake::Setup, None) => Next::Abort("the container's init exited during set-up"),
            (_, Some(_)) => Next::Abort("unexpected message from the container"),
            (Handshake::Running, None) => Next::Running,
        }
    }
}

/// Borrow helper for owned sockets.
pub fn fd(s: &OwnedFd) -> BorrowedFd<'_> {
    s.as_fd()
}

#[cfg(test)]
mod tests {
    use super::*;
    use nix::sys::socket::{socketpair, AddressFamily, SockFlag, SockType};

    #[test]
    fn handshake_in_order() {
        let mut h = Handshake::Setup;
        assert_eq!(h.on(Some(&ToParent::Pty)), Next::TakePty);
        assert_eq!(h.on(Some(&ToParent::Exec)), Next::Continue);
        assert_eq!(h, Handshake::Exec);
        assert_eq!(
            h.on(Some(&ToParent::Listener { fd: 5 })),
            Next::TakeListener(5)
        );
        assert_eq!(h.on(None), Next::Running);
        assert_eq!(h, Handshake::Running);
    }

    #[test]
    fn handshake_failures() {
        let f = Failure {
            kind: FailureKind::NotFound,
            step: "find `nope`".into(),
            errno: Some(2),
            hint: None,
        };
        let mut h = Handshake::Setup;
        assert_eq!(h.on(Some(&ToParent::Failed(f.clone()))), Next::Fail(f));
        let mut h = Handshake::Setup;
        assert_eq!(
            h.on(None),
            Next::Abort("the container's init exited during set-up")
        );
        let mut h = Handshake::Setup;
        assert_eq!(
            h.on(Some(&ToParent::Listener { fd: 3 })),
            Next::Abort("unexpected message from the container")
        );
        let mut h = Handshake::Exec;
        assert_eq!(
            h.on(Some(&ToParent::Pty)),
            Next::Abort("unexpected message from the container")
        );
    }

    #[test]
    fn messages_cross_a_socket_with_credentials_and_fds() {
        let (a, b) = socketpair(
            AddressFamily::Unix,
            SockType::SeqPacket,
            None,
            SockFlag::SOCK_CLOEXEC,
        )
        .unwrap();
        want_credentials(b.as_fd()).unwrap();
        let devnull = std::fs::File::open("/dev/null").unwrap();
        send(a.as_fd(), &ToParent::Pty, Some(devnull.as_raw_fd()), false).unwrap();
        let got: Received<ToParent> = recv(b.as_fd()).unwrap().unwrap();
        assert_eq!(got.msg, ToParent::Pty);
        assert!(got.fd.is_some());
        send(a.as_fd(), &ToParent::Exec, None, true).unwrap();
        let got: Received<ToParent> = recv(b.as_fd()).unwrap().unwrap();
        assert_eq!(got.msg, ToParent::Exec);
        assert_eq!(got.pid, Some(std::process::id() as i32));
        drop(a);
        assert!(recv::<ToParent>(b.as_fd()).unwrap().is_none());
    }
}
