//! [`RunConfig`]: everything one container run needs, validated by the caller through the
//! parsers in `config`. The parent and the child both read it; nothing in it changes once
//! the container starts.

use crate::cgroup::Limits;
use crate::idmap::Userns;
use crate::mounts::MountConfig;
use std::path::PathBuf;
use syscage_policy::caps::CapSet;
use syscage_seccomp::bpf::SockFilter;

/// A compiled seccomp program and the seccomp(2) flags to load it with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoadableFilter {
    pub program: Vec<SockFilter>,
    pub flags: u32,
    /// Whether the parent takes the notification fd (report, learn, OCI listener).
    pub listener: bool,
}

#[derive(Debug, Clone)]
pub struct RunConfig {
    /// The command and its arguments; the first is looked up in the container's PATH.
    pub command: Vec<String>,
    pub mounts: MountConfig,
    /// `None` leaves the UTS namespace's name as the kernel copied it (an OCI
    /// configuration without `hostname`).
    pub hostname: Option<String>,
    pub domainname: Option<String>,
    /// The command's whole environment.
    pub env: Vec<(String, String)>,
    pub workdir: PathBuf,
    pub uid: u32,
    pub gid: u32,
    /// Bounding, permitted and effective set of the command (when it runs as root);
    /// [`ProcessExtras::cap_sets`] replaces this rule with five explicit sets.
    pub caps: CapSet,
    pub limits: Limits,
    pub userns: Userns,
    pub namespaces: Namespaces,
    /// What an OCI `process` adds to the command's set-up.
    pub process: ProcessExtras,
    /// An OCI container: its process is the command itself (no init), outlives syscage,
    /// and waits for `start` on the exec FIFO.
    pub oci: bool,
    /// The OCI hooks the container's process runs.
    pub hooks: crate::hooks::ContainerHooks,
    /// Give the container its own pseudo-terminal.
    pub tty: bool,
    /// `None` runs unconfined.
    pub filter: Option<LoadableFilter>,
    /// The init's own filter: what reaping and forwarding signals take, nothing else.
    pub init_filter: Option<Vec<SockFilter>>,
    /// How long the container has to end after a forwarded SIGTERM or SIGINT before it
    /// is killed (`--stop-timeout`, Docker's 10 s by default). The OCI commands leave the
    /// container's end to their client and never read it.
    pub stop_timeout: std::time::Duration,
}

/// The namespaces of the container: made new, or joined from a file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Namespaces {
    /// CLONE_NEW* flags of the namespaces made new (the user namespace is `userns`'s;
    /// the cgroup one is made once the process is in its cgroup).
    pub new: i32,
    /// Joined from a file (`/proc/PID/ns/net`, a bind-mounted one): the CLONE_NEW* type
    /// and the path.
    pub join: Vec<(i32, PathBuf)>,
}

impl Namespaces {
    /// `syscage run`'s: every namespace new.
    pub fn all_new() -> Namespaces {
        Namespaces {
            new: libc::CLONE_NEWNS
                | libc::CLONE_NEWPID
                | libc::CLONE_NEWUTS
                | libc::CLONE_NEWIPC
                | libc::CLONE_NEWNET
                | libc::CLONE_NEWCGROUP,
            join: vec![],
        }
    }

    pub fn is_new(&self, flag: i32) -> bool {
        self.new & flag != 0
    }
}

/// The five capability sets of an OCI `process`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct CapSets {
    pub bounding: CapSet,
    pub effective: CapSet,
    pub inheritable: CapSet,
    pub permitted: CapSet,
    pub ambient: CapSet,
}

/// One resource limit, set with setrlimit(2) before the command runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rlimit {
    pub resource: nix::sys::resource::Resource,
    pub soft: u64,
    pub hard: u64,
}

/// What an OCI `process` asks beyond `syscage run`'s fixed rules. The default is
/// `syscage run`'s: nothing added.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ProcessExtras {
    /// The five sets as given (and kept across the change of user); `None`: `caps` is the
    /// bounding set, and permitted and effective for root only.
    pub cap_sets: Option<CapSets>,
    pub additional_gids: Vec<u32>,
    pub umask: Option<u32>,
    pub rlimits: Vec<Rlimit>,
    pub oom_score_adj: Option<i32>,
    /// personality(2) domain (PER_LINUX32).
    pub personality: Option<u64>,
    /// Leave no_new_privs off (`noNewPrivileges: false`); `syscage run` always sets it.
    pub new_privs: bool,
}

/// Docker's default grace period between SIGTERM and SIGKILL.
pub const DEFAULT_STOP_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(10);

/// The default PATH, as Docker's.
pub const DEFAULT_PATH: &str = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

/// The command's environment: PATH, HOSTNAME, HOME and TERM first (TERM only with a
/// terminal), then the user's `--env` values, which win.
pub fn build_env(
    hostname: &str,
    home: Option<&str>,
    term: Option<&str>,
    user: &[(String, String)],
) -> Vec<(String, String)> {
    let mut env: Vec<(String, String)> = vec![
        ("PATH".into(), DEFAULT_PATH.into()),
        ("HOSTNAME".into(), hostname.into()),
    ];
    if let Some(h) = home {
        env.push(("HOME".into(), h.into()));
    }
    if let Some(t) = term {
        env.push(("TERM".into(), t.into()));
    }
    for (k, v) in user {
        match env.iter_mut().find(|(ek, _)| ek == k) {
            Some(e) => e.1 = v.clone(),
            None => env.push((k.clone(), v.clone())),
        }
    }
    env
}

/// The home directory of `uid` in `/etc/passwd` text, as Docker sets HOME.
pub fn home_of(passwd: &str, uid: u32) -> Option<String> {
    passwd.lines().find_map(|l| {
        let f: Vec<&str> = l.split(':').collect();
        (f.len() >= 6 && f[2].parse() == Ok(uid)).then(|| f[5].to_string())
    })
}

/// A short random hostname (12 hex digits, like a Docker container id).
pub fn random_hostname() -> String {
    let mut b = [0u8; 6];
    if crate::sys::random_bytes(&mut b).is_err() {
        let t = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or(0)
            ^ u128::from(std::process::id());
        b.copy_from_slice(&t.to_le_bytes()[..6]);
    }
    b.iter().map(|x| format!("{x:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn environment_defaults_and_overrides() {
        let env = build_env(
            "box",
            Some("/root"),
            None,
            &[("PATH".into(), "/bin".into()), ("A".into(), "1".into())],
        );
        assert_eq!(
            env,
            vec![
                ("PATH".to_string(), "/bin".to_string()),
                ("HOSTNAME".to_string(), "box".to_string()),
                ("HOME".to_string(), "/root".to_string()),
                ("A".to_string(), "1".to_string()),
            ]
        );
        let env = build_env("b", None, Some("xterm"), &[]);
        assert_eq!(env[2], ("TERM".to_string(), "xterm".to_string()));
    }

    #[test]
    fn home_from_passwd() {
        let p = "root:x:0:0:root:/root:/bin/sh\nbob:x:1000:1000::/home/bob:/bin/sh\n";
        assert_eq!(home_of(p, 1000).as_deref(), Some("/home/bob"));
        assert_eq!(home_of(p, 0).as_deref(), Some("/root"));
        assert_eq!(home_of(p, 5), None);
    }

    #[test]
    fn hostnames_are_twelve_hex_digits() {
        let h = random_hostname();
        assert_eq!(h.len(), 12);
        assert!(h.chars().all(|c| c.is_ascii_hexdigit()));
        assert_ne!(h, random_hostname());
    }
}
