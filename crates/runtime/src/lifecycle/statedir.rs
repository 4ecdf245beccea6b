//! The state directory: `<root>/<id>/` (mode 0700) holds `state.json` and, between
//! `create` and `start`, the exec FIFO.
//!
//! - Each command on an ID holds an exclusive `flock(2)` on the container's directory for
//!   as long as it works on it, so `delete` cannot remove what `start` is starting. A
//!   command that waited for the lock looks again whether the directory is still linked:
//!   a `delete` that held it before may have removed it.
//! - `state.json` is written to a temporary file and renamed over the old one: a reader
//!   sees the old state or the new one, never half of one.
//! - The status is never stored: it is derived from the process when asked (see
//!   [`derive`]), since after `create` and `start` no syscage process watches the
//!   container. The pid is checked against its start time, so a reused pid is not taken
//!   for the container.

use super::error::OciError;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use std::fs;
use std::io::{ErrorKind, Write};
use std::os::fd::{AsFd, OwnedFd};
use std::os::unix::fs::{DirBuilderExt, MetadataExt, OpenOptionsExt};
use std::path::{Path, PathBuf};
use syscage_oci::{ContainerId, Status};

/// The default `--root`.
pub const DEFAULT_ROOT: &str = "/run/syscage";
const STATE: &str = "state.json";
/// The exec FIFO's name in the container's directory.
pub const FIFO: &str = "exec.fifo";

/// One cgroup directory of the container, in one hierarchy.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CgroupDir {
    pub path: PathBuf,
    /// The cgroup2 hierarchy (else a v1 one).
    pub v2: bool,
    /// The v1 controllers of its hierarchy (`memory`, `freezer`...); empty on v2.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub controllers: Vec<String>,
}

/// What `create` leaves for the commands that follow: everything they need, since none
/// of them sees the configuration again.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Saved {
    pub id: String,
    /// The container's process on the host.
    pub pid: i32,
    /// Its start time (field 22 of `/proc/PID/stat`), against pid reuse.
    pub start_time: u64,
    pub bundle: String,
    pub rootfs: String,
    /// RFC 3339.
    pub created: String,
    #[serde(default)]
    pub annotations: Map<String, Value>,
    /// The user who made it.
    pub owner: u32,
    #[serde(default)]
    pub cgroups: Vec<CgroupDir>,
    /// `setns(2)` flags of the namespaces the process is in that are the container's own
    /// or joined (what `exec` joins).
    pub namespaces: i32,
    /// The seccomp profile `exec` compiles for its process (JSON text), with the
    /// capability bits it was resolved for; `None`: unconfined.
    #[serde(default)]
    pub seccomp: Option<SavedSeccomp>,
    /// The configuration's `process`: what `exec` with a command line starts from.
    #[serde(default)]
    pub process: Option<Value>,
    /// Hooks that run after `create` returned.
    #[serde(default)]
    pub poststart: Vec<syscage_oci::config::Hook>,
    #[serde(default)]
    pub poststop: Vec<syscage_oci::config::Hook>,
    /// syscage's own agent for the report and learn annotations: `delete` waits for it
    /// to write them.
    #[serde(default)]
    pub agent: Option<AgentProcess>,
}

/// A process of syscage's that outlives `create`: its pid and start time (a pid alone
/// could be another process by the time it is used).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AgentProcess {
    pub pid: i32,
    pub start_time: u64,
    /// Its socket (it removes it when it ends; `delete` when it was killed).
    #[serde(default)]
    pub socket: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SavedSeccomp {
    /// A built-in's name or the profile's JSON.
    pub profile: SavedProfile,
    pub caps: u64,
    /// The profile has a `listenerPath`: `exec` hands its process's fd there too.
    #[serde(default)]
    pub listener: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SavedProfile {
    Builtin(String),
    /// A config.json's `linux.seccomp` (the runtime spec's object).
    Json(String),
    /// The text of the profile file `run.syscage.seccomp` named, in any format syscage
    /// reads (Docker's fields included), and its path.
    File {
        path: String,
        text: String,
    },
}

/// The `--root` directory.
#[derive(Debug, Clone)]
pub struct Root {
    path: PathBuf,
}

/// A container's directory, locked by this process until dropped.
#[derive(Debug)]
pub struct Locked {
    id: ContainerId,
    dir: PathBuf,
    root: PathBuf,
    /// The directory, flocked.
    fd: OwnedFd,
}

impl Root {
    pub fn new(path: impl Into<PathBuf>) -> Root {
        Root { path: path.into() }
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Creates `<root>/<id>/` (and the root, mode 0700, when missing: containerd's shim
    /// passes `/run/containerd/runc/NAMESPACE` and expects it made) and locks it. An ID in
    /// use is refused with runc's words.
    pub fn create(&self, id: &ContainerId) -> Result<Locked, OciError> {
        let mut b = fs::DirBuilder::new();
        b.recursive(true).mode(0o700);
        b.create(&self.path)
            .map_err(|e| OciError::io("create the state directory", &self.path, &e))?;
        let dir = self.path.join(id.as_str());
        match fs::DirBuilder::new().mode(0o700).create(&dir) {
            Ok(()) => {}
            Err(e) if e.kind() == ErrorKind::AlreadyExists => {
                return Err(OciError::Exists {
                    id: id.to_string(),
                    root: self.path.display().to_string(),
                })
            }
            Err(e) => return Err(OciError::io("create the state directory", &dir, &e)),
        }
        let l = match self.lock(id, &dir) {
            Ok(l) => l,
            Err(e) => {
                let _ = fs::remove_dir(&dir);
                return Err(e);
            }
        };
        // A `delete --force` that locked it first removed it as unfinished (and the path
        // may be another `create`'s by now: nothing is removed).
        match nix::sys::stat::fstat(l.fd.as_fd()) {
            Ok(st) if st.st_nlink > 0 => Ok(l),
            _ => Err(OciError::Other(format!(
                "the state directory `{}` was removed while it was made (a delete --force of the same id?)",
                dir.display()
            ))),
        }
    }

    /// Locks the directory of an existing container. `NotFound` when there is none, or
    /// when it was removed while this process waited for the lock.
    pub fn open(&self, id: &ContainerId) -> Result<Locked, OciError> {
        let dir = self.path.join(id.as_str());
        let l = self.lock(id, &dir)?;
        // Removed by the holder of the lock we waited for, or made by a `create` that
        // failed before writing its state: not a container.
        let gone = nix::sys::stat::fstat(l.fd.as_fd()).map_or(true, |st| st.st_nlink == 0);
        if gone || !dir.join(STATE).exists() {
            return Err(self.not_found(id));
        }
        Ok(l)
    }

    /// Removes the directory of a `create` that died before writing its state (nothing in
    /// it names a process: its socket, its profiles). Locked first: a `create` that is
    /// alive holds the lock, and this waits for it. Whether there was one.
    pub fn remove_unfinished(&self, id: &ContainerId) -> Result<bool, OciError> {
        let dir = self.path.join(id.as_str());
        let l = match self.lock(id, &dir) {
            Ok(l) => l,
            Err(OciError::NotFound { .. }) => return Ok(false),
            Err(e) => return Err(e),
        };
        let gone = nix::sys::stat::fstat(l.fd.as_fd()).map_or(true, |st| st.st_nlink == 0);
        if gone || dir.join(STATE).exists() {
            return Ok(false);
        }
        // Only what `create` makes before its state: anything else is not syscage's.
        let ours = fs::read_dir(&dir).is_ok_and(|rd| {
            rd.flatten().all(|e| {
                matches!(
                    e.file_name().to_str(),
                    Some(FIFO | "seccomp-base.json" | "seccomp-paired.json" | ".state.json.tmp")
                )
            })
        });
        if !ours {
            return Ok(false);
        }
        l.remove().map(|()| true)
    }

    fn not_found(&self, id: &ContainerId) -> OciError {
        OciError::NotFound {
            id: id.to_string(),
            root: self.path.display().to_string(),
        }
    }

    fn lock(&self, id: &ContainerId, dir: &Path) -> Result<Locked, OciError> {
        let fd = match nix::fcntl::open(
            dir,
            nix::fcntl::OFlag::O_RDONLY
                | nix::fcntl::OFlag::O_DIRECTORY
                | nix::fcntl::OFlag::O_NOFOLLOW
                | nix::fcntl::OFlag::O_CLOEXEC,
            nix::sys::stat::Mode::empty(),
        ) {
            Ok(fd) => fd,
            Err(nix::errno::Errno::ENOENT | nix::errno::Errno::ENOTDIR) => {
                return Err(self.not_found(id))
            }
            Err(e) => return Err(OciError::errno("open the state directory", dir, e)),
        };
        loop {
            match rustix::fs::flock(&fd, rustix::fs::FlockOperation::LockExclusive) {
                Ok(()) => break,
                Err(rustix::io::Errno::INTR) => continue,
                Err(e) => {
                    return Err(OciError::errno(
                        "lock the state directory",
                        dir,
                        crate::fsroot::errno(e),
                    ))
                }
            }
        }
        Ok(Locked {
            id: id.clone(),
            dir: dir.to_path_buf(),
            root: self.path.clone(),
            fd,
        })
    }

    /// The IDs of the containers under the root, sorted.
    pub fn list(&self) -> Vec<String> {
        let mut ids: Vec<String> = fs::read_dir(&self.path)
            .into_iter()
            .flatten()
            .flatten()
            .filter(|e| e.path().join(STATE).exists())
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .collect();
        ids.sort();
        ids
    }
}

impl Locked {
    pub fn id(&self) -> &ContainerId {
        &self.id
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    pub fn fifo(&self) -> PathBuf {
        self.dir.join(FIFO)
    }

    /// Writes `state.json` through a temporary file and a rename.
    pub fn write(&self, s: &Saved) -> Result<(), OciError> {
        let path = self.dir.join(STATE);
        let tmp = self.dir.join(".state.json.tmp");
        let text = serde_json::to_vec(s).map_err(|e| OciError::Other(e.to_string()))?;
        let write = || -> std::io::Result<()> {
            let mut f = fs::OpenOptions::new()
                .write(true)
                .create(true)
                .truncate(true)
                .mode(0o600)
                .custom_flags(libc::O_NOFOLLOW)
                .open(&tmp)?;
            f.write_all(&text)?;
            fs::rename(&tmp, &path)
        };
        write().map_err(|e| OciError::io("write the state file", &path, &e))
    }

    /// Reads `state.json`; a file that does not parse is `Corrupt`, naming it.
    pub fn read(&self) -> Result<Saved, OciError> {
        let path = self.dir.join(STATE);
        let corrupt = |why: String| OciError::Corrupt {
            id: self.id.to_string(),
            path: path.display().to_string(),
            why,
        };
        let text = match fs::read(&path) {
            Ok(t) => t,
            Err(e) if e.kind() == ErrorKind::NotFound => {
                return Err(OciError::NotFound {
                    id: self.id.to_string(),
                    root: self.root.display().to_string(),
                })
            }
            Err(e) => return Err(OciError::io("read the state file", &path, &e)),
        };
        let s: Saved = serde_json::from_slice(&text).map_err(|e| corrupt(e.to_string()))?;
        if s.id != self.id.as_str() {
            return Err(corrupt(format!(
                "it is the state of `{}`",
                s.id.escape_default()
            )));
        }
        if s.pid <= 0 {
            return Err(corrupt(format!("pid `{}` is not a process", s.pid)));
        }
        Ok(s)
    }

    /// Removes the directory and everything in it; the lock goes with it.
    pub fn remove(self) -> Result<(), OciError> {
        match fs::remove_dir_all(&self.dir) {
            Ok(()) => Ok(()),
            Err(e) if e.kind() == ErrorKind::NotFound => Ok(()),
            Err(e) => Err(OciError::io("remove the state directory", &self.dir, &e)),
        }
    }
}

/// What the host says about the container's process.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Seen {
    /// The pid runs (not a zombie) and started when the state says.
    pub alive: bool,
    /// The exec FIFO is still there: `start` has not released the process.
    pub fifo: bool,
    /// Its cgroup is frozen.
    pub frozen: bool,
}

/// The status from what the host says: created until `start` removed the FIFO, paused
/// while frozen, stopped once the process is gone (or a zombie: it has exited, its
/// parent just has not reaped it).
pub fn derive(seen: Seen) -> Status {
    match seen {
        Seen { alive: false, .. } => Status::Stopped,
        Seen { frozen: true, .. } => Status::Paused,
        Seen { fifo: true, .. } => Status::Created,
        _ => Status::Running,
    }
}

/// Whether `pid` is running and started at `start` (clock ticks since boot). A zombie
/// has exited: not alive.
pub fn alive(pid: i32, start: u64) -> bool {
    crate::sys::ProcStat::read(pid)
        .is_some_and(|s| !matches!(s.state(), "Z" | "X" | "x") && s.start_time() == Some(start))
}

/// The owner of a path (for the state's `owner`).
pub fn owner_of(path: &Path) -> u32 {
    fs::metadata(path).map(|m| m.uid()).unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn temp(name: &str) -> PathBuf {
        let d = std::env::temp_dir().join(format!("syscage-state-{name}-{}", std::process::id()));
        let _ = fs::remove_dir_all(&d);
        d
    }

    fn saved(id: &str) -> Saved {
        Saved {
            id: id.into(),
            pid: std::process::id() as i32,
            start_time: crate::cgroup::process_start(std::process::id()).unwrap(),
            bundle: "/b".into(),
            rootfs: "/b/rootfs".into(),
            created: "2026-12-02T05:16:25.876995005Z".into(),
            annotations: Map::new(),
            owner: 0,
            cgroups: vec![],
            namespaces: 0,
            seccomp: None,
            process: None,
            poststart: vec![],
            poststop: vec![],
            agent: None,
        }
    }

    #[test]
    fn statuses_derive_from_the_process() {
        let s = |alive, fifo, frozen| {
            derive(Seen {
                alive,
                fifo,
                frozen,
            })
        };
        assert_eq!(s(true, true, false), Status::Created);
        assert_eq!(s(true, false, false), Status::Running);
        assert_eq!(s(true, false, true), Status::Paused);
        assert_eq!(s(true, true, true), Status::Paused);
        assert_eq!(s(false, true, false), Status::Stopped);
        assert_eq!(s(false, false, true), Status::Stopped);
    }

    #[test]
    fn a_reused_pid_or_a_zombie_is_not_the_container() {
        let me = std::process::id();
        let start = crate::cgroup::process_start(me).unwrap();
        assert!(alive(me as i32, start));
        assert!(
            !alive(me as i32, start + 1),
            "another start time: a reused pid"
        );
        assert!(!alive(i32::MAX, start));
        // A zombie: a child that exited and is not reaped yet.
        let mut child = std::process::Command::new("true").spawn().unwrap();
        let pid = child.id();
        let cstart = crate::cgroup::process_start(pid);
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
        while fs::read_to_string(format!("/proc/{pid}/stat"))
            .map(|s| !s.contains(") Z "))
            .unwrap_or(false)
        {
            assert!(std::time::Instant::now() < deadline, "child never exited");
            std::thread::yield_now();
        }
        if let Some(cstart) = cstart {
            assert!(!alive(pid as i32, cstart));
        }
        child.wait().unwrap();
    }

    #[test]
    fn create_refuses_an_id_in_use_and_open_a_missing_one() {
        let t = temp("ids");
        let root = Root::new(&t);
        let id = ContainerId::new("x1").unwrap();
        let l = root.create(&id).unwrap();
        assert_eq!(
            fs::metadata(&t).unwrap().mode() & 0o777,
            0o700,
            "the root is made 0700"
        );
        assert_eq!(fs::metadata(l.dir()).unwrap().mode() & 0o777, 0o700);
        l.write(&saved("x1")).unwrap();
        drop(l);
        assert_eq!(
            root.create(&id).unwrap_err().to_string(),
            format!(
                "container with given ID already exists: `x1` in `{}`",
                t.display()
            )
        );
        let other = ContainerId::new("nope").unwrap();
        assert_eq!(
            root.open(&other).unwrap_err().to_string(),
            format!(
                "container does not exist: no state for `nope` in `{}`",
                t.display()
            )
        );
        // A directory without a state file (a create that died first) is no container.
        fs::create_dir(t.join("half")).unwrap();
        assert!(matches!(
            root.open(&ContainerId::new("half").unwrap()),
            Err(OciError::NotFound { .. })
        ));
        assert_eq!(root.list(), vec!["x1".to_string()]);
        let l = root.open(&id).unwrap();
        assert_eq!(l.read().unwrap(), saved("x1"));
        l.remove().unwrap();
        assert!(!t.join("x1").exists());
        fs::remove_dir_all(&t).unwrap();
    }

    #[test]
    fn corrupt_or_foreign_state_is_named() {
        let t = temp("corrupt");
        let root = Root::new(&t);
        let id = ContainerId::new("c1").unwrap();
        let l = root.create(&id).unwrap();
        let path = l.dir().join(STATE);
        fs::write(&path, "{\"id\": \"c1\", \"pid\": ").unwrap();
        assert_eq!(
            l.read().unwrap_err().to_string(),
            format!("container `c1`: state file `{}` is corrupt: EOF while parsing a value at line 1 column 20; hint: `delete --force c1` removes what is left of it", path.display())
        );
        l.write(&saved("other")).unwrap();
        assert_eq!(
            l.read().unwrap_err().to_string(),
            format!("container `c1`: state file `{}` is corrupt: it is the state of `other`; hint: `delete --force c1` removes what is left of it", path.display())
        );
        // Written whole: no temporary file is left next to it.
        let names: Vec<String> = fs::read_dir(l.dir())
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        assert_eq!(names, vec![STATE.to_string()]);
        fs::remove_dir_all(&t).unwrap();
    }

    #[test]
    fn a_command_that_waited_for_a_delete_finds_nothing() {
        let t = temp("race");
        let root = Root::new(&t);
        let id = ContainerId::new("r1").unwrap();
        let l = root.create(&id).unwrap();
        l.write(&saved("r1")).unwrap();
        let (tx, rx) = std::sync::mpsc::channel();
        let root2 = root.clone();
        let id2 = id.clone();
        let waiter = std::thread::spawn(move || {
            tx.send(()).unwrap();
            root2.open(&id2).map(|_| ())
        });
        rx.recv().unwrap();
        // The other thread opens the directory and waits on the lock (flock locks are
        // per open file description, so two threads contend as two processes would):
        // /proc/locks shows the waiter with `->`. Removing it then is what `delete` does.
        let ino = fs::metadata(l.dir()).unwrap().ino();
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
        while !fs::read_to_string("/proc/locks")
            .unwrap()
            .lines()
            .any(|line| line.contains("-> FLOCK") && line.contains(&format!(":{ino} ")))
        {
            assert!(
                std::time::Instant::now() < deadline,
                "the waiter never waited"
            );
            std::thread::yield_now();
        }
        l.remove().unwrap();
        assert!(matches!(
            waiter.join().unwrap(),
            Err(OciError::NotFound { .. })
        ));
        fs::remove_dir_all(&t).unwrap();
    }
}
