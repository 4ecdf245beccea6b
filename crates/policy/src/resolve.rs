//! Resolution: a [`Profile`] plus the run's context (capabilities, the kernel, extra ABIs)
//! becomes a [`Policy`], following Docker's rules for `includes`/`excludes`/`archMap` so that
//! Docker's own profiles decide here what they decide under Docker.

use crate::action::Action;
use crate::arch::Arch;
use crate::caps::CapSet;
use crate::cond::{fit_value, width_mask, Cond, Op};
use crate::eval;
use crate::model::{Flags, Listener, Origin, Policy, Rule, Skipped};
use crate::profile::{ArgSpec, FilterFlag, KernelVersion, Profile, SyscallEntry};
use crate::syscalls::{self, SyscallInfo};
use std::collections::BTreeMap;
use thiserror::Error;

/// What the run brings to resolution.
#[derive(Debug, Clone)]
pub struct Context {
    /// The container's bounding set: `includes.caps`/`excludes.caps` are matched against
    /// it, as Docker matches them against the OCI bounding set.
    pub caps: CapSet,
    /// The running kernel, for `minKernel`. `None` treats every `minKernel` as met.
    pub kernel: Option<KernelVersion>,
    /// ABIs admitted beyond the profile's (`--seccomp-arch`).
    pub extra_arches: Vec<Arch>,
    /// Whether syscage answers notified calls itself (`--report`, `learn`), so that a
    /// NOTIFY rule needs no `listenerPath`.
    pub supervised: bool,
}

impl Context {
    /// Docker's default capabilities on a recent kernel, native ABI only: what `profile
    /// check` and tests use when nothing else is said.
    pub fn docker_default() -> Context {
        Context {
            caps: CapSet::docker_default(),
            kernel: None,
            extra_arches: Vec::new(),
            supervised: false,
        }
    }
}

/// Why a profile could not become a policy.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum ResolveError {
    #[error("{path}: value `{value:#x}` cannot be what `{syscall}` sees in its argument `{arg}`: the kernel uses only the low {bits} bits")]
    ValueTooWide {
        path: String,
        value: u64,
        syscall: String,
        arg: String,
        bits: u32,
    },
    #[error("the profile denies `execve` ({action} by {by}): no command could ever start; allow `execve` (and `execveat`)")]
    DeniesExecve { action: Action, by: String },
    #[error("architecture `{0}` cannot be admitted on this machine: syscage filters the x86 ABIs (x86_64, x86, x32)")]
    ForeignArch(Arch),
    #[error("{path}: argument index `{index}` is above 5: seccomp sees only six arguments")]
    IndexRange { path: String, index: u8 },
    #[error("{place}: SCMP_ACT_NOTIFY on `{syscall}` needs a supervisor to answer, and the profile names no `listenerPath`: the kernel would fail the call with ENOSYS; give `listenerPath` (an OCI seccomp agent), run with --report, or use SCMP_ACT_ERRNO or SCMP_ACT_LOG (runc refuses it too)")]
    NotifyWithoutListener {
        place: String,
        syscall: &'static str,
    },
}

/// Resolves a profile for a run.
pub fn resolve(name: &str, profile: &Profile, ctx: &Context) -> Result<Policy, ResolveError> {
    let default_action = profile.default_action();
    let mut skipped = Vec::new();

    let arches = abis(profile, ctx, &mut skipped)?;

    let mut rules = Vec::new();
    // The highest number per ABI of any call the profile names, in any entry, applied or
    // not: calls above it are newer than the profile (runc's rule for its ENOSYS stub).
    let mut known_max: BTreeMap<Arch, u32> = BTreeMap::new();
    for (index, entry) in profile.syscalls().iter().enumerate() {
        note_numbers(entry, &arches, &mut known_max);
        rules.extend(entry_rules(
            index,
            entry,
            &arches,
            ctx,
            default_action,
            &mut skipped,
        )?);
    }

    let newer_action = (default_action.is_denial() && default_action != Action::Errno(ENOSYS))
        .then_some(Action::Errno(ENOSYS));
    let flags = filter_flags(profile);
    let mut policy = Policy {
        name: name.to_string(),
        default_action,
        arches,
        rules,
        newer_action,
        newer_max: known_max.into_iter().collect(),
        flags,
        listener: None,
        skipped,
        unnamed: vec![],
    };
    check_execve(&policy)?;
    listener(profile, ctx, &mut policy)?;
    Ok(policy)
}

/// The ABIs: runc starts from the native ABI and adds the profile's; Docker's archMap
/// contributes the entry whose architecture is the native one, with its sub-arches.
fn abis(
    profile: &Profile,
    ctx: &Context,
    skipped: &mut Vec<Skipped>,
) -> Result<Vec<Arch>, ResolveError> {
    let native = Arch::native();
    let mut arches = vec![native];
    let mut add = |a: Arch, skipped: &mut Vec<Skipped>| {
        if !a.is_x86() {
            skipped.push(Skipped {
                origin: Origin::Builtin("architectures"),
                what: a.scmp_name().to_string(),
                why: "not an ABI of this machine".to_string(),
            });
        } else if !arches.contains(&a) {
            arches.push(a);
        }
    };
    for a in profile.architectures() {
        add(*a, skipped);
    }
    for e in profile.arch_map().iter().filter(|e| e.arch() == native) {
        add(e.arch(), skipped);
        for s in e.sub() {
            add(*s, skipped);
        }
    }
    for a in &ctx.extra_arches {
        if !a.is_x86() {
            return Err(ResolveError::ForeignArch(*a));
        }
        if !arches.contains(a) {
            arches.push(*a);
        }
    }

    Ok(arches)
}

/// The highest number per ABI of the calls `entry` names (applied or not).
fn note_numbers(entry: &SyscallEntry, arches: &[Arch], known_max: &mut BTreeMap<Arch, u32>) {
    for name in entry.names() {
        if let Some(s) = syscalls::lookup(name) {
            for a in arches {
                // x32's own numbers (512..=547) are old compat entry points below
                // which new calls are still added: they say nothing about age.
                if let Some(nr) = syscalls::number(s, *a).filter(|n| !syscalls::is_x32_compat(*n)) {
                    let m = known_max.entry(*a).or_insert(0);
                    *m = (*m).max(nr);
                }
            }
        }
    }
}

/// The rules of one `syscalls[]` entry, in its place; what is not applied goes to
/// `skipped` with the reason.
fn entry_rules(
    index: usize,
    entry: &SyscallEntry,
    arches: &[Arch],
    ctx: &Context,
    default_action: Action,
    skipped: &mut Vec<Skipped>,
) -> Result<Vec<Rule>, ResolveError> {
    let mut rules = Vec::new();
    let mut derived = Vec::new();
    let origin = Origin::Profile {
        index,
        comment: entry.comment().map(str::to_string),
    };
    if let Some(why) = not_applied(entry, ctx) {
        skipped.push(Skipped {
            origin,
            what: entry.names().join(","),
            why,
        });
        return Ok(rules);
    }
    for name in entry.unknown() {
        skipped.push(Skipped {
            origin: origin.clone(),
            what: name.clone(),
            why: "unknown system call (skipped as asked)".to_string(),
        });
    }
    if entry.action() == default_action {
        // libseccomp refuses a rule whose action is the default (EACCES); runc, crun and
        // youki skip it, and so must we for Docker's files to load.
        skipped.push(Skipped {
            origin,
            what: entry.names().join(","),
            why: format!("same action as the default ({default_action})"),
        });
        return Ok(rules);
    }
    for name in entry.names() {
        let info = syscalls::lookup(name);
        if info.is_none() {
            skipped.push(Skipped {
                origin: origin.clone(),
                what: name.clone(),
                why: "not a system call of the x86 ABIs".to_string(),
            });
        }
        // Same-argument conditions are alternatives (see `SyscallEntry::alternatives`):
        // one rule each, in the entry's place.
        for alt in entry.alternatives() {
            if arches.contains(&Arch::X86) {
                if let Some(r) = multiplexed_rule(name, entry, &alt, &origin)? {
                    derived.push(r);
                }
            }
            let Some(info) = info else { continue };
            let mut conds = Vec::new();
            for (ai, a) in alt {
                conds.push(condition(info, index, ai, &a)?);
            }
            rules.push(Rule::new(info, entry.action(), conds, origin.clone()));
        }
    }
    rules.append(&mut derived);
    Ok(rules)
}

fn filter_flags(profile: &Profile) -> Flags {
    let mut flags = Flags::default();
    for f in profile.flags() {
        match f {
            FilterFlag::Tsync => {}
            FilterFlag::Log => flags.log = true,
            FilterFlag::SpecAllow => flags.spec_allow = true,
            FilterFlag::WaitKillableRecv => flags.wait_killable_recv = true,
        }
    }
    flags
}

/// Who answers the calls the profile notifies. runc refuses SCMP_ACT_NOTIFY without
/// `listenerPath` ("seccomp listenerPath is not set"): nothing would answer and the kernel
/// would fail each call with ENOSYS; syscage does too, unless it answers them itself
/// (`--report`, `learn`). A `listenerPath` without a NOTIFY rule is left out, as runc
/// does (its filter then has no notification fd to hand over; the runtime spec sends the
/// state "when the SCMP_ACT_NOTIFY action is used"); crun connects to the agent anyway.
fn listener(profile: &Profile, ctx: &Context, policy: &mut Policy) -> Result<(), ResolveError> {
    let notifies = policy.rules.iter().find(|r| r.action() == Action::Notify);
    match (profile.listener_path(), notifies) {
        (Some(path), Some(_)) => {
            policy.listener = Some(Listener {
                path: path.to_string(),
                metadata: profile.listener_metadata().map(str::to_string),
            })
        }
        (Some(path), None) => policy.skipped.push(Skipped {
            origin: Origin::Builtin("listenerPath"),
            what: path.to_string(),
            why: "no rule answers SCMP_ACT_NOTIFY, so there is nothing to hand the agent (runc does the same)".to_string(),
        }),
        (None, Some(r)) if !ctx.supervised => {
            return Err(ResolveError::NotifyWithoutListener {
                place: match r.origin() {
                    Origin::Profile { index, .. } => format!("syscalls[{index}].action"),
                    other => other.to_string(),
                },
                syscall: r.name(),
            })
        }
        _ => {}
    }
    Ok(())
}

pub(crate) const ENOSYS: u16 = 38;

/// The condition an argument spec makes for one call: its value fitted to the width the
/// kernel reads (see [`fit_value`]), a mask narrowed to it.
fn condition(
    info: &SyscallInfo,
    entry: usize,
    position: usize,
    a: &ArgSpec,
) -> Result<Cond, ResolveError> {
    let path = || format!("syscalls[{entry}].args[{position}]");
    let ty = info
        .args
        .get(usize::from(a.index()))
        .map(|x| x.ty)
        .unwrap_or(syscalls::ArgType::Long);
    // libseccomp compares a MASKED_EQ value under its mask (see `Cond::new`).
    let raw = match a.op() {
        Op::MaskedEq(m) => a.value() & m,
        _ => a.value(),
    };
    let value = fit_value(raw, ty).ok_or_else(|| ResolveError::ValueTooWide {
        path: path(),
        value: raw,
        syscall: info.name.to_string(),
        arg: info
            .args
            .get(usize::from(a.index()))
            .map(|x| x.name.to_string())
            .unwrap_or_else(|| format!("arg{}", a.index())),
        bits: ty.bits(),
    })?;
    let op = match a.op() {
        Op::MaskedEq(m) => Op::MaskedEq(m & width_mask(ty.bits())),
        op => op,
    };
    Cond::new(a.index(), op, value).ok_or(ResolveError::IndexRange {
        path: path(),
        index: a.index(),
    })
}

/// The i386 multiplexer form of one rule of an entry (see [`syscalls::MULTIPLEXED`]):
/// `socketcall` or `ipc` with `arg0 == CALL` and the rule's other conditions, as
/// libseccomp adds it.
fn multiplexed_rule(
    name: &str,
    entry: &SyscallEntry,
    alt: &[(usize, ArgSpec)],
    origin: &Origin,
) -> Result<Option<Rule>, ResolveError> {
    let Some((mux, call)) = syscalls::multiplexed(name) else {
        return Ok(None);
    };
    let Some(info) = syscalls::lookup(mux) else {
        return Ok(None);
    };
    let Origin::Profile { index, .. } = origin else {
        return Ok(None);
    };
    let mut conds = vec![Cond::new(0, Op::Eq, call).ok_or(ResolveError::IndexRange {
        path: format!("syscalls[{index}]"),
        index: 0,
    })?];
    for (pos, a) in alt.iter().filter(|(_, a)| a.index() != 0) {
        let c = Cond::new(a.index(), a.op(), a.value()).ok_or(ResolveError::IndexRange {
            path: format!("syscalls[{index}].args[{pos}]"),
            index: a.index(),
        })?;
        conds.push(c);
    }
    let why: &'static str = if mux == "socketcall" {
        "i386 socketcall form (libseccomp)"
    } else {
        "i386 ipc form (libseccomp)"
    };
    let origin = Origin::Profile {
        index: *index,
        comment: Some(format!("{name}: {why}")),
    };
    Ok(Some(Rule::derived(info, entry.action(), conds, origin)))
}

/// Why an entry does not apply to this run, following moby's `setupSeccomp`: excludes
/// first (any listed capability in the set excludes), then includes (all listed
/// capabilities must be in the set); arches are Docker's names for the native machine.
fn not_applied(entry: &SyscallEntry, ctx: &Context) -> Option<String> {
    let native = Arch::native().docker_name();
    let ex = &entry.excludes();
    if ex.arches().iter().any(|a| a == native) {
        return Some(format!("excluded on {native}"));
    }
    if let Some(c) = ex.caps().iter().find(|c| ctx.caps.contains(**c)) {
        return Some(format!("excluded because the container has {c}"));
    }
    if let (Some(min), Some(k)) = (ex.min_kernel(), ctx.kernel) {
        if k >= min {
            return Some(format!("excluded on kernel {min} and later"));
        }
    }
    let inc = &entry.includes();
    if !inc.arches().is_empty() && !inc.arches().iter().any(|a| a == native) {
        return Some(format!("only for {}", inc.arches().join(",")));
    }
    if let Some(c) = inc.caps().iter().find(|c| !ctx.caps.contains(**c)) {
        return Some(format!("only with {c}"));
    }
    if let (Some(min), Some(k)) = (inc.min_kernel(), ctx.kernel) {
        if k < min {
            return Some(format!("only on kernel {min} and later"));
        }
    }
    None
}

/// Refuses a policy under which no command could start.
pub(crate) fn check_execve(policy: &Policy) -> Result<(), ResolveError> {
    let Some(execve) = syscalls::lookup("execve") else {
        return Ok(());
    };
    let d = eval::decide_syscall(policy, Arch::native(), execve, &[0; 6]);
    match d.action {
        Action::Allow | Action::Log | Action::Notify => Ok(()),
        action => Err(ResolveError::DeniesExecve {
            action,
            by: d.by.describe(policy),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::profile::{self, ReadOptions};

    fn policy(text: &str) -> Policy {
        let p = profile::parse(text, ReadOptions::default()).unwrap();
        resolve("t", &p, &Context::docker_default()).unwrap()
    }

    fn decide(p: &Policy, name: &str, args: [u64; 6]) -> Action {
        let s = syscalls::lookup(name).unwrap();
        eval::decide_syscall(p, Arch::X86_64, s, &args).action
    }

    #[test]
    fn conditions_on_one_argument_are_alternatives() {
        // As runc, crun and youki read it: one libseccomp rule per condition.
        let p = policy(
            r#"{"defaultAction": "SCMP_ACT_ERRNO", "syscalls": [
            {"names": ["execve"], "action": "SCMP_ACT_ALLOW"},
            {"names": ["dup3"], "action": "SCMP_ACT_ALLOW", "args": [
                {"index": 0, "value": 100, "op": "SCMP_CMP_EQ"},
                {"index": 0, "value": 200, "op": "SCMP_CMP_EQ"}]}]}"#,
        );
        assert_eq!(decide(&p, "dup3", [100, 1, 0, 0, 0, 0]), Action::Allow);
        assert_eq!(decide(&p, "dup3", [200, 1, 0, 0, 0, 0]), Action::Allow);
        assert_eq!(decide(&p, "dup3", [300, 1, 0, 0, 0, 0]), Action::Errno(1));
        let p = policy(
            r#"{"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [
            {"names": ["process_vm_writev"], "action": "SCMP_ACT_ERRNO", "errnoRet": 55, "args": [
                {"index": 0, "value": 1234, "op": "SCMP_CMP_EQ"},
                {"index": 0, "value": 5678, "op": "SCMP_CMP_EQ"}]}]}"#,
        );
        assert_eq!(
            decide(&p, "process_vm_writev", [1234, 0, 0, 0, 0, 0]),
            Action::Errno(55)
        );
        assert_eq!(
            decide(&p, "process_vm_writev", [5678, 0, 0, 0, 0, 0]),
            Action::Errno(55)
        );
        assert_eq!(
            decide(&p, "process_vm_writev", [1, 0, 0, 0, 0, 0]),
            Action::Allow
        );
    }

    #[test]
    fn not_equal_twice_on_one_argument_matches_every_value() {
        // What the default profile once wrote for ioctl: under runc each `!=` is a rule of
        // its own, and every request differs from TIOCSTI or from TIOCLINUX.
        let p = policy(
            r#"{"defaultAction": "SCMP_ACT_ERRNO", "syscalls": [
            {"names": ["execve"], "action": "SCMP_ACT_ALLOW"},
            {"names": ["ioctl"], "action": "SCMP_ACT_ALLOW", "args": [
                {"index": 1, "value": 21522, "op": "SCMP_CMP_NE"},
                {"index": 1, "value": 21532, "op": "SCMP_CMP_NE"}]}]}"#,
        );
        assert_eq!(decide(&p, "ioctl", [0, 0x5412, 0, 0, 0, 0]), Action::Allow);
        assert_eq!(decide(&p, "ioctl", [0, 0x541c, 0, 0, 0, 0]), Action::Allow);
    }

    #[test]
    fn a_repeated_argument_splits_the_whole_entry() {
        // runc, crun and youki split every condition of such an entry, the ones on other
        // arguments too: `arg1 == 5` alone lets the call run.
        let p = policy(
            r#"{"defaultAction": "SCMP_ACT_ERRNO", "syscalls": [
            {"names": ["execve"], "action": "SCMP_ACT_ALLOW"},
            {"names": ["dup3"], "action": "SCMP_ACT_ALLOW", "args": [
                {"index": 0, "value": 1, "op": "SCMP_CMP_EQ"},
                {"index": 0, "value": 2, "op": "SCMP_CMP_EQ"},
                {"index": 1, "value": 5, "op": "SCMP_CMP_EQ"}]}]}"#,
        );
        assert_eq!(decide(&p, "dup3", [1, 0, 0, 0, 0, 0]), Action::Allow);
        assert_eq!(decide(&p, "dup3", [7, 5, 0, 0, 0, 0]), Action::Allow);
        assert_eq!(decide(&p, "dup3", [7, 4, 0, 0, 0, 0]), Action::Errno(1));
        // Without a repeated argument, the conditions hold together.
        let p = policy(
            r#"{"defaultAction": "SCMP_ACT_ERRNO", "syscalls": [
            {"names": ["execve"], "action": "SCMP_ACT_ALLOW"},
            {"names": ["dup3"], "action": "SCMP_ACT_ALLOW", "args": [
                {"index": 0, "value": 1, "op": "SCMP_CMP_EQ"},
                {"index": 1, "value": 5, "op": "SCMP_CMP_EQ"}]}]}"#,
        );
        assert_eq!(decide(&p, "dup3", [1, 5, 0, 0, 0, 0]), Action::Allow);
        assert_eq!(decide(&p, "dup3", [1, 4, 0, 0, 0, 0]), Action::Errno(1));
        assert_eq!(decide(&p, "dup3", [7, 5, 0, 0, 0, 0]), Action::Errno(1));
    }

    #[test]
    fn the_default_profile_refuses_terminal_injection() {
        let text = crate::builtin::get("default").unwrap().text().unwrap();
        let p = policy(text);
        for req in [0x5412u64, 0x541c, 0x1_0000_5412, 0xffff_ffff_0000_541c] {
            assert_eq!(
                decide(&p, "ioctl", [0, req, 0, 0, 0, 0]),
                Action::Errno(1),
                "{req:#x}"
            );
        }
        for req in [0x5401u64, 0x5413, 0x541d, 0x5402, 0x8000_5412, 0] {
            assert_eq!(
                decide(&p, "ioctl", [0, req, 0, 0, 0, 0]),
                Action::Allow,
                "{req:#x}"
            );
        }
        assert_eq!(decide(&p, "prctl", [22, 0, 0, 0, 0, 0]), Action::Errno(1));
        assert_eq!(
            decide(&p, "prctl", [22 | 1 << 32, 0, 0, 0, 0, 0]),
            Action::Errno(1)
        );
        assert_eq!(decide(&p, "prctl", [15, 0, 0, 0, 0, 0]), Action::Allow);
        // The compiler still decides the few refused values before libseccomp's program.
        let plan = crate::plan::plan(&p).unwrap();
        let ex: Vec<(&str, Vec<u64>)> = plan
            .exceptions()
            .iter()
            .map(|e| (e.syscall().name, e.values().to_vec()))
            .collect();
        assert_eq!(
            ex,
            vec![("ioctl", vec![0x5412, 0x541c]), ("prctl", vec![22])]
        );
    }

    #[test]
    fn a_listener_is_kept_only_for_a_profile_that_notifies() {
        // runc hands an agent nothing when no rule notifies; neither does syscage.
        let quiet = policy(
            r#"{"defaultAction": "SCMP_ACT_ALLOW", "listenerPath": "/run/agent.sock", "syscalls": [
            {"names": ["keyctl"], "action": "SCMP_ACT_ERRNO"}]}"#,
        );
        assert_eq!(quiet.listener(), None);
        assert_eq!(
            quiet.skipped().last().map(|s| (s.what.as_str(), s.why.as_str())),
            Some(("/run/agent.sock", "no rule answers SCMP_ACT_NOTIFY, so there is nothing to hand the agent (runc does the same)"))
        );
        let notifying = policy(
            r#"{"defaultAction": "SCMP_ACT_ALLOW", "listenerPath": "/run/agent.sock", "listenerMetadata": "m", "syscalls": [
            {"names": ["mkdir"], "action": "SCMP_ACT_NOTIFY"}]}"#,
        );
        assert_eq!(
            notifying.listener(),
            Some(&crate::model::Listener {
                path: "/run/agent.sock".into(),
                metadata: Some("m".into())
            })
        );
        // Without a listener, only a run syscage supervises may notify.
        let text = r#"{"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [{"names": ["mkdir"], "action": "SCMP_ACT_NOTIFY"}]}"#;
        let p = profile::parse(text, ReadOptions::default()).unwrap();
        let ctx = Context {
            supervised: true,
            ..Context::docker_default()
        };
        assert!(resolve("t", &p, &ctx).unwrap().uses_notify());
        assert!(matches!(
            resolve("t", &p, &Context::docker_default()),
            Err(ResolveError::NotifyWithoutListener {
                syscall: "mkdir",
                ..
            })
        ));
    }
}
