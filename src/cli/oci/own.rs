//! syscage's own agent, started by `create` for the `run.syscage.report` and
//! `run.syscage.learn` annotations (see `syscage_supervise::own`): `syscage agent` in
//! its one-container mode, a process of its own session that holds no descriptor of the
//! client's (a shim or conmon waits for the runtime's output streams to close) and writes
//! its lines to the runtime's log.

use super::log::Log;
use std::os::fd::{AsFd, AsRawFd, OwnedFd, RawFd};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use syscage_runtime::lifecycle::create::{OwnAgent, StartedAgent};

pub struct Own {
    pub log: Log,
}

/// The descriptor numbers the agent gets: its socket and the starter's pipe.
const SOCKET_FD: RawFd = 3;
const STARTER_FD: RawFd = 4;

/// `fd` again, numbered above what the child's `dup2`s overwrite.
fn above(fd: &OwnedFd) -> Result<OwnedFd, String> {
    let n = nix::fcntl::fcntl(fd.as_fd(), nix::fcntl::FcntlArg::F_DUPFD_CLOEXEC(10))
        .map_err(|e| format!("cannot duplicate a descriptor: {}", e.desc()))?;
    Ok(syscage_runtime::sys::own_received_fd(n))
}

impl OwnAgent for Own {
    fn check(
        &self,
        annotations: &serde_json::Map<String, serde_json::Value>,
        id: &str,
        dirs: &[PathBuf],
    ) -> Result<bool, String> {
        syscage_supervise::own::check(annotations, id, dirs)
    }

    fn pair(
        &self,
        policy: &syscage_policy::Policy,
        profile: &str,
        caps: syscage_policy::CapSet,
        all: bool,
        socket: &Path,
    ) -> Result<String, String> {
        syscage_supervise::own::paired(policy, profile, caps, all, socket)
    }

    fn start(
        &self,
        socket: &Path,
        profile: Option<&Path>,
        dirs: &[PathBuf],
    ) -> Result<StartedAgent, String> {
        let listener = syscage_supervise::agent::socket::listen_at(socket, 0o600)
            .map_err(|e| e.to_string())?
            .hand_over()
            .map_err(|e| format!("cannot hand its socket over: {e}"))?;
        let (starter_r, starter_w) = nix::unistd::pipe2(nix::fcntl::OFlag::O_CLOEXEC)
            .map_err(|e| format!("cannot make a pipe: {}", e.desc()))?;
        let (sock, starter) = (above(&listener)?, above(&starter_r)?);
        drop((listener, starter_r));
        let mut cmd = Command::new("/proc/self/exe");
        cmd.arg0("syscage")
            .arg("agent")
            .args(["--socket-fd", &SOCKET_FD.to_string()])
            .args(["--one-container", &STARTER_FD.to_string()]);
        if let Some(p) = profile {
            cmd.arg("--profile").arg(p);
        }
        for d in dirs {
            cmd.arg("--allow-dir").arg(d);
        }
        if let Some(f) = self.log.file() {
            cmd.arg("--log").arg(f);
            cmd.args([
                "--log-format",
                if self.log.is_json() { "json" } else { "text" },
            ]);
        }
        cmd.stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        let child = syscage_runtime::sys::spawn_detached(
            &mut cmd,
            &[
                (sock.as_raw_fd(), SOCKET_FD),
                (starter.as_raw_fd(), STARTER_FD),
            ],
        )
        .map_err(|e| format!("cannot run `syscage agent`: {e}"))?;
        let pid = child.id() as i32;
        // Not waited for here: it outlives this process (`delete` waits for it).
        drop(child);
        let pidfd = syscage_runtime::sys::pidfd_open(nix::unistd::Pid::from_raw(pid))
            .map_err(|e| format!("cannot follow it (pid {pid}): {}", e.desc()))?;
        Ok(StartedAgent {
            pid,
            pidfd,
            hold: starter_w,
        })
    }
}
