//! Loading a compiled program into the calling thread with seccomp(2). This is the only
//! code the container's child runs from this crate: no libseccomp, no allocation, so it
//! can run after `fork` in a process that is about to `execve`.
#![allow(unsafe_code)]

use crate::bpf::SockFilter;
use std::os::fd::{FromRawFd, OwnedFd};

// include/uapi/linux/seccomp.h
const SECCOMP_SET_MODE_FILTER: libc::c_uint = 1;
pub const FLAG_TSYNC: u32 = 1 << 0;
pub const FLAG_LOG: u32 = 1 << 1;
pub const FLAG_SPEC_ALLOW: u32 = 1 << 2;
pub const FLAG_NEW_LISTENER: u32 = 1 << 3;
pub const FLAG_TSYNC_ESRCH: u32 = 1 << 4;
pub const FLAG_WAIT_KILLABLE_RECV: u32 = 1 << 5;

#[repr(C)]
struct SockFprog {
    len: libc::c_ushort,
    filter: *const SockFilter,
}

/// Installs `prog` on the calling thread (and, with [`FLAG_TSYNC`], on all its threads).
/// With [`FLAG_NEW_LISTENER`] the kernel returns the user-notification fd, which is
/// returned here. The caller must have set no_new_privs or hold CAP_SYS_ADMIN.
pub fn install(prog: &[SockFilter], flags: u32) -> Result<Option<OwnedFd>, std::io::Error> {
    let len = libc::c_ushort::try_from(prog.len())
        .map_err(|_| std::io::Error::from_raw_os_error(libc::EINVAL))?;
    let fprog = SockFprog {
        len,
        filter: prog.as_ptr(),
    };
    // SAFETY: `fprog` points at `prog`, which outlives the call; the kernel copies the
    // program before returning and does not keep the pointer.
    let ret = unsafe {
        libc::syscall(
            libc::SYS_seccomp,
            SECCOMP_SET_MODE_FILTER,
            flags,
            &fprog as *const SockFprog,
        )
    };
    if ret < 0 {
        return Err(std::io::Error::last_os_error());
    }
    if flags & FLAG_NEW_LISTENER != 0 {
        let fd = i32::try_from(ret).map_err(|_| std::io::Error::from_raw_os_error(libc::EBADF))?;
        // SAFETY: with NEW_LISTENER, a successful seccomp(2) returns a new fd we now own.
        return Ok(Some(unsafe { OwnedFd::from_raw_fd(fd) }));
    }
    Ok(None)
}
