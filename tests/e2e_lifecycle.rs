//! Nothing left behind: a failure at any step, syscage killed with SIGKILL at any moment,
//! many containers at once, and many in a row. They need root, and the
//! `fault-injection` feature for the step failures (the README's test command enables it).

mod support;

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};
use support::*;

/// Everything a run could leave on the host, for the syscage process `pid` and `marker`.
fn leftovers(pid: u32, marker: &str) -> Vec<String> {
    let mut out = Vec::new();
    for d in syscage_cgroups() {
        if cgroup_owner(&d).pid == pid {
            out.push(format!("cgroup {}", d.display()));
        }
    }
    for m in host_mounts_with(rootfs().to_str().unwrap()) {
        out.push(format!("mount {m}"));
    }
    for p in stray_processes(marker) {
        out.push(format!("process {p}"));
    }
    out
}

fn wait_for_nothing_left(pid: u32, marker: &str) -> Vec<String> {
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let l = leftovers(pid, marker);
        if l.is_empty() || Instant::now() > deadline {
            return l;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
#[ignore = "needs root"]
fn a_failure_at_any_step_leaves_nothing_behind() {
    need_root!();
    let root = rootfs().to_str().unwrap().to_string();
    let vol = format!("{}:/mnt/vol:ro", std::env::temp_dir().display());
    // Steps of the parent, of the init's file system set-up, and of the command process.
    let steps = [
        "create the container's namespaces",
        "write the uid/gid maps",
        "move the init into its cgroup",
        "set the hostname",
        "make `/` a recursive slave mount",
        "create directory `/proc`",
        "nodev",
        "mount `proc` on `/proc`",
        "mount `tmpfs` on `/dev`",
        "bind `/dev/null` on `/dev/null`",
        "mount `devpts` on `/dev/pts`",
        "link `/dev/ptmx`",
        "mount `sysfs` on `/sys`",
        "mount `tmpfs` on `/tmp`",
        "bind `/tmp` on `/mnt/vol`",
        "mask `/proc/kcore`",
        "make `/proc/sys` read-only",
        "pivot_root into the new root",
        "bring up the loopback interface",
        "set no_new_privs",
        "load the seccomp filter",
    ];
    for (i, step) in steps.iter().enumerate() {
        let marker = format!("fault-step-{i}-{}", std::process::id());
        let mut args = vec![
            "run",
            "--rootfs",
            &root,
            "--tmpfs",
            "/tmp",
            "--memory",
            "64m",
            "-v",
            &vol,
            "--hostname",
            &marker,
        ];
        if step.contains("uid/gid") {
            args.push("--userns");
        }
        args.extend(["--", "/bin/sh", "-c", "echo RAN"]);
        let child = spawn_syscage(&[("SYSCAGE_FAULT", step)], &args);
        let pid = child.id();
        let r = wait_timeout(child, Duration::from_secs(30));
        assert_eq!(r.code, 125, "{step}: {r:?}");
        assert_eq!(r.stdout, "", "{step}: the command must not run: {r:?}");
        assert!(
            r.stderr.starts_with("syscage: cannot ")
                && r.stderr.contains(step)
                && r.stderr.contains("State not recoverable (ENOTRECOVERABLE)"),
            "{step}: {r:?}"
        );
        assert_eq!(r.stderr.lines().count(), 1, "one line: {r:?}");
        let left = wait_for_nothing_left(pid, &marker);
        assert!(left.is_empty(), "{step} left: {left:#?}");
    }
}

#[test]
#[ignore = "needs root"]
fn syscage_killed_at_any_moment_takes_the_container_with_it() {
    need_root!();
    let root = rootfs().to_str().unwrap().to_string();
    for (i, delay_ms) in [0u64, 1, 2, 5, 10, 30, 100, 300].into_iter().enumerate() {
        let marker = format!("sigkill-{i}-{}", std::process::id());
        let script = format!("sleep 100; : {marker}");
        let mut args = vec![
            "run",
            "--rootfs",
            &root,
            "--tmpfs",
            "/tmp",
            "--memory",
            "64m",
            "--hostname",
            &marker,
        ];
        // Every other run in a user namespace: the parent-death signal survives the
        // change of ids there too.
        if i % 2 == 1 {
            args.push("--userns");
        }
        args.extend(["--", "/bin/sh", "-c", &script]);
        let child = Command::new(syscage())
            .args(&args)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let pid = child.id();
        std::thread::sleep(Duration::from_millis(delay_ms));
        nix::sys::signal::kill(
            nix::unistd::Pid::from_raw(pid as i32),
            nix::sys::signal::Signal::SIGKILL,
        )
        .unwrap();
        let mut child = child;
        let _ = child.wait();
        // Processes and mounts go at once; a cgroup directory may stay (its owner died
        // before removing it) and must be gone after the next run.
        let deadline = Instant::now() + Duration::from_secs(5);
        while !stray_processes(&marker).is_empty() && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(20));
        }
        assert_eq!(
            stray_processes(&marker),
            Vec::<String>::new(),
            "after {delay_ms} ms"
        );
        assert_eq!(
            host_mounts_with(&root),
            Vec::<String>::new(),
            "after {delay_ms} ms"
        );
        let next = container(&["--memory", "64m"], &["/bin/true"]);
        assert_eq!(next.code, 0, "{next:?}");
        let left = leftovers(pid, &marker);
        assert!(
            left.is_empty(),
            "after {delay_ms} ms and another run: {left:#?}"
        );
    }
}

#[test]
#[ignore = "needs root"]
fn a_hundred_containers_at_once() {
    need_root!();
    let root = rootfs().to_str().unwrap().to_string();
    let children: Vec<_> = (0..100)
        .map(|i| {
            let mut args = vec![
                "run".to_string(),
                "--rootfs".into(),
                root.clone(),
                "--tmpfs".into(),
                "/tmp".into(),
            ];
            if i % 4 == 0 {
                args.extend(["--pids-limit".to_string(), "50".to_string()]);
            }
            args.extend([
                "--".to_string(),
                "/bin/sh".into(),
                "-c".into(),
                format!("echo {i}"),
            ]);
            Command::new(syscage())
                .args(&args)
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect();
    for (i, c) in children.into_iter().enumerate() {
        let r = wait_timeout(c, Duration::from_secs(120));
        assert_eq!(
            (r.code, r.stdout.trim()),
            (0, i.to_string().as_str()),
            "{r:?}"
        );
    }
}

#[test]
#[ignore = "needs root"]
fn a_thousand_runs_in_a_row_leave_nothing_behind() {
    need_root!();
    let root = rootfs().to_str().unwrap().to_string();
    let before_mounts = std::fs::read_to_string("/proc/self/mountinfo")
        .unwrap()
        .lines()
        .count();
    for i in 0..1000 {
        let mut args = vec!["run", "--rootfs", &root];
        if i % 10 == 0 {
            args.extend(["--memory", "32m"]);
        }
        args.extend(["--", "/bin/true"]);
        let out = Command::new(syscage())
            .args(&args)
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .output()
            .unwrap();
        assert_eq!(
            out.status.code(),
            Some(0),
            "run {i}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let after_mounts = std::fs::read_to_string("/proc/self/mountinfo")
        .unwrap()
        .lines()
        .count();
    assert_eq!(before_mounts, after_mounts, "no mount left on the host");
    assert_eq!(host_mounts_with(&root), Vec::<String>::new());
    let mine: Vec<_> = syscage_cgroups();
    // Other tests may be running containers right now; none of this test's may remain, and
    // every remaining one must belong to a live syscage.
    let me = syscage_runtime::cgroup::Owner::me().unwrap();
    for d in mine {
        assert!(
            cgroup_owner(&d).alive_from(&me),
            "stale cgroup {}",
            d.display()
        );
    }
}
