//! `process` (and the `exec --process` document): arguments, environment, user,
//! capabilities, resource limits, and the security fields syscage does not apply.

use super::{absolute, at, env_list, err, is_set, no_nul, Problem, ValidateError};
use crate::config::{Process, RLIMIT_NAMES};
use crate::suggest;
use serde_json::Value;
use syscage_policy::Cap;

pub(super) fn check(p: &Process, prefix: &str) -> Result<(), ValidateError> {
    not_applied(p, prefix)?;
    let args = p.args();
    if args.is_empty() {
        return Err(err(
            at(prefix, "args"),
            Problem::Empty("there is nothing to run"),
        ));
    }
    for (i, a) in args.iter().enumerate() {
        no_nul(&format!("{}[{i}]", at(prefix, "args")), a)?;
    }
    if args[0].is_empty() {
        return Err(err(
            format!("{}[0]", at(prefix, "args")),
            Problem::Empty("the program to run has no name"),
        ));
    }
    env_list(&at(prefix, "env"), p.env())?;
    absolute(&at(prefix, "cwd"), &p.cwd)?;

    if let Some(umask) = p.user.umask.filter(|u| *u > 0o777) {
        return Err(err(
            at(prefix, "user.umask"),
            Problem::OutOfRange {
                value: format!("0{umask:o}"),
                range: "0..=0777 (octal)",
            },
        ));
    }
    if let Some(adj) = p.oom_score_adj.filter(|a| !(-1000..=1000).contains(a)) {
        return Err(err(
            at(prefix, "oomScoreAdj"),
            Problem::OutOfRange {
                value: adj.to_string(),
                range: "-1000..=1000",
            },
        ));
    }
    if let Some(caps) = &p.capabilities {
        for (set, names) in caps.sets() {
            for (i, name) in names.iter().enumerate() {
                capability(&format!("{}.{set}[{i}]", at(prefix, "capabilities")), name)?;
            }
        }
    }
    rlimits(p, prefix)
}

/// The security fields the spec defines whose effect syscage does not provide: refusing
/// them is better than running the container with less confinement than asked for.
fn not_applied(p: &Process, prefix: &str) -> Result<(), ValidateError> {
    // `unconfined` asks for no AppArmor profile, which is what syscage gives.
    if p.apparmor_profile
        .as_deref()
        .is_some_and(|s| !s.is_empty() && s != "unconfined")
    {
        return Err(err(
            at(prefix, "apparmorProfile"),
            Problem::NotApplied(
                "syscage does not apply AppArmor profiles; leave the field out or set it to `unconfined` (podman: --security-opt apparmor=unconfined)",
            ),
        ));
    }
    if p.selinux_label.as_deref().is_some_and(|s| !s.is_empty()) {
        return Err(err(
            at(prefix, "selinuxLabel"),
            Problem::NotApplied(
                "syscage does not apply SELinux labels; leave the field out (podman: --security-opt label=disable)",
            ),
        ));
    }
    let raw: [(&str, Option<&Value>, &'static str); 4] = [
        (
            "scheduler",
            p.scheduler.as_ref(),
            "syscage does not set scheduling policies; leave the field out",
        ),
        (
            "ioPriority",
            p.io_priority.as_ref(),
            "syscage does not set I/O priorities; leave the field out",
        ),
        (
            "execCPUAffinity",
            p.exec_cpu_affinity.as_ref(),
            "syscage does not set CPU affinity; leave the field out",
        ),
        (
            "commandLine",
            p.command_line.as_ref(),
            "a Windows command line cannot apply to a Linux container; use `args`",
        ),
    ];
    for (field, value, why) in raw {
        if is_set(value) {
            return Err(err(at(prefix, field), Problem::NotApplied(why)));
        }
    }
    if is_set(p.user.username.as_ref()) {
        return Err(err(
            at(prefix, "user.username"),
            Problem::NotApplied(
                "a Windows user name cannot apply to a Linux container; use `uid` and `gid`",
            ),
        ));
    }
    Ok(())
}

/// `CAP_SYS_ADMIN`: the spec's spelling, a capability this kernel interface knows.
fn capability(path: &str, name: &str) -> Result<(), ValidateError> {
    match Cap::parse(name) {
        Some(cap) => {
            let canonical = cap.to_string();
            if name == canonical {
                Ok(())
            } else {
                Err(err(
                    path,
                    Problem::MiscasedCap {
                        given: name.to_string(),
                        canonical,
                    },
                ))
            }
        }
        None => Err(err(
            path,
            Problem::Unknown {
                what: "capability",
                value: name.to_string(),
                hint: String::new(),
            },
        )),
    }
}

fn rlimits(p: &Process, prefix: &str) -> Result<(), ValidateError> {
    let list = p.rlimits.as_deref().unwrap_or(&[]);
    for (i, r) in list.iter().enumerate() {
        let path = format!("{}[{i}]", at(prefix, "rlimits"));
        if !RLIMIT_NAMES.contains(&r.kind.as_str()) {
            let hint = suggest::closest(&r.kind, RLIMIT_NAMES)
                .map(|s| format!(" (did you mean `{s}`?)"))
                .unwrap_or_default();
            return Err(err(
                format!("{path}.type"),
                Problem::Unknown {
                    what: "resource limit",
                    value: r.kind.clone(),
                    hint,
                },
            ));
        }
        // The spec: a runtime MUST refuse duplicated types.
        if list[..i].iter().any(|o| o.kind == r.kind) {
            return Err(err(
                format!("{path}.type"),
                Problem::Duplicate(r.kind.clone()),
            ));
        }
        if r.soft > r.hard {
            return Err(err(
                path,
                Problem::SoftAboveHard {
                    soft: r.soft,
                    hard: r.hard,
                },
            ));
        }
    }
    Ok(())
}
