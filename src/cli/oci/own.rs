//! syscage's own agent, started by `create` for the `run.syscage.report` and
//! `run.syscage.learn` annotations (see `syscage_supervise::own`): `syscage agent` in
//! its one-container mode, a process of its own session that holds no descriptor of the
//! client's (a shim or conmon waits for the runtime's output streams to close) and writes
//! its lines to the runtime's log.

use super::log::Log;
use std::os::fd::{AsFd, AsRawFd, OwnedFd};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use syscage_runtime::lifecycle::create::{OwnAgent, StartedAgent};

pub struct Own {
    pub log: Log,
}

/// `fd` again, numbered above what a client may have left open at low numbers.
fn above(fd: &OwnedFd) -> Result<OwnedFd, String> {
    let n = nix::fcntl::fcntl(fd.as_fd(), nix::fcntl::FcntlArg::F_DUPFD_CLOEXEC(10))
        .map_err(|e| format!("cannot duplicate a descriptor: {}", e.desc()))?;
    Ok(syscage_runtime::sys::own_received_fd(n))
}

/// How long the agent has to say it listens.
const READY: u16 = 10_000;

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
        let undo = || {
            let _ = std::fs::remove_file(socket);
        };
        let (starter, theirs) = std::os::unix::net::UnixStream::pair()
            .map_err(|e| format!("cannot make a socket pair: {e}"))
            .inspect_err(|_| undo())?;
        let (sock, theirs) = (above(&listener)?, above(&theirs.into())?);
        drop(listener);
        // Absolute paths, since the agent runs from `/`, each as `--opt=value`.
        let abs = |p: &Path| std::path::absolute(p).unwrap_or_else(|_| p.to_path_buf());
        let opt = |name: &str, p: &Path| {
            let mut o = std::ffi::OsString::from(format!("--{name}="));
            o.push(abs(p));
            o
        };
        let mut cmd = Command::new("/proc/self/exe");
        cmd.arg0("syscage")
            .arg("agent")
            .arg(format!("--socket-fd={}", sock.as_raw_fd()))
            .arg(opt("socket-path", socket))
            .arg(format!("--one-container={}", theirs.as_raw_fd()));
        if let Some(p) = profile {
            cmd.arg(opt("profile", p));
        }
        for d in dirs {
            cmd.arg(opt("allow-dir", d));
        }
        if let Some(f) = self.log.file() {
            cmd.arg(opt("log", f));
            cmd.arg(if self.log.is_json() {
                "--log-format=json"
            } else {
                "--log-format=text"
            });
        }
        // Nothing of the client's: not its directory, environment or streams.
        cmd.current_dir("/")
            .env_clear()
            .envs(std::env::var_os("RUST_LOG").map(|v| ("RUST_LOG", v)))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        let child =
            syscage_runtime::sys::spawn_detached(&mut cmd, [sock.as_raw_fd(), theirs.as_raw_fd()])
                .map_err(|e| format!("cannot run `syscage agent`: {e}"))
                .inspect_err(|_| undo())?;
        drop((sock, theirs));
        let pid = child.id() as i32;
        // Not waited for here: it outlives this process (`delete` waits for it).
        drop(child);
        let pidfd = syscage_runtime::sys::pidfd_open(nix::unistd::Pid::from_raw(pid))
            .map_err(|e| format!("cannot follow it (pid {pid}): {}", e.desc()))?;
        let started = StartedAgent {
            pid,
            pidfd,
            hold: starter.into(),
            socket: socket.to_path_buf(),
        };
        // It listens, its directories and profile were usable: or it said why in the log.
        let mut fds = [nix::poll::PollFd::new(
            started.hold.as_fd(),
            nix::poll::PollFlags::POLLIN,
        )];
        let mut b = [0u8; 1];
        let ready = matches!(
            nix::poll::poll(&mut fds, nix::poll::PollTimeout::from(READY)),
            Ok(1..)
        ) && matches!(nix::unistd::read(&started.hold, &mut b), Ok(1) if b[0] == b'r');
        if !ready {
            started.kill();
            return Err(match self.log.file() {
                Some(f) => format!(
                    "it ended before it listened (its reason is in {})",
                    f.display()
                ),
                None => "it ended before it listened (run it with --log FILE to see why)".into(),
            });
        }
        Ok(started)
    }
}
