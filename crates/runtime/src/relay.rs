//! Moving bytes between syscage's standard streams and the container's, so that the
//! container never holds the user's terminal:
//! - without `-t`, each of syscage's stdin, stdout and stderr that is a terminal is
//!   replaced, in the container, by a pipe whose other end syscage relays (as Docker does);
//!   files, pipes and sockets are passed as they are. stdout and stderr on the same
//!   terminal share one pipe, so their order is kept.
//! - with `-t`, the container's own pseudo-terminal is relayed to syscage's stdin and
//!   stdout (see `tty`); the init gets /dev/null as stdin and pipes for terminals, which
//!   carry only syscage's own messages from inside.
//!
//! Nothing here blocks. The ends syscage owns (pipes, the pty master) are non-blocking.
//! syscage's own stdio shares its open file descriptions with the user's shell, so it is
//! never made non-blocking: a terminal, FIFO or device is opened again through
//! /proc/self/fd with O_NONBLOCK (a description of its own), a socket is used with
//! MSG_DONTWAIT, and a regular file does not block. Where none of that works, a read or a
//! write comes only after poll says it is ready, and a write is at most what readiness
//! promises (PIPE_BUF on a FIFO, one byte otherwise). Each direction has a bounded
//! buffer: when it is full, syscage stops reading that side (the writer then waits, as on
//! any pipe), and a container that stops reading never stops syscage.

use crate::signals::{ends_the_run, Signals};
use nix::errno::Errno;
use nix::fcntl::{fcntl, FcntlArg, OFlag};
use nix::poll::{poll, PollFd, PollFlags, PollTimeout};
use nix::sys::stat::SFlag;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, OwnedFd, RawFd};
use std::rc::Rc;

/// How much one direction holds before syscage stops reading its source.
const BUFFER: usize = 64 * 1024;

#[derive(Clone)]
enum Fd {
    /// One of syscage's standard fds, which it never closes.
    Std(RawFd),
    Own(Rc<OwnedFd>),
}

impl Fd {
    fn as_fd(&self) -> BorrowedFd<'_> {
        match self {
            Fd::Std(n) => crate::sys::std_fd(*n),
            Fd::Own(f) => f.as_fd(),
        }
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum How {
    /// Non-blocking, or a regular file: read and write as they come.
    Plain,
    /// A socket shared with others: MSG_DONTWAIT on each call.
    Socket,
    /// A blocking fd shared with others: only after poll, at most `chunk` bytes a write.
    Careful { chunk: usize },
}

/// One side of a direction.
#[derive(Clone)]
struct End {
    fd: Fd,
    how: How,
}

impl End {
    /// An fd syscage owns (its pipe ends, the pty master): made non-blocking.
    fn own(fd: Rc<OwnedFd>) -> Result<End, Errno> {
        let fl = OFlag::from_bits_retain(fcntl(fd.as_fd(), FcntlArg::F_GETFL)?);
        fcntl(fd.as_fd(), FcntlArg::F_SETFL(fl | OFlag::O_NONBLOCK))?;
        Ok(End {
            fd: Fd::Own(fd),
            how: How::Plain,
        })
    }

    /// syscage's standard fd `n`, for reading or writing; `None` when it is not open.
    fn user(n: RawFd, write: bool) -> Option<End> {
        let st = nix::sys::stat::fstat(crate::sys::std_fd(n)).ok()?;
        let kind = SFlag::from_bits_truncate(st.st_mode) & SFlag::S_IFMT;
        let std = |how| {
            Some(End {
                fd: Fd::Std(n),
                how,
            })
        };
        if kind == SFlag::S_IFSOCK {
            return std(How::Socket);
        }
        if kind != SFlag::S_IFIFO && kind != SFlag::S_IFCHR {
            return std(How::Plain);
        }
        let access = if write {
            OFlag::O_WRONLY
        } else {
            OFlag::O_RDONLY
        };
        match nix::fcntl::open(
            format!("/proc/self/fd/{n}").as_str(),
            access | OFlag::O_NONBLOCK | OFlag::O_CLOEXEC | OFlag::O_NOCTTY,
            nix::sys::stat::Mode::empty(),
        ) {
            Ok(fd) => Some(End {
                fd: Fd::Own(Rc::new(fd)),
                how: How::Plain,
            }),
            Err(_) => std(How::Careful {
                chunk: if kind == SFlag::S_IFIFO {
                    libc::PIPE_BUF
                } else {
                    1
                },
            }),
        }
    }

    fn ready(&self, flag: PollFlags) -> bool {
        let mut fds = [PollFd::new(self.fd.as_fd(), flag)];
        matches!(poll(&mut fds, PollTimeout::ZERO), Ok(n) if n > 0)
    }

    /// What can be read now; EAGAIN when nothing can.
    fn read(&self, buf: &mut [u8]) -> Result<usize, Errno> {
        let fd = self.fd.as_fd();
        match self.how {
            How::Plain => nix::unistd::read(fd, buf),
            How::Socket => nix::sys::socket::recv(
                fd.as_raw_fd(),
                buf,
                nix::sys::socket::MsgFlags::MSG_DONTWAIT,
            ),
            How::Careful { .. } if !self.ready(PollFlags::POLLIN) => Err(Errno::EAGAIN),
            How::Careful { .. } => nix::unistd::read(fd, buf),
        }
    }

    /// What can be written now; EAGAIN when nothing can.
    fn write(&self, buf: &[u8]) -> Result<usize, Errno> {
        let fd = self.fd.as_fd();
        match self.how {
            How::Plain => nix::unistd::write(fd, buf),
            How::Socket => nix::sys::socket::send(
                fd.as_raw_fd(),
                buf,
                nix::sys::socket::MsgFlags::MSG_DONTWAIT | nix::sys::socket::MsgFlags::MSG_NOSIGNAL,
            ),
            How::Careful { .. } if !self.ready(PollFlags::POLLOUT) => Err(Errno::EAGAIN),
            How::Careful { chunk } => nix::unistd::write(fd, &buf[..buf.len().min(chunk)]),
        }
    }
}

/// What a read of a source came to.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Fill {
    /// Nothing more for now.
    Again,
    /// The source has ended.
    Ended,
    /// The buffer is full.
    Full,
}

/// What a direction does once its source has ended and its buffer is written.
#[derive(Clone, Copy, PartialEq, Eq)]
enum AtEnd {
    /// Close the destination: the container's stdin pipe sees end of file.
    Close,
    /// Send the terminal's end-of-file character (see `tty::end_of_input`).
    PtyEof,
    /// Nothing: a terminal sends its own Ctrl-D.
    Nothing,
}

/// One direction: a source, a destination, and what is read but not yet written.
struct Pump {
    from: Option<End>,
    to: Option<End>,
    buf: Vec<u8>,
    at_end: AtEnd,
    /// Whether the source is the container's side (drained at the end).
    output: bool,
    /// The last byte read, for the terminal's end of file.
    last: Option<u8>,
    /// The source is syscage's terminal: read only while syscage is in its foreground
    /// (a read from the background would stop syscage with SIGTTIN, and the input is the
    /// shell's then).
    foreground_only: bool,
}

impl Pump {
    fn new(from: Option<End>, to: Option<End>, at_end: AtEnd, output: bool) -> Pump {
        let mut p = Pump {
            from,
            to,
            buf: Vec::new(),
            at_end,
            output,
            last: None,
            foreground_only: false,
        };
        if p.from.is_none() {
            p.source_ended();
        }
        p
    }

    fn source_ended(&mut self) {
        self.from = None;
        match self.at_end {
            AtEnd::PtyEof => {
                if let Some(to) = &self.to {
                    let eof = crate::tty::end_of_input(to.fd.as_fd(), self.last);
                    self.buf.extend_from_slice(&eof);
                }
            }
            AtEnd::Close if self.buf.is_empty() => self.to = None,
            AtEnd::Close | AtEnd::Nothing => {}
        }
    }

    /// The destination is gone (the container closed its stdin, the user's stdout is
    /// closed): nothing more goes this way, and the source is closed too, so its writer
    /// sees it as it would without syscage in between.
    fn broken(&mut self) {
        self.to = None;
        self.from = None;
        self.buf.clear();
    }

    /// Reads what is there, up to the buffer's size.
    fn fill(&mut self) -> Fill {
        loop {
            let Some(from) = &self.from else {
                return Fill::Ended;
            };
            let room = BUFFER.saturating_sub(self.buf.len());
            if room == 0 {
                return Fill::Full;
            }
            let at = self.buf.len();
            self.buf.resize(at + room.min(16 * 1024), 0);
            let r = from.read(&mut self.buf[at..]);
            self.buf.truncate(at + *r.as_ref().unwrap_or(&0));
            match r {
                Ok(0) => self.source_ended(),
                Ok(n) => self.last = Some(self.buf[at + n - 1]),
                Err(Errno::EINTR) => {}
                Err(Errno::EAGAIN) => return Fill::Again,
                // EIO: the container's side of its terminal is closed.
                Err(_) => self.source_ended(),
            }
        }
    }

    /// Writes what it can.
    fn flush(&mut self) {
        while !self.buf.is_empty() {
            let Some(to) = &self.to else {
                self.buf.clear();
                break;
            };
            match to.write(&self.buf) {
                Ok(n) => {
                    self.buf.drain(..n);
                }
                Err(Errno::EINTR) => {}
                Err(Errno::EAGAIN) => break,
                Err(_) => self.broken(),
            }
        }
        if self.buf.is_empty() && self.from.is_none() && self.at_end == AtEnd::Close {
            self.to = None;
        }
    }

    fn wants_read(&self) -> bool {
        self.from.is_some() && self.buf.len() < BUFFER && (!self.foreground_only || foreground())
    }

    fn wants_write(&self) -> bool {
        self.to.is_some() && !self.buf.is_empty()
    }
}

/// Which pump and which side a polled fd belongs to.
#[derive(Clone, Copy)]
pub struct Slot {
    pump: usize,
    read: bool,
}

/// The relays of one run.
#[derive(Default)]
pub struct Relay {
    pumps: Vec<Pump>,
    master: Option<Rc<OwnedFd>>,
    raw: Option<crate::tty::Raw>,
}

/// The container's standard fds, chosen before it is cloned.
pub struct Stdio {
    /// What the init puts on fds 0, 1 and 2 (`None`: syscage's own, not a terminal).
    child: [Option<OwnedFd>; 3],
    relay: Relay,
}

/// Whether syscage is in the foreground of its terminal (stdin). The answer changes when
/// the shell moves the job, which it does with SIGCONT; syscage reads that signal too, so
/// the relay looks again.
fn foreground() -> bool {
    let stdin = crate::sys::std_fd(0);
    match nix::unistd::tcgetpgrp(stdin) {
        Ok(pg) => pg == nix::unistd::getpgrp(),
        // Not syscage's controlling terminal: no job control applies to reading it.
        Err(_) => true,
    }
}

fn isatty(n: RawFd) -> bool {
    nix::unistd::isatty(crate::sys::std_fd(n)).unwrap_or(false)
}

fn same_file(a: RawFd, b: RawFd) -> bool {
    match (
        nix::sys::stat::fstat(crate::sys::std_fd(a)),
        nix::sys::stat::fstat(crate::sys::std_fd(b)),
    ) {
        (Ok(x), Ok(y)) => (x.st_dev, x.st_ino, x.st_rdev) == (y.st_dev, y.st_ino, y.st_rdev),
        _ => false,
    }
}

/// An fd numbered 3 or above: the init puts the container's ends on 0, 1 and 2, which
/// must not be one of them (syscage may have been started with one of those closed).
fn high(fd: OwnedFd) -> Result<OwnedFd, Errno> {
    if fd.as_raw_fd() > 2 {
        return Ok(fd);
    }
    let n = fcntl(fd.as_fd(), FcntlArg::F_DUPFD_CLOEXEC(3))?;
    Ok(crate::sys::own_received_fd(n))
}

fn pipe() -> Result<(OwnedFd, OwnedFd), Errno> {
    let (r, w) = nix::unistd::pipe2(OFlag::O_CLOEXEC)?;
    Ok((high(r)?, high(w)?))
}

impl Stdio {
    /// Pipes in place of syscage's terminals (see the module comment).
    pub fn plan(tty: bool) -> Result<Stdio, Errno> {
        let mut child: [Option<OwnedFd>; 3] = [None, None, None];
        let mut relay = Relay::default();
        if tty {
            child[0] = Some(high(nix::fcntl::open(
                "/dev/null",
                OFlag::O_RDWR | OFlag::O_CLOEXEC,
                nix::sys::stat::Mode::empty(),
            )?)?);
        } else if isatty(0) {
            let (r, w) = pipe()?;
            child[0] = Some(r);
            let mut p = Pump::new(
                End::user(0, false),
                Some(End::own(Rc::new(w))?),
                AtEnd::Close,
                false,
            );
            p.foreground_only = true;
            relay.pumps.push(p);
        }
        for n in [1, 2] {
            if !isatty(n) {
                continue;
            }
            if n == 2 && isatty(1) && same_file(1, 2) {
                child[2] = child[1]
                    .as_ref()
                    .map(|f| f.try_clone())
                    .transpose()
                    .map_err(|e| Errno::from_raw(e.raw_os_error().unwrap_or(libc::EIO)))?;
                continue;
            }
            let (r, w) = pipe()?;
            child[n as usize] = Some(w);
            relay.pumps.push(Pump::new(
                Some(End::own(Rc::new(r))?),
                End::user(n, true),
                AtEnd::Close,
                true,
            ));
        }
        Ok(Stdio { child, relay })
    }

    /// The fds the init puts on 0, 1 and 2.
    pub fn child_fds(&self) -> [Option<RawFd>; 3] {
        [0, 1, 2].map(|i| self.child[i].as_ref().map(|f| f.as_raw_fd()))
    }

    /// Once the init is cloned: the container's ends are closed here (so that the pipes
    /// end when the container's copies do), the relay goes on.
    pub fn into_relay(self) -> Relay {
        self.relay
    }
}

impl Relay {
    /// `-t`: relays the container's terminal to syscage's stdin and stdout, in raw mode.
    pub fn attach_pty(&mut self, master: OwnedFd) -> Result<(), Errno> {
        let master = Rc::new(master);
        let raw = crate::tty::Raw::enter()?;
        let at_end = if raw.is_some() {
            AtEnd::Nothing
        } else {
            AtEnd::PtyEof
        };
        let mut input = Pump::new(
            End::user(0, false),
            Some(End::own(master.clone())?),
            at_end,
            false,
        );
        input.foreground_only = raw.is_some();
        self.raw = raw;
        self.pumps.push(input);
        self.pumps.push(Pump::new(
            Some(End::own(master.clone())?),
            End::user(1, true),
            AtEnd::Nothing,
            true,
        ));
        crate::tty::copy_window_size(master.as_fd());
        self.master = Some(master);
        Ok(())
    }

    pub fn has_pty(&self) -> bool {
        self.master.is_some()
    }

    /// SIGWINCH: the container's terminal takes syscage's size.
    pub fn resize(&self) {
        if let Some(m) = &self.master {
            crate::tty::copy_window_size(m.as_fd());
        }
    }

    /// Adds the fds to watch; returns what each one is.
    pub fn poll_fds<'a>(&'a self, fds: &mut Vec<PollFd<'a>>) -> Vec<Slot> {
        let mut slots = Vec::new();
        for (i, p) in self.pumps.iter().enumerate() {
            if let (true, Some(f)) = (p.wants_read(), &p.from) {
                fds.push(PollFd::new(f.fd.as_fd(), PollFlags::POLLIN));
                slots.push(Slot {
                    pump: i,
                    read: true,
                });
            }
            if let (true, Some(t)) = (p.wants_write(), &p.to) {
                fds.push(PollFd::new(t.fd.as_fd(), PollFlags::POLLOUT));
                slots.push(Slot {
                    pump: i,
                    read: false,
                });
            }
        }
        slots
    }

    /// Moves what the poll found ready (`revents` in the order of `slots`).
    pub fn pump(&mut self, slots: &[Slot], revents: &[PollFlags]) {
        for (s, r) in slots.iter().zip(revents) {
            if r.is_empty() {
                continue;
            }
            let p = &mut self.pumps[s.pump];
            if s.read {
                p.fill();
            }
            p.flush();
        }
    }

    /// The container is gone: what it wrote last goes out (its pipes and terminal are
    /// read until they are empty, not until they end: a copy of a pipe's write end that
    /// left the container must not keep syscage here). Writing to syscage's own stdout
    /// may wait for whoever reads it, but a signal that ends a run ends this too. Input
    /// not yet taken is dropped.
    pub fn finish(&mut self, signals: &mut Signals) {
        for p in self.pumps.iter_mut().filter(|p| !p.output) {
            p.from = None;
            p.buf.clear();
        }
        loop {
            let mut pending = false;
            for p in self.pumps.iter_mut().filter(|p| p.output) {
                // Read and write until the source has nothing more or the destination
                // can take no more.
                loop {
                    let filled = p.fill();
                    p.flush();
                    if p.wants_write() {
                        pending = true;
                        break;
                    }
                    if filled != Fill::Full {
                        p.from = None;
                        break;
                    }
                }
            }
            if !pending {
                return;
            }
            let mut fds = vec![PollFd::new(signals.fd(), PollFlags::POLLIN)];
            let mut slots = Vec::new();
            for (i, p) in self.pumps.iter().enumerate() {
                if let (true, Some(t)) = (p.wants_write(), &p.to) {
                    fds.push(PollFd::new(t.fd.as_fd(), PollFlags::POLLOUT));
                    slots.push(i);
                }
            }
            match poll(&mut fds, PollTimeout::NONE) {
                Ok(_) | Err(Errno::EINTR) => {}
                Err(_) => return,
            }
            drop(fds);
            signals.read();
            while let Some(s) = signals.take() {
                if ends_the_run(s) {
                    return;
                }
            }
        }
    }

    /// Restores syscage's terminal now (it is also restored when the relay is dropped).
    pub fn restore(&mut self) {
        self.raw = None;
    }
}
