//! The container's file system, as a list of operations computed from the configuration
//! (pure, unit-tested) and executed in order by one function through the [`MountHost`]
//! trait, as bubblewrap executes its setup operations.
//!
//! Everything happens in the container's own mount namespace, after `/` has been made a
//! recursive slave: nothing mounted here can propagate to the host, and every mount
//! disappears with the namespace, whatever happens to syscage.

use crate::config::Volume;
use nix::errno::Errno;
use std::path::{Component, Path, PathBuf};

/// Where an operation acts: a path on the host as the child sees it before `pivot_root`,
/// or a path inside the new root, which is resolved without ever leaving it (a symlink in
/// the root file system cannot send a mount or a `mkdir` to the host).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Loc {
    Host(PathBuf),
    Root(PathBuf),
}

impl Loc {
    fn root(p: &str) -> Loc {
        Loc::Root(PathBuf::from(p))
    }

    fn shown(&self) -> String {
        match self {
            Loc::Host(p) | Loc::Root(p) => format!("`{}`", p.display()),
        }
    }
}

/// The file systems syscage mounts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fs {
    Proc,
    Tmpfs,
    Devpts,
}

impl Fs {
    pub fn name(self) -> &'static str {
        match self {
            Fs::Proc => "proc",
            Fs::Tmpfs => "tmpfs",
            Fs::Devpts => "devpts",
        }
    }
}

/// One set-up operation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Op {
    /// `mount --make-rslave /`: host mounts still propagate in, nothing propagates out.
    MakeRootSlave,
    Mkdir(Loc),
    /// Creates an empty file to bind a file onto.
    Touch(Loc),
    Bind {
        src: Loc,
        dst: Loc,
    },
    /// Mounts a fresh file system; `flags` are MS_* bits, `data` its options.
    Mount {
        fs: Fs,
        dst: Loc,
        flags: u64,
        data: String,
    },
    /// sysfs, read-only; in a user namespace where that is refused, the host's `/sys`
    /// bound read-only instead.
    Sysfs(Loc),
    /// This mount and all below it `nodev` (device nodes made in the container stay
    /// inert), and read-only when asked.
    Restrict {
        loc: Loc,
        read_only: bool,
    },
    Symlink {
        target: PathBuf,
        link: Loc,
    },
    /// Hides a file behind the container's `/dev/null`, if it exists.
    MaskFile(Loc),
    /// Hides a directory behind an empty read-only tmpfs, if it exists.
    MaskDir(Loc),
    /// Binds an existing path onto itself read-only (`/proc/sys`...), if it exists.
    ReadOnlyPath(Loc),
    /// `pivot_root` into the new root and detach the old one.
    PivotRoot,
}

impl Op {
    /// What the operation does, for error messages: "mount `proc` on `/proc`".
    pub fn describe(&self) -> String {
        match self {
            Op::MakeRootSlave => "make `/` a recursive slave mount".to_string(),
            Op::Mkdir(l) => format!("create directory {}", l.shown()),
            Op::Touch(l) => format!("create file {}", l.shown()),
            Op::Bind { src, dst } => format!("bind {} on {}", src.shown(), dst.shown()),
            Op::Mount { fs, dst, .. } => format!("mount `{}` on {}", fs.name(), dst.shown()),
            Op::Sysfs(l) => format!("mount `sysfs` on {}", l.shown()),
            Op::Restrict {
                loc,
                read_only: true,
            } => format!("make {} read-only and nodev", loc.shown()),
            Op::Restrict {
                loc,
                read_only: false,
            } => format!("make {} nodev", loc.shown()),
            Op::Symlink { target, link } => {
                format!("link {} to `{}`", link.shown(), target.display())
            }
            Op::MaskFile(l) | Op::MaskDir(l) => format!("mask {}", l.shown()),
            Op::ReadOnlyPath(l) => format!("make {} read-only", l.shown()),
            Op::PivotRoot => "pivot_root into the new root".to_string(),
        }
    }
}

/// What the plan depends on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MountConfig {
    /// `--rootfs`, canonical; `None` for the host's `/` read-only.
    pub rootfs: Option<PathBuf>,
    pub read_only: bool,
    pub volumes: Vec<Volume>,
    /// `--tmpfs`: fresh tmpfs mounts at these container paths.
    pub tmpfs: Vec<PathBuf>,
    /// The group of `/dev/pts/*` (Docker: 5, `tty`), when that gid exists in the container.
    pub devpts_gid: Option<u32>,
}

/// Where the host's `/` is staged when there is no `--rootfs`: a tmpfs mounted over `/tmp`
/// in the container's mount namespace only.
pub const STAGING: &str = "/tmp";
const STAGED_ROOT: &str = "/tmp/.syscage-root";

const MS_NOSUID: u64 = libc::MS_NOSUID;
const MS_NODEV: u64 = libc::MS_NODEV;
const MS_NOEXEC: u64 = libc::MS_NOEXEC;
const MS_STRICTATIME: u64 = libc::MS_STRICTATIME;

/// Devices bound from the host into the container's `/dev`.
pub const DEVICES: &[&str] = &["null", "zero", "full", "random", "urandom", "tty"];

/// Files Docker hides in `/proc` and `/sys` (moby `oci/defaults.go`): kernel memory, keys,
/// timers and firmware a container has no business reading.
pub const MASKED: &[&str] = &[
    "/proc/asound",
    "/proc/acpi",
    "/proc/interrupts",
    "/proc/kcore",
    "/proc/keys",
    "/proc/latency_stats",
    "/proc/timer_list",
    "/proc/timer_stats",
    "/proc/sched_debug",
    "/proc/scsi",
    "/sys/firmware",
    "/sys/devices/virtual/powercap",
];

/// Paths Docker makes read-only in `/proc`.
pub const READ_ONLY: &[&str] = &[
    "/proc/bus",
    "/proc/fs",
    "/proc/irq",
    "/proc/sys",
    "/proc/sysrq-trigger",
];

/// The new root as the child sees it before `pivot_root`.
pub fn new_root(cfg: &MountConfig) -> PathBuf {
    cfg.rootfs
        .clone()
        .unwrap_or_else(|| PathBuf::from(STAGED_ROOT))
}

/// The operations, in order.
pub fn plan(cfg: &MountConfig) -> Vec<Op> {
    let mut ops = vec![Op::MakeRootSlave];
    let root = new_root(cfg);
    let users = user_mounts(cfg);
    match &cfg.rootfs {
        Some(r) => {
            // pivot_root needs the new root to be a mount point.
            ops.push(Op::Bind {
                src: Loc::Host(r.clone()),
                dst: Loc::Host(r.clone()),
            });
            // Mount points are created before the root may become read-only.
            for d in ["/proc", "/dev", "/sys"] {
                ops.push(Op::Mkdir(Loc::root(d)));
            }
            if cfg.read_only {
                for d in ["/tmp", "/run"] {
                    ops.push(Op::Mkdir(Loc::root(d)));
                }
            }
            // Those of user mounts nested in another mount are made later, in it.
            for m in &users {
                if !m.nested {
                    ops.push(m.mount_point());
                }
            }
            // Before /dev gets its device binds, which must keep working.
            ops.push(Op::Restrict {
                loc: Loc::Host(r.clone()),
                read_only: cfg.read_only,
            });
        }
        None => {
            ops.push(Op::Mount {
                fs: Fs::Tmpfs,
                dst: Loc::Host(PathBuf::from(STAGING)),
                flags: MS_NOSUID | MS_NODEV,
                data: "mode=0700".to_string(),
            });
            ops.push(Op::Mkdir(Loc::Host(root.clone())));
            ops.push(Op::Bind {
                src: Loc::Host(PathBuf::from("/")),
                dst: Loc::Host(root.clone()),
            });
            ops.push(Op::Restrict {
                loc: Loc::Host(root.clone()),
                read_only: true,
            });
        }
    }

    ops.push(Op::Mount {
        fs: Fs::Proc,
        dst: Loc::root("/proc"),
        flags: MS_NOSUID | MS_NODEV | MS_NOEXEC,
        data: String::new(),
    });

    // /dev: a small tmpfs with the host's harmless devices bound in, and private ptys.
    // nodev: the devices below are bind mounts with their own flags; a node made here
    // with mknod stays inert.
    ops.push(Op::Mount {
        fs: Fs::Tmpfs,
        dst: Loc::root("/dev"),
        flags: MS_NOSUID | MS_NODEV | MS_STRICTATIME,
        data: "mode=755,size=65536k".to_string(),
    });
    for d in DEVICES {
        let p = format!("/dev/{d}");
        ops.push(Op::Touch(Loc::root(&p)));
        ops.push(Op::Bind {
            src: Loc::Host(PathBuf::from(&p)),
            dst: Loc::root(&p),
        });
    }
    ops.push(Op::Mkdir(Loc::root("/dev/pts")));
    let mut pts = "newinstance,ptmxmode=0666,mode=0620".to_string();
    if let Some(g) = cfg.devpts_gid {
        pts.push_str(&format!(",gid={g}"));
    }
    ops.push(Op::Mount {
        fs: Fs::Devpts,
        dst: Loc::root("/dev/pts"),
        flags: MS_NOSUID | MS_NOEXEC,
        data: pts,
    });
    ops.push(Op::Symlink {
        target: PathBuf::from("pts/ptmx"),
        link: Loc::root("/dev/ptmx"),
    });
    ops.push(Op::Mkdir(Loc::root("/dev/shm")));
    ops.push(Op::Mount {
        fs: Fs::Tmpfs,
        dst: Loc::root("/dev/shm"),
        flags: MS_NOSUID | MS_NODEV | MS_NOEXEC,
        data: "mode=1777,size=65536k".to_string(),
    });
    for (link, target) in [
        ("/dev/fd", "/proc/self/fd"),
        ("/dev/stdin", "/proc/self/fd/0"),
        ("/dev/stdout", "/proc/self/fd/1"),
        ("/dev/stderr", "/proc/self/fd/2"),
    ] {
        ops.push(Op::Symlink {
            target: PathBuf::from(target),
            link: Loc::root(link),
        });
    }

    ops.push(Op::Sysfs(Loc::root("/sys")));

    // Writable scratch space: always a fresh /tmp over the host's read-only /, and with
    // --read-only the places programs expect to write (as Podman's --read-only-tmpfs).
    if cfg.rootfs.is_none() || cfg.read_only {
        for d in ["/tmp", "/run"] {
            ops.push(Op::Mount {
                fs: Fs::Tmpfs,
                dst: Loc::root(d),
                flags: MS_NOSUID | MS_NODEV,
                data: "mode=1777".to_string(),
            });
        }
    }

    // --tmpfs and volumes, parents before children; a nested one gets its mount point
    // inside the mount it is nested in, just before it is mounted.
    for m in &users {
        if m.nested {
            ops.push(m.mount_point());
        }
        match m.kind {
            UserKind::Tmpfs(t) => ops.push(Op::Mount {
                fs: Fs::Tmpfs,
                dst: Loc::Root(t.clone()),
                flags: MS_NOSUID | MS_NODEV,
                data: "mode=1777".to_string(),
            }),
            UserKind::Volume(v) => {
                ops.push(Op::Bind {
                    src: Loc::Host(v.host.clone()),
                    dst: Loc::Root(v.container.clone()),
                });
                ops.push(Op::Restrict {
                    loc: Loc::Root(v.container.clone()),
                    read_only: v.read_only,
                });
            }
        }
    }

    for m in MASKED {
        if m.starts_with("/sys/firmware")
            || m.starts_with("/proc/acpi")
            || m.starts_with("/proc/scsi")
            || m.starts_with("/proc/asound")
            || m.starts_with("/sys/devices")
        {
            ops.push(Op::MaskDir(Loc::root(m)));
        } else {
            ops.push(Op::MaskFile(Loc::root(m)));
        }
    }
    for p in READ_ONLY {
        ops.push(Op::ReadOnlyPath(Loc::root(p)));
    }
    ops.push(Op::PivotRoot);
    ops
}

fn mount_point(v: &Volume) -> Op {
    if v.host.is_dir() {
        Op::Mkdir(Loc::Root(v.container.clone()))
    } else {
        Op::Touch(Loc::Root(v.container.clone()))
    }
}

enum UserKind<'a> {
    Tmpfs(&'a PathBuf),
    Volume(&'a Volume),
}

/// A `--tmpfs` or a volume, and whether its path lies inside another mount syscage makes
/// first (`/dev`, the scratch `/tmp` and `/run`, or another user mount).
struct UserMount<'a> {
    kind: UserKind<'a>,
    nested: bool,
}

impl UserMount<'_> {
    fn dst(&self) -> &Path {
        match self.kind {
            UserKind::Tmpfs(t) => t,
            UserKind::Volume(v) => &v.container,
        }
    }

    fn mount_point(&self) -> Op {
        match self.kind {
            UserKind::Tmpfs(t) => Op::Mkdir(Loc::Root(t.clone())),
            UserKind::Volume(v) => mount_point(v),
        }
    }
}

/// The user's mounts in the order they are made: by depth of the container path (a
/// parent before what is mounted inside it, as Docker sorts them), then as given.
fn user_mounts(cfg: &MountConfig) -> Vec<UserMount<'_>> {
    let mut all: Vec<UserMount> = cfg
        .tmpfs
        .iter()
        .map(|t| UserMount {
            kind: UserKind::Tmpfs(t),
            nested: false,
        })
        .chain(cfg.volumes.iter().map(|v| UserMount {
            kind: UserKind::Volume(v),
            nested: false,
        }))
        .collect();
    all.sort_by_key(|m| m.dst().components().count());
    // syscage's own mounts made before the user's: /dev always, the scratch /tmp and /run
    // with a read-only or the host's root.
    let scratch: &[&str] = if cfg.rootfs.is_none() || cfg.read_only {
        &["/dev", "/tmp", "/run"]
    } else {
        &["/dev"]
    };
    for i in 0..all.len() {
        let d = all[i].dst();
        let inside = |outer: &Path| d != outer && d.starts_with(outer);
        let nested = scratch.iter().any(|s| inside(Path::new(s)))
            || all[..i].iter().any(|m| inside(m.dst()));
        all[i].nested = nested;
    }
    all
}

/// Joins `path` onto `root` the way the container will see it: `..` stops at the root and
/// symlinks are followed as if `root` were `/` (what runc's securejoin does). `readlink`
/// returns the target of a symlink at a host path, or `None` when it is not a symlink.
///
/// Past 40 symlinks it fails with ELOOP rather than return a path that still holds a
/// link (which the kernel would then follow from the host's root). What it returns is a
/// path string: a process writing the root file system at the same moment could still
/// swap a component for a link (runc's CVE-2021-30465), which is why syscage does all of
/// this before any container process exists.
pub fn secure_join(
    root: &Path,
    path: &Path,
    readlink: &dyn Fn(&Path) -> Option<PathBuf>,
) -> Result<PathBuf, Errno> {
    let mut parts: Vec<std::ffi::OsString> = Vec::new();
    let mut pending: Vec<std::ffi::OsString> = path
        .components()
        .rev()
        .filter_map(|c| match c {
            Component::Normal(n) => Some(n.to_os_string()),
            Component::ParentDir => Some("..".into()),
            _ => None,
        })
        .collect();
    let mut hops = 0;
    while let Some(part) = pending.pop() {
        if part == ".." {
            parts.pop();
            continue;
        }
        let mut candidate = root.to_path_buf();
        candidate.extend(&parts);
        candidate.push(&part);
        match readlink(&candidate) {
            Some(_) if hops >= 40 => return Err(Errno::ELOOP),
            Some(target) => {
                hops += 1;
                if target.is_absolute() {
                    parts.clear();
                }
                for c in target.components().rev() {
                    match c {
                        Component::Normal(n) => pending.push(n.to_os_string()),
                        Component::ParentDir => pending.push("..".into()),
                        _ => {}
                    }
                }
            }
            _ => parts.push(part),
        }
    }
    let mut out = root.to_path_buf();
    out.extend(parts);
    Ok(out)
}

/// Reads the file at `path` of the root file system `root` as the container would see it:
/// symbolic links resolved inside `root` ([`secure_join`]), never reaching the host.
pub fn read_in_root(root: &Path, path: &Path) -> std::io::Result<String> {
    let host = secure_join(root, path, &|q: &Path| {
        std::fs::symlink_metadata(q)
            .ok()
            .filter(|m| m.file_type().is_symlink())
            .and_then(|_| std::fs::read_link(q).ok())
    })
    .map_err(|e| std::io::Error::from_raw_os_error(e as i32))?;
    std::fs::read_to_string(host)
}

/// The host effects of the plan. The real implementation is in `child`; tests use a fake
/// that records what it is asked to do.
pub trait MountHost {
    fn apply(&mut self, op: &Op, root: &Path) -> Result<(), Errno>;
}

/// Runs the plan; on failure, the index of the operation and the errno.
pub fn execute(ops: &[Op], root: &Path, host: &mut dyn MountHost) -> Result<(), (usize, Errno)> {
    for (i, op) in ops.iter().enumerate() {
        tracing::info!("{}", op.describe());
        host.apply(op, root).map_err(|e| (i, e))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_files_of_the_root_without_leaving_it() {
        let t = std::env::temp_dir().join(format!("syscage-readroot-{}", std::process::id()));
        let root = t.join("root");
        std::fs::create_dir_all(root.join("etc")).unwrap();
        std::fs::create_dir_all(root.join("data")).unwrap();
        std::fs::write(t.join("host-secret"), "secret\n").unwrap();
        std::fs::write(root.join("data/group"), "inside\n").unwrap();
        // An absolute link to a host path: resolved inside the root, where it is not.
        std::os::unix::fs::symlink(t.join("host-secret"), root.join("etc/passwd")).unwrap();
        std::os::unix::fs::symlink("../../../../data/group", root.join("etc/group")).unwrap();
        let e = read_in_root(&root, Path::new("/etc/passwd")).unwrap_err();
        assert_eq!(e.kind(), std::io::ErrorKind::NotFound);
        assert_eq!(
            read_in_root(&root, Path::new("/etc/group")).unwrap(),
            "inside\n"
        );
        std::fs::remove_dir_all(&t).unwrap();
    }

    fn cfg(rootfs: Option<&str>, read_only: bool) -> MountConfig {
        MountConfig {
            rootfs: rootfs.map(PathBuf::from),
            read_only,
            volumes: vec![],
            tmpfs: vec![],
            devpts_gid: Some(5),
        }
    }

    fn pos(ops: &[Op], pred: impl Fn(&Op) -> bool) -> usize {
        ops.iter().position(pred).expect("op in plan")
    }

    #[test]
    fn rootfs_plan_order() {
        let ops = plan(&cfg(Some("/r"), true));
        assert_eq!(ops[0], Op::MakeRootSlave);
        assert_eq!(ops.last(), Some(&Op::PivotRoot));
        let ro = pos(&ops, |o| {
            *o == Op::Restrict {
                loc: Loc::Host("/r".into()),
                read_only: true,
            }
        });
        let dev_bind = pos(
            &ops,
            |o| matches!(o, Op::Bind { dst, .. } if *dst == Loc::root("/dev/null")),
        );
        assert!(ro < dev_bind, "nodev on the root before the device binds");
        let mkdir_proc = pos(&ops, |o| *o == Op::Mkdir(Loc::root("/proc")));
        let proc_mount = pos(&ops, |o| matches!(o, Op::Mount { fs: Fs::Proc, .. }));
        let mask = pos(&ops, |o| *o == Op::MaskFile(Loc::root("/proc/kcore")));
        assert!(
            mkdir_proc < ro,
            "mount points exist before the root turns read-only"
        );
        assert!(ro < proc_mount);
        assert!(proc_mount < mask, "masks go on top of the fresh /proc");
        assert!(ops.contains(&Op::Mount {
            fs: Fs::Tmpfs,
            dst: Loc::root("/tmp"),
            flags: MS_NOSUID | MS_NODEV,
            data: "mode=1777".into()
        }));
    }

    #[test]
    fn host_root_plan_is_read_only_with_fresh_tmp() {
        let ops = plan(&cfg(None, false));
        let bind = pos(&ops, |o| {
            *o == Op::Bind {
                src: Loc::Host("/".into()),
                dst: Loc::Host(STAGED_ROOT.into()),
            }
        });
        let ro = pos(&ops, |o| {
            *o == Op::Restrict {
                loc: Loc::Host(STAGED_ROOT.into()),
                read_only: true,
            }
        });
        let tmp = pos(
            &ops,
            |o| matches!(o, Op::Mount { fs: Fs::Tmpfs, dst, .. } if *dst == Loc::root("/tmp")),
        );
        let run = pos(
            &ops,
            |o| matches!(o, Op::Mount { fs: Fs::Tmpfs, dst, .. } if *dst == Loc::root("/run")),
        );
        assert!(bind < ro && ro < tmp && tmp < run);
        assert_eq!(new_root(&cfg(None, false)), PathBuf::from(STAGED_ROOT));
    }

    #[test]
    fn read_only_volume_is_bound_then_made_read_only() {
        let mut c = cfg(Some("/r"), false);
        c.volumes.push(Volume {
            host: "/tmp".into(),
            container: "/data".into(),
            read_only: true,
        });
        let ops = plan(&c);
        let mk = pos(&ops, |o| *o == Op::Mkdir(Loc::root("/data")));
        let bind = pos(
            &ops,
            |o| matches!(o, Op::Bind { dst, .. } if *dst == Loc::root("/data")),
        );
        let ro = pos(&ops, |o| {
            *o == Op::Restrict {
                loc: Loc::root("/data"),
                read_only: true,
            }
        });
        assert!(mk < bind && bind < ro);
    }

    #[test]
    fn nested_mounts_get_their_mount_points_inside_the_outer_mount() {
        let mut c = cfg(Some("/r"), false);
        // Given child first: the plan mounts the parent first anyway.
        c.volumes.push(Volume {
            host: "/tmp".into(),
            container: "/data/inner".into(),
            read_only: false,
        });
        c.volumes.push(Volume {
            host: "/tmp".into(),
            container: "/data".into(),
            read_only: false,
        });
        c.tmpfs.push("/data/inner/cache".into());
        c.tmpfs.push("/scratch".into());
        let ops = plan(&c);
        let at = |want: &Op| pos(&ops, |o| o == want);
        let ro = pos(
            &ops,
            |o| matches!(o, Op::Restrict { loc, .. } if *loc == Loc::Host("/r".into())),
        );
        let mk = |p: &str| at(&Op::Mkdir(Loc::root(p)));
        let bind = |p: &str| {
            pos(
                &ops,
                |o| matches!(o, Op::Bind { dst, .. } if *dst == Loc::root(p)),
            )
        };
        let tmpfs = |p: &str| {
            pos(
                &ops,
                |o| matches!(o, Op::Mount { fs: Fs::Tmpfs, dst, .. } if *dst == Loc::root(p)),
            )
        };
        // Top-level mount points before the root is restricted; nested ones later.
        assert!(mk("/data") < ro && mk("/scratch") < ro);
        assert!(bind("/data") < mk("/data/inner") && mk("/data/inner") < bind("/data/inner"));
        assert!(bind("/data/inner") < mk("/data/inner/cache"));
        assert!(mk("/data/inner/cache") < tmpfs("/data/inner/cache"));
        assert!(tmpfs("/scratch") < bind("/data/inner"));
        // Inside the scratch /tmp of a read-only root.
        let mut c = cfg(Some("/r"), true);
        c.volumes.push(Volume {
            host: "/etc/hostname".into(),
            container: "/tmp/hostname".into(),
            read_only: true,
        });
        let ops = plan(&c);
        let touch = pos(&ops, |o| *o == Op::Touch(Loc::root("/tmp/hostname")));
        let tmp = pos(
            &ops,
            |o| matches!(o, Op::Mount { fs: Fs::Tmpfs, dst, .. } if *dst == Loc::root("/tmp")),
        );
        assert!(tmp < touch);
    }

    #[test]
    fn devpts_gid_only_when_mapped() {
        let mut c = cfg(Some("/r"), false);
        c.devpts_gid = None;
        let ops = plan(&c);
        assert!(ops.iter().any(|o| matches!(o, Op::Mount { fs: Fs::Devpts, data, .. } if data == "newinstance,ptmxmode=0666,mode=0620")));
    }

    #[test]
    fn secure_join_stays_inside_the_root() {
        let links = |p: &Path| -> Option<PathBuf> {
            match p.to_str()? {
                "/r/etc" => Some("/host-etc-escape".into()),
                "/r/up" => Some("../../../..".into()),
                "/r/a/rel" => Some("../b".into()),
                "/r/loop" => Some("/loop".into()),
                _ => None,
            }
        };
        let j = |p: &str| {
            secure_join(Path::new("/r"), Path::new(p), &links)
                .unwrap_or_else(|e| PathBuf::from(format!("error {e}")))
        };
        assert_eq!(j("/data"), PathBuf::from("/r/data"));
        assert_eq!(j("/etc/passwd"), PathBuf::from("/r/host-etc-escape/passwd"));
        assert_eq!(j("/up/etc"), PathBuf::from("/r/host-etc-escape"));
        assert_eq!(
            j("/a/rel/x"),
            PathBuf::from("/r/b/x"),
            "relative to the link's directory"
        );
        assert_eq!(j("/../../x"), PathBuf::from("/r/x"));
        assert_eq!(
            j("/loop/x"),
            PathBuf::from("error ELOOP: Too many symbolic links encountered"),
            "a symlink loop ends after 40 hops, in an error, never in a path that holds a link"
        );
    }

    #[test]
    fn recording_host_sees_ops_in_order_and_failures_name_the_step() {
        struct Fake(Vec<String>, usize);
        impl MountHost for Fake {
            fn apply(&mut self, op: &Op, _root: &Path) -> Result<(), Errno> {
                if self.0.len() == self.1 {
                    return Err(Errno::EPERM);
                }
                self.0.push(op.describe());
                Ok(())
            }
        }
        let ops = plan(&cfg(Some("/r"), false));
        let mut fake = Fake(vec![], usize::MAX);
        execute(&ops, Path::new("/r"), &mut fake).unwrap();
        assert_eq!(fake.0.len(), ops.len());
        assert_eq!(fake.0[0], "make `/` a recursive slave mount");
        let mut failing = Fake(vec![], 2);
        let (i, e) = execute(&ops, Path::new("/r"), &mut failing).unwrap_err();
        assert_eq!((i, e), (2, Errno::EPERM));
        assert_eq!(ops[i].describe(), "create directory `/proc`");
    }
}
