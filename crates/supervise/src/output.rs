//! The files syscage writes for the user (`learn -o`, `--report=FILE`): nothing named
//! appears before there is something to write, and a syscage killed at any moment leaves
//! nothing behind.
//!
//! A regular file, or a new one, is written to an unnamed file (`O_TMPFILE`) in the
//! target's directory, opened at once so that a path that cannot be written fails before
//! the command runs. At the end it is put in place: linked to the target's name when the
//! target is new (`linkat` never follows a link at the new name and fails if it exists),
//! else linked to a fresh name and renamed over the target, so the output may be the very
//! profile the run uses and a reader never sees half of it. The fresh name exists only
//! between that link and the rename: Linux cannot rename an unnamed file over another.
//! On a file system without `O_TMPFILE` the bytes wait in memory, and the temporary file
//! is made at the end with `O_CREAT | O_EXCL | O_NOFOLLOW` under a random name.
//!
//! What is at the target's name is never followed or opened blindly: syscage often runs as
//! root, and the directory may be one a container (or another user) could write, so a link,
//! a FIFO or a device planted there must not turn the write into one on a host file, a hang
//! or a driver's open. A link or any file that is not regular is refused, with two
//! exceptions the user names plainly: syscage's own standard output or error
//! (`/dev/stdout`, `/dev/stderr`, `/dev/fd/1`, `/dev/fd/2`, or a regular file they are
//! redirected to), written through syscage's descriptor so the lines keep their order; and
//! a character device named by its path under `/dev` (`/dev/null`), written in place. An
//! existing file in a directory the user cannot write is emptied and written at the end.

use nix::errno::Errno;
use nix::fcntl::{openat, renameat, OFlag, AT_FDCWD};
use nix::sys::stat::Mode;
use nix::unistd::{linkat, unlinkat, AccessFlags, UnlinkatFlags};
use std::ffi::{OsStr, OsString};
use std::fs::File;
use std::io::{self, Write};
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, OwnedFd};
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};

/// A file being written for the user.
pub struct Output {
    path: PathBuf,
    sink: Sink,
}

enum Sink {
    InPlace(File),
    /// An existing file, emptied and written at the end.
    Rewrite(File, Vec<u8>),
    Replace(Replace),
}

struct Replace {
    /// The target's directory (`O_PATH`), looked up once.
    dir: OwnedFd,
    name: OsString,
    /// Mode and owner of the target when it existed: the new file keeps them.
    existing: Option<(u32, u32, u32)>,
    body: Body,
}

enum Body {
    Unnamed(File),
    Memory(Vec<u8>),
}

fn from_errno(e: Errno) -> io::Error {
    io::Error::from_raw_os_error(e as i32)
}

impl Output {
    /// Opens the output for `path` (see the module's comment).
    pub fn open(path: &Path) -> io::Result<Output> {
        Self::open_with(path, true)
    }

    /// As [`Output::open`]; `unnamed: false` takes the path of a file system without
    /// `O_TMPFILE`.
    fn open_with(path: &Path, unnamed: bool) -> io::Result<Output> {
        let in_place = |file: File| Output {
            path: path.to_path_buf(),
            sink: Sink::InPlace(file),
        };
        if let Some(fd) = own_stream(path) {
            return Ok(in_place(fd?));
        }
        let name = path
            .file_name()
            .ok_or_else(|| from_errno(Errno::EISDIR))?
            .to_os_string();
        let parent = match path.parent() {
            Some(p) if !p.as_os_str().is_empty() => p,
            _ => Path::new("."),
        };
        // The directory as the user named it (links there are theirs); the name in it is
        // looked at without following anything.
        let dir = openat(
            AT_FDCWD,
            parent,
            OFlag::O_PATH | OFlag::O_DIRECTORY | OFlag::O_CLOEXEC,
            Mode::empty(),
        )
        .map_err(from_errno)?;
        let existing = match nix::sys::stat::fstatat(
            &dir,
            name.as_os_str(),
            nix::fcntl::AtFlags::AT_SYMLINK_NOFOLLOW,
        ) {
            Ok(st) => Some(st),
            Err(Errno::ENOENT) => None,
            Err(e) => return Err(from_errno(e)),
        };
        if let Some(st) = &existing {
            match st.st_mode & libc::S_IFMT {
                libc::S_IFREG => {
                    // syscage's own stdout or stderr redirected to a file
                    // (`--report=out.log >out.log`): written through that descriptor, so
                    // its lines and syscage's others share one offset.
                    if let Some(own) = own_output(st) {
                        return Ok(in_place(own?));
                    }
                }
                libc::S_IFCHR if path.starts_with("/dev/") => {
                    let fd = openat(
                        &dir,
                        name.as_os_str(),
                        OFlag::O_WRONLY | OFlag::O_NOFOLLOW | OFlag::O_NOCTTY | OFlag::O_CLOEXEC,
                        Mode::empty(),
                    )
                    .map_err(from_errno)?;
                    return Ok(in_place(File::from(fd)));
                }
                libc::S_IFDIR => return Err(from_errno(Errno::EISDIR)),
                libc::S_IFLNK => return Err(refused(
                    "it is a symbolic link, and syscage writes through no link (one planted there could send the write to any file): name the file itself",
                )),
                _ => return Err(refused(
                    "it exists and is not a regular file (a FIFO, a socket or a device outside /dev): name a regular file or a new one",
                )),
            }
        }
        let tmpfile = if unnamed {
            openat(
                &dir,
                ".",
                OFlag::O_TMPFILE | OFlag::O_WRONLY | OFlag::O_CLOEXEC,
                Mode::from_bits_truncate(0o666),
            )
        } else {
            Err(Errno::EOPNOTSUPP)
        };
        let body = match tmpfile {
            Ok(fd) => Body::Unnamed(File::from(fd)),
            // No O_TMPFILE here (EISDIR from kernels that predate it): still fail now if
            // the directory cannot take a file.
            Err(Errno::EOPNOTSUPP | Errno::EISDIR | Errno::EINVAL) => {
                nix::unistd::faccessat(
                    &dir,
                    ".",
                    AccessFlags::W_OK | AccessFlags::X_OK,
                    nix::fcntl::AtFlags::AT_EACCESS,
                )
                .map_err(from_errno)?;
                Body::Memory(Vec::new())
            }
            // A file this user may write in a directory they may not: rewritten in place at
            // the end, as long as it can be opened now, still without following anything
            // (and without blocking, should a FIFO have taken the name since).
            Err(Errno::EACCES | Errno::EPERM) if existing.is_some() => {
                let fd = openat(
                    &dir,
                    name.as_os_str(),
                    OFlag::O_WRONLY | OFlag::O_NOFOLLOW | OFlag::O_NONBLOCK | OFlag::O_CLOEXEC,
                    Mode::empty(),
                )
                .map_err(from_errno)?;
                let st = nix::sys::stat::fstat(&fd).map_err(from_errno)?;
                if st.st_mode & libc::S_IFMT != libc::S_IFREG {
                    return Err(refused(
                        "it changed into something other than a regular file",
                    ));
                }
                nix::fcntl::fcntl(&fd, nix::fcntl::FcntlArg::F_SETFL(OFlag::empty()))
                    .map_err(from_errno)?;
                return Ok(Output {
                    path: path.to_path_buf(),
                    sink: Sink::Rewrite(File::from(fd), Vec::new()),
                });
            }
            Err(e) => return Err(from_errno(e)),
        };
        Ok(Output {
            path: path.to_path_buf(),
            sink: Sink::Replace(Replace {
                dir,
                name,
                existing: existing.map(|st| (st.st_mode & 0o777, st.st_uid, st.st_gid)),
                body,
            }),
        })
    }

    /// Opens the output `rel` beneath the directory `root`, for a writer that must not
    /// reach outside it (`syscage agent` writing where a container asks): `rel`'s
    /// directory is resolved with `openat2(RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS)`, so
    /// neither `..` nor a link leads out of `root`; the file itself must be a regular file
    /// or not exist, and is replaced, never written through (a link or a hard link to a
    /// file elsewhere stays as it was). A new file gets mode 0600. `shown` is the path
    /// messages name.
    pub fn open_beneath(root: BorrowedFd<'_>, rel: &Path, shown: &Path) -> io::Result<Output> {
        use nix::fcntl::{openat2, OpenHow, ResolveFlag};
        let name = rel
            .file_name()
            .ok_or_else(|| from_errno(Errno::EISDIR))?
            .to_os_string();
        let parent = match rel.parent() {
            Some(p) if !p.as_os_str().is_empty() => p,
            _ => Path::new("."),
        };
        let how = OpenHow::new()
            .flags(OFlag::O_PATH | OFlag::O_DIRECTORY | OFlag::O_CLOEXEC)
            .resolve(ResolveFlag::RESOLVE_BENEATH | ResolveFlag::RESOLVE_NO_MAGICLINKS);
        let dir = openat2(root, parent, how).map_err(from_errno)?;
        let existing = match nix::sys::stat::fstatat(
            &dir,
            name.as_os_str(),
            nix::fcntl::AtFlags::AT_SYMLINK_NOFOLLOW,
        ) {
            Ok(st) if st.st_mode & libc::S_IFMT == libc::S_IFREG => {
                Some((st.st_mode & 0o777, st.st_uid, st.st_gid))
            }
            Ok(_) => {
                return Err(io::Error::new(
                    io::ErrorKind::AlreadyExists,
                    "it exists and is not a regular file",
                ))
            }
            Err(Errno::ENOENT) => None,
            Err(e) => return Err(from_errno(e)),
        };
        let body = match openat(
            &dir,
            ".",
            OFlag::O_TMPFILE | OFlag::O_WRONLY | OFlag::O_CLOEXEC,
            Mode::from_bits_truncate(0o600),
        ) {
            Ok(fd) => Body::Unnamed(File::from(fd)),
            Err(Errno::EOPNOTSUPP | Errno::EISDIR | Errno::EINVAL) => Body::Memory(Vec::new()),
            Err(e) => return Err(from_errno(e)),
        };
        Ok(Output {
            path: shown.to_path_buf(),
            sink: Sink::Replace(Replace {
                dir,
                name,
                existing,
                body,
            }),
        })
    }

    /// The path as the user gave it.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Puts the file in place (nothing to do for a device or FIFO written in place).
    pub fn commit(self) -> io::Result<()> {
        match self.sink {
            Sink::InPlace(mut f) => f.flush(),
            Sink::Rewrite(mut f, bytes) => {
                f.set_len(0)?;
                f.write_all(&bytes)?;
                f.sync_all()
            }
            Sink::Replace(r) => r.put(),
        }
    }
}

impl Write for Output {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        match &mut self.sink {
            Sink::InPlace(f) => f.write(buf),
            Sink::Rewrite(_, v) => v.write(buf),
            Sink::Replace(r) => match &mut r.body {
                Body::Unnamed(f) => f.write(buf),
                Body::Memory(v) => v.write(buf),
            },
        }
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

fn refused(why: &'static str) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidInput, why)
}

/// A duplicate of syscage's standard output or error when `path` names it as such.
fn own_stream(path: &Path) -> Option<io::Result<File>> {
    let fd = match path.as_os_str().as_bytes() {
        b"/dev/stdout" | b"/dev/fd/1" | b"/proc/self/fd/1" => {
            io::stdout().as_fd().try_clone_to_owned()
        }
        b"/dev/stderr" | b"/dev/fd/2" | b"/proc/self/fd/2" => {
            io::stderr().as_fd().try_clone_to_owned()
        }
        _ => return None,
    };
    Some(fd.map(File::from))
}

/// A duplicate of syscage's standard output or error, if `st` is the file it writes to.
fn own_output(st: &nix::sys::stat::FileStat) -> Option<io::Result<File>> {
    let same = |o: nix::sys::stat::FileStat| o.st_dev == st.st_dev && o.st_ino == st.st_ino;
    let (out, err) = (io::stdout(), io::stderr());
    let fd = if nix::sys::stat::fstat(out.as_fd()).is_ok_and(same) {
        out.as_fd()
    } else if nix::sys::stat::fstat(err.as_fd()).is_ok_and(same) {
        err.as_fd()
    } else {
        return None;
    };
    Some(fd.try_clone_to_owned().map(File::from))
}

/// A name in the target's directory that nobody can guess: the process's randomly keyed
/// hasher (std seeds it from the kernel) over the time.
fn fresh_name(name: &OsStr) -> OsString {
    use std::hash::{BuildHasher, Hasher};
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u128(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or(0),
    );
    // Room for the suffix within NAME_MAX (255 bytes).
    let bytes = name.as_bytes();
    let mut n = OsString::from(".");
    n.push(OsStr::from_bytes(&bytes[..bytes.len().min(200)]));
    n.push(format!(".syscage-{:016x}", h.finish()));
    n
}

impl Replace {
    fn put(self) -> io::Result<()> {
        match &self.body {
            Body::Unnamed(f) => {
                self.keep_mode(f);
                f.sync_all()?;
                if self.existing.is_none() {
                    match self.link(f, &self.name) {
                        Err(e) if e.raw_os_error() == Some(libc::EEXIST) => {}
                        done => return done,
                    }
                }
                // Made since, or there before: replace it.
                let mut tries = 0;
                let tmp = loop {
                    let tmp = fresh_name(&self.name);
                    match self.link(f, &tmp) {
                        Ok(()) => break tmp,
                        Err(e) if e.raw_os_error() == Some(libc::EEXIST) && tries < 8 => tries += 1,
                        Err(e) => return Err(e),
                    }
                };
                self.rename(&tmp)
            }
            Body::Memory(bytes) => {
                let tmp = fresh_name(&self.name);
                let fd = openat(
                    &self.dir,
                    tmp.as_os_str(),
                    OFlag::O_CREAT
                        | OFlag::O_EXCL
                        | OFlag::O_NOFOLLOW
                        | OFlag::O_WRONLY
                        | OFlag::O_CLOEXEC,
                    Mode::from_bits_truncate(0o666),
                )
                .map_err(from_errno)?;
                let mut f = File::from(fd);
                self.keep_mode(&f);
                if let Err(e) = f.write_all(bytes).and_then(|()| f.sync_all()) {
                    let _ = unlinkat(&self.dir, tmp.as_os_str(), UnlinkatFlags::NoRemoveDir);
                    return Err(e);
                }
                self.rename(&tmp)
            }
        }
    }

    /// The replaced file's mode, and its owner when syscage may give it (root).
    fn keep_mode(&self, f: &File) {
        if let Some((mode, uid, gid)) = self.existing {
            let _ = nix::sys::stat::fchmod(f.as_fd(), Mode::from_bits_truncate(mode));
            if nix::unistd::geteuid().is_root() {
                let _ = nix::unistd::fchown(
                    f.as_fd(),
                    Some(nix::unistd::Uid::from_raw(uid)),
                    Some(nix::unistd::Gid::from_raw(gid)),
                );
            }
        }
    }

    /// Links the unnamed file at `name`: through `/proc/self/fd` (any user may), else
    /// with AT_EMPTY_PATH (needs CAP_DAC_READ_SEARCH) when /proc is not there.
    fn link(&self, f: &File, name: &OsStr) -> io::Result<()> {
        let proc = format!("/proc/self/fd/{}", f.as_raw_fd());
        match linkat(
            AT_FDCWD,
            proc.as_str(),
            &self.dir,
            name,
            nix::fcntl::AtFlags::AT_SYMLINK_FOLLOW,
        ) {
            Err(Errno::ENOENT) if !Path::new("/proc/self/fd").exists() => linkat(
                f.as_fd(),
                "",
                &self.dir,
                name,
                nix::fcntl::AtFlags::AT_EMPTY_PATH,
            )
            .map_err(from_errno),
            r => r.map_err(from_errno),
        }
    }

    fn rename(&self, tmp: &OsStr) -> io::Result<()> {
        renameat(&self.dir, tmp, &self.dir, self.name.as_os_str()).map_err(|e| {
            let _ = unlinkat(&self.dir, tmp, UnlinkatFlags::NoRemoveDir);
            from_errno(e)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::fs;
    use std::os::unix::fs::MetadataExt;
    use std::os::unix::fs::PermissionsExt;

    fn temp(name: &str) -> PathBuf {
        let d = std::env::temp_dir().join(format!("syscage-output-{name}-{}", std::process::id()));
        let _ = fs::remove_dir_all(&d);
        fs::create_dir_all(&d).unwrap();
        d
    }

    fn names(d: &Path) -> Vec<String> {
        let mut v: Vec<String> = fs::read_dir(d)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        v.sort();
        v
    }

    #[test]
    fn nothing_is_named_until_commit_and_nothing_stays_without_it() {
        for unnamed in [true, false] {
            let d = temp(&format!("new-{unnamed}"));
            let p = d.join("out.json");
            let mut o = Output::open_with(&p, unnamed).unwrap();
            o.write_all(b"hello\n").unwrap();
            assert!(names(&d).is_empty(), "{:?}", names(&d));
            o.commit().unwrap();
            assert_eq!(names(&d), ["out.json"]);
            assert_eq!(fs::read_to_string(&p).unwrap(), "hello\n");
            // Dropped without commit (a failed run): nothing happens.
            let mut o = Output::open_with(&p, unnamed).unwrap();
            o.write_all(b"other\n").unwrap();
            drop(o);
            assert_eq!(names(&d), ["out.json"]);
            assert_eq!(fs::read_to_string(&p).unwrap(), "hello\n");
            fs::remove_dir_all(&d).unwrap();
        }
    }

    #[test]
    fn an_existing_file_is_replaced_whole_and_keeps_its_mode() {
        for unnamed in [true, false] {
            let d = temp(&format!("old-{unnamed}"));
            let p = d.join("out.json");
            fs::write(&p, "old contents, longer than the new\n").unwrap();
            fs::set_permissions(&p, fs::Permissions::from_mode(0o640)).unwrap();
            let mut o = Output::open_with(&p, unnamed).unwrap();
            o.write_all(b"new\n").unwrap();
            o.commit().unwrap();
            assert_eq!(names(&d), ["out.json"]);
            assert_eq!(fs::read_to_string(&p).unwrap(), "new\n");
            assert_eq!(fs::metadata(&p).unwrap().mode() & 0o777, 0o640);
            fs::remove_dir_all(&d).unwrap();
        }
    }

    /// A link, a FIFO or a device planted at the name (by a container that could write
    /// the directory) is refused: never written through, never opened, never waited on.
    #[test]
    fn nothing_planted_at_the_name_is_written_through() {
        let d = temp("planted");
        let victim = d.join("victim");
        fs::write(&victim, "victim\n").unwrap();
        let link = d.join("link.json");
        std::os::unix::fs::symlink(&victim, &link).unwrap();
        let dangling = d.join("dangling.json");
        std::os::unix::fs::symlink(d.join("nowhere"), &dangling).unwrap();
        let fifo = d.join("fifo.json");
        nix::unistd::mkfifo(&fifo, Mode::from_bits_truncate(0o644)).unwrap();
        let why = |p: &Path| Output::open(p).err().map(|e| e.to_string());
        let link_refused = Some("it is a symbolic link, and syscage writes through no link (one planted there could send the write to any file): name the file itself".to_string());
        assert_eq!(why(&link), link_refused);
        assert_eq!(why(&dangling), link_refused);
        let other = Some("it exists and is not a regular file (a FIFO, a socket or a device outside /dev): name a regular file or a new one".to_string());
        assert_eq!(why(&fifo), other);
        assert_eq!(fs::read_to_string(&victim).unwrap(), "victim\n");
        assert!(!d.join("nowhere").exists());
        fs::remove_dir_all(&d).unwrap();
    }

    #[test]
    #[ignore = "needs root (mknod of a device node needs CAP_MKNOD)"]
    fn a_device_planted_at_the_name_is_not_written_through() {
        let d = temp("planted-dev");
        let dev = d.join("null.json");
        nix::sys::stat::mknod(
            &dev,
            nix::sys::stat::SFlag::S_IFCHR,
            Mode::from_bits_truncate(0o666),
            nix::sys::stat::makedev(1, 3),
        )
        .unwrap();
        assert_eq!(
            Output::open(&dev).err().map(|e| e.to_string()),
            Some("it exists and is not a regular file (a FIFO, a socket or a device outside /dev): name a regular file or a new one".to_string())
        );
        fs::remove_dir_all(&d).unwrap();
    }

    #[test]
    fn a_name_of_255_bytes_is_replaced_too() {
        let d = temp("long");
        let p = d.join("n".repeat(255));
        fs::write(&p, "old").unwrap();
        let mut o = Output::open(&p).unwrap();
        o.write_all(b"new").unwrap();
        o.commit().unwrap();
        assert_eq!(fs::read_to_string(&p).unwrap(), "new");
        assert_eq!(names(&d).len(), 1);
        fs::remove_dir_all(&d).unwrap();
    }

    #[test]
    fn a_missing_directory_fails_at_open() {
        let e = Output::open(Path::new("/nonexistent-dir/p.json"))
            .err()
            .unwrap();
        assert_eq!(e.raw_os_error(), Some(libc::ENOENT));
        let e = Output::open_with(Path::new("/nonexistent-dir/p.json"), false)
            .err()
            .unwrap();
        assert_eq!(e.raw_os_error(), Some(libc::ENOENT));
    }

    #[test]
    fn beneath_a_directory_nothing_outside_is_reached() {
        let d = temp("beneath");
        let root = d.join("root");
        let outside = d.join("outside");
        fs::create_dir_all(root.join("sub")).unwrap();
        fs::create_dir_all(&outside).unwrap();
        fs::write(outside.join("victim"), "victim\n").unwrap();
        std::os::unix::fs::symlink(&outside, root.join("out")).unwrap();
        std::os::unix::fs::symlink(outside.join("victim"), root.join("link")).unwrap();
        fs::hard_link(outside.join("victim"), root.join("hard")).unwrap();
        std::os::unix::fs::symlink("../sub", root.join("sub/up")).unwrap();
        let rootfd = File::open(&root).unwrap();
        let open = |rel: &str| Output::open_beneath(rootfd.as_fd(), Path::new(rel), Path::new(rel));
        let errno = |rel: &str| open(rel).err().map(|e| e.raw_os_error());
        // `..` and a link leading out of the root: EXDEV from RESOLVE_BENEATH.
        assert_eq!(errno("../outside/x"), Some(Some(libc::EXDEV)));
        assert_eq!(errno("out/x"), Some(Some(libc::EXDEV)));
        assert_eq!(errno("missing/x"), Some(Some(libc::ENOENT)));
        assert_eq!(
            open("sub").err().map(|e| e.to_string()),
            Some("it exists and is not a regular file".to_string())
        );
        assert_eq!(
            open("link").err().map(|e| e.to_string()),
            Some("it exists and is not a regular file".to_string())
        );
        // A link that stays inside is followed; a hard link is replaced, not written.
        for rel in ["sub/up/r.jsonl", "hard"] {
            let mut o = open(rel).unwrap();
            o.write_all(b"new\n").unwrap();
            o.commit().unwrap();
        }
        assert_eq!(
            fs::read_to_string(root.join("sub/r.jsonl")).unwrap(),
            "new\n"
        );
        assert_eq!(
            fs::metadata(root.join("sub/r.jsonl")).unwrap().mode() & 0o777,
            0o600
        );
        assert_eq!(fs::read_to_string(root.join("hard")).unwrap(), "new\n");
        assert_eq!(
            fs::read_to_string(outside.join("victim")).unwrap(),
            "victim\n"
        );
        assert_eq!(names(&outside), ["victim"]);
        fs::remove_dir_all(&d).unwrap();
    }

    #[test]
    fn a_device_named_under_dev_is_written_in_place() {
        let mut o = Output::open(Path::new("/dev/full")).unwrap();
        let e = o.write_all(b"x").unwrap_err();
        assert_eq!(e.raw_os_error(), Some(libc::ENOSPC));
        let mut o = Output::open(Path::new("/dev/null")).unwrap();
        o.write_all(b"x").unwrap();
        o.commit().unwrap();
    }
}
