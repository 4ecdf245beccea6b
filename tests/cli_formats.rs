//! Profiles in Kubernetes' formats through the command line (`profile convert`, the
//! commands reading a SeccompProfile and its base), and output people read (no root
//! needed; `run` with a SeccompProfile is in `e2e_seccomp`).

mod support;

use std::path::PathBuf;
use support::*;

fn fixture(name: &str) -> String {
    format!("{}/profiles/{name}", env!("CARGO_MANIFEST_DIR"))
}

/// A directory of this test's own, removed when dropped.
struct Dir(PathBuf);

impl Dir {
    fn new(test: &str) -> Dir {
        let d = std::env::temp_dir().join(format!("syscage-{test}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&d);
        std::fs::create_dir_all(&d).unwrap();
        Dir(d)
    }

    fn file(&self, name: &str, text: &str) -> String {
        let p = self.0.join(name);
        std::fs::write(&p, text).unwrap();
        p.display().to_string()
    }

    fn path(&self, name: &str) -> String {
        self.0.join(name).display().to_string()
    }
}

impl Drop for Dir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

#[test]
fn convert_writes_forms_that_decide_alike() {
    let d = Dir::new("convert");
    let docker = fixture("docker-default.json");
    for (from, caps) in [("default", "CHOWN"), (docker.as_str(), "SYS_ADMIN")] {
        for to in ["spo", "oci"] {
            let out = d.path(&format!("out.{to}"));
            let r = syscage_run(&[
                "profile",
                "convert",
                from,
                "--to",
                to,
                "-o",
                &out,
                "--cap-add",
                caps,
            ]);
            assert_eq!((r.code, r.stdout.as_str(), r.stderr.as_str()), (0, "", ""));
            // The written form, read back, decides as the profile does.
            let r = syscage_run(&["profile", "check", &out, "unshare", "--cap-add", caps]);
            let want = syscage_run(&["profile", "check", from, "unshare", "--cap-add", caps]);
            assert_eq!(r.code, 0, "{r:?}");
            assert_eq!(
                r.stdout.split(" by ").next(),
                want.stdout.split(" by ").next(),
                "{from} as {to}"
            );
        }
    }
    // Without options, diff resolves both for Docker's capabilities.
    let out = d.path("default.yaml");
    syscage_run(&["profile", "convert", "default", "--to", "spo", "-o", &out]);
    let text = std::fs::read_to_string(&out).unwrap();
    assert!(
        text.starts_with("# Written by `syscage profile convert` (syscage "),
        "{text}"
    );
    assert!(text.contains("\napiVersion: security-profiles-operator.x-k8s.io/v1beta1\nkind: SeccompProfile\nmetadata:\n  name: default\nspec:\n  defaultAction: SCMP_ACT_ERRNO\n  architectures:\n  - SCMP_ARCH_X86_64\n  syscalls:\n"), "{text}");
    let r = syscage_run(&["profile", "diff", "default", &out]);
    assert_eq!(r.code, 0, "{r:?}");
    assert!(
        r.stdout
            .ends_with("\nno difference: both decide every call alike\n"),
        "{r:?}"
    );
    // A name given, and the Docker form of a SeccompProfile.
    let r = syscage_run(&[
        "profile", "convert", "default", "--to", "spo", "--name", "web.v1",
    ]);
    assert!(r.stdout.contains("\nmetadata:\n  name: web.v1\n"), "{r:?}");
    let r = syscage_run(&["profile", "convert", &out, "--to", "docker"]);
    assert!(
        r.stdout.starts_with(
            "{\n  \"defaultAction\": \"SCMP_ACT_ERRNO\",\n  \"defaultErrnoRet\": 1,\n"
        ),
        "{r:?}"
    );
}

#[test]
fn convert_refuses_what_a_format_cannot_say() {
    let podman = fixture("podman-default.json");
    for (args, want) in [
        (
            vec!["profile", "convert", podman.as_str(), "--to", "spo"],
            format!("syscage: cannot write profile `{podman}` as a SeccompProfile: its default action is ERRNO(ENOSYS), and the resource has no defaultErrnoRet: a SeccompProfile's default ERRNO or TRACE answers 1 (EPERM); hint: the OCI form (--to oci) keeps it\n"),
        ),
        (
            vec!["profile", "convert", "default", "--to", "docker", "--cap-add", "SYS_ADMIN"],
            "syscage: --to docker writes the profile as written, for Docker to resolve: --cap-add, --cap-drop, --arch, --seccomp-allow and --seccomp-deny go with --to oci or spo\n".to_string(),
        ),
        (
            vec!["profile", "convert", "default", "--to", "oci", "--name", "web"],
            "syscage: --name names a SeccompProfile: it goes with --to spo\n".to_string(),
        ),
        (
            vec!["profile", "convert", "default", "--to", "spo", "--name", "Web"],
            "syscage: cannot write profile `default` as a SeccompProfile: `Web` is not a Kubernetes object name: lowercase letters, digits, `-` and `.`, starting and ending with a letter or digit, at most 253 characters\n".to_string(),
        ),
        (
            vec!["profile", "convert", "unconfined", "--to", "docker"],
            "syscage: profile `unconfined` has no filter: nothing to convert\n".to_string(),
        ),
        (
            vec!["profile", "convert", "default", "--to", "spo", "-o", "/missing/p.yaml"],
            "syscage: -o `/missing/p.yaml`: cannot write the profile: No such file or directory (ENOENT)\n".to_string(),
        ),
    ] {
        let r = syscage_run(&args);
        assert_eq!((r.code, r.stdout.as_str(), r.stderr.as_str()), (125, "", want.as_str()), "{args:?}");
    }
}

const BASE: &str = "apiVersion: security-profiles-operator.x-k8s.io/v1beta1
kind: SeccompProfile
metadata:
  name: runtime
spec:
  defaultAction: SCMP_ACT_ERRNO
  syscalls:
  - names: [execve, exit_group, brk, mmap, read, write, close, openat, newfstatat, arch_prctl, set_tid_address, set_robust_list, rseq, prlimit64, mprotect, getrandom, munmap]
    action: SCMP_ACT_ALLOW
";

const APP: &str = "apiVersion: security-profiles-operator.x-k8s.io/v1beta1
kind: SeccompProfile
metadata:
  name: app
spec:
  baseProfileName: runtime
  defaultAction: SCMP_ACT_ERRNO
  syscalls:
  - names: [getpid]
    action: SCMP_ACT_ALLOW
  - names: [keyctl]
    action: SCMP_ACT_ERRNO
    errnoRet: 38
";

#[test]
fn profile_commands_read_a_seccomp_profile_and_its_base() {
    let d = Dir::new("spo-base");
    let base = d.file("runtime.yaml", BASE);
    let app = d.file("app.yaml", APP);
    let r = syscage_run(&["profile", "check", &app, "getpid"]);
    assert_eq!(
        (r.code, r.stderr.as_str()),
        (125, format!("syscage: cannot load profile `{app}`: spec.baseProfileName: base profile `runtime` is not given: syscage reaches neither the cluster nor a registry; give its file (--seccomp-base FILE, or --base FILE for `syscage profile`)\n").as_str())
    );
    let r = syscage_run(&["profile", "check", &app, "read", "--base", &base]);
    assert_eq!(
        r.stdout, "ALLOW by rule 0 (base `runtime`: spec.syscalls[0])\n",
        "{r:?}"
    );
    let r = syscage_run(&["profile", "check", &app, "keyctl", "--base", &base]);
    assert_eq!(
        r.stdout, "ERRNO(ENOSYS) by rule 2 (spec.syscalls[1])\n",
        "{r:?}"
    );
    // REF=FILE names the base whatever its own name.
    let other = d.file("other.yaml", &BASE.replace("name: runtime", "name: other"));
    let r = syscage_run(&[
        "profile",
        "check",
        &app,
        "read",
        "--base",
        &format!("runtime={other}"),
    ]);
    assert_eq!(
        r.stdout, "ALLOW by rule 0 (base `runtime`: spec.syscalls[0])\n",
        "{r:?}"
    );
    // A base nothing names is a mistake.
    let r = syscage_run(&["profile", "check", "default", "read", "--base", &base]);
    assert_eq!(r.stderr, format!("syscage: base profile `{base}` is given, but profile `default` names no base it could be (its `spec.baseProfileName`, or a base's)\n"));
    let r = syscage_run(&["profile", "lint", &app, "--base", &base]);
    assert_eq!(r.code, 0, "{r:?}");
    let r = syscage_run(&["profile", "show", &app, "--base", &base, "--json"]);
    assert!(
        r.stdout
            .contains("\"comment\": \"base `runtime`: spec.syscalls[0]\""),
        "{r:?}"
    );
    // diff: each profile gets the bases it names.
    let r = syscage_run(&["profile", "diff", &base, &app, "--base", &base]);
    assert_eq!(r.code, 1, "{r:?}");
    assert!(
        r.stdout
            .contains("\n+ B lets it run, A refuses it (1):\n+ getpid\n"),
        "{r:?}"
    );
    let r = syscage_run(&["profile", "diff", "default", "contained", "--base", &base]);
    assert_eq!(r.stderr, format!("syscage: --base `{base}`: neither `default` nor `contained` names it as its base (spec.baseProfileName)\n"));
    // A base is given by file, and read as strictly.
    let r = syscage_run(&[
        "profile",
        "check",
        &app,
        "read",
        "--base",
        "/missing/base.yaml",
    ]);
    assert_eq!(r.stderr, "syscage: cannot load base profile `/missing/base.yaml`: No such file or directory (ENOENT)\n");
}

#[test]
fn check_takes_the_tweaks_run_takes() {
    let r = syscage_run(&[
        "profile",
        "check",
        "default",
        "keyctl",
        "--seccomp-deny",
        "keyctl:ENOSYS",
    ]);
    assert_eq!(
        r.stdout, "ERRNO(ENOSYS) by --seccomp-deny keyctl:ENOSYS\n",
        "{r:?}"
    );
    let r = syscage_run(&[
        "profile",
        "check",
        "default",
        "ptrace",
        "--seccomp-allow",
        "ptrace",
    ]);
    assert_eq!(r.stdout, "ALLOW by --seccomp-allow ptrace\n", "{r:?}");
    let r = syscage_run(&[
        "profile",
        "check",
        "default",
        "keyctl",
        "--seccomp-deny",
        "keyctl:0",
    ]);
    assert_eq!(r.stderr, "syscage: --seccomp-deny `keyctl:0`: ERRNO(0) makes the denied call look successful; use EPERM, or pass --seccomp-allow-errno-zero if that is really meant\n");
    let r = syscage_run(&[
        "profile",
        "show",
        "default",
        "--json",
        "--notify-denials",
        "--seccomp-deny",
        "keyctl",
    ]);
    assert_eq!(
        (r.code, r.stderr.as_str()),
        (125, "syscage: --base, --seccomp-allow and --seccomp-deny do not go with --notify-denials or --notify-all: the agent resolves the profile from its file, capabilities and ABIs alone\n")
    );
    let r = syscage_run(&["profile", "check", "default", "getpid", "--cap-add", "FROB"]);
    assert!(r.stderr.starts_with("syscage: --cap-add `FROB`: unknown capability; hint: capabilities are named as in capabilities(7), with or without `CAP_`, in any case: CHOWN, DAC_OVERRIDE, "), "{r:?}");
}

#[test]
fn diff_has_a_legend_and_groups() {
    let d = Dir::new("diff");
    let small = d.file(
        "small.json",
        r#"{"defaultAction": "SCMP_ACT_ERRNO", "syscalls": [{"names": ["execve", "read", "keyctl"], "action": "SCMP_ACT_ALLOW"},
            {"names": ["ioctl"], "action": "SCMP_ACT_ALLOW", "args": [{"index": 1, "value": 21505, "op": "SCMP_CMP_EQ"}]},
            {"names": ["clone3"], "action": "SCMP_ACT_ERRNO", "errnoRet": 95}]}"#,
    );
    let big = d.file(
        "big.json",
        r#"{"defaultAction": "SCMP_ACT_ERRNO", "syscalls": [{"names": ["execve", "read", "write", "ioctl", "getpid"], "action": "SCMP_ACT_ALLOW"},
            {"names": ["clone3"], "action": "SCMP_ACT_ERRNO", "errnoRet": 38}]}"#,
    );
    let r = syscage_run(&["profile", "diff", &small, &big]);
    assert_eq!(r.code, 1, "{r:?}");
    assert_eq!(
        r.stdout,
        format!(
            "A = `{small}`, B = `{big}`
+ B lets the call run, A refuses it
- A lets the call run, B refuses it
~ both refuse it, differently (A / B)

+ B lets it run, A refuses it (2):
+ getpid
+ write

+ B lets it run for some arguments A refuses (1):
+ ioctl

- A lets it run, B refuses it (1):
- keyctl

~ both refuse it, differently (1):
~ clone3: ERRNO(EOPNOTSUPP) / ERRNO(ENOSYS)
"
        )
    );
}

/// `syscage ARGS` on a terminal `cols` wide (through script(1)), its output.
fn on_terminal(cols: u32, args: &[&str]) -> String {
    let cmd = format!("stty cols {cols}; {} {}", syscage(), args.join(" "));
    let out = std::process::Command::new("script")
        .args(["-qec", &cmd, "/dev/null"])
        .stdin(std::process::Stdio::null())
        .output()
        .expect("script(1), from util-linux, runs");
    String::from_utf8_lossy(&out.stdout).replace("\r\n", "\n")
}

#[test]
fn long_lines_wrap_on_a_terminal_only() {
    let docker = fixture("docker-default.json");
    // To a pipe: one line per finding, for grep.
    let r = syscage_run(&["profile", "lint", &docker]);
    assert_eq!(r.code, 1, "{r:?}");
    let piped: Vec<&str> = r.stdout.lines().collect();
    assert!(
        piped
            .iter()
            .all(|l| l.starts_with("warning: ") || l.starts_with("error: ")),
        "{r:?}"
    );
    assert!(piped.iter().any(|l| l.len() > 200), "{r:?}");
    // On a terminal: the same words, no line wider than it, continuations indented.
    let shown = on_terminal(80, &["profile", "lint", &docker]);
    assert!(shown.lines().all(|l| l.chars().count() <= 80), "{shown}");
    assert!(shown.lines().any(|l| l.starts_with("    ")), "{shown}");
    let words = |s: &str| s.split_whitespace().map(str::to_string).collect::<Vec<_>>();
    assert_eq!(words(&shown), words(&r.stdout));
    let shown = on_terminal(100, &["profile", "show", "default"]);
    assert!(shown.lines().all(|l| l.chars().count() <= 100), "{shown}");
    assert!(shown.contains("\n    ALLOW _llseek _newselect accept accept4 access adjtimex alarm bind brk cachestat capget capset\n      chdir chown "), "{shown}");
}
