//! containerd (Debian's 1.6) driving syscage through its `io.containerd.runc.v2` shim,
//! the path Kubernetes takes through CRI: `ctr run --runtime io.containerd.runc.v2
//! --runc-binary syscage`. The test starts its own containerd (config, root, state and
//! sockets in a temporary directory, CRI off) and imports the busybox test root as an
//! image offline. The shim still keeps the runtime's state in
//! `/run/containerd/runc/NAMESPACE`, which syscage makes when missing. Needs root and
//! containerd.

mod support;

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};
use support::*;

struct Containerd {
    dir: PathBuf,
    daemon: Child,
    ns: String,
}

impl Containerd {
    fn start() -> Containerd {
        // Short: podman refuses a run root longer than 50 characters, which cargo's
        // temporary directory exceeds for another target (target/TRIPLE/tmp).
        let dir = std::env::temp_dir().join(format!("syscage-containerd-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let d = dir.display();
        std::fs::write(
            dir.join("config.toml"),
            format!(
                "version = 2\nroot = \"{d}/root\"\nstate = \"{d}/state\"\n[grpc]\n  address = \"{d}/sock\"\n[ttrpc]\n  address = \"{d}/sock.ttrpc\"\n[debug]\n  address = \"{d}/debug.sock\"\n[metrics]\n  address = \"\"\n[plugins]\n  [plugins.\"io.containerd.grpc.v1.cri\"]\n    disable = true\n  [plugins.\"io.containerd.internal.v1.opt\"]\n    path = \"{d}/opt\"\n"
            ),
        )
        .unwrap();
        let log = std::fs::File::create(dir.join("containerd.log")).unwrap();
        let daemon = Command::new("containerd")
            .arg("--config")
            .arg(dir.join("config.toml"))
            .stdin(Stdio::null())
            .stdout(log.try_clone().unwrap())
            .stderr(log)
            .spawn()
            .expect("containerd runs");
        let c = Containerd {
            dir,
            daemon,
            ns: format!("syscage-test-{}", std::process::id()),
        };
        let deadline = Instant::now() + Duration::from_secs(30);
        while !c.dir.join("sock").exists() {
            assert!(Instant::now() < deadline, "containerd did not start");
            std::thread::sleep(Duration::from_millis(20));
        }
        c
    }

    fn ctr(&self, args: &[&str]) -> Run {
        let child = Command::new("ctr")
            .arg("-a")
            .arg(self.dir.join("sock"))
            .arg("-n")
            .arg(&self.ns)
            .args(args)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        wait_timeout(child, Duration::from_secs(120))
    }

    /// `ctr run --runtime io.containerd.runc.v2 --runc-binary syscage ARGS`.
    fn run(&self, args: &[&str]) -> Run {
        let mut a = vec![
            "run",
            "--runtime",
            "io.containerd.runc.v2",
            "--runc-binary",
            syscage(),
        ];
        a.extend_from_slice(args);
        self.ctr(&a)
    }

    fn status(&self, task: &str) -> String {
        let r = self.ctr(&["task", "ls"]);
        r.stdout
            .lines()
            .find(|l| l.split_whitespace().next() == Some(task))
            .and_then(|l| l.split_whitespace().nth(2))
            .unwrap_or("")
            .to_string()
    }

    fn runtime_root(&self) -> PathBuf {
        Path::new("/run/containerd/runc").join(&self.ns)
    }
}

impl Drop for Containerd {
    fn drop(&mut self) {
        let _ = self.daemon.kill();
        let _ = self.daemon.wait();
        for m in host_mounts_with(self.dir.to_str().unwrap()) {
            if let Some(p) = m.split(' ').nth(4) {
                let _ = nix::mount::umount2(p, nix::mount::MntFlags::MNT_DETACH);
            }
        }
        let _ = std::fs::remove_dir_all(&self.dir);
        let _ = std::fs::remove_dir(self.runtime_root());
        if let Ok(layout) = syscage_runtime::cgroup::Layout::detect() {
            for h in &layout.hierarchies {
                let _ = std::fs::remove_dir(h.path().join(&self.ns));
            }
        }
    }
}

fn until(what: &str, f: impl Fn() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(20);
    while !f() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// The container's state directory and cgroups are gone.
fn nothing_left(c: &Containerd, id: &str) {
    let layout = syscage_runtime::cgroup::Layout::detect().unwrap();
    until(&format!("{id} to leave nothing"), || {
        !c.runtime_root().join(id).exists()
            && layout
                .hierarchies
                .iter()
                .all(|h| !h.path().join(&c.ns).join(id).exists())
    });
}

#[test]
#[ignore = "needs root"]
fn containerd_drives_syscage_through_the_runc_v2_shim() {
    if !root(module_path!()) {
        return;
    }
    if Command::new("containerd")
        .arg("--version")
        .output()
        .is_err()
    {
        skip(
            module_path!(),
            "containerd is not installed (apt-get install containerd)",
        );
    }
    // The image: the test root through podman's OCI archive, as docs/oci-clients.md
    // makes it (ctr imports OCI archives, not plain tars).
    let c = Containerd::start();
    let tar = c.dir.join("rootfs.tar");
    let archive = c.dir.join("bb-oci.tar");
    assert!(Command::new("tar")
        .arg("-C")
        .arg(rootfs())
        .arg("-cf")
        .arg(&tar)
        .arg(".")
        .status()
        .unwrap()
        .success());
    let pod = |args: &[&str]| {
        Command::new("podman")
            .arg("--root")
            .arg(c.dir.join("pstore"))
            .arg("--runroot")
            .arg(c.dir.join("prun"))
            .args(args)
            .output()
            .unwrap()
    };
    assert!(
        pod(&["import", tar.to_str().unwrap(), "localhost/bb:latest"])
            .status
            .success()
    );
    assert!(pod(&[
        "save",
        "--format",
        "oci-archive",
        "-o",
        archive.to_str().unwrap(),
        "localhost/bb:latest"
    ])
    .status
    .success());
    let _ = pod(&["rmi", "-af"]);
    let r = c.ctr(&[
        "image",
        "import",
        "--base-name",
        "localhost/bb",
        archive.to_str().unwrap(),
    ]);
    assert_eq!(r.code, 0, "{r:?}");
    let img = "localhost/bb:latest";

    // run --rm: output, status, a missing program.
    let r = c.run(&["--rm", img, "c1", "echo", "hi"]);
    assert_eq!((r.code, r.stdout.as_str()), (0, "hi\n"), "{r:?}");
    let r = c.run(&["--rm", img, "c2", "sh", "-c", "exit 9"]);
    assert_eq!(r.code, 9, "{r:?}");
    let r = c.run(&["--rm", img, "c3", "/nonexistent"]);
    assert_eq!(r.code, 1, "{r:?}");
    assert!(
        r.stderr.contains("OCI runtime create failed: cannot execute `/nonexistent`: no such file or directory: unknown"),
        "the shim read syscage's JSON log: {r:?}"
    );
    let _ = c.ctr(&["container", "rm", "c3"]);
    nothing_left(&c, "c3");

    // -d, exec, exec -t, ps, pause, resume, kill, kill of a stopped task, delete.
    let r = c.run(&[
        "-d",
        "--memory-limit",
        "67108864",
        img,
        "c4",
        "sleep",
        "1000",
    ]);
    assert_eq!(r.code, 0, "{r:?}");
    // The memory cgroup the shim reads for OOM events and metrics is the container's.
    let mem = syscage_runtime::cgroup::Layout::detect()
        .unwrap()
        .find(syscage_runtime::cgroup::Controller::Memory)
        .map(|h| h.path().join(&c.ns).join("c4"))
        .unwrap();
    let limit = if mem.join("memory.max").exists() {
        mem.join("memory.max")
    } else {
        mem.join("memory.limit_in_bytes")
    };
    assert_eq!(std::fs::read_to_string(limit).unwrap(), "67108864\n");
    let r = c.ctr(&[
        "task",
        "exec",
        "--exec-id",
        "e1",
        "c4",
        "sh",
        "-c",
        "echo in; exit 3",
    ]);
    assert_eq!((r.code, r.stdout.as_str()), (3, "in\n"), "{r:?}");
    let cmdline = format!(
        "ctr -a {} -n {} task exec -t --exec-id e2 c4 sh -c 'tty; exit 2'",
        c.dir.join("sock").display(),
        c.ns
    );
    let child = Command::new("script")
        .args(["-qec", &cmdline, "/dev/null"])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let r = wait_timeout(child, Duration::from_secs(60));
    assert_eq!(r.code, 2, "{r:?}");
    assert!(r.stdout.contains("/dev/pts/"), "{r:?}");
    let r = c.ctr(&["task", "exec", "--exec-id", "e3", "c4", "/nonexistent"]);
    assert_eq!(r.code, 1, "{r:?}");
    let r = c.ctr(&["task", "ps", "c4"]);
    assert_eq!(r.code, 0, "{r:?}");
    assert_eq!(r.stdout.lines().count(), 2, "one process: {r:?}");
    assert_eq!(c.ctr(&["task", "pause", "c4"]).code, 0);
    assert_eq!(c.status("c4"), "PAUSED");
    assert_eq!(c.ctr(&["task", "resume", "c4"]).code, 0);
    assert_eq!(c.status("c4"), "RUNNING");
    assert_eq!(c.ctr(&["task", "kill", "-s", "SIGKILL", "c4"]).code, 0);
    until("c4 to stop", || c.status("c4") == "STOPPED");
    // The shim turns `container not running` into "process already finished".
    let r = c.ctr(&["task", "kill", "c4"]);
    assert!(r.stderr.contains("process already finished"), "{r:?}");
    assert_eq!(c.ctr(&["task", "delete", "c4"]).code, 0);
    assert_eq!(c.ctr(&["container", "delete", "c4"]).code, 0);
    nothing_left(&c, "c4");

    // kill -a, delete -f of a running task.
    c.run(&["-d", img, "c5", "sh", "-c", "sleep 1000 & sleep 1000"]);
    assert_eq!(
        c.ctr(&["task", "kill", "-a", "-s", "SIGKILL", "c5"]).code,
        0
    );
    until("c5 to stop", || c.status("c5") == "STOPPED");
    c.ctr(&["task", "delete", "c5"]);
    c.ctr(&["container", "delete", "c5"]);
    nothing_left(&c, "c5");
    c.run(&["-d", img, "c6", "sleep", "1000"]);
    let r = c.ctr(&["task", "delete", "-f", "c6"]);
    assert_eq!(r.code, 0, "{r:?}");
    c.ctr(&["container", "delete", "c6"]);
    nothing_left(&c, "c6");

    // A terminal for the task itself.
    let cmdline = format!(
        "ctr -a {} -n {} run --runtime io.containerd.runc.v2 --runc-binary {} --rm -t {img} c7 sh -c 'tty; exit 7'",
        c.dir.join("sock").display(),
        c.ns,
        syscage()
    );
    let child = Command::new("script")
        .args(["-qec", &cmdline, "/dev/null"])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let r = wait_timeout(child, Duration::from_secs(60));
    assert_eq!(r.code, 7, "{r:?}");
    assert!(r.stdout.contains("/dev/pts/0"), "{r:?}");
    nothing_left(&c, "c7");

    // Options: containerd's default seccomp profile, capabilities, a read-only bind
    // mount, environment, working directory, read-only root.
    let vol = c.dir.join("vol");
    std::fs::create_dir_all(&vol).unwrap();
    std::fs::write(vol.join("f"), "data\n").unwrap();
    let mount = format!("type=bind,src={},dst=/data,options=rbind:ro", vol.display());
    let r = c.run(&[
        "--rm", "--seccomp", "--cap-add", "CAP_SYS_PTRACE",
        "--cap-drop", "CAP_NET_RAW", "--mount", &mount, "--env", "A=b", "--cwd", "/tmp",
        "--read-only", img, "c8", "sh", "-c",
        "pwd; echo $A; cat /data/f; touch /data/x 2>/dev/null; echo touch=$?; grep -E '^(CapBnd|Seccomp):' /proc/self/status; /probe userfaultfd",
    ]);
    assert_eq!(r.code, 0, "{r:?}");
    assert_eq!(
        r.stdout,
        "/tmp\nb\ndata\ntouch=1\nCapBnd:\t00000000a80c05fb\nSeccomp:\t2\nuserfaultfd: blocked errno=1 (EPERM)\n",
        "{r:?}"
    );
    nothing_left(&c, "c8");
}
