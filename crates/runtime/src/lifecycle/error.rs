//! The errors of the OCI commands, one line each.
//!
//! Where a client matches runc's words (docs/oci-clients.md, section 4), the message
//! starts with them: containerd's shim turns `does not exist` into "no such container"
//! and `container not running` into "process already finished"; podman reads `no such file
//! or directory` as a missing program (exit 127). What follows the colon names the
//! container, the path or the step.

use crate::error::RunError;
use std::path::Path;
use syscage_policy::errno::io_text;
use thiserror::Error;

#[derive(Debug, Error)]
pub enum OciError {
    #[error("container does not exist: no state for `{id}` in `{root}`")]
    NotFound { id: String, root: String },
    #[error("container with given ID already exists: `{id}` in `{root}`")]
    Exists { id: String, root: String },
    #[error("invalid container ID format: {0}")]
    BadId(String),
    #[error("container `{id}`: state file `{path}` is corrupt: {why}; hint: `delete --force {id}` removes what is left of it")]
    Corrupt {
        id: String,
        path: String,
        why: String,
    },
    #[error("cannot start an already running container: `{0}`")]
    StartRunning(String),
    #[error("cannot start a container that has stopped: `{0}`")]
    StartStopped(String),
    #[error("cannot start container `{0}`: it is paused")]
    StartPaused(String),
    #[error("cannot delete container {0} that is not stopped: {1}")]
    DeleteRunning(String, syscage_oci::Status),
    #[error("container not running: `{0}` has stopped")]
    NotRunning(String),
    #[error("container not paused: `{0}` is {1}")]
    NotPaused(String, syscage_oci::Status),
    #[error("container not running: `{0}` is paused")]
    AlreadyPaused(String),
    #[error("container `{id}` has no `{controller}` cgroup: {why}")]
    NoCgroup {
        id: String,
        controller: &'static str,
        why: &'static str,
    },
    #[error(
        "unknown signal `{0}` (expected a name such as KILL or SIGTERM, or a number from 1 to 64)"
    )]
    BadSignal(String),
    #[error("cannot {step} `{path}`: {why}")]
    Io {
        step: &'static str,
        path: String,
        why: String,
    },
    #[error("{0}")]
    Run(#[from] RunError),
    #[error("{0}")]
    Other(String),
}

impl OciError {
    pub fn io(step: &'static str, path: &Path, e: &std::io::Error) -> OciError {
        OciError::Io {
            step,
            path: path.display().to_string(),
            why: io_text(e),
        }
    }

    pub fn errno(step: &'static str, path: &Path, e: nix::errno::Errno) -> OciError {
        OciError::Io {
            step,
            path: path.display().to_string(),
            why: io_text(&std::io::Error::from(e)),
        }
    }
}

/// An errno in the house's words: `No such file or directory (ENOENT)`.
pub fn errno_text(e: nix::errno::Errno) -> String {
    io_text(&std::io::Error::from(e))
}
