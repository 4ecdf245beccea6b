//! The calls whose arguments decide what they do, the bits of them that matter, and what
//! to write to allow one: shared by `learn` (which learns those values) and `--report`
//! (which suggests a rule for a denied call).

/// (call, argument index, mask of the bits that matter, what the values are)
pub const CONSTRAINED: &[(&str, u8, u64, &str)] = &[
    ("clone", 0, 0x7E02_0000, "namespace flags"),
    ("unshare", 0, 0x7E02_0080, "namespace flags"),
    ("socket", 0, 0xffff_ffff, "family"),
    ("ioctl", 1, 0xffff_ffff, "request"),
    ("personality", 0, 0xffff_ffff, "persona"),
    ("prctl", 0, 0xffff_ffff, "option"),
    ("chmod", 1, 0o6000, "setuid/setgid bits"),
    ("fchmod", 1, 0o6000, "setuid/setgid bits"),
    ("fchmodat", 2, 0o6000, "setuid/setgid bits"),
    ("fchmodat2", 2, 0o6000, "setuid/setgid bits"),
    ("creat", 1, 0o6000, "setuid/setgid bits"),
    ("open", 2, 0o6000, "setuid/setgid bits"),
    ("openat", 3, 0o6000, "setuid/setgid bits"),
    ("mknod", 1, 0o176000, "file type and setuid/setgid bits"),
    ("mknodat", 2, 0o176000, "file type and setuid/setgid bits"),
];

/// Calls a learned profile always answers with ENOSYS: their arguments are in memory, and
/// libc falls back to calls whose arguments seccomp can read.
pub const ENOSYS_CALLS: &[&str] = &["clone3", "openat2"];

/// The constrained argument of a call: (index, mask, what the values are).
pub fn constraint(name: &str) -> Option<(u8, u64, &'static str)> {
    CONSTRAINED
        .iter()
        .find(|(n, ..)| *n == name)
        .map(|(_, i, m, w)| (*i, *m, *w))
}

/// A value of a constrained argument, named where syscage knows the name.
pub fn shown(name: &str, v: u64) -> String {
    match name {
        "ioctl" => crate::decode::ioctl_name(v)
            .map(str::to_string)
            .unwrap_or_else(|| format!("{v:#x}")),
        "prctl" => crate::decode::prctl_name(v)
            .map(str::to_string)
            .unwrap_or_else(|| v.to_string()),
        "socket" => crate::decode::family_name(v)
            .map(str::to_string)
            .unwrap_or_else(|| v.to_string()),
        _ if v > 9 => format!("{v:#x}"),
        _ => v.to_string(),
    }
}

/// What `--report` suggests for a call `policy` denied: never a rule that admits more than
/// the observed call (see `syscage_policy::hint`).
pub fn allow_hint(
    policy: &syscage_policy::Policy,
    arch: syscage_policy::Arch,
    name: &str,
    args: &[u64; 6],
) -> String {
    syscage_policy::hint::allow_hint_by_name(policy, arch, name, args)
}
