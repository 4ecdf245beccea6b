//! The parent's watch over a running container: it decides the end of the run from
//! outside the container, where nothing the container does can hold it.
//!
//! - The init is watched through a pidfd (it is syscage's child), the command through the
//!   pidfd it sent with `Exec`. When the init exits on its own, its status is the run's.
//!   When the command ends and the init does not follow (a command with CAP_SYS_PTRACE
//!   can leave it stopped), syscage reads the command's status from its zombie, which the
//!   init leaves in place, and kills the init: the kernel then kills everything else in
//!   the pid namespace. syscage never waits for something the container can stop: every
//!   wait is on a pidfd, the signalfd or the relay's fds, or on a process already killed.
//! - Forwarded signals go to the command's process group with pidfd_send_signal, from
//!   outside: they reach it whatever its user and whatever the init does. An error is not
//!   ignored: the container is killed and the run fails.
//! - SIGTERM and SIGINT start the grace period (`--stop-timeout`, 10 s by default): if the
//!   container has not ended by then, it is killed, as `docker stop` does, and the run
//!   exits 137.

use crate::error::RunError;
use crate::relay::Relay;
use crate::signals::{asks_to_stop, forwarded, Signals};
use crate::sys;
use nix::errno::Errno;
use nix::poll::{poll, PollFd, PollFlags, PollTimeout};
use nix::sys::signal::{kill, Signal};
use nix::sys::wait::{waitpid, WaitStatus};
use nix::unistd::Pid;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, OwnedFd};
use std::time::{Duration, Instant};

/// The container's init, syscage's child. Killed and reaped when dropped unless it was
/// reaped already: no way out of a run leaves the container behind.
pub struct Init {
    pid: Pid,
    pidfd: OwnedFd,
    reaped: bool,
}

impl Init {
    pub fn new(pid: Pid) -> Result<Init, RunError> {
        let pidfd = sys::pidfd_open(pid)
            .map_err(|e| RunError::parent("open a pidfd for the container's init", e))?;
        Ok(Init {
            pid,
            pidfd,
            reaped: false,
        })
    }

    pub fn pid(&self) -> Pid {
        self.pid
    }

    pub fn pidfd(&self) -> BorrowedFd<'_> {
        self.pidfd.as_fd()
    }

    /// SIGKILL, which also ends a stopped init (and with it the pid namespace).
    pub fn kill(&self) {
        if !self.reaped {
            let _ = kill(self.pid, Signal::SIGKILL);
        }
    }

    /// Whether the init has exited or is exiting (then it cannot be stopped any more).
    pub fn exiting(&self) -> bool {
        readable(self.pidfd.as_fd()) || task_exiting(self.pid.as_raw())
    }

    /// Reaps the init. Only for an init that has exited, is exiting or was killed: the
    /// kernel then ends it whatever the container does.
    pub fn reap(&mut self) -> Result<WaitStatus, RunError> {
        let st = loop {
            match waitpid(self.pid, None) {
                Err(Errno::EINTR) => continue,
                r => break r.map_err(|e| RunError::parent("reap the container's init", e))?,
            }
        };
        self.reaped = true;
        Ok(st)
    }

    /// Leaves the process running when this is dropped (an OCI container after
    /// `create`: its client reaps it).
    pub fn detach(mut self) {
        self.reaped = true;
    }

    /// Kills and reaps the init; its exit code.
    pub fn end(&mut self) -> Result<i32, RunError> {
        self.kill();
        self.reap().map(|st| exit_code(&st))
    }
}

impl Drop for Init {
    fn drop(&mut self) {
        if !self.reaped {
            self.kill();
            let _ = waitpid(self.pid, None);
        }
    }
}

/// A wait status as an exit code (Docker's: 128+N for signal N).
pub fn exit_code(st: &WaitStatus) -> i32 {
    match st {
        WaitStatus::Exited(_, code) => *code,
        WaitStatus::Signaled(_, s, _) => 128 + *s as i32,
        _ => 125,
    }
}

/// Whether `fd` is readable now (for a pidfd: the process has exited).
pub fn readable(fd: BorrowedFd<'_>) -> bool {
    let mut fds = [PollFd::new(fd, PollFlags::POLLIN)];
    matches!(poll(&mut fds, PollTimeout::ZERO), Ok(n) if n > 0)
}

/// PF_EXITING in the task's flags (field 9): it is on its way out.
fn task_exiting(pid: i32) -> bool {
    const PF_EXITING: u64 = 0x4;
    sys::ProcStat::read(pid)
        .and_then(|s| s.number(9))
        .is_none_or(|flags| flags & PF_EXITING != 0)
}

/// The pid a pidfd refers to, as this process's pid namespace sees it; `None` once the
/// process is reaped (fdinfo's `Pid:` is then -1).
pub fn pidfd_pid(pidfd: BorrowedFd<'_>) -> Option<i32> {
    let info = std::fs::read_to_string(format!("/proc/self/fdinfo/{}", pidfd.as_raw_fd())).ok()?;
    info.lines()
        .find_map(|l| l.strip_prefix("Pid:"))
        .and_then(|v| v.trim().parse().ok())
        .filter(|p| *p > 0)
}

/// The exit code of an ended command whose zombie is still there (its wait status is
/// field 52 of its stat). Checked through its pidfd: read before it was reaped, so the
/// pid was still its own.
fn zombie_code(pid: i32, pidfd: BorrowedFd<'_>) -> Option<i32> {
    let f = sys::ProcStat::read(pid)?;
    if !matches!(f.state(), "Z" | "X") {
        return None;
    }
    let status: i32 = f.field(52)?.parse().ok()?;
    if pidfd_pid(pidfd) != Some(pid) {
        return None;
    }
    Some(if status & 0x7f == 0 {
        (status >> 8) & 0xff
    } else {
        128 + (status & 0x7f)
    })
}

/// The command as syscage follows it.
pub struct Command {
    pub pidfd: OwnedFd,
    /// Its pid on the host (from its credentials).
    pub pid: i32,
}

impl Command {
    /// Forwards `s` to the command's process group (to the command alone on a kernel
    /// without PIDFD_SIGNAL_PROCESS_GROUP, before 6.9), and to the command itself if it
    /// has left that group. Nothing left to signal is fine: the end is on its way.
    pub fn forward(&self, s: Signal) -> Result<(), RunError> {
        let fd = self.pidfd.as_fd();
        let fail = |e| RunError::parent(format!("forward {s} to the command"), e);
        let group = match sys::pidfd_send_signal(fd, s as i32, sys::PIDFD_SIGNAL_PROCESS_GROUP) {
            Err(Errno::EINVAL) => false,
            Ok(()) | Err(Errno::ESRCH) => true,
            Err(e) => return Err(fail(e)),
        };
        // Field 5: the process group, as the host sees it.
        let in_group = sys::ProcStat::read(self.pid)
            .and_then(|f| f.field(5)?.parse::<i32>().ok())
            .is_some_and(|pg| pg == self.pid)
            && pidfd_pid(fd) == Some(self.pid);
        if group && in_group {
            return Ok(());
        }
        match sys::pidfd_send_signal(fd, s as i32, 0) {
            Ok(()) | Err(Errno::ESRCH) => Ok(()),
            Err(e) => Err(fail(e)),
        }
    }
}

/// What the event loop saw.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Event {
    /// The watched fd at this index is readable.
    Ready(usize),
    Signal(Signal),
    /// The deadline passed.
    Timeout,
}

/// Waits for one of `watch` to be readable, a signal (when `with_signals`; otherwise
/// they stay queued), or the deadline, moving the relay's bytes meanwhile. Signals come
/// first.
pub fn next_event(
    watch: &[BorrowedFd<'_>],
    signals: &mut Signals,
    relay: &mut Relay,
    deadline: Option<Instant>,
    with_signals: bool,
) -> Result<Event, RunError> {
    loop {
        if with_signals {
            if let Some(s) = signals.take() {
                return Ok(Event::Signal(s));
            }
        }
        let timeout = match deadline {
            None => PollTimeout::NONE,
            Some(d) => {
                let left = d.saturating_duration_since(Instant::now());
                if left.is_zero() {
                    return Ok(Event::Timeout);
                }
                // Rounded up: waking before the deadline would only loop.
                PollTimeout::try_from(
                    left.as_millis().saturating_add(1).min(i32::MAX as u128) as i32
                )
                .unwrap_or(PollTimeout::MAX)
            }
        };
        let mut fds: Vec<PollFd<'_>> = watch
            .iter()
            .map(|f| PollFd::new(*f, PollFlags::POLLIN))
            .collect();
        let sigflags = if with_signals {
            PollFlags::POLLIN
        } else {
            PollFlags::empty()
        };
        fds.push(PollFd::new(signals.fd(), sigflags));
        let slots = relay.poll_fds(&mut fds);
        match poll(&mut fds, timeout) {
            Err(Errno::EINTR) => continue,
            Err(e) => return Err(RunError::parent("wait for the container", e)),
            Ok(_) => {}
        }
        let revents: Vec<PollFlags> = fds
            .iter()
            .map(|f| f.revents().unwrap_or(PollFlags::empty()))
            .collect();
        drop(fds);
        relay.pump(&slots, &revents[watch.len() + 1..]);
        if with_signals {
            if let Some(s) = signals.take() {
                return Ok(Event::Signal(s));
            }
        }
        if let Some(i) = revents[..watch.len()].iter().position(|r| !r.is_empty()) {
            return Ok(Event::Ready(i));
        }
    }
}

/// Phase 5: until the container ends. Returns the run's exit code.
pub fn supervise(
    init: &mut Init,
    command: &Command,
    signals: &mut Signals,
    relay: &mut Relay,
    stop_timeout: Duration,
) -> Result<i32, RunError> {
    let mut deadline = None;
    loop {
        let watch = [init.pidfd(), command.pidfd.as_fd()];
        match next_event(&watch, signals, relay, deadline, true)? {
            // The init ended on its own: its status is the command's (or says how the
            // init itself died).
            Event::Ready(0) => return init.reap().map(|st| exit_code(&st)),
            Event::Ready(_) => return command_ended(init, command),
            Event::Signal(Signal::SIGWINCH) if relay.has_pty() => relay.resize(),
            Event::Signal(s) if !forwarded(s) => {}
            Event::Signal(s) => {
                tracing::info!("forwarding {s} to the command");
                command.forward(s)?;
                if asks_to_stop(s) && deadline.is_none() {
                    deadline = Some(Instant::now() + stop_timeout);
                }
            }
            Event::Timeout => {
                tracing::info!(
                    "the container did not stop within {} s: killing it",
                    stop_timeout.as_secs()
                );
                return init.end();
            }
        }
    }
}

/// The command has ended. An init that is on its way out has its status; one that is not
/// (stopped, or not yet woken) is killed, and the command's own status is the run's.
fn command_ended(init: &mut Init, command: &Command) -> Result<i32, RunError> {
    if init.exiting() {
        return init.reap().map(|st| exit_code(&st));
    }
    let code = zombie_code(command.pid, command.pidfd.as_fd());
    let init_code = init.end()?;
    Ok(code.unwrap_or(init_code))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_zombies_status_is_read_through_its_pidfd() {
        for (how, want) in [(0, 7), (1, 128 + libc::SIGKILL)] {
            let child = match crate::sys::fork().unwrap() {
                None => {
                    if how == 1 {
                        let _ = nix::sys::signal::raise(Signal::SIGKILL);
                    }
                    sys::exit_now(7)
                }
                Some(c) => c,
            };
            let pidfd = sys::pidfd_open(child).unwrap();
            let mut fds = [PollFd::new(pidfd.as_fd(), PollFlags::POLLIN)];
            poll(&mut fds, PollTimeout::NONE).unwrap();
            assert_eq!(pidfd_pid(pidfd.as_fd()), Some(child.as_raw()));
            assert_eq!(zombie_code(child.as_raw(), pidfd.as_fd()), Some(want));
            waitpid(child, None).unwrap();
            // Reaped: the pid is no longer its own.
            assert_eq!(pidfd_pid(pidfd.as_fd()), None);
            assert_eq!(zombie_code(child.as_raw(), pidfd.as_fd()), None);
        }
    }
}
