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

/// Other spellings of the same numbers.
static ALIASES: &[(&str, u16)] = &[("EDEADLOCK", 35), ("EWOULDBLOCK", 11), ("ENOTSUP", 95)];

/// The canonical name of an errno, e.g. `EPERM` for 1.
pub fn name(errno: u16) -> Option<&'static str> {
    NAMES
        .get(usize::from(errno))
        .copied()
        .filter(|n| !n.is_empty())
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
