//! `--tty`: the container's pseudo-terminal, relayed to syscage's own terminal. syscage's
//! terminal goes into raw mode so that keys (Ctrl-C included) reach the container's
//! terminal, whose line discipline turns them into signals there; it is restored at the end.

use nix::errno::Errno;
use nix::poll::{PollFd, PollFlags};
use nix::sys::termios::{self, SetArg, Termios};
use std::os::fd::{AsFd, BorrowedFd, OwnedFd};

pub struct Relay {
    master: OwnedFd,
    saved: Option<Termios>,
    stdin_open: bool,
    master_open: bool,
    /// The last byte passed from stdin to the container's terminal.
    last_in: Option<u8>,
}

fn stdin() -> BorrowedFd<'static> {
    crate::sys::std_fd(0)
}

fn stdout() -> BorrowedFd<'static> {
    crate::sys::std_fd(1)
}

impl Relay {
    pub fn new(master: OwnedFd) -> Result<Relay, Errno> {
        let saved = if nix::unistd::isatty(stdin()).unwrap_or(false) {
            let t = termios::tcgetattr(stdin())?;
            let mut raw = t.clone();
            termios::cfmakeraw(&mut raw);
            termios::tcsetattr(stdin(), SetArg::TCSANOW, &raw)?;
            Some(t)
        } else {
            None
        };
        let r = Relay {
            master,
            saved,
            stdin_open: true,
            master_open: true,
            last_in: None,
        };
        r.resize();
        Ok(r)
    }

    /// Copies syscage's window size to the container's terminal.
    pub fn resize(&self) {
        crate::sys::copy_window_size(stdin(), self.master.as_fd());
    }

    /// Adds the fds to watch, after the caller's first two.
    pub fn poll_fds<'a>(&'a self, fds: &mut Vec<PollFd<'a>>) {
        let flags = |open: bool| {
            if open {
                PollFlags::POLLIN
            } else {
                PollFlags::empty()
            }
        };
        fds.push(PollFd::new(stdin(), flags(self.stdin_open)));
        fds.push(PollFd::new(self.master.as_fd(), flags(self.master_open)));
    }

    /// Moves what is ready; `revents` are those of the fds added by `poll_fds`.
    pub fn pump(&mut self, revents: &[PollFlags]) {
        let ready = |i: usize| revents.get(i).is_some_and(|r| !r.is_empty());
        if self.stdin_open && ready(0) {
            match copy(stdin(), self.master.as_fd()) {
                Some(last) => self.last_in = Some(last),
                None => {
                    self.stdin_open = false;
                    self.end_of_input();
                }
            }
        }
        if self.master_open && ready(1) && copy(self.master.as_fd(), stdout()).is_none() {
            self.master_open = false;
        }
    }

    /// Drains what the container wrote last and restores the terminal.
    pub fn finish(self) {
        let _ = nix::fcntl::fcntl(
            self.master.as_fd(),
            nix::fcntl::FcntlArg::F_SETFL(nix::fcntl::OFlag::O_NONBLOCK),
        );
        while self.master_open && copy(self.master.as_fd(), stdout()).is_some() {}
    }

    /// syscage's stdin ended (a pipe or file, `echo hi | syscage run -t ...`): the
    /// container's terminal gets its end-of-file character, as a user's Ctrl-D, twice when
    /// a partial line must first be pushed through. (A terminal as stdin sends its own
    /// Ctrl-D, in raw mode, as a byte.)
    fn end_of_input(&self) {
        if self.saved.is_some() {
            return;
        }
        let Ok(t) = termios::tcgetattr(self.master.as_fd()) else {
            return;
        };
        let eof = t.control_chars[termios::SpecialCharacterIndices::VEOF as usize];
        let times = if matches!(self.last_in, None | Some(b'\n')) {
            1
        } else {
            2
        };
        for _ in 0..times {
            let _ = nix::unistd::write(self.master.as_fd(), &[eof]);
        }
    }
}

impl Drop for Relay {
    fn drop(&mut self) {
        if let Some(t) = &self.saved {
            let _ = termios::tcsetattr(stdin(), SetArg::TCSANOW, t);
        }
    }
}

/// One read and its write; the last byte passed, or `None` at end of file or on error
/// (EIO once the container's side of the terminal is closed).
fn copy(from: BorrowedFd<'_>, to: BorrowedFd<'_>) -> Option<u8> {
    let mut buf = [0u8; 8192];
    let n = match nix::unistd::read(from, &mut buf) {
        Ok(0) | Err(_) => return None,
        Ok(n) => n,
    };
    let mut off = 0;
    while off < n {
        match nix::unistd::write(to, &buf[off..n]) {
            Ok(w) => off += w,
            Err(Errno::EINTR) => {}
            Err(_) => return None,
        }
    }
    Some(buf[n - 1])
}
