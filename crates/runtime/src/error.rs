//! Errors of a run, each one line: what failed, why, and a hint where the errno misleads.

use crate::cgroup::CgroupError;
use crate::protocol::{Failure, FailureKind};
use nix::errno::Errno;
use std::fmt;
use thiserror::Error;

/// `Operation not permitted (EPERM)`.
pub fn describe_errno(e: i32) -> String {
    let errno = Errno::from_raw(e);
    match u16::try_from(e).ok().and_then(syscage_policy::errno::name) {
        Some(name) => format!("{} ({name})", errno.desc()),
        None => errno.desc().to_string(),
    }
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (self.kind, self.errno) {
            (FailureKind::NotFound, _) => write!(f, "cannot {}: not found", self.step)?,
            (_, Some(e)) => write!(f, "cannot {}: {}", self.step, describe_errno(e))?,
            (_, None) => write!(f, "cannot {}", self.step)?,
        }
        if let Some(h) = &self.hint {
            write!(f, "; hint: {h}")?;
        }
        Ok(())
    }
}

#[derive(Debug, Error)]
pub enum RunError {
    #[error(transparent)]
    Cgroup(#[from] CgroupError),
    /// A step of the parent failed.
    #[error("cannot {step}: {}{}", describe_errno(*.errno as i32), hint.as_ref().map(|h| format!("; hint: {h}")).unwrap_or_default())]
    Parent {
        step: String,
        errno: Errno,
        hint: Option<String>,
    },
    /// A step inside the container failed.
    #[error("{0}")]
    Container(Failure),
    #[error("{0}")]
    Protocol(&'static str),
    /// The container broke the set-up's sequence of messages.
    #[error("{0}")]
    Refused(#[from] crate::protocol::Refused),
    /// A signal came before the command started: the run ends as the signal would have
    /// ended syscage, 128+N.
    #[error("stopped by {0} before the command started")]
    Interrupted(nix::sys::signal::Signal),
    /// The init went away during set-up, with how it ended when that is known.
    #[error("{0}")]
    InitGone(String),
    #[error("{0}")]
    Supervisor(crate::parent::SupervisorError),
}

impl RunError {
    pub fn parent(step: impl Into<String>, errno: Errno) -> RunError {
        RunError::Parent {
            step: step.into(),
            errno,
            hint: None,
        }
    }

    /// Docker's convention: 125 when syscage failed, 126 when the command cannot be
    /// executed, 127 when it is not found.
    pub fn exit_code(&self) -> i32 {
        match self {
            RunError::Container(f) => f.kind.exit_code(),
            RunError::Interrupted(s) => 128 + *s as i32,
            _ => 125,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_are_one_line_with_hints() {
        let f = Failure {
            kind: FailureKind::Setup,
            step: "mount `proc` on `/proc`".into(),
            errno: Some(libc::EPERM),
            hint: Some("a hint".into()),
        };
        assert_eq!(
            f.to_string(),
            "cannot mount `proc` on `/proc`: Operation not permitted (EPERM); hint: a hint"
        );
        let nf = Failure {
            kind: FailureKind::NotFound,
            step: "find `nope` in PATH `/bin`".into(),
            errno: Some(libc::ENOENT),
            hint: None,
        };
        assert_eq!(
            nf.to_string(),
            "cannot find `nope` in PATH `/bin`: not found"
        );
        assert_eq!(RunError::Container(nf).exit_code(), 127);
        let p = RunError::Parent {
            step: "create the namespaces".into(),
            errno: Errno::ENOSPC,
            hint: Some("h".into()),
        };
        assert_eq!(
            p.to_string(),
            "cannot create the namespaces: No space left on device (ENOSPC); hint: h"
        );
        assert_eq!(p.exit_code(), 125);
        let i = RunError::Interrupted(nix::sys::signal::Signal::SIGTERM);
        assert_eq!(
            (i.to_string().as_str(), i.exit_code()),
            ("stopped by SIGTERM before the command started", 143)
        );
    }
}
