//! `linux` and `mounts`: namespaces, id mappings, sysctls, devices, paths.

use super::{
    absolute, at, describe, err, is_set, no_nul, resources, string_value, text, Expect, PathCheck,
    Problem, ValidateError,
};
use crate::config::{Linux, Mount, NamespaceType, Spec};
use crate::suggest;

pub(super) fn check(
    l: &Linux,
    spec: &Spec,
    checks: &mut Vec<PathCheck>,
) -> Result<(), ValidateError> {
    if l.mount_label.as_deref().is_some_and(|s| !s.is_empty()) {
        return Err(err(
            "linux.mountLabel",
            Problem::NotApplied("syscage does not apply SELinux labels; leave the field out (podman: --security-opt label=disable)"),
        ));
    }
    if is_set(l.intel_rdt.as_ref()) {
        return Err(err(
            "linux.intelRdt",
            Problem::NotApplied("syscage does not manage Intel RDT; leave the field out"),
        ));
    }
    if is_set(l.time_offsets.as_ref()) {
        return Err(err(
            "linux.timeOffsets",
            Problem::NotApplied("syscage does not set time namespace offsets; leave the field out"),
        ));
    }
    namespaces(l, checks)?;
    super::mappings::check(l)?;
    uts_names(spec, l)?;
    for (key, value) in l.sysctl.iter().flatten() {
        let path = format!("linux.sysctl.{key}");
        string_value(&path, value)?;
        sysctl(&path, key, l)?;
    }
    for (i, d) in l.devices.iter().flatten().enumerate() {
        device(&format!("linux.devices[{i}]"), d)?;
    }
    if let Some(cg) = &l.cgroups_path {
        cgroups_path(cg)?;
    }
    if let Some(p) = l.rootfs_propagation.as_deref().filter(|p| !p.is_empty()) {
        const KNOWN: [&str; 8] = [
            "shared",
            "slave",
            "private",
            "unbindable",
            "rshared",
            "rslave",
            "rprivate",
            "runbindable",
        ];
        if !KNOWN.contains(&p) {
            return Err(err(
                "linux.rootfsPropagation",
                Problem::Unknown {
                    what: "propagation",
                    value: p.to_string(),
                    hint: " (expected shared, slave, private, unbindable or their r- forms)".into(),
                },
            ));
        }
    }
    for (field, list) in [
        ("maskedPaths", &l.masked_paths),
        ("readonlyPaths", &l.readonly_paths),
    ] {
        for (i, p) in list.iter().flatten().enumerate() {
            absolute(&format!("linux.{field}[{i}]"), p)?;
        }
    }
    if let Some(p) = &l.personality {
        if p.domain != "LINUX" && p.domain != "LINUX32" {
            return Err(err(
                "linux.personality.domain",
                Problem::Unknown {
                    what: "personality domain",
                    value: p.domain.clone(),
                    hint: " (expected LINUX or LINUX32)".into(),
                },
            ));
        }
        if let Some(f) = p.flags.as_deref().and_then(|f| f.first()) {
            return Err(err(
                "linux.personality.flags[0]",
                Problem::Unknown {
                    what: "personality flag",
                    value: f.clone(),
                    hint: " (the spec defines none)".into(),
                },
            ));
        }
    }
    if let Some(r) = &l.resources {
        resources::check(r, "linux.resources")?;
    }
    if let Some(s) = l
        .seccomp
        .as_ref()
        .filter(|s| !s.is_null() && !s.is_object())
    {
        return Err(err(
            "linux.seccomp",
            Problem::Invalid(format!("expected an object, found {}", describe(s))),
        ));
    }
    Ok(())
}

/// A configuration without `linux` has no namespaces: syscage will not set a root up in
/// the host's mount namespace.
pub(super) fn check_without_linux() -> Result<(), ValidateError> {
    Err(err(
        "",
        Problem::MissingField {
            field: "linux",
            why: "a Linux container needs at least a `mount` namespace",
        },
    ))
}

fn namespaces(l: &Linux, checks: &mut Vec<PathCheck>) -> Result<(), ValidateError> {
    let list = l.namespaces();
    for (i, ns) in list.iter().enumerate() {
        let path = format!("linux.namespaces[{i}]");
        let Some(ty) = ns.ty() else {
            let names = NamespaceType::ALL.map(|t| t.name());
            let hint = match suggest::closest(&ns.kind, names) {
                Some(s) => format!(" (did you mean `{s}`?)"),
                None => " (expected pid, network, mount, ipc, uts, user, cgroup or time)".into(),
            };
            return Err(err(
                format!("{path}.type"),
                Problem::Unknown {
                    what: "namespace type",
                    value: ns.kind.clone(),
                    hint,
                },
            ));
        };
        if list[..i].iter().any(|o| o.ty() == Some(ty)) {
            return Err(err(
                format!("{path}.type"),
                Problem::Duplicate(ty.name().to_string()),
            ));
        }
        if let Some(p) = &ns.path {
            if !p.is_empty() {
                absolute(&format!("{path}.path"), p)?;
                checks.push(PathCheck {
                    field: format!("{path}.path"),
                    path: p.into(),
                    expect: Expect::Namespace(ty),
                });
            }
        }
    }
    match l.namespace(NamespaceType::Mount) {
        None => Err(err(
            "linux.namespaces",
            Problem::Namespaces("no `mount` namespace: syscage sets the root up in a new mount namespace, never in the host's".into()),
        )),
        Some(ns) if ns.join_path().is_some() => Err(err(
            format!("linux.namespaces[{}].path", position(l, NamespaceType::Mount)),
            Problem::Namespaces("joining a mount namespace is not supported: syscage sets the root up in a new one".into()),
        )),
        Some(_) => Ok(()),
    }
}

fn position(l: &Linux, ty: NamespaceType) -> usize {
    l.namespaces()
        .iter()
        .position(|n| n.ty() == Some(ty))
        .unwrap_or(0)
}

/// A hostname or domain name set without a UTS namespace would be the host's.
fn uts_names(spec: &Spec, l: &Linux) -> Result<(), ValidateError> {
    for (field, value) in [
        ("hostname", &spec.hostname),
        ("domainname", &spec.domainname),
    ] {
        if value.as_deref().is_some_and(|v| !v.is_empty())
            && l.namespace(NamespaceType::Uts).is_none()
        {
            return Err(err(field, Problem::Namespaces("needs a `uts` namespace in `linux.namespaces`: without one it would be the host's".into())));
        }
    }
    Ok(())
}

/// Only sysctls the kernel keeps per namespace, and only with that namespace: any other
/// write would change the host (runc's validator draws the same line).
fn sysctl(path: &str, key: &str, l: &Linux) -> Result<(), ValidateError> {
    const IPC: [&str; 8] = [
        "kernel.msgmax",
        "kernel.msgmnb",
        "kernel.msgmni",
        "kernel.sem",
        "kernel.shmall",
        "kernel.shmmax",
        "kernel.shmmni",
        "kernel.shm_rmid_forced",
    ];
    let needs = if IPC.contains(&key) || key.starts_with("fs.mqueue.") {
        NamespaceType::Ipc
    } else if key.starts_with("net.") {
        NamespaceType::Network
    } else if key == "kernel.hostname" || key == "kernel.domainname" {
        NamespaceType::Uts
    } else {
        return Err(err(
            path,
            Problem::Invalid(format!(
                "`{key}` is not namespaced: setting it would change the host"
            )),
        ));
    };
    if l.namespace(needs).is_none() {
        return Err(err(path, Problem::Namespaces(format!("`{key}` is per `{needs}` namespace and `linux.namespaces` has none: it would change the host's"))));
    }
    Ok(())
}

fn device(path: &str, d: &crate::config::Device) -> Result<(), ValidateError> {
    absolute(&at(path, "path"), &d.path)?;
    match d.kind.as_str() {
        "c" | "b" | "u" => {
            for (field, v) in [("major", d.major), ("minor", d.minor)] {
                if v.is_none() {
                    return Err(err(
                        path,
                        Problem::MissingField {
                            field,
                            why: "a character or block device needs its numbers",
                        },
                    ));
                }
            }
        }
        "p" => {}
        other => {
            return Err(err(
                at(path, "type"),
                Problem::Unknown {
                    what: "device type",
                    value: other.to_string(),
                    hint: " (expected c, b, u or p)".into(),
                },
            ))
        }
    }
    if let Some(mode) = d.file_mode.filter(|m| *m > 0o7777) {
        return Err(err(
            at(path, "fileMode"),
            Problem::OutOfRange {
                value: format!("{mode:o}"),
                range: "0..=07777 (octal)",
            },
        ));
    }
    Ok(())
}

/// `/machine.slice/x`, `x/y` (relative to syscage's own cgroup) or systemd's
/// `slice:prefix:name`; never a `..` that would climb out of the hierarchy.
fn cgroups_path(cg: &str) -> Result<(), ValidateError> {
    no_nul("linux.cgroupsPath", cg)?;
    let systemd = cg.split(':').count() == 3 && !cg.contains('/');
    if !systemd && cg.split('/').any(|c| c == "..") {
        return Err(err("linux.cgroupsPath", Problem::DotDot(cg.to_string())));
    }
    Ok(())
}

pub(super) fn mount(m: &Mount, path: &str) -> Result<(), ValidateError> {
    absolute(&at(path, "destination"), &m.destination)?;
    for (field, v) in [
        ("uidMappings", &m.uid_mappings),
        ("gidMappings", &m.gid_mappings),
    ] {
        if is_set(v.as_ref()) {
            return Err(err(
                at(path, field),
                Problem::NotApplied("syscage does not make idmapped mounts; leave the field out"),
            ));
        }
    }
    for (i, o) in m.options.iter().flatten().enumerate() {
        no_nul(&format!("{}[{i}]", at(path, "options")), o)?;
    }
    if m.is_bind() {
        match &m.source {
            Some(s) => text(&at(path, "source"), s)?,
            None => {
                return Err(err(
                    path,
                    Problem::MissingField {
                        field: "source",
                        why: "a bind mount needs a source",
                    },
                ))
            }
        }
    } else {
        match &m.kind {
            Some(k) => text(&at(path, "type"), k)?,
            None => {
                return Err(err(
                    path,
                    Problem::MissingField {
                        field: "type",
                        why: "only a bind mount may leave it out",
                    },
                ))
            }
        }
    }
    Ok(())
}
