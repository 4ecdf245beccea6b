//! An OCI container's process: cloned by `create` into the container's namespaces, it is
//! the command itself (pid 1 of its pid namespace, as with runc, crun and youki), not
//! syscage's init. Its steps:
//! 1. every fd above 2 closed but the `--preserve-fds` ones, the sync socket, the exec
//!    FIFO and the namespace files to join (containerd's shim leaks its own listening
//!    socket as fd 3);
//! 2. the parent's `Go`; then `child::setup` (namespaces joined, identity, names, the
//!    mount plan with the hooks' stop before `pivot_root`, terminal) and
//!    `exec::prepare` (limits, capabilities, user, no_new_privs, working directory, the
//!    program found): every failure here fails `create` with the step's message;
//! 3. `Ready`; with a `listenerPath`, the filter loaded now and its fd handed to the
//!    parent (which passes it to the agent while `create` still runs);
//! 4. the sync socket closed: `create` returns and nothing of syscage stays;
//! 5. the exec FIFO opened for writing through `/proc/self/fd` (blocks until `start`
//!    opens the other end); `startContainer` hooks; one byte written, the FIFO kept
//!    open until `execve` closes it (`start` waits for that before `poststart`);
//! 6. the filter (without a listener) loaded last; `execve`.
//!
//! The process has no parent-death signal: it must outlive `create`. If `create` dies
//! before step 4, the socket's end of file ends this process.

use crate::exec;
use crate::protocol::{self, failure, Failure, FailureKind, ToChild, ToParent};
use crate::spec::RunConfig;
use crate::sys::{self, SharedPage};
use nix::errno::Errno;
use std::io::Write;
use std::os::fd::{AsFd, AsRawFd, OwnedFd, RawFd};

/// The fds the process inherits from `create` for itself.
#[derive(Debug)]
pub struct Inherit {
    /// An O_PATH fd of the exec FIFO.
    pub fifo: RawFd,
    /// Namespaces to join: CLONE_NEW* type and an fd of the namespace file.
    pub join: Vec<(i32, RawFd)>,
    /// `--preserve-fds`: the fds from 3 the container keeps (only those open at start).
    pub keep: Vec<RawFd>,
    /// The v1 cgroups the process joins itself.
    pub cgroups: crate::cgroup::SelfJoin,
}

/// Runs in the cloned child; never returns.
pub fn container_main(cfg: &RunConfig, sock: OwnedFd, shared: &SharedPage, inh: &Inherit) -> ! {
    let mut own = vec![inh.fifo];
    own.extend(inh.join.iter().map(|(_, fd)| *fd));
    let sock = start(
        sock,
        &inh.keep,
        &own,
        &inh.cgroups,
        "move the container's process into its cgroup",
    );
    let prepared = match set_up(cfg, &sock, shared, inh) {
        Ok(p) => p,
        Err(f) => {
            let code = f.kind.exit_code();
            let _ = protocol::send(sock.as_fd(), &ToParent::Failed(f), None, false);
            sys::exit_now(code);
        }
    };
    let (prepared, state) = prepared;
    // A filter with a listener is loaded while `create` is there to take its fd.
    let listener = cfg.filter.as_ref().is_some_and(|f| f.listener) && !prepared.filter_loaded;
    if listener {
        if let Err(f) = exec::load_filter(cfg, Some(&sock), shared, &prepared.program()) {
            let _ = protocol::send(sock.as_fd(), &ToParent::Failed(f), None, false);
            sys::exit_now(125);
        }
    }
    drop(sock);
    let fifo = match open_fifo(inh.fifo) {
        Ok(f) => f,
        Err(e) => die(&format!(
            "cannot wait for `start` on the exec FIFO: {}",
            e.desc()
        )),
    };
    if let Some(state) = state {
        let state = crate::hooks::with_status(&state, "created");
        if let Err(h) = crate::hooks::run_all("startContainer", &cfg.hooks.start_container, &state)
        {
            die(&format!("cannot run the {h}"));
        }
    }
    // The byte tells `start` the process goes on; the FIFO stays open until execve
    // closes it (CLOEXEC), which `start` waits for before its poststart hooks.
    if let Err(e) = (&fifo).write_all(b"0") {
        die(&format!("cannot write to the exec FIFO: {e}"));
    }
    std::mem::forget(fifo);
    if !listener && !prepared.filter_loaded {
        if let Err(f) = exec::load_filter(cfg, None, shared, &prepared.program()) {
            die(&f.to_string());
        }
    }
    exec::execute(shared, prepared)
}

/// The first fd above the `--preserve-fds` range.
fn first_after(keep: &[RawFd]) -> RawFd {
    keep.iter().copied().max().map_or(3, |m| m.max(2) + 1)
}

/// The first steps of both processes: the sync socket moved above the preserved range
/// (the parent placed the other fds there), every other fd from 3 closed but the
/// preserved ones and `own`, then the parent's `Go`. Any failure ends the process (the
/// parent sees the socket close).
/// Joins the v1 cgroups first of all (the files stay open, close-on-exec, until the
/// caller closes them or executes its command); on failure, says why and leaves.
pub(crate) fn join_cgroups(sock: &OwnedFd, cgroups: &crate::cgroup::SelfJoin, what: &str) {
    if let Err(f) = cgroups.join(what) {
        let _ = protocol::send(sock.as_fd(), &ToParent::Failed(f), None, false);
        sys::exit_now(125);
    }
}

/// The child's first steps: its socket above the preserved fds, every fd closed but the
/// preserved ones, the socket, `own` and the cgroup files, then, on `Go`, into the cgroups
/// (`what` names that step).
fn start(
    sock: OwnedFd,
    keep: &[RawFd],
    own: &[RawFd],
    cgroups: &crate::cgroup::SelfJoin,
    what: &str,
) -> OwnedFd {
    let after = first_after(keep);
    let sock = if sock.as_raw_fd() < after {
        match nix::fcntl::fcntl(sock.as_fd(), nix::fcntl::FcntlArg::F_DUPFD_CLOEXEC(after)) {
            Ok(n) => {
                drop(sock);
                sys::own_received_fd(n)
            }
            Err(_) => sys::exit_now(125),
        }
    } else {
        sock
    };
    let mut all = keep.to_vec();
    all.push(sock.as_raw_fd());
    all.extend_from_slice(own);
    all.extend(cgroups.fds());
    if sys::close_fds_from(3, &all, false).is_err() {
        sys::exit_now(125);
    }
    match protocol::recv::<ToChild>(sock.as_fd()) {
        Ok(Some(r)) if r.msg == ToChild::Go => {}
        _ => sys::exit_now(125),
    }
    join_cgroups(&sock, cgroups, what);
    sock
}

/// Steps 2 and 3.
fn set_up(
    cfg: &RunConfig,
    sock: &OwnedFd,
    shared: &SharedPage,
    inh: &Inherit,
) -> Result<(exec::Prepared, Option<String>), Failure> {
    let (tty, state) = crate::child::setup(cfg, sock, &inh.join)?;
    for fd in &inh.keep {
        sys::keep_on_exec(*fd).map_err(|e| {
            failure(
                FailureKind::Setup,
                format!("pass fd {fd} on (--preserve-fds)"),
                Some(e),
                None,
            )
        })?;
    }
    let p = exec::prepare(cfg, sock, tty, Some(shared))?;
    // Nothing but the preserved fds reaches the program; the socket and the FIFO are
    // closed at execve (they are already close-on-exec; this covers what set-up opened).
    let after = first_after(&inh.keep);
    exec::close_on_exec_from(after)?;
    for fd in [sock.as_raw_fd(), inh.fifo] {
        if fd < after {
            return Err(failure(
                FailureKind::Setup,
                format!("keep fd {fd} out of the preserved ones"),
                Some(Errno::EBADF),
                None,
            ));
        }
    }
    protocol::send(sock.as_fd(), &ToParent::Ready, None, false).map_err(|e| {
        failure(
            FailureKind::Setup,
            "tell syscage the container is ready",
            Some(e),
            None,
        )
    })?;
    Ok((p, state))
}

/// Opens the exec FIFO for writing: it blocks until `start` opens it for reading. The
/// O_PATH fd the process inherited is closed.
fn open_fifo(fifo: RawFd) -> Result<std::fs::File, Errno> {
    let path = format!("/proc/self/fd/{fifo}");
    let fd = loop {
        match nix::fcntl::open(
            path.as_str(),
            nix::fcntl::OFlag::O_WRONLY | nix::fcntl::OFlag::O_CLOEXEC,
            nix::sys::stat::Mode::empty(),
        ) {
            Err(Errno::EINTR) => continue,
            r => break r?,
        }
    };
    nix::unistd::close(sys::std_fd_any(fifo).as_raw_fd())?;
    Ok(std::fs::File::from(fd))
}

/// After `create` returned, only the container's stderr (its client's log) can hear.
fn die(what: &str) -> ! {
    let _ = writeln!(std::io::stderr(), "syscage: {what}");
    sys::exit_now(125)
}

/// What a process `exec` starts inherits for itself.
#[derive(Debug)]
pub struct ExecInherit {
    /// A pidfd of the container's process, whose namespaces it joins.
    pub pidfd: RawFd,
    /// The setns(2) flags of those namespaces (the pid one was entered before the fork).
    pub namespaces: i32,
    /// `--preserve-fds`.
    pub keep: Vec<RawFd>,
    /// The container's v1 cgroups, which the process joins itself.
    pub cgroups: crate::cgroup::SelfJoin,
}

/// A process `exec` forked (in the container's pid namespace already): joins the
/// container's other namespaces at once through its pidfd (Linux 5.8; the kernel orders
/// them, the user namespace first), opens its terminal in the container's devpts, takes
/// its identity, limits and capabilities as `create`'s process does, says `Ready`, loads
/// the container's filter and executes. Never returns.
pub fn exec_main(cfg: &RunConfig, sock: OwnedFd, shared: &SharedPage, inh: &ExecInherit) -> ! {
    let after = first_after(&inh.keep);
    let sock = start(
        sock,
        &inh.keep,
        &[inh.pidfd],
        &inh.cgroups,
        "move the exec process into the container's cgroup",
    );
    let prepared = match join_and_prepare(cfg, &sock, shared, inh, after) {
        Ok(p) => p,
        Err(f) => {
            let code = f.kind.exit_code();
            let _ = protocol::send(sock.as_fd(), &ToParent::Failed(f), None, false);
            sys::exit_now(code);
        }
    };
    let listener = cfg.filter.as_ref().is_some_and(|f| f.listener) && !prepared.filter_loaded;
    if listener {
        if let Err(f) = exec::load_filter(cfg, Some(&sock), shared, &prepared.program()) {
            let _ = protocol::send(sock.as_fd(), &ToParent::Failed(f), None, false);
            sys::exit_now(125);
        }
    }
    drop(sock);
    if !listener && !prepared.filter_loaded {
        if let Err(f) = exec::load_filter(cfg, None, shared, &prepared.program()) {
            die(&f.to_string());
        }
    }
    exec::execute(shared, prepared)
}

fn join_and_prepare(
    cfg: &RunConfig,
    sock: &OwnedFd,
    shared: &SharedPage,
    inh: &ExecInherit,
    after: RawFd,
) -> Result<exec::Prepared, Failure> {
    let e =
        |step: &'static str| move |err: Errno| failure(FailureKind::Setup, step, Some(err), None);
    let flags = nix::sched::CloneFlags::from_bits_retain(inh.namespaces & !libc::CLONE_NEWPID);
    nix::sched::setns(sys::std_fd_any(inh.pidfd), flags)
        .map_err(e("join the container's namespaces"))?;
    nix::unistd::setsid().map_err(e("start a session of its own"))?;
    let _ = nix::unistd::close(inh.pidfd);
    let tty = if cfg.tty {
        Some(crate::child::open_pty(sock)?)
    } else {
        None
    };
    for fd in &inh.keep {
        sys::keep_on_exec(*fd).map_err(e("pass an fd on (--preserve-fds)"))?;
    }
    let p = exec::prepare(cfg, sock, tty, Some(shared))?;
    exec::close_on_exec_from(after)?;
    protocol::send(sock.as_fd(), &ToParent::Ready, None, false)
        .map_err(e("tell syscage the process is ready"))?;
    Ok(p)
}
