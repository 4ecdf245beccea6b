//! Resource limits through cgroups, on cgroup v2, on v1, and on the hybrid layout (v1
//! controllers plus a cgroup2 mount) that this kind of machine has: each controller is
//! used wherever the machine provides it.
//!
//! Every function takes the hierarchy paths explicitly, so the tests run on a temporary
//! directory. A container's cgroup is `<hierarchy>/syscage/<pidns>-<pid>-<starttime>`
//! of the syscage process that made it: a later run in the same pid namespace can tell
//! whether its owner is gone and remove what a killed syscage left behind. Runs in other
//! pid namespaces (another container sharing the hierarchy) see pids that are not theirs,
//! so they leave those cgroups alone.

use crate::config::CpuQuota;
use crate::protocol;
use std::fs;
use std::io::{self, ErrorKind};
use std::os::fd::{AsRawFd, OwnedFd, RawFd};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};
use syscage_policy::errno::io_text;
use thiserror::Error;

/// The resource limits of a run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Limits {
    pub memory: Option<u64>,
    pub pids: Option<u64>,
    pub cpu: Option<CpuQuota>,
}

impl Limits {
    pub fn any(&self) -> bool {
        self.memory.is_some() || self.pids.is_some() || self.cpu.is_some()
    }
}

/// A controller syscage uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Controller {
    Memory,
    Pids,
    Cpu,
}

impl Controller {
    pub fn name(self) -> &'static str {
        match self {
            Controller::Memory => "memory",
            Controller::Pids => "pids",
            Controller::Cpu => "cpu",
        }
    }

    fn option(self) -> &'static str {
        match self {
            Controller::Memory => "--memory",
            Controller::Pids => "--pids-limit",
            Controller::Cpu => "--cpus",
        }
    }
}

/// One mounted hierarchy.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Hierarchy {
    /// A cgroup v1 mount with its controllers.
    V1 {
        path: PathBuf,
        controllers: Vec<String>,
    },
    /// The cgroup2 mount.
    V2 { path: PathBuf },
}

impl Hierarchy {
    pub fn path(&self) -> &Path {
        match self {
            Hierarchy::V1 { path, .. } | Hierarchy::V2 { path } => path,
        }
    }
}

/// The cgroup mounts of this machine.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Layout {
    pub hierarchies: Vec<Hierarchy>,
}

#[derive(Debug, Error)]
pub enum CgroupError {
    #[error("{option}: this machine has no `{controller}` cgroup controller (looked in the v1 mounts and the cgroup2 mount)")]
    NoController {
        option: &'static str,
        controller: &'static str,
    },
    #[error("{option}: cannot create cgroup `{path}`: {}{hint}", io_text(.source))]
    Create {
        option: &'static str,
        path: String,
        source: io::Error,
        hint: &'static str,
    },
    #[error("cannot write `{value}` to `{path}`: {}", io_text(.source))]
    Write {
        path: String,
        value: String,
        source: io::Error,
    },
    #[error("cannot read the cgroup mounts in `/proc/self/mountinfo`: {}", io_text(.0))]
    Mountinfo(io::Error),
}

/// What can give this user a cgroup here: systemd's delegation only where systemd runs
/// (`/run/systemd/system`, as sd_booted(3) checks).
fn rootless_hint() -> &'static str {
    if Path::new("/run/systemd/system").is_dir() {
        "; hint: cgroup limits need root, or a cgroup v2 tree delegated to this user (e.g. `systemd-run --user --scope -p Delegate=yes syscage ...`)"
    } else {
        "; hint: cgroup limits need root here, or a cgroup v2 directory this user may write (made and handed over by root)"
    }
}

impl Layout {
    /// Reads the cgroup mounts from `/proc/self/mountinfo` text.
    pub fn from_mountinfo(text: &str) -> Layout {
        let mut hierarchies = Vec::new();
        for line in text.lines() {
            // id parent maj:min root mountpoint opts [optional...] - fstype source superopts
            let Some((left, right)) = line.split_once(" - ") else {
                continue;
            };
            let fields: Vec<&str> = left.split(' ').collect();
            let rfields: Vec<&str> = right.split(' ').collect();
            if fields.len() < 5 || rfields.len() < 3 {
                continue;
            }
            let mountpoint = PathBuf::from(unescape(fields[4]));
            match rfields[0] {
                "cgroup2" => hierarchies.push(Hierarchy::V2 { path: mountpoint }),
                "cgroup" => {
                    let controllers = rfields[2]
                        .split(',')
                        .filter(|o| !matches!(*o, "rw" | "ro") && !o.contains('='))
                        .map(str::to_string)
                        .collect();
                    hierarchies.push(Hierarchy::V1 {
                        path: mountpoint,
                        controllers,
                    });
                }
                _ => {}
            }
        }
        Layout { hierarchies }
    }

    pub fn detect() -> Result<Layout, CgroupError> {
        let text = fs::read_to_string("/proc/self/mountinfo").map_err(CgroupError::Mountinfo)?;
        Ok(Layout::from_mountinfo(&text))
    }

    /// Where a controller lives: a v1 mount naming it, else the v2 mount if its root lists
    /// it in `cgroup.controllers`.
    pub fn find(&self, c: Controller) -> Option<&Hierarchy> {
        self.hierarchies
            .iter()
            .find(|h| matches!(h, Hierarchy::V1 { controllers, .. } if controllers.iter().any(|x| x == c.name())))
            .or_else(|| {
                self.hierarchies.iter().find(|h| match h {
                    Hierarchy::V2 { path } => fs::read_to_string(path.join("cgroup.controllers"))
                        .map(|s| s.split_whitespace().any(|x| x == c.name()))
                        .unwrap_or(false),
                    _ => false,
                })
            })
    }
}

fn unescape(s: &str) -> String {
    s.replace("\\040", " ")
        .replace("\\011", "\t")
        .replace("\\012", "\n")
        .replace("\\134", "\\")
}

/// A container's cgroup: one directory per hierarchy it uses.
#[derive(Debug)]
pub struct Cgroup {
    dirs: Vec<(PathBuf, bool)>, // (dir, is_v2)
}

/// The syscage process a cgroup belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Owner {
    /// The inode of its pid namespace (`/proc/self/ns/pid`): its pid means something only
    /// there.
    pub pidns: u64,
    pub pid: u32,
    /// When it started, in clock ticks since boot (field 22 of `/proc/PID/stat`): a
    /// reused pid has another.
    pub start: u64,
}

impl Owner {
    /// This process.
    pub fn me() -> io::Result<Owner> {
        use std::os::unix::fs::MetadataExt;
        let pidns = fs::metadata("/proc/self/ns/pid")?.ino();
        let pid = std::process::id();
        let start = process_start(pid).ok_or_else(|| {
            io::Error::new(ErrorKind::NotFound, "no start time in /proc/self/stat")
        })?;
        Ok(Owner { pidns, pid, start })
    }

    /// The cgroup's directory name.
    pub fn name(&self) -> String {
        format!("{}-{}-{}", self.pidns, self.pid, self.start)
    }

    /// The owner a directory name stands for, if it is one of syscage's.
    pub fn parse(name: &str) -> Option<Owner> {
        let mut it = name.split('-');
        let owner = Owner {
            pidns: it.next()?.parse().ok()?,
            pid: it.next()?.parse().ok()?,
            start: it.next()?.parse().ok()?,
        };
        it.next().is_none().then_some(owner)
    }

    /// Whether this owner still runs, seen from `me`'s pid namespace; an owner from
    /// another namespace is taken to run.
    pub fn alive_from(&self, me: &Owner) -> bool {
        self.pidns != me.pidns || process_start(self.pid) == Some(self.start)
    }
}

fn write(path: &Path, value: &str) -> Result<(), CgroupError> {
    fs::write(path, value).map_err(|source| CgroupError::Write {
        path: path.display().to_string(),
        value: value.to_string(),
        source,
    })
}

impl Cgroup {
    /// Creates the cgroup directories for `limits` and writes the limits.
    pub fn create(layout: &Layout, name: &str, limits: &Limits) -> Result<Cgroup, CgroupError> {
        let mut cg = Cgroup { dirs: Vec::new() };
        let result = cg.create_inner(layout, name, limits);
        if result.is_err() {
            cg.remove();
        }
        result.map(|_| cg)
    }

    fn create_inner(
        &mut self,
        layout: &Layout,
        name: &str,
        limits: &Limits,
    ) -> Result<(), CgroupError> {
        let wanted = [
            (Controller::Memory, limits.memory.is_some()),
            (Controller::Pids, limits.pids.is_some()),
            (Controller::Cpu, limits.cpu.is_some()),
        ];
        for (c, want) in wanted {
            if !want {
                continue;
            }
            let h = layout.find(c).ok_or(CgroupError::NoController {
                option: c.option(),
                controller: c.name(),
            })?;
            let is_v2 = matches!(h, Hierarchy::V2 { .. });
            let parent = h.path().join("syscage");
            let dir = parent.join(name);
            let mkdir = |p: &Path| match fs::create_dir(p) {
                Err(e) if e.kind() == ErrorKind::AlreadyExists => Ok(()),
                r => r,
            };
            // On v2 a controller must be enabled in the subtree_control of every ancestor;
            // a failure shows up below as a missing limit file, with its path.
            if is_v2 {
                let _ = fs::write(
                    h.path().join("cgroup.subtree_control"),
                    format!("+{}", c.name()),
                );
            }
            mkdir(&parent).map_err(|source| create_error(c, &parent, source))?;
            if is_v2 {
                let _ = fs::write(
                    parent.join("cgroup.subtree_control"),
                    format!("+{}", c.name()),
                );
            }
            if !self.dirs.iter().any(|(d, _)| *d == dir) {
                mkdir(&dir).map_err(|source| create_error(c, &dir, source))?;
                self.dirs.push((dir.clone(), is_v2));
            }
            match (c, is_v2) {
                (Controller::Memory, false) => {
                    let m = limits.memory.unwrap_or_default().to_string();
                    write(&dir.join("memory.limit_in_bytes"), &m)?;
                    // Without swap accounting the file is absent; with it, no swap either.
                    let memsw = dir.join("memory.memsw.limit_in_bytes");
                    if memsw.exists() {
                        write(&memsw, &m)?;
                    }
                }
                (Controller::Memory, true) => {
                    write(
                        &dir.join("memory.max"),
                        &limits.memory.unwrap_or_default().to_string(),
                    )?;
                    let swap = dir.join("memory.swap.max");
                    if swap.exists() {
                        write(&swap, "0")?;
                    }
                }
                (Controller::Pids, _) => write(
                    &dir.join("pids.max"),
                    &limits.pids.unwrap_or_default().to_string(),
                )?,
                (Controller::Cpu, false) => {
                    let q = limits.cpu.unwrap_or(CpuQuota {
                        quota_us: 0,
                        period_us: 100_000,
                    });
                    write(&dir.join("cpu.cfs_period_us"), &q.period_us.to_string())?;
                    write(&dir.join("cpu.cfs_quota_us"), &q.quota_us.to_string())?;
                }
                (Controller::Cpu, true) => {
                    let q = limits.cpu.unwrap_or(CpuQuota {
                        quota_us: 0,
                        period_us: 100_000,
                    });
                    write(
                        &dir.join("cpu.max"),
                        &format!("{} {}", q.quota_us, q.period_us),
                    )?;
                }
            }
        }
        Ok(())
    }

    /// Moves a process (and the children it will have) into the cgroup's v2 directory, if
    /// it has one; the v1 ones the process joins itself, through [`Cgroup::self_join`].
    pub fn add(&self, pid: i32) -> Result<(), CgroupError> {
        for (dir, _) in self.dirs.iter().filter(|(_, v2)| *v2) {
            write(&dir.join("cgroup.procs"), &pid.to_string())?;
        }
        Ok(())
    }

    /// Opens the `tasks` file of each v1 directory, for the container's first process to
    /// join them itself (see [`SelfJoin`]).
    pub fn self_join(&self) -> Result<SelfJoin, CgroupError> {
        SelfJoin::open(
            self.dirs
                .iter()
                .filter(|(_, v2)| !*v2)
                .map(|(d, _)| d.as_path()),
            3,
        )
        .map_err(|(path, source)| CgroupError::Write {
            path: path.display().to_string(),
            value: "0".into(),
            source,
        })
    }

    pub fn dirs(&self) -> impl Iterator<Item = &Path> {
        self.dirs.iter().map(|(d, _)| d.as_path())
    }

    /// Removes the directories, killing anything left in them first. Called when the
    /// container is over; a directory that stays busy for a second is left for the next
    /// run's sweep.
    pub fn remove(&mut self) {
        for (dir, is_v2) in self.dirs.drain(..) {
            remove_dir(&dir, is_v2);
        }
    }
}

/// The v1 `tasks` files a new process writes `0` into to join its cgroups itself, opened
/// close-on-exec by its parent before the clone.
///
/// Why not write its pid to `cgroup.procs` from the parent, as v2 needs (and as runc and
/// crun do): moving a whole process takes the kernel's global threadgroup lock for writing,
/// and the first taking after the machine idled waits for an RCU grace period (5 to 15 ms
/// on the test machine, more than all the rest of a start). A thread that moves itself
/// alone needs no such lock, and a freshly cloned process is a single thread. The kernel
/// checks the rights of the file's opener (root, here), so the process may already be in
/// a new user namespace when it writes.
#[derive(Debug, Default)]
pub struct SelfJoin {
    files: Vec<(OwnedFd, String)>,
}

impl SelfJoin {
    /// Opens `DIR/tasks` for each directory, at fd `min` or above.
    pub fn open<'a>(
        dirs: impl IntoIterator<Item = &'a Path>,
        min: RawFd,
    ) -> Result<SelfJoin, (PathBuf, io::Error)> {
        let mut files = Vec::new();
        for dir in dirs {
            let path = dir.join("tasks");
            let high = fs::OpenOptions::new()
                .write(true)
                .open(&path)
                .and_then(|f| {
                    if f.as_raw_fd() >= min {
                        return Ok(OwnedFd::from(f));
                    }
                    let fd = nix::fcntl::fcntl(&f, nix::fcntl::FcntlArg::F_DUPFD_CLOEXEC(min))?;
                    Ok(crate::sys::own_received_fd(fd))
                });
            match high {
                Ok(f) => files.push((f, path.display().to_string())),
                Err(e) => return Err((path, e)),
            }
        }
        Ok(SelfJoin { files })
    }

    /// The descriptors, for a child that closes everything else.
    pub fn fds(&self) -> Vec<RawFd> {
        self.files.iter().map(|(f, _)| f.as_raw_fd()).collect()
    }

    /// Moves the calling thread, which must be its process's only one, into each cgroup.
    /// `what` names the step (a failure is `what` and the path, and the errno).
    pub fn join(&self, what: &str) -> Result<(), protocol::Failure> {
        for (f, path) in &self.files {
            crate::fault::inject(what)
                .and_then(|_| nix::unistd::write(f, b"0"))
                .map_err(|e| {
                    protocol::failure(
                        protocol::FailureKind::Setup,
                        format!("{what} `{path}`"),
                        Some(e),
                        None,
                    )
                })?;
        }
        Ok(())
    }
}

impl Drop for Cgroup {
    fn drop(&mut self) {
        self.remove();
    }
}

fn create_error(c: Controller, path: &Path, source: io::Error) -> CgroupError {
    let hint = if matches!(
        source.kind(),
        ErrorKind::PermissionDenied | ErrorKind::ReadOnlyFilesystem
    ) {
        rootless_hint()
    } else {
        ""
    };
    CgroupError::Create {
        option: c.option(),
        path: path.display().to_string(),
        source,
        hint,
    }
}

/// Removes a cgroup directory. Only a busy one (EBUSY: processes still leaving) is tried
/// again, for a second at most; any other error is final (a permission error would not
/// change by waiting).
pub(crate) fn remove_dir(dir: &Path, is_v2: bool) {
    let deadline = Instant::now() + Duration::from_secs(1);
    loop {
        match fs::remove_dir(dir) {
            Ok(()) => return,
            Err(e) if e.kind() == ErrorKind::NotFound => return,
            Err(e) if e.raw_os_error() == Some(libc::EBUSY) && Instant::now() < deadline => {
                kill_members(dir, is_v2);
                std::thread::sleep(Duration::from_millis(5));
            }
            Err(e) => {
                let then = if e.raw_os_error() == Some(libc::EBUSY) {
                    "the next run removes it"
                } else {
                    "a run by a user who may remove it will"
                };
                tracing::warn!(
                    "cannot remove cgroup `{}`: {}; {then}",
                    dir.display(),
                    io_text(&e)
                );
                return;
            }
        }
    }
}

/// Whether this process may remove the entries of `dir` (rmdir needs write and search
/// permission on the parent), judged as the kernel would, with the effective ids.
fn may_remove_in(dir: &Path) -> bool {
    use nix::unistd::AccessFlags;
    nix::unistd::faccessat(
        nix::fcntl::AT_FDCWD,
        dir,
        AccessFlags::W_OK | AccessFlags::X_OK,
        nix::fcntl::AtFlags::AT_EACCESS,
    )
    .is_ok()
}

fn kill_members(dir: &Path, is_v2: bool) {
    if is_v2 && fs::write(dir.join("cgroup.kill"), "1").is_ok() {
        return;
    }
    if let Ok(procs) = fs::read_to_string(dir.join("cgroup.procs")) {
        for pid in procs.lines().filter_map(|l| l.trim().parse::<i32>().ok()) {
            let _ = nix::sys::signal::kill(
                nix::unistd::Pid::from_raw(pid),
                nix::sys::signal::Signal::SIGKILL,
            );
        }
    }
}

/// Removes the cgroups of syscage processes that are gone (killed before they could clean
/// up). `alive(owner)` says whether that syscage still runs; names that are not an
/// [`Owner`]'s are left alone, and so are the cgroups of a hierarchy this user may not
/// remove (root's, for an unprivileged run).
pub fn sweep(layout: &Layout, alive: &dyn Fn(&Owner) -> bool) -> usize {
    let mut removed = 0;
    for h in &layout.hierarchies {
        let parent = h.path().join("syscage");
        if !may_remove_in(&parent) {
            continue;
        }
        let Ok(entries) = fs::read_dir(&parent) else {
            continue;
        };
        for e in entries.flatten() {
            let name = e.file_name().to_string_lossy().into_owned();
            let Some(owner) = Owner::parse(&name) else {
                continue;
            };
            if e.path().is_dir() && !alive(&owner) {
                remove_dir(&e.path(), matches!(h, Hierarchy::V2 { .. }));
                if !e.path().exists() {
                    removed += 1;
                }
            }
        }
    }
    removed
}

/// The start time of a process (field 22 of `/proc/PID/stat`), `None` if it is gone.
pub fn process_start(pid: u32) -> Option<u64> {
    crate::sys::ProcStat::read(pid)?.start_time()
}

#[cfg(test)]
mod tests {
    use super::*;

    const HYBRID: &str = "\
25 1 0:22 / /sys/fs/cgroup rw,nosuid - tmpfs tmpfs rw,mode=755
26 25 0:23 / /sys/fs/cgroup/cpu rw,relatime - cgroup cgroup rw,cpu
27 25 0:24 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory
28 25 0:25 / /sys/fs/cgroup/pids rw,relatime - cgroup cgroup rw,pids
29 25 0:26 / /sys/fs/cgroup/systemd rw,relatime - cgroup cgroup rw,name=systemd
30 25 0:27 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw
";

    fn temp(name: &str) -> PathBuf {
        let d = std::env::temp_dir().join(format!("syscage-cg-{name}-{}", std::process::id()));
        let _ = fs::remove_dir_all(&d);
        fs::create_dir_all(&d).unwrap();
        d
    }

    #[test]
    fn reads_a_hybrid_layout() {
        let l = Layout::from_mountinfo(HYBRID);
        assert_eq!(l.hierarchies.len(), 5);
        assert_eq!(
            l.find(Controller::Memory),
            Some(&Hierarchy::V1 {
                path: "/sys/fs/cgroup/memory".into(),
                controllers: vec!["memory".into()]
            })
        );
        assert_eq!(
            l.hierarchies[4],
            Hierarchy::V2 {
                path: "/sys/fs/cgroup/unified".into()
            }
        );
    }

    #[test]
    fn writes_v1_limits_and_removes_them() {
        let root = temp("v1");
        for c in ["memory", "pids", "cpu"] {
            fs::create_dir_all(root.join(c)).unwrap();
        }
        let layout = Layout {
            hierarchies: ["memory", "pids", "cpu"]
                .iter()
                .map(|c| Hierarchy::V1 {
                    path: root.join(c),
                    controllers: vec![c.to_string()],
                })
                .collect(),
        };
        let limits = Limits {
            memory: Some(64 << 20),
            pids: Some(32),
            cpu: Some(CpuQuota {
                quota_us: 50_000,
                period_us: 100_000,
            }),
        };
        let mut cg = Cgroup::create(&layout, "1-2", &limits).unwrap();
        let read = |p: &str| fs::read_to_string(root.join(p)).unwrap();
        assert_eq!(read("memory/syscage/1-2/memory.limit_in_bytes"), "67108864");
        assert_eq!(read("pids/syscage/1-2/pids.max"), "32");
        assert_eq!(read("cpu/syscage/1-2/cpu.cfs_quota_us"), "50000");
        assert_eq!(read("cpu/syscage/1-2/cpu.cfs_period_us"), "100000");
        // On v1 the process joins by itself: `0` in `tasks` (a file cgroupfs makes).
        cg.add(4242).unwrap();
        assert!(!root.join("pids/syscage/1-2/cgroup.procs").exists());
        for c in ["memory", "pids", "cpu"] {
            fs::write(root.join(c).join("syscage/1-2/tasks"), "").unwrap();
        }
        let join = cg.self_join().unwrap();
        assert_eq!(join.fds().len(), 3);
        join.join("join").unwrap();
        for c in ["memory", "pids", "cpu"] {
            assert_eq!(read(&format!("{c}/syscage/1-2/tasks")), "0");
        }
        // A real cgroupfs directory is empty to rmdir; the temp one holds the files.
        for c in ["memory", "pids", "cpu"] {
            for f in fs::read_dir(root.join(c).join("syscage/1-2")).unwrap() {
                fs::remove_file(f.unwrap().path()).unwrap();
            }
        }
        cg.remove();
        assert!(!root.join("memory/syscage/1-2").exists());
        fs::remove_dir_all(&root).unwrap();
    }

    #[test]
    fn writes_v2_limits() {
        let root = temp("v2");
        fs::write(root.join("cgroup.controllers"), "cpu memory pids\n").unwrap();
        let layout = Layout {
            hierarchies: vec![Hierarchy::V2 { path: root.clone() }],
        };
        let limits = Limits {
            memory: Some(8 << 20),
            pids: Some(5),
            cpu: Some(CpuQuota {
                quota_us: 150_000,
                period_us: 100_000,
            }),
        };
        let cg = Cgroup::create(&layout, "7-8", &limits).unwrap();
        let read = |p: &str| fs::read_to_string(root.join(p)).unwrap();
        assert_eq!(read("syscage/7-8/memory.max"), "8388608");
        assert_eq!(read("syscage/7-8/pids.max"), "5");
        assert_eq!(read("syscage/7-8/cpu.max"), "150000 100000");
        assert_eq!(read("syscage/cgroup.subtree_control"), "+cpu");
        // On v2 this process moves the other: nothing for it to write itself.
        assert!(cg.self_join().unwrap().fds().is_empty());
        cg.add(4242).unwrap();
        assert_eq!(read("syscage/7-8/cgroup.procs"), "4242");
        std::mem::forget(cg);
        fs::remove_dir_all(&root).unwrap();
    }

    #[test]
    fn missing_controller_names_the_option() {
        let layout = Layout::default();
        let err = Cgroup::create(
            &layout,
            "1-1",
            &Limits {
                pids: Some(3),
                ..Limits::default()
            },
        )
        .unwrap_err();
        assert_eq!(
            err.to_string(),
            "--pids-limit: this machine has no `pids` cgroup controller (looked in the v1 mounts and the cgroup2 mount)"
        );
    }

    #[test]
    fn sweep_removes_only_dead_owners() {
        let root = temp("sweep");
        let layout = Layout {
            hierarchies: vec![Hierarchy::V1 {
                path: root.clone(),
                controllers: vec!["pids".into()],
            }],
        };
        for d in [
            "7-100-5",
            "7-200-6",
            "8-100-5",
            "not-ours",
            "7-100",
            "7-100-5-1",
        ] {
            fs::create_dir_all(root.join("syscage").join(d)).unwrap();
        }
        let me = Owner {
            pidns: 7,
            pid: 1,
            start: 1,
        };
        // In namespace 7 only pid 200 runs; namespace 8 is someone else's.
        let n = sweep(&layout, &|o| o.pidns != me.pidns || o.pid == 200);
        assert_eq!(n, 1);
        let left: Vec<String> = {
            let mut v: Vec<String> = fs::read_dir(root.join("syscage"))
                .unwrap()
                .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
                .collect();
            v.sort();
            v
        };
        assert_eq!(
            left,
            ["7-100", "7-100-5-1", "7-200-6", "8-100-5", "not-ours"]
        );
        fs::remove_dir_all(&root).unwrap();
    }

    #[test]
    fn owners_round_trip_and_other_namespaces_count_as_alive() {
        let me = Owner::me().unwrap();
        assert_eq!(Owner::parse(&me.name()), Some(me));
        assert!(me.alive_from(&me));
        let gone = Owner {
            start: me.start + 1,
            ..me
        };
        assert!(!gone.alive_from(&me));
        let elsewhere = Owner {
            pidns: me.pidns + 1,
            ..gone
        };
        assert!(elsewhere.alive_from(&me));
    }

    #[test]
    fn start_time_of_this_process() {
        assert!(process_start(std::process::id()).is_some());
        assert_eq!(process_start(u32::MAX), None);
    }
}
