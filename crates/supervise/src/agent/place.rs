//! Where a container may have the agent write: only inside the directories the
//! administrator allows (`--allow-dir`), whatever the path a container names says. Each
//! directory is opened once, at start; a file is then opened beneath that descriptor
//! ([`Output::open_beneath`]), so neither `..`, nor a link, nor a directory renamed
//! meanwhile leads the agent to write anywhere else on the node.

use crate::output::Output;
use std::os::fd::{AsFd, OwnedFd};
use std::path::{Component, Path, PathBuf};
use thiserror::Error;

#[derive(Debug, Error)]
pub enum PlaceError {
    #[error("--allow-dir `{path}`: {}", syscage_policy::errno::io_text(.source))]
    Dir {
        path: String,
        source: std::io::Error,
    },
    #[error("{what} `{path}`: not an absolute path")]
    Relative { what: &'static str, path: String },
    #[error("{what} `{path}`: `..` is not allowed in the path")]
    DotDot { what: &'static str, path: String },
    #[error("{what} `{path}`: the container id `{id}` cannot be part of a file name")]
    BadId {
        what: &'static str,
        path: String,
        id: String,
    },
    #[error("{what} `{path}`: outside the directories {scope} ({})", .allowed)]
    Outside {
        what: &'static str,
        path: String,
        scope: &'static str,
        allowed: String,
    },
    #[error("{what} `{path}`: cannot write it: {}", syscage_policy::errno::io_text(.source))]
    Open {
        what: &'static str,
        path: String,
        source: std::io::Error,
    },
}

/// The directories a container may name.
pub struct Allowed {
    dirs: Vec<(PathBuf, OwnedFd)>,
    /// The option that gives them, as messages name it.
    option: &'static str,
    /// What to do when there is none.
    none: &'static str,
    /// Who writes there, as messages say it.
    scope: &'static str,
}

/// Whether a container id can be part of a file name: runc's and crun's own rule
/// (`^[\w+-.]+$`), and neither `.` nor `..`.
fn id_ok(id: &str) -> bool {
    !id.is_empty()
        && id.len() <= 255
        && id != "."
        && id != ".."
        && id
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '+' | '-' | '.'))
}

impl Allowed {
    /// Opens the allowed directories (each must exist and be a directory).
    pub fn open(dirs: &[PathBuf]) -> Result<Allowed, PlaceError> {
        Self::open_as(
            dirs,
            ("--allow-dir", "the agent may write"),
            "start the agent with --allow-dir DIR",
        )
    }

    /// The same, for directories given to the OCI runtime as `--annotation-dir`.
    pub fn open_annotation_dirs(dirs: &[PathBuf]) -> Result<Allowed, PlaceError> {
        Self::open_as(
            dirs,
            ("--annotation-dir", "annotations may name"),
            "files named by annotations are refused unless the runtime is given --annotation-dir DIR",
        )
    }

    fn open_as(
        dirs: &[PathBuf],
        (option, scope): (&'static str, &'static str),
        none: &'static str,
    ) -> Result<Allowed, PlaceError> {
        let mut out = Vec::new();
        for d in dirs {
            let err = |source| PlaceError::Dir {
                path: d.display().to_string(),
                source,
            };
            let canon = std::fs::canonicalize(d).map_err(err)?;
            let fd = nix::fcntl::open(
                &canon,
                nix::fcntl::OFlag::O_PATH
                    | nix::fcntl::OFlag::O_DIRECTORY
                    | nix::fcntl::OFlag::O_CLOEXEC,
                nix::sys::stat::Mode::empty(),
            )
            .map_err(|e| err(std::io::Error::from_raw_os_error(e as i32)))?;
            out.push((canon, fd));
        }
        Ok(Allowed {
            dirs: out,
            option,
            none,
            scope,
        })
    }

    /// What the messages show of the allowed directories.
    fn shown(&self) -> String {
        if self.dirs.is_empty() {
            return format!("none: {}", self.none);
        }
        let v: Vec<String> = self
            .dirs
            .iter()
            .map(|(p, _)| format!("{} {}", self.option, p.display()))
            .collect();
        v.join(", ")
    }

    /// Opens the file a container asked for as `what` (`report`, `learn`), with `{id}`
    /// standing for its id.
    pub fn output(&self, what: &'static str, asked: &str, id: &str) -> Result<Output, PlaceError> {
        let (fd, rel, path) = self.locate(what, asked, id)?;
        Output::open_beneath(fd, &rel, &path).map_err(|source| PlaceError::Open {
            what,
            path: path.display().to_string(),
            source,
        })
    }

    /// The allowed directory `asked` is in, the path beneath it and the whole path,
    /// decided on the name alone: nothing is opened or looked at.
    pub fn locate(
        &self,
        what: &'static str,
        asked: &str,
        id: &str,
    ) -> Result<(std::os::fd::BorrowedFd<'_>, PathBuf, PathBuf), PlaceError> {
        let path = asked.to_string();
        let path_s = if asked.contains("{id}") {
            if !id_ok(id) {
                return Err(PlaceError::BadId {
                    what,
                    path,
                    id: id.to_string(),
                });
            }
            asked.replace("{id}", id)
        } else {
            path.clone()
        };
        let p = Path::new(&path_s);
        if !p.is_absolute() {
            return Err(PlaceError::Relative { what, path: path_s });
        }
        if p.components().any(|c| c == Component::ParentDir) {
            return Err(PlaceError::DotDot { what, path: path_s });
        }
        let found = self
            .dirs
            .iter()
            .filter(|(d, _)| p.starts_with(d) && p != d)
            .max_by_key(|(d, _)| d.components().count());
        let Some((dir, fd)) = found else {
            return Err(PlaceError::Outside {
                what,
                path: path_s,
                scope: self.scope,
                allowed: self.shown(),
            });
        };
        let rel = p.strip_prefix(dir).unwrap_or(p);
        Ok((fd.as_fd(), rel.to_path_buf(), p.to_path_buf()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    #[test]
    fn only_the_allowed_directories_are_written() {
        let d = std::env::temp_dir().join(format!("syscage-place-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&d);
        let logs = d.join("logs");
        std::fs::create_dir_all(&logs).unwrap();
        std::os::unix::fs::symlink("/etc", logs.join("etc")).unwrap();
        let a = Allowed::open(std::slice::from_ref(&logs)).unwrap();
        let l = logs.display().to_string();
        let err = |what, asked: &str, id| a.output(what, asked, id).err().map(|e| e.to_string());
        assert_eq!(
            err("report", "/etc/cron.d/x", "c1"),
            Some(format!("report `/etc/cron.d/x`: outside the directories the agent may write (--allow-dir {l})"))
        );
        assert_eq!(
            err("learn", &format!("{l}/../x"), "c1"),
            Some(format!("learn `{l}/../x`: `..` is not allowed in the path"))
        );
        assert_eq!(
            err("report", &format!("{l}/etc/passwd"), "c1"),
            Some(format!(
                "report `{l}/etc/passwd`: cannot write it: Invalid cross-device link (EXDEV)"
            ))
        );
        assert_eq!(
            err("report", &format!("{l}/{{id}}.jsonl"), "../../etc/x"),
            Some(format!("report `{l}/{{id}}.jsonl`: the container id `../../etc/x` cannot be part of a file name"))
        );
        assert_eq!(
            err("report", "r.jsonl", "c1"),
            Some("report `r.jsonl`: not an absolute path".to_string())
        );
        assert_eq!(
            err("report", &l, "c1"),
            Some(format!(
                "report `{l}`: outside the directories the agent may write (--allow-dir {l})"
            ))
        );
        let mut o = a
            .output("report", &format!("{l}/{{id}}.jsonl"), "web-1")
            .unwrap();
        o.write_all(b"x\n").unwrap();
        o.commit().unwrap();
        assert_eq!(
            std::fs::read_to_string(logs.join("web-1.jsonl")).unwrap(),
            "x\n"
        );
        let none = Allowed::open(&[]).unwrap();
        assert_eq!(
            none.output("report", "/tmp/r", "c").err().map(|e| e.to_string()),
            Some("report `/tmp/r`: outside the directories the agent may write (none: start the agent with --allow-dir DIR)".to_string())
        );
        std::fs::remove_dir_all(&d).unwrap();
    }
}
