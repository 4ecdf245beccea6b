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

/// How the agent is started.
pub struct Config {
    pub socket: PathBuf,
    pub socket_mode: u32,
    pub allow_dirs: Vec<PathBuf>,
    pub profiles: Vec<String>,
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

/// One line on stderr, `syscage: agent: LINE`, written whole. The line is escaped: it
/// may quote what a container's annotations or its runtime sent.
pub(crate) fn say(line: &str) {
    let line = crate::text::escape(line.as_bytes());
    let _ = std::io::stderr()
        .lock()
        .write_all(format!("syscage: agent: {line}\n").as_bytes());
}

/// Serves containers until SIGINT, SIGTERM or SIGHUP; then removes the socket, ends every
/// container's service (writing its report and learned profile) and returns.
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
    let stop: OwnedFd = nix::sys::eventfd::EventFd::from_value_and_flags(
        0,
        nix::sys::eventfd::EfdFlags::EFD_CLOEXEC,
    )
    .map_err(sys("create an eventfd"))?
    .into();
    let listener = socket::listen_at(&cfg.socket, cfg.socket_mode)?;
    tracing::info!("agent: listening on {}", cfg.socket.display());
    let shared = Arc::new(container::Shared {
        allowed,
        profiles,
        stop,
    });
    let mut live: Vec<std::thread::JoinHandle<()>> = Vec::new();
    loop {
        let mut fds = [
            PollFd::new(listener.sock.as_fd(), PollFlags::POLLIN),
            PollFd::new(signals.as_fd(), PollFlags::POLLIN),
        ];
        match poll(&mut fds, PollTimeout::NONE) {
            Err(nix::errno::Errno::EINTR) => continue,
            Err(e) => return Err(sys("wait for runtimes")(e)),
            Ok(_) => {}
        }
        let ready = |f: &PollFd| !f.revents().unwrap_or(PollFlags::empty()).is_empty();
        if ready(&fds[1]) {
            if let Ok(Some(s)) = signals.read_signal() {
                tracing::info!("agent: signal {}: stopping", s.ssi_signo);
            }
            break;
        }
        if !ready(&fds[0]) {
            continue;
        }
        let conn: OwnedFd = match listener.sock.accept() {
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
        match std::thread::Builder::new()
            .name("agent-container".into())
            .stack_size(512 * 1024)
            .spawn(move || container::serve(conn, &s))
        {
            Ok(h) => live.push(h),
            Err(e) => say(&format!("cannot start a thread for a container: {e}")),
        }
        live.retain(|h| !h.is_finished());
    }
    drop(listener);
    let _ = nix::unistd::write(&shared.stop, &1u64.to_ne_bytes());
    for h in live {
        let _ = h.join();
    }
    Ok(())
}
