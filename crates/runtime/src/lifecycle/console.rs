//! `--console-socket`: the container's pseudo-terminal master, handed to the client as
//! runc hands it (docs/oci-clients.md, section 3): one connection to the socket, one
//! message whose data is `/dev/ptmx` (a stream socket drops control data sent without
//! bytes), one SCM_RIGHTS control message with the one fd.

use super::error::OciError;
use std::os::fd::BorrowedFd;
use std::path::Path;

/// Sends `master` to the listening socket at `path`.
pub fn send_master(path: &Path, master: BorrowedFd<'_>) -> Result<(), OciError> {
    crate::sys::send_fd(path, b"/dev/ptmx", master)
        .map_err(|(_, e)| OciError::errno("send the terminal to the console socket", path, e))
}

#[cfg(test)]
mod tests {
    use super::*;
    use nix::sys::socket::{
        accept, bind, listen, recvmsg, socket, AddressFamily, Backlog, ControlMessageOwned,
        MsgFlags, SockFlag, SockType, UnixAddr,
    };
    use std::io::IoSliceMut;
    use std::os::fd::{AsFd, AsRawFd};

    #[test]
    fn one_message_with_the_name_and_one_fd() {
        let dir = std::env::temp_dir().join(format!("syscage-console-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("pty.sock");
        let l = socket(
            AddressFamily::Unix,
            SockType::Stream,
            SockFlag::SOCK_CLOEXEC,
            None,
        )
        .unwrap();
        bind(l.as_raw_fd(), &UnixAddr::new(&path).unwrap()).unwrap();
        listen(&l, Backlog::new(1).unwrap()).unwrap();
        let file = std::fs::File::open("/dev/null").unwrap();
        send_master(&path, file.as_fd()).unwrap();
        let c = accept(l.as_raw_fd()).unwrap();
        let mut buf = [0u8; 64];
        let mut iov = [IoSliceMut::new(&mut buf)];
        let mut space = nix::cmsg_space!([std::os::fd::RawFd; 2]);
        let r = recvmsg::<()>(c, &mut iov, Some(&mut space), MsgFlags::empty()).unwrap();
        let mut got = Vec::new();
        for m in r.cmsgs().unwrap() {
            if let ControlMessageOwned::ScmRights(fds) = m {
                got.extend(fds);
            }
        }
        let n = r.bytes;
        assert_eq!(&buf[..n], b"/dev/ptmx");
        assert_eq!(got.len(), 1);
        drop(crate::sys::own_received_fd(got[0]));
        drop(crate::sys::own_received_fd(c));
        assert_eq!(
            send_master(&dir.join("nope.sock"), file.as_fd())
                .unwrap_err()
                .to_string(),
            format!(
                "cannot send the terminal to the console socket `{}`: No such file or directory (ENOENT)",
                dir.join("nope.sock").display()
            )
        );
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
