//! The Security Profiles Operator's `SeccompProfile` custom resource
//! (`security-profiles-operator.x-k8s.io`, kind `SeccompProfile`), in YAML or JSON.
//!
//! The operator installs `spec` on each node as the JSON of the OCI runtime spec's
//! `linux.seccomp` object, which the kubelet's runtime loads for `seccompProfile: {type:
//! Localhost}`. Every field of the resource (`api/seccompprofile/v1beta1` and `v1`, whose
//! specs are the same) is read; what the operator would not install as written is refused:
//! - `spec.state: Disabled` (1.0) and `spec.disabled: true` (0.x), and the
//!   `spo.x-k8s.io/partial` label: the operator installs no such profile;
//! - `errnoRet: 0`: the operator drops a zero (`omitempty`), so the node's profile would
//!   answer EPERM, not what the document seems to say;
//! - a `value` or `valueTwo` above 2^63-1 and more than six `args`: the resource's schema
//!   (int64 with minimum 0, MaxItems 6) cannot hold them;
//! - `baseProfileName`, unless the base is given as a file (see [`super::read`]).
//!
//! The resource has no `defaultErrnoRet`: its default ERRNO is EPERM, as runc reads an
//! ERRNO without a value.

pub(super) mod base;
mod write;

pub use write::{is_name, name_from, policy_to_spo, WriteError};

use super::error::{ErrorKind, ReadError};
use super::raw::{Obj, RawArg, RawProfile, RawSyscall};
use super::SyscallEntry;
use crate::action::Action;
use serde::de::IgnoredAny;
use serde::Deserialize;
use serde_json::Value;
use std::collections::BTreeMap;

/// The version syscage writes: every release of the operator serves it.
pub const API_VERSION: &str = "security-profiles-operator.x-k8s.io/v1beta1";
/// The versions syscage reads.
const API_VERSIONS: &[&str] = &[
    "security-profiles-operator.x-k8s.io/v1beta1",
    "security-profiles-operator.x-k8s.io/v1",
];
pub const KIND: &str = "SeccompProfile";
/// A recorded profile not merged yet (`profilebase.ProfilePartialLabel`).
const PARTIAL_LABEL: &str = "spo.x-k8s.io/partial";
/// The resource's values are int64 with minimum 0.
pub const MAX_VALUE: u64 = i64::MAX as u64;
/// The resource's `args` has at most six items.
const MAX_ARGS: usize = 6;
/// The operator resolves at most this many levels of base profiles.
pub const MAX_BASE_DEPTH: usize = 15;

/// Whether a JSON value is a Kubernetes object rather than a Docker or OCI profile.
pub fn is_object(v: &Value) -> bool {
    v.get("apiVersion").is_some() || v.get("kind").is_some()
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct Doc {
    api_version: Option<String>,
    kind: Option<String>,
    metadata: Option<Obj<Meta>>,
    spec: Option<Obj<Spec>>,
    /// What the operator reports about the profile, not part of it. (Fields that are only
    /// accepted, never read, keep `deny_unknown_fields` from refusing them.)
    #[allow(dead_code)]
    status: Option<IgnoredAny>,
}

/// `metadata`: the fields a user writes, and those the API server fills in (as `kubectl get
/// -o yaml` prints them), which say nothing about the profile.
#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
#[allow(dead_code)]
struct Meta {
    name: Option<String>,
    generate_name: Option<String>,
    namespace: Option<String>,
    labels: Option<BTreeMap<String, String>>,
    annotations: Option<BTreeMap<String, String>>,
    uid: Option<IgnoredAny>,
    resource_version: Option<IgnoredAny>,
    generation: Option<IgnoredAny>,
    creation_timestamp: Option<IgnoredAny>,
    deletion_timestamp: Option<IgnoredAny>,
    deletion_grace_period_seconds: Option<IgnoredAny>,
    owner_references: Option<IgnoredAny>,
    finalizers: Option<IgnoredAny>,
    managed_fields: Option<IgnoredAny>,
    self_link: Option<IgnoredAny>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct Spec {
    state: Option<String>,
    disabled: Option<bool>,
    base_profile_name: Option<String>,
    default_action: Option<String>,
    architectures: Option<Vec<String>>,
    listener_path: Option<String>,
    listener_metadata: Option<String>,
    syscalls: Option<Vec<Obj<Syscall>>>,
    flags: Option<Vec<String>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct Syscall {
    names: Option<Vec<String>>,
    action: Option<String>,
    errno_ret: Option<u64>,
    args: Option<Vec<Obj<Arg>>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct Arg {
    index: Option<u64>,
    value: Option<u64>,
    value_two: Option<u64>,
    op: Option<String>,
}

/// A `SeccompProfile` read: the name of its base, and `spec` as the Docker/OCI format.
pub(super) struct Resource {
    pub base: Option<String>,
    pub raw: RawProfile,
}

fn at(path: &str, kind: ErrorKind) -> ReadError {
    ReadError::At {
        path: path.to_string(),
        kind,
    }
}

/// Reads a resource; `as_base`: as another profile's base, whose state, labels and
/// everything but `syscalls` the operator does not look at.
pub(super) fn read(v: Value, as_base: bool) -> Result<Resource, ReadError> {
    // What the object is decides how the rest reads: checked first.
    if let Some(Value::String(kind)) = v.get("kind") {
        if kind != KIND {
            return Err(at("kind", ErrorKind::SpoKind(kind.clone())));
        }
    }
    if let Some(Value::String(version)) = v.get("apiVersion") {
        if !API_VERSIONS.contains(&version.as_str()) {
            return Err(at("apiVersion", ErrorKind::SpoVersion(version.clone())));
        }
    }
    let doc: Obj<Doc> = serde_path_to_error::deserialize(v).map_err(super::read::json_error)?;
    let doc = doc.0;
    if doc.api_version.is_none() {
        return Err(at("", ErrorKind::Missing("apiVersion")));
    }
    if doc.kind.is_none() {
        return Err(at("", ErrorKind::Missing("kind")));
    }
    let meta = doc
        .metadata
        .ok_or_else(|| at("", ErrorKind::Missing("metadata")))?
        .0;
    if meta.name.is_none() && meta.generate_name.is_none() {
        return Err(at("metadata", ErrorKind::Missing("name")));
    }
    let spec = doc
        .spec
        .ok_or_else(|| at("", ErrorKind::Missing("spec")))?
        .0;
    match spec.state.as_deref() {
        None | Some("Enabled") => {}
        Some("Disabled") if as_base => {}
        Some("Disabled") => return Err(at("spec.state", ErrorKind::SpoDisabled)),
        Some(other) => return Err(at("spec.state", ErrorKind::SpoState(other.to_string()))),
    }
    if spec.disabled == Some(true) && !as_base {
        return Err(at("spec.disabled", ErrorKind::SpoDisabled));
    }
    let partial = meta
        .labels
        .as_ref()
        .is_some_and(|l| l.contains_key(PARTIAL_LABEL));
    if partial && !as_base {
        return Err(at(
            &format!("metadata.labels.{PARTIAL_LABEL}"),
            ErrorKind::SpoPartial,
        ));
    }
    let mut syscalls = Vec::new();
    for (i, e) in spec.syscalls.unwrap_or_default().into_iter().enumerate() {
        syscalls.push(Obj(syscall(&format!("spec.syscalls[{i}]"), e.0)?));
    }
    Ok(Resource {
        base: spec.base_profile_name.filter(|b| !b.is_empty()),
        raw: RawProfile {
            default_action: spec.default_action,
            architectures: spec.architectures,
            flags: spec.flags,
            listener_path: spec.listener_path,
            listener_metadata: spec.listener_metadata,
            syscalls: Some(syscalls),
            ..RawProfile::default()
        },
    })
}

fn syscall(path: &str, s: Syscall) -> Result<RawSyscall, ReadError> {
    if s.errno_ret == Some(0) {
        return Err(at(&format!("{path}.errnoRet"), ErrorKind::SpoZeroErrno));
    }
    let args = s.args.unwrap_or_default();
    if args.len() > MAX_ARGS {
        return Err(at(&format!("{path}.args"), ErrorKind::SpoArgs(args.len())));
    }
    let mut out = Vec::new();
    for (i, a) in args.into_iter().enumerate() {
        let a = a.0;
        for (field, v) in [("value", a.value), ("valueTwo", a.value_two)] {
            if let Some(v) = v.filter(|v| *v > MAX_VALUE) {
                return Err(at(
                    &format!("{path}.args[{i}].{field}"),
                    ErrorKind::SpoValue(v),
                ));
            }
        }
        out.push(Obj(RawArg {
            index: a.index,
            value: Some(a.value.unwrap_or(0)),
            value_two: a.value_two,
            op: a.op,
        }));
    }
    Ok(RawSyscall {
        names: s.names,
        action: s.action,
        errno_ret: s.errno_ret,
        args: (!out.is_empty()).then_some(out),
        ..RawSyscall::default()
    })
}

/// The syscalls of a profile and its base as the operator merges them (its releases up to
/// 1.0, `util.UnionSyscalls`): the base's entries, then the profile's, ordered by action
/// name; entries with one action keep their order here, which the operator's sort does not
/// promise, so one call's rules with one action name must take one value. Each entry is
/// paired with the action name it is written with.
pub(super) fn merge(all: &mut [(String, SyscallEntry)]) -> Result<(), ErrorKind> {
    all.sort_by(|a, b| a.0.cmp(&b.0));
    let mut seen: BTreeMap<(&str, &str), Action> = BTreeMap::new();
    for (w, e) in all.iter() {
        for n in e.names().iter().chain(e.unknown()) {
            match seen.get(&(n.as_str(), w.as_str())) {
                Some(a) if *a != e.action() => {
                    return Err(ErrorKind::BaseTie {
                        syscall: n.clone(),
                        action: w.clone(),
                        a: a.data().unwrap_or(0),
                        b: e.action().data().unwrap_or(0),
                    })
                }
                Some(_) => {}
                None => {
                    seen.insert((n.as_str(), w.as_str()), e.action());
                }
            }
        }
    }
    Ok(())
}
