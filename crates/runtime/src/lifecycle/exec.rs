//! `exec`: a new process in a running container.
//!
//! The process is a `process` object (`--process FILE`, as conmon and containerd's shim
//! always pass it), or the container's own with the command line's changes (`exec ID
//! CMD...` with `--cwd`, `--env`, `--user`, `--cap`, `--tty`). This process enters the
//! container's pid namespace (setns on a pidfd of the container's process: its children
//! go there) and forks; the child joins every other namespace of the container at once
//! through the same pidfd, is moved into the container's cgroup by this process, and
//! then takes the identity, limits, capabilities, no_new_privs and the container's
//! seccomp filter (compiled again from the saved profile, normally a cache hit) as
//! `create`'s process did. With `--detach` this process returns once the child says it
//! is ready: the client (a subreaper) reaps it. Without, it waits and exits with the
//! child's status.

use super::create::{check_terminal, AgentInfo, MakeAgent};
use super::error::OciError;
use super::ops::Container;
use super::statedir::Root;
use crate::error::RunError;
use crate::mounts::MountConfig;
use crate::parent::{self, Entry};
use crate::protocol::{self, Expect, Handshake, Next};
use crate::spec::{Namespaces, RunConfig};
use crate::sys::{self, SharedPage};
use serde_json::Value;
use std::os::fd::{AsFd, AsRawFd, RawFd};
use std::path::PathBuf;
use syscage_oci::{ContainerId, Process, Status};

/// The command-line form of the process: changes to the container's own.
#[derive(Debug, Clone, Default)]
pub struct ExecArgs {
    pub args: Vec<String>,
    pub cwd: Option<String>,
    pub env: Vec<String>,
    /// `UID[:GID]`.
    pub user: Option<String>,
    pub additional_gids: Vec<u32>,
    pub caps: Vec<String>,
    pub no_new_privs: bool,
}

#[derive(Debug, Clone)]
pub struct ExecOptions {
    pub root: Root,
    pub id: ContainerId,
    /// `--process FILE`; else `args`.
    pub process: Option<PathBuf>,
    pub args: ExecArgs,
    pub tty: bool,
    pub console_socket: Option<PathBuf>,
    pub pid_file: Option<PathBuf>,
    pub detach: bool,
    pub preserve: Vec<RawFd>,
}

/// The process object: the file, or the container's with the command line's changes.
fn process(o: &ExecOptions, template: Option<&Value>) -> Result<Process, OciError> {
    if let Some(path) = &o.process {
        let text = std::fs::read_to_string(path).map_err(|e| OciError::io("read", path, &e))?;
        let p = syscage_oci::read::process(&text)
            .map_err(|e| OciError::Other(format!("`{}`: {e}", path.display())))?;
        syscage_oci::validate::process(&p)
            .map_err(|e| OciError::Other(format!("`{}`: {e}", path.display())))?;
        return Ok(p);
    }
    let a = &o.args;
    if a.args.is_empty() {
        return Err(OciError::Other(
            "exec: give the command after the container's ID, or --process FILE".into(),
        ));
    }
    let mut v = template.cloned().unwrap_or_else(
        || serde_json::json!({"user": {"uid": 0, "gid": 0}, "cwd": "/", "args": []}),
    );
    let obj = v
        .as_object_mut()
        .ok_or_else(|| OciError::Other("the saved process is not an object".into()))?;
    obj.insert("args".into(), a.args.clone().into());
    obj.insert("terminal".into(), o.tty.into());
    if let Some(c) = &a.cwd {
        obj.insert("cwd".into(), c.clone().into());
    }
    let mut env: Vec<Value> = obj
        .get("env")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    env.extend(a.env.iter().map(|e| Value::String(e.clone())));
    obj.insert("env".into(), env.into());
    if let Some(u) = &a.user {
        let (uid, gid) = u.split_once(':').unwrap_or((u, "0"));
        let num = |s: &str| {
            s.parse::<u32>()
                .map_err(|_| OciError::Other(format!("--user `{u}`: expected UID[:GID], numbers")))
        };
        obj.insert(
            "user".into(),
            serde_json::json!({"uid": num(uid)?, "gid": num(gid)?, "additionalGids": a.additional_gids}),
        );
    }
    if !a.caps.is_empty() {
        let caps = obj
            .entry("capabilities")
            .or_insert_with(|| serde_json::json!({}));
        for set in ["bounding", "effective", "permitted"] {
            let list = caps
                .as_object_mut()
                .and_then(|c| {
                    c.entry(set)
                        .or_insert_with(|| Value::Array(vec![]))
                        .as_array_mut()
                })
                .ok_or_else(|| OciError::Other("the saved capabilities are malformed".into()))?;
            for c in &a.caps {
                let name = if c.starts_with("CAP_") {
                    c.clone()
                } else {
                    format!("CAP_{}", c.to_ascii_uppercase())
                };
                if !list.iter().any(|x| x == &Value::String(name.clone())) {
                    list.push(name.into());
                }
            }
        }
    }
    if a.no_new_privs {
        obj.insert("noNewPrivileges".into(), true.into());
    }
    let p: Process = serde_json::from_value(v)
        .map_err(|e| OciError::Other(format!("the process from the command line: {e}")))?;
    syscage_oci::validate::process(&p).map_err(|e| OciError::Other(e.to_string()))?;
    Ok(p)
}

/// `exec`: returns the process's exit status without `--detach`, 0 with it.
pub fn exec(o: &ExecOptions, agent: MakeAgent<'_>) -> Result<i32, OciError> {
    let c = Container::open(&o.root, &o.id)?;
    may_exec(c.status, &o.id)?;
    let p = process(o, c.saved.process.as_ref())?;
    check_terminal(p.terminal(), o.console_socket.is_some(), o.detach)?;
    let last_cap = crate::exec::last_cap();
    let parts = super::process::convert(&p, "", super::process::own_bounding(last_cap), last_cap)?;
    let (filter, listener) = match &c.saved.seccomp {
        Some(s) => super::convert::exec_filter(s)?,
        None => (None, None),
    };
    let cfg = exec_config(parts, filter);
    let pidfd = sys::pidfd_open(nix::unistd::Pid::from_raw(c.saved.pid))
        .map_err(|_| OciError::NotRunning(o.id.to_string()))?;
    if !super::statedir::alive(c.saved.pid, c.saved.start_time) {
        return Err(OciError::NotRunning(o.id.to_string()));
    }
    let min = o.preserve.iter().copied().max().map_or(3, |m| m.max(2) + 1);
    let pidfd = if pidfd.as_raw_fd() < min {
        let n = nix::fcntl::fcntl(pidfd.as_fd(), nix::fcntl::FcntlArg::F_DUPFD_CLOEXEC(min))
            .map_err(|e| RunError::parent("move the pidfd", e))?;
        sys::own_received_fd(n)
    } else {
        pidfd
    };
    let inherit = crate::container::ExecInherit {
        pidfd: pidfd.as_raw_fd(),
        namespaces: c.saved.namespaces,
        keep: o.preserve.clone(),
        cgroups: c
            .placement()
            .self_join(min)
            .map_err(|e| OciError::Other(e.to_string()))?,
    };
    let shared = SharedPage::new().map_err(|e| RunError::parent("map a shared page", e))?;
    let pid_ns = (c.saved.namespaces & libc::CLONE_NEWPID != 0).then(|| pidfd.as_fd());
    let (mut init, sock) = parent::spawn(&cfg, &shared, Entry::Exec(&inherit), pid_ns)?;
    let pid = init.pid().as_raw();
    c.placement()
        .add(pid)
        .map_err(|e| OciError::Other(e.to_string()))?;
    parent::go(&sock)?;
    let mut hs = Handshake::new(Expect {
        pty: cfg.tty,
        listener: cfg.filter.as_ref().is_some_and(|f| f.listener),
        hooks: false,
        ready: true,
        early_listener: cfg.process.new_privs,
    });
    while !hs.done() {
        let protocol::Turn { next, fd, .. } = hs.read(sock.as_fd(), "the exec process")?;
        match next {
            Next::TakePty => {
                let master = fd.ok_or(RunError::Protocol("the terminal came without its fd"))?;
                if let Some(path) = &o.console_socket {
                    super::console::send_master(path, master.as_fd())?;
                }
            }
            Next::TakeListener(target) => {
                let (path, metadata) = listener.clone().unwrap_or_default();
                let info = AgentInfo {
                    path,
                    metadata,
                    id: c.saved.id.clone(),
                    bundle: c.saved.bundle.clone(),
                    annotations: c.saved.annotations.clone(),
                };
                super::create::hand_listener(&shared, &init, target, info, agent)?;
            }
            Next::Ready | Next::Running | Next::Started | Next::RunHooks => {}
            Next::Fail(f) => return Err(super::create::failed(&f)),
            Next::Abort(why) => return Err(RunError::Refused(why).into()),
        }
    }
    if let Some(p) = &o.pid_file {
        super::create::write_pid_file(p, pid)?;
    }
    drop(c);
    if o.detach {
        init.detach();
        return Ok(0);
    }
    let st = init.reap()?;
    Ok(crate::monitor::exit_code(&st))
}

/// What the exec'd process is: its own command, identity and capabilities in the
/// container's namespaces, under the container's profile.
fn exec_config(
    parts: super::process::ProcessParts,
    filter: Option<crate::spec::LoadableFilter>,
) -> RunConfig {
    RunConfig {
        command: parts.command,
        mounts: MountConfig {
            rootfs: None,
            read_only: false,
            volumes: vec![],
            tmpfs: vec![],
            devpts_gid: None,
            oci: None,
        },
        hostname: None,
        domainname: None,
        env: parts.env,
        workdir: parts.workdir,
        uid: parts.uid,
        gid: parts.gid,
        caps: parts
            .extras
            .cap_sets
            .map(|s| s.bounding)
            .unwrap_or_default(),
        limits: Default::default(),
        userns: crate::idmap::Userns::Host,
        namespaces: Namespaces {
            new: 0,
            join: vec![],
        },
        process: parts.extras,
        oci: true,
        hooks: Default::default(),
        tty: parts.tty,
        filter,
        init_filter: None,
        stop_timeout: std::time::Duration::ZERO,
    }
}

/// Whether a process may be exec'd in a container with `status`.
fn may_exec(status: Status, id: &ContainerId) -> Result<(), OciError> {
    match status {
        Status::Running | Status::Created => Ok(()),
        Status::Paused => Err(OciError::Other(format!(
            "cannot exec in a paused container: `{id}`"
        ))),
        _ => Err(OciError::Other(format!(
            "cannot exec in a stopped container: `{id}`"
        ))),
    }
}
