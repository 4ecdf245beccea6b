//! podman (Debian's 4.3.1, through conmon) driving syscage as its OCI runtime: the flows
//! of docs/oci-clients.md. podman runs with its own storage, run and temporary
//! directories in a temporary place, a containers.conf with the cgroupfs manager (no
//! systemd here) and ulimits at this host's hard limits (root lacks CAP_SYS_RESOURCE),
//! `--network none`, and an image imported offline from the busybox test root. Needs
//! root and podman.

mod support;

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};
use support::*;

struct Podman {
    dir: PathBuf,
    names: Vec<String>,
}

impl Podman {
    fn new() -> Podman {
        // Short: podman refuses a run root longer than 50 characters, which cargo's
        // temporary directory exceeds for another target (target/TRIPLE/tmp).
        let dir = std::env::temp_dir().join(format!("syscage-podman-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let hard_nofile =
            nix::sys::resource::getrlimit(nix::sys::resource::Resource::RLIMIT_NOFILE)
                .map(|(_, h)| h)
                .unwrap();
        let pid_max = std::fs::read_to_string("/proc/sys/kernel/pid_max").unwrap();
        std::fs::write(
            dir.join("containers.conf"),
            format!(
                "[containers]\ndefault_ulimits = [\"nofile={hard_nofile}:{hard_nofile}\", \"nproc={0}:{0}\"]\n[engine]\ncgroup_manager = \"cgroupfs\"\nevents_logger = \"file\"\nruntime_supports_json = [\"syscage\"]\n",
                pid_max.trim()
            ),
        )
        .unwrap();
        let p = Podman { dir, names: vec![] };
        let tar = p.dir.join("rootfs.tar");
        let st = Command::new("tar")
            .arg("-C")
            .arg(rootfs())
            .args(["-cf"])
            .arg(&tar)
            .arg(".")
            .status()
            .unwrap();
        assert!(st.success());
        let r = p.run(&[
            "import",
            tar.to_str().unwrap(),
            "localhost/syscage-bb:latest",
        ]);
        assert_eq!(r.code, 0, "{r:?}");
        p
    }

    fn cmd(&self, args: &[&str]) -> Command {
        let mut c = Command::new("podman");
        c.env("CONTAINERS_CONF", self.dir.join("containers.conf"))
            .arg("--root")
            .arg(self.dir.join("storage"))
            .arg("--runroot")
            .arg(self.dir.join("run"))
            .arg("--tmpdir")
            .arg(self.dir.join("tmp"))
            .arg("--runtime")
            .arg(syscage())
            .args(args);
        c
    }

    fn run(&self, args: &[&str]) -> Run {
        let child = self
            .cmd(args)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("podman runs");
        wait_timeout(child, Duration::from_secs(120))
    }

    /// `podman run --network none --name NAME ARGS`; the name is removed at the end.
    fn container(&mut self, name: &str, args: &[&str]) -> Run {
        self.names.push(name.to_string());
        let mut a = vec!["run", "--network", "none", "--name", name];
        a.extend_from_slice(args);
        self.run(&a)
    }

    fn id(&self, name: &str) -> String {
        self.run(&["inspect", "--format", "{{.Id}}", name])
            .stdout
            .trim()
            .to_string()
    }
}

impl Drop for Podman {
    fn drop(&mut self) {
        for n in &self.names {
            let _ = self.run(&["rm", "-f", "-t", "0", n]);
        }
        let _ = self.run(&["rmi", "-af"]);
        for m in host_mounts_with(self.dir.to_str().unwrap()) {
            if let Some(p) = m.split(' ').nth(4) {
                let _ = nix::mount::umount2(p, nix::mount::MntFlags::MNT_DETACH);
            }
        }
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// What a container left: its state under /run/syscage, its cgroups.
fn leftovers(id: &str) -> Vec<String> {
    let mut out = Vec::new();
    if Path::new("/run/syscage").join(id).exists() {
        out.push(format!("state /run/syscage/{id}"));
    }
    let layout = syscage_runtime::cgroup::Layout::detect().unwrap();
    for h in &layout.hierarchies {
        let d = h.path().join("libpod_parent").join(format!("libpod-{id}"));
        if d.exists() {
            out.push(format!("cgroup {}", d.display()));
        }
    }
    out
}

fn nothing_left(id: &str) {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let l = leftovers(id);
        if l.is_empty() {
            return;
        }
        assert!(Instant::now() < deadline, "left behind: {l:?}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
#[ignore = "needs root"]
fn podman_drives_syscage() {
    if !root(module_path!()) {
        return;
    }
    if Command::new("podman").arg("--version").output().is_err() {
        skip(
            module_path!(),
            "podman is not installed (apt-get install podman)",
        );
    }
    let mut p = Podman::new();
    let img = "localhost/syscage-bb";

    // run --rm: output, exit status, a missing program (podman: 127).
    let r = p.container("p-echo", &["--rm", img, "echo", "hi"]);
    assert_eq!((r.code, r.stdout.as_str()), (0, "hi\n"), "{r:?}");
    let r = p.container("p-exit", &["--rm", img, "sh", "-c", "exit 3"]);
    assert_eq!(r.code, 3, "{r:?}");
    let r = p.container("p-missing", &["--rm", img, "/nonexistent"]);
    assert_eq!(r.code, 127, "{r:?}");
    assert!(
        r.stderr
            .contains("cannot execute `/nonexistent`: no such file or directory"),
        "{r:?}"
    );

    // -d, then exec, logs, ps, pause, update, kill, rm.
    let r = p.container(
        "p-d1",
        &["-d", img, "sh", "-c", "echo started; exec sleep 1000"],
    );
    assert_eq!(r.code, 0, "{r:?}");
    let id = p.id("p-d1");
    let r = p.run(&["exec", "p-d1", "sh", "-c", "echo in $(hostname); exit 5"]);
    assert_eq!(
        (r.code, r.stdout.as_str()),
        (5, format!("in {}\n", &id[..12]).as_str()),
        "{r:?}"
    );
    let r = p.run(&[
        "exec",
        "--user",
        "1000",
        "--workdir",
        "/tmp",
        "--env",
        "FOO=bar",
        "p-d1",
        "sh",
        "-c",
        "id -u; pwd; echo $FOO",
    ]);
    assert_eq!(
        (r.code, r.stdout.as_str()),
        (0, "1000\n/tmp\nbar\n"),
        "{r:?}"
    );
    let r = p.run(&["exec", "p-d1", "/nonexistent"]);
    assert_eq!(r.code, 127, "{r:?}");
    let r = p.run(&["logs", "p-d1"]);
    assert_eq!(r.stdout, "started\n", "{r:?}");
    let r = p.run(&[
        "ps",
        "--format",
        "{{.Names}} {{.Status}}",
        "--filter",
        "name=p-d1",
    ]);
    assert!(r.stdout.starts_with("p-d1 Up "), "{r:?}");
    assert_eq!(p.run(&["pause", "p-d1"]).code, 0);
    let r = p.run(&["inspect", "--format", "{{.State.Status}}", "p-d1"]);
    assert_eq!(r.stdout, "paused\n");
    assert_eq!(p.run(&["unpause", "p-d1"]).code, 0);
    let r = p.run(&["update", "--memory", "128m", "p-d1"]);
    assert_eq!(r.code, 0, "{r:?}");
    let r = p.run(&[
        "exec",
        "p-d1",
        "cat",
        "/sys/fs/cgroup/memory/memory.limit_in_bytes",
    ]);
    assert_eq!(r.stdout, "134217728\n", "{r:?}");
    let r = p.run(&["kill", "p-d1"]);
    assert_eq!(r.code, 0, "{r:?}");
    let r = p.run(&["wait", "p-d1"]);
    assert_eq!(r.stdout, "137\n", "{r:?}");
    assert_eq!(p.run(&["rm", "p-d1"]).code, 0);
    nothing_left(&id);

    // stop (the TERM a pid 1 ignores, then KILL), rm -f of a running container.
    p.container("p-stop", &["-d", img, "sleep", "1000"]);
    let id = p.id("p-stop");
    let r = p.run(&["stop", "-t", "1", "p-stop"]);
    assert_eq!(r.code, 0, "{r:?}");
    assert_eq!(p.run(&["rm", "p-stop"]).code, 0);
    nothing_left(&id);
    p.container("p-rmf", &["-d", img, "sleep", "1000"]);
    let id = p.id("p-rmf");
    let r = p.run(&["rm", "-f", "-t", "0", "p-rmf"]);
    assert_eq!(r.code, 0, "{r:?}");
    nothing_left(&id);

    // -it: the console socket (under `script`, which gives podman a terminal), both ways.
    // The program first reads a line: what a program writes in its first milliseconds can
    // be lost under podman 4.3 (conmon has not yet taken podman's attach connection when
    // a fast runtime's `start` has already let the program run: 3 runs in 10 here, 0 with
    // runc, whose `start` is slower); input comes only through that connection.
    let cmdline = format!(
        "CONTAINERS_CONF={} podman --root {} --runroot {} --tmpdir {} --runtime {} run -it --rm --network none --name p-it {img} sh -c 'read x; echo got $x; tty; exit 6'",
        p.dir.join("containers.conf").display(),
        p.dir.join("storage").display(),
        p.dir.join("run").display(),
        p.dir.join("tmp").display(),
        syscage()
    );
    p.names.push("p-it".into());
    let mut child = Command::new("script")
        .args(["-qec", &cmdline, "/dev/null"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    {
        use std::io::Write;
        let mut input = child.stdin.take().unwrap();
        input.write_all(b"go\n").unwrap();
    }
    let r = wait_timeout(child, Duration::from_secs(120));
    assert_eq!(r.code, 6, "{r:?}");
    assert!(r.stdout.contains("got go\r\n/dev/pts/0\r\n"), "{r:?}");

    // Limits, capabilities, a read-only root, a volume, a user, a seccomp file.
    let vol = p.dir.join("vol");
    std::fs::create_dir_all(&vol).unwrap();
    std::fs::write(vol.join("f"), "data\n").unwrap();
    let deny = p.dir.join("deny-mkdir.json");
    std::fs::write(
        &deny,
        r#"{"defaultAction": "SCMP_ACT_ALLOW", "architectures": ["SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32"],
            "syscalls": [{"names": ["mkdir", "mkdirat"], "action": "SCMP_ACT_ERRNO", "errnoRet": 1}]}"#,
    )
    .unwrap();
    let v = format!("{}:/data:ro", vol.display());
    let so = format!("seccomp={}", deny.display());
    let r = p.container(
        "p-opts",
        &[
            "--rm", "--memory", "64m", "--pids-limit", "100", "--cap-add", "SYS_PTRACE",
            "--cap-drop", "NET_RAW", "--read-only", "-v", &v, "--user", "1000:1000",
            "--security-opt", &so, img, "sh", "-c",
            "id -u; cat /data/f; mkdir /tmp/x 2>/dev/null; echo mkdir=$?; touch /x 2>/dev/null; echo touch=$?; cat /sys/fs/cgroup/memory/memory.limit_in_bytes /sys/fs/cgroup/pids/pids.max; grep -E '^(CapEff|CapBnd|Seccomp):' /proc/self/status",
        ],
    );
    assert_eq!(r.code, 0, "{r:?}");
    assert_eq!(
        r.stdout,
        // SYS_PTRACE (19) effective for user 1000 (ambient); NET_RAW (13) out of the
        // bounding set; mkdir denied by the profile's EPERM; the root read-only.
        "1000\ndata\nmkdir=1\ntouch=1\n67108864\n100\nCapEff:\t0000000000080000\nCapBnd:\t00000000a80c05fb\nSeccomp:\t2\n",
        "{r:?}"
    );

    // podman's own default profile: userfaultfd is one of its EPERM rules; io_uring_setup
    // is not listed, so its default action answers, ENOSYS (38), where this kernel has
    // the call.
    let r = p.container(
        "p-default",
        &[
            "--rm",
            img,
            "sh",
            "-c",
            "grep Seccomp: /proc/self/status; /probe userfaultfd; /probe io_uring_setup",
        ],
    );
    assert_eq!(
        r.stdout,
        "Seccomp:\t2\nuserfaultfd: blocked errno=1 (EPERM)\nio_uring_setup: blocked errno=38 (ENOSYS)\n",
        "{r:?}"
    );

    // The report annotation, with podman's own default profile and no agent of one's own:
    // syscage starts one for the container; its report is complete once `run --rm`
    // returned (podman's `delete` waits for it), and the program's answer is the profile's.
    let out = p.dir.join("reports");
    std::fs::create_dir_all(&out).unwrap();
    let flag = format!("annotation-dir={}", out.display());
    let plain = p.run(&["run", "--rm", "--network", "none", img, "/probe", "add_key"]);
    assert!(
        plain.code == 0 && plain.stdout.starts_with("add_key: blocked errno="),
        "{plain:?}"
    );
    let ann = format!("run.syscage.report={}/{{id}}.jsonl", out.display());
    let r = p.run(&[
        "--runtime-flag",
        &flag,
        "run",
        "--rm",
        "--network",
        "none",
        "--annotation",
        &ann,
        img,
        "/probe",
        "add_key",
    ]);
    assert_eq!((r.code, &r.stdout), (0, &plain.stdout), "{r:?}");
    let reports: Vec<PathBuf> = std::fs::read_dir(&out)
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .collect();
    assert_eq!(reports.len(), 1, "{reports:?}");
    let name = reports[0]
        .file_name()
        .unwrap()
        .to_string_lossy()
        .into_owned();
    assert!(
        name.len() == 64 + 6 && name.ends_with(".jsonl"),
        "named by the container's id: {name}"
    );
    let events: Vec<serde_json::Value> = std::fs::read_to_string(&reports[0])
        .unwrap()
        .lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .filter(|v| v.get("syscall").is_some())
        .collect();
    assert_eq!(events.len(), 1, "{events:?}");
    assert_eq!(events[0]["syscall"], "add_key");
    let errno = plain.stdout.split(['(', ')']).nth(1).unwrap();
    assert_eq!(events[0]["action"], format!("ERRNO({errno})"));

    // No syscage process stays behind any of them.
    let stray: Vec<String> = stray_processes(syscage())
        .into_iter()
        .filter(|l| l.contains(&p.dir.display().to_string()))
        .collect();
    assert!(stray.is_empty(), "{stray:?}");
}
