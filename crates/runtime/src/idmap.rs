//! User namespaces: which ids of the container map to which ids of the host, and writing
//! the maps for the container's init from the parent (the only process allowed to).

use std::fs;
use std::io;
use std::path::Path;

/// One line of `/proc/PID/uid_map`: `count` ids from `inside` map to ids from `outside`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IdRange {
    pub inside: u32,
    pub outside: u32,
    pub count: u32,
}

/// How the container's ids relate to the host's.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Userns {
    /// No user namespace: container root is host root (with few capabilities).
    Host,
    /// `--userns`, as root: container uids 0..n are host uids `uids.0..uids.0+n`
    /// (`n = uids.1`), gids likewise.
    Mapped { uids: (u32, u32), gids: (u32, u32) },
    /// syscage started by an unprivileged user: the one id it owns maps to the container
    /// user (root, or `--user`), as bubblewrap and `unshare -r` do.
    Rootless {
        host_uid: u32,
        host_gid: u32,
        uid: u32,
        gid: u32,
    },
    /// An OCI configuration's `uidMappings` and `gidMappings`, as given.
    Ranges {
        uid: Vec<IdRange>,
        gid: Vec<IdRange>,
    },
}

/// Default range for `--userns` when `/etc/subuid` (or `/etc/subgid`) has no line for
/// root: 0x70000000, above what `useradd` hands out (SUB_UID_MAX 600100000) and what
/// systemd-nspawn picks from (up to 0x6FFFFFFF), below 2^31 (ids above confuse many
/// tools). Checked against the file's other ranges before use.
pub const DEFAULT_BASE: u32 = 0x7000_0000;
pub const DEFAULT_COUNT: u32 = 65_536;

impl Userns {
    pub fn is_new(&self) -> bool {
        !matches!(self, Userns::Host)
    }

    pub fn uid_map(&self) -> Vec<IdRange> {
        match *self {
            Userns::Host => vec![],
            Userns::Mapped { uids, .. } => vec![IdRange {
                inside: 0,
                outside: uids.0,
                count: uids.1,
            }],
            Userns::Rootless { host_uid, uid, .. } => vec![IdRange {
                inside: uid,
                outside: host_uid,
                count: 1,
            }],
            Userns::Ranges { ref uid, .. } => uid.clone(),
        }
    }

    pub fn gid_map(&self) -> Vec<IdRange> {
        match *self {
            Userns::Host => vec![],
            Userns::Mapped { gids, .. } => vec![IdRange {
                inside: 0,
                outside: gids.0,
                count: gids.1,
            }],
            Userns::Rootless { host_gid, gid, .. } => vec![IdRange {
                inside: gid,
                outside: host_gid,
                count: 1,
            }],
            Userns::Ranges { ref gid, .. } => gid.clone(),
        }
    }

    /// An unprivileged writer must deny setgroups before writing a gid map (user_namespaces(7)).
    pub fn deny_setgroups(&self) -> bool {
        matches!(self, Userns::Rootless { .. })
    }

    /// Whether a container gid exists (has a mapping) in this namespace.
    pub fn has_gid(&self, gid: u32) -> bool {
        match self {
            Userns::Host => true,
            _ => self
                .gid_map()
                .iter()
                .any(|r| gid >= r.inside && gid - r.inside < r.count),
        }
    }

    pub fn has_uid(&self, uid: u32) -> bool {
        match self {
            Userns::Host => true,
            _ => self
                .uid_map()
                .iter()
                .any(|r| uid >= r.inside && uid - r.inside < r.count),
        }
    }
}

/// The text the kernel expects in a map file.
pub fn map_text(ranges: &[IdRange]) -> String {
    ranges
        .iter()
        .map(|r| format!("{} {} {}\n", r.inside, r.outside, r.count))
        .collect()
}

/// Reads the range for `user` from `/etc/subuid`-style text (`name:start:count`).
pub fn subid_range(text: &str, user: &str, uid: u32) -> Option<(u32, u32)> {
    text.lines().find_map(|l| {
        let mut f = l.trim().split(':');
        let who = f.next()?;
        let start = f.next()?.parse().ok()?;
        let count = f.next()?.parse().ok()?;
        (who == user || who == uid.to_string()).then_some((start, count))
    })
}

/// The range `--userns` maps for root from `/etc/subuid`-style `text`: root's own line,
/// else [`DEFAULT_BASE`]..+[`DEFAULT_COUNT`], unless another line already hands ids of
/// that range to someone (then `Err` names the line): two users sharing host ids could
/// reach each other's files.
pub fn root_range(text: &str) -> Result<(u32, u32), String> {
    if let Some(r) = subid_range(text, "root", 0) {
        return Ok(r);
    }
    let (lo, n) = (DEFAULT_BASE as u64, DEFAULT_COUNT as u64);
    for l in text.lines() {
        let mut f = l.trim().split(':');
        let (Some(who), Some(Ok(start)), Some(Ok(count))) = (
            f.next(),
            f.next().map(str::parse::<u64>),
            f.next().map(str::parse::<u64>),
        ) else {
            continue;
        };
        if start < lo + n && lo < start + count {
            return Err(format!(
                "the default range {lo}-{} overlaps `{who}`'s {start}-{}",
                lo + n - 1,
                start + count - 1
            ));
        }
    }
    Ok((DEFAULT_BASE, DEFAULT_COUNT))
}

/// Writes the maps of process `pid` under `proc_root` (normally `/proc`).
pub fn write_maps(proc_root: &Path, pid: i32, ns: &Userns) -> io::Result<()> {
    if !ns.is_new() {
        return Ok(());
    }
    let dir = proc_root.join(pid.to_string());
    if ns.deny_setgroups() {
        fs::write(dir.join("setgroups"), "deny")?;
    }
    fs::write(dir.join("uid_map"), map_text(&ns.uid_map()))?;
    fs::write(dir.join("gid_map"), map_text(&ns.gid_map()))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn maps_for_each_mode() {
        let m = Userns::Mapped {
            uids: (100_000, 65_536),
            gids: (300_000, 1000),
        };
        assert_eq!(map_text(&m.uid_map()), "0 100000 65536\n");
        assert_eq!(map_text(&m.gid_map()), "0 300000 1000\n");
        assert!(!m.has_gid(1000) && m.has_uid(1000));
        assert!(!m.deny_setgroups());
        assert!(m.has_gid(5));
        let r = Userns::Rootless {
            host_uid: 1000,
            host_gid: 1000,
            uid: 0,
            gid: 0,
        };
        assert_eq!(map_text(&r.uid_map()), "0 1000 1\n");
        assert!(r.deny_setgroups());
        assert!(
            !r.has_gid(5),
            "devpts cannot use gid 5 when only gid 0 is mapped"
        );
        let u = Userns::Rootless {
            host_uid: 1000,
            host_gid: 100,
            uid: 1000,
            gid: 1000,
        };
        assert_eq!(map_text(&u.gid_map()), "1000 100 1\n");
        assert!(u.has_uid(1000) && !u.has_uid(0));
        assert!(Userns::Host.has_gid(5));
    }

    #[test]
    fn roots_range_is_its_line_or_a_default_nobody_else_has() {
        assert_eq!(
            root_range("alice:100000:65536\nroot:200000:65536\n"),
            Ok((200000, 65536))
        );
        assert_eq!(root_range("alice:100000:65536\n"), Ok((0x7000_0000, 65536)));
        assert_eq!(root_range(""), Ok((0x7000_0000, 65536)));
        assert_eq!(
            root_range("alice:100000:65536\nbob:1879000000:100000\n"),
            Err(
                "the default range 1879048192-1879113727 overlaps `bob`'s 1879000000-1879099999"
                    .into()
            )
        );
        // Just below and just above: no overlap.
        assert!(root_range("a:1879048191:1\nb:1879113728:5\n").is_ok());
    }

    #[test]
    fn subuid_lines() {
        let text = "alice:100000:65536\nroot:200000:65536\n";
        assert_eq!(subid_range(text, "root", 0), Some((200000, 65536)));
        assert_eq!(subid_range(text, "bob", 7), None);
        assert_eq!(
            subid_range("0:300000:1000\n", "root", 0),
            Some((300000, 1000))
        );
    }

    #[test]
    fn writes_map_files() {
        let root = std::env::temp_dir().join(format!("syscage-idmap-{}", std::process::id()));
        fs::create_dir_all(root.join("42")).unwrap();
        let r = Userns::Rootless {
            host_uid: 1000,
            host_gid: 1000,
            uid: 0,
            gid: 0,
        };
        write_maps(&root, 42, &r).unwrap();
        assert_eq!(
            fs::read_to_string(root.join("42/setgroups")).unwrap(),
            "deny"
        );
        assert_eq!(
            fs::read_to_string(root.join("42/uid_map")).unwrap(),
            "0 1000 1\n"
        );
        assert_eq!(
            fs::read_to_string(root.join("42/gid_map")).unwrap(),
            "0 1000 1\n"
        );
        fs::remove_dir_all(&root).unwrap();
    }
}
