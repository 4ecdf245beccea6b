//! How a run ends: syscage decides the end from outside the container (a command that
//! stops the init cannot keep syscage waiting), forwarded signals reach the command
//! whatever its user, a command that ignores SIGTERM is killed after `--stop-timeout`,
//! a signal that comes before the command starts ends the run cleanly, and the init shows
//! its own command line, not syscage's.

mod support;

use nix::sys::signal::{kill, Signal};
use nix::sys::wait::{waitpid, WaitPidFlag, WaitStatus};
use nix::unistd::Pid;
use std::io::BufRead;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};
use support::*;

/// `syscage run --rootfs R --tmpfs /tmp EXTRA -- COMMAND`, started with `bin` (syscage or
/// a copy), optionally through a prefix such as `setpriv ...`.
fn start(
    prefix: &[&str],
    bin: &str,
    root: &str,
    extra: &[&str],
    cmd: &[&str],
) -> std::process::Child {
    let mut argv: Vec<&str> = prefix.to_vec();
    argv.push(bin);
    argv.extend(["run", "--rootfs", root, "--tmpfs", "/tmp"]);
    argv.extend_from_slice(extra);
    argv.push("--");
    argv.extend_from_slice(cmd);
    Command::new(argv[0])
        .args(&argv[1..])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn syscage")
}

/// Reads stdout up to the line `want`; the rest of the output stays for `wait_timeout`.
fn wait_for_line(child: &mut std::process::Child, want: &str) -> Vec<String> {
    let mut out = std::io::BufReader::new(child.stdout.take().expect("stdout"));
    let mut seen = Vec::new();
    loop {
        let mut l = String::new();
        if out.read_line(&mut l).unwrap_or(0) == 0 {
            panic!("no line `{want}` before the end of output: {seen:?}");
        }
        let l = l.trim_end().to_string();
        let done = l == want;
        seen.push(l);
        if done {
            break;
        }
    }
    child.stdout = Some(out.into_inner());
    seen
}

fn signal(child: &std::process::Child, s: Signal) {
    kill(Pid::from_raw(child.id() as i32), s).expect("signal syscage");
}

/// syscage and the busybox root, copied where an unprivileged user can read them; the
/// directory is removed when dropped.
struct NobodyCopy {
    dir: PathBuf,
    bin: String,
    root: String,
}

impl NobodyCopy {
    fn new(tag: &str) -> NobodyCopy {
        let dir = std::env::temp_dir().join(format!("syscage-{tag}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let st = Command::new("cp")
            .arg("-a")
            .arg(syscage())
            .arg(rootfs())
            .arg(&dir)
            .status()
            .unwrap();
        assert!(st.success());
        std::fs::set_permissions(&dir, std::os::unix::fs::PermissionsExt::from_mode(0o755))
            .unwrap();
        let bin = dir.join("syscage").to_str().unwrap().to_string();
        let root = dir.join("rootfs").to_str().unwrap().to_string();
        NobodyCopy { dir, bin, root }
    }
}

impl Drop for NobodyCopy {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

const NOBODY: &[&str] = &[
    "setpriv",
    "--reuid=65534",
    "--regid=65534",
    "--clear-groups",
];

#[test]
#[ignore = "needs root"]
fn a_command_that_stops_the_init_still_ends_the_run() {
    need_root!();
    let root = rootfs().to_str().unwrap().to_string();
    let marker = format!("stopinit-{}", std::process::id());
    let started = Instant::now();
    let child = start(
        &[],
        syscage(),
        &root,
        &["--cap-add", "SYS_PTRACE", "--hostname", &marker],
        &["/probe", "ptrace_stop_init"],
    );
    let r = wait_timeout(child, Duration::from_secs(20));
    assert_eq!(
        (r.code, r.stdout.as_str(), r.stderr.as_str()),
        (0, "ptrace_stop_init: ok\n", ""),
        "{r:?}"
    );
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "{:?}",
        started.elapsed()
    );
    assert_eq!(stray_processes(&marker), Vec::<String>::new());
}

#[test]
#[ignore = "needs root"]
fn sigterm_reaches_the_command_while_the_init_is_stopped() {
    need_root!();
    let root = rootfs().to_str().unwrap().to_string();
    let mut child = start(
        &[],
        syscage(),
        &root,
        &["--cap-add", "SYS_PTRACE"],
        &[
            "/bin/sh",
            "-c",
            "/probe ptrace_stop_init && echo ready && exec sleep 100",
        ],
    );
    wait_for_line(&mut child, "ready");
    signal(&child, Signal::SIGTERM);
    let r = wait_timeout(child, Duration::from_secs(20));
    assert_eq!((r.code, r.stderr.as_str()), (143, ""), "{r:?}");
}

#[test]
#[ignore = "needs root"]
fn a_command_that_ignores_sigterm_is_killed_after_the_stop_timeout() {
    need_root!();
    let root = rootfs().to_str().unwrap().to_string();
    for (sig, timeout, ignores) in [
        (Signal::SIGTERM, "1", "TERM"),
        (Signal::SIGINT, "1", "INT"),
        (Signal::SIGTERM, "0", "TERM"),
    ] {
        let script = format!("trap '' {ignores}; echo ready; sleep 100; echo woke");
        let mut child = start(
            &[],
            syscage(),
            &root,
            &["--stop-timeout", timeout],
            &["/bin/sh", "-c", &script],
        );
        wait_for_line(&mut child, "ready");
        let sent = Instant::now();
        signal(&child, sig);
        let r = wait_timeout(child, Duration::from_secs(20));
        let took = sent.elapsed();
        assert_eq!(
            (r.code, r.stdout.as_str(), r.stderr.as_str()),
            (137, "", ""),
            "{sig} {timeout}: {r:?}"
        );
        let want = Duration::from_secs(timeout.parse().unwrap());
        assert!(
            took >= want && took < want + Duration::from_secs(3),
            "{sig} with --stop-timeout {timeout}: killed after {took:?}"
        );
    }
}

#[test]
#[ignore = "needs root"]
fn the_grace_period_applies_when_the_init_is_stopped() {
    need_root!();
    let root = rootfs().to_str().unwrap().to_string();
    let mut child = start(
        &[],
        syscage(),
        &root,
        &["--cap-add", "SYS_PTRACE", "--stop-timeout", "1"],
        &[
            "/bin/sh",
            "-c",
            "trap '' TERM; /probe ptrace_stop_init && echo ready && sleep 100",
        ],
    );
    wait_for_line(&mut child, "ready");
    signal(&child, Signal::SIGTERM);
    let r = wait_timeout(child, Duration::from_secs(20));
    assert_eq!((r.code, r.stderr.as_str()), (137, ""), "{r:?}");
}

#[test]
fn stop_timeout_takes_whole_seconds() {
    for bad in ["-1", "x", "1.5", "86401"] {
        let r = syscage_run(&["run", "--stop-timeout", bad, "--", "/bin/true"]);
        assert_eq!(
            (r.code, r.stderr.as_str()),
            (
                125,
                format!("syscage: --stop-timeout `{bad}`: expected a whole number of seconds from 0 to 86400\n").as_str()
            ),
            "{r:?}"
        );
    }
}

#[test]
#[ignore = "needs root"]
fn signals_reach_a_command_run_as_another_user() {
    need_root!();
    let root = rootfs().to_str().unwrap().to_string();
    let cases: [&[&str]; 4] = [
        &["-u", "1000:1000"],
        &["--userns"],
        &["--userns", "-u", "1000:1000"],
        &["-u", "65534:65534", "--cap-drop", "ALL"],
    ];
    for extra in cases {
        for sig in [Signal::SIGTERM, Signal::SIGINT] {
            let mut child = start(
                &[],
                syscage(),
                &root,
                extra,
                &["/bin/sh", "-c", "echo ready; exec sleep 100"],
            );
            wait_for_line(&mut child, "ready");
            let sent = Instant::now();
            signal(&child, sig);
            let r = wait_timeout(child, Duration::from_secs(20));
            assert_eq!(
                (r.code, r.stderr.as_str()),
                (128 + sig as i32, ""),
                "{extra:?} {sig}: {r:?}"
            );
            assert!(
                sent.elapsed() < Duration::from_secs(5),
                "{extra:?} {sig}: {:?}",
                sent.elapsed()
            );
        }
    }
}

#[test]
#[ignore = "needs root"]
fn signals_reach_the_command_of_an_unprivileged_caller() {
    need_root!();
    let copy = NobodyCopy::new("stop");
    let (bin, root) = (copy.bin.as_str(), copy.root.as_str());
    for extra in [&[][..], &["-u", "1000:1000"][..]] {
        let mut child = start(
            NOBODY,
            bin,
            root,
            extra,
            &["/bin/sh", "-c", "echo ready; exec sleep 100"],
        );
        wait_for_line(&mut child, "ready");
        signal(&child, Signal::SIGTERM);
        let r = wait_timeout(child, Duration::from_secs(20));
        assert_eq!((r.code, r.stderr.as_str()), (143, ""), "{extra:?}: {r:?}");
    }
    // The grace period too.
    let mut child = start(
        NOBODY,
        bin,
        root,
        &["--stop-timeout", "1"],
        &["/bin/sh", "-c", "trap '' TERM; echo ready; sleep 100"],
    );
    wait_for_line(&mut child, "ready");
    signal(&child, Signal::SIGTERM);
    let r = wait_timeout(child, Duration::from_secs(20));
    assert_eq!((r.code, r.stderr.as_str()), (137, ""), "{r:?}");
}

/// Starts syscage with `SYSCAGE_STOP_AT=point`, waits until it has stopped itself there,
/// sends `sig` and lets it go on.
fn signal_at(point: &str, sig: Signal, args: &[&str]) -> Run {
    let child = Command::new(syscage())
        .env("SYSCAGE_STOP_AT", point)
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let pid = Pid::from_raw(child.id() as i32);
    match waitpid(pid, Some(WaitPidFlag::WUNTRACED)) {
        Ok(WaitStatus::Stopped(_, Signal::SIGSTOP)) => {}
        other => panic!("syscage did not stop at `{point}`: {other:?}"),
    }
    kill(pid, sig).unwrap();
    kill(pid, Signal::SIGCONT).unwrap();
    wait_timeout(child, Duration::from_secs(20))
}

#[test]
#[ignore = "needs root"]
fn a_signal_before_the_command_starts_ends_the_run_cleanly() {
    need_root!();
    let root = rootfs().to_str().unwrap().to_string();
    let dir = std::env::temp_dir().join(format!("syscage-early-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let report = dir.join("report.json");
    let learned = dir.join("learned.json");
    let (report_arg, learned_s) = (
        format!("--report={}", report.display()),
        learned.to_str().unwrap().to_string(),
    );
    for point in ["start", "set-up"] {
        for sig in [Signal::SIGTERM, Signal::SIGINT, Signal::SIGHUP] {
            let marker = format!("early-{}-{}", std::process::id(), sig as i32);
            let runs: [Vec<&str>; 2] = [
                vec![
                    "run",
                    &report_arg,
                    "--memory",
                    "64m",
                    "--hostname",
                    &marker,
                    "--rootfs",
                    &root,
                    "--",
                    "/bin/echo",
                    "RAN",
                ],
                vec![
                    "learn",
                    "-o",
                    &learned_s,
                    "--hostname",
                    &marker,
                    "--rootfs",
                    &root,
                    "--",
                    "/bin/echo",
                    "RAN",
                ],
            ];
            for args in runs {
                let r = signal_at(point, sig, &args);
                let what = format!("{} at {point}, {sig}", args[0]);
                assert_eq!(
                    (r.code, r.stdout.as_str(), r.stderr.as_str()),
                    (
                        128 + sig as i32,
                        "",
                        format!("syscage: stopped by {sig} before the command started\n").as_str()
                    ),
                    "{what}: {r:?}"
                );
                let left: Vec<_> = std::fs::read_dir(&dir)
                    .unwrap()
                    .map(|e| e.unwrap().file_name())
                    .collect();
                assert!(left.is_empty(), "{what}: files left: {left:?}");
                assert_eq!(stray_processes(&marker), Vec::<String>::new(), "{what}");
            }
        }
    }
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
#[ignore = "needs root"]
fn the_init_shows_its_own_command_line() {
    need_root!();
    let r = container(
        &[
            "-e",
            "SECRET=hunter2",
            "-v",
            "/tmp:/mnt/host-tmp:ro",
            "--hostname",
            "box1",
        ],
        &[
            "/bin/sh",
            "-c",
            "tr '\\0' '|' < /proc/1/cmdline; echo; cat /proc/1/comm",
        ],
    );
    assert_eq!(
        (r.code, r.stdout.as_str()),
        (0, "syscage-init box1|\nsyscage-init\n"),
        "{r:?}"
    );
}

/// The children of a process, from /proc.
fn children_of(pid: i32) -> Vec<i32> {
    let mut out = Vec::new();
    for e in std::fs::read_dir("/proc").unwrap().flatten() {
        let Ok(p) = e.file_name().to_string_lossy().parse::<i32>() else {
            continue;
        };
        let status = std::fs::read_to_string(e.path().join("status")).unwrap_or_default();
        if status.lines().any(|l| l == format!("PPid:\t{pid}")) {
            out.push(p);
        }
    }
    out
}

fn state_of(pid: i32) -> String {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    stat.rsplit_once(") ")
        .map(|(_, r)| r[..1].to_string())
        .unwrap_or_default()
}

#[test]
#[ignore = "needs root"]
fn the_command_sleeps_until_its_supervisor_takes_over() {
    need_root!();
    let root = rootfs().to_str().unwrap().to_string();
    for mode in [&["run", "--report"][..], &["learn", "-o", "/dev/null"][..]] {
        let mut args = mode.to_vec();
        args.extend(["--rootfs", &root, "--", "/bin/true"]);
        let child = Command::new(syscage())
            .env("SYSCAGE_STOP_AT", "take the notification fd")
            .args(&args)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let pid = Pid::from_raw(child.id() as i32);
        match waitpid(pid, Some(WaitPidFlag::WUNTRACED)) {
            Ok(WaitStatus::Stopped(_, Signal::SIGSTOP)) => {}
            other => panic!("{mode:?}: syscage did not stop before taking the fd: {other:?}"),
        }
        // syscage -> init -> command, which has loaded its filter and waits.
        let init = children_of(pid.as_raw());
        assert_eq!(init.len(), 1, "{mode:?}: {init:?}");
        let command = children_of(init[0]);
        assert_eq!(command.len(), 1, "{mode:?}: {command:?}");
        let deadline = Instant::now() + Duration::from_secs(5);
        let mut states = String::new();
        loop {
            let s = state_of(command[0]);
            states.push_str(&s);
            if s == "S" || Instant::now() > deadline {
                break;
            }
            std::thread::yield_now();
        }
        assert!(
            states.ends_with('S'),
            "{mode:?}: the command is not asleep: {states:.40}"
        );
        let wchan =
            std::fs::read_to_string(format!("/proc/{}/wchan", command[0])).unwrap_or_default();
        assert!(wchan.contains("futex"), "{mode:?}: sleeps in {wchan}");
        kill(pid, Signal::SIGCONT).unwrap();
        let r = wait_timeout(child, Duration::from_secs(20));
        assert_eq!(r.code, 0, "{mode:?}: {r:?}");
    }
}

/// The shared pages of a process (`rw-s` lines of its maps) on anonymous memory.
fn shared_anonymous_pages(pid: i32) -> Vec<String> {
    std::fs::read_to_string(format!("/proc/{pid}/maps"))
        .unwrap_or_default()
        .lines()
        .filter(|l| l.contains(" rw-s ") && l.contains("/dev/zero"))
        .map(str::to_string)
        .collect()
}

/// The page syscage reads from the container (a failed execve's errno, the notification
/// fd's hand-over) is mapped in the command until it executes, never in the init, whose
/// memory a command given CAP_SYS_PTRACE could write.
#[test]
#[ignore = "needs root"]
fn the_init_does_not_map_the_page_syscage_reads() {
    need_root!();
    let root = rootfs().to_str().unwrap().to_string();
    let mut child = start(
        &[],
        syscage(),
        &root,
        &["--cap-add", "SYS_PTRACE"],
        &["/bin/sh", "-c", "echo ready; exec sleep 100"],
    );
    wait_for_line(&mut child, "ready");
    let init = children_of(child.id() as i32);
    assert_eq!(init.len(), 1, "{init:?}");
    assert_eq!(shared_anonymous_pages(init[0]), Vec::<String>::new());
    signal(&child, Signal::SIGTERM);
    let r = wait_timeout(child, Duration::from_secs(20));
    assert_eq!(r.code, 143, "{r:?}");
}

/// The command executes nothing of the container's before the init has locked itself
/// down (not dumpable, no capabilities, no_new_privs, its own filter): held before its
/// lock-down, the init leaves the command waiting, not running.
#[test]
#[ignore = "needs root"]
fn the_command_waits_until_the_init_is_locked_down() {
    need_root!();
    let root = rootfs().to_str().unwrap().to_string();
    let hold = std::env::temp_dir().join(format!("syscage-hold-{}", std::process::id()));
    std::fs::write(&hold, "").unwrap();
    let mut child = Command::new(syscage())
        .env("SYSCAGE_HOLD_AT", "init lock-down")
        .env("SYSCAGE_HOLD_FILE", &hold)
        .args(["run", "--rootfs", &root, "--", "/bin/echo", "RAN"])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let syscage_pid = child.id() as i32;
    // The command, once it waits or (what must not happen) runs the program.
    let deadline = Instant::now() + Duration::from_secs(10);
    let (init, command, wchan) = loop {
        assert!(Instant::now() < deadline, "no init and command appeared");
        if let Ok(Some(st)) = child.try_wait() {
            panic!("the run ended while the init was held before its lock-down: {st:?}");
        }
        let init = children_of(syscage_pid);
        if let [init] = init[..] {
            if let [command] = children_of(init)[..] {
                let comm =
                    std::fs::read_to_string(format!("/proc/{command}/comm")).unwrap_or_default();
                let wchan =
                    std::fs::read_to_string(format!("/proc/{command}/wchan")).unwrap_or_default();
                if comm.trim() != "syscage-init" || wchan.contains("pipe") {
                    break (init, command, format!("{} {wchan}", comm.trim()));
                }
            }
        }
        std::thread::yield_now();
    };
    assert!(
        wchan.contains("pipe_read"),
        "the command did not wait: {wchan}"
    );
    let status = std::fs::read_to_string(format!("/proc/{init}/status")).unwrap();
    assert!(
        status.contains("NoNewPrivs:\t0"),
        "the init was held before its lock-down"
    );
    assert_eq!(state_of(command), "S");
    std::fs::remove_file(&hold).unwrap();
    let r = wait_timeout(child, Duration::from_secs(20));
    assert_eq!(
        (r.code, r.stdout.as_str(), r.stderr.as_str()),
        (0, "RAN\n", "")
    );
}
