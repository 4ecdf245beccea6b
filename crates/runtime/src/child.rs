//! The container's init (pid 1 of its pid namespace): it waits for the parent's go, builds
//! the container (identity, cgroup namespace, hostname, file system, loopback, terminal),
//! starts the command, then reaps zombies until the command exits, as `docker run --init`
//! (tini) does. When it exits, the kernel kills everything else in the pid namespace.
//!
//! syscage does not depend on the init to end the run: it follows the command through a
//! pidfd, signals it from outside, and kills the init itself when the command is gone (a
//! command with CAP_SYS_PTRACE can stop the init). The init leaves the command's zombie in
//! place (it reads its status with WNOWAIT), so that syscage can read the command's exit
//! status even from an init that no longer runs.
//!
//! [`setup`] (the container's set-up, up to the command's fork) is callable on its own,
//! apart from the supervision in [`init_main`] and [`reap`].

use crate::exec;
use crate::mountfd::RealMounts;
use crate::mounts::{self, Fs, Op};
use crate::protocol::{self, failure as fail, Failure, FailureKind, ToChild, ToParent};
use crate::spec::RunConfig;
use crate::sys::{self, SharedPage};
use nix::errno::Errno;
use nix::sys::signal::{kill, SigSet, SigmaskHow, Signal};
use nix::sys::signalfd::SignalFd;
use nix::sys::wait::{waitid, waitpid, Id, WaitPidFlag, WaitStatus};
use nix::unistd::{Gid, Pid, Uid};
use std::os::fd::{AsFd, AsRawFd, OwnedFd, RawFd};

pub use crate::signals::FORWARDED;

/// `si_code` of a signal the kernel sends on its own behalf, such as a terminal's SIGINT:
/// the whole foreground process group got it already, so it is not forwarded again.
const SI_KERNEL: i32 = 0x80;

/// Runs in the cloned child; never returns. `stdio` holds what goes on fds 0, 1 and 2 in
/// place of syscage's own (pipes for its terminals, see `relay`).
pub fn init_main(
    cfg: &RunConfig,
    sock: OwnedFd,
    shared: &SharedPage,
    stdio: [Option<RawFd>; 3],
    cgroups: crate::cgroup::SelfJoin,
) -> ! {
    // If syscage dies from here on, so does the container. Before this line, the parent's
    // death shows as end of file on the socket below.
    let _ = nix::sys::prctl::set_pdeathsig(Signal::SIGKILL);
    // The container never holds syscage's terminal: it is replaced first of all.
    for (target, fd) in stdio.iter().enumerate() {
        if let Some(fd) = fd {
            if sys::dup_onto(*fd, target as RawFd).is_err() {
                sys::exit_now(125);
            }
        }
    }
    // Nothing syscage's caller left open goes further than this process.
    let mut keep = cgroups.fds();
    keep.push(sock.as_raw_fd());
    if sys::close_fds_from(3, &keep, false).is_err() {
        sys::exit_now(125);
    }
    let hold = crate::fault::Hold::at("init lock-down");
    match protocol::recv::<ToChild>(sock.as_fd()) {
        Ok(Some(r)) if r.msg == ToChild::Go => {}
        _ => sys::exit_now(125),
    }
    tracing::debug!("go received");
    // Into the cgroups before anything is made that they should account for.
    crate::container::join_cgroups(&sock, &cgroups, "move the init into its cgroup");
    drop(cgroups);
    let (sfd, tty) = match setup(cfg, &sock, &[]).and_then(|(tty, _)| Ok((init_signals()?, tty))) {
        Ok(x) => x,
        Err(f) => {
            let code = f.kind.exit_code();
            let _ = protocol::send(sock.as_fd(), &ToParent::Failed(f), None, false);
            sys::exit_now(code);
        }
    };
    // The init tells the command on this pipe that it is locked down (below), by closing
    // its end: the command executes nothing of the container's before, so no program of
    // the container ever sees an init it could ptrace with its capabilities or make call
    // anything.
    let (gate_r, gate_w) = match nix::unistd::pipe2(nix::fcntl::OFlag::O_CLOEXEC) {
        Ok(p) => p,
        Err(e) => {
            let f = fail(FailureKind::Setup, "make the init's pipe", Some(e), None);
            let _ = protocol::send(sock.as_fd(), &ToParent::Failed(f), None, false);
            sys::exit_now(125);
        }
    };
    let child = match sys::fork() {
        Ok(None) => {
            drop(sfd);
            drop(gate_w);
            exec::command_main(cfg, &sock, tty, shared, Some(gate_r))
        }
        Ok(Some(child)) => child,
        Err(e) => {
            let f = fail(
                FailureKind::Setup,
                "start the command process",
                Some(e),
                None,
            );
            let _ = protocol::send(sock.as_fd(), &ToParent::Failed(f), None, false);
            sys::exit_now(125);
        }
    };
    drop(gate_r);
    drop(sock);
    drop(tty);
    // The page syscage reads (the report of a failed execve, the notification fd's
    // hand-over) is the command's business: the init maps it no more, so that a process
    // of the container able to write the init's memory (CAP_SYS_PTRACE) cannot write what
    // syscage reads.
    // SAFETY: the init never touches the page again (it only reaps and forwards signals
    // from here, and leaves with _exit, running no destructor).
    #[allow(unsafe_code)]
    // SAFETY: see above.
    unsafe {
        shared.unmap_here()
    };
    hold.wait();
    // The init keeps nothing it does not need: not dumpable (so the command cannot ptrace
    // it or read its memory without CAP_SYS_PTRACE), no capabilities, no new privileges,
    // and a filter of its own that allows only what reaping and forwarding take (so even
    // a command given CAP_SYS_PTRACE cannot make the init do anything else). If any of it
    // fails, the init leaves, and the container with it.
    let locked = nix::sys::prctl::set_dumpable(false).is_ok()
        && caps::clear(None, caps::CapSet::Permitted).is_ok()
        && nix::sys::prctl::set_no_new_privs().is_ok()
        && cfg.init_filter.as_ref().is_none_or(|f| {
            syscage_seccomp::load::install(f, syscage_seccomp::load::FLAG_TSYNC).is_ok()
        });
    if !locked {
        let _ = kill(child, Signal::SIGKILL);
        sys::exit_now(125);
    }
    // close(2) itself: dropping an OwnedFd also calls fcntl in debug builds, which the
    // init's filter does not allow.
    let _ = nix::unistd::close(std::os::fd::IntoRawFd::into_raw_fd(gate_w));
    sys::exit_now(reap(child, &sfd))
}

/// Waits for the command; returns its status as an exit code (128+N for signal N). The
/// command's zombie is left for the kernel to reap when the init exits (WNOWAIT): until
/// then syscage can read its status from outside. Other processes that end up here are
/// reaped as they exit. Signals sent to the init from inside the container go to the
/// command's process group (syscage's own go there directly).
pub fn reap(child: Pid, sfd: &SignalFd) -> i32 {
    loop {
        let info = match sfd.read_signal() {
            Ok(Some(i)) => i,
            Ok(None) | Err(Errno::EINTR) => continue,
            Err(_) => return 125,
        };
        let sig = info.ssi_signo as i32;
        if sig == libc::SIGCHLD {
            loop {
                let flags = WaitPidFlag::WEXITED | WaitPidFlag::WNOHANG | WaitPidFlag::WNOWAIT;
                match waitid(Id::All, flags) {
                    Ok(WaitStatus::Exited(pid, code)) if pid == child => return code,
                    Ok(WaitStatus::Signaled(pid, s, _)) if pid == child => return 128 + s as i32,
                    Ok(WaitStatus::StillAlive) | Err(_) => break,
                    Ok(other) => match other.pid() {
                        Some(pid) => {
                            let _ = waitpid(pid, Some(WaitPidFlag::WNOHANG));
                        }
                        None => break,
                    },
                }
            }
        } else if info.ssi_code != SI_KERNEL {
            // To the command's process group, as a terminal would: a pipeline the command
            // started stops on Ctrl-C as a whole (tini -g). The group is gone once the
            // command's leader and all members left; then to the command alone.
            if let Ok(s) = Signal::try_from(sig) {
                if kill(Pid::from_raw(-child.as_raw()), s).is_err() {
                    let _ = kill(child, s);
                }
            }
        }
    }
}

/// Builds the container in the calling process (the init, in its new namespaces, after
/// the parent's go; or the OCI container's process): joins the namespaces given as fds
/// (`join`: CLONE_NEW* type and fd), then the identity, cgroup namespace, names, file
/// system, loopback and terminal. Returns, with a terminal, the pseudo-terminal's slave
/// for the command; with OCI hooks, the state they read.
pub fn setup(
    cfg: &RunConfig,
    sock: &OwnedFd,
    join: &[(i32, RawFd)],
) -> Result<(Option<OwnedFd>, Option<String>), Failure> {
    let e = |step: &'static str| move |err: Errno| fail(FailureKind::Setup, step, Some(err), None);

    // A command line of its own: syscage's holds host paths and `-e` values, and any
    // process of the container can read /proc/1/cmdline. The hostname tells containers
    // apart on the host (`ps`); the container knows it anyway.
    let name = cfg.hostname.as_deref().unwrap_or("");
    sys::set_process_title(&format!("syscage-init {name}"))
        .map_err(e("give the init its own command line"))?;

    // A session of its own: the container has no controlling terminal, so a command that
    // inherits syscage's terminal as stdin cannot push input into it with TIOCSTI (the
    // kernel allows that only on one's controlling terminal), and is out of the host
    // shell's foreground group (syscage forwards the terminal's signals instead).
    nix::unistd::setsid().map_err(e("start a session of its own"))?;

    join_namespaces_and_take_names(cfg, sock, join)?;
    let state = build_file_system(cfg, sock)?;
    if cfg.namespaces.is_new(libc::CLONE_NEWNET) {
        tracing::info!("bring up the loopback interface");
        crate::fault::inject("bring up the loopback interface")
            .and_then(|_| sys::loopback_up())
            .map_err(e("bring up the loopback interface"))?;
        tracing::debug!("loopback is up");
    }

    let tty = if cfg.tty { Some(open_pty(sock)?) } else { None };
    Ok((tty, state))
}

/// The namespaces joined from files, root of a new user namespace, the cgroup namespace,
/// the host and domain names.
fn join_namespaces_and_take_names(
    cfg: &RunConfig,
    sock: &OwnedFd,
    join: &[(i32, RawFd)],
) -> Result<(), Failure> {
    let e = |step: &'static str| move |err: Errno| fail(FailureKind::Setup, step, Some(err), None);
    // Namespaces joined from a file (an OCI `path`): opened and checked by the parent.
    for (kind, fd) in join {
        let flag = nix::sched::CloneFlags::from_bits_retain(*kind);
        nix::sched::setns(sys::std_fd_any(*fd), flag).map_err(|err| {
            fail(
                FailureKind::Setup,
                format!("join the {} namespace", ns_name(*kind)),
                Some(err),
                None,
            )
        })?;
    }

    // Root of the user namespace (its ids are mapped by now).
    if cfg.userns.is_new() && !matches!(cfg.userns, crate::idmap::Userns::Rootless { .. }) {
        nix::unistd::setresgid(Gid::from_raw(0), Gid::from_raw(0), Gid::from_raw(0))
            .map_err(e("become root in the user namespace (gid)"))?;
        nix::unistd::setresuid(Uid::from_raw(0), Uid::from_raw(0), Uid::from_raw(0))
            .map_err(e("become root in the user namespace (uid)"))?;
        // A change of effective id clears the parent-death signal: set it again, then make
        // sure the parent did not die in between (it holds its end of the socket until the
        // command runs). The OCI container's process has none: it outlives `create`.
        if !cfg.oci {
            nix::sys::prctl::set_pdeathsig(Signal::SIGKILL)
                .map_err(e("set the parent-death signal"))?;
        }
        if sys::peer_gone(sock.as_fd()) {
            sys::exit_now(125);
        }
    }
    // A cgroup namespace rooted at the container's cgroup (the parent moved us there):
    // /proc/self/cgroup shows `/`, not the host's hierarchy.
    if cfg.namespaces.is_new(libc::CLONE_NEWCGROUP) {
        nix::sched::unshare(nix::sched::CloneFlags::CLONE_NEWCGROUP)
            .map_err(e("create the cgroup namespace"))?;
    }
    if let Some(h) = &cfg.hostname {
        crate::fault::inject("set the hostname")
            .and_then(|_| nix::unistd::sethostname(h))
            .map_err(e("set the hostname"))?;
    }
    if let Some(d) = &cfg.domainname {
        crate::fault::inject("set the domain name")
            .and_then(|_| sys::set_domainname(d))
            .map_err(e("set the domain name"))?;
    }

    Ok(())
}

/// The mount plan, run through descriptors; with OCI hooks, the state they read.
fn build_file_system(cfg: &RunConfig, sock: &OwnedFd) -> Result<Option<String>, Failure> {
    let ops = mounts::plan(&cfg.mounts);
    let mut host = RealMounts::default();
    let pivot = ops
        .iter()
        .position(|o| *o == Op::PivotRoot)
        .unwrap_or(ops.len());
    let run_ops = |range: std::ops::Range<usize>, host: &mut RealMounts| {
        mounts::execute(&ops[range.clone()], host).map_err(|(i, err)| {
            let op = &ops[range.start + i];
            fail(
                FailureKind::Setup,
                op.describe(),
                Some(err),
                mount_hint(op, err, cfg),
            )
        })
    };
    run_ops(0..pivot, &mut host)?;
    // OCI: the parent runs `prestart` and `createRuntime` now, then this process the
    // `createContainer` hooks, still with the host's paths in view.
    let state = if cfg.hooks.sync {
        Some(hooks_before_pivot(cfg, sock)?)
    } else {
        None
    };
    run_ops(pivot..ops.len(), &mut host)?;
    drop(host);
    Ok(state)
}

/// The init's signals: forwarded signals and SIGCHLD get a handler (an init ignores
/// signals left at their default action, even when blocked), are blocked, and are read
/// from a signalfd.
fn init_signals() -> Result<SignalFd, Failure> {
    let e = |step: &'static str| move |err: Errno| fail(FailureKind::Setup, step, Some(err), None);
    let mut mask = SigSet::empty();
    mask.add(Signal::SIGCHLD);
    for s in FORWARDED {
        mask.add(*s);
    }
    for s in mask.iter() {
        sys::catch_with_noop(s).map_err(e("install signal handlers"))?;
    }
    nix::sys::signal::sigprocmask(SigmaskHow::SIG_BLOCK, Some(&mask), None)
        .map_err(e("block signals"))?;
    SignalFd::with_flags(&mask, nix::sys::signalfd::SfdFlags::SFD_CLOEXEC)
        .map_err(e("create a signalfd"))
}

/// Tells the parent the namespaces and mounts are there, waits for it to run its hooks,
/// runs `createContainer`; returns the state the hooks read.
fn hooks_before_pivot(cfg: &RunConfig, sock: &OwnedFd) -> Result<String, Failure> {
    let e = |step: &'static str| move |err: Errno| fail(FailureKind::Setup, step, Some(err), None);
    protocol::send(sock.as_fd(), &ToParent::Hooks, None, false)
        .map_err(e("tell syscage the hooks may run"))?;
    let state = match protocol::recv::<ToChild>(sock.as_fd()) {
        Ok(Some(protocol::Received {
            msg: ToChild::Continue { state },
            ..
        })) => state,
        // The parent failed a hook (it kills this process) or is gone.
        _ => sys::exit_now(125),
    };
    crate::hooks::run_all("createContainer", &cfg.hooks.create_container, &state)
        .map_err(|h| fail(FailureKind::Setup, format!("run the {h}"), None, None))?;
    Ok(state)
}

fn ns_name(kind: i32) -> &'static str {
    match kind {
        libc::CLONE_NEWNET => "network",
        libc::CLONE_NEWIPC => "ipc",
        libc::CLONE_NEWUTS => "uts",
        libc::CLONE_NEWPID => "pid",
        libc::CLONE_NEWCGROUP => "cgroup",
        libc::CLONE_NEWUSER => "user",
        libc::CLONE_NEWNS => "mount",
        _ => "other",
    }
}

/// Opens a pseudo-terminal in the container's devpts, sends the master to the parent and
/// keeps the slave for the command.
pub(crate) fn open_pty(sock: &OwnedFd) -> Result<OwnedFd, Failure> {
    let e = |step: &'static str| move |err: Errno| fail(FailureKind::Setup, step, Some(err), None);
    let master = nix::fcntl::open(
        "/dev/ptmx",
        nix::fcntl::OFlag::O_RDWR | nix::fcntl::OFlag::O_NOCTTY | nix::fcntl::OFlag::O_CLOEXEC,
        nix::sys::stat::Mode::empty(),
    )
    .map_err(e("open `/dev/ptmx`"))?;
    let slave = sys::pty_peer(master.as_fd()).map_err(e("open the pseudo-terminal's slave"))?;
    protocol::send(
        sock.as_fd(),
        &ToParent::Pty,
        Some(master.as_raw_fd()),
        false,
    )
    .map_err(e("hand the pseudo-terminal to syscage"))?;
    Ok(slave)
}

fn mount_hint(op: &Op, err: Errno, cfg: &RunConfig) -> Option<String> {
    const CHANGED: &str = "the root file system changed during set-up: another process is writing to it; run on a root file system nobody else can write";
    match (op, err) {
        (Op::Mkdir(_) | Op::Touch(_), Errno::EROFS) => Some(if cfg.mounts.rootfs.is_none() {
            "the host's / is read-only in the container; mount volumes on paths that exist on the host".into()
        } else if cfg.mounts.read_only {
            "the root file system is read-only; create the mount point in it first".into()
        } else {
            "the path is inside a read-only volume; mount that one :rw or choose another path".into()
        }),
        (Op::Mkdir(_), Errno::ENOTDIR | Errno::EEXIST) => Some(
            "a file is in the way; a directory volume needs a directory (or mount a file)".into(),
        ),
        (Op::Mkdir(_) | Op::Touch(_), Errno::ELOOP) => Some(
            "a symbolic link on the way leads to nothing inside the root file system (or through more than 40 links); syscage does not create a link's target".into(),
        ),
        (Op::Touch(_), Errno::EEXIST) => Some(CHANGED.into()),
        (Op::Bind { .. }, Errno::ENOENT) if cfg.mounts.rootfs.is_none() => Some(
            "without --rootfs the host's / is the container's, read-only: mount volumes on paths that exist on the host".into(),
        ),
        (Op::TakeVolume(_) | Op::NewRoot(_), Errno::ESTALE | Errno::ELOOP) => Some(
            "the host path was replaced (or made a link) after syscage checked it: another process is renaming it".into(),
        ),
        (Op::Verify, Errno::ESTALE | Errno::ELOOP | Errno::ENOTDIR | Errno::ENOENT) => Some(CHANGED.into()),
        (Op::Mount { fs: Fs::Proc, .. }, Errno::EPERM) => {
            Some("a fully visible /proc is needed to mount a new one in a user namespace".into())
        }
        (Op::PivotRoot, Errno::EINVAL) => Some(
            "the root file system must not be the host's / itself nor on a shared mount".into(),
        ),
        _ => None,
    }
}
