//! Linux errno names and numbers (x86), for profiles that name an errno (Podman's `errno`,
//! `defaultErrno`) and for messages. Generated once from Python's `errno` module on Linux;
//! the numbers are the kernel's `include/uapi/asm-generic/errno*.h` and never change.

/// Canonical names, indexed by number; `""` where Linux has no errno.
static NAMES: [&str; 134] = [
    "",
    "EPERM",
    "ENOENT",
    "ESRCH",
    "EINTR",
    "EIO",
    "ENXIO",
    "E2BIG",
    "ENOEXEC",
    "EBADF",
    "ECHILD",
    "EAGAIN",
    "ENOMEM",
    "EACCES",
    "EFAULT",
    "ENOTBLK",
    "EBUSY",
    "EEXIST",
    "EXDEV",
    "ENODEV",
    "ENOTDIR",
    "EISDIR",
    "EINVAL",
    "ENFILE",
    "EMFILE",
    "ENOTTY",
    "ETXTBSY",
    "EFBIG",
    "ENOSPC",
    "ESPIPE",
    "EROFS",
    "EMLINK",
    "EPIPE",
    "EDOM",
    "ERANGE",
    "EDEADLK",
    "ENAMETOOLONG",
    "ENOLCK",
    "ENOSYS",
    "ENOTEMPTY",
    "ELOOP",
    "",
    "ENOMSG",
    "EIDRM",
    "ECHRNG",
    "EL2NSYNC",
    "EL3HLT",
    "EL3RST",
    "ELNRNG",
    "EUNATCH",
    "ENOCSI",
    "EL2HLT",
    "EBADE",
    "EBADR",
    "EXFULL",
    "ENOANO",
    "EBADRQC",
    "EBADSLT",
    "",
    "EBFONT",
    "ENOSTR",
    "ENODATA",
    "ETIME",
    "ENOSR",
    "ENONET",
    "ENOPKG",
    "EREMOTE",
    "ENOLINK",
    "EADV",
    "ESRMNT",
    "ECOMM",
    "EPROTO",
    "EMULTIHOP",
    "EDOTDOT",
    "EBADMSG",
    "EOVERFLOW",
    "ENOTUNIQ",
    "EBADFD",
    "EREMCHG",
    "ELIBACC",
    "ELIBBAD",
    "ELIBSCN",
    "ELIBMAX",
    "ELIBEXEC",
    "EILSEQ",
    "ERESTART",
    "ESTRPIPE",
    "EUSERS",
    "ENOTSOCK",
    "EDESTADDRREQ",
    "EMSGSIZE",
    "EPROTOTYPE",
    "ENOPROTOOPT",
    "EPROTONOSUPPORT",
    "ESOCKTNOSUPPORT",
    "EOPNOTSUPP",
    "EPFNOSUPPORT",
    "EAFNOSUPPORT",
    "EADDRINUSE",
    "EADDRNOTAVAIL",
    "ENETDOWN",
    "ENETUNREACH",
    "ENETRESET",
    "ECONNABORTED",
    "ECONNRESET",
    "ENOBUFS",
    "EISCONN",
    "ENOTCONN",
    "ESHUTDOWN",
    "ETOOMANYREFS",
    "ETIMEDOUT",
    "ECONNREFUSED",
    "EHOSTDOWN",
    "EHOSTUNREACH",
    "EALREADY",
    "EINPROGRESS",
    "ESTALE",
    "EUCLEAN",
    "ENOTNAM",
    "ENAVAIL",
    "EISNAM",
    "EREMOTEIO",
    "EDQUOT",
    "ENOMEDIUM",
    "EMEDIUMTYPE",
    "ECANCELED",
    "ENOKEY",
    "EKEYEXPIRED",
    "EKEYREVOKED",
    "EKEYREJECTED",
    "EOWNERDEAD",
    "ENOTRECOVERABLE",
    "ERFKILL",
    "EHWPOISON",
];

/// glibc's text for each number (`strerror`), the words syscage's messages use whichever C
/// library it was built with (musl words some differently: `Symbolic link loop` for
/// ELOOP); `""` where Linux has no errno.
static MESSAGES: [&str; 134] = [
    "",
    "Operation not permitted",
    "No such file or directory",
    "No such process",
    "Interrupted system call",
    "Input/output error",
    "No such device or address",
    "Argument list too long",
    "Exec format error",
    "Bad file descriptor",
    "No child processes",
    "Resource temporarily unavailable",
    "Cannot allocate memory",
    "Permission denied",
    "Bad address",
    "Block device required",
    "Device or resource busy",
    "File exists",
    "Invalid cross-device link",
    "No such device",
    "Not a directory",
    "Is a directory",
    "Invalid argument",
    "Too many open files in system",
    "Too many open files",
    "Inappropriate ioctl for device",
    "Text file busy",
    "File too large",
    "No space left on device",
    "Illegal seek",
    "Read-only file system",
    "Too many links",
    "Broken pipe",
    "Numerical argument out of domain",
    "Numerical result out of range",
    "Resource deadlock avoided",
    "File name too long",
    "No locks available",
    "Function not implemented",
    "Directory not empty",
    "Too many levels of symbolic links",
    "",
    "No message of desired type",
    "Identifier removed",
    "Channel number out of range",
    "Level 2 not synchronized",
    "Level 3 halted",
    "Level 3 reset",
    "Link number out of range",
    "Protocol driver not attached",
    "No CSI structure available",
    "Level 2 halted",
    "Invalid exchange",
    "Invalid request descriptor",
    "Exchange full",
    "No anode",
    "Invalid request code",
    "Invalid slot",
    "",
    "Bad font file format",
    "Device not a stream",
    "No data available",
    "Timer expired",
    "Out of streams resources",
    "Machine is not on the network",
    "Package not installed",
    "Object is remote",
    "Link has been severed",
    "Advertise error",
    "Srmount error",
    "Communication error on send",
    "Protocol error",
    "Multihop attempted",
    "RFS specific error",
    "Bad message",
    "Value too large for defined data type",
    "Name not unique on network",
    "File descriptor in bad state",
    "Remote address changed",
    "Can not access a needed shared library",
    "Accessing a corrupted shared library",
    ".lib section in a.out corrupted",
    "Attempting to link in too many shared libraries",
    "Cannot exec a shared library directly",
    "Invalid or incomplete multibyte or wide character",
    "Interrupted system call should be restarted",
    "Streams pipe error",
    "Too many users",
    "Socket operation on non-socket",
    "Destination address required",
    "Message too long",
    "Protocol wrong type for socket",
    "Protocol not available",
    "Protocol not supported",
    "Socket type not supported",
    "Operation not supported",
    "Protocol family not supported",
    "Address family not supported by protocol",
    "Address already in use",
    "Cannot assign requested address",
    "Network is down",
    "Network is unreachable",
    "Network dropped connection on reset",
    "Software caused connection abort",
    "Connection reset by peer",
    "No buffer space available",
    "Transport endpoint is already connected",
    "Transport endpoint is not connected",
    "Cannot send after transport endpoint shutdown",
    "Too many references: cannot splice",
    "Connection timed out",
    "Connection refused",
    "Host is down",
    "No route to host",
    "Operation already in progress",
    "Operation now in progress",
    "Stale file handle",
    "Structure needs cleaning",
    "Not a XENIX named type file",
    "No XENIX semaphores available",
    "Is a named type file",
    "Remote I/O error",
    "Disk quota exceeded",
    "No medium found",
    "Wrong medium type",
    "Operation canceled",
    "Required key not available",
    "Key has expired",
    "Key has been revoked",
    "Key was rejected by service",
    "Owner died",
    "State not recoverable",
    "Operation not possible due to RF-kill",
    "Memory page has hardware error",
];

/// Other spellings of the same numbers.
static ALIASES: &[(&str, u16)] = &[("EDEADLOCK", 35), ("EWOULDBLOCK", 11), ("ENOTSUP", 95)];

/// The canonical name of an errno, e.g. `EPERM` for 1.
pub fn name(errno: u16) -> Option<&'static str> {
    NAMES
        .get(usize::from(errno))
        .copied()
        .filter(|n| !n.is_empty())
}

/// glibc's text of an errno, e.g. `Operation not permitted` for 1.
pub fn message(errno: u16) -> Option<&'static str> {
    MESSAGES
        .get(usize::from(errno))
        .copied()
        .filter(|m| !m.is_empty())
}

/// The number of an errno name (case-sensitive, as in C), e.g. 38 for `ENOSYS`.
pub fn number(name: &str) -> Option<u16> {
    if let Some(i) = NAMES.iter().position(|n| !n.is_empty() && *n == name) {
        return u16::try_from(i).ok();
    }
    ALIASES.iter().find(|(a, _)| *a == name).map(|(_, n)| *n)
}

/// `EPERM (1)` style text for messages, or just the number when it has no name.
pub fn describe(errno: u16) -> String {
    match name(errno) {
        Some(n) => n.to_string(),
        None => errno.to_string(),
    }
}

/// An I/O error as syscage words system errors: `No such file or directory (ENOENT)`,
/// rather than the standard library's `(os error 2)`.
pub fn io_text(e: &std::io::Error) -> String {
    let text = e.to_string();
    let Some(code) = e.raw_os_error() else {
        return text;
    };
    if let Some((m, n)) = u16::try_from(code)
        .ok()
        .and_then(|c| Some((message(c)?, name(c)?)))
    {
        return format!("{m} ({n})");
    }
    let bare = text
        .rsplit_once(" (os error ")
        .map(|(t, _)| t.to_string())
        .unwrap_or(text);
    match u16::try_from(code).ok().and_then(name) {
        Some(n) => format!("{bare} ({n})"),
        None => bare,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn io_errors_read_the_same_whichever_c_library() {
        // Words musl's strerror gives differently ("Cross-device link", "Symbolic link
        // loop", "Not a tty").
        let t = |n| io_text(&std::io::Error::from_raw_os_error(n));
        assert_eq!(t(18), "Invalid cross-device link (EXDEV)");
        assert_eq!(t(40), "Too many levels of symbolic links (ELOOP)");
        assert_eq!(t(25), "Inappropriate ioctl for device (ENOTTY)");
        for i in 0..134u16 {
            assert_eq!(message(i).is_some(), name(i).is_some(), "{i}");
        }
        assert_eq!(message(134), None);
    }

    #[test]
    fn names_and_numbers_round_trip() {
        assert_eq!(name(1), Some("EPERM"));
        assert_eq!(name(38), Some("ENOSYS"));
        assert_eq!(name(41), None);
        assert_eq!(name(1000), None);
        assert_eq!(number("ENOSYS"), Some(38));
        assert_eq!(number("EWOULDBLOCK"), Some(11));
        assert_eq!(number("eperm"), None);
        for i in 0..134u16 {
            if let Some(n) = name(i) {
                assert_eq!(number(n), Some(i), "{n}");
            }
        }
    }

    #[test]
    fn io_errors_are_worded_with_their_names() {
        let e = std::io::Error::from_raw_os_error(2);
        assert_eq!(io_text(&e), "No such file or directory (ENOENT)");
        let other = std::io::Error::other("plain");
        assert_eq!(io_text(&other), "plain");
    }
}
