//! OCI `run ID`: `create` and `start` in one, then (without `--detach`) wait for the
//! container, passing on the signals syscage gets, and `delete` it (unless `--keep`).
//! The exit status is the container's (128+N when signal N killed it).

use super::commands::{agent, preserved};
use super::log::Log;
use super::RunArgs;
use nix::poll::{poll, PollFd, PollFlags, PollTimeout};
use std::os::fd::AsFd;
use syscage_oci::ContainerId;
use syscage_runtime::lifecycle::create::{self, CreateOptions};
use syscage_runtime::lifecycle::ops;
use syscage_runtime::lifecycle::statedir::Root;
use syscage_runtime::signals::{forwarded, Signals};

pub fn run(
    root: Root,
    a: RunArgs,
    systemd: bool,
    annotation_dirs: Vec<std::path::PathBuf>,
    log: &Log,
) -> Result<i32, String> {
    let id =
        ContainerId::new(&a.create.id).map_err(|e| format!("invalid container ID format: {e}"))?;
    // Blocked from now on: a signal waits to be passed on once the container runs.
    let mut signals = Signals::new().map_err(|e| format!("cannot read signals: {}", e.desc()))?;
    let o = CreateOptions {
        root: root.clone(),
        id: id.clone(),
        bundle: a.create.bundle,
        pid_file: a.create.pid_file,
        console_socket: a.create.console_socket,
        preserve: preserved(a.create.preserve_fds),
        preserve_count: a.create.preserve_fds,
        systemd_cgroup: systemd,
        annotation_dirs,
    };
    let own = super::own::Own { log: log.clone() };
    let created = create::create(&o, &agent, &own).map_err(|e| e.to_string())?;
    for w in &created.warnings {
        log.warning(w);
    }
    if let Err(e) = ops::start(&root, &id) {
        let _ = ops::delete(&root, &id, true);
        return Err(e.to_string());
    }
    if a.detach {
        return Ok(0);
    }
    let pid = nix::unistd::Pid::from_raw(created.pid);
    let pidfd = syscage_runtime::sys::pidfd_open(pid)
        .map_err(|e| format!("cannot follow the container's process: {}", e.desc()))?;
    loop {
        let mut fds = [
            PollFd::new(pidfd.as_fd(), PollFlags::POLLIN),
            PollFd::new(signals.fd(), PollFlags::POLLIN),
        ];
        match poll(&mut fds, PollTimeout::NONE) {
            Err(nix::errno::Errno::EINTR) => continue,
            Err(e) => return Err(format!("cannot wait for the container: {}", e.desc())),
            Ok(_) => {}
        }
        let exited = fds[0].revents().is_some_and(|r| !r.is_empty());
        while let Some(s) = signals.take() {
            if forwarded(s) {
                let _ = syscage_runtime::sys::pidfd_send_signal(pidfd.as_fd(), s as i32, 0);
            }
        }
        if exited {
            break;
        }
    }
    let st = nix::sys::wait::waitpid(pid, None)
        .map_err(|e| format!("cannot reap the container's process: {}", e.desc()))?;
    let code = syscage_runtime::monitor::exit_code(&st);
    if !a.keep {
        for w in ops::delete(&root, &id, true).map_err(|e| e.to_string())? {
            log.warning(&w);
        }
    }
    Ok(code)
}
