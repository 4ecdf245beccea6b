//! The policy a container's calls are answered with: the profile its metadata names (a
//! built-in, or a file the administrator gave the agent with `--profile`), resolved as
//! `profile show` resolved it when the paired profile was written (the capabilities, ABIs
//! and reading options the metadata carries), on this node's kernel. The agent reads no
//! file a container's metadata alone names.

use crate::meta::Metadata;
use std::path::Path;
use syscage_policy::arch::Arch;
use syscage_policy::profile::{KernelVersion, ReadOptions};
use syscage_policy::{builtin, Policy};
use syscage_seccomp::filter::{self, NotifyMode, Request};
use thiserror::Error;

#[derive(Debug, Error)]
pub enum SourceError {
    #[error("the metadata names no profile (`profile=`) and the agent was given none (--profile)")]
    NoProfile,
    #[error("metadata `profile={0}`: neither a built-in profile nor a file the agent was given (--profile FILE)")]
    NotGiven(String),
    #[error("profile `{0}` has no filter: there is nothing to answer with")]
    Unconfined(String),
    #[error("--profile `{path}`: {}", syscage_policy::errno::io_text(.source))]
    Given {
        path: String,
        source: std::io::Error,
    },
    #[error("metadata `{key}`: {why}")]
    Context { key: &'static str, why: String },
    #[error(transparent)]
    Filter(#[from] filter::FilterError),
}

/// The profiles beyond the built-ins that containers may name.
pub struct Profiles {
    files: Vec<String>,
}

fn kernel() -> Option<KernelVersion> {
    let u = nix::sys::utsname::uname().ok()?;
    KernelVersion::parse(&u.release().to_string_lossy())
}

impl Profiles {
    /// The `--profile` files (built-in names need not be given), each read and checked
    /// now, so that a bad one stops the agent before it serves anyone.
    pub fn new(given: &[String]) -> Result<Profiles, SourceError> {
        let mut files = Vec::new();
        for g in given {
            if builtin::get(g).is_some() {
                files.push(g.clone());
                continue;
            }
            let canon = std::fs::canonicalize(g).map_err(|source| SourceError::Given {
                path: g.clone(),
                source,
            })?;
            let canon = canon.display().to_string();
            builtin::load(&canon, ReadOptions::default()).map_err(filter::FilterError::from)?;
            files.push(canon);
        }
        Ok(Profiles { files })
    }

    /// The name the metadata gives, or the first `--profile`, if the agent may read it.
    fn name(&self, meta: &Metadata) -> Result<String, SourceError> {
        let Some(name) = meta.profile.clone().or_else(|| self.files.first().cloned()) else {
            return Err(SourceError::NoProfile);
        };
        if builtin::get(&name).is_some() || self.files.contains(&name) {
            return Ok(name);
        }
        let canon = std::fs::canonicalize(Path::new(&name))
            .ok()
            .map(|p| p.display().to_string());
        match canon {
            Some(c) if self.files.contains(&c) => Ok(c),
            _ => Err(SourceError::NotGiven(name)),
        }
    }

    /// The policy for a container's metadata.
    pub fn policy(&self, meta: &Metadata) -> Result<Policy, SourceError> {
        let name = self.name(meta)?;
        let last = syscage_runtime::exec::last_cap();
        let caps = syscage_runtime::config::resolve_caps(&meta.cap_add, &meta.cap_drop, last)
            .map_err(|e| SourceError::Context {
                key: "cap-add/cap-drop",
                why: e.to_string(),
            })?;
        let mut extra_arches = Vec::new();
        for a in &meta.arch {
            let arch =
                Arch::parse(a)
                    .filter(|a| a.is_x86())
                    .ok_or_else(|| SourceError::Context {
                        key: "arch",
                        why: format!("unknown architecture `{a}` (expected x86, x32 or x86_64)"),
                    })?;
            extra_arches.push(arch);
        }
        let req = Request {
            profile: name.clone(),
            bases: vec![],
            read: ReadOptions {
                ignore_unknown_names: meta.ignore_unknown,
                allow_errno_zero: meta.errno_zero,
            },
            caps,
            kernel: kernel(),
            extra_arches,
            tweaks: vec![],
            notify: NotifyMode::Plain,
        };
        match filter::policy(&req)? {
            Some((_, p)) => Ok(p),
            None => Err(SourceError::Unconfined(name)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_built_ins_and_given_files_are_read() {
        let none = Profiles::new(&[]).unwrap();
        let meta = |p: &str| Metadata {
            profile: Some(p.into()),
            ..Metadata::default()
        };
        assert_eq!(
            none.policy(&meta("default")).unwrap().default_action(),
            syscage_policy::Action::Errno(1)
        );
        assert_eq!(
            none.policy(&Metadata::default()).err().map(|e| e.to_string()).as_deref(),
            Some("the metadata names no profile (`profile=`) and the agent was given none (--profile)")
        );
        assert_eq!(
            none.policy(&meta("/etc/passwd")).err().map(|e| e.to_string()).as_deref(),
            Some("metadata `profile=/etc/passwd`: neither a built-in profile nor a file the agent was given (--profile FILE)")
        );
        assert_eq!(
            none.policy(&meta("unconfined"))
                .err()
                .map(|e| e.to_string())
                .as_deref(),
            Some("profile `unconfined` has no filter: there is nothing to answer with")
        );
        let bad = Metadata {
            cap_add: vec!["SYS_ADMN".into()],
            ..meta("default")
        };
        assert_eq!(
            none.policy(&bad).err().map(|e| e.to_string()).as_deref(),
            Some("metadata `cap-add/cap-drop`: --cap-add `SYS_ADMN`: unknown capability (did you mean `SYS_ADMIN`?)")
        );
        let d = std::env::temp_dir().join(format!("syscage-source-{}", std::process::id()));
        std::fs::create_dir_all(&d).unwrap();
        let f = d.join("p.json");
        std::fs::write(&f, r#"{"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [{"names": ["keyctl"], "action": "SCMP_ACT_ERRNO", "errnoRet": 38}]}"#).unwrap();
        let given = Profiles::new(&[f.display().to_string()]).unwrap();
        let p = given.policy(&Metadata::default()).unwrap();
        assert_eq!(
            p.rules().len(),
            1,
            "the first --profile when the metadata names none"
        );
        assert_eq!(given.policy(&meta(&f.display().to_string())).unwrap(), p);
        assert_eq!(
            Profiles::new(&["/nonexistent/p.json".into()])
                .err()
                .map(|e| e.to_string())
                .as_deref(),
            Some("--profile `/nonexistent/p.json`: No such file or directory (ENOENT)")
        );
        std::fs::remove_dir_all(&d).unwrap();
    }
}
