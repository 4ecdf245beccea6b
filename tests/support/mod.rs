//! Shared pieces of the end-to-end tests: the syscage binary, a busybox root file system
//! built from Debian's `busybox-static`, the probe program compiled with `gcc -static`,
//! and running containers with a timeout.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

pub fn syscage() -> &'static str {
    env!("CARGO_BIN_EXE_syscage")
}

/// The end-to-end tests need root: each is marked `#[ignore = "needs root"]`, so that
/// without root the test runner counts it as ignored, with that reason, and
/// `scripts/test.sh` adds `--include-ignored` when it runs as root. One run anyway
/// (`--include-ignored` without root) fails here rather than pass without testing.
/// Returns from the test (counted as skipped, with its reason) unless it runs as root;
/// `need_root!(subreaper)` also makes the test process adopt orphans, as conmon and
/// containerd's shim do (the OCI tests).
#[allow(unused_macros)]
macro_rules! need_root {
    () => {
        if !$crate::support::root(module_path!()) {
            return;
        }
    };
    (subreaper) => {
        $crate::support::need_root!();
        nix::sys::prctl::set_child_subreaper(true).expect("PR_SET_CHILD_SUBREAPER");
    };
}
#[allow(unused_imports)]
pub(crate) use need_root;

pub fn root(test: &str) -> bool {
    if !nix::unistd::geteuid().is_root() {
        skip(test, "it needs root");
    }
    true
}

/// Whether the running kernel is at least `major.minor`.
pub fn kernel_at_least(major: u32, minor: u32) -> bool {
    let release = nix::sys::utsname::uname()
        .map(|u| u.release().to_string_lossy().into_owned())
        .unwrap_or_default();
    let mut it = release
        .split(|c: char| !c.is_ascii_digit())
        .filter_map(|p| p.parse::<u32>().ok());
    (it.next().unwrap_or(0), it.next().unwrap_or(0)) >= (major, minor)
}

/// What a probe of a call the profile allows answers: `ok` on a kernel that has the call
/// (it came in `major.minor`), ENOSYS from the kernel on an older one.
pub fn ok_since(major: u32, minor: u32) -> &'static str {
    if kernel_at_least(major, minor) {
        "ok"
    } else {
        "blocked errno=38 (ENOSYS)"
    }
}

/// A test that cannot run here fails, naming why: it is never counted as passed. (Tests
/// that need root are ignored before they start; see [`root`].)
pub fn skip(test: &str, why: &str) -> ! {
    panic!("{test} cannot run: {why} (scripts/test.sh installs what the tests use; run it as root: sudo -E env \"PATH=$PATH\" ./scripts/test.sh)");
}

/// Where the probe and the test root file system are built: cargo's temporary directory,
/// except as root, where files made there would belong to root inside the user's `target/`
/// (and `cargo clean` would then fail for that user): a directory of the system's temporary
/// directory instead, one per checkout.
fn tmpdir() -> PathBuf {
    if !nix::unistd::geteuid().is_root() {
        return PathBuf::from(env!("CARGO_TARGET_TMPDIR"));
    }
    let key = env!("CARGO_MANIFEST_DIR")
        .bytes()
        .fold(0xcbf2_9ce4_8422_2325u64, |h, b| {
            (h ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3)
        });
    let dir = std::env::temp_dir().join(format!("syscage-tests-{key:016x}"));
    std::fs::create_dir_all(&dir).expect("the tests' scratch directory");
    dir
}

/// Builds the probe program once per test run.
pub fn probe() -> &'static Path {
    static P: OnceLock<PathBuf> = OnceLock::new();
    P.get_or_init(|| {
        let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/probes/probe.c");
        let out = tmpdir().join("probe");
        let fresh = match (std::fs::metadata(&src), std::fs::metadata(&out)) {
            (Ok(s), Ok(o)) => o.modified().ok() >= s.modified().ok(),
            _ => false,
        };
        if !fresh {
            let tmp = tmpdir().join(format!("probe.{}", std::process::id()));
            let st = Command::new("gcc")
                .args(["-static", "-O2", "-pthread", "-Wall", "-o"])
                .arg(&tmp)
                .arg(&src)
                .status()
                .expect("gcc runs (install gcc and libc6-dev)");
            assert!(st.success(), "probe.c compiles");
            std::fs::rename(&tmp, &out).expect("install probe");
        }
        out
    })
}

/// A busybox root file system with the probe at `/probe`, built once per test run (in a
/// temporary directory, then renamed, so parallel test binaries never see half of one).
pub fn rootfs() -> &'static Path {
    static R: OnceLock<PathBuf> = OnceLock::new();
    R.get_or_init(|| {
        let probe = probe();
        let dir = tmpdir().join("rootfs");
        let stamp = dir.join(".probe-stamp");
        let probe_time = std::fs::metadata(probe).and_then(|m| m.modified()).ok();
        if dir.join("bin/busybox").exists() && std::fs::metadata(&stamp).and_then(|m| m.modified()).ok() >= probe_time {
            return dir;
        }
        let tmp = tmpdir().join(format!("rootfs.{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&tmp);
        for d in ["bin", "etc", "tmp", "root", "home/user", "proc", "dev", "sys", "data"] {
            std::fs::create_dir_all(tmp.join(d)).expect("mkdir");
        }
        let bb = ["/bin/busybox", "/usr/bin/busybox"].into_iter().find(|p| Path::new(p).exists()).expect("busybox-static is installed");
        std::fs::copy(bb, tmp.join("bin/busybox")).expect("copy busybox");
        let list = Command::new(bb).arg("--list").output().expect("busybox --list");
        for applet in String::from_utf8_lossy(&list.stdout).lines() {
            if applet != "busybox" {
                let _ = std::os::unix::fs::symlink("busybox", tmp.join("bin").join(applet));
            }
        }
        std::fs::copy(probe, tmp.join("probe")).expect("copy probe");
        std::fs::write(tmp.join("etc/passwd"), "root:x:0:0:root:/root:/bin/sh\nuser:x:1000:1000:user:/home/user:/bin/sh\nnobody:x:65534:65534:nobody:/:/bin/false\n").unwrap();
        std::fs::write(tmp.join("etc/group"), "root:x:0:\ntty:x:5:\nuser:x:1000:\nnogroup:x:65534:\n").unwrap();
        let chmod = |p: &str, m: u32| std::fs::set_permissions(tmp.join(p), std::os::unix::fs::PermissionsExt::from_mode(m)).unwrap();
        chmod("tmp", 0o1777);
        chmod("data", 0o1777);
        let _ = nix::unistd::chown(&tmp.join("home/user"), Some(nix::unistd::Uid::from_raw(1000)), Some(nix::unistd::Gid::from_raw(1000)));
        std::fs::write(tmp.join(".probe-stamp"), b"").unwrap();
        let _ = std::fs::remove_dir_all(&dir);
        if std::fs::rename(&tmp, &dir).is_err() {
            // Another test binary won the race; use its copy.
            let _ = std::fs::remove_dir_all(&tmp);
        }
        dir
    })
}

/// A finished container.
pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Run {
    pub fn lines(&self) -> Vec<&str> {
        self.stdout.lines().collect()
    }
}

impl std::fmt::Debug for Run {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "exit {}\n--- stdout\n{}--- stderr\n{}",
            self.code, self.stdout, self.stderr
        )
    }
}

fn finish(out: Output) -> Run {
    use std::os::unix::process::ExitStatusExt;
    // syscage's own status; if syscage itself was killed by a signal, minus its number,
    // so that it never passes for the 128+N syscage reports for a killed command.
    let code = out
        .status
        .code()
        .unwrap_or_else(|| -out.status.signal().unwrap_or(0));
    Run {
        code,
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

/// Starts `syscage ARGS` with these extra environment variables, stdin empty, output
/// captured.
pub fn spawn_syscage(env: &[(&str, &str)], args: &[&str]) -> std::process::Child {
    Command::new(syscage())
        .envs(env.iter().copied())
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn syscage")
}

/// Runs `syscage ARGS` with these extra environment variables and waits (at most 60 s).
pub fn syscage_run_env(env: &[(&str, &str)], args: &[&str]) -> Run {
    wait_timeout(spawn_syscage(env, args), Duration::from_secs(60))
}

/// Runs `syscage ARGS` and waits (at most 60 s).
pub fn syscage_run(args: &[&str]) -> Run {
    syscage_run_env(&[], args)
}

pub fn wait_timeout(mut child: std::process::Child, limit: Duration) -> Run {
    // The pipes are read while waiting: a child writing more than a pipe holds would
    // otherwise block and never exit.
    fn drain<R: std::io::Read + Send + 'static>(r: Option<R>) -> std::thread::JoinHandle<Vec<u8>> {
        std::thread::spawn(move || {
            let mut buf = Vec::new();
            if let Some(mut r) = r {
                let _ = r.read_to_end(&mut buf);
            }
            buf
        })
    }
    let out = drain(child.stdout.take());
    let err = drain(child.stderr.take());
    let start = Instant::now();
    let status = loop {
        if let Ok(Some(s)) = child.try_wait() {
            break Some(s);
        }
        if start.elapsed() > limit {
            let _ = child.kill();
            let _ = child.wait();
            break None;
        }
        std::thread::sleep(Duration::from_millis(5));
    };
    let output = |status| Output {
        status,
        stdout: out.join().unwrap_or_default(),
        stderr: err.join().unwrap_or_default(),
    };
    match status {
        Some(s) => finish(output(s)),
        None => {
            let s = child.wait().expect("reaped");
            let r = finish(output(s));
            panic!("syscage did not finish in {limit:?}: {r:?}");
        }
    }
}

/// `syscage run --rootfs ROOTFS --tmpfs /tmp EXTRA -- COMMAND...`
pub fn container(extra: &[&str], command: &[&str]) -> Run {
    let root = rootfs().to_str().expect("utf-8 path").to_string();
    let mut args = vec!["run", "--rootfs", &root, "--tmpfs", "/tmp"];
    args.extend_from_slice(extra);
    args.push("--");
    args.extend_from_slice(command);
    syscage_run(&args)
}

/// Runs one probe in a container and returns its output line.
pub fn probe_line(extra: &[&str], probe_args: &[&str]) -> Run {
    let mut cmd = vec!["/probe"];
    cmd.extend_from_slice(probe_args);
    container(extra, &cmd)
}

/// Mount points of the host that mention `needle` (nothing of a container may leak).
pub fn host_mounts_with(needle: &str) -> Vec<String> {
    std::fs::read_to_string("/proc/self/mountinfo")
        .unwrap_or_default()
        .lines()
        .filter(|l| l.contains(needle))
        .map(str::to_string)
        .collect()
}

/// The cgroup directories syscage has made on the host.
pub fn syscage_cgroups() -> Vec<PathBuf> {
    // Every hierarchy this machine mounts (v1 controllers, the cgroup2 mount, or a pure v2
    // /sys/fs/cgroup), found as syscage finds them.
    let layout = syscage_runtime::cgroup::Layout::detect().expect("cgroup mounts readable");
    let mut out = Vec::new();
    for h in &layout.hierarchies {
        if let Ok(rd) = std::fs::read_dir(h.path().join("syscage")) {
            for e in rd.flatten() {
                if e.path().is_dir() {
                    out.push(e.path());
                }
            }
        }
    }
    out.sort();
    out.dedup();
    out
}

/// The syscage process a cgroup directory of [`syscage_cgroups`] belongs to.
pub fn cgroup_owner(dir: &Path) -> syscage_runtime::cgroup::Owner {
    let name = dir.file_name().expect("a cgroup name").to_string_lossy();
    syscage_runtime::cgroup::Owner::parse(&name)
        .unwrap_or_else(|| panic!("`{}` is not named <pidns>-<pid>-<start>", dir.display()))
}

/// Host processes whose executable is syscage or whose command line runs the probe.
pub fn stray_processes(marker: &str) -> Vec<String> {
    let mut out = Vec::new();
    for e in std::fs::read_dir("/proc").into_iter().flatten().flatten() {
        let cmdline = std::fs::read(e.path().join("cmdline")).unwrap_or_default();
        let text = String::from_utf8_lossy(&cmdline).replace('\0', " ");
        if text.contains(marker) {
            out.push(format!("{}: {}", e.file_name().to_string_lossy(), text));
        }
    }
    out
}
