//! What is wrong with a profile, and where: the reader's and the constructors' errors.

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
    #[error("{}{kind}", if path.is_empty() { String::new() } else { format!("{path}: ") })]
    At { path: String, kind: ErrorKind },
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
