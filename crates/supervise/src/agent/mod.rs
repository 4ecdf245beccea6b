//! `syscage agent`: the OCI seccomp agent at the other end of a profile's `listenerPath`.
//!
//! A runtime (crun, runc, syscage) that loads a filter with SCMP_ACT_NOTIFY rules connects
//! to the agent's socket and sends the container process state with the notification fd.
//! Each container is then served on its own thread: its notified calls are answered as
//! the profile its metadata names would answer them (see [`crate::pair`]), recorded in a
//! report, and learned from, as the metadata and annotations ask (see [`crate::meta`]).
//! One container flooding the agent occupies its own thread only; a container that dies
//! with calls pending ends its thread; a runtime that sends nothing usable is told off
//! in one line and the agent goes on.
//!
//! With `one_container` the agent is syscage's own for one container (the OCI runtime
//! starts it for the `run.syscage.report` and `run.syscage.learn` annotations): every
//! connection (the container's process, then each `exec`) shares one report and one
//! learned profile, and the agent ends, writing them, once the last of them is gone.

mod container;
pub mod peer;
pub mod place;
pub mod socket;
pub mod source;

use nix::poll::{poll, PollFd, PollFlags, PollTimeout};
use nix::sys::signal::{SigSet, Signal};
use nix::sys::signalfd::{SfdFlags, SignalFd};
use std::io::Write;
use std::os::fd::{AsFd, OwnedFd};
use std::path::PathBuf;
use std::sync::Arc;
use thiserror::Error;

/// Where the agent listens.
pub enum Listen {
    /// Makes the socket at `path` with permissions `mode`, removed at the end.
    Path { path: PathBuf, mode: u32 },
    /// A socket already listening, made by whoever started the agent at `path` (removed
    /// at the end).
    Given { fd: OwnedFd, path: Option<PathBuf> },
}

/// How the agent is started.
pub struct Config {
    pub listen: Listen,
    pub allow_dirs: Vec<PathBuf>,
    pub profiles: Vec<String>,
    /// Serve one container only, ending once all its connections have. The descriptor
    /// is a stream socket to its starter (the OCI runtime's `create`): the agent writes
    /// `r` on it once it listens; `create` writes `k` once it succeeded. An agent whose
    /// starter ends before connecting ends at once; one whose `create` ended without `k`
    /// (it failed and removed the container) writes no report.
    pub one_container: Option<OwnedFd>,
}

#[derive(Debug, Error)]
pub enum AgentError {
    #[error(transparent)]
    Socket(#[from] socket::SocketError),
    #[error(transparent)]
    Place(#[from] place::PlaceError),
    #[error(transparent)]
    Source(#[from] source::SourceError),
    #[error("cannot {what}: {}", .errno.desc())]
    Sys {
        what: &'static str,
        errno: nix::errno::Errno,
    },
}

/// Where the agent's lines go instead of stderr (the OCI runtime's log).
pub type Sink = Box<dyn Fn(&str) + Send + Sync>;

static SINK: std::sync::OnceLock<Sink> = std::sync::OnceLock::new();

/// Sends the agent's lines to `sink`, one call per line (without its newline), instead of
/// stderr. Only the first call has an effect.
pub fn set_sink(sink: Sink) {
    let _ = SINK.set(sink);
}

/// Lines of text (each ending in a newline), to the sink or stderr.
pub(crate) fn emit(text: &str) {
    match SINK.get() {
        Some(sink) => text.lines().for_each(sink),
        None => {
            let _ = std::io::stderr().lock().write_all(text.as_bytes());
        }
    }
}

/// One line, `syscage: agent: LINE`, written whole. The line is escaped: it may quote
/// what a container's annotations or its runtime sent.
pub(crate) fn say(line: &str) {
    let line = crate::text::escape(line.as_bytes());
    emit(&format!("syscage: agent: {line}\n"));
}

/// The listening socket: made here (and removed at the end) or given.
enum Sock {
    Made(socket::Listener),
    Given(std::os::unix::net::UnixListener, Option<PathBuf>),
}

impl Sock {
    fn get(&self) -> &std::os::unix::net::UnixListener {
        match self {
            Sock::Made(l) => &l.sock,
            Sock::Given(l, _) => l,
        }
    }
}

impl Drop for Sock {
    /// A given socket's path is removed if it still is a socket. (Its identity cannot be
    /// checked: a socket's inode is not its file's. The path is this container's alone,
    /// and its next agent can only come after this one: `delete` waits for it.)
    fn drop(&mut self) {
        if let Sock::Given(_, Some(path)) = self {
            let socket = nix::sys::stat::lstat(path.as_path())
                .is_ok_and(|st| st.st_mode & libc::S_IFMT == libc::S_IFSOCK);
            if socket {
                let _ = nix::unistd::unlink(path.as_path());
            }
        }
    }
}

/// Serves containers until SIGINT, SIGTERM or SIGHUP (or, with `one_container`, until
/// its container is gone); then removes the socket, ends every container's service
/// (writing its report and learned profile) and returns.
pub fn run(cfg: Config) -> Result<(), AgentError> {
    let sys = |what: &'static str| move |errno| AgentError::Sys { what, errno };
    let allowed = place::Allowed::open(&cfg.allow_dirs)?;
    let profiles = source::Profiles::new(&cfg.profiles)?;
    let mut mask = SigSet::empty();
    for s in [Signal::SIGINT, Signal::SIGTERM, Signal::SIGHUP] {
        mask.add(s);
    }
    // Blocked before any thread starts, so every thread inherits it and the signals wait
    // for the signalfd.
    mask.thread_block().map_err(sys("block signals"))?;
    let signals = SignalFd::with_flags(&mask, SfdFlags::SFD_CLOEXEC | SfdFlags::SFD_NONBLOCK)
        .map_err(sys("create a signalfd"))?;
    let eventfd = || -> Result<OwnedFd, AgentError> {
        Ok(nix::sys::eventfd::EventFd::from_value_and_flags(
            0,
            nix::sys::eventfd::EfdFlags::EFD_CLOEXEC,
        )
        .map_err(sys("create an eventfd"))?
        .into())
    };
    let stop = eventfd()?;
    // Written by each container's thread as it ends (one container: the agent's end).
    let ended = Arc::new(eventfd()?);
    let listener = match cfg.listen {
        Listen::Path { path, mode } => {
            let l = socket::listen_at(&path, mode)?;
            tracing::info!("agent: listening on {}", path.display());
            Sock::Made(l)
        }
        Listen::Given { fd, path } => {
            let l = std::os::unix::net::UnixListener::from(fd);
            l.set_nonblocking(true)
                .map_err(|e| sys("use the given socket")(errno_of(&e)))?;
            Sock::Given(l, path)
        }
    };
    if let Some(starter) = &cfg.one_container {
        // Ready: the starter may hand the container over.
        nix::unistd::write(starter, b"r").map_err(sys("tell its starter it is ready"))?;
    }
    let shared = Arc::new(container::Shared {
        allowed,
        profiles,
        stop,
    });
    let one = cfg.one_container;
    // With one container: its job, shared by its connections, and whether any came.
    let mut job: Option<Arc<container::Job>> = None;
    let mut live: Vec<std::thread::JoinHandle<()>> = Vec::new();
    // Threads started and ended (each adds 1 to `ended` as its last step).
    let (mut started, mut finished) = (0u64, 0u64);
    loop {
        let mut fds = vec![
            PollFd::new(listener.get().as_fd(), PollFlags::POLLIN),
            PollFd::new(signals.as_fd(), PollFlags::POLLIN),
            PollFd::new(ended.as_fd(), PollFlags::POLLIN),
        ];
        if let (Some(starter), None) = (&one, &job) {
            fds.push(PollFd::new(starter.as_fd(), PollFlags::POLLIN));
        }
        match poll(&mut fds, PollTimeout::NONE) {
            Err(nix::errno::Errno::EINTR) => continue,
            Err(e) => return Err(sys("wait for runtimes")(e)),
            Ok(_) => {}
        }
        let ready: Vec<bool> = fds
            .iter()
            .map(|f| !f.revents().unwrap_or(PollFlags::empty()).is_empty())
            .collect();
        drop(fds);
        if ready[1] {
            if let Ok(Some(s)) = signals.read_signal() {
                tracing::info!("agent: signal {}: stopping", s.ssi_signo);
            }
            break;
        }
        if ready[2] {
            let mut b = [0u8; 8];
            if let Ok(8) = nix::unistd::read(&*ended, &mut b) {
                finished += u64::from_ne_bytes(b);
            }
            live.retain(|h| !h.is_finished());
            if job.is_some() && finished >= started {
                tracing::info!("agent: the container is gone: stopping");
                break;
            }
        }
        if !ready[0] {
            if ready.get(3) == Some(&true) {
                // The starter is gone and never connected: nothing to serve.
                tracing::info!("agent: nothing connected before its starter ended: stopping");
                break;
            }
            continue;
        }
        let conn: OwnedFd = match listener.get().accept() {
            Ok((c, _)) => match c.set_nonblocking(false) {
                Ok(()) => c.into(),
                Err(_) => continue,
            },
            Err(e) if matches!(e.raw_os_error(), Some(libc::EMFILE | libc::ENFILE)) => {
                say("cannot accept a runtime: too many open files");
                // Let running containers end and free descriptors before trying again.
                live.retain(|h| !h.is_finished());
                std::thread::sleep(std::time::Duration::from_millis(100));
                continue;
            }
            Err(_) => continue,
        };
        let s = Arc::clone(&shared);
        let end = Arc::clone(&ended);
        let work: Box<dyn FnOnce() + Send> = if one.is_some() {
            // Read here: the first connection's state plans the container's job.
            let Some(c) = container::receive(conn) else {
                continue;
            };
            let j = Arc::clone(job.get_or_insert_with(|| {
                Arc::new(container::Job::plan(c.state.as_ref(), &shared, c.who))
            }));
            Box::new(move || j.serve(c.fd, &s))
        } else {
            Box::new(move || container::serve(conn, &s))
        };
        match std::thread::Builder::new()
            .name("agent-container".into())
            .stack_size(512 * 1024)
            .spawn(move || {
                work();
                let _ = nix::unistd::write(&*end, &1u64.to_ne_bytes());
            }) {
            Ok(h) => {
                started += 1;
                live.push(h)
            }
            Err(e) => say(&format!("cannot start a thread for a container: {e}")),
        }
        live.retain(|h| !h.is_finished());
    }
    drop(listener);
    let _ = nix::unistd::write(&shared.stop, &1u64.to_ne_bytes());
    for h in live {
        let _ = h.join();
    }
    if let Some(j) = job.and_then(Arc::into_inner) {
        match one.as_ref().map(created) {
            Some(false) => say(&format!(
                "{}: its runtime's create failed; no report or learned profile is written",
                j.who()
            )),
            _ => j.finish(),
        }
    }
    Ok(())
}

/// Whether the `create` that started this agent succeeded: it writes `k` then, and a
/// connection closed without it is a `create` that failed (and removed the container).
/// One stopped for a minute without saying is taken as a success.
fn created(starter: &OwnedFd) -> bool {
    let mut fds = [PollFd::new(starter.as_fd(), PollFlags::POLLIN)];
    if !matches!(poll(&mut fds, PollTimeout::from(60_000u16)), Ok(1..)) {
        return true;
    }
    let mut b = [0u8; 1];
    matches!(nix::unistd::read(starter, &mut b), Ok(1) if b[0] == b'k')
}

fn errno_of(e: &std::io::Error) -> nix::errno::Errno {
    nix::errno::Errno::from_raw(e.raw_os_error().unwrap_or(libc::EIO))
}
