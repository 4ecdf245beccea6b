//! The runtime's side of a connection: one container process state (JSON) with the
//! notification fd attached (SCM_RIGHTS), as the OCI runtime spec describes it
//! (config-linux.md, "The Container Process State"). runc and crun send it in one
//! `sendmsg`; the spec allows several, with the descriptors in the first. Neither closes
//! the connection at once (runc keeps it until its process exits), so the state is parsed
//! as soon as it is complete, not at the end of the stream.

use serde::Deserialize;
use std::collections::BTreeMap;
use std::os::fd::{AsFd, OwnedFd};
use std::time::{Duration, Instant};
use syscage_seccomp::notify;
use thiserror::Error;

/// The longest state the agent reads: a state with its annotations is a few KiB.
pub const MAX_STATE: usize = 1 << 20;
/// How long a runtime has to send its whole state once connected.
pub const TIMEOUT: Duration = Duration::from_secs(5);
/// At most this many descriptors are taken from one runtime.
const MAX_FDS: usize = 8;

/// `containerProcessState`.
#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
pub struct ProcessState {
    #[serde(rename = "ociVersion")]
    pub oci_version: String,
    #[serde(default)]
    pub fds: Option<Vec<String>>,
    pub pid: i64,
    #[serde(default)]
    pub metadata: Option<String>,
    pub state: State,
}

/// The container's `state` (runtime.md, "State").
#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
pub struct State {
    #[serde(rename = "ociVersion")]
    pub oci_version: String,
    pub id: String,
    pub status: String,
    #[serde(default)]
    pub pid: Option<i64>,
    #[serde(default)]
    pub bundle: Option<String>,
    #[serde(default)]
    pub annotations: BTreeMap<String, String>,
}

#[derive(Debug, Error)]
pub enum PeerError {
    #[error("cannot read the container state: {}", syscage_policy::errno::io_text(.0))]
    Read(std::io::Error),
    #[error("no complete container state within {} s", TIMEOUT.as_secs())]
    Timeout,
    #[error("the container state is larger than {} bytes", MAX_STATE)]
    TooLarge,
    #[error("the runtime closed the connection without sending a container state")]
    Empty,
    #[error("the container state is not what the runtime spec says: {0}")]
    Json(String),
    #[error("the runtime sent no file descriptor with the container state (SCM_RIGHTS)")]
    NoFd,
    #[error("the runtime sent more file descriptors than the agent takes ({MAX_FDS})")]
    TooManyFds,
    #[error("`fds` names {names} descriptor(s) but {sent} came with the state")]
    FdCount { names: usize, sent: usize },
    #[error("`fds` has no `seccompFd`")]
    NoSeccompFd,
    #[error("the descriptor sent as `seccompFd` is not a seccomp notification fd")]
    NotListener,
}

/// What came over one connection: the descriptors (whatever the state says) and the
/// state, or why it is unusable.
pub struct Received {
    pub fds: Vec<OwnedFd>,
    pub state: Result<ProcessState, PeerError>,
}

/// Reads one container process state and its descriptors from `conn` (a connected
/// stream socket whose receive timeout is set).
pub fn receive(conn: &OwnedFd) -> Received {
    let mut fds = Vec::new();
    let state = read_state(conn, &mut fds);
    Received { fds, state }
}

fn read_state(conn: &OwnedFd, fds: &mut Vec<OwnedFd>) -> Result<ProcessState, PeerError> {
    let start = Instant::now();
    let mut buf: Vec<u8> = Vec::new();
    let mut chunk = vec![0u8; 16 * 1024];
    loop {
        if start.elapsed() > TIMEOUT {
            return Err(PeerError::Timeout);
        }
        let (n, got, truncated) = match notify::recv_with_fds(conn.as_fd(), &mut chunk, MAX_FDS) {
            Ok(r) => r,
            Err(e) if e.raw_os_error() == Some(libc::EINTR) => continue,
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => return Err(PeerError::Timeout),
            Err(e) => return Err(PeerError::Read(e)),
        };
        fds.extend(got);
        if truncated || fds.len() > MAX_FDS {
            return Err(PeerError::TooManyFds);
        }
        if n == 0 {
            return match parse(&buf) {
                Parsed::Done(s) => Ok(s),
                Parsed::Failed(e) => Err(e),
                Parsed::Incomplete if buf.iter().all(u8::is_ascii_whitespace) => {
                    Err(PeerError::Empty)
                }
                Parsed::Incomplete => Err(PeerError::Json("it ends early".into())),
            };
        }
        buf.extend_from_slice(&chunk[..n]);
        if buf.len() > MAX_STATE {
            return Err(PeerError::TooLarge);
        }
        match parse(&buf) {
            Parsed::Done(s) => return Ok(s),
            Parsed::Failed(e) => return Err(e),
            Parsed::Incomplete => {}
        }
    }
}

enum Parsed {
    Done(ProcessState),
    Incomplete,
    Failed(PeerError),
}

fn parse(buf: &[u8]) -> Parsed {
    match serde_json::from_slice::<ProcessState>(buf) {
        Ok(s) => Parsed::Done(s),
        Err(e) if e.is_eof() => Parsed::Incomplete,
        Err(e) => Parsed::Failed(PeerError::Json(e.to_string())),
    }
}

/// The notification fd among the descriptors, by the state's `fds` names (a state without
/// `fds` and with one descriptor sends that one); the others are closed.
pub fn seccomp_fd(
    state: Option<&ProcessState>,
    mut fds: Vec<OwnedFd>,
) -> Result<OwnedFd, PeerError> {
    if fds.is_empty() {
        return Err(PeerError::NoFd);
    }
    let index = match state.and_then(|s| s.fds.as_ref()) {
        Some(names) => {
            if names.len() != fds.len() {
                return Err(PeerError::FdCount {
                    names: names.len(),
                    sent: fds.len(),
                });
            }
            names
                .iter()
                .position(|n| n == "seccompFd")
                .ok_or(PeerError::NoSeccompFd)?
        }
        None if fds.len() == 1 => 0,
        None => return Err(PeerError::NoSeccompFd),
    };
    let fd = fds.swap_remove(index);
    if !is_listener(&fd) {
        return Err(PeerError::NotListener);
    }
    Ok(fd)
}

/// Whether `fd` is a seccomp user-notification fd (an anonymous inode the kernel names
/// `seccomp notify`).
pub fn is_listener(fd: &OwnedFd) -> bool {
    use std::os::fd::AsRawFd;
    std::fs::read_link(format!("/proc/self/fd/{}", fd.as_raw_fd()))
        .is_ok_and(|l| l.as_os_str() == "anon_inode:seccomp notify")
}

#[cfg(test)]
mod tests {
    use super::*;
    use nix::sys::socket::{socketpair, AddressFamily, SockFlag, SockType};

    const CRUN: &str = r#"{
        "ociVersion": "0.2.0",
        "fds": ["seccompFd"],
        "pid": 4422,
        "metadata": "profile=default",
        "state": {"ociVersion": "0.2.0", "id": "web-1", "status": "creating", "pid": 4422,
                  "bundle": "/b", "annotations": {"run.syscage.report": "/var/log/r.jsonl"}}
    }"#;

    fn pair() -> (OwnedFd, OwnedFd) {
        socketpair(
            AddressFamily::Unix,
            SockType::Stream,
            None,
            SockFlag::SOCK_CLOEXEC,
        )
        .unwrap()
    }

    fn send(sock: &OwnedFd, bytes: &[u8], fds: &[&OwnedFd]) {
        use nix::sys::socket::{sendmsg, ControlMessage, MsgFlags};
        use std::os::fd::AsRawFd;
        let raw: Vec<i32> = fds.iter().map(|f| f.as_raw_fd()).collect();
        let iov = [std::io::IoSlice::new(bytes)];
        let cmsg = [ControlMessage::ScmRights(&raw)];
        let cmsgs: &[ControlMessage] = if raw.is_empty() { &[] } else { &cmsg };
        sendmsg::<()>(sock.as_raw_fd(), &iov, cmsgs, MsgFlags::empty(), None).unwrap();
    }

    #[test]
    fn a_state_in_pieces_is_read_without_waiting_for_the_end() {
        let (a, b) = pair();
        let file = std::fs::File::open("/dev/null").unwrap();
        let dup: OwnedFd = file.into();
        let (head, tail) = CRUN.as_bytes().split_at(40);
        send(&a, head, &[&dup]);
        send(&a, tail, &[]);
        // `a` stays open, as runc keeps its end.
        let r = receive(&b);
        let s = r.state.unwrap();
        assert_eq!(s.pid, 4422);
        assert_eq!(s.state.id, "web-1");
        assert_eq!(s.metadata.as_deref(), Some("profile=default"));
        assert_eq!(
            s.state.annotations["run.syscage.report"],
            "/var/log/r.jsonl"
        );
        assert_eq!(r.fds.len(), 1);
        // /dev/null is not a notification fd.
        assert_eq!(
            seccomp_fd(Some(&s), r.fds).err().map(|e| e.to_string()),
            Some("the descriptor sent as `seccompFd` is not a seccomp notification fd".into())
        );
        drop(a);
    }

    #[test]
    fn bad_states_are_named() {
        let cases: &[(&[u8], &str)] = &[
            (b"", "the runtime closed the connection without sending a container state"),
            (b"{\"ociVersion\": \"1.0.2\", ", "the container state is not what the runtime spec says: it ends early"),
            (b"not json", "the container state is not what the runtime spec says: expected ident at line 1 column 2"),
            (br#"{"ociVersion": "1.0.2", "state": {"ociVersion": "1.0.2", "id": "c", "status": "creating"}}"#, "the container state is not what the runtime spec says: missing field `pid` at line 1 column 90"),
        ];
        for (bytes, want) in cases {
            let (a, b) = pair();
            if !bytes.is_empty() {
                send(&a, bytes, &[]);
            }
            drop(a);
            let r = receive(&b);
            assert_eq!(r.state.err().map(|e| e.to_string()).as_deref(), Some(*want));
            assert!(r.fds.is_empty());
        }
        assert_eq!(
            seccomp_fd(None, vec![])
                .err()
                .map(|e| e.to_string())
                .as_deref(),
            Some("the runtime sent no file descriptor with the container state (SCM_RIGHTS)")
        );
        let s: ProcessState = serde_json::from_str(CRUN).unwrap();
        let two = vec![
            OwnedFd::from(std::fs::File::open("/dev/null").unwrap()),
            OwnedFd::from(std::fs::File::open("/dev/null").unwrap()),
        ];
        assert_eq!(
            seccomp_fd(Some(&s), two)
                .err()
                .map(|e| e.to_string())
                .as_deref(),
            Some("`fds` names 1 descriptor(s) but 2 came with the state")
        );
    }

    #[test]
    fn a_silent_runtime_times_out() {
        let (a, b) = pair();
        nix::sys::socket::setsockopt(
            &b,
            nix::sys::socket::sockopt::ReceiveTimeout,
            &nix::sys::time::TimeVal::new(0, 100_000),
        )
        .unwrap();
        send(&a, b"{", &[]);
        let r = receive(&b);
        assert_eq!(
            r.state.err().map(|e| e.to_string()).as_deref(),
            Some("no complete container state within 5 s")
        );
    }
}
