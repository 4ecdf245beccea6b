//! OCI hooks: programs the configuration names, run at steps of the lifecycle with the
//! container's state on their standard input (runtime-spec `config.md`, "POSIX-platform
//! Hooks").
//!
//! Each runs with exactly its `args` (the first is its `argv[0]`; none: its path) and
//! `env`, its standard output discarded and the start of its standard error kept for the
//! error message. A hook with a `timeout` is killed once it passes: the wait is on a
//! pidfd with that deadline, never unbounded on what the hook does (a hook without one
//! may take as long as it takes, as the spec lets it).
//!
//! Where each list runs, and what a failure does (the spec's rules):
//! - `prestart` and `createRuntime`: by `create`, in the runtime's namespaces, once the
//!   container's namespaces exist and before `pivot_root`; a failure fails `create`.
//! - `createContainer`: by the container's process, in its namespaces, before
//!   `pivot_root` (its path is the host's); a failure fails `create`.
//! - `startContainer`: by the container's process after `start`, before its program
//!   runs (its path is the container's); a failure ends the container.
//! - `poststart` (by `start`) and `poststop` (by `delete`): a failure is a warning.

use nix::errno::Errno;
use nix::poll::{poll, PollFd, PollFlags, PollTimeout};
use std::io::{Read, Write};
use std::os::fd::AsFd;
use std::os::unix::process::{CommandExt, ExitStatusExt};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};
use syscage_oci::config::Hook;
use thiserror::Error;

/// The hooks the container's own process runs.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ContainerHooks {
    pub create_container: Vec<Hook>,
    pub start_container: Vec<Hook>,
    /// Whether the process stops before `pivot_root` for `create` to run `prestart` and
    /// `createRuntime`, and to hand it the state the hooks read.
    pub sync: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum HookError {
    #[error("{list} hook `{path}`: {why}")]
    Start {
        list: &'static str,
        path: String,
        why: String,
    },
    #[error("{list} hook `{path}`: {how}{stderr}")]
    Failed {
        list: &'static str,
        path: String,
        how: String,
        stderr: String,
    },
    #[error("{list} hook `{path}`: still running after its timeout of {secs} s; killed")]
    Timeout {
        list: &'static str,
        path: String,
        secs: i64,
    },
}

/// At most this much of a hook's standard error goes into the message.
const STDERR_CAP: usize = 512;

/// Runs the hooks of `list` in order; the first failure ends the list.
pub fn run_all(list: &'static str, hooks: &[Hook], state: &str) -> Result<(), HookError> {
    for h in hooks {
        run(list, h, state)?;
    }
    Ok(())
}

/// Runs one hook with `state` on its standard input.
pub fn run(list: &'static str, hook: &Hook, state: &str) -> Result<(), HookError> {
    let path = hook.path.clone();
    let start_err = |e: std::io::Error| HookError::Start {
        list,
        path: path.clone(),
        why: syscage_policy::errno::io_text(&e),
    };
    let args = hook.args.as_deref().unwrap_or(&[]);
    let mut cmd = Command::new(&hook.path);
    if let Some((arg0, rest)) = args.split_first() {
        cmd.arg0(arg0).args(rest);
    }
    cmd.env_clear()
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::piped());
    for e in hook.env.as_deref().unwrap_or(&[]) {
        if let Some((k, v)) = e.split_once('=') {
            cmd.env(k, v);
        }
    }
    let mut child = cmd.spawn().map_err(start_err)?;
    let pidfd = crate::sys::pidfd_open(nix::unistd::Pid::from_raw(child.id() as i32));
    // The state goes in whole or not at all; a hook that does not read it (and closes
    // its input) is not an error, as with runc.
    if let Some(mut stdin) = child.stdin.take() {
        let _ = stdin.write_all(state.as_bytes());
    }
    let mut stderr = child.stderr.take();
    let deadline = hook
        .timeout
        .map(|t| Instant::now() + Duration::from_secs(t.max(0) as u64));
    if let (Ok(pidfd), Some(deadline)) = (&pidfd, deadline) {
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            let ms = PollTimeout::try_from(left.as_millis().min(i32::MAX as u128) as i32)
                .unwrap_or(PollTimeout::MAX);
            let mut fds = [PollFd::new(pidfd.as_fd(), PollFlags::POLLIN)];
            match poll(&mut fds, ms) {
                Ok(0) => {
                    let _ = child.kill();
                    let _ = child.wait();
                    return Err(HookError::Timeout {
                        list,
                        path,
                        secs: hook.timeout.unwrap_or(0),
                    });
                }
                Ok(_) => break,
                Err(Errno::EINTR) => continue,
                Err(_) => break,
            }
        }
    }
    let status = child.wait().map_err(start_err)?;
    if status.success() {
        return Ok(());
    }
    let mut text = Vec::new();
    if let Some(e) = stderr.as_mut() {
        let _ = e.take(STDERR_CAP as u64).read_to_end(&mut text);
    }
    let first = String::from_utf8_lossy(&text)
        .lines()
        .find(|l| !l.trim().is_empty())
        .map(|l| format!(": {}", l.trim().escape_default()))
        .unwrap_or_default();
    let how = match (status.code(), status.signal()) {
        (Some(c), _) => format!("exited with status {c}"),
        (None, Some(s)) => format!("was killed by signal {s}"),
        _ => "failed".into(),
    };
    Err(HookError::Failed {
        list,
        path,
        how,
        stderr: first,
    })
}

/// `state` (the state document) with its `status` replaced.
pub fn with_status(state: &str, status: &str) -> String {
    match serde_json::from_str::<serde_json::Value>(state) {
        Ok(mut v) => {
            if let Some(o) = v.as_object_mut() {
                o.insert("status".into(), serde_json::Value::String(status.into()));
            }
            v.to_string()
        }
        Err(_) => state.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hook(path: &str, args: &[&str], timeout: Option<i64>) -> Hook {
        Hook {
            path: path.into(),
            args: Some(args.iter().map(|s| s.to_string()).collect()),
            env: Some(vec!["HOOKVAR=v".into()]),
            timeout,
        }
    }

    #[test]
    fn a_hook_reads_the_state_with_its_own_args_and_env() {
        let out = std::env::temp_dir().join(format!("syscage-hook-{}", std::process::id()));
        let script = format!(
            "read -r s; echo \"$0|$1|$HOOKVAR|${{HOME-unset}}|$s\" > {}",
            out.display()
        );
        run(
            "poststart",
            &hook("/bin/sh", &["myhook", "-c", &script], None),
            "{\"status\":\"running\"}",
        )
        .unwrap();
        assert_eq!(
            std::fs::read_to_string(&out).unwrap(),
            // $0 is the argv[0] given; nothing of syscage's environment (no HOME).
            "myhook||v|unset|{\"status\":\"running\"}\n"
        );
        let _ = std::fs::remove_file(&out);
    }

    #[test]
    fn failures_say_how_with_the_first_line_of_stderr() {
        let e = run(
            "createRuntime",
            &hook(
                "/bin/sh",
                &["sh", "-c", "echo '  '; echo 'no good' >&2; exit 3"],
                None,
            ),
            "{}",
        )
        .unwrap_err();
        assert_eq!(
            e.to_string(),
            "createRuntime hook `/bin/sh`: exited with status 3: no good"
        );
        let e = run("prestart", &hook("/nonexistent-hook", &[], None), "{}").unwrap_err();
        assert_eq!(
            e.to_string(),
            "prestart hook `/nonexistent-hook`: No such file or directory (ENOENT)"
        );
        let started = Instant::now();
        let e = run(
            "poststop",
            &hook("/bin/sh", &["sh", "-c", "exec sleep 30"], Some(1)),
            "{}",
        )
        .unwrap_err();
        assert_eq!(
            e,
            HookError::Timeout {
                list: "poststop",
                path: "/bin/sh".into(),
                secs: 1
            }
        );
        assert!(started.elapsed() < Duration::from_secs(10));
    }

    #[test]
    fn status_is_replaced() {
        assert_eq!(
            with_status("{\"id\":\"a\",\"status\":\"creating\"}", "created"),
            "{\"id\":\"a\",\"status\":\"created\"}"
        );
    }
}
