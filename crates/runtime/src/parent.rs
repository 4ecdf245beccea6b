//! syscage's side of a run, in phases, each a function:
//! 0. the forwarded signals, blocked since `main`, are read from a signalfd; one that came
//!    already ends the run before anything is made (`signals`);
//! 1. [`cgroups`]: remove what killed runs left (cgroups whose syscage is gone), create
//!    this run's cgroup and write its limits;
//! 2. [`start`]: the container's stdio (pipes in place of syscage's terminals, `relay`),
//!    then the init cloned into new namespaces (mount, pid, uts, ipc, net, and user when
//!    asked or when not root), with the forwarded signals blocked;
//! 3. also in [`start`]: the init's uid/gid maps, the init moved into the cgroup, Go;
//! 4. [`handshake`]: the messages the run expects (`protocol::Handshake`), taking the pty
//!    master, the command's pidfd and the notification fd (`handoff`) as they come; a
//!    signal before the command says it starts ends the run, one after waits to be
//!    forwarded;
//! 5. `monitor::supervise`: forward signals, relay stdio, decide the end from outside;
//! 6. clean up: what the container wrote last, the terminal, the cgroup; everything else
//!    lived in the container's namespaces.
//!
//! A failure at any phase kills the init (and with it the container) and removes the
//! cgroup before the error is returned.

use crate::cgmark::{Mark, Marks};
use crate::cgroup::{self, Cgroup, Layout};
use crate::child;
use crate::error::RunError;
use crate::handoff::{self, Loaded};
use crate::idmap;
use crate::monitor::{self, Event, Init};
use crate::protocol::{self, Expect, Handshake, Next, Refused, ToChild};
use crate::relay::{Relay, Stdio};
use crate::signals::{ends_the_run, Signals};
use crate::spec::RunConfig;
use crate::sys::{self, SharedPage};
use nix::errno::Errno;
use nix::sched::CloneFlags;
use nix::sys::socket::{socketpair, AddressFamily, SockFlag, SockType};
use std::os::fd::{AsFd, AsRawFd, OwnedFd};

/// Why a supervisor could not take the notification fd: its own error, one line.
pub type SupervisorError = Box<dyn std::error::Error + Send + Sync>;

/// What a caller can do while the container runs (the denial report, learning, an OCI
/// seccomp agent). Every method has a default that does nothing.
pub trait Supervisor {
    /// The command is about to execute; `host_pid` is its pid on the host.
    fn started(&mut self, _host_pid: i32) {}
    /// The seccomp notification fd of the command, taken before it executes. An error
    /// stops the container (its calls would wait for an answer that never comes).
    fn listener(&mut self, _fd: OwnedFd, _host_pid: i32) -> Result<(), SupervisorError> {
        Ok(())
    }
    /// The container is over; `code` is its exit status, and the returned one is what
    /// syscage exits with.
    fn finished(&mut self, code: i32) -> i32 {
        code
    }
}

/// A supervisor that does nothing.
pub struct NoSupervisor;
impl Supervisor for NoSupervisor {}

/// Runs the container; returns the exit status syscage should exit with.
pub fn run(cfg: &RunConfig, sup: &mut dyn Supervisor) -> Result<i32, RunError> {
    // 0.
    let mut signals = Signals::new().map_err(|e| RunError::parent("read signals", e))?;
    if let Some(s) = signals.pending_stop() {
        return Err(RunError::Interrupted(s));
    }
    let cg = cgroups(cfg)?;
    let shared = SharedPage::new().map_err(|e| RunError::parent("map a shared page", e))?;
    let (mut init, sock, mut relay) = start(cfg, &shared, cg.as_ref().map(|(c, _)| c))?;
    let result = handshake(cfg, &mut init, sock, &shared, &mut signals, &mut relay, sup).and_then(
        |command| {
            monitor::supervise(
                &mut init,
                &command,
                &mut signals,
                &mut relay,
                cfg.stop_timeout,
            )
        },
    );
    // 6. Whatever happened, the container is gone before its output is drained (the
    // drain reads until the pipes are empty) and the terminal restored.
    init.kill();
    relay.finish(&mut signals);
    relay.restore();
    let code = sup.finished(result?);
    drop(cg);
    exec_failure(cfg, &shared)?;
    Ok(code)
}

/// Phase 1. The cgroups killed runs left are swept first, unless no run that made
/// cgroups can have been killed (see `cgmark`) and this run makes none.
fn cgroups(cfg: &RunConfig) -> Result<Option<(Cgroup, Option<Mark>)>, RunError> {
    let marks = Marks::for_caller();
    let may_be_left = marks.as_ref().is_none_or(Marks::any);
    if !cfg.limits.any() && !may_be_left {
        return Ok(None);
    }
    let layout = Layout::detect()?;
    let me = cgroup::Owner::me().map_err(|e| {
        RunError::parent(
            "read this process's pid namespace and start time in /proc",
            Errno::from_raw(e.raw_os_error().unwrap_or(libc::EIO)),
        )
    })?;
    let alive = |o: &cgroup::Owner| o.alive_from(&me);
    if may_be_left {
        let removed = cgroup::sweep(&layout, &alive);
        if removed > 0 {
            tracing::info!("removed {removed} cgroup(s) left by killed syscage runs");
        }
        if let Some(m) = &marks {
            m.prune(&layout, &alive);
        }
    }
    if !cfg.limits.any() {
        return Ok(None);
    }
    // Marked before the first directory is made; without a mark (no place for it), the
    // cgroups are still made: the next run that makes a cgroup sweeps them if need be.
    let mut mark = marks.and_then(|m| {
        m.add(&me)
            .map_err(|e| tracing::debug!("cannot mark this run's cgroups: {e}"))
            .ok()
    });
    let c = Cgroup::create(&layout, &me.name(), &cfg.limits)?;
    for d in c.dirs() {
        tracing::info!("cgroup {}", d.display());
    }
    if let Some(m) = &mut mark {
        m.covers(c.dirs());
    }
    tracing::debug!("cgroups are ready");
    // Dropped in this order: the cgroups, then the mark (kept if one of them stays).
    Ok(Some((c, mark)))
}

/// Phases 2 and 3: the init in its namespaces, with its maps and cgroup, told to go.
fn start(
    cfg: &RunConfig,
    shared: &SharedPage,
    cg: Option<&Cgroup>,
) -> Result<(Init, OwnedFd, Relay), RunError> {
    let stdio = Stdio::plan(cfg.tty)
        .map_err(|e| RunError::parent("make pipes for the container's stdio", e))?;
    // The init joins the v1 cgroups itself (see `Cgroup::self_join`); this process moves
    // it into a v2 one.
    let join = cg.map(|c| c.self_join()).transpose()?.unwrap_or_default();
    let (init, psock) = spawn(cfg, shared, Entry::Init(stdio.child_fds(), join), None)?;
    // The container's ends of the pipes are the container's alone from here on.
    let relay = stdio.into_relay();
    crate::fault::stop_here("set-up");
    write_maps(cfg, &init)?;
    if let Some(c) = cg {
        crate::fault::inject("move the init into its cgroup")
            .map_err(|e| RunError::parent("move the init into its cgroup", e))?;
        c.add(init.pid().as_raw())?;
    }
    go(&psock)?;
    Ok((init, psock, relay))
}

/// What the cloned process runs.
pub(crate) enum Entry<'a> {
    /// `syscage run`'s init, with what goes on its fds 0, 1 and 2, and the cgroups it
    /// joins itself.
    Init([Option<std::os::fd::RawFd>; 3], cgroup::SelfJoin),
    /// An OCI container's process.
    Container(&'a crate::container::Inherit),
    /// A process `exec` starts in a running container (a plain fork: it joins the
    /// container's namespaces itself).
    Exec(&'a crate::container::ExecInherit),
}

/// Clones the container's first process into its new namespaces (in the pid namespace
/// `pid_ns` when one is joined: it applies to children only, so this process enters it
/// for the clone and comes back). Returns it, and the parent's end of the sync socket.
pub(crate) fn spawn(
    cfg: &RunConfig,
    shared: &SharedPage,
    entry: Entry<'_>,
    pid_ns: Option<std::os::fd::BorrowedFd<'_>>,
) -> Result<(Init, OwnedFd), RunError> {
    let (psock, csock) = socketpair(
        AddressFamily::Unix,
        SockType::SeqPacket,
        None,
        SockFlag::SOCK_CLOEXEC,
    )
    .map_err(|e| RunError::parent("create the sync socket", e))?;
    protocol::want_credentials(psock.as_fd())
        .map_err(|e| RunError::parent("ask for credentials on the sync socket", e))?;
    // The cgroup namespace is made once the process is in its cgroup (`child::setup`).
    let mut flags = CloneFlags::from_bits_retain(cfg.namespaces.new & !libc::CLONE_NEWCGROUP);
    if cfg.userns.is_new() {
        flags |= CloneFlags::CLONE_NEWUSER;
    }
    if let Entry::Exec(_) = entry {
        flags = CloneFlags::empty();
    }
    let back = match pid_ns {
        Some(ns) => {
            let own = nix::fcntl::open(
                "/proc/self/ns/pid",
                nix::fcntl::OFlag::O_RDONLY | nix::fcntl::OFlag::O_CLOEXEC,
                nix::sys::stat::Mode::empty(),
            )
            .map_err(|e| RunError::parent("open this process's pid namespace", e))?;
            nix::sched::setns(ns, CloneFlags::CLONE_NEWPID)
                .map_err(|e| RunError::parent("join the container's pid namespace", e))?;
            Some(own)
        }
        None => None,
    };
    tracing::debug!("cloning the container's first process");
    let what = match entry {
        Entry::Init(..) => "container init",
        Entry::Container(_) => "container process",
        Entry::Exec(_) => "exec process",
    };
    let cloned = crate::fault::inject("create the container's namespaces")
        .and_then(|_| sys::clone_fork(flags.bits()));
    if let Ok(None) = cloned {
        drop(psock);
        drop(back);
        match entry {
            Entry::Init(stdio, join) => child::init_main(cfg, csock, shared, stdio, join),
            Entry::Container(inherit) => {
                crate::container::container_main(cfg, csock, shared, inherit)
            }
            Entry::Exec(inherit) => crate::container::exec_main(cfg, csock, shared, inherit),
        }
    }
    if let Some(own) = back {
        // Hooks and everything else this process starts stay in its own namespace.
        nix::sched::setns(own.as_fd(), CloneFlags::CLONE_NEWPID)
            .map_err(|e| RunError::parent("return to this process's pid namespace", e))?;
    }
    let pid = match cloned {
        Ok(Some(pid)) => pid,
        Ok(None) => unreachable_child(),
        Err(e) => return Err(clone_error(e, cfg)),
    };
    drop(csock);
    let init = match Init::new(pid) {
        Ok(i) => i,
        Err(e) => {
            let _ = nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGKILL);
            let _ = nix::sys::wait::waitpid(pid, None);
            return Err(e);
        }
    };
    tracing::info!("{what}: host pid {pid}");
    Ok((init, psock))
}

/// The child never comes back from its entry point.
fn unreachable_child() -> ! {
    sys::exit_now(125)
}

/// The container's uid/gid maps, written by the parent (the only process allowed to).
pub(crate) fn write_maps(cfg: &RunConfig, init: &Init) -> Result<(), RunError> {
    let pid = init.pid();
    if cfg.userns.is_new() {
        crate::fault::inject("write the uid/gid maps")
            .map_err(|e| RunError::parent("write the uid/gid maps", e))?;
    }
    idmap::write_maps(std::path::Path::new("/proc"), pid.as_raw(), &cfg.userns).map_err(|e| {
        RunError::Parent {
            step: format!("write the uid/gid maps of pid {pid}"),
            errno: Errno::from_raw(e.raw_os_error().unwrap_or(libc::EIO)),
            hint: None,
        }
    })
}

/// Tells the container's first process to go on.
pub(crate) fn go(sock: &OwnedFd) -> Result<(), RunError> {
    protocol::send(sock.as_fd(), &ToChild::Go, None, false)
        .map_err(|e| RunError::parent("send go to the container", e))
}

/// Phase 4: the set-up's messages, in the order the run expects them, until the command
/// runs. Returns the command as the parent follows it.
fn handshake(
    cfg: &RunConfig,
    init: &mut Init,
    sock: OwnedFd,
    shared: &SharedPage,
    signals: &mut Signals,
    relay: &mut Relay,
    sup: &mut dyn Supervisor,
) -> Result<monitor::Command, RunError> {
    let mut hs = Handshake::new(Expect {
        pty: cfg.tty,
        listener: cfg.filter.as_ref().is_some_and(|f| f.listener),
        ..Expect::default()
    });
    let mut command = None;
    while !hs.done() {
        // What the container said comes before a signal that came meanwhile: the command
        // may already run. Once it has said it starts (`Exec`), signals wait for it, to be
        // forwarded; before that, one that ends the run ends it here.
        if !monitor::readable(sock.as_fd()) {
            match monitor::next_event(&[sock.as_fd()], signals, relay, None, command.is_none())? {
                Event::Signal(s) if ends_the_run(s) => {
                    if monitor::readable(sock.as_fd()) {
                        signals.put_back(s);
                    } else {
                        return Err(RunError::Interrupted(s));
                    }
                }
                Event::Signal(s) => {
                    if s == nix::sys::signal::Signal::SIGWINCH {
                        relay.resize();
                    }
                    continue;
                }
                Event::Ready(_) | Event::Timeout => {}
            }
        }
        let protocol::Turn { next, fd, pid } = hs.read(sock.as_fd(), "the container")?;
        match next {
            Next::TakePty => {
                let master = fd.ok_or(RunError::Protocol("the terminal came without its fd"))?;
                relay
                    .attach_pty(master)
                    .map_err(|e| RunError::parent("set up the terminal", e))?;
            }
            Next::Started => {
                let (pidfd, pid) = match (fd, pid) {
                    (Some(f), Some(p)) => (f, p),
                    _ => return Err(RunError::Protocol("the command's pidfd or pid is missing")),
                };
                // The pidfd must be the sender's (the kernel vouches for the credentials),
                // unless it is gone already (a short command may have run and ended).
                if monitor::pidfd_pid(pidfd.as_fd()).is_some_and(|p| p != pid) {
                    return Err(RunError::Protocol(
                        "the pidfd sent with `Exec` is not the sender's",
                    ));
                }
                tracing::info!("command: host pid {pid} (grep Seccomp /proc/{pid}/status)");
                sup.started(pid);
                command = Some(monitor::Command { pidfd, pid });
            }
            Next::TakeListener(target) => {
                let c = command.as_ref().ok_or(RunError::Protocol(
                    "listener announced before the command started",
                ))?;
                if let Some(l) = take_listener(shared, c, target)? {
                    sup.listener(l, c.pid).map_err(RunError::Supervisor)?;
                    // Only now may the command go on: a supervisor that failed (an OCI
                    // agent that is not there) fails the run before the command does
                    // anything.
                    handoff::release(shared)
                        .map_err(|e| RunError::parent("let the command go on", e))?;
                }
            }
            Next::Running => {}
            // Steps of an OCI `create`, which this run does not expect (the handshake
            // refuses them before they get here).
            Next::RunHooks | Next::Ready => return Err(RunError::Protocol("an OCI step in a run")),
            Next::Fail(f) => return Err(RunError::Container(f)),
            Next::Abort(Refused::InitGone) => {
                // It closed its end of the socket: it has exited or is exiting, so it can
                // be reaped at once, and says how it ended (a crash, the OOM killer...).
                let how = match init.reap()? {
                    nix::sys::wait::WaitStatus::Exited(_, c) => {
                        format!(" (it exited with status {c})")
                    }
                    nix::sys::wait::WaitStatus::Signaled(_, s, _) => {
                        format!(" (it was killed by {s})")
                    }
                    _ => String::new(),
                };
                return Err(RunError::InitGone(format!("{}{how}", Refused::InitGone)));
            }
            Next::Abort(why) => return Err(RunError::Refused(why)),
        }
    }
    command.ok_or(RunError::Protocol("the command started without saying so"))
}

/// Takes the command's notification fd once its filter is loaded (see `handoff`); `None`
/// when the command died first (what it said last is on the socket).
pub(crate) fn take_listener(
    shared: &SharedPage,
    command: &monitor::Command,
    target: i32,
) -> Result<Option<OwnedFd>, RunError> {
    match handoff::wait_loaded(shared)
        .map_err(|e| RunError::parent("wait for the command's filter", e))?
    {
        Loaded::CommandGone => return Ok(None),
        Loaded::Yes => {}
    }
    crate::fault::stop_here("take the notification fd");
    let fd = sys::pidfd_getfd(command.pidfd.as_fd(), target)
        .map_err(|e| RunError::parent("take the notification fd", e))?;
    let link = std::fs::read_link(format!("/proc/self/fd/{}", fd.as_raw_fd())).unwrap_or_default();
    if link.to_string_lossy() != "anon_inode:seccomp notify" {
        return Err(RunError::Protocol(
            "the fd taken from the command is not its seccomp listener",
        ));
    }
    Ok(Some(fd))
}

/// A failed `execve`, which only shared memory can report (the filter was loaded).
fn exec_failure(cfg: &RunConfig, shared: &SharedPage) -> Result<(), RunError> {
    let e = handoff::exec_errno(shared);
    if e == 0 {
        return Ok(());
    }
    let kind = if e == libc::ENOENT {
        protocol::FailureKind::NotFound
    } else {
        protocol::FailureKind::CannotExecute
    };
    let cmd = cfg.command.first().map(String::as_str).unwrap_or("");
    // The file was found before execve: an ENOENT is about what it needs.
    let step = if e == libc::ENOENT {
        format!("execute `{cmd}`: the file is there, but its interpreter (its `#!` line) or its dynamic loader is")
    } else {
        format!("execute `{cmd}`")
    };
    Err(RunError::Container(protocol::Failure {
        kind,
        step,
        errno: Some(e),
        hint: (e == libc::EPERM || e == libc::EACCES)
            .then(|| "the seccomp profile may deny execve".to_string()),
    }))
}

fn clone_error(e: Errno, cfg: &RunConfig) -> RunError {
    let userns = cfg.userns.is_new();
    let hint = match e {
        Errno::EPERM if userns => Some(
            "user namespaces may be disabled: check `sysctl kernel.unprivileged_userns_clone` and `user.max_user_namespaces`, or an AppArmor restriction (`kernel.apparmor_restrict_unprivileged_userns`)".to_string(),
        ),
        Errno::EPERM => Some("creating namespaces needs root (or run syscage as a normal user, which uses a user namespace)".to_string()),
        Errno::ENOSPC => Some("a namespace limit in /proc/sys/user/max_*_namespaces is reached".to_string()),
        Errno::EINVAL => Some("the kernel lacks one of the namespace types syscage needs".to_string()),
        _ => None,
    };
    RunError::Parent {
        step: "create the container's namespaces".to_string(),
        errno: e,
        hint,
    }
}
