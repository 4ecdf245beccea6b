//! Docker's own profile under syscage decides what it decides under Docker's runtime: the
//! same probes run under crun with Docker's profile (resolved for Docker's default
//! capabilities, as Docker hands it to runc/crun) and under `syscage run --seccomp
//! docker-default.json`. The only differences allowed are the ones syscage closes on
//! purpose: a 64-bit comparison of a 32-bit argument that runtimes comparing all 64 bits
//! let through. Needs root and crun.

mod support;

use std::process::Command;
use support::*;

/// Probes whose answers must match, and the ones where syscage is stricter by design.
const SAME: &[&str] = &[
    "getpid",
    "unshare0",
    "unshare_userns",
    "unshare_mountns",
    "clone_userns",
    "clone_plain",
    "clone3_plain",
    "clone3_userns",
    "mount_tmpfs",
    "umount",
    "fsopen",
    "open_tree",
    "pivot_root",
    "socket_unix",
    "socket_inet",
    "socket_inet6",
    "socket_vsock",
    "socket_alg",
    "socket_netlink",
    "socket_packet",
    "socket_kcm",
    "io_uring_setup",
    "keyctl",
    "add_key",
    "request_key",
    "userfaultfd",
    "perf_event_open",
    "bpf",
    "kcmp",
    "personality_query",
    "personality_linux",
    "personality_addr_no_randomize",
    "personality_read_implies_exec",
    "name_to_handle_at",
    "open_by_handle_at",
    "chmod_suid",
    "fchmodat2_sgid",
    "mknod_dev",
    "seccomp_filter",
    "kexec_load",
    "init_module",
    "delete_module",
    "swapon",
    "acct",
    "settimeofday",
    "iopl",
    "syslog",
    "mbind",
    "set_mempolicy",
    "move_pages",
    "quotactl",
    "uselib",
    "memfd_secret",
    "pidfd_getfd",
    "process_madvise",
    "setns",
    "unshare_net",
    "fanotify_init",
    "modify_ldt",
    "tcgets",
    "tiocgwinsz",
    "vhangup",
    "chroot",
];
/// Calls Docker's profile allows that Debian's libseccomp 2.5.4 cannot name: crun skips
/// those names (as runc does), so under Docker's runtime here they get the default action.
/// syscage has its own table (Linux 6.18) and applies the profile as written.
const UNNAMED_BY_LIBSECCOMP: &[&str] = &["mseal", "statmount", "listmount"];
/// Docker's rule `socket family > 40` compares 64 bits under crun: 0x1_0000_0028 passes
/// and the kernel opens AF_VSOCK (40). syscage compares the 32 bits the kernel reads.
const STRICTER: &[&str] = &["socket_vsock_high"];

fn crun_available() -> bool {
    Command::new("crun")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success())
}

fn under_crun(
    probes: &[&str],
    profile_oci: &std::path::Path,
    dir: &std::path::Path,
) -> Vec<String> {
    let root = rootfs().to_str().unwrap().to_string();
    let script: String = probes
        .iter()
        .map(|p| format!("/probe {p}; echo \"status $?\";\n"))
        .collect();
    let bundle = dir.join("bundle");
    std::fs::create_dir_all(&bundle).unwrap();
    let out = Command::new("python3")
        .args([
            concat!(env!("CARGO_MANIFEST_DIR"), "/bench/bundle.py"),
            &root,
            profile_oci.to_str().unwrap(),
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
    // crun 1.8 refuses the hybrid cgroup layout: hide cgroup2 in a private mount namespace.
    let id = format!("syscage-eq-{}", std::process::id());
    let out = Command::new("unshare")
        .args(["-m", "sh", "-c", &format!("mount --make-rprivate / && mount -t tmpfs none /sys/fs/cgroup/unified && crun run -b {} {id}", bundle.display())])
        .output()
        .unwrap();
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(str::to_string)
        .collect()
}

fn under_syscage(probes: &[&str], profile: &str) -> Vec<String> {
    let script: String = probes
        .iter()
        .map(|p| format!("/probe {p}; echo \"status $?\";\n"))
        .collect();
    let r = container(&["--seccomp", profile], &["/bin/sh", "-c", &script]);
    r.stdout.lines().map(str::to_string).collect()
}

/// `probe: answer` (or `probe: killed`), one per probe, from the interleaved output.
fn answers(probes: &[&str], lines: &[String]) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let mut it = lines.iter();
    for p in probes {
        let mut answer = String::from("(nothing)");
        for l in it.by_ref() {
            if let Some(st) = l.strip_prefix("status ") {
                if answer == "(nothing)" {
                    answer = format!("exit {st}");
                }
                break;
            }
            if let Some(rest) = l.strip_prefix(&format!("{p}: ")) {
                // The pid differs between sandboxes; what matters is the answer's kind.
                answer = if p == &"getpid" {
                    "ok".to_string()
                } else {
                    rest.to_string()
                };
            }
        }
        out.push((p.to_string(), answer));
    }
    out
}

#[test]
#[ignore = "needs root"]
fn dockers_profile_decides_as_under_crun() {
    if !root(module_path!()) {
        return;
    }
    if !crun_available() {
        skip(
            "dockers_profile_decides_as_under_crun",
            "crun is not installed",
        );
    }
    let dir = std::env::temp_dir().join(format!("syscage-eq-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let docker = concat!(env!("CARGO_MANIFEST_DIR"), "/profiles/docker-default.json");
    let oci = dir.join("docker-oci.json");
    let out = Command::new(syscage())
        .args(["profile", "show", docker, "--oci", "--as-written"])
        .output()
        .unwrap();
    assert!(out.status.success());
    std::fs::write(&oci, &out.stdout).unwrap();

    let all: Vec<&str> = SAME
        .iter()
        .chain(STRICTER)
        .chain(UNNAMED_BY_LIBSECCOMP)
        .copied()
        .collect();
    let crun = answers(&all, &under_crun(&all, &oci, &dir));
    let ours = answers(&all, &under_syscage(&all, docker));
    let mut differ = Vec::new();
    for ((p, a), (_, b)) in crun.iter().zip(&ours) {
        let stricter = STRICTER.contains(&p.as_str());
        if UNNAMED_BY_LIBSECCOMP.contains(&p.as_str()) {
            assert_eq!(a, "blocked errno=1 (EPERM)", "{p} under crun");
            // Allowed by the profile: the kernel answers (ENOSYS before it had the call).
            let since = match p.as_str() {
                "mseal" => (6, 10),
                _ => (6, 8),
            };
            let want = ok_since(since.0, since.1);
            assert!(b.starts_with(want), "{p} under syscage: {b}");
        } else if stricter {
            assert_ne!(a, b, "{p}: syscage closes Docker's 64-bit comparison here");
            assert_eq!(b, "blocked errno=1 (EPERM)", "{p}");
        } else if a != b {
            differ.push(format!("{p}: crun `{a}`, syscage `{b}`"));
        }
    }
    assert!(
        differ.is_empty(),
        "decisions differ from Docker's runtime:\n{}",
        differ.join("\n")
    );
    std::fs::remove_dir_all(&dir).unwrap();
}
