//! Marks of the runs that make cgroups, so that a run which asks for no cgroup can tell
//! with one directory read that no killed run can have left one behind, and skip the
//! sweep of every hierarchy (reading `/proc/self/mountinfo`, this process's pid namespace
//! and start time, and each `syscage/` directory: about 70 system calls and 0.2 ms of a
//! 5 ms start, measured on the bench machine).
//!
//! A run that makes cgroups marks itself (an empty file named as its cgroups,
//! [`Owner::name`]) before it makes any, and removes the mark once they are gone. A run
//! killed in between leaves the mark, and the next run, with or without cgroups, sweeps,
//! then removes the marks of dead owners whose cgroups are all gone. The directory is in
//! `/run` (root) or `$XDG_RUNTIME_DIR`: both start empty at boot, as cgroups do. Where
//! neither exists, or it cannot be read, every run sweeps, as before there were marks.
//!
//! Leftovers of syscage builds that made no marks are swept by the next run that makes a
//! cgroup (those runs always sweep).

use crate::cgroup::{Layout, Owner};
use std::fs;
use std::io::{self, ErrorKind};
use std::os::unix::fs::DirBuilderExt;
use std::path::{Path, PathBuf};

/// The directory of marks.
pub struct Marks {
    dir: PathBuf,
}

impl Marks {
    /// The caller's marks: `/run/syscage-cgroups` for root, `$XDG_RUNTIME_DIR/syscage-cgroups`
    /// otherwise (not under `/run/syscage`, the OCI runtime's state root, where it would
    /// read as a container's directory); `None` when there is no such place (then every
    /// run sweeps).
    pub fn for_caller() -> Option<Marks> {
        let base = if nix::unistd::geteuid().is_root() {
            PathBuf::from("/run")
        } else {
            PathBuf::from(std::env::var_os("XDG_RUNTIME_DIR")?)
        };
        base.is_absolute()
            .then(|| Marks::at(base.join("syscage-cgroups")))
    }

    /// Marks kept in `dir` (tests use a temporary directory).
    pub fn at(dir: PathBuf) -> Marks {
        Marks { dir }
    }

    /// Whether a run may have left cgroups: a mark is there, or that cannot be told.
    pub fn any(&self) -> bool {
        match fs::read_dir(&self.dir) {
            Ok(mut rd) => rd.next().is_some(),
            Err(e) => e.kind() != ErrorKind::NotFound,
        }
    }

    /// Marks `owner` as a run with cgroups; before it makes any.
    pub fn add(&self, owner: &Owner) -> io::Result<Mark> {
        fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(&self.dir)?;
        let path = self.dir.join(owner.name());
        fs::OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(false)
            .open(&path)?;
        Ok(Mark { path, dirs: vec![] })
    }

    /// Removes the marks of owners that are gone and whose cgroups are all gone too (a
    /// cgroup the sweep could not remove keeps its mark, for the next run).
    pub fn prune(&self, layout: &Layout, alive: &dyn Fn(&Owner) -> bool) {
        let Ok(rd) = fs::read_dir(&self.dir) else {
            return;
        };
        for e in rd.flatten() {
            let name = e.file_name().to_string_lossy().into_owned();
            let Some(owner) = Owner::parse(&name) else {
                continue;
            };
            let left = layout
                .hierarchies
                .iter()
                .any(|h| h.path().join("syscage").join(&name).exists());
            if !alive(&owner) && !left {
                let _ = fs::remove_file(e.path());
            }
        }
    }
}

/// This run's mark: removed when dropped, unless one of its cgroup directories is still
/// there (a busy one the next run's sweep removes).
pub struct Mark {
    path: PathBuf,
    dirs: Vec<PathBuf>,
}

impl Mark {
    /// The cgroup directories the mark stands for.
    pub fn covers<'a>(&mut self, dirs: impl Iterator<Item = &'a Path>) {
        self.dirs.extend(dirs.map(Path::to_path_buf));
    }
}

impl Drop for Mark {
    fn drop(&mut self) {
        if !self.dirs.iter().any(|d| d.exists()) {
            let _ = fs::remove_file(&self.path);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cgroup::Layout;

    fn temp(name: &str) -> PathBuf {
        let d = std::env::temp_dir().join(format!("syscage-mark-{name}-{}", std::process::id()));
        let _ = fs::remove_dir_all(&d);
        d
    }

    fn owner(pid: u32) -> Owner {
        Owner {
            pidns: 1,
            pid,
            start: 7,
        }
    }

    #[test]
    fn no_directory_means_nothing_left() {
        let d = temp("none");
        let m = Marks::at(d.join("cgroups"));
        assert!(!m.any());
        let mark = m.add(&owner(10)).unwrap();
        assert!(m.any());
        drop(mark);
        assert!(!m.any(), "a run whose cgroups are gone removes its mark");
        fs::remove_dir_all(&d).unwrap();
    }

    #[test]
    fn a_mark_stays_while_its_cgroup_does() {
        let d = temp("stays");
        let cg = d.join("cg");
        fs::create_dir_all(&cg).unwrap();
        let m = Marks::at(d.join("cgroups"));
        let mut mark = m.add(&owner(11)).unwrap();
        mark.covers([cg.as_path()].into_iter());
        drop(mark);
        assert!(
            m.any(),
            "the cgroup is still there: the next run must sweep"
        );
        fs::remove_dir_all(&d).unwrap();
    }

    #[test]
    fn prune_keeps_live_owners_and_dead_ones_with_cgroups() {
        let d = temp("prune");
        let h = d.join("memory");
        fs::create_dir_all(h.join("syscage").join(owner(3).name())).unwrap();
        let layout = Layout::from_mountinfo(&format!(
            "26 25 0:23 / {} rw,relatime - cgroup cgroup rw,memory\n",
            h.display()
        ));
        let m = Marks::at(d.join("cgroups"));
        // Marks are left behind, as a killed run leaves its own.
        for pid in [1, 2, 3] {
            std::mem::forget(m.add(&owner(pid)).unwrap());
        }
        fs::write(d.join("cgroups/not-a-mark"), "").unwrap();
        m.prune(&layout, &|o| o.pid == 1);
        let mut left: Vec<_> = fs::read_dir(d.join("cgroups"))
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .collect();
        left.sort();
        assert_eq!(
            left,
            vec![owner(1).name(), owner(3).name(), "not-a-mark".to_string()]
        );
        fs::remove_dir_all(&d).unwrap();
    }

    #[test]
    fn an_unreadable_place_counts_as_marked() {
        let d = temp("file");
        fs::create_dir_all(&d).unwrap();
        fs::write(d.join("cgroups"), "").unwrap();
        assert!(Marks::at(d.join("cgroups")).any());
        fs::remove_dir_all(&d).unwrap();
    }
}
