//! The denial report, learning, and the OCI listener, end to end. Root needed; the slow
//! supervisor tests need the `fault-injection` feature (the README's test command).

mod support;

use std::io::Read;
use std::os::fd::{AsFd, FromRawFd, OwnedFd};
use support::*;

fn temp(name: &str) -> std::path::PathBuf {
    let d = std::env::temp_dir().join(format!("syscage-sup-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

#[test]
#[ignore = "needs root"]
fn report_keeps_the_errno_and_records_the_call() {
    need_root!();
    let dir = temp("report");
    let file = dir.join("r.jsonl");
    let arg = format!("--report={}", file.display());
    let plain = probe_line(&[], &["keyctl"]);
    let reported = probe_line(&[&arg], &["keyctl"]);
    assert_eq!(
        reported.stdout, plain.stdout,
        "the same errno with and without the report"
    );
    assert_eq!(reported.stdout, "keyctl: blocked errno=1 (EPERM)\n");
    assert!(reported.stderr.starts_with("syscage: report: 1 denied call (1 kind)\n  keyctl           x1        ERRNO(EPERM) by the default action\n"), "{reported:?}");
    assert!(
        reported
            .stderr
            .contains("      to allow: --seccomp-allow keyctl\n"),
        "{reported:?}"
    );
    let text = std::fs::read_to_string(&file).unwrap();
    let first: serde_json::Value = serde_json::from_str(text.lines().next().unwrap()).unwrap();
    assert_eq!(first["syscall"], "keyctl");
    assert_eq!(first["exe"], "/probe");
    assert_eq!(first["container_pid"], 2);
    assert_eq!(first["action"], "ERRNO(EPERM)");
    assert_eq!(first["rule"], "the default action");
    assert_eq!(first["abi"], "x86_64");
    let last: serde_json::Value = serde_json::from_str(text.lines().last().unwrap()).unwrap();
    assert_eq!(last["total"], 1);
    // Decoded arguments: the socket family, the ioctl request, a path.
    let r = probe_line(&["--report"], &["socket_vsock_high"]);
    assert!(
        r.stderr
            .contains("first: socket(family=AF_VSOCK, type=1, protocol=0) from /probe (pid 2)"),
        "{r:?}"
    );
    let r = probe_line(&["--report"], &["chmod_suid"]);
    assert!(
        r.stderr
            .contains("first: chmod(filename=\"/tmp/probe-chmod_suid-"),
        "{r:?}"
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
#[ignore = "needs root"]
fn report_holds_a_million_denied_calls() {
    need_root!();
    let r = probe_line(&["--report"], &["deny_loop", "1000000"]);
    assert_eq!(
        (r.code, r.stdout.as_str()),
        (0, "deny_loop: ok value=1000000 errno=1\n"),
        "{r:?}"
    );
    assert!(r.stderr.contains("keyctl           x1000000 "), "{r:?}");
}

#[test]
#[ignore = "needs root"]
fn report_with_many_threads_denying_at_once() {
    need_root!();
    let r = probe_line(&["--report"], &["deny_threads", "32", "2000"]);
    assert_eq!(
        (r.code, r.stdout.as_str()),
        (0, "deny_threads: ok value=64000\n"),
        "{r:?}"
    );
    // pthread_create's clone3 attempts (ENOSYS) are denials too.
    assert!(
        r.stderr
            .contains("  keyctl           x64000    ERRNO(EPERM) by the default action"),
        "{r:?}"
    );
}

#[test]
#[ignore = "needs root"]
fn report_when_a_process_exits_with_calls_pending_and_the_supervisor_is_slow() {
    need_root!();
    let root = rootfs().to_str().unwrap().to_string();
    for delay in ["0", "30"] {
        let r = syscage_run_env(
            &[("SYSCAGE_SUPERVISOR_DELAY_MS", delay)],
            &[
                "run",
                "--rootfs",
                &root,
                "--report",
                "--",
                "/probe",
                "deny_and_exit",
            ],
        );
        assert_eq!(
            (r.code, r.stdout.as_str()),
            (0, "deny_and_exit: ok\n"),
            "delay {delay}: {r:?}"
        );
        // The denied calls, the one still pending at exit included, are counted.
        let keyctl: Vec<&str> = r
            .stderr
            .lines()
            .filter_map(|l| l.strip_prefix("  keyctl           x"))
            .collect();
        assert!(
            keyctl.len() == 1
                && keyctl[0].ends_with("ERRNO(EPERM) by the default action")
                && keyctl[0]
                    .split_whitespace()
                    .next()
                    .and_then(|n| n.parse::<u64>().ok())
                    .is_some_and(|n| n >= 1),
            "delay {delay}: {r:?}"
        );
    }
    // A slow supervisor changes nothing but time.
    let r = syscage_run_env(
        &[("SYSCAGE_SUPERVISOR_DELAY_MS", "5")],
        &[
            "run",
            "--rootfs",
            &root,
            "--report",
            "--",
            "/probe",
            "deny_loop",
            "100",
        ],
    );
    assert_eq!(
        (r.code, r.stdout.as_str()),
        (0, "deny_loop: ok value=100 errno=1\n"),
        "{r:?}"
    );
    assert!(
        r.stderr.starts_with(
            "syscage: report: 100 denied calls (1 kind)\n  keyctl           x100      ERRNO(EPERM) by the default action\n"
        ),
        "{r:?}"
    );
}

#[test]
#[ignore = "needs root"]
fn report_carries_out_a_kill() {
    need_root!();
    let dir = temp("kill");
    let p = dir.join("kill.json");
    std::fs::write(&p, r#"{"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [{"names": ["keyctl"], "action": "SCMP_ACT_KILL_PROCESS"}]}"#).unwrap();
    let plain = probe_line(&["--seccomp", p.to_str().unwrap()], &["keyctl"]);
    let reported = probe_line(&["--seccomp", p.to_str().unwrap(), "--report"], &["keyctl"]);
    assert_eq!((plain.code, plain.stdout.as_str()), (159, ""));
    assert_eq!(
        (reported.code, reported.stdout.as_str()),
        (159, ""),
        "{reported:?}"
    );
    assert!(
        reported
            .stderr
            .contains("keyctl           x1        KILL_PROCESS by rule 0"),
        "{reported:?}"
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
#[ignore = "needs root"]
fn learn_then_run_then_report() {
    need_root!();
    let dir = temp("learn");
    let prof = dir.join("learned.json");
    let workload = "set -e; mkdir -p /tmp/w; echo data > /tmp/w/f; cp /tmp/w/f /tmp/w/g; grep -q data /tmp/w/g; \
                    seq 1 50 | sort -rn | head -1 >/dev/null; ls -l /tmp/w >/dev/null; \
                    /probe threads 8; /probe tcp_loopback; /probe fork_exec /bin/true; /probe mmap_file; /probe tiocgwinsz";
    let learn = {
        let root = rootfs().to_str().unwrap().to_string();
        let r = syscage_run(&[
            "learn",
            "-o",
            prof.to_str().unwrap(),
            "--rootfs",
            &root,
            "--tmpfs",
            "/tmp",
            "--",
            "/bin/sh",
            "-c",
            workload,
        ]);
        assert_eq!(r.code, 0, "{r:?}");
        r.stderr
    };
    assert!(learn.starts_with("syscage: learned "), "{learn}");
    let text = std::fs::read_to_string(&prof).unwrap();
    let v: serde_json::Value = serde_json::from_str(&text).unwrap();
    assert_eq!(v["defaultAction"], "SCMP_ACT_ERRNO");
    assert_eq!(v["defaultErrnoRet"], 1);
    // The same workload under the learned profile works.
    let r = container(
        &["--seccomp", prof.to_str().unwrap()],
        &["/bin/sh", "-c", workload],
    );
    assert_eq!(r.code, 0, "{r:?}");
    assert_eq!(
        r.stdout,
        "threads: ok value=8\ntcp_loopback: ok\nfork_exec: ok value=0\nmmap_file: ok\ntiocgwinsz: ok\n",
        "{r:?}"
    );
    // One more thing is denied and reported.
    let variant = format!("{workload}; /probe keyctl");
    let r = container(
        &["--seccomp", prof.to_str().unwrap(), "--report"],
        &["/bin/sh", "-c", &variant],
    );
    assert!(
        r.stdout.ends_with("keyctl: blocked errno=1 (EPERM)\n"),
        "{r:?}"
    );
    assert!(
        r.stderr
            .contains("  keyctl           x1        ERRNO(EPERM) by the default action"),
        "{r:?}"
    );
    // An argument the run did not use stays denied: the same pty, another ioctl request
    // (the kernel would answer TIOCLINUX on a pty with ENOTTY; EPERM is the filter's).
    let r = probe_line(&["--seccomp", prof.to_str().unwrap()], &["tioclinux"]);
    assert_eq!(r.stdout, "tioclinux: blocked errno=1 (EPERM)\n", "{r:?}");
    // Merging widens.
    let merged = dir.join("merged.json");
    let root = rootfs().to_str().unwrap().to_string();
    let r = syscage_run(&[
        "learn",
        "--merge",
        prof.to_str().unwrap(),
        "-o",
        merged.to_str().unwrap(),
        "--rootfs",
        &root,
        "--tmpfs",
        "/tmp",
        "--seccomp-allow",
        "keyctl",
        "--",
        "/probe",
        "keyctl",
    ]);
    assert_eq!(r.code, 0, "{r:?}");
    let r = container(
        &["--seccomp", merged.to_str().unwrap()],
        &["/bin/sh", "-c", &variant],
    );
    // keyctl now runs: its value is the new keyring's serial.
    assert_eq!(r.code, 0, "{r:?}");
    let rest = r
        .stdout
        .strip_prefix("threads: ok value=8\ntcp_loopback: ok\nfork_exec: ok value=0\nmmap_file: ok\ntiocgwinsz: ok\nkeyctl: ok value=")
        .unwrap_or_else(|| panic!("{r:?}"));
    assert!(rest.trim_end().parse::<i64>().is_ok_and(|v| v > 0), "{r:?}");
    let d = syscage_run(&[
        "profile",
        "diff",
        prof.to_str().unwrap(),
        merged.to_str().unwrap(),
    ]);
    assert_eq!(d.code, 1, "{d:?}");
    assert!(
        d.stdout
            .ends_with("\n\n+ B lets it run, A refuses it (1):\n+ keyctl\n"),
        "{d:?}"
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

/// `learn -o /dev/null` writes to the device in place; a device node outside /dev and a
/// link are refused before the command runs, and are left as they were.
#[test]
#[ignore = "needs root"]
fn learn_writes_devices_under_dev_and_refuses_links_and_other_devices() {
    need_root!();
    use std::os::unix::fs::FileTypeExt;
    let dir = temp("learn-out");
    // A null device of the test's own, outside /dev, and a link to a file.
    let dev = dir.join("null");
    let st = std::process::Command::new("mknod")
        .arg(&dev)
        .args(["c", "1", "3"])
        .status()
        .unwrap();
    assert!(st.success());
    let real = dir.join("real.json");
    std::fs::write(&real, "old").unwrap();
    let link = dir.join("link.json");
    std::os::unix::fs::symlink(&real, &link).unwrap();
    let root = rootfs().to_str().unwrap().to_string();
    let learn = |out: &str| {
        syscage_run(&[
            "learn",
            "-o",
            out,
            "--rootfs",
            &root,
            "--",
            "/bin/echo",
            "RAN",
        ])
    };
    let r = learn("/dev/null");
    assert_eq!((r.code, r.stdout.as_str()), (0, "RAN\n"), "{r:?}");
    let r = learn(dev.to_str().unwrap());
    assert_eq!(
        (r.code, r.stdout.as_str(), r.stderr.as_str()),
        (
            125,
            "",
            format!(
                "syscage: -o `{}`: cannot write the learned profile: it exists and is not a regular file (a FIFO, a socket or a device outside /dev): name a regular file or a new one\n",
                dev.display()
            )
            .as_str()
        )
    );
    let r = learn(link.to_str().unwrap());
    assert_eq!(
        (r.code, r.stdout.as_str(), r.stderr.as_str()),
        (
            125,
            "",
            format!(
                "syscage: -o `{}`: cannot write the learned profile: it is a symbolic link, and syscage writes through no link (one planted there could send the write to any file): name the file itself\n",
                link.display()
            )
            .as_str()
        )
    );
    assert!(std::fs::metadata(&dev)
        .unwrap()
        .file_type()
        .is_char_device());
    assert!(std::fs::symlink_metadata(&link)
        .unwrap()
        .file_type()
        .is_symlink());
    assert_eq!(std::fs::read_to_string(&real).unwrap(), "old");
    // Nothing else was left in the directory (no temporary files).
    let mut names: Vec<String> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    assert_eq!(names, ["link.json", "null", "real.json"]);
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
#[ignore = "needs root"]
fn learn_refuses_bad_inputs_before_the_command_runs() {
    need_root!();
    let root = rootfs().to_str().unwrap().to_string();
    let r = syscage_run(&[
        "learn",
        "-o",
        "/nonexistent-dir/p.json",
        "--rootfs",
        &root,
        "--",
        "/bin/echo",
        "RAN",
    ]);
    assert_eq!((r.code, r.stdout.as_str()), (125, ""));
    assert_eq!(r.stderr, "syscage: -o `/nonexistent-dir/p.json`: cannot write the learned profile: No such file or directory (ENOENT)\n");
    let dir = temp("badmerge");
    let bad = dir.join("notaprofile.json");
    std::fs::write(&bad, "hello").unwrap();
    let r = syscage_run(&[
        "learn",
        "--merge",
        bad.to_str().unwrap(),
        "--rootfs",
        &root,
        "--",
        "/bin/echo",
        "RAN",
    ]);
    assert_eq!((r.code, r.stdout.as_str()), (125, ""), "{r:?}");
    assert!(
        r.stderr.starts_with(&format!(
            "syscage: --merge cannot load profile `{}`: not a profile: neither JSON (a Docker or OCI profile, which starts with `{{`) nor a YAML SeccompProfile",
            bad.display()
        )),
        "{r:?}"
    );
    let allow = dir.join("allow.json");
    std::fs::write(&allow, r#"{"defaultAction": "SCMP_ACT_ALLOW"}"#).unwrap();
    let r = syscage_run(&[
        "learn",
        "--merge",
        allow.to_str().unwrap(),
        "--rootfs",
        &root,
        "--",
        "/bin/echo",
        "RAN",
    ]);
    assert_eq!(r.stderr, format!("syscage: --merge `{}`: not an allow-list (its default action lets every call run), so there is nothing to widen; merge learned or allow-list profiles\n", allow.display()));
    let r = syscage_run(&[
        "run",
        "--report=/nonexistent-dir/r.jsonl",
        "--rootfs",
        &root,
        "--",
        "/bin/echo",
        "RAN",
    ]);
    assert_eq!((r.code, r.stdout.as_str()), (125, ""));
    assert_eq!(r.stderr, "syscage: --report `/nonexistent-dir/r.jsonl`: cannot write the report: No such file or directory (ENOENT)\n");
    std::fs::remove_dir_all(&dir).unwrap();
}

/// A small OCI seccomp agent: takes the fd and the state from the socket, then answers
/// every notified call with errno 42.
fn agent(sock: std::os::unix::net::UnixListener) -> std::thread::JoinHandle<serde_json::Value> {
    std::thread::spawn(move || {
        use nix::sys::socket::{recvmsg, ControlMessageOwned, MsgFlags};
        use std::os::fd::AsRawFd;
        let (conn, _) = sock.accept().unwrap();
        let mut buf = vec![0u8; 65536];
        let mut space = nix::cmsg_space!([std::os::fd::RawFd; 1]);
        let mut iov = [std::io::IoSliceMut::new(&mut buf)];
        let msg = recvmsg::<()>(
            conn.as_raw_fd(),
            &mut iov,
            Some(&mut space),
            MsgFlags::empty(),
        )
        .unwrap();
        let mut fd = None;
        for c in msg.cmsgs().unwrap() {
            if let ControlMessageOwned::ScmRights(fds) = c {
                // SAFETY: the kernel installed this fd in our table for this message;
                // nothing else owns it.
                fd = Some(unsafe { OwnedFd::from_raw_fd(fds[0]) });
            }
        }
        let n = msg.bytes;
        let state: serde_json::Value = serde_json::from_slice(&buf[..n]).unwrap();
        let fd = fd.expect("the seccomp fd came with the state");
        loop {
            match syscage_seccomp::notify::receive(fd.as_fd()) {
                Ok(Some(n)) => syscage_seccomp::notify::respond(
                    fd.as_fd(),
                    n.id,
                    syscage_seccomp::notify::Response::Errno(42),
                )
                .unwrap(),
                Ok(None) => continue,
                Err(_) => break,
            }
            let mut probe = [nix::poll::PollFd::new(
                fd.as_fd(),
                nix::poll::PollFlags::POLLIN,
            )];
            let _ = nix::poll::poll(&mut probe, nix::poll::PollTimeout::from(2000u16));
            if probe[0]
                .revents()
                .unwrap_or(nix::poll::PollFlags::empty())
                .contains(nix::poll::PollFlags::POLLHUP)
            {
                break;
            }
        }
        let mut rest = Vec::new();
        let _ = (&conn).read_to_end(&mut rest);
        state
    })
}

#[test]
#[ignore = "needs root"]
fn an_oci_listener_gets_the_fd_and_answers() {
    need_root!();
    let dir = temp("oci");
    let sock_path = dir.join("agent.sock");
    let listener = std::os::unix::net::UnixListener::bind(&sock_path).unwrap();
    let handle = agent(listener);
    let prof = dir.join("notify.json");
    std::fs::write(
        &prof,
        format!(r#"{{"defaultAction": "SCMP_ACT_ALLOW", "listenerPath": "{}", "listenerMetadata": "probe-test", "syscalls": [{{"names": ["getpid"], "action": "SCMP_ACT_NOTIFY"}}]}}"#, sock_path.display()),
    )
    .unwrap();
    let r = probe_line(
        &["--seccomp", prof.to_str().unwrap(), "--hostname", "oci-box"],
        &["getpid"],
    );
    assert_eq!(
        (r.code, r.stdout.as_str()),
        (0, "getpid: raw=-42\n"),
        "{r:?}"
    );
    let state = handle.join().unwrap();
    assert_eq!(state["fds"], serde_json::json!(["seccompFd"]));
    assert_eq!(state["metadata"], "probe-test");
    assert_eq!(state["state"]["id"], "oci-box");
    assert!(state["pid"].as_i64().unwrap() > 1);
    // No agent listening: the run fails before the command runs, naming the path.
    std::fs::remove_file(&sock_path).unwrap();
    let r = probe_line(&["--seccomp", prof.to_str().unwrap()], &["getpid"]);
    assert_eq!((r.code, r.stdout.as_str()), (125, ""), "{r:?}");
    assert!(
        r.stderr.starts_with(&format!(
            "syscage: listenerPath `{}`: cannot connect to the agent",
            sock_path.display()
        )),
        "{r:?}"
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
#[ignore = "needs root"]
fn a_run_that_fails_before_its_command_keeps_the_old_report() {
    need_root!();
    let dir = temp("report-kept");
    let old = dir.join("old.jsonl");
    std::fs::write(&old, "{\"old\":1}\n").unwrap();
    let new = dir.join("new.jsonl");
    for (file, want) in [(&old, Some("{\"old\":1}\n")), (&new, None)] {
        let flag = format!("--report={}", file.display());
        let r = container(&[&flag], &["/no/such/command"]);
        assert_eq!(r.code, 127, "{r:?}");
        assert_eq!(
            std::fs::read_to_string(file).ok().as_deref(),
            want,
            "{}",
            file.display()
        );
    }
    // A run whose command starts replaces it.
    let flag = format!("--report={}", old.display());
    let r = probe_line(&[&flag], &["keyctl"]);
    assert_eq!(r.code, 0, "{r:?}");
    let text = std::fs::read_to_string(&old).unwrap();
    assert!(!text.contains("\"old\""), "{text}");
    assert!(text.contains("\"syscall\":\"keyctl\""), "{text}");
    std::fs::remove_dir_all(&dir).unwrap();
}
