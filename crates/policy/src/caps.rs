//! Linux capabilities by name and number, and the set type the policy and the runtime share.
//!
//! Names follow `include/uapi/linux/capability.h`. The runtime checks a requested
//! capability against the running kernel's `/proc/sys/kernel/cap_last_cap`.

use std::fmt;

/// `CAP_*` names without the prefix, indexed by capability number.
static NAMES: [&str; 41] = [
    "CHOWN",
    "DAC_OVERRIDE",
    "DAC_READ_SEARCH",
    "FOWNER",
    "FSETID",
    "KILL",
    "SETGID",
    "SETUID",
    "SETPCAP",
    "LINUX_IMMUTABLE",
    "NET_BIND_SERVICE",
    "NET_BROADCAST",
    "NET_ADMIN",
    "NET_RAW",
    "IPC_LOCK",
    "IPC_OWNER",
    "SYS_MODULE",
    "SYS_RAWIO",
    "SYS_CHROOT",
    "SYS_PTRACE",
    "SYS_PACCT",
    "SYS_ADMIN",
    "SYS_BOOT",
    "SYS_NICE",
    "SYS_RESOURCE",
    "SYS_TIME",
    "SYS_TTY_CONFIG",
    "MKNOD",
    "LEASE",
    "AUDIT_WRITE",
    "AUDIT_CONTROL",
    "SETFCAP",
    "MAC_OVERRIDE",
    "MAC_ADMIN",
    "SYSLOG",
    "WAKE_ALARM",
    "BLOCK_SUSPEND",
    "AUDIT_READ",
    "PERFMON",
    "BPF",
    "CHECKPOINT_RESTORE",
];

/// The highest capability number syscage knows by name.
pub const LAST_KNOWN: u8 = 40;

/// Docker's default capability set (moby `oci/caps/defaults.go`): what a container gets
/// unless `--cap-add`/`--cap-drop` say otherwise.
pub const DOCKER_DEFAULT: &[Cap] = &[
    Cap(0),  // CHOWN
    Cap(1),  // DAC_OVERRIDE
    Cap(3),  // FOWNER
    Cap(4),  // FSETID
    Cap(5),  // KILL
    Cap(6),  // SETGID
    Cap(7),  // SETUID
    Cap(8),  // SETPCAP
    Cap(10), // NET_BIND_SERVICE
    Cap(13), // NET_RAW
    Cap(18), // SYS_CHROOT
    Cap(27), // MKNOD
    Cap(29), // AUDIT_WRITE
    Cap(31), // SETFCAP
];

/// One capability.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Cap(u8);

impl Cap {
    pub const SYS_ADMIN: Cap = Cap(21);
    pub const SYS_PTRACE: Cap = Cap(19);

    /// A capability by number; `None` above [`LAST_KNOWN`].
    pub fn from_number(n: u8) -> Option<Cap> {
        (n <= LAST_KNOWN).then_some(Cap(n))
    }

    /// Parses `CAP_SYS_ADMIN`, `sys_admin`, `Sys_Admin`...: with or without the prefix, in
    /// any case. `ALL` is not a capability; callers handle it.
    pub fn parse(s: &str) -> Option<Cap> {
        let upper = s.trim().to_ascii_uppercase();
        let bare = upper.strip_prefix("CAP_").unwrap_or(&upper);
        NAMES
            .iter()
            .position(|n| *n == bare)
            .and_then(|i| u8::try_from(i).ok())
            .map(Cap)
    }

    pub fn number(self) -> u8 {
        self.0
    }

    /// The name without prefix, e.g. `SYS_ADMIN`.
    pub fn name(self) -> &'static str {
        NAMES[usize::from(self.0)]
    }

    /// What to tell someone who typed `s`, which is no capability: the closest name
    /// (` (did you mean `SYS_ADMIN`?)`), or, when none is close, every name.
    pub fn unknown_hint(s: &str) -> String {
        let upper = s.trim().to_ascii_uppercase();
        let bare = upper.strip_prefix("CAP_").unwrap_or(&upper);
        let close = NAMES
            .iter()
            .min_by_key(|n| crate::syscalls::edit_distance(bare, n))
            .filter(|n| crate::syscalls::edit_distance(bare, n) <= 2);
        match close {
            Some(n) => format!(" (did you mean `{n}`?)"),
            None => format!(
                "; hint: capabilities are named as in capabilities(7), with or without `CAP_`, in any case: {}, or ALL",
                NAMES.join(", ")
            ),
        }
    }
}

impl fmt::Display for Cap {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "CAP_{}", self.name())
    }
}

/// A set of capabilities, as the kernel's 64-bit masks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct CapSet(u64);

impl CapSet {
    pub const fn empty() -> CapSet {
        CapSet(0)
    }

    /// Every capability up to and including `last` (the kernel's `cap_last_cap`).
    pub fn all_up_to(last: u8) -> CapSet {
        let last = last.min(63);
        CapSet(if last == 63 {
            u64::MAX
        } else {
            (1u64 << (last + 1)) - 1
        })
    }

    pub fn docker_default() -> CapSet {
        DOCKER_DEFAULT.iter().copied().collect()
    }

    pub fn from_bits(bits: u64) -> CapSet {
        CapSet(bits)
    }

    pub fn bits(self) -> u64 {
        self.0
    }

    pub fn contains(self, cap: Cap) -> bool {
        self.0 & (1u64 << cap.0) != 0
    }

    pub fn insert(&mut self, cap: Cap) {
        self.0 |= 1u64 << cap.0;
    }

    pub fn remove(&mut self, cap: Cap) {
        self.0 &= !(1u64 << cap.0);
    }

    pub fn is_empty(self) -> bool {
        self.0 == 0
    }

    pub fn iter(self) -> impl Iterator<Item = Cap> {
        (0..=LAST_KNOWN).map(Cap).filter(move |c| self.contains(*c))
    }
}

impl FromIterator<Cap> for CapSet {
    fn from_iter<I: IntoIterator<Item = Cap>>(iter: I) -> CapSet {
        let mut set = CapSet::empty();
        for c in iter {
            set.insert(c);
        }
        set
    }
}

impl fmt::Display for CapSet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let names: Vec<String> = self.iter().map(|c| c.to_string()).collect();
        write!(f, "{}", names.join(","))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_every_spelling() {
        assert_eq!(Cap::parse("CAP_SYS_ADMIN"), Some(Cap(21)));
        assert_eq!(Cap::parse("sys_admin"), Some(Cap(21)));
        assert_eq!(Cap::parse("cap_Net_Raw"), Some(Cap(13)));
        assert_eq!(Cap::parse("CHECKPOINT_RESTORE"), Some(Cap(40)));
        assert_eq!(Cap::parse("SYS_ADMN"), None);
        assert_eq!(Cap::parse("ALL"), None);
        assert_eq!(Cap::parse(""), None);
    }

    #[test]
    fn an_unknown_name_gets_the_closest_or_every_name() {
        assert_eq!(
            Cap::unknown_hint("cap_sys_admn"),
            " (did you mean `SYS_ADMIN`?)"
        );
        assert_eq!(Cap::unknown_hint("NET_RAWW"), " (did you mean `NET_RAW`?)");
        let all = Cap::unknown_hint("frobnicate");
        assert!(
            all.starts_with("; hint: capabilities are named as in capabilities(7), with or without `CAP_`, in any case: CHOWN, DAC_OVERRIDE, DAC_READ_SEARCH, "),
            "{all}"
        );
        assert!(all.ends_with(", BPF, CHECKPOINT_RESTORE, or ALL"), "{all}");
    }

    #[test]
    fn docker_default_is_fourteen_capabilities() {
        let set = CapSet::docker_default();
        assert_eq!(set.iter().count(), 14);
        assert_eq!(set.bits(), 0x00000000a80425fb);
        assert!(!set.contains(Cap::SYS_ADMIN));
    }

    #[test]
    fn all_up_to_last_cap() {
        assert_eq!(CapSet::all_up_to(40).bits(), 0x1ff_ffff_ffff);
        assert_eq!(CapSet::all_up_to(63).bits(), u64::MAX);
    }
}
