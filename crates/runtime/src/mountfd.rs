//! The real host effects of the mount plan, through descriptors only.
//!
//! Every new mount is made detached first (`fsopen`/`fsmount` for a fresh file system,
//! `open_tree(OPEN_TREE_CLONE)` for a bind), given its flags and propagation while no
//! process can see it, and then attached with `move_mount` onto a descriptor of its
//! target that `fsroot` resolved inside the new root. The descriptor `fsmount` or
//! `open_tree` returned stays the handle of that mount: what goes below a mount this plan
//! made fresh (`/dev/null` in `/dev`, a mask in `/proc`) is resolved from that handle, not
//! by walking the root file system again, where another writer could have renamed the
//! mount point away. After `pivot_root`, [`Op::Verify`] checks by mount id and file
//! system magic that the container's `/proc`, `/sys` and `/dev` are these mounts.

use crate::config::Propagation;
use crate::fsroot::{self, errno};
use crate::mounts::{BindSource, DeviceNode, Fs, MountHost, Op, RootSource};
use crate::sys::{self, MOUNT_ATTR_NODEV, MOUNT_ATTR_NOEXEC, MOUNT_ATTR_NOSUID, MOUNT_ATTR_RDONLY};
use nix::errno::Errno;
use rustix::mount::{FsMountFlags, FsOpenFlags, MountAttrFlags, MoveMountFlags, OpenTreeFlags};
use std::collections::HashMap;
use std::os::fd::{AsFd, BorrowedFd, OwnedFd};
use std::path::{Path, PathBuf};

const PROC_SUPER_MAGIC: i64 = 0x9fa0;
const SYSFS_MAGIC: i64 = 0x6265_6572;
const TMPFS_MAGIC: i64 = 0x0102_1994;

/// A copy of the tree at `fd` (recursive or not), detached.
fn clone_tree(fd: BorrowedFd<'_>, recursive: bool) -> Result<OwnedFd, Errno> {
    let mut flags = OpenTreeFlags::OPEN_TREE_CLONE
        | OpenTreeFlags::OPEN_TREE_CLOEXEC
        | OpenTreeFlags::AT_EMPTY_PATH;
    if recursive {
        flags |= OpenTreeFlags::AT_RECURSIVE;
    }
    rustix::mount::open_tree(fd, "", flags).map_err(errno)
}

/// A copy of the host path `path` (trusted: the host's own `/`, `/sys`, a device).
fn clone_host(path: &Path, recursive: bool) -> Result<OwnedFd, Errno> {
    let mut flags = OpenTreeFlags::OPEN_TREE_CLONE | OpenTreeFlags::OPEN_TREE_CLOEXEC;
    if recursive {
        flags |= OpenTreeFlags::AT_RECURSIVE;
    }
    rustix::mount::open_tree(rustix::fs::CWD, path, flags).map_err(errno)
}

/// Attaches the detached mount `mnt` onto what `target` refers to.
fn attach(mnt: BorrowedFd<'_>, target: BorrowedFd<'_>) -> Result<(), Errno> {
    rustix::mount::move_mount(
        mnt,
        "",
        target,
        "",
        MoveMountFlags::MOVE_MOUNT_F_EMPTY_PATH | MoveMountFlags::MOVE_MOUNT_T_EMPTY_PATH,
    )
    .map_err(errno)
}

/// MS_* flags of the plan as mount attributes.
fn attrs(flags: u64) -> MountAttrFlags {
    let mut a = MountAttrFlags::empty();
    for (ms, attr) in [
        (libc::MS_RDONLY, MountAttrFlags::MOUNT_ATTR_RDONLY),
        (libc::MS_NOSUID, MountAttrFlags::MOUNT_ATTR_NOSUID),
        (libc::MS_NODEV, MountAttrFlags::MOUNT_ATTR_NODEV),
        (libc::MS_NOEXEC, MountAttrFlags::MOUNT_ATTR_NOEXEC),
        (libc::MS_STRICTATIME, MountAttrFlags::MOUNT_ATTR_STRICTATIME),
        (libc::MS_NOATIME, MountAttrFlags::MOUNT_ATTR_NOATIME),
        (libc::MS_NODIRATIME, MountAttrFlags::MOUNT_ATTR_NODIRATIME),
    ] {
        if flags & ms != 0 {
            a |= attr;
        }
    }
    a
}

/// A fresh, detached file system of type `fs` with the comma-separated options `data`
/// (`key=value` or a flag).
fn fresh(fs: &str, data: &str, flags: MountAttrFlags) -> Result<OwnedFd, Errno> {
    let ctx = rustix::mount::fsopen(fs, FsOpenFlags::FSOPEN_CLOEXEC).map_err(errno)?;
    // Named as mount(8) would name it, for the container's /proc/self/mountinfo.
    rustix::mount::fsconfig_set_string(&ctx, "source", fs).map_err(errno)?;
    for opt in data.split(',').filter(|o| !o.is_empty()) {
        match opt.split_once('=') {
            Some((k, v)) => rustix::mount::fsconfig_set_string(&ctx, k, v),
            None => rustix::mount::fsconfig_set_flag(&ctx, opt),
        }
        .map_err(errno)?;
    }
    rustix::mount::fsconfig_create(&ctx).map_err(errno)?;
    rustix::mount::fsmount(&ctx, FsMountFlags::FSMOUNT_CLOEXEC, flags).map_err(errno)
}

fn propagation(p: Propagation) -> u64 {
    match p {
        Propagation::Private => libc::MS_PRIVATE,
        Propagation::Slave => libc::MS_SLAVE,
        // A copy of a shared mount is already its peer.
        Propagation::Shared => 0,
    }
}

/// Mount ids of what the container must see at `/proc`, `/sys` and `/dev`.
#[derive(Default)]
struct Expected {
    proc: Option<u64>,
    sys: Option<u64>,
    dev: Option<u64>,
}

/// The real host effects of the mount plan.
#[derive(Default)]
pub struct RealMounts {
    /// The new root, attached.
    root: Option<OwnedFd>,
    /// Mounts this plan made: container path, the mount's handle, and whether what is
    /// below it is the kernel's or syscage's own (a fresh proc, sysfs, tmpfs or devpts)
    /// rather than content from elsewhere (a bind).
    mounted: Vec<(PathBuf, OwnedFd, bool)>,
    /// Copies of the volumes' sources, by container path.
    taken: HashMap<PathBuf, OwnedFd>,
    /// An empty read-only tmpfs, detached, cloned for each directory mask.
    empty: Option<OwnedFd>,
    /// A small tmpfs, detached and not nodev, where device nodes are made before they
    /// are bound into the container.
    nodes: Option<OwnedFd>,
    expected: Expected,
}

impl RealMounts {
    fn root(&self) -> Result<BorrowedFd<'_>, Errno> {
        self.root.as_ref().map(|r| r.as_fd()).ok_or(Errno::EBADFD)
    }

    /// Where to resolve container path `p` from: the handle of the deepest fresh mount
    /// this plan made above it (nobody else has written there), else the root.
    fn base(&self, p: &Path) -> Result<(BorrowedFd<'_>, PathBuf), Errno> {
        let deepest = self
            .mounted
            .iter()
            .filter(|(at, ..)| p.starts_with(at))
            .max_by_key(|(at, ..)| at.components().count());
        if let Some((at, fd, true)) = deepest {
            let rest = p.strip_prefix(at).map_err(|_| Errno::EINVAL)?;
            return Ok((fd.as_fd(), Path::new("/").join(rest)));
        }
        Ok((self.root()?, p.to_path_buf()))
    }

    fn open_target(&self, p: &Path) -> Result<OwnedFd, Errno> {
        let (base, rel) = self.base(p)?;
        fsroot::open_path(base, &rel)
    }

    fn record(&mut self, at: &Path, mnt: OwnedFd, fresh: bool) {
        self.mounted.push((at.to_path_buf(), mnt, fresh));
    }

    fn new_root(&mut self, src: &RootSource) -> Result<(), Errno> {
        let (tree, anchor) = match src {
            RootSource::Rootfs(r) => {
                // The directory checked when the options were read, opened without
                // following links; the copy is attached onto it, where pivot_root needs
                // a mount.
                let dir = fsroot::open_host_checked(&r.path, r.id)?;
                let tree = clone_tree(dir.as_fd(), true)?;
                sys::mount_setattr(
                    tree.as_fd(),
                    true,
                    MOUNT_ATTR_NODEV,
                    propagation(r.propagation),
                )?;
                (tree, dir)
            }
            RootSource::Host => {
                let tree = clone_host(Path::new("/"), true)?;
                sys::mount_setattr(
                    tree.as_fd(),
                    true,
                    MOUNT_ATTR_RDONLY | MOUNT_ATTR_NODEV,
                    libc::MS_PRIVATE,
                )?;
                // Staged on a tmpfs over this namespace's /tmp (the host's is untouched).
                let staging = fresh(
                    "tmpfs",
                    "mode=0700,size=4k",
                    attrs(libc::MS_NOSUID | libc::MS_NODEV),
                )?;
                let tmp = rustix::fs::open(
                    "/tmp",
                    rustix::fs::OFlags::PATH
                        | rustix::fs::OFlags::DIRECTORY
                        | rustix::fs::OFlags::CLOEXEC,
                    rustix::fs::Mode::empty(),
                )
                .map_err(errno)?;
                attach(staging.as_fd(), tmp.as_fd())?;
                let anchor = fsroot::mkdir_all(staging.as_fd(), Path::new("/root"))?;
                (tree, anchor)
            }
        };
        attach(tree.as_fd(), anchor.as_fd())?;
        self.root = Some(tree);
        Ok(())
    }

    fn bind(&mut self, src: &BindSource, dst: &Path) -> Result<(), Errno> {
        let tree = match src {
            BindSource::Device(p) => clone_host(p, false)?,
            BindSource::Cgroup { path, read_only } => {
                let tree = clone_host(path, false)?;
                let mut set = MOUNT_ATTR_NODEV | MOUNT_ATTR_NOSUID | MOUNT_ATTR_NOEXEC;
                if *read_only {
                    set |= MOUNT_ATTR_RDONLY;
                }
                sys::mount_setattr(tree.as_fd(), false, set, libc::MS_PRIVATE)?;
                tree
            }
            BindSource::Volume(v) => {
                let tree = self.taken.remove(&v.container).ok_or(Errno::EBADFD)?;
                // The atime mode of a bind is its source's (mount_setattr would need it
                // cleared as a whole first).
                let extra = v.flags & (libc::MS_NOSUID | libc::MS_NOEXEC | libc::MS_NODIRATIME);
                let mut set = MOUNT_ATTR_NODEV | u64::from(attrs(extra).bits());
                if v.read_only {
                    set |= MOUNT_ATTR_RDONLY;
                }
                sys::mount_setattr(tree.as_fd(), v.recursive, set, propagation(v.propagation))?;
                tree
            }
        };
        let target = self.open_target(dst)?;
        attach(tree.as_fd(), target.as_fd())?;
        self.record(dst, tree, false);
        Ok(())
    }

    fn mount(&mut self, fs: Fs, dst: &Path, flags: u64, data: &str) -> Result<(), Errno> {
        let mnt = fresh(fs.name(), data, attrs(flags))?;
        let target = self.open_target(dst)?;
        attach(mnt.as_fd(), target.as_fd())?;
        let id = fsroot::mount_id(mnt.as_fd())?;
        match (fs, dst.to_str()) {
            (Fs::Proc, Some("/proc")) => self.expected.proc = Some(id),
            (Fs::Tmpfs, Some("/dev")) => self.expected.dev = Some(id),
            _ => {}
        }
        self.record(dst, mnt, true);
        Ok(())
    }

    fn sysfs(&mut self, dst: &Path, flags: u64) -> Result<(), Errno> {
        let ro = MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV | MOUNT_ATTR_NOEXEC;
        let mnt = match fresh("sysfs", "", attrs(flags)) {
            // In a user namespace that does not own the network namespace, or with /sys
            // locked: the host's /sys, read-only.
            Err(Errno::EPERM) => {
                let tree = clone_host(Path::new("/sys"), true)?;
                sys::mount_setattr(tree.as_fd(), true, ro, libc::MS_PRIVATE)?;
                tree
            }
            r => r?,
        };
        let target = self.open_target(dst)?;
        attach(mnt.as_fd(), target.as_fd())?;
        if dst == Path::new("/sys") {
            self.expected.sys = Some(fsroot::mount_id(mnt.as_fd())?);
        }
        // The kernel's either way: sysfs links stay inside sysfs.
        self.record(dst, mnt, true);
        Ok(())
    }

    fn symlink(&self, target: &Path, link: &Path) -> Result<(), Errno> {
        let (Some(name), Some(parent)) = (link.file_name(), link.parent()) else {
            return Err(Errno::EINVAL);
        };
        let (base, rel) = self.base(parent)?;
        let dir = fsroot::mkdir_all(base, &rel)?;
        match rustix::fs::symlinkat(target, &dir, name) {
            Ok(()) | Err(rustix::io::Errno::EXIST) => Ok(()),
            Err(e) => Err(errno(e)),
        }
    }

    fn mask(&mut self, p: &Path) -> Result<(), Errno> {
        // Decided from a descriptor of the fresh /proc or /sys: ENOENT there means this
        // kernel has no such entry.
        let target = match self.open_target(p) {
            Err(Errno::ENOENT) => return Ok(()),
            r => r?,
        };
        let st = rustix::fs::fstat(&target).map_err(errno)?;
        let dir =
            rustix::fs::FileType::from_raw_mode(st.st_mode) == rustix::fs::FileType::Directory;
        let cover = if dir {
            if self.empty.is_none() {
                self.empty = Some(fresh(
                    "tmpfs",
                    "size=4k,nr_inodes=1,mode=0555",
                    attrs(libc::MS_RDONLY | libc::MS_NOSUID | libc::MS_NODEV | libc::MS_NOEXEC),
                )?);
            }
            let empty = self.empty.as_ref().ok_or(Errno::EBADFD)?;
            clone_tree(empty.as_fd(), false)?
        } else {
            // The host's null device, not the container's /dev/null: that one may be
            // under a user's mount.
            clone_host(Path::new("/dev/null"), false)?
        };
        attach(cover.as_fd(), target.as_fd())
    }

    /// A device node: made with mknodat(2) on the staging tmpfs (the only mount of the
    /// container's that is not nodev, and only ever detached), owned and moded as asked,
    /// then bound onto a file made at its path. The device cgroup still decides whether
    /// the container may open it.
    fn device(&mut self, d: &DeviceNode) -> Result<(), Errno> {
        if self.nodes.is_none() {
            self.nodes = Some(fresh(
                "tmpfs",
                "mode=0700,size=4k,nr_inodes=4096",
                attrs(libc::MS_NOSUID | libc::MS_NOEXEC),
            )?);
        }
        let nodes = self.nodes.as_ref().ok_or(Errno::EBADFD)?;
        let name = format!("n{}", self.mounted.len());
        let kind = rustix::fs::FileType::from_raw_mode(d.kind);
        rustix::fs::mknodat(
            nodes,
            name.as_str(),
            kind,
            rustix::fs::Mode::from_raw_mode(d.mode & 0o7777),
            rustix::fs::makedev(d.major as u32, d.minor as u32),
        )
        .map_err(errno)?;
        rustix::fs::chownat(
            nodes,
            name.as_str(),
            Some(rustix::fs::Uid::from_raw(d.uid)),
            Some(rustix::fs::Gid::from_raw(d.gid)),
            rustix::fs::AtFlags::SYMLINK_NOFOLLOW,
        )
        .map_err(errno)?;
        // mknod applies the umask: the mode is set again, exactly.
        rustix::fs::chmodat(
            nodes,
            name.as_str(),
            rustix::fs::Mode::from_raw_mode(d.mode & 0o7777),
            rustix::fs::AtFlags::empty(),
        )
        .map_err(errno)?;
        let tree = rustix::mount::open_tree(
            nodes,
            name.as_str(),
            OpenTreeFlags::OPEN_TREE_CLONE | OpenTreeFlags::OPEN_TREE_CLOEXEC,
        )
        .map_err(errno)?;
        let (base, rel) = self.base(&d.path)?;
        let target = fsroot::touch(base, &rel)?;
        attach(tree.as_fd(), target.as_fd())?;
        self.record(&d.path, tree, false);
        Ok(())
    }

    /// Writes a sysctl through the fresh `/proc` this plan mounted (resolved from its
    /// handle: no link in the root file system can send the write elsewhere).
    fn sysctl(&self, key: &str, value: &str) -> Result<(), Errno> {
        use std::io::Write;
        let p = Path::new("/proc/sys").join(key.replace('.', "/"));
        let (base, rel) = self.base(&p)?;
        if !matches!(
            self.mounted
                .iter()
                .find(|(at, ..)| at == Path::new("/proc")),
            Some((_, _, true))
        ) {
            return Err(Errno::ENOENT);
        }
        let fd = fsroot::open(base, &rel, rustix::fs::OFlags::WRONLY)?;
        std::fs::File::from(fd)
            .write_all(value.as_bytes())
            .map_err(|e| Errno::from_raw(e.raw_os_error().unwrap_or(libc::EIO)))
    }

    fn read_only_path(&self, p: &Path) -> Result<(), Errno> {
        let target = match self.open_target(p) {
            Err(Errno::ENOENT) => return Ok(()),
            r => r?,
        };
        let tree = clone_tree(target.as_fd(), true)?;
        sys::mount_setattr(
            tree.as_fd(),
            true,
            MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV | MOUNT_ATTR_NOEXEC,
            0,
        )?;
        attach(tree.as_fd(), target.as_fd())
    }

    fn pivot_root(&self) -> Result<(), Errno> {
        // pivot_root(".", ".") stacks the old root on top of the new one; detaching it
        // leaves the new root alone (as runc does; no put_old directory needed).
        nix::unistd::fchdir(self.root()?)?;
        nix::unistd::pivot_root(".", ".")?;
        nix::mount::umount2(".", nix::mount::MntFlags::MNT_DETACH)?;
        nix::unistd::chdir("/")
    }

    /// The container's `/proc`, `/sys` and `/dev` are the mounts made here, of the right
    /// kind: a root file system changed under the set-up (a directory renamed away, a
    /// link swapped in) fails the run here rather than leave the container a `/proc`
    /// without masks.
    fn verify(&self) -> Result<(), Errno> {
        for (path, id, magic) in [
            ("/proc", self.expected.proc, PROC_SUPER_MAGIC),
            ("/sys", self.expected.sys, SYSFS_MAGIC),
            ("/dev", self.expected.dev, TMPFS_MAGIC),
        ] {
            let Some(id) = id else { continue };
            let fd = rustix::fs::open(
                path,
                rustix::fs::OFlags::PATH
                    | rustix::fs::OFlags::DIRECTORY
                    | rustix::fs::OFlags::NOFOLLOW
                    | rustix::fs::OFlags::CLOEXEC,
                rustix::fs::Mode::empty(),
            )
            .map_err(errno)?;
            if fsroot::mount_id(fd.as_fd())? != id || fsroot::fs_magic(fd.as_fd())? != magic {
                return Err(Errno::ESTALE);
            }
        }
        Ok(())
    }
}

impl MountHost for RealMounts {
    fn apply(&mut self, op: &Op) -> Result<(), Errno> {
        crate::fault::inject(&op.describe())?;
        match op {
            Op::TakeVolume(v) => {
                let tree = clone_tree(
                    fsroot::open_host_checked(&v.host, v.id)?.as_fd(),
                    v.recursive,
                )?;
                self.taken.insert(v.container.clone(), tree);
                Ok(())
            }
            Op::MakeRootSlave => {
                let none: Option<&str> = None;
                nix::mount::mount(
                    none,
                    "/",
                    none,
                    nix::mount::MsFlags::MS_REC | nix::mount::MsFlags::MS_SLAVE,
                    none,
                )
            }
            Op::NewRoot(src) => self.new_root(src),
            Op::Mkdir(p) => {
                let (base, rel) = self.base(p)?;
                fsroot::mkdir_all(base, &rel).map(drop)
            }
            Op::Touch(p) => {
                let (base, rel) = self.base(p)?;
                fsroot::touch(base, &rel).map(drop)
            }
            Op::Bind { src, dst } => self.bind(src, dst),
            Op::Mount {
                fs,
                dst,
                flags,
                data,
            } => self.mount(*fs, dst, *flags, data),
            Op::Sysfs { dst, flags } => self.sysfs(dst, *flags),
            Op::Device(d) => self.device(d),
            Op::Sysctl { key, value } => self.sysctl(key, value),
            Op::RestrictRoot { read_only } => {
                let mut set = MOUNT_ATTR_NODEV;
                if *read_only {
                    set |= MOUNT_ATTR_RDONLY;
                }
                sys::mount_setattr(self.root()?, true, set, 0)
            }
            Op::Symlink { target, link } => self.symlink(target, link),
            Op::Mask(p) => self.mask(p),
            Op::ReadOnlyPath(p) => self.read_only_path(p),
            Op::SealMount(p) => {
                let (_, fd, _) = self
                    .mounted
                    .iter()
                    .rev()
                    .find(|(at, ..)| at == p)
                    .ok_or(Errno::ENOENT)?;
                sys::mount_setattr(fd.as_fd(), false, MOUNT_ATTR_RDONLY, 0)
            }
            Op::PivotRoot => self.pivot_root(),
            Op::Verify => self.verify(),
        }
    }
}
