//! The Security Profiles Operator's `SeccompProfile`: read as the operator installs it on
//! the node, with its base profile when the base is given as a file.

use syscage_policy::eval::{self};
use syscage_policy::profile::{self, Base, ReadOptions};
use syscage_policy::{resolve, syscalls, Action, Arch, Context, Policy};

/// A resource as `kubectl get seccompprofile web -o yaml` prints it.
const FROM_THE_CLUSTER: &str = r#"apiVersion: security-profiles-operator.x-k8s.io/v1beta1
kind: SeccompProfile
metadata:
  annotations:
    description: "web server"
  creationTimestamp: "2026-11-30T10:00:00Z"
  finalizers:
  - node-1-delete
  generation: 1
  labels:
    app: web
  name: web
  namespace: default
  resourceVersion: "4242"
  uid: 5d2c3f1e-0000-4000-8000-000000000000
spec:
  defaultAction: SCMP_ACT_ERRNO
  architectures:
  - SCMP_ARCH_NATIVE
  syscalls:
  - action: SCMP_ACT_ALLOW
    names:
    - execve
    - exit_group
    - read
    - write
  - action: SCMP_ACT_ERRNO
    errnoRet: 38
    names:
    - clone3
  - action: SCMP_ACT_ALLOW
    names:
    - socket
    args:
    - index: 0
      value: 2
      op: SCMP_CMP_EQ
status:
  conditions:
  - lastTransitionTime: "2026-11-30T10:00:01Z"
    reason: Available
    status: "True"
    type: Ready
  localhostProfile: operator/default/web.json
  status: Installed
"#;

fn policy(p: &profile::Profile) -> Policy {
    resolve::resolve("t", p, &Context::docker_default()).unwrap()
}

fn decide(p: &Policy, name: &str, args: [u64; 6]) -> Action {
    eval::decide_syscall(p, Arch::X86_64, syscalls::lookup(name).unwrap(), &args).action
}

#[test]
fn a_resource_from_the_cluster_reads_as_its_spec() {
    let p = policy(&profile::parse(FROM_THE_CLUSTER, ReadOptions::default()).unwrap());
    assert_eq!(
        p.default_action(),
        Action::Errno(1),
        "no defaultErrnoRet: EPERM"
    );
    assert_eq!(decide(&p, "read", [0; 6]), Action::Allow);
    assert_eq!(decide(&p, "clone3", [0; 6]), Action::Errno(38));
    assert_eq!(decide(&p, "socket", [2, 0, 0, 0, 0, 0]), Action::Allow);
    assert_eq!(decide(&p, "socket", [10, 0, 0, 0, 0, 0]), Action::Errno(1));
    // The same object as JSON (what `kubectl get -o json` prints) reads the same.
    let v = profile::yaml::to_value(FROM_THE_CLUSTER).unwrap();
    let json = profile::parse(&v.to_string(), ReadOptions::default()).unwrap();
    assert_eq!(
        json,
        profile::parse(FROM_THE_CLUSTER, ReadOptions::default()).unwrap()
    );
}

const BASE: &str = r#"apiVersion: security-profiles-operator.x-k8s.io/v1beta1
kind: SeccompProfile
metadata:
  name: runtime
spec:
  defaultAction: SCMP_ACT_LOG
  syscalls:
  - action: SCMP_ACT_ALLOW
    names: [execve, exit_group, futex]
  - action: SCMP_ACT_ERRNO
    errnoRet: 1
    names: [ptrace]
"#;

fn app(base: &str) -> String {
    format!(
        r#"apiVersion: security-profiles-operator.x-k8s.io/v1beta1
kind: SeccompProfile
metadata:
  name: app
spec:
  baseProfileName: {base}
  defaultAction: SCMP_ACT_ERRNO
  syscalls:
  - action: SCMP_ACT_ERRNO
    errnoRet: 38
    names: [clone3]
  - action: SCMP_ACT_ALLOW
    names: [read]
"#
    )
}

fn base_file(reference: Option<&str>, text: &str) -> Base {
    Base {
        reference: reference.map(str::to_string),
        file: "base.yaml".to_string(),
        text: text.to_string(),
    }
}

#[test]
fn a_base_given_as_a_file_is_merged_as_the_operator_merges_it() {
    // By the base's own name.
    let (p, used) = profile::parse_with_bases(
        &app("runtime"),
        ReadOptions::default(),
        &[base_file(None, BASE)],
    )
    .unwrap();
    assert_eq!(used, vec![0]);
    // The base's entries, then the profile's, ordered by action name; the profile's
    // default, not the base's.
    let entries: Vec<(String, Option<&str>)> = p
        .syscalls()
        .iter()
        .map(|e| {
            (
                format!("{} {}", e.action(), e.names().join(",")),
                e.comment(),
            )
        })
        .collect();
    assert_eq!(
        entries,
        vec![
            (
                "ALLOW execve,exit_group,futex".to_string(),
                Some("base `runtime`: spec.syscalls[0]")
            ),
            ("ALLOW read".to_string(), Some("spec.syscalls[1]")),
            (
                "ERRNO(EPERM) ptrace".to_string(),
                Some("base `runtime`: spec.syscalls[1]")
            ),
            ("ERRNO(ENOSYS) clone3".to_string(), Some("spec.syscalls[0]")),
        ]
    );
    let pol = policy(&p);
    assert_eq!(pol.default_action(), Action::Errno(1));
    assert_eq!(decide(&pol, "futex", [0; 6]), Action::Allow);
    assert_eq!(decide(&pol, "ptrace", [0; 6]), Action::Errno(1));
    // By an explicit reference (an `oci://` artifact pulled by hand).
    let (q, used) = profile::parse_with_bases(
        &app("oci://registry.example/profiles/runtime:v1"),
        ReadOptions::default(),
        &[base_file(
            Some("oci://registry.example/profiles/runtime:v1"),
            BASE,
        )],
    )
    .unwrap();
    assert_eq!(used, vec![0]);
    let rules = |p: &profile::Profile| -> Vec<(Vec<String>, Action)> {
        p.syscalls()
            .iter()
            .map(|e| (e.names().to_vec(), e.action()))
            .collect()
    };
    assert_eq!(rules(&q), rules(&p));
    assert_eq!(
        q.syscalls()[0].comment(),
        Some("base `oci://registry.example/profiles/runtime:v1`: spec.syscalls[0]")
    );
}

#[test]
fn what_a_base_cannot_be() {
    let err = |text: &str, bases: &[Base]| {
        profile::parse_with_bases(text, ReadOptions::default(), bases)
            .unwrap_err()
            .to_string()
    };
    assert_eq!(
        err(&app("runtime"), &[base_file(None, &BASE.replace("name: runtime", "name: other"))]),
        "spec.baseProfileName: base profile `runtime` is not given: syscage reaches neither the cluster nor a registry; give its file (--seccomp-base FILE, or --base FILE for `syscage profile`)"
    );
    assert_eq!(
        err(
            &app("runtime"),
            &[base_file(Some("runtime"), r#"{"defaultAction": "SCMP_ACT_ALLOW"}"#)]
        ),
        "in base profile `base.yaml`: a base profile is a SeccompProfile (apiVersion security-profiles-operator.x-k8s.io/v1beta1, kind SeccompProfile), not a Docker or OCI profile"
    );
    assert_eq!(
        err(
            &app("runtime"),
            &[base_file(None, &BASE.replace("[ptrace]", "[ptrace, chmood]"))]
        ),
        "in base profile `base.yaml`: spec.syscalls[1].names[1]: unknown system call `chmood` (did you mean `chmod`?)"
    );
    // A base that names itself: the operator gives up after 15 levels, and so does syscage.
    let looping = app("app");
    let e = err(&looping, &[base_file(None, &looping)]);
    assert!(
        e.ends_with("spec.baseProfileName: more than 15 levels of base profiles (the operator stops there too)"),
        "{e}"
    );
    assert_eq!(
        e.matches("in base profile `base.yaml`: ").count(),
        15,
        "{e}"
    );
    // One call, one action name, two errnos: the operator's sort would pick one by chance.
    assert_eq!(
        err(&app("runtime"), &[base_file(None, &BASE.replace("errnoRet: 1\n    names: [ptrace]", "errnoRet: 95\n    names: [clone3]"))]),
        "spec.baseProfileName: `clone3` has SCMP_ACT_ERRNO rules with different values (95 and 38) in the profile and its base: the operator orders the merged rules by action name only, so which one applies would be chance; give them one errnoRet"
    );
    // A base may be disabled or partial: the operator reads it all the same.
    let disabled = BASE.replace("spec:\n", "spec:\n  state: Disabled\n");
    assert!(profile::parse_with_bases(
        &app("runtime"),
        ReadOptions::default(),
        &[base_file(None, &disabled)]
    )
    .is_ok());
}
