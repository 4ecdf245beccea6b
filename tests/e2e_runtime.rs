//! End-to-end tests of `syscage run`: real containers on a busybox root file system.
//! They need root (CI runs as root); without it each says SKIPPED on stderr.

mod support;

use std::time::Duration;
use support::*;

#[test]
#[ignore = "needs root"]
fn the_command_is_pid_2_under_an_init_and_sees_only_its_own_processes() {
    need_root!();
    let r = container(
        &[],
        &[
            "/bin/sh",
            "-c",
            "echo $$; ps -o pid= > /tmp/ps; tr -d ' ' < /tmp/ps | tr '\\n' ' '; echo; cat /proc/1/comm",
        ],
    );
    assert_eq!(r.code, 0, "{r:?}");
    // The shell is pid 2; ps sees the init (1, syscage-init), the shell and itself:
    // nothing of the host.
    let lines = r.lines();
    assert_eq!(lines[0], "2");
    assert_eq!(lines[1], "1 2 3 ");
    assert_eq!(lines[2], "syscage-init");
}

#[test]
#[ignore = "needs root"]
fn hostname_is_set_and_random_by_default() {
    need_root!();
    let r = container(&["--hostname", "box-7"], &["/bin/hostname"]);
    assert_eq!((r.code, r.stdout.as_str()), (0, "box-7\n"), "{r:?}");
    let a = container(&[], &["/bin/hostname"]);
    let b = container(&[], &["/bin/hostname"]);
    assert_eq!(a.stdout.trim().len(), 12);
    assert_ne!(a.stdout, b.stdout);
}

#[test]
#[ignore = "needs root"]
fn only_loopback_and_it_is_up() {
    need_root!();
    let r = container(
        &[],
        &[
            "/bin/sh",
            "-c",
            "ls /sys/class/net; cat /sys/class/net/lo/operstate; ip -o addr | awk '{print $2, $4}'",
        ],
    );
    assert_eq!(r.code, 0, "{r:?}");
    assert_eq!(r.lines()[0], "lo");
    assert_eq!(
        r.lines().len(),
        4,
        "one interface, its state, 127.0.0.1/8 and ::1/128: {r:?}"
    );
    assert!(r.stdout.contains("lo 127.0.0.1/8"));
}

#[test]
#[ignore = "needs root"]
fn host_paths_are_invisible_and_proc_is_the_containers() {
    need_root!();
    let r = container(&[], &["/bin/sh", "-c", "ls /; test -e /work || test -e /usr || echo no-host-dirs; ls /proc | grep '^[0-9]' | wc -l"]);
    assert_eq!(r.code, 0, "{r:?}");
    // Only the busybox tree (and mount points other tests made in it: the OCI tests'
    // bundles share this root and make /hooks, /rw and /small).
    let listed: Vec<&str> = r.lines()[..r.lines().len() - 2].to_vec();
    for name in &listed {
        assert!(
            [
                "bin", "data", "dev", "etc", "home", "hooks", "mnt", "probe", "proc", "root",
                "run", "rw", "small", "sys", "tmp"
            ]
            .contains(name),
            "{name}: {r:?}"
        );
    }
    assert_eq!(r.lines()[r.lines().len() - 2], "no-host-dirs", "{r:?}");
    let pids: u32 = r.lines()[r.lines().len() - 1].trim().parse().unwrap();
    assert!(pids <= 5, "only the container's processes in /proc: {r:?}");
}

#[test]
#[ignore = "needs root"]
fn exit_statuses_follow_docker() {
    need_root!();
    assert_eq!(container(&[], &["/bin/true"]).code, 0);
    assert_eq!(container(&[], &["/bin/sh", "-c", "exit 7"]).code, 7);
    assert_eq!(container(&[], &["/bin/sh", "-c", "kill -9 $$"]).code, 137);
    let bad = container(&["--memory", "0"], &["/bin/true"]);
    assert_eq!(bad.code, 125);
    let nf = container(&[], &["/no/such/command"]);
    assert_eq!(
        (nf.code, nf.stderr.as_str()),
        (
            127,
            "syscage: cannot execute `/no/such/command`: not found\n"
        )
    );
    let dir = container(&[], &["/etc"]);
    assert_eq!(
        (dir.code, dir.stderr.as_str()),
        (
            126,
            "syscage: cannot execute `/etc`: Is a directory (EISDIR)\n"
        )
    );
    let noexec = container(&[], &["/etc/passwd"]);
    assert_eq!(noexec.code, 126, "{noexec:?}");
    // A script whose interpreter the root file system lacks: ENOENT, but not the script's.
    let script = std::env::temp_dir().join(format!("syscage-bash-script-{}", std::process::id()));
    std::fs::write(&script, "#!/bin/bash\necho hi\n").unwrap();
    std::fs::set_permissions(&script, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
    // Mounted in the test's tmpfs, so the shared root file system gets no mount point.
    let vol = format!("{}:/tmp/script:ro", script.display());
    let ni = container(&["-v", &vol], &["/tmp/script"]);
    std::fs::remove_file(&script).unwrap();
    assert_eq!(
        (ni.code, ni.stderr.as_str()),
        (
            127,
            "syscage: cannot execute `/tmp/script`: the file is there, but its interpreter (its `#!` line) or its dynamic loader is: not found\n"
        )
    );
    // SIGSYS: killed by the filter (an x32 call is a foreign ABI).
    let sys = probe_line(&[], &["x32_getpid"]);
    assert_eq!((sys.code, sys.stdout.as_str()), (159, ""), "{sys:?}");
}

#[test]
#[ignore = "needs root"]
fn capabilities_and_no_new_privs() {
    need_root!();
    let r = probe_line(&[], &["status"]);
    assert_eq!(r.code, 0, "{r:?}");
    for want in [
        "status: CapInh:\t0000000000000000",
        "status: CapPrm:\t00000000a80425fb",
        "status: CapEff:\t00000000a80425fb",
        "status: CapBnd:\t00000000a80425fb",
        "status: CapAmb:\t0000000000000000",
        "status: NoNewPrivs:\t1",
        "status: Seccomp:\t2",
    ] {
        assert!(r.stdout.contains(want), "{want}: {r:?}");
    }
    let r = probe_line(
        &["--cap-drop", "ALL", "--cap-add", "net_bind_service"],
        &["status"],
    );
    assert!(r.stdout.contains("CapEff:\t0000000000000400"), "{r:?}");
    assert!(r.stdout.contains("CapBnd:\t0000000000000400"), "{r:?}");
    let r = probe_line(&["--user", "1000"], &["status"]);
    assert!(r.stdout.contains("CapEff:\t0000000000000000"), "{r:?}");
    assert!(r.stdout.contains("CapBnd:\t00000000a80425fb"), "{r:?}");
}

#[test]
#[ignore = "needs root"]
fn user_option_sets_the_ids_and_home() {
    need_root!();
    let r = container(
        &["--user", "1000:50"],
        &["/bin/sh", "-c", "id -u; id -g; id -G; echo $HOME"],
    );
    assert_eq!(r.stdout, "1000\n50\n50\n/home/user\n", "{r:?}");
}

#[test]
#[ignore = "needs root"]
fn environment_is_clean_and_set_by_options() {
    need_root!();
    std::env::set_var("SYSCAGE_TEST_COPIED", "from-host");
    let r = container(
        &["-e", "A=1", "-e", "SYSCAGE_TEST_COPIED", "--hostname", "h1"],
        &["/bin/env"],
    );
    let mut lines = r.lines();
    lines.sort();
    assert_eq!(
        lines,
        vec![
            "A=1",
            "HOME=/root",
            "HOSTNAME=h1",
            "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
            "SYSCAGE_TEST_COPIED=from-host"
        ],
        "{r:?}"
    );
}

#[test]
#[ignore = "needs root"]
fn workdir_is_used() {
    need_root!();
    let r = container(&["-w", "/etc"], &["/bin/pwd"]);
    assert_eq!(r.stdout, "/etc\n", "{r:?}");
    let r = container(&["-w", "/tmp/made/here"], &["/bin/pwd"]);
    assert_eq!(
        r.stdout, "/tmp/made/here\n",
        "a missing working directory is made: {r:?}"
    );
}

#[test]
#[ignore = "needs root"]
fn volumes_read_write_and_read_only() {
    need_root!();
    let dir = std::env::temp_dir().join(format!("syscage-vol-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("in"), "hello\n").unwrap();
    let rw = format!("{}:/mnt/rw", dir.display());
    let ro = format!("{}:/mnt/ro:ro", dir.display());
    let r = container(&["-v", &rw, "-v", &ro], &["/bin/sh", "-c", "cat /mnt/ro/in; echo out > /mnt/rw/out && echo wrote; echo x > /mnt/ro/x || echo refused"]);
    assert_eq!(r.code, 0, "{r:?}");
    assert_eq!(r.stdout, "hello\nwrote\nrefused\n", "{r:?}");
    assert_eq!(std::fs::read_to_string(dir.join("out")).unwrap(), "out\n");
    assert!(!dir.join("x").exists());
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
#[ignore = "needs root"]
fn volumes_under_dev_leave_the_proc_masks_in_place() {
    need_root!();
    let dir = std::env::temp_dir().join(format!("syscage-devvol-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("f"), "in-dev\n").unwrap();
    let vol = format!("{}:/dev/extra:ro", dir.display());
    // /proc/keys is masked with the null device: empty, while the host's lists keys.
    let r = container(
        &["-v", &vol],
        &["/bin/sh", "-c", "cat /dev/extra/f; wc -c < /proc/keys"],
    );
    std::fs::remove_dir_all(&dir).unwrap();
    assert_eq!((r.code, r.stdout.as_str()), (0, "in-dev\n0\n"), "{r:?}");
    assert!(
        !rootfs().join("dev/extra").exists(),
        "the mount point is made in the container's /dev, not in the root file system"
    );
}

#[test]
#[ignore = "needs root"]
fn read_only_root_with_writable_tmp() {
    need_root!();
    let root = rootfs().to_str().unwrap().to_string();
    let r = syscage_run(&[
        "run",
        "--rootfs",
        &root,
        "--read-only",
        "--",
        "/bin/sh",
        "-c",
        "touch /etc/x || echo refused; touch /tmp/x && echo tmp-ok",
    ]);
    assert_eq!(r.stdout, "refused\ntmp-ok\n", "{r:?}");
}

#[test]
#[ignore = "needs root"]
fn host_root_read_only_without_rootfs() {
    need_root!();
    let r = syscage_run(&["run", "--", "/bin/sh", "-c", "test -x /bin/busybox && echo host-root; touch /etc/syscage-x 2>/dev/null || echo ro; touch /tmp/y && echo tmp-ok; ls /run | wc -l"]);
    assert_eq!(r.stdout, "host-root\nro\ntmp-ok\n0\n", "{r:?}");
    assert!(!std::path::Path::new("/etc/syscage-x").exists());
}

#[test]
#[ignore = "needs root"]
fn memory_limit_kills_an_allocation_above_it() {
    need_root!();
    let small = probe_line(&["--memory", "64m"], &["alloc", "16"]);
    assert_eq!(
        (small.code, small.stdout.as_str()),
        (0, "alloc: ok value=16\n"),
        "{small:?}"
    );
    let big = probe_line(&["--memory", "64m"], &["alloc", "256"]);
    assert_eq!((big.code, big.stdout.as_str()), (137, ""), "{big:?}");
}

#[test]
#[ignore = "needs root"]
fn pids_limit_stops_a_fork_bomb() {
    need_root!();
    let r = probe_line(&["--pids-limit", "20"], &["forkbomb", "100"]);
    assert_eq!(r.code, 0, "{r:?}");
    let made: u32 = r
        .stdout
        .split("value=")
        .nth(1)
        .and_then(|s| s.split(' ').next())
        .and_then(|n| n.parse().ok())
        .expect("value");
    assert!(made < 20, "{r:?}");
    assert!(r.stdout.contains("blocked errno=11 (EAGAIN)"), "{r:?}");
}

#[test]
#[ignore = "needs root"]
fn cpu_limit_is_written_and_the_cgroup_is_hidden_and_removed() {
    need_root!();
    let root = rootfs().to_str().unwrap().to_string();
    // The container lives until the test has read its limit (a file in a volume says so).
    let sig = std::env::temp_dir().join(format!("syscage-cpu-{}", std::process::id()));
    std::fs::create_dir_all(&sig).unwrap();
    let vol = format!("{}:/data", sig.display());
    let child = spawn_syscage(
        &[],
        &[
            "run",
            "--rootfs",
            &root,
            "--cpus",
            "0.5",
            "-v",
            &vol,
            "--hostname",
            "cpu-test",
            "--",
            "/bin/sh",
            "-c",
            "grep -E '(cpu[,:]|^0::)' /proc/self/cgroup | head -n 1; \
             n=0; while [ ! -e /data/done ] && [ $n -lt 1000 ]; do n=$((n+1)); sleep 0.01; done",
        ],
    );
    let me = child.id();
    // Wherever this machine has the cpu controller: a v1 hierarchy or the cgroup2 mount.
    let layout = syscage_runtime::cgroup::Layout::detect().unwrap();
    let h = layout
        .find(syscage_runtime::cgroup::Controller::Cpu)
        .expect("a cpu controller");
    let v2 = matches!(h, syscage_runtime::cgroup::Hierarchy::V2 { .. });
    let (file, want) = if v2 {
        ("cpu.max", "50000 100000\n")
    } else {
        ("cpu.cfs_quota_us", "50000\n")
    };
    let dir = h.path().join("syscage");
    let mut quota = None;
    // The cgroup exists before the command runs; wait until it shows (at most 2 s).
    for _ in 0..100 {
        let found = std::fs::read_dir(&dir)
            .into_iter()
            .flatten()
            .flatten()
            .find(|e| e.path().is_dir() && cgroup_owner(&e.path()).pid == me);
        if let Some(e) = found {
            quota = std::fs::read_to_string(e.path().join(file)).ok();
            break;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    std::fs::write(sig.join("done"), "").unwrap();
    let r = wait_timeout(child, Duration::from_secs(10));
    std::fs::remove_dir_all(&sig).unwrap();
    assert_eq!(quota.as_deref(), Some(want));
    let line = r.stdout.trim_end();
    assert!(
        r.code == 0 && line.ends_with(":/") && (v2 || line.contains(":cpu")),
        "the cgroup namespace shows / : {r:?}"
    );
    assert_eq!(
        syscage_cgroups()
            .into_iter()
            .filter(|d| cgroup_owner(d).pid == me)
            .collect::<Vec<_>>(),
        Vec::<std::path::PathBuf>::new(),
        "cgroup removed"
    );
}

#[test]
#[ignore = "needs root"]
fn zombies_are_reaped() {
    need_root!();
    // The shell's orphans are reparented to the init, which must reap them: each writes
    // its pid and exits; a pid leaves /proc only once reaped (a zombie keeps it). Waits
    // until all three are gone, at most 5 s.
    let script = "(for i in 1 2 3; do sh -c 'echo $$ >> /tmp/pids' & done); \
        n=0; left=3; while [ $n -lt 500 ]; do \
            seen=$(cat /tmp/pids 2>/dev/null | wc -l); left=0; \
            for p in $(cat /tmp/pids 2>/dev/null); do [ -e /proc/$p ] && left=$((left+1)); done; \
            [ $seen -eq 3 ] && [ $left -eq 0 ] && break; n=$((n+1)); sleep 0.01; done; \
        echo seen=$seen left=$left";
    let r = container(&[], &["/bin/sh", "-c", script]);
    assert_eq!(r.stdout, "seen=3 left=0\n", "{r:?}");
}

#[test]
#[ignore = "needs root"]
fn sigterm_is_forwarded_to_the_command() {
    need_root!();
    let root = rootfs().to_str().unwrap().to_string();
    let child = spawn_syscage(
        &[],
        &[
            "run",
            "--rootfs",
            &root,
            "--tmpfs",
            "/tmp",
            "--",
            "/probe",
            "sigterm_wait",
        ],
    );
    let mut child = child;
    // SIGTERM once the probe has its handler (it says `ready`).
    let mut out = std::io::BufReader::new(child.stdout.take().unwrap());
    let mut ready = String::new();
    std::io::BufRead::read_line(&mut out, &mut ready).unwrap();
    assert_eq!(ready, "sigterm_wait: ready\n");
    nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(child.id() as i32),
        nix::sys::signal::Signal::SIGTERM,
    )
    .unwrap();
    child.stdout = Some(out.into_inner());
    let r = wait_timeout(child, Duration::from_secs(10));
    assert_eq!(
        (r.code, r.stdout.as_str()),
        (0, "sigterm_wait: got SIGTERM\n"),
        "{r:?}"
    );
}

#[test]
#[ignore = "needs root"]
fn verbose_prints_the_host_pid_and_steps() {
    need_root!();
    let r = container(&["--verbose"], &["/bin/true"]);
    assert_eq!(r.code, 0);
    assert!(r.stderr.contains("container init: host pid "), "{r:?}");
    assert!(r.stderr.contains("(grep Seccomp /proc/"), "{r:?}");
    for l in r.stderr.lines() {
        assert!(l.starts_with("syscage: "), "every line is syscage's: {l:?}");
    }
    let quiet = container(&[], &["/bin/echo", "only this"]);
    assert_eq!(
        (quiet.stdout.as_str(), quiet.stderr.as_str()),
        ("only this\n", ""),
        "success prints nothing of syscage's own"
    );
}

#[test]
#[ignore = "needs root"]
fn userns_maps_root_to_an_unprivileged_range() {
    need_root!();
    let r = container(
        &["--userns"],
        &[
            "/bin/sh",
            "-c",
            "id -u; cat /proc/self/uid_map /proc/self/gid_map",
        ],
    );
    assert_eq!(r.code, 0, "{r:?}");
    // root's line in /etc/subuid (subgid), else 0x70000000, which useradd never hands out.
    let expect = |file: &str| {
        let (start, count) = std::fs::read_to_string(file)
            .unwrap_or_default()
            .lines()
            .find_map(|l| {
                let f: Vec<&str> = l.split(':').collect();
                (f.len() == 3 && (f[0] == "root" || f[0] == "0"))
                    .then(|| (f[1].to_string(), f[2].to_string()))
            })
            .unwrap_or(("1879048192".into(), "65536".into()));
        format!("0 {start} {count}")
    };
    let l: Vec<String> = r
        .lines()
        .iter()
        .map(|l| l.split_whitespace().collect::<Vec<_>>().join(" "))
        .collect();
    assert_eq!(
        l,
        [
            "0".to_string(),
            expect("/etc/subuid"),
            expect("/etc/subgid")
        ]
    );
}

#[test]
#[ignore = "needs root"]
fn an_unprivileged_user_runs_through_a_user_namespace() {
    need_root!();
    // The build tree may sit in a directory only root can enter (/root): the user gets
    // its own copies of syscage and the root file system in a world-readable place.
    let dir = std::env::temp_dir().join(format!("syscage-nobody-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let st = std::process::Command::new("cp")
        .arg("-a")
        .arg(syscage())
        .arg(rootfs())
        .arg(&dir)
        .status()
        .unwrap();
    assert!(st.success());
    std::fs::set_permissions(&dir, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
    let bin = dir.join("syscage");
    let syscage = || bin.to_str().unwrap();
    let root = dir.join("rootfs").to_str().unwrap().to_string();
    let out = std::process::Command::new("setpriv")
        .args([
            "--reuid=65534",
            "--regid=65534",
            "--clear-groups",
            syscage(),
            "run",
            "--rootfs",
            &root,
            "--tmpfs",
            "/tmp",
            "--",
            "/bin/sh",
            "-c",
            "id -u; cat /proc/self/uid_map; grep Seccomp: /proc/self/status",
        ])
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stdout}{stderr}");
    let l: Vec<&str> = stdout.lines().collect();
    assert_eq!(l[0], "0");
    assert_eq!(
        l[1].split_whitespace().collect::<Vec<_>>(),
        vec!["0", "65534", "1"]
    );
    assert_eq!(l[2], "Seccomp:\t2");
    // Limits need a cgroup, which this user cannot make: a clear refusal.
    let out = std::process::Command::new("setpriv")
        .args([
            "--reuid=65534",
            "--regid=65534",
            "--clear-groups",
            syscage(),
            "run",
            "--rootfs",
            &root,
            "--memory",
            "64m",
            "--",
            "/bin/true",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(125));
    let err = String::from_utf8_lossy(&out.stderr);
    let memory = syscage_runtime::cgroup::Layout::detect()
        .unwrap()
        .find(syscage_runtime::cgroup::Controller::Memory)
        .expect("a memory controller")
        .path()
        .join("syscage");
    assert!(
        err.starts_with(&format!(
            "syscage: --memory: cannot create cgroup `{}",
            memory.display()
        )),
        "{err}"
    );
    // No systemd here: the hint names only what can work on this machine.
    let systemd = std::path::Path::new("/run/systemd/system").is_dir();
    assert!(err.contains("hint: cgroup limits need root"), "{err}");
    assert_eq!(err.contains("systemd-run"), systemd, "{err}");
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
#[ignore = "needs root"]
fn descriptors_syscage_inherits_stay_outside() {
    need_root!();
    use std::os::fd::AsRawFd;
    use std::os::unix::process::CommandExt;
    // fd 7: the host's `/`, which a command could fchdir into and climb out of its root.
    let host_root = std::fs::File::open("/").unwrap();
    let fd = host_root.as_raw_fd();
    let root = rootfs().to_str().unwrap().to_string();
    let mut cmd = std::process::Command::new(syscage());
    cmd.args(["run", "--rootfs", &root, "--", "/bin/ls", "/proc/self/fd"]);
    // SAFETY: dup2 is async-signal-safe; the copy has no FD_CLOEXEC.
    unsafe {
        cmd.pre_exec(move || {
            if libc::dup2(fd, 7) < 0 {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        });
    }
    let out = cmd.output().unwrap();
    assert_eq!(
        (
            out.status.code(),
            String::from_utf8_lossy(&out.stdout).as_ref()
        ),
        // 3 is ls's own handle on the directory.
        (Some(0), "0\n1\n2\n3\n")
    );
}

#[test]
#[ignore = "needs root"]
fn a_symlink_chain_in_the_root_file_system_is_refused_past_40_links() {
    need_root!();
    let dir = std::env::temp_dir().join(format!("syscage-links-{}", std::process::id()));
    let root = dir.join("root");
    for d in ["proc", "dev", "sys", "tmp", "l41"] {
        std::fs::create_dir_all(root.join(d)).unwrap();
    }
    // /l0 -> /l1 -> ... -> /l41 (a directory): 41 links from /l0, 40 from /l1.
    for i in 0..41 {
        std::os::unix::fs::symlink(format!("/l{}", i + 1), root.join(format!("l{i}"))).unwrap();
    }
    let r = root.to_str().unwrap();
    let run = |target: &str| {
        let vol = format!("{}:{target}", dir.join("root/tmp").display());
        syscage_run(&["run", "--rootfs", r, "-v", &vol, "--", "/bin/true"])
    };
    let far = run("/l0");
    let near = run("/l1");
    std::fs::remove_dir_all(&dir).unwrap();
    assert_eq!(
        (far.code, far.stderr.as_str()),
        (
            125,
            "syscage: cannot create directory `/l0`: Too many symbolic links encountered (ELOOP); hint: a symbolic link on the way leads to nothing inside the root file system (or through more than 40 links); syscage does not create a link's target\n"
        )
    );
    // 40 links resolve (as the kernel's limit): the mount is made, and /bin/true is not
    // in this root.
    assert_eq!(
        (near.code, near.stderr.as_str()),
        (127, "syscage: cannot execute `/bin/true`: not found\n")
    );
    assert_eq!(host_mounts_with("syscage-links-"), Vec::<String>::new());
}

#[test]
#[ignore = "needs root"]
fn mount_errors_say_what_to_do() {
    need_root!();
    let dir = std::env::temp_dir().join(format!("syscage-mnt-err-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let ro = format!("{}:/tmp/ro:ro", dir.display());
    let cases: &[(&[&str], &str)] = &[
        (&["-v", "/tmp:/etc/passwd"], "syscage: cannot create directory `/etc/passwd`: Not a directory (ENOTDIR); hint: a file is in the way; a directory volume needs a directory (or mount a file)\n"),
        (&["-v", &ro, "-v", "/etc:/tmp/ro/inner"], "syscage: cannot create directory `/tmp/ro/inner`: Read-only file system (EROFS); hint: the path is inside a read-only volume; mount that one :rw or choose another path\n"),
    ];
    for (opts, want) in cases {
        let r = container(opts, &["/bin/true"]);
        assert_eq!((r.code, r.stderr.as_str()), (125, *want), "{opts:?}");
    }
    let r = syscage_run(&[
        "run",
        "-v",
        "/tmp:/no-such-dir-on-the-host",
        "--",
        "/bin/true",
    ]);
    assert_eq!(
        (r.code, r.stderr.as_str()),
        (125, "syscage: cannot bind `/tmp` on `/no-such-dir-on-the-host`: No such file or directory (ENOENT); hint: without --rootfs the host's / is the container's, read-only: mount volumes on paths that exist on the host\n")
    );
    assert_eq!(
        std::fs::read_dir(&dir).unwrap().count(),
        0,
        "nothing made in the read-only volume's source"
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

/// On a machine with only the cgroup2 mount (Debian 12's default), syscage looks there; a
/// limit whose controller the cgroup2 root does not offer is refused, naming it. Here, in a
/// private mount namespace where every v1 hierarchy is unmounted and only cgroup2 (whose
/// controllers this machine binds to v1) is left.
#[test]
#[ignore = "needs root"]
fn with_only_cgroup2_a_missing_controller_is_refused_by_name() {
    need_root!();
    let root = rootfs().to_str().unwrap().to_string();
    let script = format!(
        r#"set -e
for m in $(awk '$9 == "cgroup" {{print $5}}' /proc/self/mountinfo); do umount -l "$m"; done
awk '$9 ~ /^cgroup/ {{print $9}}' /proc/self/mountinfo | sort -u
cat "$(awk '$9 == "cgroup2" {{print $5; exit}}' /proc/self/mountinfo)/cgroup.controllers" | grep -qw memory && echo memory-in-v2 || echo no-memory-in-v2
{syscage} run --rootfs {root} --memory 64m -- /bin/true || echo "exit $?"
{syscage} run --rootfs {root} -- /bin/echo no-limit-still-runs
"#,
        syscage = syscage()
    );
    let out = std::process::Command::new("unshare")
        .args(["--mount", "--propagation", "private", "sh", "-c", &script])
        .stdin(std::process::Stdio::null())
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stdout}{stderr}");
    if stdout.lines().any(|l| l == "memory-in-v2") {
        // A machine whose cgroup2 root has the memory controller: the limit works there.
        assert_eq!(
            stdout, "cgroup2\nmemory-in-v2\nno-limit-still-runs\n",
            "{stderr}"
        );
        return;
    }
    assert_eq!(
        stdout,
        "cgroup2\nno-memory-in-v2\nexit 125\nno-limit-still-runs\n"
    );
    assert_eq!(
        stderr,
        "syscage: --memory: this machine has no `memory` cgroup controller (looked in the v1 mounts and the cgroup2 mount)\n"
    );
}
