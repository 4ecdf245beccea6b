//! The compiled program, run instruction by instruction, decides what the plan decides
//! (and so what the evaluator decides: see the policy crate's plan_equals_eval).

use proptest::prelude::*;
use std::sync::OnceLock;
use syscage_policy::arch::{Arch, AUDIT_ARCH_I386, AUDIT_ARCH_X86_64};
use syscage_policy::caps::CapSet;
use syscage_policy::cube::Cube;
use syscage_policy::plan::{self, Plan};
use syscage_policy::{profile, resolve, syscalls, Action, Context};
use syscage_seccomp::bpf::{self, SeccompData, SockFilter};
use syscage_seccomp::compile;

fn compiled(text: &str) -> (Plan, Vec<SockFilter>) {
    compiled_with(text, CapSet::docker_default(), vec![])
}

fn compiled_with(text: &str, caps: CapSet, extra_arches: Vec<Arch>) -> (Plan, Vec<SockFilter>) {
    let p = profile::parse(text, Default::default()).expect("parse");
    let ctx = Context {
        caps,
        kernel: None,
        extra_arches,
        supervised: false,
    };
    let policy = resolve::resolve("t", &p, &ctx).expect("resolve");
    let pl = plan::plan(&policy).expect("plan");
    let c = compile::compile(&pl).expect("compile");
    // What the compiler may leave out: calls libseccomp cannot name on a foreign ABI, and
    // only rules no stricter than the default (the call then gets the default). The
    // comparison below is against the plan without them.
    for e in &c.omitted {
        assert!(
            e.arch() != Arch::X86_64
                && compile::strictness(e.action()) <= compile::strictness(pl.default_action()),
            "the compiler left out {} {} on {}",
            e.action(),
            e.syscall().name,
            e.arch()
        );
    }
    let effective = pl.without(&c.omitted);
    (effective, c.program)
}

fn docker() -> &'static (Plan, Vec<SockFilter>) {
    static D: OnceLock<(Plan, Vec<SockFilter>)> = OnceLock::new();
    D.get_or_init(|| compiled(include_str!("../../../profiles/docker-default.json")))
}

type Compiled = (Plan, Vec<SockFilter>);

fn others() -> &'static Vec<(&'static str, Compiled)> {
    static O: OnceLock<Vec<(&'static str, Compiled)>> = OnceLock::new();
    O.get_or_init(|| {
        let all = vec![Arch::X86, Arch::X32];
        let mut no_audit = CapSet::docker_default();
        no_audit.remove(syscage_policy::Cap::parse("AUDIT_WRITE").unwrap());
        vec![
            (
                "default",
                compiled(include_str!("../../policy/profiles/default.json")),
            ),
            (
                "default+abis",
                compiled_with(
                    include_str!("../../policy/profiles/default.json"),
                    CapSet::docker_default(),
                    all.clone(),
                ),
            ),
            (
                "contained",
                compiled(include_str!("../../policy/profiles/contained.json")),
            ),
            (
                "conflicts",
                compiled_with(
                    include_str!("../../policy/tests/fixtures/profiles/conflicts.json"),
                    CapSet::empty(),
                    all.clone(),
                ),
            ),
            (
                "podman-no-audit",
                compiled_with(
                    include_str!("../../../profiles/podman-default.json"),
                    no_audit,
                    vec![],
                ),
            ),
        ]
    })
}

fn run(prog: &[SockFilter], arch: Arch, nr: u32, args: [u64; 6]) -> Action {
    let audit = if arch == Arch::X86 {
        AUDIT_ARCH_I386
    } else {
        AUDIT_ARCH_X86_64
    };
    let data = SeccompData {
        nr,
        arch: audit,
        instruction_pointer: 0,
        args,
    };
    Action::from_ret(bpf::run(prog, &data).expect("program runs"))
}

fn interesting() -> impl Strategy<Value = u64> {
    prop_oneof![
        Just(0u64),
        Just(8),
        Just(38),
        Just(39),
        Just(40),
        Just(41),
        Just(0x20008),
        Just(0xffff_ffff),
        Just(1u64 << 32 | 40),
        Just(0x7e02_0000),
        Just(0x1000_0000),
        Just(u64::MAX),
        any::<u64>(),
        any::<u32>().prop_map(u64::from),
        0u64..64,
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn docker_program_equals_plan(arch in prop_oneof![Just(Arch::X86_64), Just(Arch::X86), Just(Arch::X32)],
                                  name in prop::sample::select(syscalls::all().iter().map(|s| s.name).collect::<Vec<_>>()),
                                  args in prop::array::uniform6(interesting())) {
        let (pl, prog) = docker();
        let Some(nr) = syscalls::number(syscalls::lookup(name).unwrap(), arch) else { return Ok(()) };
        let args = args.map(|v| v & syscage_policy::cond::width_mask(arch.compared_bits()));
        prop_assert_eq!(run(prog, arch, nr, args), pl.decide(arch, nr, &args), "{} {} {:x?}", arch, name, args);
    }

    #[test]
    fn any_number_any_abi(nr in 0u32..1024, high in prop_oneof![Just(0u32), Just(0x4000_0000)], i386 in any::<bool>()) {
        let (pl, prog) = docker();
        let nr = nr | high;
        let arch = if i386 { Arch::X86 } else if high != 0 { Arch::X32 } else { Arch::X86_64 };
        prop_assert_eq!(run(prog, arch, nr, [0; 6]), pl.decide(arch, nr, &[0; 6]), "{} {}", arch, nr);
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(3000))]

    #[test]
    fn other_programs_equal_their_plans(which in 0usize..5,
                                        arch in prop_oneof![Just(Arch::X86_64), Just(Arch::X86), Just(Arch::X32)],
                                        name in prop::sample::select(vec!["ioctl", "socket", "fchmod", "fchmodat", "mknodat", "openat", "clone", "unshare", "personality", "prctl", "seccomp", "mmap", "socketcall", "getpid", "clone3", "ptrace"]),
                                        args in prop::array::uniform6(interesting())) {
        let (label, (pl, prog)) = &others()[which];
        let Some(nr) = syscalls::number(syscalls::lookup(name).unwrap(), arch) else { return Ok(()) };
        let args = args.map(|v| v & syscage_policy::cond::width_mask(arch.compared_bits()));
        prop_assert_eq!(run(prog, arch, nr, args), pl.decide(arch, nr, &args), "{} {} {} {:x?}", label, arch, name, args);
    }
}

#[test]
fn foreign_abis_are_killed_and_newer_calls_get_enosys() {
    let (_, prog) = docker();
    let statmount = 457;
    // Docker's profile knows up to 466 on x86_64.
    assert_eq!(run(prog, Arch::X86_64, 500, [0; 6]), Action::Errno(38));
    assert_eq!(run(prog, Arch::X86_64, statmount, [0; 6]), Action::Allow);
    let data = SeccompData {
        nr: 39,
        arch: 0x4000_0028,
        instruction_pointer: 0,
        args: [0; 6],
    };
    assert_eq!(
        Action::from_ret(bpf::run(prog, &data).unwrap()),
        Action::KillProcess,
        "ARM ABI"
    );
}

#[test]
fn many_not_equal_rules_stay_exact() {
    // Each call allowed for all values of one 32-bit argument but a few becomes an
    // exception in syscage's prefix; past the cap the rest compile as cubes. Either way
    // every denied value stays denied.
    let calls = [
        "setuid",
        "setgid",
        "dup",
        "close",
        "fsync",
        "fdatasync",
        "fchdir",
        "umask",
        "alarm",
        "getpgid",
        "getsid",
        "setfsuid",
        "setfsgid",
        "personality",
        "ioctl",
        "prctl",
        "syncfs",
        "dup2",
        "dup3",
        "flock",
        "fchown",
        "fchmod",
        "ftruncate",
        "listen",
        "shutdown",
        "socket",
    ];
    let mut rules = vec![
        r#"{"names": ["execve", "exit_group", "read", "write"], "action": "SCMP_ACT_ALLOW"}"#
            .to_string(),
    ];
    for c in calls {
        let info = syscalls::lookup(c).unwrap();
        let idx = (0..info.args.len())
            .find(|i| syscage_policy::plan::arg_bits(info, Arch::X86_64, *i as u8) <= 32)
            .unwrap_or(0);
        // Every value but 1000..=1007, as masks on the argument's 32 bits: six
        // alternatives to an entry, the way runc and crun read them.
        let bits = syscage_policy::plan::arg_bits(info, Arch::X86_64, idx as u8);
        let w = syscage_policy::cond::width_mask(bits);
        let points: Vec<Cube> = (1000..1008u64)
            .map(|v| {
                let mut c = Cube::ALL;
                c.args[0] = (w, v);
                c
            })
            .collect();
        let admitted = syscage_policy::cube::difference(&[Cube::ALL], &points);
        for part in admitted.chunks(6) {
            let args: Vec<String> = part
                .iter()
                .map(|c| {
                    let (m, v) = c.args[0];
                    format!(r#"{{"index": {idx}, "value": {m}, "valueTwo": {v}, "op": "SCMP_CMP_MASKED_EQ"}}"#)
                })
                .collect();
            rules.push(format!(
                r#"{{"names": ["{c}"], "action": "SCMP_ACT_ALLOW", "args": [{}]}}"#,
                args.join(", ")
            ));
        }
    }
    let text = format!(
        r#"{{"defaultAction": "SCMP_ACT_ERRNO", "syscalls": [{}]}}"#,
        rules.join(", ")
    );
    let (pl, prog) = compiled(&text);
    assert_eq!(pl.exceptions().len(), syscage_policy::plan::MAX_EXCEPTIONS);
    for c in calls {
        let info = syscalls::lookup(c).unwrap();
        let nr = syscalls::number(info, Arch::X86_64).unwrap();
        let idx = (0..info.args.len())
            .find(|i| syscage_policy::plan::arg_bits(info, Arch::X86_64, *i as u8) <= 32)
            .unwrap_or(0);
        for v in [1000u64, 1007, 1 << 32 | 1003, 999, 1008] {
            let mut args = [0u64; 6];
            args[idx] = v;
            let want = if (1000..1008).contains(&(v & 0xffff_ffff)) {
                Action::Errno(1)
            } else {
                Action::Allow
            };
            assert_eq!(run(&prog, Arch::X86_64, nr, args), want, "{c} {v:#x}");
            assert_eq!(
                pl.decide(Arch::X86_64, nr, &args),
                want,
                "{c} {v:#x} (plan)"
            );
        }
    }
}
