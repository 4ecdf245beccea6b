//! The OCI commands beyond the life cycle: exec (as conmon and the shim call it, and as
//! people do), run, ps, pause and resume, update, features, spec, --version, and the
//! --log file. Needs root.

mod oci_support;
mod support;

use oci_support::*;
use serde_json::{json, Value};
use std::time::Duration;
use support::*;

fn seccomp_profile() -> Value {
    json!({
        "defaultAction": "SCMP_ACT_ALLOW",
        "architectures": ["SCMP_ARCH_X86_64"],
        "syscalls": [{"names": ["mkdir", "mkdirat"], "action": "SCMP_ACT_ERRNO", "errnoRet": 13}]
    })
}

#[test]
#[ignore = "needs root"]
fn exec_joins_the_container_as_the_clients_call_it() {
    need_root!(subreaper);
    let b = Bundle::new("exec", &["sleep", "1000"], |c| {
        c["linux"]["seccomp"] = seccomp_profile();
    });
    let (r, pid) = b.create("x1", &[]);
    assert_eq!(r.code, 0, "{r:?}");
    let pid = pid.unwrap();
    assert_eq!(b.oci(&["start", "x1"]).code, 0);
    // conmon's call: --process FILE --detach --pid-file; the test reaps the process.
    let proc_file = b.path("process.json");
    std::fs::write(
        &proc_file,
        json!({
            "user": {"uid": 1000, "gid": 1000},
            "args": ["sh", "-c", "cat /proc/1/cmdline | tr '\\0' ' '; echo; id -u; hostname; grep -E '^(NoNewPrivs|Seccomp):' /proc/self/status; mkdir /tmp/d 2>&1; cat /proc/self/cgroup | grep -c syscage-test; exit 5"],
            "env": ["PATH=/bin"],
            "cwd": "/tmp",
            "noNewPrivileges": true
        })
        .to_string(),
    )
    .unwrap();
    let out = std::fs::File::create(b.path("exec.out")).unwrap();
    let st = std::process::Command::new(syscage())
        .args(["--root", b.root.to_str().unwrap(), "exec", "--pid-file"])
        .arg(b.path("exec.pid"))
        .arg("--process")
        .arg(&proc_file)
        .args(["--detach", "x1"])
        .stdout(out.try_clone().unwrap())
        .stderr(out)
        .status()
        .unwrap();
    assert!(st.success());
    let epid: i32 = std::fs::read_to_string(b.path("exec.pid"))
        .unwrap()
        .parse()
        .unwrap();
    assert_eq!(reap(epid, Duration::from_secs(20)), 5);
    assert_eq!(
        std::fs::read_to_string(b.path("exec.out")).unwrap(),
        format!(
            "sleep 1000 \n1000\n{}\nNoNewPrivs:\t1\nSeccomp:\t2\nmkdir: can't create directory '/tmp/d': Permission denied\n{}\n",
            b.name,
            // In the container's cgroup, in every hierarchy.
            syscage_runtime::cgroup::Layout::detect().unwrap().hierarchies.len()
        )
    );
    // A person's call: the command on the command line, waited for.
    let r = b.oci(&[
        "exec",
        "--env",
        "A=b",
        "--cwd",
        "/dev",
        "x1",
        "sh",
        "-c",
        "echo $A; pwd; exit 4",
    ]);
    assert_eq!((r.code, r.stdout.as_str()), (4, "b\n/dev\n"), "{r:?}");
    let r = b.oci(&["exec", "x1", "/nonexistent"]);
    assert_eq!(
        (r.code, r.stderr.as_str()),
        (
            1,
            "syscage: cannot execute `/nonexistent`: no such file or directory\n"
        )
    );
    let r = b.oci(&["exec", "--tty", "x1", "true"]);
    assert_eq!(
        (r.code, r.stderr.as_str()),
        (1, "syscage: a terminal needs --console-socket: syscage does not relay one itself (process.terminal is true)\n")
    );
    assert_eq!(b.oci(&["kill", "x1", "KILL"]).code, 0);
    assert_eq!(reap(pid, Duration::from_secs(20)), 137);
    let r = b.oci(&["exec", "x1", "true"]);
    assert_eq!(
        (r.code, r.stderr.as_str()),
        (1, "syscage: cannot exec in a stopped container: `x1`\n")
    );
}

#[test]
#[ignore = "needs root"]
fn ps_pause_resume_and_update() {
    need_root!(subreaper);
    let b = Bundle::new("ps", &["sh", "-c", "sleep 1000 & exec sleep 1000"], |c| {
        c["linux"]["resources"]["memory"] = json!({"limit": 67108864});
    });
    let (_, pid) = b.create("p1", &[]);
    let pid = pid.unwrap();
    assert_eq!(b.oci(&["start", "p1"]).code, 0);
    until("two processes", || {
        let r = b.oci(&["ps", "--format", "json", "p1"]);
        serde_json::from_str::<Vec<i32>>(&r.stdout).is_ok_and(|v| v.len() == 2)
    });
    let pids: Vec<i32> =
        serde_json::from_str(&b.oci(&["ps", "--format", "json", "p1"]).stdout).unwrap();
    assert!(pids.contains(&pid));
    assert_eq!(b.oci(&["pause", "p1"]).code, 0);
    assert_eq!(b.status("p1"), "paused");
    let r = b.oci(&["pause", "p1"]);
    assert_eq!(
        (r.code, r.stderr.as_str()),
        (1, "syscage: container not running: `p1` is paused\n")
    );
    let r = b.oci(&["start", "p1"]);
    assert_eq!(
        (r.code, r.stderr.as_str()),
        (1, "syscage: cannot start container `p1`: it is paused\n")
    );
    assert_eq!(b.oci(&["resume", "p1"]).code, 0);
    assert_eq!(b.status("p1"), "running");
    // podman's update file, the shim's on stdin.
    let mem = b
        .cgroups()
        .into_iter()
        .find(|d| d.join("memory.limit_in_bytes").exists())
        .unwrap();
    std::fs::write(
        b.path("res.json"),
        r#"{"memory":{"limit":134217728,"swap":268435456},"cpu":{"shares":512}}"#,
    )
    .unwrap();
    let res = format!("--resources={}", b.path("res.json").display());
    let r = b.oci(&["update", &res, "p1"]);
    assert_eq!(r.code, 0, "{r:?}");
    assert_eq!(
        std::fs::read_to_string(mem.join("memory.limit_in_bytes")).unwrap(),
        "134217728\n"
    );
    let mut child = std::process::Command::new(syscage())
        .args([
            "--root",
            b.root.to_str().unwrap(),
            "update",
            "--resources",
            "-",
            "p1",
        ])
        .stdin(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    use std::io::Write;
    child
        .stdin
        .take()
        .unwrap()
        .write_all(br#"{"pids":{"limit":50}}"#)
        .unwrap();
    assert!(child.wait().unwrap().success());
    let pids_dir = b
        .cgroups()
        .into_iter()
        .find(|d| d.join("pids.max").exists())
        .unwrap();
    assert_eq!(
        std::fs::read_to_string(pids_dir.join("pids.max")).unwrap(),
        "50\n"
    );
    let r = b.oci(&["update", "--resources=/nonexistent", "p1"]);
    assert_eq!(
        (r.code, r.stderr.as_str()),
        (
            1,
            "syscage: --resources `/nonexistent`: No such file or directory (ENOENT)\n"
        )
    );
    std::fs::write(b.path("bad.json"), r#"{"memory":{"limit":-5}}"#).unwrap();
    let bad = format!("--resources={}", b.path("bad.json").display());
    let r = b.oci(&["update", &bad, "p1"]);
    assert_eq!(
        (r.code, r.stderr.as_str()),
        (
            1,
            "syscage: --resources: memory.limit: `-5` is out of range -1 (no limit) and above\n"
        )
    );
    assert_eq!(b.oci(&["delete", "--force", "p1"]).code, 0);
    assert_eq!(reap(pid, Duration::from_secs(20)), 137);
    assert!(b.cgroups().is_empty());
}

#[test]
#[ignore = "needs root"]
fn run_waits_and_deletes_or_detaches() {
    need_root!(subreaper);
    let b = Bundle::new("run", &["sh", "-c", "echo ran; exit 7"], |_| {});
    let r = b.oci(&["run", "--bundle", b.dir.to_str().unwrap(), "r1"]);
    assert_eq!((r.code, r.stdout.as_str()), (7, "ran\n"), "{r:?}");
    assert!(!b.root.join("r1").exists(), "deleted after");
    assert!(b.cgroups().is_empty());
    let b = Bundle::new("run-d", &["sleep", "1000"], |_| {});
    // Detached: the container keeps syscage's standard streams, so they are not pipes the
    // test would wait on.
    let st = std::process::Command::new(syscage())
        .args([
            "--root",
            b.root.to_str().unwrap(),
            "run",
            "-d",
            "--pid-file",
        ])
        .arg(b.path("pid"))
        .args(["-b", b.dir.to_str().unwrap(), "r2"])
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .status()
        .unwrap();
    assert!(st.success());
    assert_eq!(b.status("r2"), "running");
    let pid: i32 = std::fs::read_to_string(b.path("pid"))
        .unwrap()
        .parse()
        .unwrap();
    assert_eq!(b.oci(&["delete", "-f", "r2"]).code, 0);
    assert_eq!(reap(pid, Duration::from_secs(20)), 137);
}

#[test]
#[ignore = "needs root"]
fn features_spec_version_and_the_json_log() {
    need_root!(subreaper);
    let r = syscage_run(&["features"]);
    assert_eq!(r.code, 0, "{r:?}");
    let f: Value = serde_json::from_str(&r.stdout).unwrap();
    assert_eq!(f["ociVersionMax"], "1.2.1");
    assert_eq!(f["hooks"].as_array().unwrap().len(), 6);
    let ns: Vec<&str> = f["linux"]["namespaces"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap())
        .collect();
    assert_eq!(
        ns,
        ["cgroup", "ipc", "mount", "network", "pid", "user", "uts"]
    );
    assert_eq!(f["linux"]["seccomp"]["enabled"], true);
    assert!(f["mountOptions"]
        .as_array()
        .unwrap()
        .iter()
        .any(|o| o == "rbind"));
    assert!(!f["mountOptions"]
        .as_array()
        .unwrap()
        .iter()
        .any(|o| o == "rro"));
    assert_eq!(f["linux"]["apparmor"]["enabled"], false);
    // The annotations syscage reads, as it reads them (never `unconfined`).
    let ann = &f["annotations"];
    assert_eq!(
        ann["run.syscage.seccomp"],
        "default|contained|FILE (in an --annotation-dir): replaces linux.seccomp"
    );
    assert!(ann["run.syscage.report"].is_string() && ann["run.syscage.learn"].is_string());

    let dir = std::env::temp_dir().join(format!("syscage-spec-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let r = syscage_run(&["spec", "--bundle", dir.to_str().unwrap()]);
    assert_eq!(r.code, 0, "{r:?}");
    let spec: Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("config.json")).unwrap()).unwrap();
    assert_eq!(spec["process"]["args"], json!(["sh"]));
    // The default configuration runs as it is (with a root to run in): its ambient
    // capabilities, which have no inheritable ones, are left out with a warning, as runc
    // leaves them.
    let mut runnable = spec.clone();
    runnable["root"] = json!({"path": rootfs().to_str().unwrap(), "readonly": true});
    runnable["process"]["terminal"] = false.into();
    runnable["process"]["args"] = json!(["sh", "-c", "grep -E '^Cap(Eff|Amb)' /proc/self/status"]);
    let rdir = dir.join("runnable");
    std::fs::create_dir_all(&rdir).unwrap();
    std::fs::write(rdir.join("config.json"), runnable.to_string()).unwrap();
    let r = syscage_run(&[
        "--root",
        dir.join("spec-state").to_str().unwrap(),
        "run",
        "--bundle",
        rdir.to_str().unwrap(),
        "spec-default",
    ]);
    assert_eq!(
        (r.code, r.stdout.as_str(), r.stderr.as_str()),
        (
            0,
            "CapEff:\t0000000020000420\nCapAmb:\t0000000000000000\n",
            "syscage: warning: process.capabilities.ambient: left out CAP_KILL, CAP_NET_BIND_SERVICE, CAP_AUDIT_WRITE, not in both the inheritable and the permitted sets (the kernel raises no other)\n"
        )
    );
    let r = syscage_run(&["spec", "--bundle", dir.to_str().unwrap()]);
    assert_eq!(
        (r.code, r.stderr),
        (
            1,
            format!(
                "syscage: File {}/config.json exists. Remove it first\n",
                dir.display()
            )
        )
    );

    let r = syscage_run(&["--version"]);
    let lines: Vec<&str> = r.stdout.lines().collect();
    assert_eq!(
        lines[0],
        format!("syscage version {}", env!("CARGO_PKG_VERSION"))
    );
    assert_eq!(lines[2], "spec: 1.2.1");

    // --log --log-format json: one object per line appended, the plain line on stderr.
    let log = dir.join("log.json");
    let root = dir.join("state");
    for _ in 0..2 {
        let r = syscage_run(&[
            "--root",
            root.to_str().unwrap(),
            "--log",
            log.to_str().unwrap(),
            "--log-format",
            "json",
            "state",
            "ghost",
        ]);
        assert_eq!(r.code, 1);
        assert_eq!(
            r.stderr,
            format!(
                "syscage: container does not exist: no state for `ghost` in `{}`\n",
                root.display()
            )
        );
    }
    let text = std::fs::read_to_string(&log).unwrap();
    let lines: Vec<Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 2);
    assert_eq!(lines[1]["level"], "error");
    assert_eq!(
        lines[1]["msg"],
        format!(
            "container does not exist: no state for `ghost` in `{}`",
            root.display()
        )
    );
    std::fs::remove_dir_all(&dir).unwrap();
}
