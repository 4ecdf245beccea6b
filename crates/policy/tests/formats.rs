//! The forms syscage writes for Kubernetes mean what the profile means: a policy written as
//! the OCI `linux.seccomp` object or as a Security Profiles Operator `SeccompProfile`, read
//! back and resolved again, decides every call as the policy did (the evaluator judges;
//! `plan_equals_eval` and the seccomp crate's tests tie the evaluator to the programs).

mod support;

use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};
use std::cell::Cell;
use syscage_policy::profile::{self, spo, ReadOptions};
use syscage_policy::{resolve, Arch, CapSet, Context, Policy};

fn policy(text: &str, ctx: &Context) -> Policy {
    let p = profile::parse(text, ReadOptions::default()).unwrap_or_else(|e| panic!("{e}\n{text}"));
    resolve::resolve("t", &p, ctx).unwrap_or_else(|e| panic!("{e}\n{text}"))
}

/// How far a policy was written.
#[derive(Debug, PartialEq, Eq)]
enum Written {
    Both,
    /// The resource cannot hold it (an errno or value it has no room for).
    OciOnly,
    /// Its conditions take more entries to write portably than the writers allow.
    TooComplex,
}

/// Writes `p` both ways and checks each reads back to the same decisions.
fn round_trip(p: &Policy, ctx: &Context) -> Result<Written, String> {
    let oci = match profile::policy_to_oci(p, false) {
        Ok(t) => t,
        Err(profile::PortableError::TooComplex { .. }) => return Ok(Written::TooComplex),
    };
    support::same_decisions(p, &policy(&oci, ctx)).map_err(|e| format!("oci: {e}\n{oci}"))?;
    match spo::policy_to_spo(p, "round-trip", &["a test".to_string()]) {
        Ok(yaml) => {
            support::same_decisions(p, &policy(&yaml, ctx))
                .map_err(|e| format!("spo: {e}\n{yaml}"))?;
            Ok(Written::Both)
        }
        Err(spo::WriteError::Default(_) | spo::WriteError::Value { .. }) => Ok(Written::OciOnly),
        Err(e) => Err(format!("spo: {e}")),
    }
}

fn contexts() -> Vec<Context> {
    let mut admin = Context::docker_default();
    admin.caps.insert(syscage_policy::Cap::SYS_ADMIN);
    let mut i386 = Context::docker_default();
    i386.extra_arches = vec![Arch::X86, Arch::X32];
    let mut old = Context::docker_default();
    old.kernel = syscage_policy::KernelVersion::parse("4.14");
    let mut none = Context::docker_default();
    none.caps = CapSet::empty();
    vec![Context::docker_default(), admin, i386, old, none]
}

#[test]
fn real_profiles_round_trip() {
    let corpus = [
        (
            "default",
            syscage_policy::builtin::get("default")
                .unwrap()
                .text()
                .unwrap(),
        ),
        (
            "contained",
            syscage_policy::builtin::get("contained")
                .unwrap()
                .text()
                .unwrap(),
        ),
        (
            "docker",
            include_str!("../../../profiles/docker-default.json"),
        ),
        (
            "podman",
            include_str!("../../../profiles/podman-default.json"),
        ),
        (
            "conflicts",
            include_str!("fixtures/profiles/conflicts.json"),
        ),
    ];
    let mut written = 0;
    for (name, text) in corpus {
        for ctx in contexts() {
            let p = policy(text, &ctx);
            match round_trip(&p, &ctx) {
                Ok(w) => written += usize::from(w == Written::Both),
                Err(e) => panic!("{name}: {e}"),
            }
        }
    }
    // Podman's default answers ENOSYS by default, which the resource cannot say.
    assert_eq!(written, 20);
}

#[test]
fn generated_profiles_round_trip() {
    let mut runner = TestRunner::new(Config::with_cases(400));
    let (cases, spo_written, complex) = (Cell::new(0usize), Cell::new(0usize), Cell::new(0usize));
    let ctx = Context::docker_default();
    runner
        .run(&support::profile(), |v| {
            let text = v.to_string();
            let Ok(p) = profile::parse(&text, ReadOptions::default()) else {
                return Err(TestCaseError::fail(format!("refused: {text}")));
            };
            // A profile that denies execve is refused, as it should be.
            let Ok(p) = resolve::resolve("t", &p, &ctx) else {
                return Ok(());
            };
            cases.set(cases.get() + 1);
            match round_trip(&p, &ctx) {
                Ok(Written::Both) => spo_written.set(spo_written.get() + 1),
                Ok(Written::OciOnly) => {}
                Ok(Written::TooComplex) => complex.set(complex.get() + 1),
                Err(e) => return Err(TestCaseError::fail(format!("{e}\nfrom {text}"))),
            }
            Ok(())
        })
        .unwrap();
    let (n, w, c) = (cases.get(), spo_written.get(), complex.get());
    println!("{n} generated policies: {c} too complex to write, the others round-tripped; {w} also as a SeccompProfile");
    assert!(n > 300, "{n}");
    assert!(c * 20 < n, "{c} of {n} too complex");
    assert!(w * 2 > n, "{w} of {n} written as a SeccompProfile");
}

#[test]
fn a_resource_reads_as_its_spec_does() {
    let mut runner = TestRunner::new(Config::with_cases(300));
    runner
        .run(&support::profile(), |v| {
            let spec = support::as_resource(&v, "gen");
            let mut docker = spec["spec"].clone();
            docker.as_object_mut().unwrap().remove("defaultErrnoRet");
            let want = profile::parse(&docker.to_string(), ReadOptions::default());
            for text in [support::to_yaml(&spec), spec.to_string()] {
                match (profile::parse(&text, ReadOptions::default()), &want) {
                    (Ok(got), Ok(want)) => prop_assert_eq!(&got, want, "{}", text),
                    // The resource holds no value above 2^63-1.
                    (Err(e), Ok(_)) => prop_assert!(
                        e.to_string().contains("is above 9223372036854775807"),
                        "{}: {}",
                        e,
                        text
                    ),
                    (got, want) => prop_assert!(false, "{:?} / {:?}: {}", got, want, text),
                }
            }
            Ok(())
        })
        .unwrap();
}
