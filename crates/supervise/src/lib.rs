//! Supervisors of a container's seccomp notifications: the denial report (`run
//! --report`), learning a profile (`learn`), and handing the notification fd to an OCI
//! seccomp agent (`listenerPath`).
//!
//! A supervisor thread in syscage answers each notified call as the policy would (the
//! errno, or letting it run), so the contained program sees what it would see without a
//! supervisor; calls the policy allows outright never reach it.
#![deny(unsafe_code)]

pub mod agent;
pub mod answer;
pub mod bound;
pub mod constrained;
pub mod decode;
pub mod learn;
pub mod meta;
pub mod oci;
pub mod output;
pub mod own;
pub mod pair;
pub mod report;
pub mod text;

use std::os::fd::{AsFd, OwnedFd};
use std::thread::JoinHandle;
use syscage_seccomp::notify::{self, Notification, Response};

/// Answers notifications on `fd` with `handle` until every process using the filter is
/// gone (the kernel then reports POLLHUP) or `stop` becomes readable.
pub fn serve(
    fd: OwnedFd,
    stop: OwnedFd,
    mut handle: impl FnMut(&OwnedFd, &Notification) -> Response,
) {
    use nix::poll::{poll, PollFd, PollFlags, PollTimeout};
    let _ = notify::sync_wake_up(fd.as_fd());
    loop {
        let mut fds = [
            PollFd::new(fd.as_fd(), PollFlags::POLLIN),
            PollFd::new(stop.as_fd(), PollFlags::POLLIN),
        ];
        match poll(&mut fds, PollTimeout::NONE) {
            Err(nix::errno::Errno::EINTR) => continue,
            Err(_) => return,
            Ok(_) => {}
        }
        let listener = fds[0].revents().unwrap_or(PollFlags::empty());
        let stopping = !fds[1].revents().unwrap_or(PollFlags::empty()).is_empty();
        if listener.contains(PollFlags::POLLIN) {
            match notify::receive(fd.as_fd()) {
                Ok(Some(n)) => {
                    slow_down();
                    let r = handle(&fd, &n);
                    if let Err(e) = notify::respond(fd.as_fd(), n.id, r) {
                        tracing::warn!("cannot answer a notified call: {e}");
                    }
                }
                Ok(None) => {}
                Err(e) => {
                    tracing::warn!("cannot read a notified call: {e}");
                    return;
                }
            }
            continue;
        }
        if stopping
            || listener.intersects(PollFlags::POLLHUP | PollFlags::POLLERR | PollFlags::POLLNVAL)
        {
            return;
        }
    }
}

#[cfg(feature = "fault-injection")]
fn slow_down() {
    if let Some(ms) = std::env::var("SYSCAGE_SUPERVISOR_DELAY_MS")
        .ok()
        .and_then(|v| v.parse().ok())
    {
        std::thread::sleep(std::time::Duration::from_millis(ms));
    }
}

#[cfg(not(feature = "fault-injection"))]
#[inline(always)]
fn slow_down() {}

/// Why a supervisor thread could not start.
#[derive(Debug, thiserror::Error)]
pub enum WorkerError {
    #[error("cannot create the supervisor's eventfd: {}", syscage_policy::errno::io_text(&std::io::Error::from(*.0)))]
    EventFd(nix::errno::Errno),
    #[error("cannot start the supervisor thread: {}", syscage_policy::errno::io_text(.0))]
    Thread(std::io::Error),
}

/// A background serving thread and the fd that stops it.
pub struct Worker {
    thread: Option<JoinHandle<()>>,
    stop: Option<OwnedFd>,
}

impl Worker {
    pub fn spawn(
        fd: OwnedFd,
        handle: impl FnMut(&OwnedFd, &Notification) -> Response + Send + 'static,
    ) -> Result<Worker, WorkerError> {
        let efd = nix::sys::eventfd::EventFd::from_value_and_flags(
            0,
            nix::sys::eventfd::EfdFlags::EFD_CLOEXEC,
        )
        .map_err(WorkerError::EventFd)?;
        let stop: OwnedFd = efd.into();
        let reader = stop.try_clone().map_err(WorkerError::Thread)?;
        let thread = std::thread::Builder::new()
            .name("seccomp-supervisor".into())
            .spawn(move || serve(fd, reader, handle))
            .map_err(WorkerError::Thread)?;
        Ok(Worker {
            thread: Some(thread),
            stop: Some(stop),
        })
    }

    /// Stops the thread (after the container is gone) and waits for it.
    pub fn join(&mut self) {
        if let Some(s) = self.stop.take() {
            let _ = nix::unistd::write(&s, &1u64.to_ne_bytes());
        }
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

impl Drop for Worker {
    fn drop(&mut self) {
        self.join();
    }
}
