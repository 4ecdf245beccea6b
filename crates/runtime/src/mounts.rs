//! The container's file system, as a list of operations computed from the configuration
//! (pure: everything it needs from the host was read when the options were) and executed
//! in order by one function through the [`MountHost`] trait, as bubblewrap executes its
//! setup operations. The real host is `mountfd::RealMounts`, which touches every path
//! inside the new root through descriptors (`fsroot`).
//!
//! Everything happens in the container's own mount namespace, after `/` there has been
//! made a recursive slave: nothing mounted here propagates to the host, and every mount
//! disappears with the namespace, whatever happens to syscage. The new root, the host's
//! `/` and volumes are private by default, so that a mount the host makes later does not
//! appear in the container either (a writable tmpfs below a read-only volume, say).

use crate::config::{Tmpfs, Volume, DEFAULT_TMPFS_SIZE, RUN_TMPFS_SIZE};
use crate::fsroot::FileId;
use std::path::{Path, PathBuf};

/// `--rootfs`: the canonical path and the directory it was when the options were read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rootfs {
    pub path: PathBuf,
    pub id: FileId,
    /// How the new root's mounts relate to the host's: private (the default), or a
    /// slave of them (OCI `rootfsPropagation` `slave`/`rslave`).
    pub propagation: crate::config::Propagation,
}

/// What becomes the container's `/`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RootSource {
    Rootfs(Rootfs),
    /// The host's `/`, read-only.
    Host,
}

/// What a bind mount takes from the host.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BindSource {
    Volume(Volume),
    /// One of the host's harmless devices (`/dev/null`...), by its host path.
    Device(PathBuf),
    /// The container's own cgroup directory in one hierarchy (the OCI `cgroup` mount),
    /// never recursive, always nosuid, noexec and nodev.
    Cgroup {
        path: PathBuf,
        read_only: bool,
    },
}

/// The file systems syscage mounts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fs {
    Proc,
    Tmpfs,
    Devpts,
    Mqueue,
}

impl Fs {
    pub fn name(self) -> &'static str {
        match self {
            Fs::Proc => "proc",
            Fs::Tmpfs => "tmpfs",
            Fs::Devpts => "devpts",
            Fs::Mqueue => "mqueue",
        }
    }
}

/// A device node an OCI configuration asks for (`linux.devices`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeviceNode {
    pub path: PathBuf,
    /// S_IFCHR, S_IFBLK or S_IFIFO.
    pub kind: u32,
    pub major: u64,
    pub minor: u64,
    /// Permission bits.
    pub mode: u32,
    pub uid: u32,
    pub gid: u32,
}

/// One set-up operation. Paths are the container's, absolute.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Op {
    /// Takes a detached copy of a volume's source, before anything is mounted in this
    /// namespace (a scratch `/tmp` would hide a source below it) and while its mounts
    /// are still the host's peers (a shared volume stays one).
    TakeVolume(Volume),
    /// `mount --make-rslave /`: host mounts still propagate in, nothing propagates out.
    MakeRootSlave,
    /// The new root: a recursive, private, nodev copy of the root file system (read-only
    /// at once for the host's `/`), placed where `pivot_root` can use it.
    NewRoot(RootSource),
    Mkdir(PathBuf),
    /// Creates an empty file to bind a file onto.
    Touch(PathBuf),
    Bind {
        src: BindSource,
        dst: PathBuf,
    },
    /// Mounts a fresh file system; `flags` are MS_* bits, `data` its options.
    Mount {
        fs: Fs,
        dst: PathBuf,
        flags: u64,
        data: String,
    },
    /// sysfs with these MS_* flags; in a user namespace where that is refused, the
    /// host's `/sys` bound read-only instead.
    Sysfs {
        dst: PathBuf,
        flags: u64,
    },
    /// A device node, made on a staging tmpfs of its own (the container's `/dev` stays
    /// nodev) and bound onto `path`.
    Device(DeviceNode),
    /// Writes a namespaced sysctl through the container's fresh `/proc`, before
    /// `/proc/sys` becomes read-only.
    Sysctl {
        key: String,
        value: String,
    },
    /// The root and all below it `nodev` (device nodes made in the container stay
    /// inert), and read-only when asked.
    RestrictRoot {
        read_only: bool,
    },
    Symlink {
        target: PathBuf,
        link: PathBuf,
    },
    /// Hides a file behind the host's null device, a directory behind an empty
    /// read-only tmpfs; what this kernel does not have is not there to hide.
    Mask(PathBuf),
    /// Binds an existing path onto itself read-only (`/proc/sys`...).
    ReadOnlyPath(PathBuf),
    /// Makes the mount this plan made at the path read-only, itself only (mounts made on
    /// it later keep their own flags).
    SealMount(PathBuf),
    /// `pivot_root` into the new root and detach the old one.
    PivotRoot,
    /// Checks that `/proc`, `/sys` and `/dev` as the container sees them are the mounts
    /// this plan made (not something swapped into the root file system meanwhile).
    Verify,
}

fn shown(p: &Path) -> String {
    format!("`{}`", p.display())
}

impl BindSource {
    fn shown(&self) -> String {
        match self {
            BindSource::Volume(v) => shown(&v.host),
            BindSource::Device(p) => shown(p),
            BindSource::Cgroup { path, .. } => shown(path),
        }
    }
}

impl Op {
    /// What the operation does, for error messages: "mount `proc` on `/proc`".
    pub fn describe(&self) -> String {
        match self {
            Op::TakeVolume(v) => format!(
                "open {} for the volume at {}",
                shown(&v.host),
                shown(&v.container)
            ),
            Op::MakeRootSlave => "make `/` a recursive slave mount".to_string(),
            Op::NewRoot(RootSource::Rootfs(r)) => {
                format!("bind {} as the root file system", shown(&r.path))
            }
            Op::NewRoot(RootSource::Host) => {
                "bind the host's `/` read-only as the root file system".to_string()
            }
            Op::Mkdir(p) => format!("create directory {}", shown(p)),
            Op::Touch(p) => format!("create file {}", shown(p)),
            Op::Bind { src, dst } => format!("bind {} on {}", src.shown(), shown(dst)),
            Op::Mount { fs, dst, .. } => format!("mount `{}` on {}", fs.name(), shown(dst)),
            Op::Sysfs { dst, .. } => format!("mount `sysfs` on {}", shown(dst)),
            Op::Device(d) => format!("make device {}", shown(&d.path)),
            Op::Sysctl { key, .. } => format!("set sysctl `{key}`"),
            Op::RestrictRoot { read_only: true } => {
                "make the root file system read-only and nodev".to_string()
            }
            Op::RestrictRoot { read_only: false } => "make the root file system nodev".to_string(),
            Op::Symlink { target, link } => {
                format!("link {} to `{}`", shown(link), target.display())
            }
            Op::Mask(p) => format!("mask {}", shown(p)),
            Op::ReadOnlyPath(p) => format!("make {} read-only", shown(p)),
            Op::SealMount(p) => format!("make the mount on {} read-only", shown(p)),
            Op::PivotRoot => "pivot_root into the new root".to_string(),
            Op::Verify => {
                "check that `/proc`, `/sys` and `/dev` are the container's own".to_string()
            }
        }
    }
}

/// What the plan depends on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MountConfig {
    /// `--rootfs`; `None` for the host's `/` read-only.
    pub rootfs: Option<Rootfs>,
    pub read_only: bool,
    pub volumes: Vec<Volume>,
    /// `--tmpfs`: fresh tmpfs mounts.
    pub tmpfs: Vec<Tmpfs>,
    /// The group of `/dev/pts/*` (Docker: 5, `tty`), when that gid exists in the container.
    pub devpts_gid: Option<u32>,
    /// An OCI configuration's mounts, devices and paths, in place of syscage's own set
    /// (`rootfs` and `read_only` still say what the root is).
    pub oci: Option<crate::ociplan::OciMounts>,
}

const MS_NOSUID: u64 = libc::MS_NOSUID;
const MS_NODEV: u64 = libc::MS_NODEV;
const MS_NOEXEC: u64 = libc::MS_NOEXEC;
const MS_RDONLY: u64 = libc::MS_RDONLY;
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

fn tmpfs_flags(t: &Tmpfs) -> u64 {
    let mut f = MS_NODEV;
    if t.nosuid {
        f |= MS_NOSUID;
    }
    if t.noexec {
        f |= MS_NOEXEC;
    }
    if t.read_only {
        f |= MS_RDONLY;
    }
    f
}

/// syscage's own scratch tmpfs over a read-only root (the host's `/`, or `--read-only`),
/// where programs expect to write (as Podman's --read-only-tmpfs); a `--tmpfs` at the
/// same place replaces it.
fn scratch(cfg: &MountConfig) -> Vec<Tmpfs> {
    if cfg.rootfs.is_some() && !cfg.read_only {
        return vec![];
    }
    [("/tmp", DEFAULT_TMPFS_SIZE), ("/run", RUN_TMPFS_SIZE)]
        .into_iter()
        .filter(|(d, _)| !cfg.tmpfs.iter().any(|t| t.path == Path::new(d)))
        .map(|(d, size)| Tmpfs::new(d, size))
        .collect()
}

/// The operations, in order.
pub fn plan(cfg: &MountConfig) -> Vec<Op> {
    if let (Some(oci), Some(root)) = (&cfg.oci, &cfg.rootfs) {
        return crate::ociplan::plan(root, cfg.read_only, oci);
    }
    let users = user_mounts(cfg);
    let scratch = scratch(cfg);
    let mut ops: Vec<Op> = cfg.volumes.iter().cloned().map(Op::TakeVolume).collect();
    ops.push(Op::MakeRootSlave);
    ops.extend(new_root(cfg, &scratch, &users));
    ops.push(Op::Mount {
        fs: Fs::Proc,
        dst: "/proc".into(),
        flags: MS_NOSUID | MS_NODEV | MS_NOEXEC,
        data: String::new(),
    });

    ops.extend(dev(cfg));

    ops.push(Op::Sysfs {
        dst: "/sys".into(),
        flags: MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC,
    });

    for t in &scratch {
        ops.push(Op::Mount {
            fs: Fs::Tmpfs,
            dst: t.path.clone(),
            flags: tmpfs_flags(t),
            data: t.data(),
        });
    }

    ops.extend(user_mount_ops(&users));

    for m in MASKED {
        ops.push(Op::Mask(m.into()));
    }
    for p in READ_ONLY {
        ops.push(Op::ReadOnlyPath(p.into()));
    }
    ops.push(Op::PivotRoot);
    ops.push(Op::Verify);
    ops
}

/// The new root and the mount points made in it before it may become read-only.
fn new_root(cfg: &MountConfig, scratch: &[Tmpfs], users: &[UserMount<'_>]) -> Vec<Op> {
    let mut ops = Vec::new();
    match &cfg.rootfs {
        Some(r) => {
            ops.push(Op::NewRoot(RootSource::Rootfs(r.clone())));
            // Mount points are created before the root may become read-only.
            for d in ["/proc", "/dev", "/sys"] {
                ops.push(Op::Mkdir(d.into()));
            }
            for t in scratch {
                ops.push(Op::Mkdir(t.path.clone()));
            }
            // Those of user mounts nested in another mount are made later, in it.
            for m in users {
                if !m.nested {
                    ops.push(m.mount_point());
                }
            }
            // Before /dev gets its device binds, which must keep working.
            ops.push(Op::RestrictRoot {
                read_only: cfg.read_only,
            });
        }
        None => ops.push(Op::NewRoot(RootSource::Host)),
    }

    ops
}

/// /dev: a small tmpfs with the host's harmless devices bound in, and private ptys.
fn dev(cfg: &MountConfig) -> Vec<Op> {
    let mut ops = Vec::new();
    // nodev: the devices below are bind mounts with their own flags; a node made here
    // with mknod stays inert.
    ops.push(Op::Mount {
        fs: Fs::Tmpfs,
        dst: "/dev".into(),
        flags: MS_NOSUID | MS_NODEV | MS_STRICTATIME,
        data: "mode=755,size=65536k,nr_inodes=16384".to_string(),
    });
    for d in DEVICES {
        let p = PathBuf::from(format!("/dev/{d}"));
        ops.push(Op::Touch(p.clone()));
        ops.push(Op::Bind {
            src: BindSource::Device(p.clone()),
            dst: p,
        });
    }
    ops.push(Op::Mkdir("/dev/pts".into()));
    let mut pts = "newinstance,ptmxmode=0666,mode=0620".to_string();
    if let Some(g) = cfg.devpts_gid {
        pts.push_str(&format!(",gid={g}"));
    }
    ops.push(Op::Mount {
        fs: Fs::Devpts,
        dst: "/dev/pts".into(),
        flags: MS_NOSUID | MS_NOEXEC,
        data: pts,
    });
    ops.push(Op::Symlink {
        target: "pts/ptmx".into(),
        link: "/dev/ptmx".into(),
    });
    ops.push(Op::Mkdir("/dev/shm".into()));
    ops.push(Op::Mount {
        fs: Fs::Tmpfs,
        dst: "/dev/shm".into(),
        flags: MS_NOSUID | MS_NODEV | MS_NOEXEC,
        data: "mode=1777,size=65536k,nr_inodes=16384".to_string(),
    });
    for (link, target) in [
        ("/dev/fd", "/proc/self/fd"),
        ("/dev/stdin", "/proc/self/fd/0"),
        ("/dev/stdout", "/proc/self/fd/1"),
        ("/dev/stderr", "/proc/self/fd/2"),
    ] {
        ops.push(Op::Symlink {
            target: target.into(),
            link: link.into(),
        });
    }

    ops
}

/// `--tmpfs` and volumes, parents before children; a nested one gets its mount point
/// inside the mount it is nested in, just before it is mounted.
fn user_mount_ops(users: &[UserMount<'_>]) -> Vec<Op> {
    let mut ops = Vec::new();
    for m in users {
        if m.nested {
            ops.push(m.mount_point());
        }
        match m.kind {
            UserKind::Tmpfs(t) => ops.push(Op::Mount {
                fs: Fs::Tmpfs,
                dst: t.path.clone(),
                flags: tmpfs_flags(t),
                data: t.data(),
            }),
            UserKind::Volume(v) => ops.push(Op::Bind {
                src: BindSource::Volume(v.clone()),
                dst: v.container.clone(),
            }),
        }
    }

    ops
}

enum UserKind<'a> {
    Tmpfs(&'a Tmpfs),
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
            UserKind::Tmpfs(t) => &t.path,
            UserKind::Volume(v) => &v.container,
        }
    }

    fn mount_point(&self) -> Op {
        match self.kind {
            UserKind::Volume(v) if !v.dir => Op::Touch(v.container.clone()),
            _ => Op::Mkdir(self.dst().to_path_buf()),
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
    // syscage's own mounts made before the user's: /dev always, the scratch /tmp and /run.
    let mut outer: Vec<PathBuf> = vec!["/dev".into()];
    outer.extend(scratch(cfg).into_iter().map(|t| t.path));
    for i in 0..all.len() {
        let d = all[i].dst();
        let inside = |o: &Path| d != o && d.starts_with(o);
        let nested = outer.iter().any(|o| inside(o)) || all[..i].iter().any(|m| inside(m.dst()));
        all[i].nested = nested;
    }
    all
}

/// The host effects of the plan. The real implementation is `mountfd::RealMounts`;
/// tests use a fake that records what it is asked to do.
pub trait MountHost {
    fn apply(&mut self, op: &Op) -> Result<(), nix::errno::Errno>;
}

/// Runs the plan; on failure, the index of the operation and the errno.
pub fn execute(ops: &[Op], host: &mut dyn MountHost) -> Result<(), (usize, nix::errno::Errno)> {
    for (i, op) in ops.iter().enumerate() {
        tracing::info!("{}", op.describe());
        host.apply(op).map_err(|e| (i, e))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Propagation;
    use nix::errno::Errno;

    fn cfg(rootfs: Option<&str>, read_only: bool) -> MountConfig {
        MountConfig {
            rootfs: rootfs.map(|p| Rootfs {
                path: p.into(),
                id: FileId::default(),
                propagation: Propagation::Private,
            }),
            read_only,
            volumes: vec![],
            tmpfs: vec![],
            devpts_gid: Some(5),
            oci: None,
        }
    }

    fn vol(host: &str, container: &str, read_only: bool) -> Volume {
        Volume {
            host: host.into(),
            container: container.into(),
            read_only,
            propagation: Propagation::Private,
            dir: true,
            id: FileId::default(),
            recursive: true,
            flags: 0,
        }
    }

    fn pos(ops: &[Op], pred: impl Fn(&Op) -> bool) -> usize {
        ops.iter().position(pred).expect("op in plan")
    }

    fn is_tmpfs_at(o: &Op, p: &str) -> bool {
        matches!(o, Op::Mount { fs: Fs::Tmpfs, dst, .. } if dst == Path::new(p))
    }

    #[test]
    fn rootfs_plan_order() {
        let ops = plan(&cfg(Some("/r"), true));
        assert_eq!(ops[0], Op::MakeRootSlave);
        assert_eq!(ops[ops.len() - 2], Op::PivotRoot);
        assert_eq!(ops.last(), Some(&Op::Verify));
        let ro = pos(&ops, |o| *o == Op::RestrictRoot { read_only: true });
        let dev_bind = pos(
            &ops,
            |o| matches!(o, Op::Bind { dst, .. } if dst == Path::new("/dev/null")),
        );
        assert!(ro < dev_bind, "nodev on the root before the device binds");
        let mkdir_proc = pos(&ops, |o| *o == Op::Mkdir("/proc".into()));
        let proc_mount = pos(&ops, |o| matches!(o, Op::Mount { fs: Fs::Proc, .. }));
        let mask = pos(&ops, |o| *o == Op::Mask("/proc/kcore".into()));
        assert!(
            mkdir_proc < ro,
            "mount points exist before the root turns read-only"
        );
        assert!(ro < proc_mount);
        assert!(proc_mount < mask, "masks go on top of the fresh /proc");
        // The scratch /tmp and /run of a read-only root are bounded.
        assert!(ops.contains(&Op::Mount {
            fs: Fs::Tmpfs,
            dst: "/tmp".into(),
            flags: MS_NOSUID | MS_NODEV,
            data: "mode=1777,size=268435456,nr_inodes=65536".into()
        }));
        assert!(ops.contains(&Op::Mount {
            fs: Fs::Tmpfs,
            dst: "/run".into(),
            flags: MS_NOSUID | MS_NODEV,
            data: "mode=1777,size=67108864,nr_inodes=16384".into()
        }));
    }

    #[test]
    fn host_root_plan_is_read_only_with_fresh_tmp() {
        let ops = plan(&cfg(None, false));
        let root = pos(&ops, |o| *o == Op::NewRoot(RootSource::Host));
        let tmp = pos(&ops, |o| is_tmpfs_at(o, "/tmp"));
        let run = pos(&ops, |o| is_tmpfs_at(o, "/run"));
        assert!(root < tmp && tmp < run);
        assert!(
            !ops.iter()
                .any(|o| matches!(o, Op::Mkdir(_) if !o.describe().contains("/dev/"))),
            "nothing is made in the host's /: {ops:#?}"
        );
    }

    #[test]
    fn a_user_tmpfs_replaces_the_scratch_one_at_the_same_place() {
        let mut c = cfg(None, false);
        c.tmpfs
            .push(crate::config::parse_tmpfs("/tmp:size=1g").unwrap());
        let ops = plan(&c);
        let at_tmp: Vec<&Op> = ops.iter().filter(|o| is_tmpfs_at(o, "/tmp")).collect();
        assert_eq!(
            at_tmp,
            vec![&Op::Mount {
                fs: Fs::Tmpfs,
                dst: "/tmp".into(),
                flags: MS_NOSUID | MS_NODEV,
                data: "mode=1777,size=1073741824,nr_inodes=262144".into()
            }]
        );
    }

    #[test]
    fn read_only_volume_gets_its_mount_point_then_its_bind() {
        let mut c = cfg(Some("/r"), false);
        c.volumes.push(vol("/tmp", "/data", true));
        let ops = plan(&c);
        let mk = pos(&ops, |o| *o == Op::Mkdir("/data".into()));
        let bind = pos(
            &ops,
            |o| matches!(o, Op::Bind { dst, .. } if dst == Path::new("/data")),
        );
        assert!(mk < bind);
        let mut file = vol("/etc/hostname", "/etc/hostname", true);
        file.dir = false;
        c.volumes = vec![file];
        assert!(plan(&c).contains(&Op::Touch("/etc/hostname".into())));
    }

    #[test]
    fn volumes_are_taken_before_anything_is_mounted() {
        let mut c = cfg(None, false);
        let mut v = vol("/srv", "/srv", false);
        v.propagation = Propagation::Shared;
        let w = vol("/tmp", "/data", false);
        c.volumes.push(v.clone());
        c.volumes.push(w.clone());
        let ops = plan(&c);
        assert_eq!(
            ops[..3],
            [Op::TakeVolume(v), Op::TakeVolume(w), Op::MakeRootSlave]
        );
    }

    #[test]
    fn nested_mounts_get_their_mount_points_inside_the_outer_mount() {
        let mut c = cfg(Some("/r"), false);
        // Given child first: the plan mounts the parent first anyway.
        c.volumes.push(vol("/tmp", "/data/inner", false));
        c.volumes.push(vol("/tmp", "/data", false));
        c.tmpfs
            .push(crate::config::parse_tmpfs("/data/inner/cache").unwrap());
        c.tmpfs
            .push(crate::config::parse_tmpfs("/scratch").unwrap());
        let ops = plan(&c);
        let at = |want: &Op| pos(&ops, |o| o == want);
        let ro = pos(&ops, |o| matches!(o, Op::RestrictRoot { .. }));
        let mk = |p: &str| at(&Op::Mkdir(p.into()));
        let bind = |p: &str| {
            pos(
                &ops,
                |o| matches!(o, Op::Bind { dst, .. } if dst == Path::new(p)),
            )
        };
        let tmpfs = |p: &str| pos(&ops, |o| is_tmpfs_at(o, p));
        // Top-level mount points before the root is restricted; nested ones later.
        assert!(mk("/data") < ro && mk("/scratch") < ro);
        assert!(bind("/data") < mk("/data/inner") && mk("/data/inner") < bind("/data/inner"));
        assert!(bind("/data/inner") < mk("/data/inner/cache"));
        assert!(mk("/data/inner/cache") < tmpfs("/data/inner/cache"));
        assert!(tmpfs("/scratch") < bind("/data/inner"));
        // Inside the scratch /tmp of a read-only root.
        let mut c = cfg(Some("/r"), true);
        let mut f = vol("/etc/hostname", "/tmp/hostname", true);
        f.dir = false;
        c.volumes.push(f);
        let ops = plan(&c);
        let touch = pos(&ops, |o| *o == Op::Touch("/tmp/hostname".into()));
        let tmp = pos(&ops, |o| is_tmpfs_at(o, "/tmp"));
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
    fn recording_host_sees_ops_in_order_and_failures_name_the_step() {
        struct Fake(Vec<String>, usize);
        impl MountHost for Fake {
            fn apply(&mut self, op: &Op) -> Result<(), Errno> {
                if self.0.len() == self.1 {
                    return Err(Errno::EPERM);
                }
                self.0.push(op.describe());
                Ok(())
            }
        }
        let ops = plan(&cfg(Some("/r"), false));
        let mut fake = Fake(vec![], usize::MAX);
        execute(&ops, &mut fake).unwrap();
        assert_eq!(fake.0.len(), ops.len());
        assert_eq!(fake.0[0], "make `/` a recursive slave mount");
        assert_eq!(fake.0[1], "bind `/r` as the root file system");
        let mut failing = Fake(vec![], 2);
        let (i, e) = execute(&ops, &mut failing).unwrap_err();
        assert_eq!((i, e), (2, Errno::EPERM));
        assert_eq!(ops[i].describe(), "create directory `/proc`");
    }
}
