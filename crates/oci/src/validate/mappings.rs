//! `linux.uidMappings` and `linux.gidMappings`: ranges the kernel will take, given only
//! with the new user namespace they apply to.

use super::{err, Problem, ValidateError};
use crate::config::{IdMapping, Linux, NamespaceType};

/// The kernel accepts at most 340 lines in `uid_map`/`gid_map` (since 4.15).
const MAX_MAPPINGS: usize = 340;

pub(super) fn check(l: &Linux) -> Result<(), ValidateError> {
    let uid = l.uid_mappings.as_deref().unwrap_or(&[]);
    let gid = l.gid_mappings.as_deref().unwrap_or(&[]);
    let userns = l.namespace(NamespaceType::User);
    match userns {
        None => {
            for (field, list) in [("uidMappings", uid), ("gidMappings", gid)] {
                if !list.is_empty() {
                    return Err(err(
                        format!("linux.{field}"),
                        Problem::Mapping(
                            "given without a `user` namespace: mappings apply only to a new one"
                                .into(),
                        ),
                    ));
                }
            }
            Ok(())
        }
        Some(ns) if ns.join_path().is_some() => {
            for (field, list) in [("uidMappings", uid), ("gidMappings", gid)] {
                if !list.is_empty() {
                    return Err(err(
                        format!("linux.{field}"),
                        Problem::Mapping("the `user` namespace is joined from a path: its mappings are already set and cannot change".into()),
                    ));
                }
            }
            Ok(())
        }
        Some(_) => {
            for (field, list) in [("uidMappings", uid), ("gidMappings", gid)] {
                ranges(&format!("linux.{field}"), list)?;
            }
            Ok(())
        }
    }
}

fn ranges(path: &str, list: &[IdMapping]) -> Result<(), ValidateError> {
    if list.is_empty() {
        return Err(err(
            path,
            Problem::Empty("a new `user` namespace needs ranges to map"),
        ));
    }
    if list.len() > MAX_MAPPINGS {
        return Err(err(
            path,
            Problem::Mapping(format!(
                "{} ranges: the kernel takes at most {MAX_MAPPINGS}",
                list.len()
            )),
        ));
    }
    for (i, m) in list.iter().enumerate() {
        let p = format!("{path}[{i}]");
        if m.size == 0 {
            return Err(err(
                format!("{p}.size"),
                Problem::Mapping("a range of size 0 maps nothing".into()),
            ));
        }
        for (field, start) in [("containerID", m.container_id), ("hostID", m.host_id)] {
            // The kernel refuses a range whose end wraps: 4294967295 is never an ID.
            if u64::from(start) + u64::from(m.size) > u64::from(u32::MAX) {
                return Err(err(
                    format!("{p}.{field}"),
                    Problem::Mapping(format!(
                        "`{start}` plus size `{}` goes past 4294967295",
                        m.size
                    )),
                ));
            }
        }
        for (j, o) in list[..i].iter().enumerate() {
            for (field, a, b) in [
                ("container", m.container_id, o.container_id),
                ("host", m.host_id, o.host_id),
            ] {
                if overlap(a, m.size, b, o.size) {
                    return Err(err(
                        p.clone(),
                        Problem::Mapping(format!("its {field} IDs overlap those of `{path}[{j}]`")),
                    ));
                }
            }
        }
    }
    Ok(())
}

fn overlap(a: u32, a_len: u32, b: u32, b_len: u32) -> bool {
    let (a, a_end) = (u64::from(a), u64::from(a) + u64::from(a_len));
    let (b, b_end) = (u64::from(b), u64::from(b) + u64::from(b_len));
    a < b_end && b < a_end
}
