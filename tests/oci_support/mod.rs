//! Bundles for syscage as an OCI runtime: a `config.json` like the one containerd's
//! shim writes (docs/oci-clients.md, section 5) over the shared busybox root, a state
//! root per test, and the test process as a child subreaper, as conmon and the shim are:
//! the container's process becomes its child once `create` exits, and its exit status
//! is read with waitpid.
#![allow(dead_code)]

use crate::support::*;
use serde_json::{json, Value};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

pub const DOCKER_CAPS: &[&str] = &[
    "CAP_CHOWN",
    "CAP_DAC_OVERRIDE",
    "CAP_FSETID",
    "CAP_FOWNER",
    "CAP_MKNOD",
    "CAP_NET_RAW",
    "CAP_SETGID",
    "CAP_SETUID",
    "CAP_SETFCAP",
    "CAP_SETPCAP",
    "CAP_NET_BIND_SERVICE",
    "CAP_SYS_CHROOT",
    "CAP_KILL",
    "CAP_AUDIT_WRITE",
];

/// The test process adopts orphans, as conmon and containerd's shim do.
pub fn subreaper() {
    nix::sys::prctl::set_child_subreaper(true).expect("PR_SET_CHILD_SUBREAPER");
}

/// A bundle and its own state root, removed (with any container left) when dropped.
pub struct Bundle {
    pub dir: PathBuf,
    pub root: PathBuf,
    pub name: String,
}

pub fn base_config(name: &str, args: &[&str]) -> Value {
    json!({
        "ociVersion": "1.0.2-dev",
        "process": {
            "terminal": false,
            "user": {"uid": 0, "gid": 0},
            "args": args,
            "env": ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"],
            "cwd": "/",
            "capabilities": {
                "bounding": DOCKER_CAPS, "effective": DOCKER_CAPS, "permitted": DOCKER_CAPS
            },
            "rlimits": [{"type": "RLIMIT_NOFILE", "hard": 1024, "soft": 1024}],
            "noNewPrivileges": true
        },
        "root": {"path": rootfs().to_str().unwrap(), "readonly": true},
        "hostname": name,
        "mounts": [
            {"destination": "/proc", "type": "proc", "source": "proc", "options": ["nosuid", "noexec", "nodev"]},
            {"destination": "/dev", "type": "tmpfs", "source": "tmpfs", "options": ["nosuid", "strictatime", "mode=755", "size=65536k"]},
            {"destination": "/dev/pts", "type": "devpts", "source": "devpts", "options": ["nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620", "gid=5"]},
            {"destination": "/dev/shm", "type": "tmpfs", "source": "shm", "options": ["nosuid", "noexec", "nodev", "mode=1777", "size=65536k"]},
            {"destination": "/dev/mqueue", "type": "mqueue", "source": "mqueue", "options": ["nosuid", "noexec", "nodev"]},
            {"destination": "/sys", "type": "sysfs", "source": "sysfs", "options": ["nosuid", "noexec", "nodev", "ro"]},
            {"destination": "/tmp", "type": "tmpfs", "source": "tmpfs", "options": ["nosuid", "nodev", "mode=1777"]}
        ],
        "linux": {
            "resources": {"devices": [{"allow": false, "access": "rwm"}]},
            "cgroupsPath": format!("/syscage-test/{name}"),
            "namespaces": [{"type": "pid"}, {"type": "ipc"}, {"type": "uts"}, {"type": "mount"}, {"type": "network"}],
            "maskedPaths": ["/proc/kcore", "/proc/keys", "/proc/timer_list", "/sys/firmware"],
            "readonlyPaths": ["/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger"]
        }
    })
}

impl Bundle {
    /// A bundle running `args`, its configuration changed by `edit`.
    pub fn new(test: &str, args: &[&str], edit: impl FnOnce(&mut Value)) -> Bundle {
        let name = format!("{test}-{}", std::process::id());
        let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR"))
            .join("oci")
            .join(&name);
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let mut c = base_config(&name, args);
        edit(&mut c);
        std::fs::write(
            dir.join("config.json"),
            serde_json::to_string_pretty(&c).unwrap(),
        )
        .unwrap();
        let root = dir.join("state");
        Bundle { dir, root, name }
    }

    pub fn path(&self, p: &str) -> PathBuf {
        self.dir.join(p)
    }

    fn args<'a>(&'a self, args: &[&'a str]) -> Vec<String> {
        let mut v = vec!["--root".to_string(), self.root.display().to_string()];
        v.extend(args.iter().map(|s| s.to_string()));
        v
    }

    /// `syscage --root STATE ARGS`, output captured.
    pub fn oci(&self, args: &[&str]) -> Run {
        let child = Command::new(syscage())
            .args(self.args(args))
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn syscage");
        wait_timeout(child, Duration::from_secs(60))
    }

    /// `create` with the container's stdout and stderr going to `out` and `err` in the
    /// bundle (the client's pipes in real use); the container's pid.
    pub fn create(&self, id: &str, extra: &[&str]) -> (Run, Option<i32>) {
        self.create_with(&[], id, extra)
    }

    /// `create` with global options (`--annotation-dir DIR`, `--log FILE`) before it.
    pub fn create_with(&self, global: &[&str], id: &str, extra: &[&str]) -> (Run, Option<i32>) {
        let pid_file = self.path(&format!("{id}.pid"));
        let out = std::fs::File::create(self.path(&format!("{id}.out"))).unwrap();
        let err = std::fs::File::create(self.path(&format!("{id}.err"))).unwrap();
        let mut args = vec![
            "create".to_string(),
            "--bundle".into(),
            self.dir.display().to_string(),
            "--pid-file".into(),
            pid_file.display().to_string(),
        ];
        args.extend(extra.iter().map(|s| s.to_string()));
        args.push(id.into());
        let mut all = vec!["--root".to_string(), self.root.display().to_string()];
        all.extend(global.iter().map(|s| s.to_string()));
        all.extend(args);
        let out2 = out.try_clone().unwrap();
        let status = Command::new(syscage())
            .args(&all)
            .stdin(Stdio::null())
            .stdout(out2)
            .stderr(Stdio::from(err))
            .status()
            .expect("run syscage create");
        drop(out);
        let r = Run {
            code: status.code().unwrap_or(-1),
            stdout: std::fs::read_to_string(self.path(&format!("{id}.out"))).unwrap_or_default(),
            stderr: std::fs::read_to_string(self.path(&format!("{id}.err"))).unwrap_or_default(),
        };
        let pid = std::fs::read_to_string(&pid_file)
            .ok()
            .and_then(|p| p.parse().ok());
        (r, pid)
    }

    /// What the container wrote on its stdout so far.
    pub fn output(&self, id: &str) -> String {
        std::fs::read_to_string(self.path(&format!("{id}.out"))).unwrap_or_default()
    }

    /// The `status` of `state ID`.
    pub fn status(&self, id: &str) -> String {
        let r = self.oci(&["state", id]);
        assert_eq!(r.code, 0, "{r:?}");
        let v: Value = serde_json::from_str(&r.stdout).unwrap();
        v["status"].as_str().unwrap().to_string()
    }

    /// The container's cgroup directories on this host.
    pub fn cgroups(&self) -> Vec<PathBuf> {
        let layout = syscage_runtime::cgroup::Layout::detect().unwrap();
        layout
            .hierarchies
            .iter()
            .map(|h| h.path().join("syscage-test").join(&self.name))
            .filter(|p| p.exists())
            .collect()
    }
}

impl Drop for Bundle {
    fn drop(&mut self) {
        if let Ok(ids) = std::fs::read_dir(&self.root) {
            for e in ids.flatten() {
                let id = e.file_name().to_string_lossy().into_owned();
                let _ = self.oci(&["delete", "--force", &id]);
            }
        }
        for d in self.cgroups() {
            let _ = std::fs::remove_dir(d);
        }
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// Waits for child `pid` (the test is its subreaper) for at most `limit`; its wait
/// status as an exit code (128+N for signal N).
pub fn reap(pid: i32, limit: Duration) -> i32 {
    use nix::sys::wait::{waitpid, WaitPidFlag, WaitStatus};
    let deadline = Instant::now() + limit;
    loop {
        match waitpid(nix::unistd::Pid::from_raw(pid), Some(WaitPidFlag::WNOHANG)) {
            Ok(WaitStatus::Exited(_, c)) => return c,
            Ok(WaitStatus::Signaled(_, s, _)) => return 128 + s as i32,
            Ok(_) => {}
            Err(e) => panic!("waitpid {pid}: {e}"),
        }
        assert!(
            Instant::now() < deadline,
            "pid {pid} did not exit in {limit:?}"
        );
        std::thread::sleep(Duration::from_millis(5));
    }
}

/// Waits until `f` holds (at most 10 s).
pub fn until(what: &str, f: impl Fn() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(10);
    while !f() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(5));
    }
}

/// The parent pid of `pid` (field 4 of its stat).
pub fn ppid(pid: i32) -> i32 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    stat.rsplit_once(')')
        .and_then(|(_, r)| r.split_whitespace().nth(1))
        .and_then(|p| p.parse().ok())
        .unwrap_or(0)
}

pub fn exists(p: &Path) -> bool {
    p.exists()
}

impl Bundle {
    /// create, start, wait, delete: the container's exit status and output (stdout,
    /// then stderr). Nothing may be left afterwards.
    pub fn run_container(&self, id: &str) -> (i32, String) {
        let (r, pid) = self.create(id, &[]);
        assert_eq!(r.code, 0, "create: {r:?}");
        let pid = pid.expect("pid file");
        let s = self.oci(&["start", id]);
        assert_eq!(s.code, 0, "start: {s:?}");
        let code = reap(pid, Duration::from_secs(30));
        let d = self.oci(&["delete", id]);
        assert_eq!(d.code, 0, "delete: {d:?}");
        let out = self.output(id)
            + &std::fs::read_to_string(self.path(&format!("{id}.err"))).unwrap_or_default();
        (code, out)
    }
}
