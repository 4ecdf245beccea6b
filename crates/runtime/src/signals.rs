//! The signals syscage passes on to the container. They are blocked from the very start
//! of `main` (`syscage run` and `learn`), so none is lost and none ends syscage before it
//! has cleaned up, and read from a signalfd:
//! - before the command runs (syscage still setting up), one that would end syscage by
//!   its default action (all but SIGWINCH) ends the run instead, cleanly: the container
//!   is killed, nothing is left, and syscage exits 128+N, as if the signal had killed it;
//!   the command never starts. (`docker run` hands a signal to the container only once
//!   it runs; one that comes earlier kills the client.)
//! - once the command runs, each is forwarded to the command's process group from
//!   outside the container (a pidfd), whatever the command's user; SIGTERM and SIGINT also
//!   start the grace period after which the container is killed (`--stop-timeout`).

use nix::errno::Errno;
use nix::sys::signal::{SigSet, SigmaskHow, Signal};
use nix::sys::signalfd::{SfdFlags, SignalFd};
use std::collections::VecDeque;
use std::os::fd::{AsFd, BorrowedFd};

/// Signals passed on to the command (tini's set, plus SIGWINCH).
pub const FORWARDED: &[Signal] = &[
    Signal::SIGINT,
    Signal::SIGTERM,
    Signal::SIGHUP,
    Signal::SIGQUIT,
    Signal::SIGUSR1,
    Signal::SIGUSR2,
    Signal::SIGWINCH,
];

fn mask() -> SigSet {
    let mut m = SigSet::empty();
    for s in FORWARDED {
        m.add(*s);
    }
    m
}

/// What the run reads: the forwarded signals, and SIGCONT (the shell moved syscage to
/// the foreground or background: the relay looks again whether it may read the terminal).
/// SIGCONT is not forwarded; it continues syscage whether it is blocked or not.
fn read_mask() -> SigSet {
    let mut m = mask();
    m.add(Signal::SIGCONT);
    m
}

/// Blocks [`FORWARDED`] in the calling thread (and the threads and processes it starts).
pub fn block_forwarded() -> Result<(), Errno> {
    nix::sys::signal::sigprocmask(SigmaskHow::SIG_BLOCK, Some(&mask()), None)
}

/// Unblocks [`FORWARDED`]: for commands that do not run containers.
pub fn unblock_forwarded() -> Result<(), Errno> {
    nix::sys::signal::sigprocmask(SigmaskHow::SIG_UNBLOCK, Some(&mask()), None)
}

/// Whether a signal that comes before the command runs ends the run (SIGWINCH does not:
/// the terminal's size is copied when the command starts; nor does SIGCONT).
pub fn ends_the_run(s: Signal) -> bool {
    FORWARDED.contains(&s) && s != Signal::SIGWINCH
}

/// Whether a signal is passed on to the command once it runs.
pub fn forwarded(s: Signal) -> bool {
    FORWARDED.contains(&s)
}

/// Whether a forwarded signal starts the grace period (`docker stop`'s).
pub fn asks_to_stop(s: Signal) -> bool {
    matches!(s, Signal::SIGTERM | Signal::SIGINT)
}

/// The forwarded signals as they arrive.
pub struct Signals {
    fd: SignalFd,
    queue: VecDeque<Signal>,
}

impl Signals {
    /// Blocks the forwarded signals (again: a no-op after `main` did) and opens the
    /// signalfd; signals that came before are pending and read from it.
    pub fn new() -> Result<Signals, Errno> {
        nix::sys::signal::sigprocmask(SigmaskHow::SIG_BLOCK, Some(&read_mask()), None)?;
        let fd =
            SignalFd::with_flags(&read_mask(), SfdFlags::SFD_CLOEXEC | SfdFlags::SFD_NONBLOCK)?;
        Ok(Signals {
            fd,
            queue: VecDeque::new(),
        })
    }

    pub fn fd(&self) -> BorrowedFd<'_> {
        self.fd.as_fd()
    }

    /// Moves what the signalfd holds to the queue.
    pub fn read(&mut self) {
        while let Ok(Some(info)) = self.fd.read_signal() {
            if let Ok(s) = Signal::try_from(info.ssi_signo as i32) {
                self.queue.push_back(s);
            }
        }
    }

    /// The next signal, if one came.
    pub fn take(&mut self) -> Option<Signal> {
        if self.queue.is_empty() {
            self.read();
        }
        self.queue.pop_front()
    }

    /// Puts a signal back at the head of the queue, to be taken again later.
    pub fn put_back(&mut self, s: Signal) {
        self.queue.push_front(s);
    }

    /// The first pending signal that ends the run, if any (others are dropped: SIGWINCH
    /// before there is anything to resize).
    pub fn pending_stop(&mut self) -> Option<Signal> {
        while let Some(s) = self.take() {
            if ends_the_run(s) {
                return Some(s);
            }
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn which_signals_end_a_run_and_which_start_the_grace_period() {
        assert!(FORWARDED
            .iter()
            .filter(|s| !ends_the_run(**s))
            .eq([Signal::SIGWINCH].iter()));
        assert!(!ends_the_run(Signal::SIGCONT) && !forwarded(Signal::SIGCONT));
        let stop: Vec<_> = FORWARDED.iter().filter(|s| asks_to_stop(**s)).collect();
        assert_eq!(stop, [&Signal::SIGINT, &Signal::SIGTERM]);
    }
}
