//! `syscage profile diff A B`: what one policy allows that the other does not, call by
//! call, probing each call with the argument values either policy's rules compare.

use crate::action::Action;
use crate::arch::Arch;
use crate::eval;
use crate::model::Policy;
use crate::syscalls;
use std::collections::BTreeSet;

/// How two policies differ on one call.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Difference {
    /// Only the second policy lets the call run (for some arguments, or for all).
    OnlyB { call: &'static str, some_args: bool },
    /// Only the first policy lets the call run.
    OnlyA { call: &'static str, some_args: bool },
    /// Both refuse, differently (e.g. EPERM and ENOSYS).
    Refusal {
        call: &'static str,
        a: Action,
        b: Action,
    },
}

impl std::fmt::Display for Difference {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let args = |s: &bool| if *s { " (for some arguments)" } else { "" };
        match self {
            Difference::OnlyA { call, some_args } => write!(f, "- {call}{}", args(some_args)),
            Difference::OnlyB { call, some_args } => write!(f, "+ {call}{}", args(some_args)),
            Difference::Refusal { call, a, b } => write!(f, "~ {call}: {a} / {b}"),
        }
    }
}

fn probes(a: &Policy, b: &Policy, name: &str) -> Vec<[u64; 6]> {
    let mut vals: Vec<BTreeSet<u64>> = vec![BTreeSet::from([0u64]); 6];
    for r in a
        .rules()
        .iter()
        .chain(b.rules())
        .filter(|r| r.name() == name)
    {
        for c in r.conds() {
            let i = usize::from(c.index());
            vals[i].insert(c.value());
            vals[i].insert(c.value().wrapping_add(1));
            vals[i].insert(c.value().wrapping_sub(1));
            if let crate::cond::Op::MaskedEq(m) = c.op() {
                vals[i].insert(c.value() ^ (m & m.wrapping_neg()));
            }
        }
    }
    // Vary one argument at a time (the others at 0), then all at their first rule value.
    let mut out = vec![[0u64; 6]];
    for (i, vs) in vals.iter().enumerate() {
        for v in vs {
            let mut p = [0u64; 6];
            p[i] = *v;
            out.push(p);
        }
    }
    out
}

/// The differences on the native ABI, in call-name order.
pub fn diff(a: &Policy, b: &Policy) -> Vec<Difference> {
    let mut out = Vec::new();
    for s in syscalls::all() {
        if syscalls::number(s, Arch::X86_64).is_none() {
            continue;
        }
        let ps = probes(a, b, s.name);
        let (mut a_only, mut b_only, mut a_any, mut b_any) = (false, false, false, false);
        let mut refusal = None;
        for p in &ps {
            let da = eval::decide_syscall(a, Arch::X86_64, s, p).action;
            let db = eval::decide_syscall(b, Arch::X86_64, s, p).action;
            let (ra, rb) = (da.runs_call(), db.runs_call());
            a_only |= ra && !rb;
            b_only |= rb && !ra;
            a_any |= ra;
            b_any |= rb;
            if !ra && !rb && da != db && refusal.is_none() {
                refusal = Some((da, db));
            }
        }
        if a_only {
            out.push(Difference::OnlyA {
                call: s.name,
                some_args: b_any,
            });
        }
        if b_only {
            out.push(Difference::OnlyB {
                call: s.name,
                some_args: a_any,
            });
        }
        // A different refusal matters where a profile says something about the call; the
        // rest differ only in which calls each profile counts as newer than itself.
        let named = a
            .rules()
            .iter()
            .chain(b.rules())
            .any(|r| r.name() == s.name);
        if let (false, false, Some((x, y)), true) = (a_only, b_only, refusal, named) {
            out.push(Difference::Refusal {
                call: s.name,
                a: x,
                b: y,
            });
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{builtin, profile, resolve, Context};

    fn load(text: &str) -> Policy {
        resolve::resolve(
            "t",
            &profile::parse(text, Default::default()).unwrap(),
            &Context::docker_default(),
        )
        .unwrap()
    }

    #[test]
    fn differences_between_two_small_profiles() {
        let a = load(
            r#"{"defaultAction": "SCMP_ACT_ERRNO", "syscalls": [{"names": ["execve", "read", "keyctl", "mseal"], "action": "SCMP_ACT_ALLOW"},
            {"names": ["ioctl"], "action": "SCMP_ACT_ALLOW", "args": [{"index": 1, "value": 21505, "op": "SCMP_CMP_EQ"}]}]}"#,
        );
        let b = load(
            r#"{"defaultAction": "SCMP_ACT_ERRNO", "syscalls": [{"names": ["execve", "read", "write", "ioctl", "mseal"], "action": "SCMP_ACT_ALLOW"},
            {"names": ["clone3"], "action": "SCMP_ACT_ERRNO", "errnoRet": 38}]}"#,
        );
        let d: Vec<String> = diff(&a, &b).iter().map(|x| x.to_string()).collect();
        assert_eq!(
            d,
            vec![
                "~ clone3: ERRNO(EPERM) / ERRNO(ENOSYS)",
                "+ ioctl (for some arguments)",
                "- keyctl",
                "+ write"
            ]
        );
    }

    #[test]
    fn a_profile_does_not_differ_from_itself() {
        let def = builtin::load("default", Default::default())
            .unwrap()
            .profile
            .unwrap();
        let p = resolve::resolve("default", &def, &Context::docker_default()).unwrap();
        assert_eq!(diff(&p, &p), vec![]);
    }
}
