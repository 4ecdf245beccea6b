//! The commands on a container `create` made: `start`, `state`, `kill`, `delete`,
//! `pause`, `resume`, `ps`, `update`. Each locks the container's directory, reads its
//! state and derives the status from the process (nothing of syscage watched it since
//! `create`), and answers with runc's words where clients match them.

use super::create::state_json;
use super::error::OciError;
use super::statedir::{self, AgentProcess, Locked, Root, Saved, Seen};
use crate::ocicgroup::Placement;
use crate::sys;
use nix::errno::Errno;
use nix::poll::{poll, PollFd, PollFlags, PollTimeout};
use nix::sys::signal::Signal;
use std::io::Read;
use std::os::fd::{AsFd, OwnedFd};
use std::time::{Duration, Instant};
use syscage_oci::{ContainerId, Status};

/// How long `start` waits for the released process to say it goes on, and `delete` for
/// a killed one to be gone: a container stopped with SIGSTOP must not hold syscage.
const WAIT: Duration = Duration::from_secs(10);

/// A container, locked, with its state and status.
pub struct Container {
    pub locked: Locked,
    pub saved: Saved,
    pub status: Status,
}

impl Container {
    pub fn open(root: &Root, id: &ContainerId) -> Result<Container, OciError> {
        let locked = root.open(id)?;
        let saved = locked.read()?;
        let status = status(&locked, &saved);
        Ok(Container {
            locked,
            saved,
            status,
        })
    }

    pub fn placement(&self) -> Placement {
        Placement {
            dirs: self.saved.cgroups.clone(),
        }
    }

    pub fn state_json(&self) -> String {
        state_json(&self.saved, self.status)
    }

    /// A pidfd of the container's process, checked to be it (not a reused pid).
    fn pidfd(&self) -> Option<OwnedFd> {
        let fd = sys::pidfd_open(nix::unistd::Pid::from_raw(self.saved.pid)).ok()?;
        // Opened first, checked second: the pidfd cannot move to another process.
        statedir::alive(self.saved.pid, self.saved.start_time).then_some(fd)
    }
}

/// The status, from the process, the FIFO and the freezer.
pub fn status(l: &Locked, s: &Saved) -> Status {
    let alive = statedir::alive(s.pid, s.start_time);
    statedir::derive(Seen {
        alive,
        fifo: l.fifo().exists(),
        frozen: alive
            && Placement {
                dirs: s.cgroups.clone(),
            }
            .frozen(),
    })
}

/// `start`: releases the process waiting on the exec FIFO, then runs `poststart`.
/// Returns the warnings of failed `poststart` hooks.
pub fn start(root: &Root, id: &ContainerId) -> Result<Vec<String>, OciError> {
    let c = Container::open(root, id)?;
    match c.status {
        Status::Created => {}
        Status::Running => return Err(OciError::StartRunning(id.to_string())),
        Status::Paused => return Err(OciError::StartPaused(id.to_string())),
        _ => return Err(OciError::StartStopped(id.to_string())),
    }
    // The pidfd first: once the FIFO is open the process may run its program to the end
    // at once (a zombie then, whose start time no longer says it is alive), and `start`
    // must still see it took the start.
    let pidfd = c
        .pidfd()
        .ok_or_else(|| OciError::StartStopped(id.to_string()))?;
    let fifo_path = c.locked.fifo();
    // Never a blocking open: the process may be dead. Without a writer yet, this opens
    // at once; the process's own open then returns, and it writes its byte.
    let fifo = match nix::fcntl::open(
        &fifo_path,
        nix::fcntl::OFlag::O_RDONLY | nix::fcntl::OFlag::O_NONBLOCK | nix::fcntl::OFlag::O_CLOEXEC,
        nix::sys::stat::Mode::empty(),
    ) {
        Ok(f) => f,
        Err(Errno::ENOENT) => return Err(OciError::StartRunning(id.to_string())),
        Err(e) => return Err(OciError::errno("open the exec FIFO", &fifo_path, e)),
    };
    // From here on the container is running whatever happens to this `start`.
    std::fs::remove_file(&fifo_path)
        .map_err(|e| OciError::io("remove the exec FIFO", &fifo_path, &e))?;
    let deadline = Instant::now() + WAIT;
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        let ms =
            PollTimeout::try_from(left.as_millis().min(60_000) as i32).unwrap_or(PollTimeout::ZERO);
        let mut fds = [
            PollFd::new(fifo.as_fd(), PollFlags::POLLIN),
            PollFd::new(pidfd.as_fd(), PollFlags::POLLIN),
        ];
        match poll(&mut fds, ms) {
            Err(Errno::EINTR) => continue,
            Err(e) => return Err(OciError::errno("wait on the exec FIFO", &fifo_path, e)),
            Ok(0) => {
                return Err(OciError::Other(format!(
                    "cannot start container `{id}`: its process did not take the start within {} s (is it stopped?)",
                    WAIT.as_secs()
                )))
            }
            Ok(_) => {}
        }
        let ready = fds[0]
            .revents()
            .is_some_and(|r| r.contains(PollFlags::POLLIN));
        if ready {
            let mut b = [0u8; 1];
            match (&std::fs::File::from(
                fifo.try_clone()
                    .map_err(|e| OciError::io("read the exec FIFO", &fifo_path, &e))?,
            ))
                .read(&mut b)
            {
                Ok(1) => break,
                _ => return Err(OciError::StartStopped(id.to_string())),
            }
        }
        if fds[1].revents().is_some_and(|r| !r.is_empty()) {
            return Err(OciError::StartStopped(id.to_string()));
        }
    }
    // The process closes its end when it executes (or dies): then the program runs, and
    // the poststart hooks may.
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        let ms =
            PollTimeout::try_from(left.as_millis().min(60_000) as i32).unwrap_or(PollTimeout::ZERO);
        let mut fds = [PollFd::new(fifo.as_fd(), PollFlags::empty())];
        match poll(&mut fds, ms) {
            Err(Errno::EINTR) => continue,
            Ok(0) | Err(_) => break,
            Ok(_) => break,
        }
    }
    let state = state_json(&c.saved, Status::Running);
    let mut warnings = Vec::new();
    for h in &c.saved.poststart {
        if let Err(e) = crate::hooks::run("poststart", h, &state) {
            warnings.push(e.to_string());
        }
    }
    Ok(warnings)
}

/// A signal by name (`KILL`, `SIGKILL`, `kill`) or number, as runc reads it.
pub fn parse_signal(s: &str) -> Result<i32, OciError> {
    if let Ok(n) = s.parse::<i32>() {
        return Ok(n);
    }
    let upper = s.to_ascii_uppercase();
    let name = if upper.starts_with("SIG") {
        upper
    } else {
        format!("SIG{upper}")
    };
    name.parse::<Signal>()
        .map(|sig| sig as i32)
        .map_err(|_| OciError::BadSignal(s.escape_default().to_string()))
}

/// `kill`: to the container's process, or with `all` to every process of its cgroup (a
/// stopped container is then no error, as with runc).
pub fn kill(root: &Root, id: &ContainerId, sig: i32, all: bool) -> Result<(), OciError> {
    let c = Container::open(root, id)?;
    if all {
        if c.status == Status::Stopped {
            return Ok(());
        }
        let p = c.placement();
        let pids = p.pids().map_err(|e| OciError::Other(e.to_string()))?;
        for pid in pids {
            match sys::kill_raw(pid, sig) {
                Ok(()) | Err(Errno::ESRCH) => {}
                Err(e) => {
                    return Err(OciError::Other(format!(
                        "cannot signal process {pid} of `{id}`: {}",
                        super::error::errno_text(e)
                    )))
                }
            }
        }
        return Ok(());
    }
    if c.status == Status::Stopped {
        return Err(OciError::NotRunning(id.to_string()));
    }
    let fd = c
        .pidfd()
        .ok_or_else(|| OciError::NotRunning(id.to_string()))?;
    match sys::pidfd_send_signal(fd.as_fd(), sig, 0) {
        Ok(()) => Ok(()),
        Err(Errno::ESRCH) => Err(OciError::NotRunning(id.to_string())),
        Err(e) => Err(OciError::Other(format!(
            "unable to signal init: {}",
            super::error::errno_text(e)
        ))),
    }
}

/// `delete`: removes a stopped or created container; with `force`, kills a running one
/// first. A container that does not exist is no error with `force` (clients call it
/// after every container). Returns the warnings of failed `poststop` hooks.
pub fn delete(root: &Root, id: &ContainerId, force: bool) -> Result<Vec<String>, OciError> {
    let c = match Container::open(root, id) {
        Ok(c) => c,
        Err(OciError::NotFound { .. }) if force => {
            root.remove_unfinished(id)?;
            return Ok(vec![]);
        }
        Err(OciError::Corrupt { .. }) if force => {
            // Nothing in it can be trusted to name a process or a cgroup: the directory
            // goes; the error said what to do about the rest.
            if let Ok(l) = root.open(id) {
                l.remove()?;
            }
            return Ok(vec![]);
        }
        Err(e) => return Err(e),
    };
    if matches!(c.status, Status::Running | Status::Paused) && !force {
        return Err(OciError::DeleteRunning(id.to_string(), c.status));
    }
    let p = c.placement();
    if c.status != Status::Stopped {
        // A frozen process cannot die until thawed (cgroup v1).
        if c.status == Status::Paused {
            let _ = p.freeze(false);
        }
        if let Some(fd) = c.pidfd() {
            let _ = sys::pidfd_send_signal(fd.as_fd(), libc::SIGKILL, 0);
            wait_gone(&fd);
        }
    }
    // What is left in the cgroup (a container without its own pid namespace) is killed
    // with it.
    p.remove();
    if let Some(a) = &c.saved.agent {
        end_agent(a);
    }
    let state = state_json(&c.saved, Status::Stopped);
    let mut warnings = Vec::new();
    for h in &c.saved.poststop {
        if let Err(e) = crate::hooks::run("poststop", h, &state) {
            warnings.push(e.to_string());
        }
    }
    c.locked.remove()?;
    Ok(warnings)
}

/// Waits (bounded) for the process behind `pidfd` to exit.
fn wait_gone(pidfd: &OwnedFd) -> bool {
    wait_for(pidfd, WAIT)
}

/// Waits for syscage's own agent to write the report and the learned profile: it ends by
/// itself once the container's processes are gone and reaped. One that has not within
/// two seconds (the container's process not reaped yet) is told to stop (SIGTERM: it
/// writes them all the same: the container is gone), then killed; then its socket goes.
fn end_agent(a: &AgentProcess) {
    let agent = sys::pidfd_open(nix::unistd::Pid::from_raw(a.pid))
        .ok()
        // The pid is the agent's only if it started when the state says.
        .filter(|_| crate::cgroup::process_start(a.pid as u32) == Some(a.start_time));
    if let Some(fd) = agent {
        if !wait_for(&fd, Duration::from_secs(2)) {
            let _ = sys::pidfd_send_signal(fd.as_fd(), libc::SIGTERM, 0);
            if !wait_gone(&fd) {
                let _ = sys::pidfd_send_signal(fd.as_fd(), libc::SIGKILL, 0);
                wait_gone(&fd);
            }
        }
    }
    if let Some(s) = &a.socket {
        let _ = std::fs::remove_file(s);
    }
}

fn wait_for(pidfd: &OwnedFd, limit: Duration) -> bool {
    let mut fds = [PollFd::new(pidfd.as_fd(), PollFlags::POLLIN)];
    matches!(
        poll(
            &mut fds,
            PollTimeout::try_from(limit.as_millis() as i32).unwrap_or(PollTimeout::MAX),
        ),
        Ok(1..)
    )
}

/// `pause` and `resume`.
pub fn pause(root: &Root, id: &ContainerId, frozen: bool) -> Result<(), OciError> {
    let c = Container::open(root, id)?;
    match (frozen, c.status) {
        (true, Status::Running | Status::Created) => {}
        (true, Status::Paused) => return Err(OciError::AlreadyPaused(id.to_string())),
        (true, _) => return Err(OciError::NotRunning(id.to_string())),
        (false, Status::Paused) => {}
        (false, s) => return Err(OciError::NotPaused(id.to_string(), s)),
    }
    c.placement()
        .freeze(frozen)
        .map_err(|e| OciError::Other(e.to_string()))
}

/// `ps`: the host pids of the container's processes.
pub fn ps(root: &Root, id: &ContainerId) -> Result<Vec<i32>, OciError> {
    let c = Container::open(root, id)?;
    if c.status == Status::Stopped {
        return Ok(vec![]);
    }
    c.placement()
        .pids()
        .map_err(|e| OciError::Other(e.to_string()))
}

/// `update --resources`: `text` is a `linux.resources` document.
pub fn update(root: &Root, id: &ContainerId, text: &str) -> Result<(), OciError> {
    let r = syscage_oci::read::resources(text)
        .map_err(|e| OciError::Other(format!("--resources: {e}")))?;
    syscage_oci::validate::resources(&r)
        .map_err(|e| OciError::Other(format!("--resources: {e}")))?;
    let c = Container::open(root, id)?;
    if c.status == Status::Stopped {
        return Err(OciError::NotRunning(id.to_string()));
    }
    c.placement()
        .apply(&r, false)
        .map_err(|e| OciError::Other(e.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signals_by_name_and_number() {
        assert_eq!(parse_signal("9").unwrap(), 9);
        assert_eq!(parse_signal("KILL").unwrap(), 9);
        assert_eq!(parse_signal("SIGTERM").unwrap(), 15);
        assert_eq!(parse_signal("hup").unwrap(), 1);
        assert_eq!(parse_signal("28").unwrap(), 28);
        assert_eq!(
            parse_signal("BOGUS").unwrap_err().to_string(),
            "unknown signal `BOGUS` (expected a name such as KILL or SIGTERM, or a number from 1 to 64)"
        );
    }
}
