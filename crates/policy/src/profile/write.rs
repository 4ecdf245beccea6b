//! A profile back to Docker/OCI JSON, in the field order Docker uses (the order of
//! [`super::raw`]'s fields), so that learned and built-in profiles can be read by people
//! and loaded by other runtimes. Every entry is written in a form runc and crun read as
//! syscage does (see [`super::portable`]).

use super::portable::{self, PortableError};
use super::raw::{Obj, RawArchMap, RawArg, RawFilter, RawProfile, RawSyscall};
use super::{ArgSpec, Filter, FilterFlag, Profile, SyscallEntry};
use crate::action::Action;
use crate::arch::Arch;
use crate::cond::{op_docker_name, Op};
use crate::model::Policy;
use crate::syscalls;

/// The profile as pretty-printed JSON text.
pub fn to_json(p: &Profile) -> Result<String, PortableError> {
    let mut lowered = Vec::new();
    for (i, e) in p.syscalls().iter().enumerate() {
        lowered.extend(portable::lower(e, &format!("syscalls[{i}]"))?);
    }
    let mut raw = RawProfile::default();
    set_default(&mut raw, p.default_action());
    if !p.architectures().is_empty() {
        raw.architectures = Some(
            p.architectures()
                .iter()
                .map(|a| a.scmp_name().to_string())
                .collect(),
        );
    }
    if !p.arch_map().is_empty() {
        raw.arch_map = Some(
            p.arch_map()
                .iter()
                .map(|e| {
                    Obj(RawArchMap {
                        architecture: Some(e.arch().scmp_name().to_string()),
                        sub_architectures: Some(
                            e.sub().iter().map(|a| a.scmp_name().to_string()).collect(),
                        ),
                    })
                })
                .collect(),
        );
    }
    if !p.flags().is_empty() {
        raw.flags = Some(p.flags().iter().map(|f| f.name().to_string()).collect());
    }
    raw.listener_path = p.listener_path().map(str::to_string);
    raw.listener_metadata = p.listener_metadata().map(str::to_string);
    raw.syscalls = Some(lowered.iter().map(|e| Obj(syscall(e))).collect());
    Ok(text(&raw))
}

fn set_default(raw: &mut RawProfile, a: Action) {
    raw.default_action = Some(a.docker_name().to_string());
    raw.default_errno_ret = a.data().map(u64::from);
}

fn text(raw: &RawProfile) -> String {
    let mut text = serde_json::to_string_pretty(raw).unwrap_or_default();
    text.push('\n');
    text
}

fn arg(a: &ArgSpec) -> Obj<RawArg> {
    let (value, value_two) = match a.op() {
        Op::MaskedEq(mask) => (mask, Some(a.value())),
        _ => (a.value(), None),
    };
    Obj(RawArg {
        index: Some(u64::from(a.index())),
        value: Some(value),
        value_two,
        op: Some(op_docker_name(a.op()).to_string()),
    })
}

fn filter(f: &Filter) -> Option<Obj<RawFilter>> {
    if f.is_empty() {
        return None;
    }
    let some = |v: Vec<String>| (!v.is_empty()).then_some(v);
    Some(Obj(RawFilter {
        caps: some(f.caps().iter().map(|c| c.to_string()).collect()),
        arches: some(f.arches().to_vec()),
        min_kernel: f.min_kernel().map(|k| k.to_string()),
    }))
}

fn syscall(e: &SyscallEntry) -> RawSyscall {
    let mut names = e.names().to_vec();
    names.extend(e.unknown().iter().cloned());
    RawSyscall {
        names: Some(names),
        action: Some(e.action().docker_name().to_string()),
        errno_ret: e.action().data().map(u64::from),
        args: (!e.args().is_empty()).then(|| e.args().iter().map(arg).collect()),
        comment: e.comment().map(str::to_string),
        includes: filter(e.includes()),
        excludes: filter(e.excludes()),
        ..RawSyscall::default()
    }
}

/// A resolved policy as the OCI runtime spec's `linux.seccomp` object (what Docker hands
/// runc after resolving `includes`/`excludes` for the container, and what containerd reads
/// for Kubernetes' `seccompProfile: {type: Localhost}`): every rule that applies, none of
/// the conditional machinery, and no derived i386 multiplexer rule (the runtime's
/// libseccomp derives those again). Conditions are written in the form runc and crun read
/// as syscage does ([`super::portable`]), unless `as_written`: then they are the profile's
/// own, which runtimes comparing all 64 bits of an argument may read as less than syscage
/// does (see `lint`); that form is for comparing with them.
pub fn policy_to_oci(p: &Policy, as_written: bool) -> Result<String, PortableError> {
    Ok(text(&policy_to_raw(p, as_written)?))
}

/// [`policy_to_oci`]'s object, for the writers of other formats.
pub(super) fn policy_to_raw(p: &Policy, as_written: bool) -> Result<RawProfile, PortableError> {
    let mut raw = RawProfile::default();
    set_default(&mut raw, p.default_action());
    raw.architectures = Some(
        p.arches()
            .iter()
            .map(|a| a.scmp_name().to_string())
            .collect(),
    );
    let f = p.flags();
    let flags: Vec<String> = [
        (f.log, FilterFlag::Log),
        (f.spec_allow, FilterFlag::SpecAllow),
        (f.wait_killable_recv, FilterFlag::WaitKillableRecv),
    ]
    .iter()
    .filter(|(on, _)| *on)
    .map(|(_, flag)| flag.name().to_string())
    .collect();
    raw.flags = (!flags.is_empty()).then_some(flags);
    if let Some(l) = p.listener() {
        raw.listener_path = Some(l.path.clone());
        raw.listener_metadata = l.metadata.clone();
    }
    // Unconditional rules with one action share an entry, in first-appearance order, ahead
    // of the rest: a call's first unconditional rule decides it alone (see `eval`),
    // wherever it is. A later one, even of another action, is never applied; written into
    // another entry it would be the one a reader applying the last (or refusing the
    // conflict) keeps, so it is left out. On i386, though, the rule libseccomp derives for
    // `socketcall`/`ipc` from an unconditional rule is conditional (`arg0 == CALL`), and
    // the first matching one decides: such a rule keeps its place among the call's others.
    let i386 = p.arches().contains(&Arch::X86);
    let mut groups: Vec<(Action, Vec<&str>)> = Vec::new();
    let mut decided: Vec<&str> = Vec::new();
    // The rest, in policy order, each conditional rule lowered; consecutive
    // single-condition rules of one call and action on one argument (the alternatives of
    // an entry) share entries again.
    let mut ordered: Vec<(String, Action, Vec<ArgSpec>)> = Vec::new();
    for r in p.rules().iter().filter(|r| !r.is_derived()) {
        if r.is_unconditional() {
            if decided.contains(&r.name()) {
                continue;
            }
            decided.push(r.name());
            if i386 && syscalls::multiplexed(r.name()).is_some() {
                ordered.push((r.name().to_string(), r.action(), vec![]));
                continue;
            }
            match groups.iter_mut().find(|(a, _)| *a == r.action()) {
                Some((_, names)) => names.push(r.name()),
                None => groups.push((r.action(), vec![r.name()])),
            }
            continue;
        }
        let conds: Vec<ArgSpec> = r.conds().iter().map(|c| ArgSpec::from_cond(*c)).collect();
        let (mut name, mut lowered): (&str, Vec<Vec<ArgSpec>>) = if as_written {
            (r.name(), vec![conds.clone()])
        } else {
            let place = r.origin().to_string();
            (r.name(), portable::lower_rule(r.syscall(), &conds, &place)?)
        };
        if lowered.is_empty() && i386 {
            // No value of the call's arguments meets the rule, so nothing is written for
            // it; but its i386 `socketcall`/`ipc` form does not compare the argument its
            // call number replaces, and may match: that form is written instead.
            if let Some(m) = multiplexer_rule(r, &conds)? {
                (name, lowered) = m;
            }
        }
        for args in lowered {
            let one_arg = |x: &[ArgSpec]| x.iter().all(|a| a.index() == x[0].index());
            let joins = ordered.last_mut().filter(|(n, action, last)| {
                !as_written
                    && n == name
                    && *action == r.action()
                    && args.len() == 1
                    && !last.is_empty()
                    && one_arg(last)
                    && last[0].index() == args[0].index()
                    && last.len() < portable::MAX_CONDITIONS
            });
            match joins {
                Some((_, _, last)) => last.push(args[0]),
                None => ordered.push((name.to_string(), r.action(), args)),
            }
        }
    }
    let mut calls: Vec<RawSyscall> = groups
        .into_iter()
        .map(|(action, names)| entry(names.iter().map(|n| n.to_string()).collect(), action, &[]))
        .collect();
    for (name, action, args) in &ordered {
        calls.push(entry(vec![name.clone()], *action, args));
    }
    calls.extend(boundary(p, &calls));
    raw.syscalls = Some(calls.into_iter().map(Obj).collect());
    Ok(raw)
}

/// Entries (each a list of conditions) for one call.
type CallEntries = (&'static str, Vec<Vec<ArgSpec>>);

/// The i386 multiplexer form of a rule (as resolution derives it: `arg0 == CALL` and the
/// rule's conditions on the other arguments), lowered; `None` for a call without one.
fn multiplexer_rule(
    r: &crate::model::Rule,
    conds: &[ArgSpec],
) -> Result<Option<CallEntries>, PortableError> {
    let Some((mux, call)) = syscalls::multiplexed(r.name()) else {
        return Ok(None);
    };
    let Some(info) = syscalls::lookup(mux) else {
        return Ok(None);
    };
    let mut derived: Vec<ArgSpec> = conds.iter().filter(|a| a.index() != 0).copied().collect();
    match ArgSpec::new(0, crate::cond::Op::Eq, call) {
        Ok(a) => derived.insert(0, a),
        Err(_) => return Ok(None),
    }
    let place = format!("{} ({mux} form)", r.origin());
    Ok(Some((
        info.name,
        portable::lower_rule(info, &derived, &place)?,
    )))
}

fn entry(names: Vec<String>, action: Action, args: &[ArgSpec]) -> RawSyscall {
    RawSyscall {
        names: Some(names),
        action: Some(action.docker_name().to_string()),
        errno_ret: action.data().map(u64::from),
        args: (!args.is_empty()).then(|| args.iter().map(arg).collect()),
        ..RawSyscall::default()
    }
}

/// Entries that keep the newer-than-profile boundary where the policy has it. Calls above
/// the highest number a profile names are newer than it (syscage's rule, and runc's for
/// its ENOSYS stub), and the profile may name its newest call in an entry that did not
/// apply (an `includes` the capabilities missed, or the default's own action): such a call
/// is named again, with the default action, which every runtime skips as a rule but
/// counts for the boundary.
fn boundary(p: &Policy, calls: &[RawSyscall]) -> Vec<RawSyscall> {
    if p.newer_action().is_none() {
        return Vec::new();
    }
    let named: Vec<&'static syscalls::SyscallInfo> = calls
        .iter()
        .flat_map(|c| c.names.iter().flatten())
        .filter_map(|n| syscalls::lookup(n))
        .collect();
    let mut out = Vec::new();
    for &arch in p.arches() {
        let Some(max) = p.newer_max(arch) else {
            continue;
        };
        let written = named
            .iter()
            .filter_map(|s| syscalls::number(s, arch))
            .filter(|n| !syscalls::is_x32_compat(*n))
            .max();
        if written.is_some_and(|w| w >= max) {
            continue;
        }
        if let Some(s) = syscalls::by_number(arch, max) {
            out.push(entry(vec![s.name.to_string()], p.default_action(), &[]));
        }
    }
    out
}
