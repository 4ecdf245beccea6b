//! `--tty`: syscage's own terminal in raw mode while the container's pseudo-terminal is
//! relayed to it (see `relay`), so that keys (Ctrl-C included) reach the container's
//! terminal, whose line discipline turns them into signals there.
//!
//! The user's terminal is put back as it was whatever ends syscage: the normal end and
//! every error (the guard's `Drop`), a panic (unwinding runs the same `Drop`), a forwarded
//! signal (read from the signalfd, so the run ends normally), and any other signal whose
//! default action would kill syscage, a crash or an abort included (a handler puts the
//! terminal back and lets the signal kill syscage, see `sys::restore_terminal_on_fatal_
//! signals`). Only SIGKILL and SIGSTOP cannot be caught.

use nix::errno::Errno;
use nix::sys::termios::{self, SetArg, SpecialCharacterIndices, Termios};
use std::os::fd::{AsFd, BorrowedFd};

fn stdin() -> BorrowedFd<'static> {
    crate::sys::std_fd(0)
}

/// syscage's terminal in raw mode; restored when dropped.
pub struct Raw {
    saved: Termios,
}

impl Raw {
    /// Makes syscage's stdin raw when it is a terminal (`None` when it is not).
    pub fn enter() -> Result<Option<Raw>, Errno> {
        if !nix::unistd::isatty(stdin()).unwrap_or(false) {
            return Ok(None);
        }
        let saved = termios::tcgetattr(stdin())?;
        // Armed before the terminal changes: from here on, any fatal signal restores it.
        crate::sys::restore_terminal_on_fatal_signals(stdin(), &saved.clone().into())?;
        let guard = Raw { saved };
        let mut raw = guard.saved.clone();
        termios::cfmakeraw(&mut raw);
        termios::tcsetattr(stdin(), SetArg::TCSANOW, &raw)?;
        Ok(Some(guard))
    }
}

impl Drop for Raw {
    fn drop(&mut self) {
        let _ = termios::tcsetattr(stdin(), SetArg::TCSANOW, &self.saved);
        crate::sys::forget_terminal();
    }
}

/// Copies the window size of syscage's terminal (stdin, else stdout) to the container's.
pub fn copy_window_size(master: BorrowedFd<'_>) {
    let from = [0, 1]
        .into_iter()
        .map(crate::sys::std_fd)
        .find(|fd| nix::unistd::isatty(fd).unwrap_or(false));
    if let Some(from) = from {
        crate::sys::copy_window_size(from, master);
    }
}

/// What ends the container terminal's input when syscage's stdin (a pipe or file, `echo
/// hi | syscage run -t ...`) ends: its end-of-file character, as a user's Ctrl-D, twice
/// when a partial line must first be pushed through. (A terminal as stdin sends its own
/// Ctrl-D, in raw mode, as a byte.)
pub fn end_of_input(master: impl AsFd, last: Option<u8>) -> Vec<u8> {
    let Ok(t) = termios::tcgetattr(master.as_fd()) else {
        return Vec::new();
    };
    let eof = t.control_chars[SpecialCharacterIndices::VEOF as usize];
    let times = if matches!(last, None | Some(b'\n')) {
        1
    } else {
        2
    };
    vec![eof; times]
}
