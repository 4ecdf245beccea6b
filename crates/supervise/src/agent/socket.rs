//! The agent's listening socket at `listenerPath`: made with a mode no wider than asked
//! (0600 unless told), never over something that is not a socket, and over an old socket
//! only when nothing listens on it any more (an agent that was killed left it).

use nix::errno::Errno;
use nix::sys::socket::{
    bind, connect, listen, socket, AddressFamily, Backlog, SockFlag, SockType, UnixAddr,
};
use nix::sys::stat::{lstat, Mode, SFlag};
use std::os::fd::{AsRawFd, OwnedFd};
use std::os::unix::net::UnixListener;
use std::path::{Path, PathBuf};
use thiserror::Error;

#[derive(Debug, Error)]
pub enum SocketError {
    #[error("--socket `{path}` exists and is not a socket; refusing to replace it")]
    NotSocket { path: String },
    #[error("--socket `{path}`: another agent listens there")]
    InUse { path: String },
    #[error("--socket `{path}`: cannot {what}: {}", .errno.desc())]
    Sys {
        path: String,
        what: &'static str,
        errno: Errno,
    },
    #[error("--socket `{path}`: longer than a Unix socket path may be (107 bytes)")]
    TooLong { path: String },
}

/// The socket, and the file it was made as (removed at the end if still the same one).
pub struct Listener {
    /// Non-blocking: the agent polls it.
    pub sock: UnixListener,
    path: PathBuf,
    ino: (u64, u64),
    made_dir: Option<PathBuf>,
}

/// Makes the socket at `path` with permissions `mode`.
pub fn listen_at(path: &Path, mode: u32) -> Result<Listener, SocketError> {
    let shown = path.display().to_string();
    let sys = |what: &'static str| {
        let path = shown.clone();
        move |errno: Errno| SocketError::Sys { path, what, errno }
    };
    if path.as_os_str().len() > 107 {
        return Err(SocketError::TooLong { path: shown });
    }
    let addr = UnixAddr::new(path).map_err(sys("use the path"))?;
    let fd = socket(
        AddressFamily::Unix,
        SockType::Stream,
        SockFlag::SOCK_CLOEXEC,
        None,
    )
    .map_err(sys("create a socket"))?;
    let mut made_dir = None;
    match lstat(path) {
        Ok(st) if SFlag::from_bits_truncate(st.st_mode) & SFlag::S_IFMT != SFlag::S_IFSOCK => {
            return Err(SocketError::NotSocket { path: shown });
        }
        Ok(_) => {
            // A socket: someone listens, or it is left over.
            let probe = socket(
                AddressFamily::Unix,
                SockType::Stream,
                SockFlag::SOCK_CLOEXEC,
                None,
            )
            .map_err(sys("create a socket"))?;
            match connect(probe.as_raw_fd(), &addr) {
                Ok(()) => return Err(SocketError::InUse { path: shown }),
                Err(Errno::ECONNREFUSED) => {
                    nix::unistd::unlink(path).map_err(sys("remove the old socket"))?
                }
                Err(e) => return Err(sys("check the old socket")(e)),
            }
        }
        Err(Errno::ENOENT) => {
            // The directory (`/run/syscage` by default) is made when missing, and removed
            // at the end if still empty.
            if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
                if !dir.exists() {
                    nix::unistd::mkdir(dir, Mode::from_bits_truncate(0o755))
                        .map_err(sys("create its directory"))?;
                    made_dir = Some(dir.to_path_buf());
                }
            }
        }
        Err(e) => return Err(sys("look at the path")(e)),
    }
    let undo_dir = |d: &Option<PathBuf>| {
        if let Some(d) = d {
            let _ = std::fs::remove_dir(d);
        }
    };
    // Bound and listening under a temporary name, then renamed into place: the path
    // appears only once the agent accepts connections (and replaces an old socket in one
    // step). A path too long for that is bound where it is.
    let tmp = PathBuf::from(format!("{}.{}.new", path.display(), std::process::id()));
    let at: &Path = if tmp.as_os_str().len() <= 107 {
        &tmp
    } else {
        path
    };
    let at_addr = UnixAddr::new(at).map_err(sys("use the path"))?;
    // Made with no permission for group and others; widened to `mode` once bound. The
    // umask is the process's, and nothing else runs yet.
    let old = nix::sys::stat::umask(Mode::from_bits_truncate(0o177));
    let bound = bind(fd.as_raw_fd(), &at_addr);
    nix::sys::stat::umask(old);
    if let Err(e) = bound {
        undo_dir(&made_dir);
        return Err(sys("bind")(e));
    }
    let finish = || -> Result<(u64, u64), Errno> {
        listen(&fd, Backlog::new(128).unwrap_or(Backlog::MAXCONN))?;
        nix::fcntl::fcntl(
            &fd,
            nix::fcntl::FcntlArg::F_SETFL(nix::fcntl::OFlag::O_NONBLOCK),
        )?;
        nix::sys::stat::fchmodat(
            nix::fcntl::AT_FDCWD,
            at,
            Mode::from_bits_truncate(mode),
            nix::sys::stat::FchmodatFlags::NoFollowSymlink,
        )
        .or_else(|e| match e {
            // Some kernels refuse AT_SYMLINK_NOFOLLOW for fchmodat; the path is ours.
            Errno::EOPNOTSUPP => nix::sys::stat::fchmodat(
                nix::fcntl::AT_FDCWD,
                at,
                Mode::from_bits_truncate(mode),
                nix::sys::stat::FchmodatFlags::FollowSymlink,
            ),
            e => Err(e),
        })?;
        let st = lstat(at)?;
        if at != path {
            nix::fcntl::renameat(nix::fcntl::AT_FDCWD, at, nix::fcntl::AT_FDCWD, path)?;
        }
        Ok((st.st_dev, st.st_ino))
    };
    match finish() {
        Ok(ino) => Ok(Listener {
            sock: UnixListener::from(fd),
            path: path.to_path_buf(),
            ino,
            made_dir,
        }),
        Err(e) => {
            let _ = nix::unistd::unlink(at);
            undo_dir(&made_dir);
            Err(sys("listen")(e))
        }
    }
}

impl Listener {
    /// The listening socket, for another process to serve: the path stays when this is
    /// dropped (whoever made its directory removes it).
    pub fn hand_over(mut self) -> std::io::Result<OwnedFd> {
        let fd = self.sock.try_clone()?;
        self.ino = (u64::MAX, u64::MAX);
        self.made_dir = None;
        Ok(fd.into())
    }
}

impl Drop for Listener {
    /// Removes the socket, if the path still is the one this agent made.
    fn drop(&mut self) {
        if lstat(&self.path).is_ok_and(|st| (st.st_dev, st.st_ino) == self.ino) {
            let _ = nix::unistd::unlink(&self.path);
        }
        if let Some(d) = &self.made_dir {
            let _ = std::fs::remove_dir(d);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    fn dir(name: &str) -> PathBuf {
        let d = std::env::temp_dir().join(format!("syscage-sock-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&d);
        std::fs::create_dir_all(&d).unwrap();
        d
    }

    #[test]
    fn the_socket_is_private_and_nothing_is_replaced_that_should_not_be() {
        let d = dir("modes");
        let p = d.join("a.sock");
        let l = listen_at(&p, 0o600).unwrap();
        let mode = std::fs::symlink_metadata(&p).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
        assert_eq!(
            listen_at(&p, 0o600).err().map(|e| e.to_string()),
            Some(format!(
                "--socket `{}`: another agent listens there",
                p.display()
            ))
        );
        drop(l);
        assert!(!p.exists(), "removed at the end");
        // A socket nobody listens on is replaced.
        let stale = nix::sys::socket::socket(
            AddressFamily::Unix,
            SockType::Stream,
            SockFlag::empty(),
            None,
        )
        .unwrap();
        bind(stale.as_raw_fd(), &UnixAddr::new(&p).unwrap()).unwrap();
        drop(stale);
        let l = listen_at(&p, 0o660).unwrap();
        let mode = std::fs::symlink_metadata(&p).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o660);
        drop(l);
        // A file, a directory, a link are left alone.
        let f = d.join("file");
        std::fs::write(&f, "keep").unwrap();
        std::os::unix::fs::symlink(&f, d.join("link")).unwrap();
        for name in ["file", "link"] {
            let q = d.join(name);
            assert_eq!(
                listen_at(&q, 0o600).err().map(|e| e.to_string()),
                Some(format!(
                    "--socket `{}` exists and is not a socket; refusing to replace it",
                    q.display()
                ))
            );
        }
        assert_eq!(std::fs::read_to_string(&f).unwrap(), "keep");
        // A missing directory is made, and removed with the socket.
        let sub = d.join("run");
        let l = listen_at(&sub.join("agent.sock"), 0o600).unwrap();
        drop(l);
        assert!(!sub.exists());
        std::fs::remove_dir_all(&d).unwrap();
    }
}
