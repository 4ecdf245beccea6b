//! A profile back to Docker/OCI JSON, in the field order Docker uses, so that learned and
//! built-in profiles can be read by people and loaded by other runtimes. Every entry is
//! written in a form runc and crun read as syscage does (see [`super::portable`]).

use super::portable::{self, PortableError};
use super::{ArgSpec, Filter, Profile, SyscallEntry};
use crate::action::Action;
use crate::cond::{op_docker_name, Op};
use serde_json::{json, Map, Value};

/// The profile as pretty-printed JSON text.
pub fn to_json(p: &Profile) -> Result<String, PortableError> {
    let mut lowered = Vec::new();
    for (i, e) in p.syscalls.iter().enumerate() {
        lowered.extend(portable::lower(e, &format!("syscalls[{i}]"))?);
    }
    Ok(write_json(p, &lowered))
}

fn args_json(args: &[ArgSpec]) -> Value {
    let args: Vec<Value> = args
        .iter()
        .map(|a| match a.op {
            Op::MaskedEq(mask) => json!({
                "index": a.index, "value": mask, "valueTwo": a.value,
                "op": op_docker_name(a.op)
            }),
            op => json!({"index": a.index, "value": a.value, "op": op_docker_name(op)}),
        })
        .collect();
    Value::Array(args)
}

fn write_json(p: &Profile, syscalls: &[SyscallEntry]) -> String {
    let mut top = Map::new();
    let default = p.default_action.unwrap_or(Action::Errno(1));
    top.insert("defaultAction".into(), json!(default.docker_name()));
    if let Some(v) = default.data() {
        top.insert("defaultErrnoRet".into(), json!(v));
    }
    if !p.architectures.is_empty() {
        let arches: Vec<&str> = p.architectures.iter().map(|a| a.scmp_name()).collect();
        top.insert("architectures".into(), json!(arches));
    }
    if !p.arch_map.is_empty() {
        let map: Vec<Value> = p
            .arch_map
            .iter()
            .map(|e| {
                let sub: Vec<&str> = e.sub.iter().map(|a| a.scmp_name()).collect();
                json!({"architecture": e.arch.scmp_name(), "subArchitectures": sub})
            })
            .collect();
        top.insert("archMap".into(), Value::Array(map));
    }
    if !p.flags.is_empty() {
        let flags: Vec<&str> = p.flags.iter().map(|f| f.name()).collect();
        top.insert("flags".into(), json!(flags));
    }
    if let Some(path) = &p.listener_path {
        top.insert("listenerPath".into(), json!(path));
    }
    if let Some(m) = &p.listener_metadata {
        top.insert("listenerMetadata".into(), json!(m));
    }
    let calls: Vec<Value> = syscalls
        .iter()
        .map(|e| {
            let mut o = Map::new();
            let mut names = e.names.clone();
            names.extend(e.unknown.iter().cloned());
            o.insert("names".into(), json!(names));
            o.insert("action".into(), json!(e.action.docker_name()));
            if let Some(v) = e.action.data() {
                o.insert("errnoRet".into(), json!(v));
            }
            if !e.args.is_empty() {
                o.insert("args".into(), args_json(&e.args));
            }
            if let Some(c) = &e.comment {
                o.insert("comment".into(), json!(c));
            }
            if !e.includes.is_empty() {
                o.insert("includes".into(), filter(&e.includes));
            }
            if !e.excludes.is_empty() {
                o.insert("excludes".into(), filter(&e.excludes));
            }
            Value::Object(o)
        })
        .collect();
    top.insert("syscalls".into(), Value::Array(calls));
    let mut text = serde_json::to_string_pretty(&Value::Object(top)).unwrap_or_default();
    text.push('\n');
    text
}

fn filter(f: &Filter) -> Value {
    let mut o = Map::new();
    if !f.caps.is_empty() {
        let caps: Vec<String> = f.caps.iter().map(|c| c.to_string()).collect();
        o.insert("caps".into(), json!(caps));
    }
    if !f.arches.is_empty() {
        o.insert("arches".into(), json!(f.arches));
    }
    if let Some(k) = f.min_kernel {
        o.insert("minKernel".into(), json!(k.to_string()));
    }
    Value::Object(o)
}

/// A resolved policy as the OCI runtime spec's `linux.seccomp` object (what Docker hands
/// runc after resolving `includes`/`excludes` for the container): every rule that
/// applies, none of the conditional machinery, and no derived i386 multiplexer rule
/// (the runtime's libseccomp derives those again). Conditions are written in the form
/// runc and crun read as syscage does ([`super::portable`]), unless `as_written`: then
/// they are the profile's own, which runtimes comparing all 64 bits of an argument may
/// read as less than syscage does (see `lint`); that form is for comparing with them.
pub fn policy_to_oci(p: &crate::Policy, as_written: bool) -> Result<String, PortableError> {
    let mut top = Map::new();
    top.insert(
        "defaultAction".into(),
        json!(p.default_action().docker_name()),
    );
    if let Some(v) = p.default_action().data() {
        top.insert("defaultErrnoRet".into(), json!(v));
    }
    let arches: Vec<&str> = p.arches().iter().map(|a| a.scmp_name()).collect();
    top.insert("architectures".into(), json!(arches));
    let mut calls: Vec<Value> = Vec::new();
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
    let entry = |names: Vec<&str>, action: Action, args: &[ArgSpec]| {
        let mut o = Map::new();
        o.insert("names".into(), json!(names));
        o.insert("action".into(), json!(action.docker_name()));
        if let Some(v) = action.data() {
            o.insert("errnoRet".into(), json!(v));
        }
        if !args.is_empty() {
            o.insert("args".into(), args_json(args));
        }
        Value::Object(o)
    };
    for (action, names) in groups {
        calls.push(entry(names, action, &[]));
    }
    // Each conditional rule, lowered; consecutive single-condition rules of one call and
    // action on one argument (the alternatives of an entry) share entries again.
    let mut pending: Vec<SyscallEntry> = Vec::new();
    for (i, r) in p
        .rules()
        .iter()
        .filter(|r| !r.is_unconditional() && !r.is_derived())
        .enumerate()
    {
        let e = SyscallEntry {
            names: vec![r.name().to_string()],
            unknown: vec![],
            action: r.action(),
            args: r
                .conds()
                .iter()
                .map(|c| ArgSpec {
                    index: c.index(),
                    op: c.op(),
                    value: c.value(),
                })
                .collect(),
            comment: None,
            includes: Filter::default(),
            excludes: Filter::default(),
        };
        let lowered = if as_written {
            vec![e]
        } else {
            portable::lower(&e, &format!("rule {i} ({})", r.origin()))?
        };
        for l in lowered {
            let joins = pending.last_mut().filter(|last| {
                let one_arg = |x: &SyscallEntry| {
                    x.args
                        .iter()
                        .all(|a| Some(a.index) == x.args.first().map(|f| f.index))
                };
                !as_written
                    && last.names == l.names
                    && last.action == l.action
                    && l.args.len() == 1
                    && one_arg(last)
                    && last.args[0].index == l.args[0].index
                    && last.args.len() < portable::MAX_CONDITIONS
            });
            match joins {
                Some(last) => last.args.push(l.args[0]),
                None => pending.push(l),
            }
        }
    }
    for e in &pending {
        let names: Vec<&str> = e.names.iter().map(String::as_str).collect();
        calls.push(entry(names, e.action, &e.args));
    }
    top.insert("syscalls".into(), Value::Array(calls));
    let mut text = serde_json::to_string_pretty(&Value::Object(top)).unwrap_or_default();
    text.push('\n');
    Ok(text)
}
