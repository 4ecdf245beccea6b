//! The command process: the last steps before `execve`, in this order (each one needs the
//! privilege the next one gives up):
//! 1. terminal and signals back to normal;
//! 2. capabilities out of the bounding set (needs CAP_SETPCAP), ambient set cleared;
//! 3. groups, gid, uid;
//! 4. permitted/effective/inheritable set to the container's (empty for a non-root user);
//! 5. no_new_privs;
//! 6. working directory, and the command found in the container's PATH;
//! 7. the parent told the command is about to run, with a pidfd of the command and its
//!    credentials (its host pid): from here on syscage follows it from outside;
//! 8. the seccomp filter loaded, compiled by the parent: the last system call but one;
//! 9. `execve`.
//!
//! After step 8 the filter applies to this process too, so nothing between it and
//! `execve` may make a system call the filter could deny or notify: the notification fd
//! hand-over and the report of an `execve` failure go through shared memory (`handoff`).
//!
//! [`prepare`] (steps 1 to 6) and [`exec`] (7 to 9) are separate, for a runtime that
//! starts the command without syscage's init.

use crate::handoff;
use crate::protocol::{self, failure, Failure, FailureKind, ToParent};
use crate::spec::RunConfig;
use crate::sys::{self, SharedPage};
use nix::errno::Errno;
use nix::sys::signal::{sigprocmask, SigSet, SigmaskHow, Signal};
use nix::unistd::{Gid, Pid, Uid};
use std::ffi::CString;
use std::os::fd::{AsFd, AsRawFd, OwnedFd, RawFd};
use std::path::{Path, PathBuf};
use syscage_policy::caps::CapSet;

fn setup(step: &str) -> impl Fn(Errno) -> Failure + '_ {
    move |e| failure(FailureKind::Setup, step, Some(e), None)
}

/// Runs in the forked command process; never returns.
pub fn command_main(
    cfg: &RunConfig,
    sock: &OwnedFd,
    tty: Option<OwnedFd>,
    shared: &SharedPage,
    init_locked: Option<OwnedFd>,
) -> ! {
    let err = match prepare(cfg, sock, tty, None) {
        Ok(prepared) => match init_locked.map(wait_for_the_init).transpose() {
            Ok(_) => exec(cfg, sock, shared, prepared),
            Err(f) => f,
        },
        Err(f) => f,
    };
    let code = err.kind.exit_code();
    let _ = protocol::send(sock.as_fd(), &ToParent::Failed(err), None, false);
    // SAFETY-free: _exit skips atexit handlers and stdio buffers inherited from syscage.
    sys::exit_now(code);
}

/// What `execve` takes, found and checked while errors can still be reported.
pub struct Prepared {
    path: CString,
    argv: Vec<CString>,
    envp: Vec<CString>,
    /// The filter went on early (an OCI process without no_new_privs).
    pub filter_loaded: bool,
}

impl Prepared {
    /// The program's path, for messages.
    pub fn program(&self) -> String {
        self.path.to_string_lossy().into_owned()
    }
}

/// Steps 1 to 6, in the command process.
///
/// An OCI process without `noNewPrivileges` must load its filter while it still holds
/// CAP_SYS_ADMIN (seccomp(2) refuses otherwise), so with `shared` it is loaded here,
/// before the capabilities and the user change, as runc does: the profile then also
/// decides the calls that make those changes.
pub fn prepare(
    cfg: &RunConfig,
    sock: &OwnedFd,
    tty: Option<OwnedFd>,
    shared: Option<&SharedPage>,
) -> Result<Prepared, Failure> {
    tracing::debug!("the command process starts");
    reset_signals_and_session(tty)?;
    let x = &cfg.process;
    apply_limits(x)?;
    make_workdir(cfg)?;

    let mut filter_loaded = false;
    if let (Some(shared), true, Some(_)) = (shared, x.new_privs, &cfg.filter) {
        let prog = cfg.command.first().map(String::as_str).unwrap_or("");
        load_filter(cfg, Some(sock), shared, prog)?;
        filter_loaded = true;
    }

    // 2. Bounding and ambient sets, while CAP_SETPCAP is still held.
    let bounding = x.cap_sets.map_or(cfg.caps, |c| c.bounding);
    tracing::info!("capabilities: {bounding}");
    apply_bounding(bounding)?;
    take_identity(cfg)?;
    set_capability_sets(cfg)?;
    set_attributes(x)?;

    // 6.
    nix::unistd::chdir(&cfg.workdir).map_err(|e| {
        failure(
            FailureKind::Setup,
            format!("change to working directory `{}`", cfg.workdir.display()),
            Some(e),
            (e == Errno::EACCES).then(|| format!("user {} cannot enter it", cfg.uid)),
        )
    })?;
    let (path, argv, envp) = find_program(cfg)?;
    Ok(Prepared {
        path,
        argv,
        envp,
        filter_loaded,
    })
}

/// Step 1: default signal actions and an empty mask (the init blocked and caught some;
/// syscage's runtime ignores SIGPIPE; both survive execve); the terminal, or a process
/// group of its own.
fn reset_signals_and_session(tty: Option<OwnedFd>) -> Result<(), Failure> {
    for sig in Signal::iterator() {
        if !matches!(sig, Signal::SIGKILL | Signal::SIGSTOP) {
            sys::default_action(sig);
        }
    }
    sigprocmask(SigmaskHow::SIG_SETMASK, Some(&SigSet::empty()), None)
        .map_err(setup("reset the signal mask"))?;

    // The OCI container's process is already the leader of its own session (see
    // `child::setup`); `syscage run`'s command is the init's child.
    let leader = nix::unistd::getsid(None).ok() == Some(nix::unistd::getpid());
    if let Some(t) = tty {
        if !leader {
            nix::unistd::setsid().map_err(setup("start a session for the terminal"))?;
        }
        sys::take_terminal(t.as_fd()).map_err(setup(
            "make the pseudo-terminal the controlling terminal and stdin/stdout/stderr",
        ))?;
    } else if !leader {
        // A process group of its own (in the init's session), which the init signals.
        nix::unistd::setpgid(Pid::from_raw(0), Pid::from_raw(0))
            .map_err(setup("start a process group"))?;
    }

    Ok(())
}

/// Resource limits and the OOM score.
fn apply_limits(x: &crate::spec::ProcessExtras) -> Result<(), Failure> {
    // Limits and the OOM score while the process is still root: lowering them needs no
    // privilege, raising a hard limit or lowering the score needs CAP_SYS_RESOURCE.
    for r in &x.rlimits {
        nix::sys::resource::setrlimit(r.resource, r.soft, r.hard).map_err(|e| {
            failure(
                FailureKind::Setup,
                format!("set {:?} to {}:{}", r.resource, r.soft, r.hard),
                Some(e),
                (e == Errno::EPERM).then(|| {
                    "a hard limit above syscage's own needs CAP_SYS_RESOURCE (see `ulimit -H`)"
                        .to_string()
                }),
            )
        })?;
    }
    if let Some(adj) = x.oom_score_adj {
        std::fs::write("/proc/self/oom_score_adj", adj.to_string()).map_err(|e| {
            failure(
                FailureKind::Setup,
                format!("set oom_score_adj to {adj}"),
                Some(Errno::from_raw(e.raw_os_error().unwrap_or(libc::EIO))),
                None,
            )
        })?;
    }

    Ok(())
}

fn make_workdir(cfg: &RunConfig) -> Result<(), Failure> {
    // A working directory that does not exist is made, as Docker does, while the process
    // is still the container's root.
    if !cfg.workdir.exists() {
        std::fs::create_dir_all(&cfg.workdir).map_err(|e| {
            failure(
                FailureKind::Setup,
                format!("create working directory `{}`", cfg.workdir.display()),
                Some(Errno::from_raw(e.raw_os_error().unwrap_or(libc::EIO))),
                None,
            )
        })?;
    }

    Ok(())
}

fn take_identity(cfg: &RunConfig) -> Result<(), Failure> {
    let x = &cfg.process;
    // 3. Identity. Without a user namespace, or with a mapped range, supplementary groups
    // are those asked for (none for `syscage run`: syscage's own must not leak); rootless
    // namespaces deny setgroups. Explicit sets survive the change of user (keepcaps).
    if x.cap_sets.is_some() {
        nix::sys::prctl::set_keepcaps(true).map_err(setup("keep capabilities"))?;
    }
    if !cfg.userns.deny_setgroups() {
        let groups: Vec<Gid> = x
            .additional_gids
            .iter()
            .map(|g| Gid::from_raw(*g))
            .collect();
        nix::unistd::setgroups(&groups).map_err(setup("set supplementary groups"))?;
    }
    let gid = Gid::from_raw(cfg.gid);
    let uid = Uid::from_raw(cfg.uid);
    nix::unistd::setresgid(gid, gid, gid).map_err(|e| {
        failure(
            FailureKind::Setup,
            format!("set group id {}", cfg.gid),
            Some(e),
            id_hint(cfg, false),
        )
    })?;
    nix::unistd::setresuid(uid, uid, uid).map_err(|e| {
        failure(
            FailureKind::Setup,
            format!("set user id {}", cfg.uid),
            Some(e),
            id_hint(cfg, true),
        )
    })?;

    Ok(())
}

fn set_capability_sets(cfg: &RunConfig) -> Result<(), Failure> {
    let x = &cfg.process;
    // 4. The other sets. `syscage run`: a non-root command gets none (execve would drop
    // them anyway). OCI: as given, the ambient set last (each needs to be permitted and
    // inheritable first).
    let sets = match x.cap_sets {
        Some(c) => c,
        None => {
            let set = if cfg.uid == 0 {
                cfg.caps
            } else {
                CapSet::empty()
            };
            crate::spec::CapSets {
                bounding: set,
                effective: set,
                permitted: set,
                ..Default::default()
            }
        }
    };
    apply_sets(&sets)?;
    if x.cap_sets.is_some() {
        nix::sys::prctl::set_keepcaps(false).map_err(setup("stop keeping capabilities"))?;
    }

    Ok(())
}

/// Step 5: no_new_privs, the umask, the personality.
fn set_attributes(x: &crate::spec::ProcessExtras) -> Result<(), Failure> {
    // 5.
    if !x.new_privs {
        crate::fault::inject("set no_new_privs")
            .and_then(|_| nix::sys::prctl::set_no_new_privs())
            .map_err(setup("set no_new_privs"))?;
    }
    if let Some(m) = x.umask {
        nix::sys::stat::umask(nix::sys::stat::Mode::from_bits_truncate(m));
    }
    if let Some(p) = x.personality {
        sys::set_personality(p).map_err(setup("set the personality"))?;
    }

    Ok(())
}

/// What `execve` takes: the program found in PATH, the arguments, the environment.
fn find_program(cfg: &RunConfig) -> Result<(CString, Vec<CString>, Vec<CString>), Failure> {
    let env: Vec<CString> = cfg
        .env
        .iter()
        .filter_map(|(k, v)| CString::new(format!("{k}={v}")).ok())
        .collect();
    let path_var = cfg
        .env
        .iter()
        .find(|(k, _)| k == "PATH")
        .map(|(_, v)| v.as_str())
        .unwrap_or("");
    let prog = cfg.command.first().ok_or_else(|| {
        failure(
            FailureKind::Setup,
            "find the command",
            None,
            Some("no command".into()),
        )
    })?;
    let path = find_command(
        prog,
        path_var,
        &|p| {
            std::fs::metadata(p)
                .map_err(|e| Errno::from_raw(e.raw_os_error().unwrap_or(libc::ENOENT)))
        },
        &|p| nix::unistd::access(p, nix::unistd::AccessFlags::X_OK),
    )?;
    let argv = cfg
        .command
        .iter()
        .filter_map(|a| CString::new(a.as_str()).ok())
        .collect();
    let path = CString::new(path.as_os_str().as_encoded_bytes()).map_err(|_| {
        failure(
            FailureKind::NotFound,
            format!("find `{prog}`"),
            Some(Errno::EINVAL),
            None,
        )
    })?;
    Ok((path, argv, env))
}

fn id_hint(cfg: &RunConfig, uid: bool) -> Option<String> {
    let (id, mapped) = if uid {
        (cfg.uid, cfg.userns.has_uid(cfg.uid))
    } else {
        (cfg.gid, cfg.userns.has_gid(cfg.gid))
    };
    (!mapped).then(|| format!("id {id} is not mapped in the container's user namespace"))
}

/// Waits until the init has locked itself down: it closes the other end of `gate` then
/// (end of file here). A byte instead would be a fault of syscage's.
fn wait_for_the_init(gate: OwnedFd) -> Result<(), Failure> {
    let mut b = [0u8; 1];
    loop {
        match nix::unistd::read(&gate, &mut b) {
            Ok(0) => return Ok(()),
            Err(Errno::EINTR) => continue,
            Ok(_) => {
                return Err(failure(
                    FailureKind::Setup,
                    "wait for the init",
                    Some(Errno::EPROTO),
                    None,
                ))
            }
            Err(e) => {
                return Err(failure(
                    FailureKind::Setup,
                    "wait for the init",
                    Some(e),
                    None,
                ))
            }
        }
    }
}

/// Steps 7 to 9; returns only on failure (a failed `execve` is reported in shared memory
/// and ends the process).
pub fn exec(cfg: &RunConfig, sock: &OwnedFd, shared: &SharedPage, p: Prepared) -> Failure {
    // Every fd but 0, 1 and 2 is closed at execve: the sync socket and the notification
    // fd already are, and anything inherited despite the init's sweep must not be either.
    if let Err(f) = close_on_exec_from(3) {
        return f;
    }
    // 7.
    let told = sys::pidfd_open(Pid::this()).and_then(|pidfd| {
        protocol::send(sock.as_fd(), &ToParent::Exec, Some(pidfd.as_raw_fd()), true)
    });
    if let Err(e) = told {
        return failure(
            FailureKind::Setup,
            "tell syscage the command starts",
            Some(e),
            None,
        );
    }
    // 8.
    if let Err(f) = load_filter(cfg, Some(sock), shared, &p.path.to_string_lossy()) {
        return f;
    }
    execute(shared, p)
}

/// Marks every fd from `first` up close-on-exec (`--preserve-fds` keeps 3 to first-1).
pub fn close_on_exec_from(first: RawFd) -> Result<(), Failure> {
    sys::close_fds_from(first, &[], true).map_err(|e| {
        failure(
            FailureKind::Setup,
            "mark inherited fds close-on-exec",
            Some(e),
            None,
        )
    })
}

/// Step 8: loads the run's filter, if any. With a listener, `sock` announces it and the
/// parent takes the fd through the hand-over before this returns.
pub fn load_filter(
    cfg: &RunConfig,
    sock: Option<&OwnedFd>,
    shared: &SharedPage,
    program: &str,
) -> Result<(), Failure> {
    let Some(filter) = &cfg.filter else {
        return Ok(());
    };
    tracing::info!(
        "load the seccomp filter ({} instructions), then execute `{}`",
        filter.program.len(),
        program
    );
    let mut program = Vec::new();
    if filter.listener {
        let sock = sock.ok_or_else(|| {
            failure(
                FailureKind::Setup,
                "announce the notification fd",
                Some(Errno::ENOTCONN),
                None,
            )
        })?;
        announce_listener(sock, shared)?;
        program = handoff::allow_rule(shared);
    }
    program.extend_from_slice(&filter.program);
    let installed = crate::fault::inject("load the seccomp filter")
        .map_err(|e| std::io::Error::from_raw_os_error(e as i32))
        .and_then(|_| syscage_seccomp::load::install(&program, filter.flags));
    match installed {
        Ok(listener) => {
            if filter.listener {
                // Only the hand-over's two futex calls until syscage holds the fd
                // (see `handoff`). It is CLOEXEC: execve closes this copy.
                handoff::loaded_then_wait(shared);
                std::mem::forget(listener);
            }
            Ok(())
        }
        Err(e) => {
            let errno = Errno::from_raw(e.raw_os_error().unwrap_or(libc::EINVAL));
            Err(failure(
                FailureKind::Setup,
                "load the seccomp filter",
                Some(errno),
                seccomp_hint(errno, program.len()),
            ))
        }
    }
}

/// Step 9: `execve`. From here on, only shared memory reports a failure.
pub fn execute(shared: &SharedPage, p: Prepared) -> ! {
    let e = nix::unistd::execve(&p.path, &p.argv, &p.envp)
        .err()
        .unwrap_or(Errno::EINVAL);
    handoff::set_exec_errno(shared, e);
    sys::exit_now(if e == Errno::ENOENT { 127 } else { 126 });
}

/// Before a filter with a listener: the fd number the listener will have, and the robust
/// futex that tells syscage if the command dies before handing it over.
fn announce_listener(sock: &OwnedFd, shared: &SharedPage) -> Result<(), Failure> {
    let fd = sys::lowest_free_fd().map_err(|e| {
        failure(
            FailureKind::Setup,
            "reserve the notification fd",
            Some(e),
            None,
        )
    })?;
    handoff::arm(shared).map_err(|e| {
        failure(
            FailureKind::Setup,
            "register the hand-over's robust futex",
            Some(e),
            None,
        )
    })?;
    protocol::send(sock.as_fd(), &ToParent::Listener { fd }, None, false).map_err(|e| {
        failure(
            FailureKind::Setup,
            "announce the notification fd",
            Some(e),
            None,
        )
    })
}

fn seccomp_hint(e: Errno, len: usize) -> Option<String> {
    if e == Errno::EINVAL && len > syscage_seccomp::bpf::MAX_INSNS {
        return Some(format!(
            "with the notification fd's hand-over the program has {len} instructions; the kernel accepts at most {}",
            syscage_seccomp::bpf::MAX_INSNS
        ));
    }
    seccomp_hint_errno(e)
}

fn seccomp_hint_errno(e: Errno) -> Option<String> {
    match e {
        Errno::EINVAL => Some("the kernel refused the program or its flags (a filter flag this kernel does not have?)".into()),
        Errno::EACCES => Some("no_new_privs is not set and the process lacks CAP_SYS_ADMIN".into()),
        Errno::ENOMEM => Some("too many filters or instructions already loaded".into()),
        _ => None,
    }
}

/// Finds the command as `execvp` would, but reporting why it cannot run: a name with a
/// `/` is used as is; otherwise the first PATH entry holding an executable file wins.
pub fn find_command(
    prog: &str,
    path_var: &str,
    stat: &dyn Fn(&Path) -> Result<std::fs::Metadata, Errno>,
    access_x: &dyn Fn(&Path) -> Result<(), Errno>,
) -> Result<PathBuf, Failure> {
    let check = |p: &Path| -> Result<(), Failure> {
        let meta = stat(p).map_err(|e| {
            let kind = if e == Errno::ENOENT || e == Errno::ENOTDIR {
                FailureKind::NotFound
            } else {
                FailureKind::CannotExecute
            };
            failure(kind, format!("execute `{}`", p.display()), Some(e), None)
        })?;
        if meta.is_dir() {
            return Err(failure(
                FailureKind::CannotExecute,
                format!("execute `{}`", p.display()),
                Some(Errno::EISDIR),
                None,
            ));
        }
        access_x(p).map_err(|e| {
            failure(
                FailureKind::CannotExecute,
                format!("execute `{}`", p.display()),
                Some(e),
                (e == Errno::EACCES).then(|| "it is not executable by the container user".into()),
            )
        })
    };
    if prog.contains('/') {
        let p = PathBuf::from(prog);
        check(&p)?;
        return Ok(p);
    }
    let mut first_error = None;
    for dir in path_var.split(':').filter(|d| !d.is_empty()) {
        let p = Path::new(dir).join(prog);
        match check(&p) {
            Ok(()) => return Ok(p),
            Err(f) if f.kind == FailureKind::NotFound => {}
            Err(f) => {
                if first_error.is_none() {
                    first_error = Some(f);
                }
            }
        }
    }
    Err(first_error.unwrap_or_else(|| {
        failure(
            FailureKind::NotFound,
            format!("find `{prog}` in PATH `{path_var}`"),
            Some(Errno::ENOENT),
            None,
        )
    }))
}

/// A failed call of the `caps` crate, whose errors are text: the errno the system call
/// left is read at once.
fn caps_failure(step: String) -> impl FnOnce(caps::errors::CapsError) -> Failure {
    move |_| failure(FailureKind::Setup, step, Some(Errno::last()), None)
}

fn apply_bounding(keep: CapSet) -> Result<(), Failure> {
    // Every number up to the kernel's last, named or not: a capability newer than the
    // table must not stay in the bounding set.
    for n in 0..=last_cap() {
        if syscage_policy::caps::Cap::from_number(n).is_some_and(|c| keep.contains(c)) {
            continue;
        }
        sys::drop_bounding(n).map_err(|e| {
            failure(
                FailureKind::Setup,
                format!("drop capability {n} from the bounding set"),
                Some(e),
                None,
            )
        })?;
    }
    caps::clear(None, caps::CapSet::Ambient)
        .map_err(caps_failure("clear the ambient capabilities".into()))
}

fn apply_sets(sets: &crate::spec::CapSets) -> Result<(), Failure> {
    let hs = |set: CapSet| -> std::collections::HashSet<caps::Capability> {
        set.iter().filter_map(|c| caps_cap(c.number())).collect()
    };
    // Inheritable while CAP_SETPCAP is still effective, then effective before permitted
    // (the kernel wants effective within permitted at every step).
    caps::set(None, caps::CapSet::Inheritable, &hs(sets.inheritable))
        .map_err(caps_failure("set the inheritable capabilities".into()))?;
    caps::set(None, caps::CapSet::Effective, &hs(sets.effective))
        .map_err(caps_failure("set the effective capabilities".into()))?;
    caps::set(None, caps::CapSet::Permitted, &hs(sets.permitted))
        .map_err(caps_failure("set the permitted capabilities".into()))?;
    for c in sets.ambient.iter() {
        if let Some(cap) = caps_cap(c.number()) {
            caps::raise(None, caps::CapSet::Ambient, cap)
                .map_err(caps_failure(format!("raise {c} in the ambient set")))?;
        }
    }
    Ok(())
}

fn caps_cap(n: u8) -> Option<caps::Capability> {
    caps::all().into_iter().find(|c| c.index() == n)
}

/// `/proc/sys/kernel/cap_last_cap`.
pub fn last_cap() -> u8 {
    std::fs::read_to_string("/proc/sys/kernel/cap_last_cap")
        .ok()
        .and_then(|s| s.trim().parse().ok())
        .unwrap_or(syscage_policy::caps::LAST_KNOWN)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    type Stat = Box<dyn Fn(&Path) -> Result<std::fs::Metadata, Errno>>;
    type Access = Box<dyn Fn(&Path) -> Result<(), Errno>>;

    fn fake_fs(entries: &[(&str, bool, bool)]) -> (Stat, Access) {
        // (path, is_dir, executable); metadata comes from real temp paths.
        let base = std::env::temp_dir().join(format!("syscage-find-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&base);
        let mut map: HashMap<PathBuf, bool> = HashMap::new();
        for (p, dir, x) in entries {
            let real = base.join(p.trim_start_matches('/'));
            if *dir {
                std::fs::create_dir_all(&real).unwrap();
            } else {
                std::fs::create_dir_all(real.parent().unwrap()).unwrap();
                std::fs::write(&real, b"").unwrap();
            }
            map.insert(PathBuf::from(p), *x);
        }
        let b1 = base.clone();
        let stat = move |p: &Path| {
            std::fs::metadata(b1.join(p.strip_prefix("/").unwrap_or(p))).map_err(|_| Errno::ENOENT)
        };
        let access = move |p: &Path| {
            if *map.get(p).unwrap_or(&false) {
                Ok(())
            } else {
                Err(Errno::EACCES)
            }
        };
        (Box::new(stat), Box::new(access))
    }

    #[test]
    fn finds_commands_like_execvp_and_says_why_not() {
        let (stat, access) = fake_fs(&[
            ("/bin/sh", false, true),
            ("/usr/bin/noexec", false, false),
            ("/data", true, true),
        ]);
        assert_eq!(
            find_command("sh", "/usr/bin:/bin", &stat, &access).unwrap(),
            PathBuf::from("/bin/sh")
        );
        assert_eq!(
            find_command("/bin/sh", "", &stat, &access).unwrap(),
            PathBuf::from("/bin/sh")
        );
        let nf = find_command("nope", "/usr/bin:/bin", &stat, &access).unwrap_err();
        assert_eq!(nf.kind, FailureKind::NotFound);
        assert_eq!(nf.step, "find `nope` in PATH `/usr/bin:/bin`");
        let dir = find_command("/data", "", &stat, &access).unwrap_err();
        assert_eq!(
            (dir.kind, dir.errno, dir.hint.as_deref()),
            (FailureKind::CannotExecute, Some(libc::EISDIR), None)
        );
        let nx = find_command("noexec", "/usr/bin", &stat, &access).unwrap_err();
        assert_eq!(
            (nx.kind, nx.errno),
            (FailureKind::CannotExecute, Some(libc::EACCES))
        );
        let missing = find_command("/bin/nope", "", &stat, &access).unwrap_err();
        assert_eq!(missing.kind, FailureKind::NotFound);
    }
}
