//! The strict reader: text to [`Profile`], refusing anything it does not understand with
//! the place (`syscalls[3].args[0].op`) and the value. Docker/OCI JSON is read here; a
//! Security Profiles Operator `SeccompProfile` (YAML or JSON, see [`super::spo`]) becomes
//! the same format's types first, and its base profiles are merged here.
//!
//! serde reads the text into the format's types ([`super::raw`]), which know every field
//! Docker, Podman and the OCI runtime spec define and nothing else (runc ignores unknown
//! fields, which hides typos such as `"excludes": {"cap": [...]}` that silently widen a
//! profile), and refuse a key given twice (which readers resolve differently);
//! `serde_path_to_error` names the place. Then each value is checked and the profile built
//! through its constructors.

use super::error::{EntryError, ErrorKind, ReadError};
use super::raw::{self, Obj, RawArg, RawFilter, RawProfile, RawSyscall};
use super::spo::{self, base::Base};
use super::{ArchMapEntry, ArgSpec, Filter, FilterFlag, KernelVersion, Profile, SyscallEntry};
use crate::action::{Action, MAX_TRACE_VALUE};
use crate::arch::Arch;
use crate::caps::Cap;
use crate::cond::{Op, MAX_ARG_INDEX};
use crate::errno;
use crate::syscalls;

/// Choices the user makes explicitly about what the reader accepts.
#[derive(Debug, Clone, Copy, Default)]
pub struct ReadOptions {
    /// Skip unknown system call names instead of failing (runc's behaviour).
    pub ignore_unknown_names: bool,
    /// Accept `ERRNO(0)`, which makes a denied call look successful.
    pub allow_errno_zero: bool,
}

pub(super) fn at(path: &str, kind: ErrorKind) -> ReadError {
    ReadError::At {
        path: path.to_string(),
        kind,
    }
}

fn join(path: &str, field: &str) -> String {
    if path.is_empty() {
        field.to_string()
    } else {
        format!("{path}.{field}")
    }
}

/// Parses profile text: a Docker or OCI profile (JSON), an OCI `config.json` (its
/// `linux.seccomp` object is the profile), or a Security Profiles Operator
/// `SeccompProfile` (YAML or JSON), told apart by their content.
pub fn parse(text: &str, opts: ReadOptions) -> Result<Profile, ReadError> {
    parse_with_bases(text, opts, &[]).map(|(p, _)| p)
}

/// [`parse`], with the files a `SeccompProfile`'s `baseProfileName` may name; also says
/// which of them were used (by index).
pub fn parse_with_bases(
    text: &str,
    opts: ReadOptions,
    bases: &[Base],
) -> Result<(Profile, Vec<usize>), ReadError> {
    if let Some(v) = kubernetes_object(text)? {
        let mut used = Vec::new();
        let (p, _) = spo::base::from_spo(v, opts, bases, 0, &mut used)?;
        return Ok((p, used));
    }
    let sniff: Obj<raw::Sniff> = deserialize(text)?;
    if sniff.0.oci_version.is_some() || sniff.0.linux.is_some() {
        let config: Obj<raw::OciConfig> = deserialize(text)?;
        let linux = config
            .0
            .linux
            .ok_or_else(|| at("", ErrorKind::Missing("linux")))?;
        let seccomp = linux
            .0
            .seccomp
            .ok_or_else(|| at("linux", ErrorKind::Missing("seccomp")))?;
        oci_fields_only(&seccomp.0)?;
        return Ok((profile("linux.seccomp", seccomp.0, opts)?, vec![]));
    }
    let p: Obj<RawProfile> = deserialize(text)?;
    Ok((profile("", p.0, opts)?, vec![]))
}

/// The `linux.seccomp` object of an OCI `config.json`, given alone (an OCI runtime has the
/// config already): the runtime spec's fields only, as in [`parse`]'s reading of a whole
/// config.json; places are named from `linux.seccomp`.
pub fn parse_oci_seccomp(text: &str, opts: ReadOptions) -> Result<Profile, ReadError> {
    let p: Obj<RawProfile> = deserialize(text).map_err(|e| match e {
        ReadError::At { path, kind } if path.is_empty() => at("linux.seccomp", kind),
        ReadError::At { path, kind } => at(&join("linux.seccomp", &path), kind),
        other => other,
    })?;
    oci_fields_only(&p.0)?;
    profile("linux.seccomp", p.0, opts)
}

/// In a `config.json`, `linux.seccomp` is the runtime spec's object: runc and crun read only
/// its fields and ignore Docker's, which would change what a rule means (an `includes`
/// that makes a rule apply only with a capability, a singular `name`, an errno by name).
/// Those are refused there rather than read differently from the runtimes that define the
/// format. (`comment` changes nothing and is left alone.)
fn oci_fields_only(p: &RawProfile) -> Result<(), ReadError> {
    let base = "linux.seccomp";
    if p.default_errno.is_some() {
        return Err(at(
            &join(base, "defaultErrno"),
            ErrorKind::DockerFieldInOci("defaultErrno"),
        ));
    }
    if p.arch_map.is_some() {
        return Err(at(
            &join(base, "archMap"),
            ErrorKind::DockerFieldInOci("archMap"),
        ));
    }
    for (i, e) in p.syscalls.iter().flatten().enumerate() {
        let e = &e.0;
        let field = if e.name.is_some() {
            Some("name")
        } else if e.errno.is_some() {
            Some("errno")
        } else if e.includes.is_some() {
            Some("includes")
        } else if e.excludes.is_some() {
            Some("excludes")
        } else {
            None
        };
        if let Some(f) = field {
            return Err(at(
                &format!("{base}.syscalls[{i}].{f}"),
                ErrorKind::DockerFieldInOci(f),
            ));
        }
    }
    Ok(())
}

/// The text as a Kubernetes object, when it is one: YAML, or JSON with `apiVersion` or
/// `kind`. JSON starts with `{` (or, refused later, `[`); any other text is YAML.
pub(super) fn kubernetes_object(text: &str) -> Result<Option<serde_json::Value>, ReadError> {
    let json = matches!(text.trim_start().chars().next(), Some('{' | '[') | None);
    if json {
        let sniff: Obj<raw::Sniff> = deserialize(text)?;
        if sniff.0.api_version.is_none() && sniff.0.kind.is_none() {
            return Ok(None);
        }
    }
    let v = super::yaml::to_value(text)?;
    if !v.is_object() {
        return Err(at("", ErrorKind::NotAProfile));
    }
    if !spo::is_object(&v) {
        return Err(at("", ErrorKind::NotAnObject));
    }
    Ok(Some(v))
}

/// serde's reading of the text, its errors with their place.
fn deserialize<'de, T: serde::Deserialize<'de>>(text: &'de str) -> Result<T, ReadError> {
    let mut de = serde_json::Deserializer::from_str(text);
    let value = serde_path_to_error::deserialize(&mut de).map_err(json_error)?;
    de.end().map_err(|e| ReadError::Syntax(e.to_string()))?;
    Ok(value)
}

pub(super) fn json_error(e: serde_path_to_error::Error<serde_json::Error>) -> ReadError {
    let path = match e.path().to_string() {
        p if p == "." => String::new(),
        p => p,
    };
    let inner = e.into_inner();
    if inner.is_eof() {
        return ReadError::Truncated(inner.to_string());
    }
    if inner.is_syntax() || inner.is_io() {
        return ReadError::Syntax(inner.to_string());
    }
    // The message without serde_json's position: the path says where.
    let full = inner.to_string();
    let suffix = format!(" at line {} column {}", inner.line(), inner.column());
    let msg = full.strip_suffix(&suffix).unwrap_or(&full);
    data_error(path, msg)
}

/// serde's data errors in the reader's words.
fn data_error(path: String, msg: &str) -> ReadError {
    let ticked = |s: &str| s.split('`').nth(1).map(str::to_string);
    if let Some(rest) = msg.strip_prefix("unknown field ") {
        // serde names the field in the path; the reader names the object holding it.
        let field = ticked(rest).unwrap_or_default();
        let parent = path
            .strip_suffix(&field)
            .map(|p| p.trim_end_matches('.').to_string())
            .unwrap_or(path);
        let known: Vec<&str> = rest
            .split_once("expected")
            .map(|(_, list)| list.split('`').skip(1).step_by(2).collect())
            .unwrap_or_default();
        let hint = known
            .iter()
            .map(|k| (syscalls::edit_distance(&field, k), *k))
            .min()
            .filter(|(d, _)| *d <= 2)
            .map(|(_, k)| format!(" (did you mean `{k}`?)"))
            .unwrap_or_default();
        return at(&parent, ErrorKind::UnknownField { field, hint });
    }
    if let Some(rest) = msg.strip_prefix("duplicate field ") {
        let field = ticked(rest).unwrap_or_default();
        return at(&join(&path, &field), ErrorKind::Duplicate);
    }
    for prefix in ["invalid type: ", "invalid value: "] {
        if let Some((found, expected)) = msg
            .strip_prefix(prefix)
            .and_then(|r| r.rsplit_once(", expected "))
        {
            return at(
                &path,
                ErrorKind::WrongType {
                    expected: expected_words(expected),
                    found: found_words(found),
                },
            );
        }
    }
    at(&path, ErrorKind::Json(msg.to_string()))
}

fn expected_words(e: &str) -> String {
    match e {
        "a sequence" => "an array".to_string(),
        "u64" | "u8" | "u16" | "u32" => "a non-negative integer".to_string(),
        "a boolean" => "`true` or `false`".to_string(),
        other if other.starts_with("struct ") || other == "a map" => "an object".to_string(),
        other => other.to_string(),
    }
}

fn found_words(f: &str) -> String {
    match f {
        "map" => "an object".to_string(),
        "sequence" => "an array".to_string(),
        "null" | "unit value" => "null".to_string(),
        other if other.starts_with("string ") => "a string".to_string(),
        other => match other.split_once(' ') {
            // integer `-1`, floating point `1.5`, boolean `true`: the value
            Some((_, v)) if v.contains('`') => v.rsplit(' ').next().unwrap_or(v).to_string(),
            _ => other.to_string(),
        },
    }
}

fn errno_name(path: &str, name: &str) -> Result<u64, ReadError> {
    errno::number(name)
        .map(u64::from)
        .ok_or_else(|| at(path, ErrorKind::UnknownErrno(name.to_string())))
}

/// An action from its name and its `errnoRet`/`errno` fields (Podman writes errnos by
/// name): the value must suit the action and fit what libseccomp loads.
fn action(
    path: &str,
    name: &str,
    ret: Option<u64>,
    named: Option<&str>,
    (ret_field, name_field): (&'static str, &'static str),
    action_field: &str,
) -> Result<Action, ReadError> {
    let named = named
        .map(|s| errno_name(&join(path, name_field), s).map(|n| (s, n)))
        .transpose()?;
    let value = match (ret, named) {
        (Some(r), Some((name, n))) if r != n => {
            return Err(at(
                path,
                ErrorKind::ErrnoMismatch {
                    name: name.to_string(),
                    ret: r,
                },
            ))
        }
        (Some(r), _) => Some(r),
        (None, Some((_, n))) => Some(n),
        (None, None) => None,
    };
    let field = if ret.is_some() { ret_field } else { name_field };
    let value_path = join(path, field);
    if value.is_some() && !Action::takes_value(name) {
        return Err(at(
            &value_path,
            ErrorKind::ErrnoOnAction {
                field,
                action: name.to_string(),
            },
        ));
    }
    let data = match value {
        Some(v) if name == "SCMP_ACT_TRACE" && v > u64::from(MAX_TRACE_VALUE) => {
            return Err(at(&value_path, ErrorKind::TraceRange(v)))
        }
        // Refused by the entry's and the profile's constructors, with the limit.
        Some(v) => Some(u16::try_from(v).map_err(|_| at(&value_path, ErrorKind::ErrnoRange(v)))?),
        None => None,
    };
    let action_path = join(path, action_field);
    let a = Action::from_docker(name, data)
        .ok_or_else(|| at(&action_path, ErrorKind::UnknownAction(name.to_string())))?;
    super::entry::check_action(a).map_err(|k| at(&value_path, k))?;
    Ok(a)
}

fn check_errno_zero(path: &str, action: Action, opts: ReadOptions) -> Result<(), ReadError> {
    if action == Action::Errno(0) && !opts.allow_errno_zero {
        return Err(at(path, ErrorKind::ErrnoZero));
    }
    Ok(())
}

pub(super) fn profile(path: &str, p: RawProfile, opts: ReadOptions) -> Result<Profile, ReadError> {
    let action_path = join(path, "defaultAction");
    let name = p
        .default_action
        .as_deref()
        .ok_or_else(|| at(path, ErrorKind::Missing("defaultAction")))?;
    let default = action(
        path,
        name,
        p.default_errno_ret,
        p.default_errno.as_deref(),
        ("defaultErrnoRet", "defaultErrno"),
        "defaultAction",
    )?;
    check_errno_zero(&action_path, default, opts)?;
    let mut out = Profile::new(default).map_err(|k| at(&action_path, k))?;

    if p.architectures.is_some() && p.arch_map.is_some() {
        return Err(at(path, ErrorKind::ArchAndArchMap));
    }
    if let Some(list) = p.architectures {
        let ap = join(path, "architectures");
        let arches = list
            .iter()
            .enumerate()
            .map(|(i, a)| arch_name(&format!("{ap}[{i}]"), a))
            .collect::<Result<Vec<_>, _>>()?;
        out = out.with_architectures(arches);
    }
    if let Some(map) = p.arch_map {
        let mp = join(path, "archMap");
        let mut entries = Vec::new();
        for (i, e) in map.into_iter().enumerate() {
            let ep = format!("{mp}[{i}]");
            let a =
                e.0.architecture
                    .ok_or_else(|| at(&ep, ErrorKind::Missing("architecture")))?;
            let arch = arch_name(&join(&ep, "architecture"), &a)?;
            let sp = join(&ep, "subArchitectures");
            let sub =
                e.0.sub_architectures
                    .unwrap_or_default()
                    .iter()
                    .enumerate()
                    .map(|(j, s)| arch_name(&format!("{sp}[{j}]"), s))
                    .collect::<Result<Vec<_>, _>>()?;
            entries.push(ArchMapEntry::new(arch, sub));
        }
        out = out.with_arch_map(entries);
    }

    let fp = join(path, "flags");
    let mut flags = Vec::new();
    for (i, f) in p.flags.unwrap_or_default().iter().enumerate() {
        let ip = format!("{fp}[{i}]");
        if f == "SECCOMP_FILTER_FLAG_NEW_LISTENER" {
            return Err(at(&ip, ErrorKind::NewListenerFlag));
        }
        flags.push(FilterFlag::parse(f).ok_or_else(|| at(&ip, ErrorKind::UnknownFlag(f.clone())))?);
    }
    out = out.with_flags(flags);

    // runc treats an empty `listenerPath` as none.
    match (
        p.listener_path.filter(|l| !l.is_empty()),
        p.listener_metadata,
    ) {
        (None, Some(_)) => return Err(at(path, ErrorKind::MetadataWithoutPath)),
        (Some(l), m) => {
            out = out
                .with_listener(l, m)
                .map_err(|k| at(&join(path, "listenerPath"), k))?
        }
        (None, None) => {}
    }

    let sp = join(path, "syscalls");
    for (i, e) in p.syscalls.unwrap_or_default().into_iter().enumerate() {
        out.push_syscall(syscall(&format!("{sp}[{i}]"), e.0, opts)?);
    }
    Ok(out)
}

fn entry_error(path: &str, e: EntryError) -> ReadError {
    at(
        &if e.place.is_empty() {
            path.to_string()
        } else {
            join(path, &e.place)
        },
        e.kind,
    )
}

fn syscall(path: &str, s: RawSyscall, opts: ReadOptions) -> Result<SyscallEntry, ReadError> {
    let names = match (s.name, s.names) {
        (Some(_), Some(_)) => return Err(at(path, ErrorKind::NameAndNames)),
        (Some(n), None) => vec![n],
        (None, Some(ns)) => ns,
        (None, None) => return Err(at(path, ErrorKind::Missing("names"))),
    };
    let action_path = join(path, "action");
    let name = s
        .action
        .as_deref()
        .ok_or_else(|| at(path, ErrorKind::Missing("action")))?;
    let act = action(
        path,
        name,
        s.errno_ret,
        s.errno.as_deref(),
        ("errnoRet", "errno"),
        "action",
    )?;
    check_errno_zero(&action_path, act, opts)?;
    let ap = join(path, "args");
    let args = s
        .args
        .unwrap_or_default()
        .into_iter()
        .enumerate()
        .map(|(i, a)| arg(&format!("{ap}[{i}]"), a.0))
        .collect::<Result<Vec<_>, _>>()?;
    let e = if opts.ignore_unknown_names {
        SyscallEntry::new_skipping_unknown(names, act, args)
    } else {
        SyscallEntry::new(names, act, args)
    }
    .map_err(|e| entry_error(path, e))?;
    let includes = filter(&join(path, "includes"), s.includes.map(|f| f.0))?;
    let excludes = filter(&join(path, "excludes"), s.excludes.map(|f| f.0))?;
    Ok(e.with_comment(s.comment)
        .with_includes(includes)
        .with_excludes(excludes))
}

fn arch_name(path: &str, s: &str) -> Result<Arch, ReadError> {
    // libseccomp's name for the machine's own ABI (runc and the Security Profiles
    // Operator's resource accept it).
    if s == "SCMP_ARCH_NATIVE" {
        return Ok(Arch::native());
    }
    if !s.starts_with("SCMP_ARCH_") {
        return Err(at(path, ErrorKind::UnknownArch(s.to_string())));
    }
    Arch::parse(s).ok_or_else(|| at(path, ErrorKind::UnknownArch(s.to_string())))
}

fn arg(path: &str, a: RawArg) -> Result<ArgSpec, ReadError> {
    let index = a
        .index
        .ok_or_else(|| at(path, ErrorKind::Missing("index")))?;
    let index = u8::try_from(index)
        .ok()
        .filter(|i| *i <= MAX_ARG_INDEX)
        .ok_or_else(|| at(&join(path, "index"), ErrorKind::IndexRange(index)))?;
    let value = a
        .value
        .ok_or_else(|| at(path, ErrorKind::Missing("value")))?;
    let value_two = a.value_two.unwrap_or(0);
    let op_name =
        a.op.as_deref()
            .ok_or_else(|| at(path, ErrorKind::Missing("op")))?;
    let (op, value) = match op_name {
        "SCMP_CMP_NE" => (Op::Ne, value),
        "SCMP_CMP_LT" => (Op::Lt, value),
        "SCMP_CMP_LE" => (Op::Le, value),
        "SCMP_CMP_EQ" => (Op::Eq, value),
        "SCMP_CMP_GE" => (Op::Ge, value),
        "SCMP_CMP_GT" => (Op::Gt, value),
        // As runc and libseccomp: `value` is the mask, `valueTwo` the value after masking.
        "SCMP_CMP_MASKED_EQ" => (Op::MaskedEq(value), value_two),
        other => {
            return Err(at(
                &join(path, "op"),
                ErrorKind::UnknownOp(other.to_string()),
            ))
        }
    };
    if value_two != 0 && !matches!(op, Op::MaskedEq(_)) {
        return Err(at(
            &join(path, "valueTwo"),
            ErrorKind::ValueTwoOnOp(op_name.to_string()),
        ));
    }
    ArgSpec::new(index, op, value).map_err(|k| at(&join(path, "index"), k))
}

fn filter(path: &str, f: Option<RawFilter>) -> Result<Filter, ReadError> {
    let Some(f) = f else {
        return Ok(Filter::default());
    };
    let cp = join(path, "caps");
    let mut caps = Vec::new();
    for (i, c) in f.caps.unwrap_or_default().iter().enumerate() {
        // Docker writes `CAP_SYS_ADMIN`; accept the bare name too, as `--cap-add` does.
        let cap = Cap::parse(c)
            .ok_or_else(|| at(&format!("{cp}[{i}]"), ErrorKind::UnknownCap(c.clone())))?;
        caps.push(cap);
    }
    let min_kernel = match f.min_kernel {
        Some(k) => Some(
            KernelVersion::parse(&k)
                .filter(|_| k.chars().all(|c| c.is_ascii_digit() || c == '.'))
                .ok_or_else(|| at(&join(path, "minKernel"), ErrorKind::BadKernel(k.clone())))?,
        ),
        None => None,
    };
    let ap = join(path, "arches");
    Filter::new(caps, f.arches.unwrap_or_default(), min_kernel)
        .map_err(|(i, k)| at(&format!("{ap}[{i}]"), k))
}
