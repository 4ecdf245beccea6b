//! Learning never widens past the base profile: over random recorded calls (more than
//! MAX_VALUES distinct values included), every call the base profile's compiled program
//! denies, the learned profile's compiled program denies too, on every ABI.

use proptest::prelude::*;
use std::sync::OnceLock;
use syscage_policy::arch::Arch;
use syscage_policy::cond::width_mask;
use syscage_policy::{builtin, plan, profile, resolve, syscalls, Action, Context, Policy};
use syscage_seccomp::bpf::{self, SeccompData, SockFilter};
use syscage_seccomp::compile;
use syscage_supervise::constrained::constraint;
use syscage_supervise::learn::{Learned, MAX_VALUES};

const ARCHES: [Arch; 3] = [Arch::X86_64, Arch::X86, Arch::X32];

/// Calls with argument rules in the bases, calls learn constrains, and a few plain ones.
const CALLS: &[&str] = &[
    "ioctl",
    "prctl",
    "seccomp",
    "socket",
    "socketpair",
    "personality",
    "clone",
    "unshare",
    "fchmod",
    "chmod",
    "fchmodat",
    "fchmodat2",
    "openat",
    "open",
    "creat",
    "mknod",
    "mknodat",
    "kill",
    "keyctl",
    "getpid",
    "read",
    "clone3",
    "ptrace",
    "socketcall",
    "mount",
    "setns",
    "arch_prctl",
    "tgkill",
];

/// Values the bases look at, with and without upper bits.
const VALUES: &[u64] = &[
    0,
    1,
    2,
    3,
    4,
    8,
    9,
    15,
    22,
    38,
    40,
    0x5401,
    0x5412,
    0x541c,
    0x1_0000_5412,
    0x1_0000_541c,
    0o644,
    0o4755,
    0o2755,
    0o20644,
    0o60644,
    0x1000_0000,
    0x2000_0000,
    0x7E02_0000,
    0x20000,
    0xffff_ffff,
    1 << 32,
    1 << 32 | 22,
    u64::MAX,
];

/// What each probe also tries in place of each argument.
const SWAPS: &[u64] = &[3, 9, 22, 0x5412, 0x1_0000_5412, 0x541c, 0o4755, 0x1000_0000];

fn compile_policy(p: &Policy) -> Vec<SockFilter> {
    let pl = plan::plan(p).expect("plan");
    compile::compile(&pl).expect("compile").program
}

fn builtin_policy(name: &str, extra_arches: Vec<Arch>) -> Policy {
    let p = builtin::load(name, Default::default())
        .unwrap()
        .profile
        .unwrap();
    let ctx = Context {
        extra_arches,
        ..Context::docker_default()
    };
    resolve::resolve(name, &p, &ctx).unwrap()
}

fn text_policy(text: &str) -> Policy {
    let p = profile::parse(text, Default::default()).unwrap();
    resolve::resolve("t", &p, &Context::docker_default()).unwrap()
}

type Base = (&'static str, Policy, Vec<SockFilter>);

/// The bases, compiled once.
fn bases() -> &'static Vec<Base> {
    static B: OnceLock<Vec<Base>> = OnceLock::new();
    B.get_or_init(|| {
        let list = vec![
            ("default", builtin_policy("default", vec![])),
            (
                "default+x86+x32",
                builtin_policy("default", vec![Arch::X86, Arch::X32]),
            ),
            ("contained", builtin_policy("contained", vec![])),
            ("unconfined", Policy::allow_all()),
            (
                "docker",
                text_policy(include_str!(
                    "../../../profiles/docker-default.json"
                )),
            ),
            (
                // Denials on other arguments than learn's, and a kill.
                "deny-list",
                text_policy(
                    r#"{"defaultAction": "SCMP_ACT_ALLOW", "architectures": ["SCMP_ARCH_X86_64", "SCMP_ARCH_X86"], "syscalls": [
                    {"names": ["fchmod", "ioctl"], "action": "SCMP_ACT_ERRNO", "args": [{"index": 0, "value": 3, "op": "SCMP_CMP_EQ"}]},
                    {"names": ["kill", "tgkill"], "action": "SCMP_ACT_KILL_PROCESS", "args": [{"index": 1, "value": 9, "op": "SCMP_CMP_EQ"}]},
                    {"names": ["prctl"], "action": "SCMP_ACT_ERRNO", "args": [{"index": 0, "value": 22, "op": "SCMP_CMP_GE"}, {"index": 1, "value": 2, "op": "SCMP_CMP_LT"}]},
                    {"names": ["keyctl", "mount"], "action": "SCMP_ACT_ERRNO"}]}"#,
                ),
            ),
            (
                // An allow-list whose allows have conditions on other arguments.
                "allow-list",
                text_policy(
                    r#"{"defaultAction": "SCMP_ACT_ERRNO", "syscalls": [
                    {"names": ["read", "getpid", "execve", "clone", "unshare", "chmod"], "action": "SCMP_ACT_ALLOW"},
                    {"names": ["ioctl"], "action": "SCMP_ACT_ALLOW", "args": [{"index": 0, "value": 2, "op": "SCMP_CMP_LE"}]},
                    {"names": ["socket"], "action": "SCMP_ACT_ALLOW", "args": [{"index": 1, "value": 1, "op": "SCMP_CMP_EQ"}]},
                    {"names": ["fchmod"], "action": "SCMP_ACT_ALLOW", "args": [{"index": 0, "value": 3, "op": "SCMP_CMP_NE"}]},
                    {"names": ["kill"], "action": "SCMP_ACT_ALLOW", "args": [{"index": 1, "value": 15, "op": "SCMP_CMP_EQ"}]}]}"#,
                ),
            ),
        ];
        list.into_iter()
            .map(|(n, p)| {
                let prog = compile_policy(&p);
                (n, p, prog)
            })
            .collect()
    })
}

fn decide(program: &[SockFilter], arch: Arch, nr: u32, args: [u64; 6]) -> Action {
    let args = if arch == Arch::X86 {
        // i386 registers are 32-bit: the kernel zero-extends them.
        args.map(|a| a & width_mask(32))
    } else {
        args
    };
    let data = SeccompData {
        nr,
        arch: arch.audit_arch().unwrap(),
        instruction_pointer: 0,
        args,
    };
    Action::from_ret(bpf::run(program, &data).unwrap())
}

fn value() -> impl Strategy<Value = u64> {
    prop_oneof![3 => prop::sample::select(VALUES), 1 => any::<u64>()]
}

type Call = (usize, usize, [u64; 6]);

fn call() -> impl Strategy<Value = Call> {
    (
        0..ARCHES.len(),
        0..CALLS.len(),
        prop::array::uniform6(value()),
    )
}

/// Records `recorded` (whatever the base said: learn must hold even then), learns under
/// base `base_index`, and compares the two compiled programs on the recorded calls and
/// `probes`, each on every ABI and with each argument swapped for values the bases
/// look at.
fn check(
    base_index: usize,
    recorded: &[Call],
    many: Option<usize>,
    probes: &[Call],
) -> Result<(), TestCaseError> {
    let (base_name, base, base_prog) = &bases()[base_index];
    let mut l = Learned::default();
    l.record(Arch::X86_64, "execve", &[0; 6]);
    for (a, c, args) in recorded {
        l.record(ARCHES[*a], syscalls::lookup(CALLS[*c]).unwrap().name, args);
    }
    // More than MAX_VALUES distinct values: learned by name.
    if let Some(c) = many {
        let name = ["ioctl", "prctl", "socket", "personality", "fchmod", "clone"][c];
        let index = constraint(name).unwrap().0;
        for v in 0..=MAX_VALUES as u64 + 1 {
            let mut args = [0u64; 6];
            args[usize::from(index)] = v.wrapping_mul(0x9e37_79b9) & 0xffff_ffff;
            l.record(Arch::X86_64, name, &args);
        }
    }
    let (learned, _) = l.to_profile(base).unwrap();
    let text = profile::to_json(&learned).unwrap();
    let back = profile::parse(&text, Default::default()).unwrap();
    let policy = resolve::resolve("learned", &back, &Context::docker_default()).unwrap();
    let prog = compile_policy(&policy);
    for (_, c, args) in recorded.iter().chain(probes) {
        let Some(s) = syscalls::lookup(CALLS[*c]) else {
            continue;
        };
        let mut variants = vec![*args];
        for i in 0..6 {
            for v in SWAPS {
                let mut a = *args;
                a[i] = *v;
                variants.push(a);
            }
        }
        for arch in ARCHES {
            let Some(nr) = syscalls::number(s, arch) else {
                continue;
            };
            for a in &variants {
                let b = decide(base_prog, arch, nr, *a);
                let got = decide(&prog, arch, nr, *a);
                prop_assert!(
                    b.runs_call() || !got.runs_call(),
                    "base `{base_name}` answers {b} for {} on {arch} with {a:x?}, the learned profile {got}\n{text}",
                    s.name
                );
            }
        }
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 96, ..ProptestConfig::default() })]

    #[test]
    fn the_learned_profile_denies_what_the_base_denies(
        base in 0..7usize,
        recorded in prop::collection::vec(call(), 0..24),
        many in prop::option::of(0..6usize),
        probes in prop::collection::vec(call(), 0..8),
    ) {
        check(base, &recorded, many, &probes)?;
    }
}
