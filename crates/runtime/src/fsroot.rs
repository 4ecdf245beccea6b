//! Paths inside the container's root, touched only through descriptors.
//!
//! A path string handed to mount(2) or mkdir(2) is looked up again by the kernel, and a
//! process writing the root file system at the same time can swap any component for a
//! link in between (runc's CVE-2021-30465). Here every lookup is one `openat2(2)` with
//! `RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS` from a descriptor of the root: `..` stops at
//! the root and links are followed as if it were `/`, atomically. What is missing is
//! created one component at a time with `mkdirat`/`openat` relative to the descriptor of
//! its verified parent, never following a link there. The caller then mounts onto the
//! descriptor (`move_mount` with `MOVE_MOUNT_T_EMPTY_PATH`), so the place checked is the
//! place mounted on.

use nix::errno::Errno;
use rustix::fs::{Mode, OFlags, ResolveFlags};
use std::ffi::OsStr;
use std::os::fd::{AsFd, BorrowedFd, OwnedFd};
use std::path::{Component, Path};

/// How often a lookup is retried when the kernel says a concurrent rename or mount may
/// have raced it (EAGAIN from `RESOLVE_IN_ROOT`), before the run gives up.
const RETRIES: usize = 64;

/// Links are resolved inside the root; `/proc/self/fd`-style magic links never.
const IN_ROOT: ResolveFlags = ResolveFlags::IN_ROOT.union(ResolveFlags::NO_MAGICLINKS);

/// One component below a verified directory: no link of any kind, nothing above it.
const BELOW: ResolveFlags = ResolveFlags::BENEATH
    .union(ResolveFlags::NO_SYMLINKS)
    .union(ResolveFlags::NO_MAGICLINKS);

pub fn errno(e: rustix::io::Errno) -> Errno {
    Errno::from_raw(e.raw_os_error())
}

/// The components of an absolute container path; `..` is refused (the configuration
/// never holds one; a path from elsewhere must not climb).
fn components(path: &Path) -> Result<Vec<&OsStr>, Errno> {
    let mut out = Vec::new();
    for c in path.components() {
        match c {
            Component::RootDir | Component::CurDir => {}
            Component::Normal(n) => out.push(n),
            Component::ParentDir | Component::Prefix(_) => return Err(Errno::EINVAL),
        }
    }
    Ok(out)
}

fn joined(parts: &[&OsStr]) -> std::path::PathBuf {
    if parts.is_empty() {
        return ".".into();
    }
    parts.iter().collect()
}

fn openat2_retry(
    dir: BorrowedFd<'_>,
    path: &Path,
    flags: OFlags,
    mode: Mode,
    resolve: ResolveFlags,
) -> Result<OwnedFd, Errno> {
    for _ in 0..RETRIES {
        match rustix::fs::openat2(dir, path, flags | OFlags::CLOEXEC, mode, resolve) {
            Err(rustix::io::Errno::AGAIN) => continue,
            r => return r.map_err(errno),
        }
    }
    Err(Errno::EAGAIN)
}

/// Opens `path` (absolute, as the container sees it) below `root` with `flags`, links
/// resolved inside `root`.
pub fn open(root: BorrowedFd<'_>, path: &Path, flags: OFlags) -> Result<OwnedFd, Errno> {
    let rel = joined(&components(path)?);
    openat2_retry(root, &rel, flags, Mode::empty(), IN_ROOT)
}

/// An `O_PATH` descriptor of `path` below `root`.
pub fn open_path(root: BorrowedFd<'_>, path: &Path) -> Result<OwnedFd, Errno> {
    open(root, path, OFlags::PATH)
}

/// Opens `name`, one component, in the verified directory `dir`, without following a
/// link.
fn open_child(dir: BorrowedFd<'_>, name: &OsStr, flags: OFlags) -> Result<OwnedFd, Errno> {
    openat2_retry(dir, Path::new(name), flags, Mode::empty(), BELOW)
}

/// The directory `path` below `root`, made with its missing parents (mode 0755), as an
/// `O_PATH` descriptor.
///
/// The part that exists is resolved in one lookup inside the root; each missing
/// component is made with `mkdirat` in the descriptor of its parent and opened there
/// without following links. If something else appears at that name in between (a link,
/// a file), the lookup fails: a race ends the run, it never sends it elsewhere. A link
/// that leads to nothing is not followed to make its target: ELOOP.
pub fn mkdir_all(root: BorrowedFd<'_>, path: &Path) -> Result<OwnedFd, Errno> {
    let parts = components(path)?;
    let dir = OFlags::PATH | OFlags::DIRECTORY;
    let mut have = parts.len();
    let mut fd = loop {
        match openat2_retry(root, &joined(&parts[..have]), dir, Mode::empty(), IN_ROOT) {
            Ok(fd) => break fd,
            Err(Errno::ENOENT) if have > 0 => have -= 1,
            Err(e) => return Err(e),
        }
    };
    for name in &parts[have..] {
        match rustix::fs::mkdirat(&fd, *name, Mode::from_raw_mode(0o755)) {
            Ok(()) | Err(rustix::io::Errno::EXIST) => {}
            Err(e) => return Err(errno(e)),
        }
        fd = open_child(fd.as_fd(), name, dir)?;
    }
    Ok(fd)
}

/// The file `path` below `root` to bind a file onto: the one that is there (links
/// resolved inside the root), or a new empty one (mode 0644) made in its verified
/// parent with `O_EXCL | O_NOFOLLOW`.
pub fn touch(root: BorrowedFd<'_>, path: &Path) -> Result<OwnedFd, Errno> {
    match open_path(root, path) {
        Err(Errno::ENOENT) => {}
        r => return r,
    }
    let parts = components(path)?;
    let Some((name, parents)) = parts.split_last() else {
        return Err(Errno::EISDIR);
    };
    let parent = mkdir_all(root, &joined(parents))?;
    for _ in 0..RETRIES {
        match rustix::fs::openat2(
            &parent,
            *name,
            OFlags::CREATE | OFlags::EXCL | OFlags::WRONLY | OFlags::NOFOLLOW | OFlags::CLOEXEC,
            Mode::from_raw_mode(0o644),
            BELOW,
        ) {
            Err(rustix::io::Errno::AGAIN) => continue,
            r => return r.map_err(errno),
        }
    }
    Err(Errno::EAGAIN)
}

/// At most this much of a file syscage reads from the root (`/etc/passwd`, `/etc/group`).
pub const READ_CAP: u64 = 4 << 20;

/// Why a file of the root could not be read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReadError {
    /// The lookup or the read failed.
    Sys(Errno),
    /// Not a regular file (a FIFO, a device, a directory).
    NotRegular,
    /// Larger than [`READ_CAP`].
    TooLarge,
}

/// Reads a small regular file of the root as the container would see it: links resolved
/// inside the root, refused unless it is a regular file of at most [`READ_CAP`] bytes.
///
/// The file is looked up as an `O_PATH` descriptor, which opens nothing: a device node an
/// earlier container left there (the root file system is not `nodev` on the host, where
/// this runs as root) would otherwise have its driver's open run, and a FIFO would block.
/// Only once it is known to be a regular file is that same inode opened for reading,
/// through the descriptor (`/proc/self/fd/N`), so no rename in between can change what is
/// opened.
pub fn read_small(root: BorrowedFd<'_>, path: &Path) -> Result<Vec<u8>, ReadError> {
    use std::io::Read;
    let fd = open(root, path, OFlags::PATH).map_err(ReadError::Sys)?;
    let st = rustix::fs::fstat(&fd).map_err(|e| ReadError::Sys(errno(e)))?;
    if rustix::fs::FileType::from_raw_mode(st.st_mode) != rustix::fs::FileType::RegularFile {
        return Err(ReadError::NotRegular);
    }
    if st.st_size as u64 > READ_CAP {
        return Err(ReadError::TooLarge);
    }
    let file = rustix::fs::open(
        format!("/proc/self/fd/{}", std::os::fd::AsRawFd::as_raw_fd(&fd)),
        OFlags::RDONLY | OFlags::NOCTTY | OFlags::CLOEXEC,
        Mode::empty(),
    )
    .map_err(|e| ReadError::Sys(errno(e)))?;
    let mut buf = Vec::new();
    std::fs::File::from(file)
        .take(READ_CAP + 1)
        .read_to_end(&mut buf)
        .map_err(|e| ReadError::Sys(Errno::from_raw(e.raw_os_error().unwrap_or(libc::EIO))))?;
    if buf.len() as u64 > READ_CAP {
        return Err(ReadError::TooLarge);
    }
    Ok(buf)
}

/// Opens a host path given by the user (`--rootfs`, a volume's source) that was made
/// canonical when the options were read: no component may be a link now, and it must
/// still be the file it was then (`id`, its device and inode), or something swapped it.
pub fn open_host_checked(path: &Path, id: FileId) -> Result<OwnedFd, Errno> {
    let fd = openat2_retry(
        rustix::fs::CWD,
        path,
        OFlags::PATH,
        Mode::empty(),
        ResolveFlags::NO_SYMLINKS | ResolveFlags::NO_MAGICLINKS,
    )?;
    if FileId::of(fd.as_fd())? != id {
        return Err(Errno::ESTALE);
    }
    Ok(fd)
}

/// A file's device and inode.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct FileId {
    pub dev: u64,
    pub ino: u64,
}

impl FileId {
    pub fn of(fd: BorrowedFd<'_>) -> Result<FileId, Errno> {
        let st = rustix::fs::fstat(fd).map_err(errno)?;
        Ok(FileId {
            dev: st.st_dev,
            ino: st.st_ino,
        })
    }

    /// Of a host path, following links (the options are read this way).
    pub fn of_path(path: &Path) -> std::io::Result<FileId> {
        use std::os::unix::fs::MetadataExt;
        let m = std::fs::metadata(path)?;
        Ok(FileId {
            dev: m.dev(),
            ino: m.ino(),
        })
    }
}

/// The id of the mount a descriptor is on (`statx` `STATX_MNT_ID`).
pub fn mount_id(fd: BorrowedFd<'_>) -> Result<u64, Errno> {
    let st = rustix::fs::statx(
        fd,
        "",
        rustix::fs::AtFlags::EMPTY_PATH,
        rustix::fs::StatxFlags::MNT_ID,
    )
    .map_err(errno)?;
    Ok(st.stx_mnt_id)
}

/// The magic number of the file system a descriptor is on (`fstatfs`).
pub fn fs_magic(fd: BorrowedFd<'_>) -> Result<i64, Errno> {
    let st = rustix::fs::fstatfs(fd).map_err(errno)?;
    Ok(st.f_type as i64)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::symlink;

    fn tmp(name: &str) -> std::path::PathBuf {
        let t = std::env::temp_dir().join(format!("syscage-fsroot-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&t);
        std::fs::create_dir_all(t.join("root")).unwrap();
        t
    }

    fn root_fd(t: &Path) -> OwnedFd {
        rustix::fs::open(
            t.join("root"),
            OFlags::PATH | OFlags::DIRECTORY | OFlags::CLOEXEC,
            Mode::empty(),
        )
        .unwrap()
    }

    #[test]
    fn links_resolve_inside_the_root_and_never_make_anything_outside() {
        let t = tmp("links");
        let root = root_fd(&t);
        std::fs::create_dir_all(t.join("outside")).unwrap();
        // An absolute link and a climbing one: both stay in the root.
        symlink(t.join("outside"), t.join("root/abs")).unwrap();
        symlink("../../../../outside", t.join("root/up")).unwrap();
        let d = mkdir_all(root.as_fd(), Path::new("/abs/made")).unwrap_err();
        // /abs points at a path missing inside the root: not followed to make it.
        assert_eq!(d, Errno::ELOOP);
        mkdir_all(root.as_fd(), Path::new("/up/x/y")).unwrap_err();
        assert_eq!(std::fs::read_dir(t.join("outside")).unwrap().count(), 0);
        // Where the link's target exists inside the root, it is followed there.
        std::fs::create_dir_all(
            t.join("root")
                .join(t.join("outside").strip_prefix("/").unwrap()),
        )
        .unwrap();
        mkdir_all(root.as_fd(), Path::new("/abs/made")).unwrap();
        assert!(t
            .join("root")
            .join(t.join("outside").strip_prefix("/").unwrap())
            .join("made")
            .is_dir());
        assert_eq!(std::fs::read_dir(t.join("outside")).unwrap().count(), 0);
        assert_eq!(
            mkdir_all(root.as_fd(), Path::new("/a/../b")).unwrap_err(),
            Errno::EINVAL
        );
        std::fs::remove_dir_all(&t).unwrap();
    }

    #[test]
    fn touch_makes_a_file_or_uses_the_one_there() {
        let t = tmp("touch");
        let root = root_fd(&t);
        touch(root.as_fd(), Path::new("/etc/hostname")).unwrap();
        assert!(t.join("root/etc/hostname").is_file());
        std::fs::write(t.join("root/etc/hostname"), "x").unwrap();
        touch(root.as_fd(), Path::new("/etc/hostname")).unwrap();
        assert_eq!(std::fs::read(t.join("root/etc/hostname")).unwrap(), b"x");
        // A dangling link where the file goes: not followed, not replaced.
        symlink("/nowhere", t.join("root/etc/dangling")).unwrap();
        assert_eq!(
            touch(root.as_fd(), Path::new("/etc/dangling")).unwrap_err(),
            Errno::EEXIST
        );
        std::fs::remove_dir_all(&t).unwrap();
    }

    #[test]
    fn small_files_are_read_without_blocking_and_only_when_regular() {
        let t = tmp("read");
        let root = root_fd(&t);
        std::fs::create_dir_all(t.join("root/etc")).unwrap();
        std::fs::write(t.join("secret"), "host\n").unwrap();
        std::fs::write(t.join("root/etc/group"), "inside\n").unwrap();
        symlink(t.join("secret"), t.join("root/etc/passwd")).unwrap();
        symlink("../../../etc/group", t.join("root/etc/link")).unwrap();
        assert_eq!(
            read_small(root.as_fd(), Path::new("/etc/passwd")),
            Err(ReadError::Sys(Errno::ENOENT))
        );
        assert_eq!(
            read_small(root.as_fd(), Path::new("/etc/link")).unwrap(),
            b"inside\n"
        );
        nix::unistd::mkfifo(
            &t.join("root/etc/fifo"),
            nix::sys::stat::Mode::from_bits_truncate(0o644),
        )
        .unwrap();
        assert_eq!(
            read_small(root.as_fd(), Path::new("/etc/fifo")),
            Err(ReadError::NotRegular)
        );
        let big = std::fs::File::create(t.join("root/etc/big")).unwrap();
        big.set_len(READ_CAP + 1).unwrap();
        assert_eq!(
            read_small(root.as_fd(), Path::new("/etc/big")),
            Err(ReadError::TooLarge)
        );
        std::fs::remove_dir_all(&t).unwrap();
    }

    #[test]
    #[ignore = "needs root (mknod of a device node needs CAP_MKNOD)"]
    fn a_device_node_is_refused_from_its_inode() {
        // Its driver is never opened: a tty would become a controlling terminal, a
        // watchdog would arm.
        let t = tmp("read-dev");
        let root = root_fd(&t);
        std::fs::create_dir_all(t.join("root/etc")).unwrap();
        nix::sys::stat::mknod(
            &t.join("root/etc/dev"),
            nix::sys::stat::SFlag::S_IFCHR,
            nix::sys::stat::Mode::from_bits_truncate(0o644),
            nix::sys::stat::makedev(1, 7),
        )
        .unwrap();
        assert_eq!(
            read_small(root.as_fd(), Path::new("/etc/dev")),
            Err(ReadError::NotRegular)
        );
        std::fs::remove_dir_all(&t).unwrap();
    }

    #[test]
    fn host_paths_must_still_be_what_was_checked() {
        let t = tmp("host");
        let a = t.join("a");
        std::fs::create_dir_all(&a).unwrap();
        let id = FileId::of_path(&a).unwrap();
        open_host_checked(&a, id).unwrap();
        std::fs::rename(&a, t.join("b")).unwrap();
        std::fs::create_dir_all(&a).unwrap();
        assert_eq!(open_host_checked(&a, id).unwrap_err(), Errno::ESTALE);
        std::fs::remove_dir_all(&a).unwrap();
        symlink(t.join("b"), &a).unwrap();
        assert_eq!(open_host_checked(&a, id).unwrap_err(), Errno::ELOOP);
        std::fs::remove_dir_all(&t).unwrap();
    }
}
