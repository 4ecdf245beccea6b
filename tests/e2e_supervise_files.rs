//! The files `learn -o` and `--report=FILE` write: never through a link planted in their
//! directory, nothing left when syscage is killed at any moment, and a write that fails
//! is said. Root needed.

mod support;

use std::path::{Path, PathBuf};
use std::time::Duration;
use support::*;

fn temp(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("syscage-files-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

fn names(d: &Path) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(d)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    v.sort();
    v
}

/// Starts `syscage ARGS` stopped (SIGSTOP) before it runs, for the test to prepare the
/// directory knowing its pid; returns it still stopped.
fn spawn_stopped(args: &[&str]) -> std::process::Child {
    let mut script = String::from("kill -STOP $$; exec \"$0\"");
    for i in 0..args.len() {
        script.push_str(&format!(" \"${}\"", i + 1));
    }
    let child = std::process::Command::new("/bin/sh")
        .arg("-c")
        .arg(script)
        .arg(syscage())
        .args(args)
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let pid = nix::unistd::Pid::from_raw(child.id() as i32);
    match nix::sys::wait::waitpid(pid, Some(nix::sys::wait::WaitPidFlag::WUNTRACED)) {
        Ok(nix::sys::wait::WaitStatus::Stopped(..)) => child,
        other => panic!("the shell did not stop: {other:?}"),
    }
}

#[test]
#[ignore = "needs root"]
fn learn_o_never_writes_through_a_link_planted_in_its_directory() {
    need_root!();
    let dir = temp("planted");
    let victim = dir.join("victim");
    std::fs::write(&victim, "precious\n").unwrap();
    let out = dir.join("p.json");
    let root = rootfs().to_str().unwrap().to_string();
    let child = spawn_stopped(&[
        "learn",
        "-o",
        out.to_str().unwrap(),
        "--rootfs",
        &root,
        "--",
        "/bin/true",
    ]);
    // syscage's temporary file was `p.json.syscage-PID`: plant a link there, and at a few
    // other names it could pick.
    let pid = child.id();
    for name in [
        format!("p.json.syscage-{pid}"),
        format!(".p.json.syscage-{pid}"),
        "p.json.tmp".to_string(),
    ] {
        std::os::unix::fs::symlink(&victim, dir.join(name)).unwrap();
    }
    nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(pid as i32),
        nix::sys::signal::Signal::SIGCONT,
    )
    .unwrap();
    let r = wait_timeout(child, Duration::from_secs(60));
    assert_eq!(r.code, 0, "{r:?}");
    assert_eq!(
        std::fs::read_to_string(&victim).unwrap(),
        "precious\n",
        "written through the link"
    );
    let meta = std::fs::symlink_metadata(&out).unwrap();
    assert!(meta.file_type().is_file(), "p.json is a file of its own");
    let text = std::fs::read_to_string(&out).unwrap();
    assert!(
        text.contains("\"defaultAction\": \"SCMP_ACT_ERRNO\""),
        "{text}"
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

/// A small generator, seeded from the clock and printed, so a failing order can be
/// replayed with SYSCAGE_TEST_SEED.
fn rng() -> impl FnMut(u64) -> u64 {
    let seed = std::env::var("SYSCAGE_TEST_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| {
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap()
                .as_nanos() as u64
        });
    eprintln!("seed {seed} (SYSCAGE_TEST_SEED)");
    let mut x = seed | 1;
    move |n| {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        x % n
    }
}

/// Whether `text` is a whole learned profile or a whole report.
fn complete(text: &str) -> bool {
    let learned = serde_json::from_str::<serde_json::Value>(text)
        .is_ok_and(|v| v["defaultAction"] == "SCMP_ACT_ERRNO");
    let report = text.ends_with('\n')
        && text
            .lines()
            .last()
            .and_then(|l| serde_json::from_str::<serde_json::Value>(l).ok())
            .is_some_and(|v| v["total"].is_u64());
    learned || report
}

#[test]
#[ignore = "needs root"]
fn syscage_killed_at_any_moment_leaves_no_file_behind() {
    need_root!();
    let dir = temp("killed");
    let root = rootfs().to_str().unwrap().to_string();
    let mut next = rng();
    let signals = [
        nix::sys::signal::Signal::SIGKILL,
        nix::sys::signal::Signal::SIGTERM,
        nix::sys::signal::Signal::SIGINT,
    ];
    for round in 0..36u64 {
        let out = dir.join("out");
        let _ = std::fs::remove_file(&out);
        // A new target, or one there before (which must then stay whole, old or new).
        let old = round % 4 == 3;
        if old {
            std::fs::write(&out, "old\n").unwrap();
        }
        let target = out.to_str().unwrap().to_string();
        let report = format!("--report={target}");
        // Each takes about 300 ms here, so kills land before, during and after the run.
        let (mut args, calls) = if round % 2 == 0 {
            (vec!["learn", "-o", &target], "20000")
        } else {
            (vec!["run", &report], "3000")
        };
        args.extend_from_slice(&["--rootfs", &root, "--", "/probe", "deny_loop", calls]);
        let child = spawn_syscage(&[], &args);
        let sig = signals[(round / 2 % 3) as usize];
        let delay = next(300);
        std::thread::sleep(Duration::from_millis(delay));
        let _ = nix::sys::signal::kill(nix::unistd::Pid::from_raw(child.id() as i32), sig);
        let r = wait_timeout(child, Duration::from_secs(60));
        let left = names(&dir);
        let what = format!(
            "round {round}: {} after {delay} ms ({}; {r:?})",
            sig, args[0]
        );
        match std::fs::read_to_string(&out) {
            Ok(text) => {
                assert_eq!(left, ["out"], "{what}");
                assert!(
                    complete(&text) || (old && text == "old\n"),
                    "{what}: out holds {text:?}"
                );
            }
            Err(_) => assert!(left.is_empty(), "{what}: {left:?}"),
        }
    }
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
#[ignore = "needs root"]
fn a_report_that_cannot_be_written_says_so() {
    need_root!();
    let dir = temp("full");
    // A device that is always full (named under /dev: a device elsewhere is refused).
    let full = std::path::Path::new("/dev/full");
    let flag = format!("--report={}", full.display());
    let r = probe_line(&[&flag], &["deny_loop", "100"]);
    assert_eq!(
        (r.code, r.stdout.as_str()),
        (0, "deny_loop: ok value=100 errno=1\n"),
        "{r:?}"
    );
    assert!(
        r.stderr.ends_with(&format!(
            "syscage: --report `{}`: cannot write the report: No space left on device (ENOSPC)\n",
            full.display()
        )),
        "{r:?}"
    );
    // A file system that fills up: a 4 KiB tmpfs in a mount namespace of the test's own.
    let mnt = dir.join("small");
    std::fs::create_dir(&mnt).unwrap();
    let file = mnt.join("r.jsonl");
    let root = rootfs().to_str().unwrap().to_string();
    let script = format!(
        "mount -t tmpfs -o size=4k small '{}' && exec \"$0\" run --report='{}' --rootfs '{}' -- /probe deny_loop 1000",
        mnt.display(),
        file.display(),
        root
    );
    let child = std::process::Command::new("unshare")
        .args([
            "-m",
            "--propagation",
            "private",
            "sh",
            "-c",
            &script,
            syscage(),
        ])
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let r = wait_timeout(child, Duration::from_secs(60));
    assert_eq!(
        (r.code, r.stdout.as_str()),
        (0, "deny_loop: ok value=1000 errno=1\n"),
        "{r:?}"
    );
    assert!(
        r.stderr.ends_with(&format!(
            "syscage: --report `{}`: cannot write the report: No space left on device (ENOSPC)\n",
            file.display()
        )),
        "{r:?}"
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
#[ignore = "needs root"]
fn a_report_to_syscage_own_stderr_file_is_added_to_it() {
    need_root!();
    let dir = temp("own-stderr");
    let log = dir.join("log");
    let err = std::fs::File::create(&log).unwrap();
    let root = rootfs().to_str().unwrap().to_string();
    let child = std::process::Command::new(syscage())
        .args([
            "run",
            "--report=/dev/stderr",
            "--rootfs",
            &root,
            "--",
            "/probe",
            "keyctl",
        ])
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::piped())
        .stderr(err)
        .spawn()
        .unwrap();
    let r = wait_timeout(child, Duration::from_secs(60));
    assert_eq!(
        (r.code, r.stdout.as_str()),
        (0, "keyctl: blocked errno=1 (EPERM)\n"),
        "{r:?}"
    );
    let text = std::fs::read_to_string(&log).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    let first: serde_json::Value =
        serde_json::from_str(lines[0]).unwrap_or_else(|e| panic!("{e}: {text}"));
    assert_eq!(first["syscall"], "keyctl", "{text}");
    let last: serde_json::Value =
        serde_json::from_str(lines[1]).unwrap_or_else(|e| panic!("{e}: {text}"));
    assert_eq!(last["total"], 1, "{text}");
    assert!(
        text.contains("\nsyscage: report: 1 denied call (1 kind)\n"),
        "{text}"
    );
    assert_eq!(names(&dir), ["log"]);
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
#[ignore = "needs root"]
fn a_user_writes_an_existing_file_in_a_directory_they_cannot_write() {
    need_root!();
    use std::os::unix::fs::{MetadataExt, PermissionsExt};
    // Copies in a world-readable place (the build tree may be under /root).
    let dir = temp("nobody");
    let st = std::process::Command::new("cp")
        .arg("-a")
        .arg(syscage())
        .arg(rootfs())
        .arg(&dir)
        .status()
        .unwrap();
    assert!(st.success());
    std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o755)).unwrap();
    let out = dir.join("out");
    std::fs::create_dir(&out).unwrap();
    let files = [out.join("p.json"), out.join("r.jsonl")];
    for f in &files {
        std::fs::write(f, "old\n").unwrap();
        std::fs::set_permissions(f, std::fs::Permissions::from_mode(0o666)).unwrap();
    }
    let bin = dir.join("syscage");
    let root = dir.join("rootfs").to_str().unwrap().to_string();
    let report = format!("--report={}", files[1].display());
    for args in [
        vec![
            "learn",
            "-o",
            files[0].to_str().unwrap(),
            "--rootfs",
            &root,
            "--",
            "/bin/true",
        ],
        vec!["run", &report, "--rootfs", &root, "--", "/probe", "keyctl"],
    ] {
        let o = std::process::Command::new("setpriv")
            .args(["--reuid=65534", "--regid=65534", "--clear-groups"])
            .arg(&bin)
            .args(&args)
            .output()
            .unwrap();
        assert_eq!(
            o.status.code(),
            Some(0),
            "{args:?}: {}",
            String::from_utf8_lossy(&o.stderr)
        );
    }
    let p = std::fs::read_to_string(&files[0]).unwrap();
    assert!(p.contains("\"defaultAction\": \"SCMP_ACT_ERRNO\""), "{p}");
    let r = std::fs::read_to_string(&files[1]).unwrap();
    assert!(
        r.contains("\"syscall\":\"keyctl\"") && !r.contains("old"),
        "{r}"
    );
    assert_eq!(
        std::fs::metadata(&files[0]).unwrap().uid(),
        0,
        "the same file"
    );
    assert_eq!(names(&out), ["p.json", "r.jsonl"]);
    std::fs::remove_dir_all(&dir).unwrap();
}

/// A container that can write the directory a later run reports or learns into plants a
/// link to a host file, a FIFO, and a device node there: the later run, as root, refuses
/// each name before its command starts (exit 125, one line), and the host file, the
/// device and the run are untouched (no write through, no open, no wait).
#[test]
#[ignore = "needs root"]
fn a_link_fifo_or_device_planted_by_a_container_is_refused() {
    need_root!();
    let d = temp("planted-by-a-container");
    let w = d.join("w");
    std::fs::create_dir_all(&w).unwrap();
    let victim = d.join("victim");
    std::fs::write(&victim, "root's file\n").unwrap();
    let root = rootfs().to_str().unwrap().to_string();
    let vol = format!("{}:/data", w.display());
    let plant = format!(
        "ln -s {v} /data/report.jsonl && ln -s {v} /data/profile.json && mkfifo /data/fifo.jsonl && mknod /data/null.jsonl c 1 3",
        v = victim.display()
    );
    let r = syscage_run(&[
        "run",
        "--rootfs",
        &root,
        "--seccomp",
        "unconfined",
        "-v",
        &vol,
        "--",
        "/bin/sh",
        "-c",
        &plant,
    ]);
    assert_eq!(r.code, 0, "{r:?}");
    let link_why = "it is a symbolic link, and syscage writes through no link (one planted there could send the write to any file): name the file itself";
    let other_why = "it exists and is not a regular file (a FIFO, a socket or a device outside /dev): name a regular file or a new one";
    for (name, why) in [
        ("report.jsonl", link_why),
        ("fifo.jsonl", other_why),
        ("null.jsonl", other_why),
    ] {
        let p = w.join(name);
        let report = format!("--report={}", p.display());
        let child = spawn_syscage(
            &[],
            &["run", "--rootfs", &root, &report, "--", "/bin/echo", "ran"],
        );
        let r = wait_timeout(child, Duration::from_secs(20));
        assert_eq!(
            (r.code, r.stdout.as_str(), r.stderr.as_str()),
            (
                125,
                "",
                format!(
                    "syscage: --report `{}`: cannot write the report: {why}\n",
                    p.display()
                )
                .as_str()
            ),
            "{name}"
        );
    }
    let p = w.join("profile.json");
    let r = syscage_run(&[
        "learn",
        "-o",
        p.to_str().unwrap(),
        "--rootfs",
        &root,
        "--",
        "/bin/true",
    ]);
    assert_eq!(r.code, 125, "{r:?}");
    assert!(r.stderr.ends_with(&format!("{link_why}\n")), "{r:?}");
    assert_eq!(std::fs::read_to_string(&victim).unwrap(), "root's file\n");
    let _ = std::fs::remove_dir_all(&d);
}
