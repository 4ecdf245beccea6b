//! A profile back to Docker/OCI JSON, in the field order Docker uses (the order of
//! [`super::raw`]'s fields), so that learned and built-in profiles can be read by people
//! and loaded by other runtimes. Every entry is written in a form runc and crun read as
//! syscage does (see [`super::portable`]).

use super::portable::{self, PortableError};
use super::raw::{Obj, RawArchMap, RawArg, RawFilter, RawProfile, RawSyscall};
use super::{ArgSpec, Filter, Profile, SyscallEntry};
use crate::action::Action;
use crate::cond::{op_docker_name, Op};
use crate::model::Policy;

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
/// runc after resolving `includes`/`excludes` for the container): every rule that
/// applies, none of the conditional machinery, and no derived i386 multiplexer rule
/// (the runtime's libseccomp derives those again). Conditions are written in the form
/// runc and crun read as syscage does ([`super::portable`]), unless `as_written`: then
/// they are the profile's own, which runtimes comparing all 64 bits of an argument may
/// read as less than syscage does (see `lint`); that form is for comparing with them.
pub fn policy_to_oci(p: &Policy, as_written: bool) -> Result<String, PortableError> {
    let mut raw = RawProfile::default();
    set_default(&mut raw, p.default_action());
    raw.architectures = Some(
        p.arches()
            .iter()
            .map(|a| a.scmp_name().to_string())
            .collect(),
    );
    let mut calls: Vec<RawSyscall> = Vec::new();
    // Unconditional rules with one action share an entry, in first-appearance order.
    let mut groups: Vec<(Action, Vec<&str>)> = Vec::new();
    for r in p
        .rules()
        .iter()
        .filter(|r| r.is_unconditional() && !r.is_derived())
    {
        match groups.iter_mut().find(|(a, _)| *a == r.action()) {
            Some((_, names)) => {
                if !names.contains(&r.name()) {
                    names.push(r.name());
                }
            }
            None => groups.push((r.action(), vec![r.name()])),
        }
    }
    let entry = |names: Vec<String>, action: Action, args: &[ArgSpec]| RawSyscall {
        names: Some(names),
        action: Some(action.docker_name().to_string()),
        errno_ret: action.data().map(u64::from),
        args: (!args.is_empty()).then(|| args.iter().map(arg).collect()),
        ..RawSyscall::default()
    };
    for (action, names) in groups {
        calls.push(entry(
            names.iter().map(|n| n.to_string()).collect(),
            action,
            &[],
        ));
    }
    // Each conditional rule, lowered; consecutive single-condition rules of one call and
    // action on one argument (the alternatives of an entry) share entries again.
    let mut pending: Vec<(String, Action, Vec<ArgSpec>)> = Vec::new();
    for (i, r) in p
        .rules()
        .iter()
        .filter(|r| !r.is_unconditional() && !r.is_derived())
        .enumerate()
    {
        let conds: Vec<ArgSpec> = r.conds().iter().map(|c| ArgSpec::from_cond(*c)).collect();
        let lowered: Vec<Vec<ArgSpec>> = if as_written {
            vec![conds]
        } else {
            portable::lower_rule(r.syscall(), &conds, &format!("rule {i} ({})", r.origin()))?
        };
        for args in lowered {
            let one_arg = |x: &[ArgSpec]| x.iter().all(|a| a.index() == x[0].index());
            let joins = pending.last_mut().filter(|(name, action, last)| {
                !as_written
                    && name == r.name()
                    && *action == r.action()
                    && args.len() == 1
                    && !last.is_empty()
                    && one_arg(last)
                    && last[0].index() == args[0].index()
                    && last.len() < portable::MAX_CONDITIONS
            });
            match joins {
                Some((_, _, last)) => last.push(args[0]),
                None => pending.push((r.name().to_string(), r.action(), args)),
            }
        }
    }
    for (name, action, args) in &pending {
        calls.push(entry(vec![name.clone()], *action, args));
    }
    raw.syscalls = Some(calls.into_iter().map(Obj).collect());
    Ok(text(&raw))
}
