//! An OCI container's cgroup: `linux.cgroupsPath` in every hierarchy the host mounts (each
//! cgroup v1 controller, named ones such as `name=systemd`, and the cgroup2 mount, as
//! runc places a container on a hybrid host), with `linux.resources` written to the
//! controllers that hold them. conmon and containerd's shim find the container's memory
//! cgroup (OOM events, metrics) from `/proc/PID/cgroup`, and `ps`, `kill --all`, `pause`
//! and `update` work on these directories.
//!
//! An absolute `cgroupsPath` is taken from each hierarchy's root, a relative one from this
//! process's own cgroup there (as runc does); none: `/syscage-oci/<id>`. These cgroups
//! are never under the `syscage/` directory whose leftovers `syscage run` sweeps. The
//! parents made on the way are left in place, as runc leaves them.
//!
//! Every function takes the hierarchies explicitly, so the tests run on a temporary
//! directory.

use crate::cgroup::{Hierarchy, Layout};
use crate::lifecycle::statedir::CgroupDir;
use std::fs;
use std::io::{self, ErrorKind};
use std::os::fd::RawFd;
use std::path::{Component, Path, PathBuf};
use syscage_oci::config::{DeviceRule, Resources};
use syscage_policy::errno::io_text;
use thiserror::Error;

#[derive(Debug, Error)]
pub enum CgroupError {
    #[error("linux.cgroupsPath `{0}`: systemd's `slice:prefix:name` form needs --systemd-cgroup; give a path such as `/machine/c1`")]
    SystemdForm(String),
    #[error("cannot create cgroup `{path}`: {}", io_text(.source))]
    Create { path: String, source: io::Error },
    #[error("cannot write `{value}` to `{path}`: {}{hint}", io_text(.source))]
    Write {
        path: String,
        value: String,
        source: io::Error,
        hint: &'static str,
    },
    #[error("{field}: this host has no `{controller}` cgroup controller")]
    NoController {
        field: &'static str,
        controller: &'static str,
    },
    #[error("cannot read `{path}`: {}", io_text(.source))]
    Read { path: String, source: io::Error },
    #[error("the cgroup mounts are unreadable: {0}")]
    Layout(String),
}

/// The directories of a container's cgroup, one per hierarchy.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Placement {
    pub dirs: Vec<CgroupDir>,
}

/// This process's cgroup in each hierarchy, from `/proc/self/cgroup` text: v1 lines by
/// their controllers (or `name=`), the cgroup2 line `0::`.
fn own_path(h: &Hierarchy, proc_cgroup: &str) -> PathBuf {
    let wanted: Vec<String> = match h {
        Hierarchy::V2 { .. } => vec![String::new()],
        Hierarchy::V1 { controllers, path } if controllers.is_empty() => {
            vec![format!(
                "name={}",
                path.file_name()
                    .map(|n| n.to_string_lossy())
                    .unwrap_or_default()
            )]
        }
        Hierarchy::V1 { controllers, .. } => controllers.clone(),
    };
    for line in proc_cgroup.lines() {
        let mut f = line.splitn(3, ':');
        let (Some(_), Some(ctl), Some(p)) = (f.next(), f.next(), f.next()) else {
            continue;
        };
        let set: Vec<&str> = ctl.split(',').collect();
        let hit = match h {
            Hierarchy::V2 { .. } => ctl.is_empty(),
            _ => wanted.iter().any(|w| set.contains(&w.as_str())),
        };
        if hit {
            return PathBuf::from(p);
        }
    }
    PathBuf::from("/")
}

/// Where `cgroups_path` puts the container in each hierarchy of `layout`.
pub fn place(
    layout: &Layout,
    cgroups_path: Option<&str>,
    id: &str,
    proc_cgroup: &str,
) -> Result<Placement, CgroupError> {
    let given = cgroups_path.filter(|p| !p.is_empty());
    if let Some(p) = given {
        if !p.contains('/') && p.split(':').count() == 3 {
            return Err(CgroupError::SystemdForm(p.to_string()));
        }
    }
    let rel = given.map_or_else(|| format!("/syscage-oci/{id}"), str::to_string);
    let mut dirs = Vec::new();
    for h in &layout.hierarchies {
        let base = if rel.starts_with('/') {
            PathBuf::from("/")
        } else {
            own_path(h, proc_cgroup)
        };
        let mut path = h.path().to_path_buf();
        for c in base.join(&rel).components() {
            if let Component::Normal(n) = c {
                path.push(n);
            }
        }
        if path == h.path() {
            // The root cgroup itself is never a container's.
            return Err(CgroupError::Create {
                path: path.display().to_string(),
                source: io::Error::from(ErrorKind::AlreadyExists),
            });
        }
        let (v2, controllers) = match h {
            Hierarchy::V2 { .. } => (true, vec![]),
            Hierarchy::V1 { controllers, .. } => (false, controllers.clone()),
        };
        dirs.push(CgroupDir {
            path,
            v2,
            controllers,
        });
    }
    Ok(Placement { dirs })
}

fn write(path: &Path, value: &str) -> Result<(), CgroupError> {
    fs::write(path, value).map_err(|source| CgroupError::Write {
        path: path.display().to_string(),
        value: value.to_string(),
        hint: if source.raw_os_error() == Some(libc::EBUSY) {
            "; hint: a memory limit below what the container uses now cannot be set"
        } else {
            ""
        },
        source,
    })
}

impl Placement {
    /// Makes the directories (and their parents: cpuset ones get their parent's CPUs and
    /// memory nodes, which a new v1 cpuset lacks), then writes `resources`. On failure,
    /// what was made is removed.
    pub fn create(&self, resources: Option<&Resources>) -> Result<(), CgroupError> {
        let made = self.mkdirs();
        let r = made.and_then(|()| match resources {
            Some(r) => self.apply(r, true),
            None => Ok(()),
        });
        if r.is_err() {
            self.remove();
        }
        r
    }

    fn mkdirs(&self) -> Result<(), CgroupError> {
        for d in &self.dirs {
            let mut missing = Vec::new();
            let mut p = d.path.as_path();
            while !p.exists() {
                missing.push(p.to_path_buf());
                match p.parent() {
                    Some(parent) => p = parent,
                    None => break,
                }
            }
            for m in missing.into_iter().rev() {
                match fs::create_dir(&m) {
                    Ok(()) => {}
                    Err(e) if e.kind() == ErrorKind::AlreadyExists => {}
                    Err(source) => {
                        return Err(CgroupError::Create {
                            path: m.display().to_string(),
                            source,
                        })
                    }
                }
                if d.controllers.iter().any(|c| c == "cpuset") {
                    for f in ["cpuset.cpus", "cpuset.mems"] {
                        let mine = fs::read_to_string(m.join(f)).unwrap_or_default();
                        if mine.trim().is_empty() {
                            if let Some(parent) = m.parent() {
                                let v = fs::read_to_string(parent.join(f)).unwrap_or_default();
                                write(&m.join(f), v.trim())?;
                            }
                        }
                    }
                }
            }
        }
        Ok(())
    }

    /// Moves a process into the cgroup2 directory, if there is one; the v1 ones a new
    /// process joins itself, through [`Placement::self_join`].
    pub fn add(&self, pid: i32) -> Result<(), CgroupError> {
        for d in self.dirs.iter().filter(|d| d.v2) {
            write(&d.path.join("cgroup.procs"), &pid.to_string())?;
        }
        Ok(())
    }

    /// The `tasks` files of the v1 directories, opened at fd `min` or above, for the
    /// process about to be cloned to write itself into (see [`crate::cgroup::SelfJoin`]).
    pub fn self_join(&self, min: RawFd) -> Result<crate::cgroup::SelfJoin, CgroupError> {
        crate::cgroup::SelfJoin::open(
            self.dirs.iter().filter(|d| !d.v2).map(|d| d.path.as_path()),
            min,
        )
        .map_err(|(path, source)| CgroupError::Write {
            path: path.display().to_string(),
            value: "0".into(),
            source,
            hint: "",
        })
    }

    /// Removes the directories, killing what is left in them (for a second at most each).
    pub fn remove(&self) {
        for d in &self.dirs {
            crate::cgroup::remove_dir(&d.path, d.v2);
        }
    }

    /// The directory of the hierarchy holding `controller` (a v1 one naming it, else the
    /// cgroup2 one when its root lists it), if any.
    pub fn dir_for(&self, controller: &str) -> Option<&CgroupDir> {
        self.dirs
            .iter()
            .find(|d| d.controllers.iter().any(|c| c == controller))
            .or_else(|| {
                self.dirs
                    .iter()
                    .find(|d| d.v2 && v2_root_has(&d.path, controller))
            })
    }

    /// The pids in the container's cgroup (from the first hierarchy that has it; every
    /// hierarchy holds the same processes).
    pub fn pids(&self) -> Result<Vec<i32>, CgroupError> {
        let Some(d) = self.dirs.first() else {
            return Ok(vec![]);
        };
        let p = d.path.join("cgroup.procs");
        let text = match fs::read_to_string(&p) {
            Ok(t) => t,
            Err(e) if e.kind() == ErrorKind::NotFound => return Ok(vec![]),
            Err(source) => {
                return Err(CgroupError::Read {
                    path: p.display().to_string(),
                    source,
                })
            }
        };
        Ok(text.lines().filter_map(|l| l.trim().parse().ok()).collect())
    }

    /// Writes `r` (at `create`, or `update`: then only what it sets changes).
    pub fn apply(&self, r: &Resources, at_create: bool) -> Result<(), CgroupError> {
        if let Some(m) = &r.memory {
            let d = self.need("linux.resources.memory", "memory")?;
            if d.v2 {
                if let Some(l) = m.limit {
                    write(&d.path.join("memory.max"), &v2_limit(l))?;
                }
                if let (Some(s), l) = (m.swap, m.limit) {
                    // cgroup2 counts swap alone; the spec's `swap` is memory plus swap.
                    let swap = match (s, l) {
                        (s, _) if s < 0 => "max".to_string(),
                        (s, Some(l)) if l > 0 => (s - l).max(0).to_string(),
                        (s, _) => s.to_string(),
                    };
                    write(&d.path.join("memory.swap.max"), &swap)?;
                }
                if let Some(r) = m.reservation {
                    write(&d.path.join("memory.low"), &v2_limit(r))?;
                }
            } else {
                let memsw = d.path.join("memory.memsw.limit_in_bytes");
                let limit = d.path.join("memory.limit_in_bytes");
                // memory+swap may never be below memory: raise memsw first when it grows.
                let current = fs::read_to_string(&limit)
                    .ok()
                    .and_then(|s| s.trim().parse::<i64>().ok())
                    .unwrap_or(i64::MAX);
                let swap_first = m.swap.is_some_and(|s| s < 0 || s >= current);
                if swap_first && memsw.exists() {
                    if let Some(s) = m.swap {
                        write(&memsw, &s.to_string())?;
                    }
                }
                if let Some(l) = m.limit {
                    write(&limit, &l.to_string())?;
                }
                if !swap_first && memsw.exists() {
                    if let Some(s) = m.swap {
                        write(&memsw, &s.to_string())?;
                    }
                }
                if let Some(r) = m.reservation {
                    write(&d.path.join("memory.soft_limit_in_bytes"), &r.to_string())?;
                }
                if let Some(s) = m.swappiness {
                    write(&d.path.join("memory.swappiness"), &s.to_string())?;
                }
                if m.disable_oom_killer == Some(true) {
                    write(&d.path.join("memory.oom_control"), "1")?;
                }
            }
        }
        if let Some(p) = &r.pids {
            let d = self.need("linux.resources.pids", "pids")?;
            let v = if p.limit <= 0 {
                "max".to_string()
            } else {
                p.limit.to_string()
            };
            write(&d.path.join("pids.max"), &v)?;
        }
        if let Some(c) = &r.cpu {
            self.cpu(c)?;
        }
        if let Some(devs) = &r.devices {
            self.devices(devs, at_create)?;
        } else if at_create {
            self.devices(&[], true)?;
        }
        if let Some(b) = &r.block_io {
            self.block_io(b)?;
        }
        for h in r.hugepage_limits.iter().flatten() {
            let d = self.need("linux.resources.hugepageLimits", "hugetlb")?;
            let file = if d.v2 {
                format!("hugetlb.{}.max", h.page_size)
            } else {
                format!("hugetlb.{}.limit_in_bytes", h.page_size)
            };
            write(&d.path.join(file), &h.limit.to_string())?;
        }
        if let Some(n) = &r.network {
            if let Some(id) = n.class_id {
                let d = self.need("linux.resources.network.classID", "net_cls")?;
                write(&d.path.join("net_cls.classid"), &id.to_string())?;
            }
            for p in n.priorities.iter().flatten() {
                let d = self.need("linux.resources.network.priorities", "net_prio")?;
                write(
                    &d.path.join("net_prio.ifpriomap"),
                    &format!("{} {}", p.name, p.priority),
                )?;
            }
        }
        Ok(())
    }

    fn need(
        &self,
        field: &'static str,
        controller: &'static str,
    ) -> Result<&CgroupDir, CgroupError> {
        self.dir_for(controller)
            .ok_or(CgroupError::NoController { field, controller })
    }

    fn cpu(&self, c: &syscage_oci::config::Cpu) -> Result<(), CgroupError> {
        let any_cpu = c.shares.is_some()
            || c.quota.is_some()
            || c.period.is_some()
            || c.realtime_runtime.is_some()
            || c.realtime_period.is_some()
            || c.burst.is_some()
            || c.idle.is_some();
        if any_cpu {
            let d = self.need("linux.resources.cpu", "cpu")?;
            if d.v2 {
                if let Some(s) = c.shares.filter(|s| *s > 0) {
                    // runc's conversion of shares (2..262144) to a weight (1..10000).
                    let w = 1 + ((s.clamp(2, 262_144) - 2) * 9999) / 262_142;
                    write(&d.path.join("cpu.weight"), &w.to_string())?;
                }
                if c.quota.is_some() || c.period.is_some() {
                    let q = match c.quota {
                        Some(q) if q > 0 => q.to_string(),
                        _ => "max".into(),
                    };
                    let p = c.period.filter(|p| *p > 0).unwrap_or(100_000);
                    write(&d.path.join("cpu.max"), &format!("{q} {p}"))?;
                }
                if let Some(i) = c.idle {
                    write(&d.path.join("cpu.idle"), &i.to_string())?;
                }
            } else {
                if let Some(s) = c.shares.filter(|s| *s > 0) {
                    write(&d.path.join("cpu.shares"), &s.to_string())?;
                }
                if let Some(p) = c.period.filter(|p| *p > 0) {
                    write(&d.path.join("cpu.cfs_period_us"), &p.to_string())?;
                }
                if let Some(q) = c.quota.filter(|q| *q != 0) {
                    write(&d.path.join("cpu.cfs_quota_us"), &q.to_string())?;
                }
                if let Some(p) = c.realtime_period.filter(|p| *p > 0) {
                    write(&d.path.join("cpu.rt_period_us"), &p.to_string())?;
                }
                if let Some(r) = c.realtime_runtime.filter(|r| *r != 0) {
                    write(&d.path.join("cpu.rt_runtime_us"), &r.to_string())?;
                }
            }
        }
        for (field, file, v) in [
            ("linux.resources.cpu.cpus", "cpuset.cpus", &c.cpus),
            ("linux.resources.cpu.mems", "cpuset.mems", &c.mems),
        ] {
            if let Some(v) = v.as_deref().filter(|v| !v.is_empty()) {
                let d = self.need(field, "cpuset")?;
                write(&d.path.join(file), v)?;
            }
        }
        Ok(())
    }

    /// The device cgroup (v1): the configuration's rules, then the devices every
    /// container has (as runc adds them): mknod of any node, null, zero, full, random,
    /// urandom, tty, console, ptmx and the ptys. On cgroup2 the device controller is an
    /// eBPF program syscage does not load: there the container's `/dev` (nodev, with only
    /// the nodes syscage binds) is the wall.
    fn devices(&self, rules: &[DeviceRule], with_defaults: bool) -> Result<(), CgroupError> {
        let Some(d) = self
            .dirs
            .iter()
            .find(|d| d.controllers.iter().any(|c| c == "devices"))
        else {
            return Ok(());
        };
        let mut all: Vec<(bool, String)> = rules.iter().map(|r| (r.allow, rule_text(r))).collect();
        if with_defaults {
            for (t, maj, min) in [('c', "*", "*"), ('b', "*", "*")] {
                all.push((true, format!("{t} {maj}:{min} m")));
            }
            for (maj, min) in [
                ("1", "3"),
                ("1", "5"),
                ("1", "7"),
                ("1", "8"),
                ("1", "9"),
                ("5", "0"),
                ("5", "1"),
                ("5", "2"),
                ("136", "*"),
            ] {
                all.push((true, format!("c {maj}:{min} rwm")));
            }
        }
        for (allow, text) in all {
            let file = if allow {
                "devices.allow"
            } else {
                "devices.deny"
            };
            write(&d.path.join(file), &text)?;
        }
        Ok(())
    }

    fn block_io(&self, b: &syscage_oci::config::BlockIo) -> Result<(), CgroupError> {
        let d = self.need("linux.resources.blockIO", "blkio")?;
        let w = |name: &str, v: String| write(&d.path.join(name), &v);
        if let Some(x) = b.weight.filter(|x| *x > 0) {
            w("blkio.weight", x.to_string())?;
        }
        if let Some(x) = b.leaf_weight.filter(|x| *x > 0) {
            w("blkio.leaf_weight", x.to_string())?;
        }
        for wd in b.weight_device.iter().flatten() {
            if let Some(x) = wd.weight {
                w(
                    "blkio.weight_device",
                    format!("{}:{} {x}", wd.major, wd.minor),
                )?;
            }
            if let Some(x) = wd.leaf_weight {
                w(
                    "blkio.leaf_weight_device",
                    format!("{}:{} {x}", wd.major, wd.minor),
                )?;
            }
        }
        for (file, list) in [
            (
                "blkio.throttle.read_bps_device",
                &b.throttle_read_bps_device,
            ),
            (
                "blkio.throttle.write_bps_device",
                &b.throttle_write_bps_device,
            ),
            (
                "blkio.throttle.read_iops_device",
                &b.throttle_read_iops_device,
            ),
            (
                "blkio.throttle.write_iops_device",
                &b.throttle_write_iops_device,
            ),
        ] {
            for t in list.iter().flatten() {
                w(file, format!("{}:{} {}", t.major, t.minor, t.rate))?;
            }
        }
        Ok(())
    }

    /// Freezes (or thaws) the container: v1 `freezer.state`, cgroup2 `cgroup.freeze`;
    /// waits until the kernel says it is done.
    pub fn freeze(&self, frozen: bool) -> Result<(), CgroupError> {
        let d = self
            .dirs
            .iter()
            .find(|d| d.controllers.iter().any(|c| c == "freezer"))
            .or_else(|| self.dirs.iter().find(|d| d.v2))
            .ok_or(CgroupError::NoController {
                field: "pause",
                controller: "freezer",
            })?;
        if d.v2 {
            write(
                &d.path.join("cgroup.freeze"),
                if frozen { "1" } else { "0" },
            )?;
            // cgroup.events says `frozen 1` once every task is stopped.
            let want = if frozen { "frozen 1" } else { "frozen 0" };
            return wait_for(&d.path.join("cgroup.events"), |t| {
                t.lines().any(|l| l == want)
            });
        }
        let (set, want) = if frozen {
            ("FROZEN", "FROZEN")
        } else {
            ("THAWED", "THAWED")
        };
        let state = d.path.join("freezer.state");
        write(&state, set)?;
        wait_for(&state, |t| t.trim() == want)
    }

    /// Whether the container is frozen.
    pub fn frozen(&self) -> bool {
        if let Some(d) = self
            .dirs
            .iter()
            .find(|d| d.controllers.iter().any(|c| c == "freezer"))
        {
            return fs::read_to_string(d.path.join("freezer.state"))
                .is_ok_and(|s| s.trim() == "FROZEN");
        }
        self.dirs.iter().find(|d| d.v2).is_some_and(|d| {
            fs::read_to_string(d.path.join("cgroup.events"))
                .is_ok_and(|t| t.lines().any(|l| l == "frozen 1"))
        })
    }
}

/// Rereads `path` until `done` says so; the kernel freezes within milliseconds, and a
/// task stuck in an uninterruptible sleep keeps a v1 freezer FREEZING: then, after 2 s,
/// the freeze is undone and that is the error.
fn wait_for(path: &Path, done: impl Fn(&str) -> bool) -> Result<(), CgroupError> {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(2);
    loop {
        let t = fs::read_to_string(path).map_err(|source| CgroupError::Read {
            path: path.display().to_string(),
            source,
        })?;
        if done(&t) {
            return Ok(());
        }
        if std::time::Instant::now() > deadline {
            return Err(CgroupError::Write {
                path: path.display().to_string(),
                value: t.trim().to_string(),
                source: io::Error::from(ErrorKind::TimedOut),
                hint: "; hint: a process of the container is in an uninterruptible sleep",
            });
        }
        std::thread::sleep(std::time::Duration::from_millis(1));
    }
}

fn v2_limit(v: i64) -> String {
    if v < 0 {
        "max".into()
    } else {
        v.to_string()
    }
}

fn v2_root_has(dir: &Path, controller: &str) -> bool {
    // The controllers a cgroup2 directory may use are those its parent enables; the
    // hierarchy's root lists what the host has.
    let Some(p) = dir
        .ancestors()
        .filter(|a| a.join("cgroup.controllers").exists())
        .last()
    else {
        return false;
    };
    fs::read_to_string(p.join("cgroup.controllers"))
        .is_ok_and(|s| s.split_whitespace().any(|c| c == controller))
}

/// `c 1:3 rwm` for a device rule.
fn rule_text(r: &DeviceRule) -> String {
    let t = r.kind.as_deref().unwrap_or("a");
    let n = |v: Option<i64>| match v {
        Some(x) if x >= 0 => x.to_string(),
        _ => "*".into(),
    };
    if t == "a" {
        return format!("a *:* {}", r.access.as_deref().unwrap_or("rwm"));
    }
    format!(
        "{t} {}:{} {}",
        n(r.major),
        n(r.minor),
        r.access.as_deref().unwrap_or("rwm")
    )
}

/// The cgroup layout of this host, as an OCI command error.
pub fn layout() -> Result<Layout, CgroupError> {
    Layout::detect().map_err(|e| CgroupError::Layout(e.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn temp(name: &str) -> PathBuf {
        let d = std::env::temp_dir().join(format!("syscage-ocicg-{name}-{}", std::process::id()));
        let _ = fs::remove_dir_all(&d);
        fs::create_dir_all(&d).unwrap();
        d
    }

    fn v1(root: &Path, names: &[&str]) -> Layout {
        Layout {
            hierarchies: names
                .iter()
                .map(|c| {
                    fs::create_dir_all(root.join(c)).unwrap();
                    Hierarchy::V1 {
                        path: root.join(c),
                        controllers: if *c == "systemd" {
                            vec![]
                        } else {
                            c.split(',').map(str::to_string).collect()
                        },
                    }
                })
                .chain(std::iter::once(Hierarchy::V2 {
                    path: root.join("unified"),
                }))
                .collect(),
        }
    }

    const SELF: &str = "9:name=systemd:/user\n4:memory:/m/n\n1:cpu,cpuacct:/c\n0::/u2\n";

    #[test]
    fn paths_absolute_relative_and_default() {
        let root = temp("place");
        let l = v1(&root, &["memory", "cpu,cpuacct", "systemd"]);
        let p = place(&l, Some("/libpod_parent/libpod-x"), "x", SELF).unwrap();
        let got: Vec<PathBuf> = p.dirs.iter().map(|d| d.path.clone()).collect();
        assert_eq!(
            got,
            vec![
                root.join("memory/libpod_parent/libpod-x"),
                root.join("cpu,cpuacct/libpod_parent/libpod-x"),
                root.join("systemd/libpod_parent/libpod-x"),
                root.join("unified/libpod_parent/libpod-x"),
            ]
        );
        let p = place(&l, Some("a/b"), "x", SELF).unwrap();
        let got: Vec<PathBuf> = p.dirs.iter().map(|d| d.path.clone()).collect();
        assert_eq!(
            got,
            vec![
                root.join("memory/m/n/a/b"),
                root.join("cpu,cpuacct/c/a/b"),
                root.join("systemd/user/a/b"),
                root.join("unified/u2/a/b"),
            ]
        );
        let p = place(&l, None, "c9", SELF).unwrap();
        assert_eq!(p.dirs[0].path, root.join("memory/syscage-oci/c9"));
        assert_eq!(
            place(&l, Some("machine.slice:libpod:x"), "x", SELF)
                .unwrap_err()
                .to_string(),
            "linux.cgroupsPath `machine.slice:libpod:x`: systemd's `slice:prefix:name` form needs --systemd-cgroup; give a path such as `/machine/c1`"
        );
        fs::remove_dir_all(&root).unwrap();
    }

    #[test]
    fn v1_resources_devices_and_cpuset_parents() {
        let root = temp("v1");
        let l = v1(&root, &["memory", "pids", "devices", "cpu", "cpuset"]);
        fs::write(root.join("cpuset/cpuset.cpus"), "0-1\n").unwrap();
        fs::write(root.join("cpuset/cpuset.mems"), "0\n").unwrap();
        let p = place(&l, Some("/parent/c1"), "c1", "").unwrap();
        let r: Resources = serde_json::from_str(
            r#"{"memory":{"limit":67108864,"swap":134217728},"pids":{"limit":100},
                "cpu":{"shares":512,"quota":50000,"period":100000},
                "devices":[{"allow":false,"access":"rwm"},{"allow":true,"type":"c","major":10,"minor":229,"access":"rw"}]}"#,
        )
        .unwrap();
        // The temporary tree has no memsw file: swap accounting off.
        p.create(Some(&r)).unwrap();
        let read = |f: &str| fs::read_to_string(root.join(f)).unwrap();
        assert_eq!(read("memory/parent/c1/memory.limit_in_bytes"), "67108864");
        assert_eq!(read("pids/parent/c1/pids.max"), "100");
        assert_eq!(read("cpu/parent/c1/cpu.shares"), "512");
        assert_eq!(read("cpu/parent/c1/cpu.cfs_quota_us"), "50000");
        // A plain file keeps the last write: the defaults come after the config's rules.
        assert_eq!(read("devices/parent/c1/devices.deny"), "a *:* rwm");
        assert_eq!(read("devices/parent/c1/devices.allow"), "c 136:* rwm");
        // The parent made on the way got its CPUs and memory nodes from the root.
        assert_eq!(read("cpuset/parent/cpuset.cpus"), "0-1");
        assert_eq!(read("cpuset/parent/c1/cpuset.mems"), "0");
        assert!(root.join("unified/parent/c1").is_dir());
        assert_eq!(rule_text(&r.devices.as_ref().unwrap()[1]), "c 10:229 rw");
        // A controller the host lacks is named with the field that asked for it.
        let h: Resources =
            serde_json::from_str(r#"{"hugepageLimits":[{"pageSize":"2MB","limit":1}]}"#).unwrap();
        assert_eq!(
            p.apply(&h, false).unwrap_err().to_string(),
            "linux.resources.hugepageLimits: this host has no `hugetlb` cgroup controller"
        );
        fs::remove_dir_all(&root).unwrap();
    }

    #[test]
    fn v2_limits_convert_swap_and_shares() {
        let root = temp("v2");
        fs::write(root.join("cgroup.controllers"), "cpu memory pids\n").unwrap();
        let l = Layout {
            hierarchies: vec![Hierarchy::V2 { path: root.clone() }],
        };
        let p = place(&l, Some("/k/c2"), "c2", "").unwrap();
        let r: Resources = serde_json::from_str(
            r#"{"memory":{"limit":100,"swap":300},"cpu":{"shares":1024,"quota":-1},"pids":{"limit":-1}}"#,
        )
        .unwrap();
        p.mkdirs().unwrap();
        p.apply(&r, false).unwrap();
        let read = |f: &str| fs::read_to_string(root.join("k/c2").join(f)).unwrap();
        assert_eq!(read("memory.max"), "100");
        assert_eq!(read("memory.swap.max"), "200");
        assert_eq!(read("cpu.weight"), "39");
        assert_eq!(read("cpu.max"), "max 100000");
        assert_eq!(read("pids.max"), "max");
        fs::remove_dir_all(&root).unwrap();
    }
}
