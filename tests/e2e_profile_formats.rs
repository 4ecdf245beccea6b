//! Profiles in Kubernetes' formats, end to end: a container under the default profile
//! written as a Security Profiles Operator SeccompProfile gets the answers it gets under
//! the default profile itself, and a SeccompProfile with a base runs with its base given
//! as a file.

mod support;

use support::*;

/// Probes whose answers tell the walls apart (terminal injection, namespaces, clone3's
/// ENOSYS, foreign ABIs, socket families with the upper bits set, setuid bits).
const PROBES: &[&str] = &[
    "getpid",
    "tiocsti",
    "tiocsti_high",
    "tioclinux",
    "unshare_userns",
    "clone3_userns",
    "i386_getpid",
    "x32_getpid",
    "socketpair_vsock_high",
    "keyctl",
    "mount_tmpfs",
];

fn answer(extra: &[&str], name: &str) -> String {
    let r = probe_line(extra, &[name]);
    format!("{} {}", r.code, r.stdout.trim_end())
}

struct Dir(std::path::PathBuf);

impl Drop for Dir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

#[test]
#[ignore = "needs root"]
fn the_default_profile_as_a_seccomp_profile_answers_alike() {
    need_root!();
    let d = Dir(std::env::temp_dir().join(format!("syscage-e2e-spo-{}", std::process::id())));
    std::fs::create_dir_all(&d.0).unwrap();
    let yaml = d.0.join("default.yaml").display().to_string();
    let r = syscage_run(&["profile", "convert", "default", "--to", "spo", "-o", &yaml]);
    assert_eq!(r.code, 0, "{r:?}");
    for p in PROBES {
        let want = answer(&[], p);
        let got = answer(&["--seccomp", &yaml], p);
        assert_eq!(got, want, "{p}");
    }
}

#[test]
#[ignore = "needs root"]
fn a_seccomp_profile_runs_with_its_base_given_as_a_file() {
    need_root!();
    let d = Dir(std::env::temp_dir().join(format!("syscage-e2e-base-{}", std::process::id())));
    std::fs::create_dir_all(&d.0).unwrap();
    let base = d.0.join("runtime.yaml").display().to_string();
    let r = syscage_run(&[
        "profile", "convert", "default", "--to", "spo", "--name", "runtime", "-o", &base,
    ]);
    assert_eq!(r.code, 0, "{r:?}");
    let app = d.0.join("app.yaml");
    std::fs::write(
        &app,
        "apiVersion: security-profiles-operator.x-k8s.io/v1beta1
kind: SeccompProfile
metadata:
  name: app
spec:
  baseProfileName: runtime
  defaultAction: SCMP_ACT_ERRNO
  syscalls:
  - names: [keyctl]
    action: SCMP_ACT_ERRNO
    errnoRet: 38
",
    )
    .unwrap();
    let app = app.display().to_string();
    let r = probe_line(&["--seccomp", &app], &["keyctl"]);
    assert_eq!(
        (r.code, r.stderr.as_str()),
        (125, format!("syscage: cannot load profile `{app}`: spec.baseProfileName: base profile `runtime` is not given: syscage reaches neither the cluster nor a registry; give its file (--seccomp-base FILE, or --base FILE for `syscage profile`)\n").as_str()),
        "refused before anything runs"
    );
    // The base's rules, and the profile's own: keyctl answers ENOSYS, not the default's EPERM.
    let with_base = ["--seccomp", app.as_str(), "--seccomp-base", base.as_str()];
    assert_eq!(
        answer(&with_base, "keyctl"),
        "0 keyctl: blocked errno=38 (ENOSYS)"
    );
    assert_eq!(answer(&with_base, "getpid"), answer(&[], "getpid"));
    assert_eq!(answer(&with_base, "tiocsti"), answer(&[], "tiocsti"));
}

#[test]
#[ignore = "needs root"]
fn learn_writes_a_seccomp_profile_the_run_can_use() {
    need_root!();
    let d = Dir(std::env::temp_dir().join(format!("syscage-e2e-learn-{}", std::process::id())));
    std::fs::create_dir_all(&d.0).unwrap();
    let out = d.0.join("Echo Server.yaml").display().to_string();
    let root = rootfs().to_str().unwrap().to_string();
    let cmd = ["/bin/sh", "-c", "echo hi; cat /etc/passwd > /dev/null"];
    let mut args = vec![
        "learn", "--format", "spo", "-o", &out, "--rootfs", &root, "--",
    ];
    args.extend(cmd);
    let r = syscage_run(&args);
    assert_eq!(r.code, 0, "{r:?}");
    let text = std::fs::read_to_string(&out).unwrap();
    assert!(
        text.starts_with("# Written by `syscage learn` (syscage "),
        "{text}"
    );
    assert!(
        text.contains("from a run of `/bin/sh -c echo hi; cat /etc/passwd > /dev/null`.\n"),
        "{text}"
    );
    assert!(text.contains("\nkind: SeccompProfile\nmetadata:\n  name: echo-server\nspec:\n  defaultAction: SCMP_ACT_ERRNO\n"), "{text}");
    let r = container(&["--seccomp", &out], &cmd);
    assert_eq!((r.code, r.stdout.as_str()), (0, "hi\n"), "{r:?}");
    // What it did not learn stays denied.
    let r = container(&["--seccomp", &out], &["/bin/sh", "-c", "mkdir /tmp/x"]);
    assert_ne!(r.code, 0, "{r:?}");
}
