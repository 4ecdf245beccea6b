//! The built-in profiles, chosen by name, and loading a profile by name or path.
//!
//! `default` and `contained` are Docker-format JSON files compiled into syscage
//! (`crates/policy/profiles/`), read by the same reader as users' files, so that
//! `syscage profile show default --json` gives a file users can copy and edit.

use crate::profile::{self, Base, Profile, ReadError, ReadOptions};
use std::path::Path;
use thiserror::Error;

pub struct Builtin {
    pub name: &'static str,
    pub description: &'static str,
    text: Option<&'static str>,
    digest: u64,
}

const DEFAULT: &str = include_str!("../profiles/default.json");
const CONTAINED: &str = include_str!("../profiles/contained.json");

/// FNV-1a, evaluated by the compiler for the built-in texts.
const fn fnv1a(bytes: &[u8]) -> u64 {
    let mut h = 0xcbf2_9ce4_8422_2325u64;
    let mut i = 0;
    while i < bytes.len() {
        h = (h ^ bytes[i] as u64).wrapping_mul(0x0100_0000_01b3);
        i += 1;
    }
    h
}

pub const BUILTINS: &[Builtin] = &[
    Builtin {
        name: "default",
        description: "allow-list, at least as strict as Docker's default and stricter where Docker's is bypassable: native ABI only, clone3 and openat2 answer ENOSYS, no namespaces, no TIOCSTI/TIOCLINUX, five socket families, no setuid bits, no device nodes, no new filters; rules follow --cap-add as in Docker",
        text: Some(DEFAULT),
        digest: fnv1a(DEFAULT.as_bytes()),
    },
    Builtin {
        name: "contained",
        description: "deny-list of the seed chapter (keyctl, ptrace, userfaultfd, perf_event_open...; setuid bits, user namespaces, TIOCSTI), corrected: EPERM instead of errno 0 and 1000, TIOCSTI and TIOCLINUX compared on the 32-bit request, and every equivalent covered (clone3 and openat2 answer ENOSYS, fchmodat2, open/creat/mknod modes, process_vm_*, io_uring); everything else allowed",
        text: Some(CONTAINED),
        digest: fnv1a(CONTAINED.as_bytes()),
    },
    Builtin {
        name: "unconfined",
        description: "no seccomp filter at all (namespaces, capabilities and limits still apply)",
        text: None,
        digest: fnv1a(b""),
    },
];

pub fn get(name: &str) -> Option<&'static Builtin> {
    BUILTINS.iter().find(|b| b.name == name)
}

impl Builtin {
    /// The profile's text (Docker JSON); `None` for `unconfined`.
    pub fn text(&self) -> Option<&'static str> {
        self.text
    }

    /// A digest of the text (FNV-1a, computed when syscage was built): tells versions of
    /// a built-in apart in the filter cache's key without hashing the text at every start.
    /// Not a defence against collisions, and needs none: the text is part of the binary.
    pub fn digest(&self) -> u64 {
        self.digest
    }
}

/// A loaded profile: where it came from and what it says (`None`: unconfined).
pub struct Loaded {
    pub name: String,
    pub profile: Option<Profile>,
}

#[derive(Debug, Error)]
pub enum LoadError {
    #[error("cannot load profile `{path}`: {}", crate::errno::io_text(.source))]
    Read {
        path: String,
        #[source]
        source: std::io::Error,
    },
    #[error("cannot load profile `{path}`: {source}")]
    Parse {
        path: String,
        #[source]
        source: ReadError,
    },
    #[error("cannot load profile `{name}`: no built-in profile has that name and no such file exists (built-ins: default, contained, unconfined)")]
    Unknown { name: String },
    #[error("cannot load base profile `{path}`: {}", crate::errno::io_text(.source))]
    ReadBase {
        path: String,
        #[source]
        source: std::io::Error,
    },
    #[error("base profile `{file}` is given, but profile `{name}` names no base it could be (its `spec.baseProfileName`, or a base's)")]
    UnusedBase { file: String, name: String },
}

/// A profile's text, read once: the same bytes feed the filter cache's key and the
/// parser, so a file swapped in between cannot put one program under another's key.
pub struct Source {
    pub name: String,
    /// The built-in it names, if any.
    pub builtin: Option<&'static Builtin>,
    /// The text; `None` for `unconfined`.
    pub text: Option<String>,
    /// Files a `SeccompProfile`'s `baseProfileName` may name.
    pub bases: Vec<Base>,
}

/// Reads a profile: a built-in by name, else a file (Docker/OCI JSON, an OCI
/// `config.json`, or a Security Profiles Operator `SeccompProfile`).
pub fn read_source(spec: &str) -> Result<Source, LoadError> {
    if let Some(b) = get(spec) {
        return Ok(Source {
            name: b.name.to_string(),
            builtin: Some(b),
            text: b.text.map(str::to_string),
            bases: Vec::new(),
        });
    }
    let path = Path::new(spec);
    if !path.exists() && !spec.contains('/') && !spec.ends_with(".json") {
        return Err(LoadError::Unknown {
            name: spec.to_string(),
        });
    }
    let text = std::fs::read_to_string(path).map_err(|source| LoadError::Read {
        path: spec.to_string(),
        source,
    })?;
    Ok(Source {
        name: spec.to_string(),
        builtin: None,
        text: Some(text),
        bases: Vec::new(),
    })
}

/// [`read_source`], with the base profiles given for it: each `FILE` (named by its own
/// `metadata.name`) or `REF=FILE` (named `REF`, e.g. an `oci://` reference whose artifact
/// was pulled into FILE); an argument that is an existing file is a FILE, `=` or not.
pub fn read_source_with_bases(spec: &str, bases: &[String]) -> Result<Source, LoadError> {
    let mut src = read_source(spec)?;
    for arg in bases {
        let (reference, file) = match arg.split_once('=') {
            Some((r, f)) if !r.is_empty() && !Path::new(arg).exists() => (Some(r.to_string()), f),
            _ => (None, arg.as_str()),
        };
        let text = std::fs::read_to_string(file).map_err(|source| LoadError::ReadBase {
            path: file.to_string(),
            source,
        })?;
        src.bases.push(Base {
            reference,
            file: file.to_string(),
            text,
        });
    }
    Ok(src)
}

/// Parses what [`read_source`] read. Every base given must be used.
pub fn parse_source(src: &Source, opts: ReadOptions) -> Result<Loaded, LoadError> {
    let (profile, used) = match &src.text {
        Some(t) => {
            let (p, used) = profile::parse_with_bases(t, opts, &src.bases).map_err(|source| {
                LoadError::Parse {
                    path: match src.builtin {
                        Some(b) => format!("built-in {}", b.name),
                        None => src.name.clone(),
                    },
                    source,
                }
            })?;
            (Some(p), used)
        }
        None => (None, Vec::new()),
    };
    if let Some((_, b)) = src
        .bases
        .iter()
        .enumerate()
        .find(|(i, _)| !used.contains(i))
    {
        return Err(LoadError::UnusedBase {
            file: b.file.clone(),
            name: src.name.clone(),
        });
    }
    Ok(Loaded {
        name: src.name.clone(),
        profile,
    })
}

/// Loads a profile: a built-in by name, else a file.
pub fn load(spec: &str, opts: ReadOptions) -> Result<Loaded, LoadError> {
    parse_source(&read_source(spec)?, opts)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{resolve, Context};

    #[test]
    fn digests_are_fnv1a_of_the_texts_and_tell_them_apart() {
        // The published FNV-1a test vector, then each built-in against the same hash
        // computed at run time.
        assert_eq!(fnv1a(b"a"), 0xaf63_dc4c_8601_ec8c);
        for b in BUILTINS {
            let text = b.text().unwrap_or("").as_bytes();
            let run_time = text.iter().fold(0xcbf2_9ce4_8422_2325u64, |h, c| {
                (h ^ u64::from(*c)).wrapping_mul(0x0100_0000_01b3)
            });
            assert_eq!(b.digest(), run_time, "{}", b.name);
        }
        assert_ne!(BUILTINS[0].digest(), BUILTINS[1].digest());
    }

    #[test]
    fn built_ins_load_and_resolve() {
        for b in BUILTINS {
            let l = load(b.name, ReadOptions::default()).unwrap();
            if let Some(p) = l.profile {
                let policy = resolve::resolve(b.name, &p, &Context::docker_default()).unwrap();
                crate::plan::plan(&policy).unwrap();
            } else {
                assert_eq!(b.name, "unconfined");
            }
        }
    }

    #[test]
    fn unknown_names_and_missing_files() {
        assert_eq!(
            load("strict", ReadOptions::default()).err().map(|e| e.to_string()).as_deref(),
            Some("cannot load profile `strict`: no built-in profile has that name and no such file exists (built-ins: default, contained, unconfined)")
        );
        let e = load("/nonexistent/p.json", ReadOptions::default())
            .err()
            .unwrap()
            .to_string();
        assert_eq!(
            e,
            "cannot load profile `/nonexistent/p.json`: No such file or directory (ENOENT)"
        );
    }
}

#[cfg(test)]
mod portable_tests {
    use super::*;
    use crate::profile::portable;

    #[test]
    fn built_ins_are_written_as_every_runtime_reads_them() {
        // `profile show NAME --json` prints the text itself: each entry must mean under
        // runc and crun what it means under syscage, and writing it back changes nothing.
        for b in BUILTINS {
            let Some(text) = b.text() else { continue };
            let p = crate::profile::parse(text, ReadOptions::default()).unwrap();
            for (i, e) in p.syscalls().iter().enumerate() {
                assert!(portable::is_portable(e), "{} syscalls[{i}]", b.name);
            }
            let back = crate::profile::to_json(&p).unwrap();
            let first = back.lines().zip(text.lines()).position(|(a, b)| a != b);
            assert_eq!(
                first, None,
                "{}: written back differs at line {first:?}",
                b.name
            );
            assert_eq!(back.len(), text.len(), "{}", b.name);
        }
    }
}
