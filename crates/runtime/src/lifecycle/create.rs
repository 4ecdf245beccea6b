//! `create`: the container set up and waiting for `start`, with no syscage process left.
//!
//! In order: the configuration read and validated (nothing touched yet); the state
//! directory made and locked (an ID in use is refused); the cgroup made with its
//! resources; the exec FIFO; the container's process cloned into its namespaces (`spawn`,
//! shared with `syscage run`), placed in its cgroup, the state written with its pid and
//! start time, its maps written, told to go; then the set-up's messages as
//! `protocol::Handshake` expects them: the hooks' stop, the terminal (sent on to the
//! console socket), `Ready`, the notification fd (handed to the profile's agent); then
//! the pid file. Any failure kills the process and removes the cgroup and the state
//! directory: nothing is left.

use super::console;
use super::convert::{self, Converted};
use super::error::OciError;
use super::statedir::{AgentProcess, Locked, Root, Saved, SavedProfile};
use crate::error::RunError;
use crate::monitor::{Command, Init};
use crate::ocicgroup::Placement;
use crate::parent::{self, Entry, Supervisor};
use crate::protocol::{self, Expect, FailureKind, Handshake, Next, ToChild};
use crate::sys::{self, SharedPage};
use std::os::fd::{AsFd, AsRawFd, OwnedFd, RawFd};
use std::path::{Path, PathBuf};
use syscage_oci::{ContainerId, State, Status};

/// What `create` was asked.
#[derive(Debug, Clone)]
pub struct CreateOptions {
    pub root: Root,
    pub id: ContainerId,
    pub bundle: PathBuf,
    pub pid_file: Option<PathBuf>,
    pub console_socket: Option<PathBuf>,
    /// `--preserve-fds N`: fds 3 to 2+N go to the container (those of them that are open
    /// when syscage starts).
    pub preserve: Vec<RawFd>,
    pub preserve_count: u32,
    pub systemd_cgroup: bool,
    /// `--annotation-dir`: where the files the `run.syscage.*` annotations name may be.
    pub annotation_dirs: Vec<PathBuf>,
}

/// Who gets the notification fd of a profile with `listenerPath`: an OCI seccomp agent.
#[derive(Debug, Clone, PartialEq)]
pub struct AgentInfo {
    pub path: String,
    pub metadata: Option<String>,
    pub id: String,
    pub bundle: String,
    pub annotations: serde_json::Map<String, serde_json::Value>,
}

/// Makes the supervisor that hands the fd to the agent.
pub type MakeAgent<'a> = &'a dyn Fn(AgentInfo) -> Box<dyn Supervisor>;

/// syscage's own agent, for the `run.syscage.report` and `run.syscage.learn` annotations
/// when the container's profile names no agent: the command layer provides it (the
/// pairing and the agent are syscage-supervise's, which this crate cannot call).
pub trait OwnAgent {
    /// Checks, on their names alone, the files the annotations ask for (inside an
    /// `--annotation-dir`, holding `{id}`); whether every call must be notified (learning
    /// needs them all, a report the denied ones only).
    fn check(
        &self,
        annotations: &serde_json::Map<String, serde_json::Value>,
        id: &str,
        dirs: &[PathBuf],
    ) -> Result<bool, String>;
    /// `policy` paired for notification, its metadata naming `profile` (a built-in's
    /// name or a file) resolved for `caps`, its `listenerPath` `socket`: the profile's
    /// JSON.
    fn pair(
        &self,
        policy: &syscage_policy::Policy,
        profile: &str,
        caps: syscage_policy::CapSet,
        all: bool,
        socket: &Path,
    ) -> Result<String, String>;
    /// Starts the agent, listening at `socket` (it does not exist yet), given `profile`
    /// when the metadata names a file, writing only in `dirs`. It runs on its own and ends
    /// once the container's processes are gone, or at once when `hold` (see
    /// [`StartedAgent`]) is closed before anything connected.
    fn start(
        &self,
        socket: &Path,
        profile: Option<&Path>,
        dirs: &[PathBuf],
    ) -> Result<StartedAgent, String>;
}

/// The agent [`OwnAgent::start`] started.
pub struct StartedAgent {
    pub pid: i32,
    pub pidfd: OwnedFd,
    /// A stream socket to the agent, held until `create` is over: the agent says `r` on
    /// it once it listens; `create` says `k` once it succeeded. An agent whose starter
    /// died before handing it the container's fd sees it closed and ends; one whose
    /// `create` failed later writes nothing (the container never was).
    pub hold: OwnedFd,
    /// Its socket, which it removes when it ends (and `kill` when it cannot).
    pub socket: PathBuf,
}

impl StartedAgent {
    /// Ends the agent (a `create` that failed) and removes its socket.
    pub fn kill(&self) {
        let _ = sys::pidfd_send_signal(self.pidfd.as_fd(), libc::SIGKILL, 0);
        let mut fds = [nix::poll::PollFd::new(
            self.pidfd.as_fd(),
            nix::poll::PollFlags::POLLIN,
        )];
        let _ = nix::poll::poll(&mut fds, nix::poll::PollTimeout::from(5000u16));
        let _ = std::fs::remove_file(&self.socket);
    }
}

/// Where a container's own agent listens: a short name under `/run/syscage-agents`, since
/// a socket's path may not exceed 107 bytes and a state directory's may (Docker's:
/// `/var/run/docker/runtime-NAME/moby/<64 hex>/`), derived from the state directory's
/// path so that no two containers share it.
fn agent_socket(dir: &Path) -> PathBuf {
    use std::hash::{Hash, Hasher};
    let abs = std::path::absolute(dir).unwrap_or_else(|_| dir.to_path_buf());
    let mut h = std::collections::hash_map::DefaultHasher::new();
    abs.hash(&mut h);
    let name = dir
        .file_name()
        .map(|n| n.to_string_lossy().chars().take(12).collect::<String>())
        .unwrap_or_default();
    PathBuf::from(AGENT_SOCKETS).join(format!("{name}-{:016x}.sock", h.finish()))
}

/// The directory of the own agents' sockets (root's: the OCI runtime runs as root).
pub const AGENT_SOCKETS: &str = "/run/syscage-agents";

/// The created container.
#[derive(Debug)]
pub struct Created {
    pub pid: i32,
    /// Lines for the log (nothing may be printed: the standard streams are the
    /// container's).
    pub warnings: Vec<String>,
}

/// The configuration of `bundle`, read strictly and validated: one error naming the
/// field.
pub fn load(bundle: &Path) -> Result<(PathBuf, syscage_oci::Validated), OciError> {
    let bundle =
        std::fs::canonicalize(bundle).map_err(|e| OciError::io("use the bundle", bundle, &e))?;
    let path = bundle.join("config.json");
    let text = std::fs::read_to_string(&path).map_err(|e| OciError::io("read", &path, &e))?;
    let bad = |why: String| OciError::Other(format!("`{}`: {why}", path.display()));
    let spec = syscage_oci::read::config(&text).map_err(|e| bad(e.to_string()))?;
    let v = syscage_oci::validate::config(spec, &bundle).map_err(|e| bad(e.to_string()))?;
    Ok((bundle, v))
}

/// runc's rules for a terminal: a console socket with it, none without it. (runc relays
/// a terminal itself for a foreground `run`/`exec`; syscage hands it to a console socket
/// only.)
pub fn check_terminal(terminal: bool, socket: bool, detach: bool) -> Result<(), OciError> {
    match (terminal, socket) {
        (true, false) if detach => Err(OciError::Other(
            "cannot allocate tty if syscage will detach without setting console socket (process.terminal is true: give --console-socket)".into(),
        )),
        (true, false) => Err(OciError::Other(
            "a terminal needs --console-socket: syscage does not relay one itself (process.terminal is true)".into(),
        )),
        (false, true) => Err(OciError::Other(
            "cannot use console socket if syscage will not detach or allocate tty (process.terminal is false)".into(),
        )),
        _ => Ok(()),
    }
}

/// Checks what runc checks about the terminal and the systemd driver.
pub fn check_options(terminal: bool, o: &CreateOptions) -> Result<(), OciError> {
    check_terminal(terminal, o.console_socket.is_some(), true)?;
    if o.systemd_cgroup {
        return Err(OciError::Other(
            if Path::new("/run/systemd/system").is_dir() {
                "--systemd-cgroup: syscage does not drive systemd's cgroup manager; leave the option out (podman: --cgroup-manager cgroupfs)".into()
            } else {
                "systemd not running on this host, cannot use systemd cgroups manager (--systemd-cgroup)".into()
            },
        ));
    }
    Ok(())
}

/// The container's cgroup directories by the name a `cgroup` mount shows them under.
fn cgroup_names(p: &Placement, layout: &crate::cgroup::Layout) -> Vec<(String, PathBuf)> {
    if let [only] = p.dirs.as_slice() {
        if only.v2 {
            return vec![(String::new(), only.path.clone())];
        }
    }
    p.dirs
        .iter()
        .zip(&layout.hierarchies)
        .map(|(d, h)| {
            let name = h
                .path()
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default();
            (name, d.path.clone())
        })
        .collect()
}

/// Opens a namespace file to join and checks its type.
fn open_ns(kind: i32, path: &Path, field: &str) -> Result<OwnedFd, OciError> {
    let fd = nix::fcntl::open(
        path,
        nix::fcntl::OFlag::O_RDONLY | nix::fcntl::OFlag::O_CLOEXEC,
        nix::sys::stat::Mode::empty(),
    )
    .map_err(|e| {
        OciError::Other(format!(
            "{field}: `{}`: {}",
            path.display(),
            super::error::errno_text(e)
        ))
    })?;
    match sys::ns_type(fd.as_fd()) {
        Ok(t) if t == kind => Ok(fd),
        _ => Err(OciError::Other(format!(
            "{field}: `{}` is not a namespace of that type",
            path.display()
        ))),
    }
}

/// An fd numbered at or above `min`, close-on-exec (the container's `--preserve-fds`
/// range stays free for the client's).
fn high(fd: OwnedFd, min: RawFd) -> Result<OwnedFd, OciError> {
    if fd.as_raw_fd() >= min {
        return Ok(fd);
    }
    let n = nix::fcntl::fcntl(fd.as_fd(), nix::fcntl::FcntlArg::F_DUPFD_CLOEXEC(min))
        .map_err(|e| OciError::Other(format!("cannot move an fd above {min}: {e}")))?;
    Ok(sys::own_received_fd(n))
}

/// `create`.
pub fn create(
    o: &CreateOptions,
    agent: MakeAgent<'_>,
    own: &dyn OwnAgent,
) -> Result<Created, OciError> {
    let (bundle, v) = load(&o.bundle)?;
    let process = v
        .process()
        .ok_or_else(|| OciError::Other("missing field `process`".into()))?;
    check_options(process.terminal(), o)?;

    let layout = crate::ocicgroup::layout().map_err(|e| OciError::Other(e.to_string()))?;
    let proc_cgroup = std::fs::read_to_string("/proc/self/cgroup").unwrap_or_default();
    let cgroups_path = v
        .spec()
        .linux
        .as_ref()
        .and_then(|l| l.cgroups_path.as_deref());
    let placement = crate::ocicgroup::place(&layout, cgroups_path, o.id.as_str(), &proc_cgroup)
        .map_err(|e| OciError::Other(e.to_string()))?;
    let mut c = convert::convert(
        &v,
        &bundle,
        &cgroup_names(&placement, &layout),
        &o.annotation_dirs,
    )?;
    // The annotations' files are checked before anything is made.
    let notify_all = match &c.own_agent {
        Some(_) => Some(
            own.check(&c.annotations, o.id.as_str(), &o.annotation_dirs)
                .map_err(OciError::Other)?,
        ),
        None => None,
    };
    let min = 3 + o.preserve_count as RawFd;
    let mut joins = Vec::new();
    let mut pid_ns = None;
    for (kind, path, field) in &c.joins {
        let fd = high(open_ns(*kind, path, field)?, min)?;
        if *kind == libc::CLONE_NEWPID {
            pid_ns = Some(fd);
        } else {
            joins.push((*kind, fd));
        }
    }

    let locked = o.root.create(&o.id)?;
    let started = match notify_all {
        Some(all) => match start_own_agent(&mut c, all, &locked, own, &o.annotation_dirs) {
            Ok(s) => {
                crate::fault::stop_here("own agent started");
                Some(s)
            }
            Err(e) => {
                let _ = locked.remove();
                return Err(e);
            }
        },
        None => None,
    };
    let result = started
        .as_ref()
        .map(|s| {
            crate::cgroup::process_start(s.pid as u32)
                .map(|start_time| AgentProcess {
                    pid: s.pid,
                    start_time,
                    socket: Some(s.socket.display().to_string()),
                })
                .ok_or_else(|| {
                    OciError::Other(format!("syscage's agent (pid {}) ended at once", s.pid))
                })
        })
        .transpose()
        .and_then(|a| {
            set_up(
                o, &bundle, &c, &placement, &locked, joins, pid_ns, min, agent, a,
            )
        });
    match result {
        Ok(init) => {
            if let Some(s) = &started {
                let _ = nix::unistd::write(&s.hold, b"k");
            }
            let pid = init.pid().as_raw();
            init.detach();
            Ok(Created {
                pid,
                warnings: c.warnings,
            })
        }
        Err(e) => {
            if let Some(s) = &started {
                s.kill();
            }
            placement.remove();
            let _ = locked.remove();
            Err(e)
        }
    }
}

/// The container's profile paired for notification and syscage's own agent started on
/// a socket in the state directory: the filter, the saved profile (`exec` loads it too)
/// and the listener in `c` are the paired profile's from here on.
fn start_own_agent(
    c: &mut Converted,
    all: bool,
    locked: &Locked,
    own: &dyn OwnAgent,
    dirs: &[PathBuf],
) -> Result<StartedAgent, OciError> {
    let Some(plan) = c.own_agent.take() else {
        return Err(OciError::Other("no agent was asked for".into()));
    };
    let dir = locked.dir();
    let socket = agent_socket(dir);
    // The agent resolves the profile again, from a copy of its own (the bundle's file or
    // the annotation's may change meanwhile).
    let base = dir.join("seccomp-base.json");
    let (profile, file) = match &plan.base {
        SavedProfile::Builtin(name) => (name.clone(), None),
        SavedProfile::Json(text) => (base.display().to_string(), Some(convert::wrapped(text))),
        SavedProfile::File { text, .. } => (base.display().to_string(), Some(text.clone())),
    };
    fault("pair the profile with syscage's agent")?;
    if let Some(text) = &file {
        std::fs::write(&base, text).map_err(|e| OciError::io("write", &base, &e))?;
    }
    let text = own
        .pair(&plan.policy, &profile, plan.caps, all, &socket)
        .map_err(|e| {
            OciError::Other(format!("cannot pair the profile with syscage's agent: {e}"))
        })?;
    // Kept for people to read (`exec` loads the copy in the state).
    let paired = dir.join("seccomp-paired.json");
    std::fs::write(&paired, &text).map_err(|e| OciError::io("write", &paired, &e))?;
    let (filter, saved, listener) = convert::paired_filter(text, &paired, plan.caps)?;
    c.cfg.filter = Some(filter);
    c.seccomp = Some(saved);
    c.listener = listener;
    fault("start syscage's agent")?;
    own.start(&socket, file.is_some().then_some(base.as_path()), dirs)
        .map_err(|e| OciError::Other(format!("cannot start syscage's agent: {e}")))
}

#[allow(clippy::too_many_arguments)]
fn set_up(
    o: &CreateOptions,
    bundle: &Path,
    c: &Converted,
    placement: &Placement,
    locked: &Locked,
    joins: Vec<(i32, OwnedFd)>,
    pid_ns: Option<OwnedFd>,
    min: RawFd,
    agent: MakeAgent<'_>,
    own_agent: Option<AgentProcess>,
) -> Result<Init, OciError> {
    fault("create the container's cgroup")?;
    placement
        .create(c.resources.as_ref())
        .map_err(|e| OciError::Other(e.to_string()))?;
    let fifo_path = locked.fifo();
    fault("make the exec FIFO")?;
    // Writable by the container's user, whoever it is by then (runc's 0622): the
    // directory (0700) keeps everyone else from the path, and the process reaches it only
    // through the fd it inherits.
    nix::unistd::mkfifo(&fifo_path, nix::sys::stat::Mode::from_bits_truncate(0o600))
        .and_then(|()| {
            nix::sys::stat::fchmodat(
                nix::fcntl::AT_FDCWD,
                &fifo_path,
                nix::sys::stat::Mode::from_bits_truncate(0o622),
                nix::sys::stat::FchmodatFlags::NoFollowSymlink,
            )
        })
        .map_err(|e| OciError::errno("make the exec FIFO", &fifo_path, e))?;
    let fifo = nix::fcntl::open(
        &fifo_path,
        nix::fcntl::OFlag::O_PATH | nix::fcntl::OFlag::O_CLOEXEC,
        nix::sys::stat::Mode::empty(),
    )
    .map_err(|e| OciError::errno("open the exec FIFO", &fifo_path, e))?;
    let fifo = high(fifo, min)?;
    let inherit = crate::container::Inherit {
        fifo: fifo.as_raw_fd(),
        join: joins.iter().map(|(k, fd)| (*k, fd.as_raw_fd())).collect(),
        keep: o.preserve.clone(),
        cgroups: placement
            .self_join(min)
            .map_err(|e| OciError::Other(e.to_string()))?,
    };
    let shared = SharedPage::new().map_err(|e| RunError::parent("map a shared page", e))?;
    let cfg = &c.cfg;
    let (mut init, sock) = parent::spawn(
        cfg,
        &shared,
        Entry::Container(&inherit),
        pid_ns.as_ref().map(|f| f.as_fd()),
    )?;
    drop(joins);
    let pid = init.pid().as_raw();
    placement
        .add(pid)
        .map_err(|e| OciError::Other(e.to_string()))?;
    let start_time = crate::cgroup::process_start(pid as u32)
        .ok_or_else(|| OciError::Other(format!("the container's process {pid} is gone already")))?;
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default();
    let saved = Saved {
        id: o.id.to_string(),
        pid,
        start_time,
        bundle: bundle.display().to_string(),
        rootfs: c.rootfs.display().to_string(),
        created: syscage_oci::state::rfc3339(now.as_secs() as i64, now.subsec_nanos()),
        annotations: c.annotations.clone(),
        owner: nix::unistd::geteuid().as_raw(),
        cgroups: placement.dirs.clone(),
        namespaces: c.exec_namespaces,
        seccomp: c.seccomp.clone(),
        process: c.process.clone(),
        poststart: c.poststart.clone(),
        poststop: c.poststop.clone(),
        agent: own_agent,
    };
    // Written before the process may run anything of the configuration's: if this
    // `create` dies from here on, `delete --force` finds and ends it.
    fault("write the state file")?;
    locked.write(&saved)?;
    parent::write_maps(cfg, &init)?;
    parent::go(&sock)?;
    handshake(o, c, &saved, &mut init, sock, &shared, agent)?;
    if let Some(p) = &o.pid_file {
        fault("write the pid file")?;
        write_pid_file(p, pid)?;
    }
    Ok(init)
}

/// A step `create` can be made to fail (SYSCAGE_FAULT, the fault-injection feature).
fn fault(step: &'static str) -> Result<(), OciError> {
    crate::fault::inject(step)
        .map_err(|e| OciError::Other(format!("cannot {step}: {}", super::error::errno_text(e))))
}

/// The state document with `status`.
pub fn state_json(s: &Saved, status: Status) -> String {
    State {
        oci_version: syscage_oci::version::CURRENT.to_string(),
        id: s.id.clone(),
        pid: if status == Status::Stopped {
            0
        } else {
            s.pid as u32
        },
        status,
        bundle: s.bundle.clone(),
        rootfs: Some(s.rootfs.clone()),
        created: Some(s.created.clone()),
        annotations: s.annotations.clone(),
    }
    .to_json()
}

fn handshake(
    o: &CreateOptions,
    c: &Converted,
    saved: &Saved,
    init: &mut Init,
    sock: OwnedFd,
    shared: &SharedPage,
    agent: MakeAgent<'_>,
) -> Result<(), OciError> {
    let cfg = &c.cfg;
    let mut hs = Handshake::new(Expect {
        pty: cfg.tty,
        listener: cfg.filter.as_ref().is_some_and(|f| f.listener),
        hooks: cfg.hooks.sync,
        ready: true,
        early_listener: cfg.process.new_privs,
    });
    while !hs.done() {
        let protocol::Turn { next, fd, .. } = hs.read(sock.as_fd(), "the container")?;
        match next {
            Next::RunHooks => {
                let state = state_json(saved, Status::Creating);
                crate::hooks::run_all("prestart", &c.prestart, &state)
                    .and_then(|()| {
                        crate::hooks::run_all("createRuntime", &c.create_runtime, &state)
                    })
                    .map_err(|h| OciError::Other(format!("cannot run the {h}")))?;
                protocol::send(sock.as_fd(), &ToChild::Continue { state }, None, false)
                    .map_err(|e| RunError::parent("tell the container to go on", e))?;
            }
            Next::TakePty => {
                let master = fd.ok_or(RunError::Protocol("the terminal came without its fd"))?;
                if let Some(path) = &o.console_socket {
                    fault("send the terminal to the console socket")?;
                    console::send_master(path, master.as_fd())?;
                }
            }
            Next::Ready => {}
            Next::TakeListener(target) => {
                let (path, metadata) = c.listener.clone().unwrap_or_default();
                let info = AgentInfo {
                    path,
                    metadata,
                    id: saved.id.clone(),
                    bundle: saved.bundle.clone(),
                    annotations: saved.annotations.clone(),
                };
                hand_listener(shared, init, target, info, agent)?;
            }
            Next::Started | Next::Running => {}
            Next::Fail(f) => return Err(failed(&f)),
            Next::Abort(crate::protocol::Refused::InitGone) => {
                let how = match init.reap() {
                    Ok(nix::sys::wait::WaitStatus::Exited(_, code)) => {
                        format!(" (it exited with status {code})")
                    }
                    Ok(nix::sys::wait::WaitStatus::Signaled(_, s, _)) => {
                        format!(" (it was killed by {s})")
                    }
                    _ => String::new(),
                };
                return Err(OciError::Other(format!(
                    "the container's process exited during set-up{how}"
                )));
            }
            Next::Abort(why) => return Err(RunError::Refused(why).into()),
        }
    }
    Ok(())
}

/// Hands the notification fd of `init`'s process to the agent `info` names, then lets
/// the process go on (unless it is gone already).
pub(super) fn hand_listener(
    shared: &SharedPage,
    init: &Init,
    target: RawFd,
    info: AgentInfo,
    agent: MakeAgent<'_>,
) -> Result<(), OciError> {
    let pid = init.pid().as_raw();
    let command = Command {
        pidfd: sys::pidfd_open(init.pid())
            .map_err(|e| RunError::parent("open a pidfd of the process", e))?,
        pid,
    };
    if let Some(l) = parent::take_listener(shared, &command, target)? {
        agent(info).listener(l, pid).map_err(RunError::Supervisor)?;
        crate::handoff::release(shared)
            .map_err(|e| RunError::parent("let the process go on", e))?;
    }
    Ok(())
}

/// A set-up step that failed, in the words the clients read: podman reads a missing
/// program as "no such file or directory" (exit 127).
pub(super) fn failed(f: &protocol::Failure) -> OciError {
    OciError::Other(if f.kind == FailureKind::NotFound {
        format!("cannot {}: no such file or directory", f.step)
    } else {
        f.to_string()
    })
}

/// The pid file: the host pid, digits only, no newline (containerd reads it with
/// `strconv.Atoi`), through a temporary file and a rename.
pub fn write_pid_file(path: &Path, pid: i32) -> Result<(), OciError> {
    let dir = path.parent().filter(|d| !d.as_os_str().is_empty());
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let tmp = dir
        .unwrap_or(Path::new("."))
        .join(format!(".{name}.{}.tmp", std::process::id()));
    std::fs::write(&tmp, pid.to_string())
        .and_then(|()| std::fs::rename(&tmp, path))
        .map_err(|e| {
            let _ = std::fs::remove_file(&tmp);
            OciError::io("write the pid file", path, &e)
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn opts() -> CreateOptions {
        CreateOptions {
            root: Root::new("/nonexistent-root"),
            id: ContainerId::new("t").unwrap(),
            bundle: "/b".into(),
            pid_file: None,
            console_socket: None,
            preserve: vec![],
            preserve_count: 0,
            systemd_cgroup: false,
            annotation_dirs: vec![],
        }
    }

    #[test]
    fn terminal_and_console_socket_go_together() {
        assert_eq!(
            check_options(true, &opts()).unwrap_err().to_string(),
            "cannot allocate tty if syscage will detach without setting console socket (process.terminal is true: give --console-socket)"
        );
        let mut o = opts();
        o.console_socket = Some("/tmp/s".into());
        assert_eq!(
            check_options(false, &o).unwrap_err().to_string(),
            "cannot use console socket if syscage will not detach or allocate tty (process.terminal is false)"
        );
        assert!(check_options(true, &o).is_ok());
        let mut o = opts();
        o.systemd_cgroup = true;
        if !Path::new("/run/systemd/system").is_dir() {
            assert_eq!(
                check_options(false, &o).unwrap_err().to_string(),
                "systemd not running on this host, cannot use systemd cgroups manager (--systemd-cgroup)"
            );
        }
    }

    #[test]
    fn pid_file_is_digits_only_written_whole() {
        let dir = std::env::temp_dir().join(format!("syscage-pidfile-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let p = dir.join("pid");
        write_pid_file(&p, 4242).unwrap();
        assert_eq!(std::fs::read(&p).unwrap(), b"4242");
        assert_eq!(std::fs::read_dir(&dir).unwrap().count(), 1);
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
