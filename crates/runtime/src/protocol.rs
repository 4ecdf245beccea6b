//! The typed messages between syscage (the parent) and the container (its init and the
//! command process), over a SOCK_SEQPACKET socket pair: one message per datagram, JSON.
//!
//! The sync points, in order:
//! 1. parent → init: [`ToChild::Go`], once the id maps are written and the init is in its
//!    cgroup. The init does nothing before it (it would run with the wrong identity).
//! 2. init → parent: [`ToParent::Pty`], with the pseudo-terminal's master fd attached
//!    (SCM_RIGHTS), when `--tty` asked for one.
//! 3. command → parent: [`ToParent::Exec`], with a pidfd of the command attached and
//!    SCM_CREDENTIALS (so that the kernel tells the parent the command's pid on the host).
//!    Sent just before the filter is loaded. From here on the parent follows the command
//!    through its pidfd, whatever the init does.
//! 4. command → parent: [`ToParent::Listener`] when the parent takes the notification fd
//!    (see `handoff`).
//! 5. end of file: every container copy of the socket is closed; the init closes its copy
//!    after starting the command, and the command's copy closes on `execve` (CLOEXEC).
//!    End of file after `Exec` (and `Listener`, when one is expected) means the command is
//!    running.
//!
//! Any step can instead send [`ToParent::Failed`], which names the step; the parent reports
//! it and exits 125, 126 or 127. Anything else is refused: the parent builds the sequence
//! from what the run expects ([`Expect`]) and [`Handshake`] accepts exactly that sequence,
//! each message once, in order, with what must come with it.

use nix::errno::Errno;
use nix::sys::socket::{
    recvmsg, sendmsg, setsockopt, sockopt, ControlMessage, ControlMessageOwned, MsgFlags,
    UnixCredentials,
};
use serde::{Deserialize, Serialize};
use std::io::{IoSlice, IoSliceMut};
use std::os::fd::{AsRawFd, BorrowedFd, OwnedFd, RawFd};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum ToChild {
    Go,
    /// The OCI `prestart` and `createRuntime` hooks ran: go on, with the container's
    /// state for the hooks the process runs itself.
    Continue {
        state: String,
    },
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
    /// OCI: the container's namespaces and mounts are made, `pivot_root` is next; the
    /// parent runs `prestart` and `createRuntime` and answers `Continue`.
    Hooks,
    /// The pseudo-terminal master is attached.
    Pty,
    /// OCI: the set-up is done; the process waits for `start` on the exec FIFO.
    Ready,
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

/// What a run expects from the container during set-up.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Expect {
    /// `--tty`: the init sends the pseudo-terminal's master.
    pub pty: bool,
    /// The parent takes the command's notification fd (report, learn, OCI listener).
    pub listener: bool,
    /// OCI hooks: the process stops before `pivot_root` for the parent's hooks.
    pub hooks: bool,
    /// OCI `create`: the process says `Ready` (and waits for `start`) where `syscage
    /// run`'s command says `Exec`.
    pub ready: bool,
    /// The filter (and so the listener) is loaded before `Ready` (an OCI process
    /// without no_new_privs).
    pub early_listener: bool,
}

/// One step of the set-up, as the parent sees it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Step {
    Hooks,
    Pty,
    Ready,
    Exec,
    Listener,
    End,
}

impl Step {
    fn name(self) -> &'static str {
        match self {
            Step::Hooks => "`Hooks`",
            Step::Pty => "`Pty`",
            Step::Ready => "`Ready`",
            Step::Exec => "`Exec`",
            Step::Listener => "`Listener`",
            Step::End => "the end of the set-up",
        }
    }
}

impl ToParent {
    fn name(&self) -> &'static str {
        match self {
            ToParent::Hooks => "Hooks",
            ToParent::Pty => "Pty",
            ToParent::Ready => "Ready",
            ToParent::Exec => "Exec",
            ToParent::Listener { .. } => "Listener",
            ToParent::Failed(_) => "Failed",
        }
    }
}

/// What came with a message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Attached {
    /// A file descriptor (SCM_RIGHTS).
    pub fd: bool,
    /// The sender's credentials (SCM_CREDENTIALS).
    pub pid: bool,
}

/// Why the parent stops the set-up.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Refused {
    #[error("the container's init exited during set-up")]
    InitGone,
    #[error("the command ended without handing over its seccomp notification fd")]
    NoListener,
    #[error("unexpected message `{got}` from the container (expected {expected})")]
    Unexpected {
        got: &'static str,
        expected: &'static str,
    },
    #[error("message `{got}` from the container came without {missing}")]
    Incomplete {
        got: &'static str,
        missing: &'static str,
    },
}

/// The set-up as a state machine: the steps still expected, in order. Built from what
/// the run asks for, so a `Pty` without `--tty`, a second `Listener` or an `Exec` before
/// the terminal is refused, not acted on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Handshake {
    pending: Vec<Step>,
}

/// What the parent must do after a message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Next {
    /// Run the OCI `prestart` and `createRuntime` hooks, then answer `Continue`.
    RunHooks,
    /// Take the attached fd: the pseudo-terminal's master.
    TakePty,
    /// OCI: the process is set up and waits for `start`.
    Ready,
    /// The command is about to load its filter: take the attached pidfd and its pid.
    Started,
    /// Take the command's notification fd at this number once its filter is loaded.
    TakeListener(RawFd),
    /// The set-up is over: the command runs.
    Running,
    Fail(Failure),
    Abort(Refused),
}

/// One step of the handshake as read from the socket: what to do, and the fd and the
/// sender's pid that came with the message.
pub struct Turn {
    pub next: Next,
    pub fd: Option<OwnedFd>,
    pub pid: Option<i32>,
}

impl Handshake {
    /// Reads the next message from `sock` (`from`: whom, for the error) and decides.
    pub fn read(
        &mut self,
        sock: BorrowedFd<'_>,
        from: &str,
    ) -> Result<Turn, crate::error::RunError> {
        let got = recv::<ToParent>(sock)
            .map_err(|e| crate::error::RunError::parent(format!("read from {from}"), e))?;
        let (msg, fd, pid) = match got {
            Some(r) => (Some(r.msg), r.fd, r.pid),
            None => (None, None, None),
        };
        let attached = Attached {
            fd: fd.is_some(),
            pid: pid.is_some(),
        };
        let next = self.on(msg.as_ref().map(|m| (m, attached)));
        Ok(Turn { next, fd, pid })
    }

    pub fn new(e: Expect) -> Handshake {
        let mut pending = vec![Step::End];
        if e.listener && !e.early_listener {
            pending.push(Step::Listener);
        }
        pending.push(if e.ready { Step::Ready } else { Step::Exec });
        if e.listener && e.early_listener {
            pending.push(Step::Listener);
        }
        if e.pty {
            pending.push(Step::Pty);
        }
        if e.hooks {
            pending.push(Step::Hooks);
        }
        Handshake { pending }
    }

    /// Whether the set-up is over.
    pub fn done(&self) -> bool {
        self.pending.is_empty()
    }

    /// What a message (`None`: end of file) means now.
    pub fn on(&mut self, got: Option<(&ToParent, Attached)>) -> Next {
        let Some(&expected) = self.pending.last() else {
            return Next::Abort(match got {
                Some((m, _)) => Refused::Unexpected {
                    got: m.name(),
                    expected: "nothing after the set-up",
                },
                None => Refused::InitGone,
            });
        };
        let (msg, att) = match got {
            None => {
                return match expected {
                    Step::End => {
                        self.pending.pop();
                        Next::Running
                    }
                    Step::Listener => Next::Abort(Refused::NoListener),
                    Step::Hooks | Step::Pty | Step::Ready | Step::Exec => {
                        Next::Abort(Refused::InitGone)
                    }
                }
            }
            Some(g) => g,
        };
        let incomplete = |missing| {
            Next::Abort(Refused::Incomplete {
                got: msg.name(),
                missing,
            })
        };
        let next = match (expected, msg) {
            (_, ToParent::Failed(f)) => return Next::Fail(f.clone()),
            (Step::Hooks, ToParent::Hooks) => Next::RunHooks,
            (Step::Ready, ToParent::Ready) => Next::Ready,
            (Step::Pty, ToParent::Pty) if !att.fd => return incomplete("the terminal's fd"),
            (Step::Pty, ToParent::Pty) => Next::TakePty,
            (Step::Exec, ToParent::Exec) if !att.fd => return incomplete("the command's pidfd"),
            (Step::Exec, ToParent::Exec) if !att.pid => {
                return incomplete("the command's credentials")
            }
            (Step::Exec, ToParent::Exec) => Next::Started,
            (Step::Listener, ToParent::Listener { fd }) if !att.fd => Next::TakeListener(*fd),
            (Step::Listener, ToParent::Listener { .. }) => {
                return Next::Abort(Refused::Unexpected {
                    got: "Listener with an fd",
                    expected: "a fd number alone",
                })
            }
            _ => {
                return Next::Abort(Refused::Unexpected {
                    got: msg.name(),
                    expected: expected.name(),
                })
            }
        };
        self.pending.pop();
        next
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use nix::sys::socket::{socketpair, AddressFamily, SockFlag, SockType};
    use std::os::fd::AsFd;

    const FD: Attached = Attached {
        fd: true,
        pid: false,
    };
    const EXEC: Attached = Attached {
        fd: true,
        pid: true,
    };
    const BARE: Attached = Attached {
        fd: false,
        pid: false,
    };

    fn unexpected(got: &'static str, expected: &'static str) -> Next {
        Next::Abort(Refused::Unexpected { got, expected })
    }

    #[test]
    fn handshake_in_order() {
        let mut h = Handshake::new(Expect {
            pty: true,
            listener: true,
            ..Expect::default()
        });
        assert_eq!(h.on(Some((&ToParent::Pty, FD))), Next::TakePty);
        assert_eq!(h.on(Some((&ToParent::Exec, EXEC))), Next::Started);
        assert_eq!(
            h.on(Some((&ToParent::Listener { fd: 5 }, BARE))),
            Next::TakeListener(5)
        );
        assert!(!h.done());
        assert_eq!(h.on(None), Next::Running);
        assert!(h.done());
        let mut plain = Handshake::new(Expect {
            pty: false,
            listener: false,
            ..Expect::default()
        });
        assert_eq!(plain.on(Some((&ToParent::Exec, EXEC))), Next::Started);
        assert_eq!(plain.on(None), Next::Running);
    }

    #[test]
    fn handshake_refuses_what_the_run_did_not_ask_for() {
        let none = Expect {
            pty: false,
            listener: false,
            ..Expect::default()
        };
        // A terminal nobody asked for, a listener nobody takes.
        let mut h = Handshake::new(none);
        assert_eq!(
            h.on(Some((&ToParent::Pty, FD))),
            unexpected("Pty", "`Exec`")
        );
        let mut h = Handshake::new(none);
        h.on(Some((&ToParent::Exec, EXEC)));
        assert_eq!(
            h.on(Some((&ToParent::Listener { fd: 3 }, BARE))),
            unexpected("Listener", "the end of the set-up")
        );
        // Twice the same message.
        let mut h = Handshake::new(Expect {
            pty: true,
            listener: true,
            ..Expect::default()
        });
        h.on(Some((&ToParent::Pty, FD)));
        assert_eq!(
            h.on(Some((&ToParent::Pty, FD))),
            unexpected("Pty", "`Exec`")
        );
        let mut h = Handshake::new(Expect {
            pty: false,
            listener: true,
            ..Expect::default()
        });
        h.on(Some((&ToParent::Exec, EXEC)));
        h.on(Some((&ToParent::Listener { fd: 4 }, BARE)));
        assert_eq!(
            h.on(Some((&ToParent::Listener { fd: 4 }, BARE))),
            unexpected("Listener", "the end of the set-up")
        );
        // Out of order: the command before the terminal.
        let mut h = Handshake::new(Expect {
            pty: true,
            listener: false,
            ..Expect::default()
        });
        assert_eq!(
            h.on(Some((&ToParent::Exec, EXEC))),
            unexpected("Exec", "`Pty`")
        );
        // After the end, nothing.
        let mut h = Handshake::new(none);
        h.on(Some((&ToParent::Exec, EXEC)));
        h.on(None);
        assert_eq!(
            h.on(Some((&ToParent::Exec, EXEC))),
            unexpected("Exec", "nothing after the set-up")
        );
    }

    #[test]
    fn handshake_checks_what_comes_with_a_message() {
        let mut h = Handshake::new(Expect {
            pty: true,
            listener: true,
            ..Expect::default()
        });
        assert_eq!(
            h.on(Some((&ToParent::Pty, BARE))),
            Next::Abort(Refused::Incomplete {
                got: "Pty",
                missing: "the terminal's fd"
            })
        );
        let mut h = Handshake::new(Expect {
            pty: false,
            listener: true,
            ..Expect::default()
        });
        assert_eq!(
            h.on(Some((&ToParent::Exec, FD))),
            Next::Abort(Refused::Incomplete {
                got: "Exec",
                missing: "the command's credentials"
            })
        );
        h.on(Some((&ToParent::Exec, EXEC)));
        assert_eq!(
            h.on(Some((&ToParent::Listener { fd: 6 }, FD))),
            unexpected("Listener with an fd", "a fd number alone")
        );
        assert_eq!(h.on(None), Next::Abort(Refused::NoListener));
    }

    #[test]
    fn handshake_failures() {
        let f = Failure {
            kind: FailureKind::NotFound,
            step: "find `nope`".into(),
            errno: Some(2),
            hint: None,
        };
        let all = Expect {
            pty: true,
            listener: true,
            ..Expect::default()
        };
        let mut h = Handshake::new(all);
        assert_eq!(
            h.on(Some((&ToParent::Failed(f.clone()), BARE))),
            Next::Fail(f.clone())
        );
        let mut h = Handshake::new(all);
        h.on(Some((&ToParent::Pty, FD)));
        h.on(Some((&ToParent::Exec, EXEC)));
        assert_eq!(
            h.on(Some((&ToParent::Failed(f.clone()), BARE))),
            Next::Fail(f)
        );
        let mut h = Handshake::new(all);
        assert_eq!(h.on(None), Next::Abort(Refused::InitGone));
    }

    #[test]
    fn oci_handshake_stops_for_hooks_and_ends_ready() {
        let all = Expect {
            pty: true,
            listener: true,
            hooks: true,
            ready: true,
            early_listener: false,
        };
        let early = Expect {
            early_listener: true,
            ..all
        };
        let mut h = Handshake::new(early);
        h.on(Some((&ToParent::Hooks, BARE)));
        h.on(Some((&ToParent::Pty, FD)));
        assert_eq!(
            h.on(Some((&ToParent::Listener { fd: 4 }, BARE))),
            Next::TakeListener(4)
        );
        assert_eq!(h.on(Some((&ToParent::Ready, BARE))), Next::Ready);
        assert_eq!(h.on(None), Next::Running);
        let mut h = Handshake::new(all);
        assert_eq!(h.on(Some((&ToParent::Hooks, BARE))), Next::RunHooks);
        assert_eq!(h.on(Some((&ToParent::Pty, FD))), Next::TakePty);
        assert_eq!(h.on(Some((&ToParent::Ready, BARE))), Next::Ready);
        assert_eq!(
            h.on(Some((&ToParent::Listener { fd: 4 }, BARE))),
            Next::TakeListener(4)
        );
        assert_eq!(h.on(None), Next::Running);
        // `Exec` is `syscage run`'s; an OCI process never sends it, nor hooks unasked.
        let oci = Expect {
            ready: true,
            ..Expect::default()
        };
        let mut h = Handshake::new(oci);
        assert_eq!(
            h.on(Some((&ToParent::Exec, EXEC))),
            unexpected("Exec", "`Ready`")
        );
        let mut h = Handshake::new(oci);
        assert_eq!(
            h.on(Some((&ToParent::Hooks, BARE))),
            unexpected("Hooks", "`Ready`")
        );
        // Hooks come before anything else, once.
        let mut h = Handshake::new(all);
        assert_eq!(
            h.on(Some((&ToParent::Pty, FD))),
            unexpected("Pty", "`Hooks`")
        );
        let mut h = Handshake::new(oci);
        assert_eq!(h.on(None), Next::Abort(Refused::InitGone));
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
