//! A `SeccompProfile`'s base profiles, given as files, merged as the operator merges them.

use super::super::error::{ErrorKind, ReadError};
use super::super::read::{at, kubernetes_object, profile, ReadOptions};
use super::super::{Profile, SyscallEntry};

/// A base profile given as a file, for a `SeccompProfile` whose `baseProfileName` names
/// it: by `reference` when one is given, else by the file's own `metadata.name`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Base {
    pub reference: Option<String>,
    /// How messages name it (the path).
    pub file: String,
    pub text: String,
}

/// A `SeccompProfile` and its bases, merged as the operator merges them; with the action
/// names its entries are written with (which order the merge).
pub(in crate::profile) fn from_spo(
    v: serde_json::Value,
    opts: ReadOptions,
    bases: &[Base],
    depth: usize,
    used: &mut Vec<usize>,
) -> Result<(Profile, Vec<String>), ReadError> {
    let r = super::read(v, depth > 0)?;
    let written: Vec<String> = r
        .raw
        .syscalls
        .iter()
        .flatten()
        .map(|e| e.0.action.clone().unwrap_or_default())
        .collect();
    let own = profile("spec", r.raw, opts)?;
    let Some(reference) = r.base else {
        return Ok((own, written));
    };
    let place = "spec.baseProfileName";
    if depth >= super::MAX_BASE_DEPTH {
        return Err(at(place, ErrorKind::BaseDepth));
    }
    let i = find_base(&reference, bases)?
        .ok_or_else(|| at(place, ErrorKind::BaseNotGiven(reference.clone())))?;
    used.push(i);
    let b = &bases[i];
    let in_base = |e: ReadError| ReadError::InBase {
        file: b.file.clone(),
        source: Box::new(e),
    };
    let v = kubernetes_object(&b.text)
        .map_err(in_base)?
        .ok_or_else(|| in_base(at("", ErrorKind::BaseNotSpo)))?;
    let (base, base_written) = from_spo(v, opts, bases, depth + 1, used).map_err(in_base)?;
    let mut all: Vec<(String, SyscallEntry)> = Vec::new();
    for (i, (w, e)) in base_written.into_iter().zip(base.syscalls()).enumerate() {
        let note = e
            .comment()
            .map(str::to_string)
            .unwrap_or(format!("spec.syscalls[{i}]"));
        let comment = format!("base `{reference}`: {note}");
        all.push((w, e.clone().with_comment(Some(comment))));
    }
    for (i, (w, e)) in written.into_iter().zip(own.syscalls()).enumerate() {
        let comment = e
            .comment()
            .map(str::to_string)
            .unwrap_or(format!("spec.syscalls[{i}]"));
        all.push((w, e.clone().with_comment(Some(comment))));
    }
    super::merge(&mut all).map_err(|k| at(place, k))?;
    let (written, entries): (Vec<String>, Vec<SyscallEntry>) = all.into_iter().unzip();
    Ok((own.with_syscalls(entries), written))
}

/// Which base a reference names: one given for it explicitly, else a SeccompProfile file
/// whose `metadata.name` it is.
fn find_base(reference: &str, bases: &[Base]) -> Result<Option<usize>, ReadError> {
    if let Some(i) = bases
        .iter()
        .position(|b| b.reference.as_deref() == Some(reference))
    {
        return Ok(Some(i));
    }
    for (i, b) in bases
        .iter()
        .enumerate()
        .filter(|(_, b)| b.reference.is_none())
    {
        let v = kubernetes_object(&b.text).map_err(|e| ReadError::InBase {
            file: b.file.clone(),
            source: Box::new(e),
        })?;
        let name = v.as_ref().and_then(|v| v["metadata"]["name"].as_str());
        if name == Some(reference) {
            return Ok(Some(i));
        }
    }
    Ok(None)
}
