//! syscage's own agent when syscage is the OCI runtime: the `run.syscage.report` and
//! `run.syscage.learn` annotations of a container whose profile names no agent
//! (`listenerPath`). `create` checks the files they name (as [`agent::place`] will open
//! them), pairs the container's policy with an agent started for it alone (see
//! [`agent::Config::one_container`]) and loads the paired profile; the program sees the
//! answers its profile gives, and the agent writes what the annotations ask.

use crate::agent::place::{Allowed, PlaceError};
use crate::meta::{Metadata, Notified, ANNOTATION_LEARN, ANNOTATION_REPORT};
use crate::pair;
use crate::text::escape;
use serde_json::{Map, Value};
use std::path::{Path, PathBuf};
use syscage_policy::{CapSet, Policy};

/// Checks the files the annotations name, on their names alone: each must hold `{id}`
/// (a pod must not overwrite another container's file) and be inside an
/// `--annotation-dir`. Whether every call must be notified (learning needs them all).
/// The message quotes the pod's values escaped.
pub fn check(annotations: &Map<String, Value>, id: &str, dirs: &[PathBuf]) -> Result<bool, String> {
    let allowed = Allowed::open_annotation_dirs(dirs).map_err(|e| match e {
        PlaceError::Dir { path, source } => format!(
            "--annotation-dir `{path}`: {}",
            syscage_policy::errno::io_text(&source)
        ),
        e => e.to_string(),
    })?;
    let mut all = false;
    for (key, what) in [(ANNOTATION_REPORT, "report"), (ANNOTATION_LEARN, "learn")] {
        let Some(value) = annotations.get(key) else {
            continue;
        };
        let refuse = |why: String| Err(escape(format!("annotation `{key}`: {why}").as_bytes()));
        let Some(asked) = value.as_str() else {
            return refuse("expected a string".into());
        };
        if !asked.contains("{id}") {
            return refuse(format!("`{asked}`: the file name must hold `{{id}}` (the container's id), so that no container can overwrite another's"));
        }
        if let Err(e) = allowed.locate(what, asked, id) {
            return refuse(e.to_string());
        }
        all |= key == ANNOTATION_LEARN;
    }
    Ok(all)
}

/// `policy` (resolved from `profile`, a built-in's name or a file, for `caps`) paired
/// for notification with `listenerPath` `socket`, as JSON: its metadata tells the agent
/// to resolve the same policy (the exact capability set, nothing else beyond the
/// profile's reading defaults).
pub fn paired(
    policy: &Policy,
    profile: &str,
    caps: CapSet,
    all: bool,
    socket: &Path,
) -> Result<String, String> {
    let meta = Metadata {
        profile: Some(profile.to_string()),
        cap_drop: vec!["ALL".into()],
        cap_add: caps.iter().map(|c| c.name().to_string()).collect(),
        ..Metadata::default()
    };
    let mode = if all {
        Notified::All
    } else {
        Notified::Denials
    };
    let socket = socket.display().to_string();
    let w = pair::paired_profile(policy, mode, &socket, meta).map_err(|e| e.to_string())?;
    syscage_policy::profile::to_json(&w).map_err(|e| e.to_string())
}
