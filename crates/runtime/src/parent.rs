//! syscage's side of a run, in phases:
//! 1. remove what killed runs left (cgroups whose syscage is gone), create this run's
//!    cgroup and write its limits;
//! 2. clone the container's init into new namespaces (mount, pid, uts, ipc, net, and user
//!    when asked or when not root), with the forwarded signals blocked;
//! 3. write the init's uid/gid maps, move it into the cgroup, send Go;
//! 4. follow the handshake (`protocol::Handshake`) until the command runs, taking the pty
//!    master and the notification fd when they come;
//! 5. supervise: forward signals, relay the terminal, wait for the init to exit;
//! 6. clean up: the cgroup; everything else lived in the container's namespaces.
//!
//! A failure at any phase kills the init (and with it the container) and removes the
//! cgroup before the error is returned.

use crate::cgroup::{self, Cgroup, Layout};
use crate::child::{self, FORWARDED};
use crate::error::RunError;
use crate::exec::{SHM_EXEC_ERRNO, SHM_LOADED, SHM_TAKEN};
use crate::idmap;
use crate::protocol::{self, Handshake, Next, ToChild, ToParent};
use crate::spec::RunConfig;
use crate::sys::{self, SharedPage};
use crate::tty;
use nix::errno::Errno;
use nix::poll::{poll, PollFd, PollFlags, PollTimeout};
use nix::sched::CloneFlags;
use nix::sys::signal::{kill, SigSet, SigmaskHow, Signal};
use nix::sys::signalfd::{SfdFlags, SignalFd};
use nix::sys::socket::{socketpair, AddressFamily, SockFlag, SockType};
use nix::sys::wait::{waitpid, WaitStatus};
use nix::unistd::Pid;
use std::os::fd::{AsFd, AsRawFd, OwnedFd};
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

/// What a caller can do while the container runs (the denial report, learning, an OCI
/// seccomp agent). Every method has a default that does nothing.
pub trait Supervisor {
    /// The command is about to execute; `host_pid` is its pid on the host.
    fn started(&mut self, _host_pid: i32) {}
    /// The seccomp notification fd of the command, taken before it executes. An error
    /// stops the container (its calls would wait for an answer that never comes).
    fn listener(&mut self, _fd: OwnedFd, _host_pid: i32) -> Result<(), String> {
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

/// Kills and reaps the init unless disarmed: no path out of `run` leaves the container
/// behind.
struct InitGuard {
    pid: Pid,
    armed: bool,
}

impl Drop for InitGuard {
    fn drop(&mut self) {
        if self.armed {
            let _ = kill(self.pid, Signal::SIGKILL);
            let _ = waitpid(self.pid, None);
        }
    }
}

/// Runs the container; returns the exit status syscage should exit with.
pub fn run(cfg: &RunConfig, sup: &mut dyn Supervisor) -> Result<i32, RunError> {
    // 1.
    let layout = Layout::detect()?;
    let me = cgroup::Owner::me().map_err(|e| {
        RunError::parent(
            "read this process's pid namespace and start time in /proc",
            Errno::from_raw(e.raw_os_error().unwrap_or(libc::EIO)),
        )
    })?;
    let removed = cgroup::sweep(&layout, &|o| o.alive_from(&me));
    if removed > 0 {
        tracing::info!("removed {removed} cgroup(s) left by killed syscage runs");
    }
    let mut cg = None;
    if cfg.limits.any() {
        let c = Cgroup::create(&layout, &me.name(), &cfg.limits)?;
        for d in c.dirs() {
            tracing::info!("cgroup {}", d.display());
        }
        cg = Some(c);
    }

    // 2.
    tracing::debug!("cgroups are ready");
    let shared = SharedPage::new().map_err(|e| RunError::parent("map a shared page", e))?;
    let (psock, csock) = socketpair(
        AddressFamily::Unix,
        SockType::SeqPacket,
        None,
        SockFlag::SOCK_CLOEXEC,
    )
    .map_err(|e| RunError::parent("create the sync socket", e))?;
    protocol::want_credentials(psock.as_fd())
        .map_err(|e| RunError::parent("ask for credentials on the sync socket", e))?;
    let mut mask = SigSet::empty();
    for s in FORWARDED {
        mask.add(*s);
    }
    nix::sys::signal::sigprocmask(SigmaskHow::SIG_BLOCK, Some(&mask), None)
        .map_err(|e| RunError::parent("block signals", e))?;
    let mut flags = CloneFlags::CLONE_NEWNS
        | CloneFlags::CLONE_NEWPID
        | CloneFlags::CLONE_NEWUTS
        | CloneFlags::CLONE_NEWIPC
        | CloneFlags::CLONE_NEWNET;
    if cfg.userns.is_new() {
        flags |= CloneFlags::CLONE_NEWUSER;
    }
    tracing::debug!("cloning the init");
    let pid = match crate::fault::inject("create the container's namespaces")
        .and_then(|_| sys::clone_fork(flags.bits()))
    {
        Ok(None) => {
            drop(psock);
            child::init_main(cfg, csock, &shared)
        }
        Ok(Some(pid)) => pid,
        Err(e) => return Err(clone_error(e, cfg)),
    };
    drop(csock);
    let mut guard = InitGuard { pid, armed: true };
    tracing::info!("container init: host pid {pid}");

    // 3.
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
    })?;
    if let Some(c) = &cg {
        crate::fault::inject("move the init into its cgroup")
            .map_err(|e| RunError::parent("move the init into its cgroup", e))?;
        c.add(pid.as_raw())?;
    }
    protocol::send(psock.as_fd(), &ToChild::Go, None, false)
        .map_err(|e| RunError::parent("send go to the container", e))?;

    // 4.
    let mut hs = Handshake::Setup;
    let mut master = None;
    let mut command_pid = None;
    loop {
        let got = protocol::recv::<ToParent>(psock.as_fd())
            .map_err(|e| RunError::parent("read from the container", e))?;
        let (msg, fd, sender) = match got {
            Some(r) => (Some(r.msg), r.fd, r.pid),
            None => (None, None, None),
        };
        match hs.on(msg.as_ref()) {
            Next::Continue => {
                if let Some(p) = sender {
                    command_pid = Some(p);
                    tracing::info!("command: host pid {p} (grep Seccomp /proc/{p}/status)");
                    sup.started(p);
                }
            }
            Next::TakePty => master = fd,
            Next::TakeListener(target) => {
                let p = command_pid.ok_or(RunError::Protocol(
                    "listener announced before the command started",
                ))?;
                let l = take_listener(&shared, Pid::from_raw(p), target)?;
                sup.listener(l, p).map_err(RunError::Supervisor)?;
                // Only now may the command go on: a supervisor that failed (an OCI agent
                // that is not there) fails the run before the command does anything.
                shared.word(SHM_TAKEN).store(1, Ordering::SeqCst);
            }
            Next::Running => break,
            Next::Fail(f) => {
                let _ = waitpid(pid, None);
                guard.armed = false;
                return Err(RunError::Container(f));
            }
            Next::Abort(why) => {
                // Say how the init ended (a crash, the OOM killer, a kill): it closed its
                // end of the socket, so it is on its way out; wait for it a little.
                let mut how = String::new();
                for _ in 0..20 {
                    match waitpid(pid, Some(nix::sys::wait::WaitPidFlag::WNOHANG)) {
                        Ok(WaitStatus::Exited(_, c)) => {
                            how = format!(" (it exited with status {c})")
                        }
                        Ok(WaitStatus::Signaled(_, s, _)) => {
                            how = format!(" (it was killed by {s})")
                        }
                        Ok(WaitStatus::StillAlive) => {
                            std::thread::sleep(Duration::from_millis(5));
                            continue;
                        }
                        _ => {}
                    }
                    break;
                }
                if !how.is_empty() {
                    guard.armed = false;
                }
                return Err(RunError::InitGone(format!("{why}{how}")));
            }
        }
    }
    drop(psock);

    // 5.
    let pidfd =
        sys::pidfd_open(pid).map_err(|e| RunError::parent("open a pidfd for the container", e))?;
    let sfd = SignalFd::with_flags(&mask, SfdFlags::SFD_CLOEXEC | SfdFlags::SFD_NONBLOCK)
        .map_err(|e| RunError::parent("create a signalfd", e))?;
    let mut relay = match master {
        Some(m) => {
            Some(tty::Relay::new(m).map_err(|e| RunError::parent("set up the terminal", e))?)
        }
        None => None,
    };
    loop {
        let mut fds = vec![
            PollFd::new(pidfd.as_fd(), PollFlags::POLLIN),
            PollFd::new(sfd.as_fd(), PollFlags::POLLIN),
        ];
        if let Some(r) = &relay {
            r.poll_fds(&mut fds);
        }
        match poll(&mut fds, PollTimeout::NONE) {
            Err(Errno::EINTR) => continue,
            Err(e) => return Err(RunError::parent("wait for the container", e)),
            Ok(_) => {}
        }
        let revents: Vec<PollFlags> = fds
            .iter()
            .map(|f| f.revents().unwrap_or(PollFlags::empty()))
            .collect();
        drop(fds);
        while let Ok(Some(info)) = sfd.read_signal() {
            let sig = info.ssi_signo as i32;
            if sig == libc::SIGWINCH {
                if let Some(r) = &relay {
                    r.resize();
                    continue;
                }
            }
            // The container is in a session of its own, so signals from syscage's terminal
            // (Ctrl-C, Ctrl-\, hang-up) reach it only through here, like any other.
            if let Ok(s) = Signal::try_from(sig) {
                tracing::info!("forwarding {s} to the container");
                let _ = kill(pid, s);
            }
        }
        if let Some(r) = &mut relay {
            r.pump(&revents[2..]);
        }
        if !revents[0].is_empty() {
            break;
        }
    }
    if let Some(r) = relay.take() {
        r.finish();
    }
    let status = waitpid(pid, None).map_err(|e| RunError::parent("reap the container", e))?;
    guard.armed = false;
    let code = match status {
        WaitStatus::Exited(_, code) => code,
        WaitStatus::Signaled(_, s, _) => 128 + s as i32,
        _ => 125,
    };
    let code = sup.finished(code);
    drop(cg);
    let exec_errno = shared.word(SHM_EXEC_ERRNO).load(Ordering::SeqCst);
    if exec_errno != 0 {
        let e = exec_errno as i32;
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
        return Err(RunError::Container(protocol::Failure {
            kind,
            step,
            errno: Some(e),
            hint: (e == libc::EPERM || e == libc::EACCES)
                .then(|| "the seccomp profile may deny execve".to_string()),
        }));
    }
    Ok(code)
}

/// Copies the command's notification fd once its filter is loaded (see `exec`). The
/// command keeps waiting until the caller sets `SHM_TAKEN`.
fn take_listener(shared: &SharedPage, command: Pid, target: i32) -> Result<OwnedFd, RunError> {
    let pidfd = sys::pidfd_open(command)
        .map_err(|e| RunError::parent("open a pidfd for the command", e))?;
    let deadline = Instant::now() + Duration::from_secs(10);
    let mut spins = 0u32;
    while shared.word(SHM_LOADED).load(Ordering::SeqCst) == 0 {
        if Instant::now() > deadline {
            return Err(RunError::Protocol(
                "the command did not load its filter in time",
            ));
        }
        let mut fds = [PollFd::new(pidfd.as_fd(), PollFlags::POLLIN)];
        if matches!(poll(&mut fds, PollTimeout::ZERO), Ok(n) if n > 0) {
            return Err(RunError::Protocol(
                "the command exited before loading its filter",
            ));
        }
        spins += 1;
        if spins > 1000 {
            std::thread::sleep(Duration::from_micros(50));
        } else {
            std::hint::spin_loop();
        }
    }
    let fd = sys::pidfd_getfd(pidfd.as_fd(), target)
        .map_err(|e| RunError::parent("take the notification fd", e))?;
    let link = std::fs::read_link(format!("/proc/self/fd/{}", fd.as_raw_fd())).unwrap_or_default();
    if link.to_string_lossy() != "anon_inode:seccomp notify" {
        return Err(RunError::Protocol(
            "the fd taken from the command is not its seccomp listener",
        ));
    }
    Ok(fd)
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
