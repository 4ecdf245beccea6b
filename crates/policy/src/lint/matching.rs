//! Whether each entry's conditions can match what they seem to: the checks `run` also
//! prints as warnings (see [`rule_warnings`]). They read the profile alone, each entry as
//! the rules it makes (see [`SyscallEntry::alternatives`]), each condition on the bits
//! the kernel reads of its argument.
//!
//! - `never-matches` (error): a condition no value of its argument meets (`< 0`, a
//!   32-bit argument `> 0xffffffff`): the rule never applies.
//! - `no-such-argument` (error): a condition on an argument the call does not take: the
//!   register holds whatever the caller left there, so the rule matches by chance.
//! - `always-matches` (error): alternatives on one argument that together admit every
//!   value (`!= TIOCSTI`, `!= TIOCLINUX`): the entry applies to every call, whatever it
//!   seems to say.
//! - `ignored-argument` (warning, read on the policy): a call whose decision changes with
//!   what a register holds that the kernel ignores in that form of the call (`open`'s
//!   mode without a create flag).
//! - `split-entry` (warning): an entry that repeats one argument and compares another:
//!   runc, crun and youki (and syscage) then split every condition into a rule of its own.

use super::{Finding, Severity};
use crate::cond::{width_mask, Op};
use crate::cube::{self, Cube};
use crate::eval;
use crate::model::Policy;
use crate::plan::MAX_CUBES;
use crate::profile::{alternatives, ArgSpec, Profile, SyscallEntry};
use crate::reads;
use crate::syscalls::{self, SyscallInfo};

/// The findings about what the entries can match, in profile order.
pub fn matching(profile: &Profile) -> Vec<Finding> {
    let mut out = Vec::new();
    for (i, e) in profile.syscalls().iter().enumerate() {
        entry(i, e, &mut out);
    }
    out
}

/// The lines `run` prints for a profile: each finding of [`matching`] that says a rule
/// does not match what it seems to.
pub fn rule_warnings(profile: &Profile) -> Vec<String> {
    matching(profile)
        .into_iter()
        .filter(|f| f.severity == Severity::Error)
        .map(|f| match f.place {
            Some(p) => format!("{p}: {}", f.message),
            None => f.message,
        })
        .collect()
}

fn push(
    out: &mut Vec<Finding>,
    severity: Severity,
    code: &'static str,
    place: String,
    message: String,
) {
    out.push(Finding {
        severity,
        code,
        place: Some(place),
        message,
    });
}

fn arg_name(s: &SyscallInfo, index: u8) -> String {
    s.args
        .get(usize::from(index))
        .map(|a| format!("`{}`", a.name))
        .unwrap_or_else(|| format!("arg{index}"))
}

fn shown(a: &ArgSpec) -> String {
    match a.op() {
        Op::MaskedEq(m) => format!("`arg{} & {m:#x} == {:#x}`", a.index(), a.value()),
        op => format!(
            "`arg{} {} {:#x}`",
            a.index(),
            match op {
                Op::Ne => "!=",
                Op::Lt => "<",
                Op::Le => "<=",
                Op::Eq => "==",
                Op::Ge => ">=",
                _ => ">",
            },
            a.value()
        ),
    }
}

fn entry(i: usize, e: &SyscallEntry, out: &mut Vec<Finding>) {
    let known: Vec<&'static SyscallInfo> = e
        .names()
        .iter()
        .filter_map(|n| syscalls::lookup(n))
        .collect();
    let args = e.args();
    let alts = alternatives(args);
    // no-such-argument, never-matches: per condition.
    for (j, a) in args.iter().enumerate() {
        let place = format!("syscalls[{i}].args[{j}]");
        let beyond: Vec<&str> = known
            .iter()
            .filter(|s| usize::from(a.index()) >= s.args.len())
            .map(|s| s.name)
            .collect();
        if let Some(s) = beyond.first().and_then(|n| syscalls::lookup(n)) {
            let takes = match s.args.len() {
                0 => "takes no argument".to_string(),
                1 => "takes 1 argument".to_string(),
                n => format!("takes {n} arguments"),
            };
            push(out, Severity::Error, "no-such-argument", place, format!(
                "{} compares arg{} of `{}`, which {takes}: the register holds whatever the caller left there, so the rule matches by chance; remove the condition",
                shown(a), a.index(), s.name
            ));
            continue;
        }
        if let Some(s) = known.iter().find(|s| {
            let bits = syscalls::arg_bits(s, a.index());
            cube::blocks(a.op(), a.value() & width_mask(bits), bits).is_empty()
        }) {
            let bits = syscalls::arg_bits(s, a.index());
            let also = if alts.len() > 1 {
                "this alternative never applies"
            } else {
                "the entry never applies"
            };
            push(out, Severity::Error, "never-matches", place, format!(
                "{} holds for no value of {} of `{}`, of which the kernel reads {bits} bits: {also}; fix or remove the condition",
                shown(a), arg_name(s, a.index()), s.name
            ));
        }
    }
    // always-matches: alternatives that together admit every call.
    if alts.len() > 1 {
        for s in &known {
            let bits = |x: u8| syscalls::arg_bits(s, x);
            let mut union: Vec<Cube> = Vec::new();
            for alt in &alts {
                let conds: Vec<crate::cond::Cond> = alt
                    .iter()
                    .filter_map(|(_, a)| crate::cond::Cond::new(a.index(), a.op(), a.value()))
                    .collect();
                if let Some(c) = cube::rule_cubes(&conds, &bits, MAX_CUBES) {
                    union.extend(c);
                }
            }
            if covers_everything(&union) {
                let conds: Vec<String> = args.iter().map(shown).collect();
                push(out, Severity::Error, "always-matches", format!("syscalls[{i}]"), format!(
                    "the conditions {} compare one argument more than once, so runc, crun and syscage read them as alternatives (one rule each), and together they admit every `{}` call: the entry applies unconditionally; to exclude several values, write the values to admit (each a SCMP_CMP_MASKED_EQ) or the ones to refuse as entries of their own",
                    conds.join(", "), s.name
                ));
                break;
            }
        }
        let first = args.first().map(|a| a.index());
        if !args.iter().all(|a| Some(a.index()) == first) {
            push(out, Severity::Warning, "split-entry", format!("syscalls[{i}]"),
                "the entry compares one argument more than once and also another: runc, crun and youki then add every condition as a rule of its own, so each condition alone lets a call match (syscage reads it the same way); if conditions on different arguments are meant to hold together, write one entry per value of the repeated argument".to_string());
        }
    }
}

/// Whether a union of cubes holds every call (giving up, as "no", past a few thousand
/// pieces of what is left).
fn covers_everything(union: &[Cube]) -> bool {
    let mut rest = vec![Cube::ALL];
    for c in union {
        rest = rest.iter().flat_map(|x| x.minus(c)).collect();
        if rest.is_empty() {
            return true;
        }
        if rest.len() > 4096 {
            return false;
        }
    }
    rest.is_empty()
}

/// Values of an argument that put calls in their various forms (see `reads`).
const FORMS: &[u64] = &[
    0,
    0o2000000,
    reads::O_CREAT | 1,
    reads::O_PATH,
    reads::__O_TMPFILE | 0o200000 | 2,
    0o100644,
    0o020644,
    17,
    0x0110_0011,
];

/// `ignored-argument`: calls whose decision changes with junk in a register the kernel
/// ignores in that form of the call, probed from every conditional rule's matches in
/// every form (as the built-in profiles are tested).
pub fn ignored_arguments(policy: &Policy) -> Vec<Finding> {
    let mut out = Vec::new();
    let mut seen: Vec<&'static str> = Vec::new();
    let native = crate::arch::Arch::native();
    for r in policy.rules() {
        let s = r.syscall();
        if r.is_unconditional() || r.is_derived() || seen.contains(&s.name) {
            continue;
        }
        if syscalls::number(s, native).is_none() {
            continue;
        }
        let bits = |x: u8| crate::syscalls::compared_bits(s, native, x);
        let Some(cubes) = cube::rule_cubes(r.conds(), &bits, MAX_CUBES) else {
            continue;
        };
        'probe: for c in cubes.iter().take(64) {
            for base in FORMS {
                let mut args = [0u64; 6];
                for (k, a) in args.iter_mut().enumerate() {
                    let (m, v) = c.args[k];
                    *a = (base & !m) | v;
                }
                // Registers past the call's arguments are `no-such-argument`'s.
                let mut ignored = reads::ignored(s, &args);
                for (k, x) in ignored.iter_mut().enumerate() {
                    *x &= k < s.args.len();
                }
                let d = eval::decide_syscall(policy, native, s, &args);
                for junk in [0u64, u64::MAX, 0o6000, 0x5412] {
                    let mut j = args;
                    for (k, x) in j.iter_mut().enumerate() {
                        if ignored[k] {
                            *x = junk;
                        }
                    }
                    let dj = eval::decide_syscall(policy, native, s, &j);
                    if dj.action == d.action {
                        continue;
                    }
                    let k = (0..6)
                        .find(|k| ignored[*k] && j[*k] != args[*k])
                        .unwrap_or(0);
                    let who = |d: &eval::Decision| d.by.describe(policy);
                    let place = [&d, &dj].iter().find_map(|d| match d.by {
                        eval::DecidedBy::Rule(i) => super::origin_place(policy.rules()[i].origin()),
                        _ => None,
                    });
                    out.push(Finding {
                        severity: Severity::Warning,
                        code: "ignored-argument",
                        place,
                        message: format!(
                            "`{}` with {} gets {} ({}), but {} ({}) when {} holds {:#x}, which the kernel ignores in that form of the call: the decision rests on whatever the caller left in the register; make the rules depend on the arguments that make the kernel read it (as `syscage profile show default --json` does for `open`)",
                            s.name, args_shown(s, &args, k), d.action, who(&d), dj.action, who(&dj), arg_name(s, k as u8), j[k]
                        ),
                    });
                    seen.push(s.name);
                    break 'probe;
                }
            }
        }
    }
    out
}

/// The call's arguments but `skip`, for messages: `flags 0x0, dfd 0x0`.
fn args_shown(s: &SyscallInfo, args: &[u64; 6], skip: usize) -> String {
    (0..s.args.len())
        .filter(|k| *k != skip)
        .map(|k| format!("{} {:#x}", arg_name(s, k as u8), args[k]))
        .collect::<Vec<_>>()
        .join(", ")
}
