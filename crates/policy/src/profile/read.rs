//! The strict reader: JSON text to [`Profile`], refusing anything it does not understand
//! with the place (`syscalls[3].args[0].op`) and the value.
//!
//! The JSON is walked by hand over `serde_json::Value` rather than derived, so that every
//! error names its field path. Fields Docker, Podman and the OCI runtime spec define are
//! known; anything else is an error (runc ignores unknown fields, which hides typos such as
//! `"excludes": {"cap": [...]}` that silently widen a profile).

use super::{ArchMapEntry, ArgSpec, Filter, FilterFlag, KernelVersion, Profile, SyscallEntry};
use crate::action::{Action, MAX_ERRNO};
use crate::arch::{self, Arch};
use crate::caps::Cap;
use crate::cond::{Op, MAX_ARG_INDEX};
use crate::errno;
use crate::syscalls;
use serde_json::{Map, Value};
use thiserror::Error;

/// Choices the user makes explicitly about what the reader accepts.
#[derive(Debug, Clone, Copy, Default)]
pub struct ReadOptions {
    /// Skip unknown system call names instead of failing (runc's behaviour).
    pub ignore_unknown_names: bool,
    /// Accept `ERRNO(0)`, which makes a denied call look successful.
    pub allow_errno_zero: bool,
}

/// Why a profile was refused.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum ReadError {
    #[error("not JSON: {0}")]
    Syntax(String),
    #[error("truncated JSON: {0}")]
    Truncated(String),
    #[error("{}{kind}", if path.is_empty() { String::new() } else { format!("{path}: ") })]
    At { path: String, kind: ErrorKind },
}

/// What was wrong at a place in the profile.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum ErrorKind {
    #[error("expected {expected}, found {found}")]
    WrongType {
        expected: &'static str,
        found: String,
    },
    #[error("missing field `{0}`")]
    Missing(&'static str),
    #[error("unknown field `{field}`{hint}")]
    UnknownField { field: String, hint: String },
    #[error("unknown action `{0}` (expected SCMP_ACT_KILL_PROCESS, SCMP_ACT_KILL_THREAD, SCMP_ACT_KILL, SCMP_ACT_TRAP, SCMP_ACT_ERRNO, SCMP_ACT_TRACE, SCMP_ACT_LOG, SCMP_ACT_ALLOW or SCMP_ACT_NOTIFY)")]
    UnknownAction(String),
    #[error("unknown operator `{0}` (expected SCMP_CMP_NE, SCMP_CMP_LT, SCMP_CMP_LE, SCMP_CMP_EQ, SCMP_CMP_GE, SCMP_CMP_GT or SCMP_CMP_MASKED_EQ)")]
    UnknownOp(String),
    #[error("unknown architecture `{0}`")]
    UnknownArch(String),
    #[error("unknown system call `{name}`{hint}")]
    UnknownSyscall { name: String, hint: String },
    #[error("unknown capability `{0}`")]
    UnknownCap(String),
    #[error("unknown filter flag `{0}` (expected SECCOMP_FILTER_FLAG_TSYNC, SECCOMP_FILTER_FLAG_LOG, SECCOMP_FILTER_FLAG_SPEC_ALLOW or SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV)")]
    UnknownFlag(String),
    #[error("unknown errno name `{0}`")]
    UnknownErrno(String),
    #[error("`{0}` is not a kernel version (expected e.g. `4.8`)")]
    BadKernel(String),
    #[error("argument index `{0}` is above {MAX_ARG_INDEX}: seccomp sees only six arguments")]
    IndexRange(u64),
    #[error("errno `{0}` is out of range 0..={MAX_ERRNO}")]
    ErrnoRange(u64),
    #[error("`{field}` is only valid with SCMP_ACT_ERRNO or SCMP_ACT_TRACE, not `{action}`")]
    ErrnoOnAction { field: &'static str, action: String },
    #[error("`errno` `{name}` and `errnoRet` `{ret}` disagree")]
    ErrnoMismatch { name: String, ret: u16 },
    #[error("ERRNO(0) makes a denied call look successful to the program; use EPERM, or pass --seccomp-allow-errno-zero if that is really meant")]
    ErrnoZero,
    #[error("SCMP_ACT_NOTIFY as the default action would stop every system call until a supervisor answers, including the supervisor's own set-up; runc refuses it too")]
    NotifyDefault,
    #[error("SCMP_ACT_NOTIFY on `{0}` can deadlock the supervisor, which must write to report the call; runc refuses it too")]
    NotifyWrite(String),
    #[error("no system call names")]
    EmptyNames,
    #[error("both `name` and `names` are given; use `names`")]
    NameAndNames,
    #[error("both `architectures` and `archMap` are given; use one")]
    ArchAndArchMap,
    #[error("`listenerMetadata` is given without `listenerPath`")]
    MetadataWithoutPath,
    #[error("`valueTwo` is only used by SCMP_CMP_MASKED_EQ (as the value compared after masking), not by `{0}`")]
    ValueTwoOnOp(String),
    #[error("SECCOMP_FILTER_FLAG_NEW_LISTENER is set by syscage itself; give `listenerPath` to hand the notification fd to an agent")]
    NewListenerFlag,
}

fn at(path: &str, kind: ErrorKind) -> ReadError {
    ReadError::At {
        path: path.to_string(),
        kind,
    }
}

fn type_name(v: &Value) -> String {
    match v {
        Value::Null => "null".into(),
        Value::Bool(b) => format!("`{b}`"),
        Value::Number(n) => format!("`{n}`"),
        Value::String(_) => "a string".into(),
        Value::Array(_) => "an array".into(),
        Value::Object(_) => "an object".into(),
    }
}

fn wrong(path: &str, expected: &'static str, v: &Value) -> ReadError {
    at(
        path,
        ErrorKind::WrongType {
            expected,
            found: type_name(v),
        },
    )
}

fn join(path: &str, field: &str) -> String {
    if path.is_empty() {
        field.to_string()
    } else {
        format!("{path}.{field}")
    }
}

/// Parses profile text. An OCI `config.json` is accepted too: its `linux.seccomp` object is
/// the profile.
pub fn parse(text: &str, opts: ReadOptions) -> Result<Profile, ReadError> {
    let value: Value = serde_json::from_str(text).map_err(|e| {
        if e.is_eof() {
            ReadError::Truncated(e.to_string())
        } else {
            ReadError::Syntax(e.to_string())
        }
    })?;
    let obj = value
        .as_object()
        .ok_or_else(|| wrong("", "an object", &value))?;
    if obj.contains_key("ociVersion") || obj.contains_key("linux") {
        let linux = obj
            .get("linux")
            .ok_or_else(|| at("", ErrorKind::Missing("linux")))?;
        let linux = linux
            .as_object()
            .ok_or_else(|| wrong("linux", "an object", linux))?;
        let seccomp = linux
            .get("seccomp")
            .ok_or_else(|| at("linux", ErrorKind::Missing("seccomp")))?;
        let seccomp = seccomp
            .as_object()
            .ok_or_else(|| wrong("linux.seccomp", "an object", seccomp))?;
        return Reader { opts }.profile("linux.seccomp", seccomp);
    }
    Reader { opts }.profile("", obj)
}

struct Reader {
    opts: ReadOptions,
}

const TOP_FIELDS: &[&str] = &[
    "defaultAction",
    "defaultErrnoRet",
    "defaultErrno",
    "architectures",
    "archMap",
    "flags",
    "listenerPath",
    "listenerMetadata",
    "syscalls",
];
const SYSCALL_FIELDS: &[&str] = &[
    "names", "name", "action", "errnoRet", "errno", "args", "comment", "includes", "excludes",
];
const ARG_FIELDS: &[&str] = &["index", "value", "valueTwo", "op"];
const FILTER_FIELDS: &[&str] = &["caps", "arches", "minKernel"];
const ARCHMAP_FIELDS: &[&str] = &["architecture", "subArchitectures"];

fn check_fields(
    path: &str,
    obj: &Map<String, Value>,
    known: &[&'static str],
) -> Result<(), ReadError> {
    for key in obj.keys() {
        if !known.contains(&key.as_str()) {
            let near = known
                .iter()
                .map(|k| (syscalls::edit_distance(key, k), *k))
                .min()
                .filter(|(d, _)| *d <= 2)
                .map(|(_, k)| format!(" (did you mean `{k}`?)"))
                .unwrap_or_default();
            return Err(at(
                path,
                ErrorKind::UnknownField {
                    field: key.clone(),
                    hint: near,
                },
            ));
        }
    }
    Ok(())
}

fn get_str<'a>(
    path: &str,
    obj: &'a Map<String, Value>,
    field: &str,
) -> Result<Option<&'a str>, ReadError> {
    match obj.get(field) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s)),
        Some(v) => Err(wrong(&join(path, field), "a string", v)),
    }
}

fn get_u64(path: &str, obj: &Map<String, Value>, field: &str) -> Result<Option<u64>, ReadError> {
    match obj.get(field) {
        None | Some(Value::Null) => Ok(None),
        Some(v) => v
            .as_u64()
            .map(Some)
            .ok_or_else(|| wrong(&join(path, field), "a non-negative integer", v)),
    }
}

fn get_array<'a>(
    path: &str,
    obj: &'a Map<String, Value>,
    field: &str,
) -> Result<&'a [Value], ReadError> {
    match obj.get(field) {
        None | Some(Value::Null) => Ok(&[]),
        Some(Value::Array(a)) => Ok(a),
        Some(v) => Err(wrong(&join(path, field), "an array", v)),
    }
}

fn errno_value(path: &str, n: u64) -> Result<u16, ReadError> {
    u16::try_from(n)
        .ok()
        .filter(|e| *e <= MAX_ERRNO)
        .ok_or_else(|| at(path, ErrorKind::ErrnoRange(n)))
}

fn errno_name(path: &str, name: &str) -> Result<u16, ReadError> {
    errno::number(name).ok_or_else(|| at(path, ErrorKind::UnknownErrno(name.to_string())))
}

impl Reader {
    fn profile(&self, path: &str, obj: &Map<String, Value>) -> Result<Profile, ReadError> {
        check_fields(path, obj, TOP_FIELDS)?;
        let mut p = Profile::default();

        let action_path = join(path, "defaultAction");
        let name = get_str(path, obj, "defaultAction")?
            .ok_or_else(|| at(path, ErrorKind::Missing("defaultAction")))?;
        let ret = self.errno_fields(path, obj, "defaultErrnoRet", "defaultErrno", name)?;
        let action = Action::from_docker(name, ret)
            .ok_or_else(|| at(&action_path, ErrorKind::UnknownAction(name.to_string())))?;
        if action == Action::Notify {
            return Err(at(&action_path, ErrorKind::NotifyDefault));
        }
        self.check_errno_zero(&action_path, action)?;
        p.default_action = Some(action);

        let arch_path = join(path, "architectures");
        for (i, v) in get_array(path, obj, "architectures")?.iter().enumerate() {
            p.architectures
                .push(arch_name(&format!("{arch_path}[{i}]"), v)?);
        }
        let map_path = join(path, "archMap");
        for (i, v) in get_array(path, obj, "archMap")?.iter().enumerate() {
            let ep = format!("{map_path}[{i}]");
            let e = v.as_object().ok_or_else(|| wrong(&ep, "an object", v))?;
            check_fields(&ep, e, ARCHMAP_FIELDS)?;
            let a = e
                .get("architecture")
                .ok_or_else(|| at(&ep, ErrorKind::Missing("architecture")))?;
            let arch = arch_name(&join(&ep, "architecture"), a)?;
            let mut sub = Vec::new();
            let sp = join(&ep, "subArchitectures");
            for (j, s) in get_array(&ep, e, "subArchitectures")?.iter().enumerate() {
                sub.push(arch_name(&format!("{sp}[{j}]"), s)?);
            }
            p.arch_map.push(ArchMapEntry { arch, sub });
        }
        if !p.architectures.is_empty() && !p.arch_map.is_empty() {
            return Err(at(path, ErrorKind::ArchAndArchMap));
        }

        let flags_path = join(path, "flags");
        for (i, v) in get_array(path, obj, "flags")?.iter().enumerate() {
            let fp = format!("{flags_path}[{i}]");
            let s = v.as_str().ok_or_else(|| wrong(&fp, "a string", v))?;
            if s == "SECCOMP_FILTER_FLAG_NEW_LISTENER" {
                return Err(at(&fp, ErrorKind::NewListenerFlag));
            }
            let f = FilterFlag::parse(s)
                .ok_or_else(|| at(&fp, ErrorKind::UnknownFlag(s.to_string())))?;
            p.flags.push(f);
        }

        p.listener_path = get_str(path, obj, "listenerPath")?
            .filter(|s| !s.is_empty())
            .map(str::to_string);
        p.listener_metadata = get_str(path, obj, "listenerMetadata")?
            .filter(|s| !s.is_empty())
            .map(str::to_string);
        if p.listener_metadata.is_some() && p.listener_path.is_none() {
            return Err(at(path, ErrorKind::MetadataWithoutPath));
        }

        let sys_path = join(path, "syscalls");
        for (i, v) in get_array(path, obj, "syscalls")?.iter().enumerate() {
            let ep = format!("{sys_path}[{i}]");
            let e = v.as_object().ok_or_else(|| wrong(&ep, "an object", v))?;
            p.syscalls.push(self.syscall(&ep, e)?);
        }
        Ok(p)
    }

    /// Reads `errnoRet` (a number) and Podman's `errno` (a name) for an action.
    fn errno_fields(
        &self,
        path: &str,
        obj: &Map<String, Value>,
        ret_field: &'static str,
        name_field: &'static str,
        action: &str,
    ) -> Result<Option<u16>, ReadError> {
        let ret = get_u64(path, obj, ret_field)?
            .map(|n| errno_value(&join(path, ret_field), n))
            .transpose()?;
        let named = get_str(path, obj, name_field)?
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
        if value.is_some() && !Action::takes_value(action) {
            // Podman writes `defaultErrnoRet` next to non-ERRNO default actions in some
            // generated profiles only when it is meaningful; anything else is a mistake.
            let field = if ret.is_some() { ret_field } else { name_field };
            return Err(at(
                &join(path, field),
                ErrorKind::ErrnoOnAction {
                    field,
                    action: action.to_string(),
                },
            ));
        }
        Ok(value)
    }

    fn check_errno_zero(&self, path: &str, action: Action) -> Result<(), ReadError> {
        if action == Action::Errno(0) && !self.opts.allow_errno_zero {
            return Err(at(path, ErrorKind::ErrnoZero));
        }
        Ok(())
    }

    fn syscall(&self, path: &str, obj: &Map<String, Value>) -> Result<SyscallEntry, ReadError> {
        check_fields(path, obj, SYSCALL_FIELDS)?;
        let mut written: Vec<(String, String)> = Vec::new(); // (path, name)
        match (obj.get("name"), obj.get("names")) {
            (Some(_), Some(_)) => return Err(at(path, ErrorKind::NameAndNames)),
            (Some(v), None) => {
                let np = join(path, "name");
                let s = v.as_str().ok_or_else(|| wrong(&np, "a string", v))?;
                written.push((np, s.to_string()));
            }
            (None, Some(_)) => {
                let np = join(path, "names");
                for (i, v) in get_array(path, obj, "names")?.iter().enumerate() {
                    let ip = format!("{np}[{i}]");
                    let s = v.as_str().ok_or_else(|| wrong(&ip, "a string", v))?;
                    written.push((ip, s.to_string()));
                }
            }
            (None, None) => return Err(at(path, ErrorKind::Missing("names"))),
        }
        if written.is_empty() {
            return Err(at(&join(path, "names"), ErrorKind::EmptyNames));
        }
        let mut names = Vec::new();
        let mut unknown = Vec::new();
        for (np, name) in written {
            if syscalls::lookup(&name).is_some() || syscalls::is_other_arch(&name) {
                names.push(name);
            } else if self.opts.ignore_unknown_names {
                unknown.push(name);
            } else {
                let hint = syscalls::suggest(&name)
                    .map(|s| format!(" (did you mean `{s}`?)"))
                    .unwrap_or_default();
                return Err(at(&np, ErrorKind::UnknownSyscall { name, hint }));
            }
        }

        let action_path = join(path, "action");
        let name =
            get_str(path, obj, "action")?.ok_or_else(|| at(path, ErrorKind::Missing("action")))?;
        let ret = self.errno_fields(path, obj, "errnoRet", "errno", name)?;
        let action = Action::from_docker(name, ret)
            .ok_or_else(|| at(&action_path, ErrorKind::UnknownAction(name.to_string())))?;
        self.check_errno_zero(&action_path, action)?;
        if action == Action::Notify {
            if let Some(w) = names.iter().find(|n| is_supervisor_write(n)) {
                return Err(at(&action_path, ErrorKind::NotifyWrite(w.clone())));
            }
        }

        let mut args = Vec::new();
        let ap = join(path, "args");
        for (i, v) in get_array(path, obj, "args")?.iter().enumerate() {
            let ip = format!("{ap}[{i}]");
            let a = v.as_object().ok_or_else(|| wrong(&ip, "an object", v))?;
            args.push(arg(&ip, a)?);
        }

        let comment = get_str(path, obj, "comment")?
            .filter(|c| !c.is_empty())
            .map(str::to_string);
        let includes = filter(&join(path, "includes"), obj.get("includes"))?;
        let excludes = filter(&join(path, "excludes"), obj.get("excludes"))?;
        Ok(SyscallEntry {
            names,
            unknown,
            action,
            args,
            comment,
            includes,
            excludes,
        })
    }
}

/// The calls the supervisor itself makes to report or continue a notified call; NOTIFY on
/// them would wait for an answer that can never come.
fn is_supervisor_write(name: &str) -> bool {
    name == "write"
}

fn arch_name(path: &str, v: &Value) -> Result<Arch, ReadError> {
    let s = v.as_str().ok_or_else(|| wrong(path, "a string", v))?;
    if !s.starts_with("SCMP_ARCH_") {
        return Err(at(path, ErrorKind::UnknownArch(s.to_string())));
    }
    Arch::parse(s).ok_or_else(|| at(path, ErrorKind::UnknownArch(s.to_string())))
}

fn arg(path: &str, obj: &Map<String, Value>) -> Result<ArgSpec, ReadError> {
    check_fields(path, obj, ARG_FIELDS)?;
    let index =
        get_u64(path, obj, "index")?.ok_or_else(|| at(path, ErrorKind::Missing("index")))?;
    let index = u8::try_from(index)
        .ok()
        .filter(|i| *i <= MAX_ARG_INDEX)
        .ok_or_else(|| at(&join(path, "index"), ErrorKind::IndexRange(index)))?;
    let value =
        get_u64(path, obj, "value")?.ok_or_else(|| at(path, ErrorKind::Missing("value")))?;
    let value_two = get_u64(path, obj, "valueTwo")?.unwrap_or(0);
    let op_name = get_str(path, obj, "op")?.ok_or_else(|| at(path, ErrorKind::Missing("op")))?;
    let op_path = join(path, "op");
    let (op, value) = match op_name {
        "SCMP_CMP_NE" => (Op::Ne, value),
        "SCMP_CMP_LT" => (Op::Lt, value),
        "SCMP_CMP_LE" => (Op::Le, value),
        "SCMP_CMP_EQ" => (Op::Eq, value),
        "SCMP_CMP_GE" => (Op::Ge, value),
        "SCMP_CMP_GT" => (Op::Gt, value),
        // As runc and libseccomp: `value` is the mask, `valueTwo` the value after masking.
        "SCMP_CMP_MASKED_EQ" => (Op::MaskedEq(value), value_two),
        other => return Err(at(&op_path, ErrorKind::UnknownOp(other.to_string()))),
    };
    if value_two != 0 && !matches!(op, Op::MaskedEq(_)) {
        return Err(at(
            &join(path, "valueTwo"),
            ErrorKind::ValueTwoOnOp(op_name.to_string()),
        ));
    }
    Ok(ArgSpec { index, op, value })
}

fn filter(path: &str, v: Option<&Value>) -> Result<Filter, ReadError> {
    let obj = match v {
        None | Some(Value::Null) => return Ok(Filter::default()),
        Some(Value::Object(o)) => o,
        Some(other) => return Err(wrong(path, "an object", other)),
    };
    check_fields(path, obj, FILTER_FIELDS)?;
    let mut f = Filter::default();
    let cp = join(path, "caps");
    for (i, c) in get_array(path, obj, "caps")?.iter().enumerate() {
        let ip = format!("{cp}[{i}]");
        let s = c.as_str().ok_or_else(|| wrong(&ip, "a string", c))?;
        // Docker writes `CAP_SYS_ADMIN`; accept the bare name too, as `--cap-add` does.
        let cap = Cap::parse(s).ok_or_else(|| at(&ip, ErrorKind::UnknownCap(s.to_string())))?;
        f.caps.push(cap);
    }
    let ap = join(path, "arches");
    for (i, a) in get_array(path, obj, "arches")?.iter().enumerate() {
        let ip = format!("{ap}[{i}]");
        let s = a.as_str().ok_or_else(|| wrong(&ip, "a string", a))?;
        if !arch::is_docker_arch_name(s) {
            return Err(at(&ip, ErrorKind::UnknownArch(s.to_string())));
        }
        f.arches.push(s.to_string());
    }
    if let Some(k) = get_str(path, obj, "minKernel")? {
        let kv = KernelVersion::parse(k)
            .filter(|_| k.chars().all(|c| c.is_ascii_digit() || c == '.'))
            .ok_or_else(|| {
                at(
                    &join(path, "minKernel"),
                    ErrorKind::BadKernel(k.to_string()),
                )
            })?;
        f.min_kernel = Some(kv);
    }
    Ok(f)
}
