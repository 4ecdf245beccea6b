//! What is wrong with a profile, and where: the reader's and the constructors' errors.

use super::spo::{API_VERSION, MAX_BASE_DEPTH, MAX_VALUE};
use crate::action::{MAX_LOADABLE_ERRNO, MAX_TRACE_VALUE};
use crate::cond::MAX_ARG_INDEX;
use thiserror::Error;

/// Why a profile was refused.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum ReadError {
    #[error("not JSON: {0}")]
    Syntax(String),
    #[error("truncated JSON: {0}")]
    Truncated(String),
    #[error("not YAML: {0}")]
    Yaml(String),
    #[error("{}{kind}", if path.is_empty() { String::new() } else { format!("{path}: ") })]
    At { path: String, kind: ErrorKind },
    #[error("in base profile `{file}`: {source}")]
    InBase {
        file: String,
        source: Box<ReadError>,
    },
}

/// What was wrong at a place in the profile.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum ErrorKind {
    #[error("expected {expected}, found {found}")]
    WrongType { expected: String, found: String },
    #[error("missing field `{0}`")]
    Missing(&'static str),
    #[error("unknown field `{field}`{hint}")]
    UnknownField { field: String, hint: String },
    #[error("given twice in one object: JSON readers keep either the first or the last, so the profile would mean what the reader happens to pick; remove one")]
    Duplicate,
    #[error("{0}")]
    Json(String),
    #[error("`{0}` is a field of Docker's profile format, which runc and crun ignore in a config.json: the config would mean one thing under them and another under syscage; write the rule in the OCI form (`names`, `errnoRet`, no `includes`/`excludes`), or give syscage the Docker profile file itself")]
    DockerFieldInOci(&'static str),
    #[error("`{text}` is {why}")]
    YamlAmbiguous { text: String, why: &'static str },
    #[error("`{0}` is out of range for a 64-bit integer")]
    YamlRange(String),
    #[error("{0} are not read: write the value out, without them")]
    YamlNotRead(&'static str),
    #[error("a key that is not a plain string")]
    YamlKey,
    #[error("nested more than {0} levels deep")]
    YamlDepth(usize),
    #[error("a second document: give one profile per file")]
    YamlSecondDocument,
    #[error("not a profile: neither JSON (a Docker or OCI profile, which starts with `{{`) nor a YAML SeccompProfile")]
    NotAProfile,
    #[error("a YAML document that is not a Kubernetes object (no `apiVersion` and `kind`): syscage reads YAML as the Security Profiles Operator's SeccompProfile; Docker and OCI profiles are JSON")]
    NotAnObject,
    #[error("`{0}` is not a version syscage reads (expected {API_VERSION} or security-profiles-operator.x-k8s.io/v1)")]
    SpoVersion(String),
    #[error("`{0}` is not a seccomp profile: syscage reads the kind SeccompProfile of the Security Profiles Operator")]
    SpoKind(String),
    #[error("the profile is disabled: the operator does not install it, so no pod runs under it; remove the field to use it")]
    SpoDisabled,
    #[error("unknown state `{0}` (expected Enabled or Disabled)")]
    SpoState(String),
    #[error("a partial profile (one part of a recording, not merged yet): the operator does not install it; use the merged profile")]
    SpoPartial,
    #[error("`errnoRet: 0` is dropped by the operator (it omits a zero), so the profile on the node would answer EPERM; write the errno meant (1 for EPERM)")]
    SpoZeroErrno,
    #[error("{0} conditions: the SeccompProfile resource holds at most six in one entry")]
    SpoArgs(usize),
    #[error("`{0}` is above {MAX_VALUE}: the SeccompProfile resource stores values as int64 (minimum 0) and cannot hold it")]
    SpoValue(u64),
    #[error("base profile `{0}` is not given: syscage reaches neither the cluster nor a registry; give its file (--seccomp-base FILE, or --base FILE for `syscage profile`)")]
    BaseNotGiven(String),
    #[error("more than {MAX_BASE_DEPTH} levels of base profiles (the operator stops there too)")]
    BaseDepth,
    #[error("a base profile is a SeccompProfile (apiVersion {API_VERSION}, kind SeccompProfile), not a Docker or OCI profile")]
    BaseNotSpo,
    #[error("`{syscall}` has {action} rules with different values ({a} and {b}) in the profile and its base: the operator orders the merged rules by action name only, so which one applies would be chance; give them one errnoRet")]
    BaseTie {
        syscall: String,
        action: String,
        a: u16,
        b: u16,
    },
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
    #[error("errno `{0}` is out of range 0..={MAX_LOADABLE_ERRNO}: libseccomp 2.5 refuses 4095 and above (the kernel reads higher values as results, not errors)")]
    ErrnoRange(u64),
    #[error("`{0}` is out of range 0..={MAX_TRACE_VALUE} for SCMP_ACT_TRACE: the value a tracer receives has 16 bits")]
    TraceRange(u64),
    #[error("`{field}` is only valid with SCMP_ACT_ERRNO or SCMP_ACT_TRACE, not `{action}`")]
    ErrnoOnAction { field: &'static str, action: String },
    #[error("`errno` `{name}` and `errnoRet` `{ret}` disagree")]
    ErrnoMismatch { name: String, ret: u64 },
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
    #[error("`{0}` is not an absolute path: the agent's socket is looked up from wherever the runtime runs (crun refuses a relative one)")]
    ListenerNotAbsolute(String),
    #[error("`valueTwo` is only used by SCMP_CMP_MASKED_EQ (as the value compared after masking), not by `{0}`")]
    ValueTwoOnOp(String),
    #[error("SECCOMP_FILTER_FLAG_NEW_LISTENER is set by syscage itself; give `listenerPath` to hand the notification fd to an agent")]
    NewListenerFlag,
    #[error("value `{value:#x}` cannot be what `{syscall}` sees in its argument `{arg}`: the kernel uses only the low {bits} bits")]
    ValueTooWide {
        value: u64,
        syscall: String,
        arg: String,
        bits: u32,
    },
}

/// An entry's error, at a place within the entry (`names[1]`, `args[0]`, `action`, or the
/// entry itself).
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error("{}{kind}", if place.is_empty() { String::new() } else { format!("{place}: ") })]
pub struct EntryError {
    pub place: String,
    pub kind: ErrorKind,
}

impl EntryError {
    pub(crate) fn at(place: impl Into<String>, kind: ErrorKind) -> EntryError {
        EntryError {
            place: place.into(),
            kind,
        }
    }
}
