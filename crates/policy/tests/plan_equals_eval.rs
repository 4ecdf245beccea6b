//! The plan (what the compiler emits) decides every call exactly as the evaluator does:
//! random calls, interesting argument values (with and without upper bits), on Docker's
//! and Podman's profiles and on hand-written conflicting rules.

use proptest::prelude::*;
use std::sync::OnceLock;
use syscage_policy::arch::{Arch, AUDIT_ARCH_I386, AUDIT_ARCH_X86_64};
use syscage_policy::caps::{Cap, CapSet};
use syscage_policy::{eval, plan, profile, resolve, syscalls, Context, Policy};

fn load(text: &str, caps: CapSet) -> Policy {
    let p = profile::parse(text, Default::default()).expect("parse");
    let ctx = Context {
        caps,
        kernel: None,
        extra_arches: vec![],
        supervised: false,
    };
    resolve::resolve("test", &p, &ctx).expect("resolve")
}

fn docker() -> Policy {
    load(
        include_str!("../../../profiles/docker-default.json"),
        CapSet::docker_default(),
    )
}

fn planned(which: &str) -> &'static (Policy, plan::Plan) {
    static CACHE: OnceLock<Vec<(String, &'static (Policy, plan::Plan))>> = OnceLock::new();
    let all = CACHE.get_or_init(|| {
        let mut no_audit = CapSet::docker_default();
        no_audit.remove(Cap::parse("AUDIT_WRITE").unwrap());
        let podman = include_str!("../../../profiles/podman-default.json");
        [
            ("docker", docker()),
            ("podman", load(podman, CapSet::docker_default())),
            ("podman-no-audit", load(podman, no_audit)),
            ("conflicts", load(CONFLICTS, CapSet::empty())),
        ]
        .into_iter()
        .map(|(n, p)| {
            let pl = plan::plan(&p).expect("plan");
            (n.to_string(), &*Box::leak(Box::new((p, pl))))
        })
        .collect()
    });
    all.iter()
        .find(|(n, _)| n == which)
        .map(|(_, p)| *p)
        .expect("known policy")
}

const CONFLICTS: &str = include_str!("fixtures/profiles/conflicts.json");

fn interesting() -> impl Strategy<Value = u64> {
    prop_oneof![
        Just(0u64),
        Just(3),
        Just(4),
        Just(38),
        Just(39),
        Just(40),
        Just(41),
        Just(0x5412),
        Just(0x541c),
        Just(0x5401),
        Just(21499),
        Just(21600),
        Just(0o4755),
        Just(0o2755),
        Just(0x7e02_0000),
        Just(0x1000_0000),
        Just(0xffff_ffff),
        Just(1u64 << 32),
        Just((1u64 << 32) | 40),
        Just((1u64 << 32) | 0x5412),
        Just(u64::MAX),
        any::<u64>(),
        any::<u32>().prop_map(u64::from),
        (0u64..64),
    ]
}

fn check(
    pp: &(Policy, plan::Plan),
    arch: Arch,
    nr: u32,
    args: [u64; 6],
) -> Result<(), TestCaseError> {
    let (policy, pl) = pp;
    let audit = if arch == Arch::X86 {
        AUDIT_ARCH_I386
    } else {
        AUDIT_ARCH_X86_64
    };
    let regs = args.map(|v| v & syscage_policy::cond::width_mask(arch.compared_bits()));
    let want = eval::decide_raw(policy, audit, nr, &regs).action;
    let got = pl.decide(arch, nr, &regs);
    prop_assert_eq!(got, want, "{} nr {} args {:x?}", arch, nr, regs);
    Ok(())
}

fn call() -> impl Strategy<Value = (Arch, u32, [u64; 6])> {
    let names = [
        "ioctl",
        "socket",
        "fchmod",
        "mmap",
        "personality",
        "clone",
        "clone3",
        "read",
        "getpid",
        "statmount",
        "mseal",
        "socketcall",
    ];
    (
        prop_oneof![Just(Arch::X86_64), Just(Arch::X86), Just(Arch::X32)],
        prop::sample::select(names.to_vec()),
        prop::array::uniform6(interesting()),
    )
        .prop_filter_map("call exists on the ABI", |(arch, name, args)| {
            let s = syscalls::lookup(name)?;
            Some((arch, syscalls::number(s, arch)?, args))
        })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(3000))]

    #[test]
    fn docker_profile((arch, nr, args) in call()) {
        check(planned("docker"), arch, nr, args)?;
    }

    #[test]
    fn podman_profile((arch, nr, args) in call()) {
        check(planned("podman"), arch, nr, args)?;
    }

    #[test]
    fn podman_profile_without_audit_write((arch, nr, args) in call()) {
        check(planned("podman-no-audit"), arch, nr, args)?;
    }

    #[test]
    fn conflicting_rules((arch, nr, args) in call()) {
        check(planned("conflicts"), arch, nr, args)?;
    }

    #[test]
    fn any_number(nr in 0u32..600, x32 in any::<bool>(), args in prop::array::uniform6(interesting())) {
        let nr = if x32 { nr | 0x4000_0000 } else { nr };
        check(planned("docker"), if x32 { Arch::X32 } else { Arch::X86_64 }, nr, args)?;
    }
}

#[test]
fn docker_with_sys_admin_allows_unshare() {
    let mut caps = CapSet::docker_default();
    caps.insert(Cap::SYS_ADMIN);
    let p = load(include_str!("../../../profiles/docker-default.json"), caps);
    let unshare = syscalls::lookup("unshare").unwrap();
    assert_eq!(
        eval::decide_syscall(&p, Arch::X86_64, unshare, &[0; 6]).action,
        syscage_policy::Action::Allow
    );
    let d = docker();
    assert_eq!(
        eval::decide_syscall(&d, Arch::X86_64, unshare, &[0; 6]).action,
        syscage_policy::Action::Errno(1)
    );
}

#[test]
fn rules_too_complex_to_compile_exactly_are_refused() {
    let text = r#"{"defaultAction": "SCMP_ACT_ERRNO", "syscalls": [
        {"names": ["execve"], "action": "SCMP_ACT_ALLOW"},
        {"names": ["socket"], "action": "SCMP_ACT_ALLOW", "args": [{"index": 0, "value": 40, "op": "SCMP_CMP_NE"}, {"index": 1, "value": 3, "op": "SCMP_CMP_NE"}]},
        {"names": ["socket"], "action": "SCMP_ACT_LOG", "args": [{"index": 0, "value": 40, "op": "SCMP_CMP_GT"}]}]}"#;
    let err = plan::plan(&load(text, CapSet::empty())).unwrap_err();
    assert_eq!(
        err.to_string(),
        "the rules for `socket` on x86_64 need more than 512 argument cases to compile exactly; simplify their conditions"
    );
}
