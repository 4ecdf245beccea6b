//! What syscage writes, other runtimes enforce: the built-in default exported with
//! `profile show default --oci` and loaded by Debian's crun and runc through an OCI bundle
//! refuses terminal input injection (TIOCSTI and TIOCLINUX, with and without upper bits
//! set in the request) and PR_SET_SECCOMP, and still lets terminal queries through. The
//! default once wrote its ioctl rule as two `!=` conditions on one argument, which both
//! runtimes read as alternatives that match every request. Needs root, crun and runc.

mod support;

use std::path::Path;
use std::process::Command;
use support::*;

/// (probe, what every runtime must answer) under the exported default.
const EXPECTED: &[(&str, &str)] = &[
    ("tiocsti", "blocked errno=1 (EPERM)"),
    ("tiocsti_high", "blocked errno=1 (EPERM)"),
    ("tioclinux", "blocked errno=1 (EPERM)"),
    ("tioclinux_high", "blocked errno=1 (EPERM)"),
    ("prctl_seccomp", "blocked errno=1 (EPERM)"),
    ("tcgets", "ok"),
    ("tiocgwinsz", "ok"),
];

fn available(runtime: &str) -> bool {
    Command::new(runtime)
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success())
}

/// Runs the probes under `runtime` with `profile` as the bundle's `linux.seccomp`; one
/// `probe: answer` per probe.
fn under(runtime: &str, profile: &Path, dir: &Path) -> Vec<(String, String)> {
    let root = rootfs().to_str().unwrap().to_string();
    let script: String = EXPECTED
        .iter()
        .map(|(p, _)| format!("/probe {p}; echo \"status $?\";\n"))
        .collect();
    let bundle = dir.join(format!("bundle-{runtime}"));
    std::fs::create_dir_all(&bundle).unwrap();
    let out = Command::new("python3")
        .args([
            concat!(env!("CARGO_MANIFEST_DIR"), "/bench/bundle.py"),
            &root,
            profile.to_str().unwrap(),
            "docker",
        ])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let mut config: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    config["process"]["args"] = serde_json::json!(["/bin/sh", "-c", script]);
    std::fs::write(bundle.join("config.json"), config.to_string()).unwrap();
    // crun 1.8 refuses this machine's hybrid cgroup layout: hide cgroup2 in a private mount
    // namespace (as bench/run.sh does); runc runs there alike.
    let id = format!("syscage-export-{runtime}-{}", std::process::id());
    let out = Command::new("unshare")
        .args([
            "-m",
            "sh",
            "-c",
            &format!(
                "mount --make-rprivate / && mount -t tmpfs none /sys/fs/cgroup/unified && {runtime} run -b {} {id}",
                bundle.display()
            ),
        ])
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let mut answers = Vec::new();
    for (p, _) in EXPECTED {
        let line = stdout
            .lines()
            .find_map(|l| l.strip_prefix(&format!("{p}: ")))
            .unwrap_or("(nothing)");
        answers.push((p.to_string(), line.to_string()));
    }
    assert!(
        answers.iter().any(|(_, a)| a != "(nothing)"),
        "{runtime} ran nothing: {}\n{}",
        stdout,
        String::from_utf8_lossy(&out.stderr)
    );
    answers
}

#[test]
#[ignore = "needs root"]
fn crun_and_runc_enforce_the_exported_default() {
    if !root(module_path!()) {
        return;
    }
    for runtime in ["crun", "runc"] {
        if !available(runtime) {
            skip(
                "crun_and_runc_enforce_the_exported_default",
                &format!("{runtime} is not installed"),
            );
        }
    }
    let dir = std::env::temp_dir().join(format!("syscage-export-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let oci = dir.join("default-oci.json");
    let out = Command::new(syscage())
        .args(["profile", "show", "default", "--oci"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    std::fs::write(&oci, &out.stdout).unwrap();
    let want: Vec<(String, String)> = EXPECTED
        .iter()
        .map(|(p, a)| (p.to_string(), a.to_string()))
        .collect();
    // syscage itself, for reference.
    let script: String = EXPECTED
        .iter()
        .map(|(p, _)| format!("/probe {p};\n"))
        .collect();
    let r = container(&["--seccomp", "default"], &["/bin/sh", "-c", &script]);
    let ours: Vec<(String, String)> = EXPECTED
        .iter()
        .map(|(p, _)| {
            let a = r
                .stdout
                .lines()
                .find_map(|l| l.strip_prefix(&format!("{p}: ")))
                .unwrap_or("(nothing)");
            (p.to_string(), a.to_string())
        })
        .collect();
    assert_eq!(ours, want, "syscage: {r:?}");
    for runtime in ["crun", "runc"] {
        assert_eq!(under(runtime, &oci, &dir), want, "{runtime}");
    }
    std::fs::remove_dir_all(&dir).unwrap();
}
