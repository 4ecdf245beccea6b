//! Validation: what a runtime must refuse before it touches the host.
//!
//! Each check names the field it refuses (`linux.namespaces[2].type: unknown namespace type
//! `netns``), and the first refusal ends validation: one error, one line. Validation
//! touches nothing: what can only be judged on disk (the root file system exists, a
//! namespace file is one) comes back as [`PathCheck`]s for the caller, who resolves them
//! through file descriptors when it sets the container up.
//!
//! The rules follow the runtime spec where it says MUST, and go further where a lax reading
//! would hand the container something of the host's: a sysctl that is not namespaced
//! changes the host, a `..` in a mount destination or cgroup path leaves the container's
//! tree, mappings without a user namespace mean nothing.

mod linux;
mod mappings;
mod process;
mod resources;

use crate::config::{NamespaceType, Process, Resources, Spec};
use crate::version::{OciVersion, VersionError};
use serde_json::Value;
use std::path::{Path, PathBuf};
use thiserror::Error;

/// Why a configuration was refused: the field and the problem.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error("{}{problem}", if path.is_empty() { String::new() } else { format!("{path}: ") })]
pub struct ValidateError {
    pub path: String,
    pub problem: Problem,
}

/// What was wrong with a field.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum Problem {
    #[error(transparent)]
    Version(#[from] VersionError),
    #[error("missing field `{field}`: {why}")]
    MissingField {
        field: &'static str,
        why: &'static str,
    },
    #[error("empty: {0}")]
    Empty(&'static str),
    #[error("contains a NUL byte")]
    Nul,
    #[error("`{0}` is not an absolute path")]
    NotAbsolute(String),
    #[error("`{0}` has a `..` component: it could lead out of the container's tree")]
    DotDot(String),
    /// A field the spec defines whose effect syscage does not provide.
    #[error("{0}")]
    NotApplied(&'static str),
    #[error("expected a string, found {0}")]
    NotAString(String),
    #[error("`{0}` is not NAME=VALUE")]
    NotNameValue(String),
    #[error("`{value}` is out of range {range}")]
    OutOfRange { value: String, range: &'static str },
    #[error("unknown {what} `{value}`{hint}")]
    Unknown {
        what: &'static str,
        value: String,
        hint: String,
    },
    #[error("capability `{given}` must be written `{canonical}`")]
    MiscasedCap { given: String, canonical: String },
    #[error("`{0}` is given twice")]
    Duplicate(String),
    #[error("soft limit `{soft}` is above the hard limit `{hard}`")]
    SoftAboveHard { soft: u64, hard: u64 },
    #[error("{0}")]
    Namespaces(String),
    #[error("{0}")]
    Mapping(String),
    #[error("{0}")]
    Invalid(String),
}

fn err(path: impl Into<String>, problem: Problem) -> ValidateError {
    ValidateError {
        path: path.into(),
        problem,
    }
}

/// `prefix.field`, or `field` when the prefix is empty (an `exec --process` document).
fn at(prefix: &str, field: &str) -> String {
    if prefix.is_empty() {
        field.to_string()
    } else {
        format!("{prefix}.{field}")
    }
}

/// What the caller must still check on disk, with the field to name when it fails.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PathCheck {
    pub field: String,
    pub path: PathBuf,
    pub expect: Expect,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Expect {
    /// An existing directory (the root file system).
    Directory,
    /// A namespace file of this type (`/proc/PID/ns/net`, a bind-mounted one).
    Namespace(NamespaceType),
}

/// A configuration that passed validation. Only [`config`] makes one.
#[derive(Debug, Clone, PartialEq)]
pub struct Validated {
    spec: Spec,
    version: OciVersion,
    root: PathBuf,
    checks: Vec<PathCheck>,
}

impl Validated {
    pub fn spec(&self) -> &Spec {
        &self.spec
    }

    pub fn version(&self) -> &OciVersion {
        &self.version
    }

    /// The root file system, resolved against the bundle when the config gives it relative.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// The process: validation refuses a configuration without one.
    pub fn process(&self) -> Option<&Process> {
        self.spec.process.as_ref()
    }

    /// Paths the caller must check before it creates anything: the root first.
    pub fn path_checks(&self) -> &[PathCheck] {
        &self.checks
    }
}

/// Validates a `config.json` read from `bundle` (the absolute bundle directory).
pub fn config(spec: Spec, bundle: &Path) -> Result<Validated, ValidateError> {
    let version =
        OciVersion::parse_supported(&spec.oci_version).map_err(|e| err("ociVersion", e.into()))?;
    for (field, value) in [
        ("solaris", &spec.solaris),
        ("windows", &spec.windows),
        ("vm", &spec.vm),
        ("zos", &spec.zos),
    ] {
        if is_set(value.as_ref()) {
            return Err(err(field, Problem::NotApplied(not_applied_platform(field))));
        }
    }

    let root = spec.root.as_ref().ok_or_else(|| {
        err(
            "",
            Problem::MissingField {
                field: "root",
                why: "a container needs a root file system",
            },
        )
    })?;
    text("root.path", &root.path)?;
    let root_path = bundle.join(&root.path);

    let process = spec.process.as_ref().ok_or_else(|| {
        err(
            "",
            Problem::MissingField {
                field: "process",
                why: "a container needs a process to run",
            },
        )
    })?;
    process::check(process, "process")?;

    for (name, value) in [
        ("hostname", &spec.hostname),
        ("domainname", &spec.domainname),
    ] {
        if let Some(v) = value {
            text(name, v)?;
            if v.len() > 64 {
                return Err(err(
                    name,
                    Problem::Invalid(format!("`{v}` is longer than 64 bytes, the kernel's limit")),
                ));
            }
        }
    }
    for (i, m) in spec.mounts.iter().flatten().enumerate() {
        linux::mount(m, &format!("mounts[{i}]"))?;
    }
    if let Some(hooks) = &spec.hooks {
        for (name, list) in hooks.lists() {
            for (i, h) in list.iter().enumerate() {
                let p = format!("hooks.{name}[{i}]");
                absolute(&at(&p, "path"), &h.path)?;
                env_list(&at(&p, "env"), h.env.as_deref().unwrap_or(&[]))?;
                if let Some(t) = h.timeout.filter(|t| *t <= 0) {
                    return Err(err(
                        at(&p, "timeout"),
                        Problem::Invalid(format!("`{t}` must be above zero (seconds)")),
                    ));
                }
            }
        }
    }
    for (key, value) in spec.annotations.iter().flatten() {
        if key.is_empty() {
            return Err(err(
                "annotations",
                Problem::Empty("an annotation needs a name"),
            ));
        }
        string_value(&format!("annotations.{key}"), value)?;
    }

    let mut checks = vec![PathCheck {
        field: "root.path".into(),
        path: root_path.clone(),
        expect: Expect::Directory,
    }];
    match &spec.linux {
        Some(l) => linux::check(l, &spec, &mut checks)?,
        None => linux::check_without_linux()?,
    }
    Ok(Validated {
        spec,
        version,
        root: root_path,
        checks,
    })
}

/// Validates the process file of `exec --process`: paths are named without a prefix.
pub fn process(p: &Process) -> Result<(), ValidateError> {
    process::check(p, "")
}

/// Validates the resources of `update --resources`: paths are named without a prefix.
pub fn resources(r: &Resources) -> Result<(), ValidateError> {
    resources::check(r, "")
}

fn not_applied_platform(field: &str) -> &'static str {
    match field {
        "solaris" => "syscage runs Linux containers; a Solaris configuration cannot apply",
        "windows" => "syscage runs Linux containers; a Windows configuration cannot apply",
        "vm" => "syscage runs containers, not virtual machines; use a VM-based runtime for this configuration",
        _ => "syscage runs Linux containers; a z/OS configuration cannot apply",
    }
}

/// Whether an optional raw field says something: null, `""`, `[]`, `{}` and `false` are
/// what Go clients write for "not set".
fn is_set(v: Option<&Value>) -> bool {
    match v {
        None | Some(Value::Null) | Some(Value::Bool(false)) => false,
        Some(Value::String(s)) => !s.is_empty(),
        Some(Value::Array(a)) => !a.is_empty(),
        Some(Value::Object(o)) => !o.is_empty(),
        Some(_) => true,
    }
}

/// A non-empty string without NUL bytes (the kernel takes C strings).
fn text(path: &str, s: &str) -> Result<(), ValidateError> {
    if s.is_empty() {
        return Err(err(path, Problem::Empty("a value is required")));
    }
    no_nul(path, s)
}

fn no_nul(path: &str, s: &str) -> Result<(), ValidateError> {
    if s.contains('\0') {
        return Err(err(path, Problem::Nul));
    }
    Ok(())
}

/// An absolute path with no `..` component and no NUL byte.
fn absolute(path: &str, p: &str) -> Result<(), ValidateError> {
    text(path, p)?;
    if !p.starts_with('/') {
        return Err(err(path, Problem::NotAbsolute(p.to_string())));
    }
    if p.split('/').any(|c| c == "..") {
        return Err(err(path, Problem::DotDot(p.to_string())));
    }
    Ok(())
}

/// `NAME=VALUE` entries (process and hook environments).
fn env_list(path: &str, env: &[String]) -> Result<(), ValidateError> {
    for (i, e) in env.iter().enumerate() {
        let p = format!("{path}[{i}]");
        no_nul(&p, e)?;
        match e.split_once('=') {
            Some((name, _)) if !name.is_empty() => {}
            _ => return Err(err(p, Problem::NotNameValue(e.clone()))),
        }
    }
    Ok(())
}

fn string_value(path: &str, v: &Value) -> Result<(), ValidateError> {
    match v {
        Value::String(s) => no_nul(path, s),
        other => Err(err(path, Problem::NotAString(describe(other)))),
    }
}

fn describe(v: &Value) -> String {
    match v {
        Value::Null => "null".into(),
        Value::Bool(b) => format!("`{b}`"),
        Value::Number(n) => format!("`{n}`"),
        Value::String(_) => "a string".into(),
        Value::Array(_) => "an array".into(),
        Value::Object(_) => "an object".into(),
    }
}

#[cfg(test)]
mod tests;
