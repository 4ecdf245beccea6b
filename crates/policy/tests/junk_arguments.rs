//! The built-in profiles never decide on a register the kernel ignores. For every
//! conditional rule of `default` and `contained`, calls the rule matches (and calls near
//! it, in the other forms of the call: creating or not, O_PATH, device nodes or not, clone
//! with or without TID flags) are decided again with junk in every register the kernel
//! ignores in that form ([`syscage_policy::reads`]) and in the upper bits of arguments it
//! reads on 32 or 16 bits: the decision must not change. jemalloc's
//! `syscall(SYS_open, path, O_RDONLY|O_CLOEXEC)` leaves a stale mode register, and a mode
//! rule that judged it refused harmless reads at random.

use syscage_policy::arch::Arch;
use syscage_policy::caps::{Cap, CapSet};
use syscage_policy::cube;
use syscage_policy::reads::{self, __O_TMPFILE, O_CREAT, O_PATH};
use syscage_policy::{builtin, eval, plan, profile, resolve, syscalls, Action, Context, Policy};

fn policy(name: &str, caps: CapSet) -> Policy {
    let text = builtin::get(name).unwrap().text().unwrap();
    let p = profile::parse(text, Default::default()).unwrap();
    let ctx = Context {
        caps,
        ..Context::docker_default()
    };
    resolve::resolve(name, &p, &ctx).unwrap()
}

struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }
}

/// Values a register is left with, and the ones the rules look for.
const JUNK: &[u64] = &[
    0,
    u64::MAX,
    0o4000,
    0o2000,
    0o6000,
    0o4755,
    0x5412,
    22,
    0x7e02_0000,
];

/// Values of an argument that put the call in its various forms.
const FORMS: &[u64] = &[
    0,
    0o2000000,                      // O_RDONLY|O_CLOEXEC
    O_CREAT | 1,                    // O_CREAT|O_WRONLY
    O_CREAT | O_PATH,               // O_PATH drops O_CREAT
    __O_TMPFILE | 0o200000 | 2,     // O_TMPFILE|O_RDWR
    0o100000 | 0o644,               // S_IFREG
    0o020000 | 0o644,               // S_IFCHR
    0o010000 | 0o644,               // S_IFIFO
    17,                             // SIGCHLD
    0x0010_0000 | 0x0100_0000 | 17, // CLONE_PARENT_SETTID|CLONE_CHILD_SETTID|SIGCHLD
    0x0008_0000 | 17,               // CLONE_SETTLS|SIGCHLD
];

fn decide(p: &Policy, s: &syscalls::SyscallInfo, args: &[u64; 6]) -> Action {
    eval::decide_syscall(p, Arch::X86_64, s, args).action
}

/// `args` with junk in what the kernel ignores of them.
fn junked(r: &mut Rng, s: &syscalls::SyscallInfo, args: &[u64; 6], k: usize) -> [u64; 6] {
    let ignored = reads::ignored(s, args);
    let mut out = *args;
    for (i, a) in out.iter_mut().enumerate() {
        let bits = plan::arg_bits(s, Arch::X86_64, i as u8);
        let junk = if k < JUNK.len() {
            JUNK[(k + i) % JUNK.len()]
        } else {
            r.next()
        };
        if ignored[i] {
            *a = junk;
        } else if bits < 64 {
            *a = (*a & syscage_policy::cond::width_mask(bits))
                | (junk & !syscage_policy::cond::width_mask(bits));
        }
    }
    out
}

fn check(label: &str, p: &Policy) -> usize {
    let mut r = Rng(0x0bad_5eed);
    let mut checked = 0;
    for (ri, rule) in p.rules().iter().enumerate() {
        if rule.is_unconditional() || rule.is_derived() {
            continue;
        }
        let s = rule.syscall();
        if syscalls::number(s, Arch::X86_64).is_none() {
            continue;
        }
        let bits = |i: u8| plan::arg_bits(s, Arch::X86_64, i);
        let cubes = cube::rule_cubes(rule.conds(), &bits, plan::MAX_CUBES).unwrap();
        for c in &cubes {
            // The rule's fixed bits, every other argument in each of its forms.
            for base in FORMS {
                let mut args = [0u64; 6];
                for (i, a) in args.iter_mut().enumerate() {
                    let (m, v) = c.args[i];
                    *a = (base & !m) | v;
                }
                if !rule.matches(Arch::X86_64, &args) {
                    continue;
                }
                let want = decide(p, s, &args);
                for k in 0..JUNK.len() + 8 {
                    let j = junked(&mut r, s, &args, k);
                    let got = decide(p, s, &j);
                    assert_eq!(
                        got, want,
                        "{label}: rule {ri} `{rule}` ({}): {}{args:x?} is {want}, but {got} with junk in what the kernel ignores: {j:x?}",
                        rule.origin(),
                        s.name
                    );
                    checked += 1;
                }
            }
        }
    }
    checked
}

#[test]
fn no_rule_of_the_built_ins_reads_what_the_kernel_ignores() {
    let mut admin = CapSet::docker_default();
    admin.insert(Cap::SYS_ADMIN);
    admin.insert(Cap::SYS_PTRACE);
    for name in ["default", "contained"] {
        for caps in [CapSet::docker_default(), admin] {
            let n = check(name, &policy(name, caps));
            assert!(n > 1000, "{name}: only {n} calls checked");
        }
    }
}

#[test]
fn open_without_creating_is_allowed_whatever_the_mode_register_holds() {
    for name in ["default", "contained"] {
        let p = policy(name, CapSet::docker_default());
        for (call, fi) in [("open", 1usize), ("openat", 2)] {
            let s = syscalls::lookup(call).unwrap();
            let at = |flags: u64, mode: u64| {
                let mut a = [0u64; 6];
                a[fi] = flags;
                a[fi + 1] = mode;
                decide(&p, s, &a)
            };
            for mode in [0o4000u64, 0o2000, 0o6755, 0x7fff_ffff_ffff_ec00, u64::MAX] {
                // jemalloc: syscall(SYS_open, path, O_RDONLY|O_CLOEXEC) with a stale mode.
                assert_eq!(
                    at(0o2000000, mode),
                    Action::Allow,
                    "{name}: {call} O_RDONLY|O_CLOEXEC mode {mode:#o}"
                );
                assert_eq!(
                    at(0o1, mode),
                    Action::Allow,
                    "{name}: {call} O_WRONLY mode {mode:#o}"
                );
                assert_eq!(
                    at(O_PATH | O_CREAT, mode),
                    Action::Allow,
                    "{name}: {call} O_PATH|O_CREAT mode {mode:#o}"
                );
            }
            for flags in [
                O_CREAT | 1,
                O_CREAT | 0o1000 | 2,
                __O_TMPFILE | 0o200000 | 2,
            ] {
                for mode in [0o4755u64, 0o2755, 0o6000] {
                    assert_eq!(
                        at(flags, mode),
                        Action::Errno(1),
                        "{name}: {call} {flags:#o} mode {mode:#o}"
                    );
                }
                assert_eq!(
                    at(flags, 0o755),
                    Action::Allow,
                    "{name}: {call} {flags:#o} mode 0755"
                );
            }
        }
    }
}
