//! The validated configuration of one container run, and the parsers for the option values
//! users type (`--memory 512m`, `-v /src:/dst:ro`, `--user 1000:1000`, `-e K=V`).
//!
//! The CLI builds the run's configuration from these; each refuses a bad value with an
//! error naming the option. Only [`parse_volume`] looks at the host (its source must exist).

use crate::fsroot::FileId;
use std::ffi::OsString;
use std::path::{Component, Path, PathBuf};
use syscage_policy::caps::{Cap, CapSet};
use thiserror::Error;

/// Why an option value was refused.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum ConfigError {
    #[error("--memory `{0}`: not a size (expected a number with an optional k, m or g suffix, e.g. `512m`)")]
    BadSize(String),
    #[error("--memory `{0}`: a memory limit must be at least 4m (the kernel needs room to start the command)")]
    SizeTooSmall(String),
    #[error("--pids-limit `{0}`: expected a whole number from 2 (the container's init counts as one) to 4194304 (the kernel's most)")]
    BadPids(String),
    #[error("--cpus `{0}`: expected a positive number of CPUs such as `0.5` or `2`")]
    BadCpus(String),
    #[error("--volume `{0}`: expected HOST:CONTAINER or HOST:CONTAINER:OPTIONS (ro, rw, and one of rprivate, private, rslave, slave, rshared, shared, separated by commas)")]
    BadVolume(String),
    #[error("--volume `{spec}`: unknown option `{option}` (expected ro, rw, rprivate, private, rslave, slave, rshared or shared)")]
    BadVolumeOption { spec: String, option: String },
    #[error("--volume `{spec}`: `ro` with `{propagation}`: mounts the host makes later below the volume would appear in the container writable; use `ro` alone (private), or `{propagation}` without `ro`")]
    ReadOnlyPropagation { spec: String, propagation: String },
    #[error(
        "--volume `{spec}`: the container path `{path}` must be absolute and must not contain `..`"
    )]
    BadVolumeTarget { spec: String, path: String },
    #[error("{option} `{spec}`: syscage mounts the container's own {what} at `{path}`; choose another container path")]
    ReservedTarget {
        option: &'static str,
        spec: String,
        path: String,
        what: &'static str,
    },
    #[error("--volume `{spec}`: host path `{path}` does not exist{link}")]
    MissingVolumeSource {
        spec: String,
        path: String,
        link: &'static str,
    },
    #[error("--tmpfs `{0}`: the container path must be absolute and must not contain `..`")]
    BadTmpfs(String),
    #[error("--tmpfs `{spec}`: {why}")]
    BadTmpfsOption { spec: String, why: String },
    #[error(
        "--env `{0}`: expected KEY=VALUE (or KEY to copy the variable from syscage's environment)"
    )]
    BadEnv(String),
    #[error("--user `{0}`: expected USER or USER:GROUP, each a name or a number from 0 to 2147483647 (4294967295 means \"unchanged\" to the kernel)")]
    BadUser(String),
    #[error("--user `{spec}`: no {what} `{name}` in the root file system's {file}")]
    UnknownId {
        spec: String,
        what: &'static str,
        name: String,
        file: &'static str,
    },
    #[error("--cap-{op} `{name}`: unknown capability{hint}")]
    UnknownCap {
        op: &'static str,
        name: String,
        hint: String,
    },
    #[error("--cap-{op} `{name}`: the running kernel does not have this capability (its last is {last})")]
    CapNotInKernel {
        op: &'static str,
        name: String,
        last: u8,
    },
    #[error("--cap-add `{name}`: syscage's own bounding set lacks CAP_{cap}, so no process it starts can have it; hint: run syscage where the bounding set holds it (`grep CapBnd /proc/self/status`)")]
    CapNotInBounding { name: String, cap: &'static str },
    #[error("--hostname `{0}`: expected 1 to 64 letters, digits, `-` or `.`")]
    BadHostname(String),
    #[error("--workdir `{0}`: must be an absolute path")]
    BadWorkdir(String),
    #[error("--rootfs `{0}`: does not exist")]
    RootfsMissing(String),
    #[error("--rootfs `{0}`: is not a directory")]
    RootfsNotDir(String),
    #[error("--rootfs `{0}`: the host's own `/`, which the container would get writable as root; leave --rootfs out for a read-only view of it in a user namespace")]
    RootfsIsHostRoot(String),
    #[error("--rootfs `{0}`: cannot read it: {1}")]
    RootfsUnreadable(String, String),
    #[error("--rootfs `{0}`: is empty; hint: put a root file system there (for example busybox: `busybox --install -s DIR/bin`)")]
    RootfsEmpty(String),
    #[error("--read-only needs --rootfs (without it the host's / is already mounted read-only)")]
    ReadOnlyWithoutRootfs,
    #[error("the command is an empty string; usage: syscage run [OPTIONS] -- COMMAND [ARG...]")]
    EmptyCommand,
}

/// Parses a size such as `512m`, `1g`, `64k` or `1048576` (bytes). Suffixes are binary
/// (k = 1024), as Docker's. Zero is refused by the caller that knows the option.
pub fn parse_size(s: &str) -> Option<u64> {
    let t = s.trim().to_ascii_lowercase();
    let t = t.strip_suffix('b').unwrap_or(&t);
    let (num, mult) = match t.chars().last()? {
        'k' => (&t[..t.len() - 1], 1u64 << 10),
        'm' => (&t[..t.len() - 1], 1u64 << 20),
        'g' => (&t[..t.len() - 1], 1u64 << 30),
        c if c.is_ascii_digit() => (t, 1),
        _ => return None,
    };
    if num.is_empty() || !num.chars().all(|c| c.is_ascii_digit()) {
        return None;
    }
    num.parse::<u64>().ok()?.checked_mul(mult)
}

/// `--memory`: a size of at least 4 MiB.
pub fn parse_memory(s: &str) -> Result<u64, ConfigError> {
    let bytes = parse_size(s).ok_or_else(|| ConfigError::BadSize(s.to_string()))?;
    if bytes < 4 << 20 {
        return Err(ConfigError::SizeTooSmall(s.to_string()));
    }
    Ok(bytes)
}

/// `--pids-limit`: a positive number.
pub fn parse_pids(s: &str) -> Result<u64, ConfigError> {
    s.trim()
        .parse::<u64>()
        .ok()
        .filter(|n| (2..=4_194_304).contains(n))
        .ok_or_else(|| ConfigError::BadPids(s.to_string()))
}

/// CPU bandwidth: `quota` microseconds of CPU time every `period` microseconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CpuQuota {
    pub quota_us: u64,
    pub period_us: u64,
}

/// `--cpus`: a positive number of CPUs, as Docker (period 100 ms, quota = cpus × period).
pub fn parse_cpus(s: &str) -> Result<CpuQuota, ConfigError> {
    let bad = || ConfigError::BadCpus(s.to_string());
    let f: f64 = s.trim().parse().map_err(|_| bad())?;
    if !f.is_finite() || f <= 0.0 || f > 1024.0 {
        return Err(bad());
    }
    let period_us = 100_000u64;
    // The kernel's minimum quota is 1 ms.
    let quota_us = ((f * period_us as f64).round() as u64).max(1000);
    Ok(CpuQuota {
        quota_us,
        period_us,
    })
}

/// How mounts made later reach across a volume (Docker's bind propagation). syscage
/// applies it to the whole bound tree: `private` and `rprivate` alike make every mount of
/// the volume private.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Propagation {
    /// Nothing crosses: the default, as Docker's `rprivate`.
    #[default]
    Private,
    /// Mounts the host makes later below the source appear in the container.
    Slave,
    /// Both ways: the container's mounts below the volume also appear on the host, where
    /// the host's mount of the source is shared (and syscage runs without a user
    /// namespace: the kernel never lets a less privileged namespace propagate out).
    Shared,
}

impl Propagation {
    pub fn name(self) -> &'static str {
        match self {
            Propagation::Private => "rprivate",
            Propagation::Slave => "rslave",
            Propagation::Shared => "rshared",
        }
    }
}

/// A bind mount from the host into the container.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Volume {
    pub host: PathBuf,
    pub container: PathBuf,
    pub read_only: bool,
    pub propagation: Propagation,
    /// Whether the source is a directory (else it is a file, bound onto a file).
    pub dir: bool,
    /// The source as it was when the options were read: the container's set-up opens the
    /// canonical path again without following links and must find this same file.
    pub id: FileId,
    /// The mounts below the source come too (`-v` and OCI `rbind`; OCI `bind`: not).
    pub recursive: bool,
    /// MS_NOSUID, MS_NOEXEC (and the atime flags) on top of `read_only` and the nodev
    /// every volume gets.
    pub flags: u64,
}

/// `--volume HOST:CONTAINER[:OPTIONS]`, OPTIONS a comma-separated list of `ro`/`rw` and
/// a propagation. The host path must exist; the container path must be absolute and free
/// of `..` (so it cannot climb out of the root file system).
pub fn parse_volume(spec: &str) -> Result<Volume, ConfigError> {
    let parts: Vec<&str> = spec.split(':').collect();
    let (host, container, options) = match parts.as_slice() {
        [h, c] => (*h, *c, ""),
        [h, c, o] => (*h, *c, *o),
        _ => return Err(ConfigError::BadVolume(spec.to_string())),
    };
    if host.is_empty() || container.is_empty() {
        return Err(ConfigError::BadVolume(spec.to_string()));
    }
    let mut read_only = false;
    let mut propagation = None;
    for o in options.split(',').filter(|o| !o.is_empty()) {
        match o {
            "ro" => read_only = true,
            "rw" => read_only = false,
            "rprivate" | "private" => propagation = Some((Propagation::Private, o)),
            "rslave" | "slave" => propagation = Some((Propagation::Slave, o)),
            "rshared" | "shared" => propagation = Some((Propagation::Shared, o)),
            _ => {
                return Err(ConfigError::BadVolumeOption {
                    spec: spec.to_string(),
                    option: o.to_string(),
                })
            }
        }
    }
    if let (true, Some((p, name))) = (read_only, propagation) {
        if p != Propagation::Private {
            return Err(ConfigError::ReadOnlyPropagation {
                spec: spec.to_string(),
                propagation: name.to_string(),
            });
        }
    }
    let cpath = Path::new(container);
    if !cpath.is_absolute() || cpath.components().any(|c| c == Component::ParentDir) {
        return Err(ConfigError::BadVolumeTarget {
            spec: spec.to_string(),
            path: container.to_string(),
        });
    }
    reserved("--volume", spec, cpath)?;
    let hpath = Path::new(host);
    let missing = || {
        let dangling = std::fs::symlink_metadata(hpath).is_ok();
        ConfigError::MissingVolumeSource {
            spec: spec.to_string(),
            path: host.to_string(),
            link: if dangling {
                " (it is a link to nothing)"
            } else {
                ""
            },
        }
    };
    let host = std::fs::canonicalize(hpath).map_err(|_| missing())?;
    let meta = std::fs::metadata(&host).map_err(|_| missing())?;
    let id = FileId::of_path(&host).map_err(|_| missing())?;
    Ok(Volume {
        host,
        container: cpath.to_path_buf(),
        read_only,
        propagation: propagation.map(|(p, _)| p).unwrap_or_default(),
        dir: meta.is_dir(),
        id,
        recursive: true,
        flags: 0,
    })
}

/// Refuses a user mount where syscage mounts the container's own file systems: over `/`,
/// `/proc`, `/sys` or `/dev` (or `/dev/pts`), it would hide them, and with them the masks
/// on `/proc` and `/sys` (Docker refuses the same places).
fn reserved(option: &'static str, spec: &str, path: &Path) -> Result<(), ConfigError> {
    let what = if path == Path::new("/") {
        Some("root file system")
    } else if path.starts_with("/proc") {
        Some("/proc")
    } else if path.starts_with("/sys") {
        Some("/sys")
    } else if path == Path::new("/dev") || path.starts_with("/dev/pts") {
        Some("/dev")
    } else {
        None
    };
    match what {
        Some(what) => Err(ConfigError::ReservedTarget {
            option,
            spec: spec.to_string(),
            path: path.display().to_string(),
            what,
        }),
        None => Ok(()),
    }
}

/// A fresh tmpfs: `--tmpfs`, or one syscage makes itself (`/tmp` and `/run` over a
/// read-only root).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tmpfs {
    pub path: PathBuf,
    /// Bytes; never 0 (which tmpfs reads as "no limit").
    pub size: u64,
    /// Inodes: each costs kernel memory that `size` does not count.
    pub nr_inodes: u64,
    pub mode: u32,
    pub uid: Option<u32>,
    pub gid: Option<u32>,
    pub noexec: bool,
    pub nosuid: bool,
    pub read_only: bool,
}

/// The size of a tmpfs when nothing says otherwise (`--tmpfs` without `size=`, and
/// syscage's own `/tmp`): the kernel's default is half of the machine's memory for each
/// one, as shared memory the OOM killer cannot pin on a process.
pub const DEFAULT_TMPFS_SIZE: u64 = 256 << 20;
/// The size of syscage's own `/run`.
pub const RUN_TMPFS_SIZE: u64 = 64 << 20;

impl Tmpfs {
    /// A tmpfs of `size` bytes at `path`, `nosuid,nodev`, mode 1777, one inode per 4 KiB.
    pub fn new(path: impl Into<PathBuf>, size: u64) -> Tmpfs {
        Tmpfs {
            path: path.into(),
            size,
            nr_inodes: default_inodes(size),
            mode: 0o1777,
            uid: None,
            gid: None,
            noexec: false,
            nosuid: true,
            read_only: false,
        }
    }

    /// The tmpfs options: `mode=1777,size=268435456,nr_inodes=65536`.
    pub fn data(&self) -> String {
        let mut d = format!(
            "mode={:o},size={},nr_inodes={}",
            self.mode, self.size, self.nr_inodes
        );
        if let Some(u) = self.uid {
            d.push_str(&format!(",uid={u}"));
        }
        if let Some(g) = self.gid {
            d.push_str(&format!(",gid={g}"));
        }
        d
    }
}

fn default_inodes(size: u64) -> u64 {
    (size / 4096).max(1024)
}

/// `--tmpfs PATH[:OPTIONS]`: an absolute container path outside syscage's own mounts, and
/// Docker's options, comma-separated: `size=` (`k`, `m`, `g`), `mode=` (octal),
/// `nr_inodes=`, `uid=`, `gid=`, `exec`/`noexec`, `suid`/`nosuid`, `nodev`, `ro`/`rw`.
/// Without `size=` it holds [`DEFAULT_TMPFS_SIZE`]; it is always `nodev` (`dev` is
/// refused: a device node made there would open the host's device).
pub fn parse_tmpfs(spec: &str) -> Result<Tmpfs, ConfigError> {
    let (path, options) = spec.split_once(':').unwrap_or((spec, ""));
    let p = Path::new(path);
    if !p.is_absolute() || p.components().any(|c| c == Component::ParentDir) {
        return Err(ConfigError::BadTmpfs(spec.to_string()));
    }
    reserved("--tmpfs", spec, p)?;
    let bad = |why: String| ConfigError::BadTmpfsOption {
        spec: spec.to_string(),
        why,
    };
    let mut t = Tmpfs::new(p, DEFAULT_TMPFS_SIZE);
    let mut inodes = None;
    for o in options.split(',').filter(|o| !o.is_empty()) {
        let (key, value) = match o.split_once('=') {
            Some((k, v)) => (k, Some(v)),
            None => (o, None),
        };
        let number = |v: Option<&str>| -> Result<u64, ConfigError> {
            v.and_then(|v| v.parse::<u64>().ok())
                .ok_or_else(|| bad(format!("`{o}`: expected a whole number")))
        };
        match (key, value) {
            ("size", v) => {
                t.size = v
                    .and_then(parse_size)
                    .filter(|s| *s > 0)
                    .ok_or_else(|| bad(format!("`{o}`: expected a size above 0 such as `64m` (k, m, g)")))?
            }
            ("mode", Some(v)) => {
                t.mode = u32::from_str_radix(v, 8)
                    .ok()
                    .filter(|m| *m <= 0o7777)
                    .ok_or_else(|| bad(format!("`{o}`: expected an octal mode such as `1777`")))?
            }
            ("nr_inodes", v) => {
                inodes = Some(number(v).and_then(|n| {
                    if n == 0 {
                        Err(bad(format!("`{o}`: 0 would mean no limit")))
                    } else {
                        Ok(n)
                    }
                })?)
            }
            ("uid", v) => t.uid = Some(id_option(number(v)?).ok_or_else(|| bad(format!("`{o}`: expected an id up to 2147483647")))?),
            ("gid", v) => t.gid = Some(id_option(number(v)?).ok_or_else(|| bad(format!("`{o}`: expected an id up to 2147483647")))?),
            ("exec", None) => t.noexec = false,
            ("noexec", None) => t.noexec = true,
            ("suid", None) => t.nosuid = false,
            ("nosuid", None) => t.nosuid = true,
            ("nodev", None) => {}
            ("dev", None) => {
                return Err(bad(
                    "`dev`: device nodes made there would reach the host's devices; syscage keeps every tmpfs nodev".into(),
                ))
            }
            ("ro", None) => t.read_only = true,
            ("rw", None) => t.read_only = false,
            _ => return Err(bad(format!("unknown option `{o}` (expected size=, mode=, nr_inodes=, uid=, gid=, exec, noexec, suid, nosuid, nodev, ro, rw)"))),
        }
    }
    t.nr_inodes = inodes.unwrap_or_else(|| default_inodes(t.size));
    Ok(t)
}

fn id_option(n: u64) -> Option<u32> {
    u32::try_from(n).ok().filter(|v| *v <= i32::MAX as u32)
}

/// A user or group as `--user` names it: a number, or a name of the root file system.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Id {
    Num(u32),
    Name(String),
}

/// `--user USER[:GROUP]`, not yet resolved against the root file system.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserSpec {
    pub user: Id,
    pub group: Option<Id>,
}

/// `--user USER[:GROUP]`, each a number (0 to 2147483647; above that, setresuid(-1) would
/// leave the id unchanged, that is root) or a name to look up in the root file system.
pub fn parse_user(s: &str) -> Result<UserSpec, ConfigError> {
    let bad = || ConfigError::BadUser(s.to_string());
    let id = |p: &str| -> Result<Id, ConfigError> {
        if p.bytes().all(|b| b.is_ascii_digit()) && !p.is_empty() {
            return p
                .parse::<u32>()
                .ok()
                .filter(|v| *v <= i32::MAX as u32)
                .map(Id::Num)
                .ok_or_else(bad);
        }
        let name_ok = !p.is_empty()
            && p.len() <= 32
            && !p.starts_with('-')
            && p.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"_.-".contains(&b));
        if name_ok {
            Ok(Id::Name(p.to_string()))
        } else {
            Err(bad())
        }
    };
    let (user, group) = match s.split_once(':') {
        Some((u, g)) => (id(u)?, Some(id(g)?)),
        None => (id(s)?, None),
    };
    Ok(UserSpec { user, group })
}

/// The fields of the `/etc/passwd` or `/etc/group` line whose field `key` (0: name, 2: id)
/// is `value`.
fn entry<'a>(text: &'a str, key: usize, value: &str) -> Option<Vec<&'a str>> {
    text.lines()
        .map(|l| l.split(':').collect::<Vec<_>>())
        .find(|f| f.len() >= 4 && f[key] == value)
}

/// Resolves `--user` as Docker does, against the root file system's `/etc/passwd` and
/// `/etc/group` text: a user name must be there; a number need not be; without a group,
/// the user's primary group from `/etc/passwd`, else 0.
pub fn resolve_user(
    spec: &UserSpec,
    passwd: &str,
    group: &str,
    shown: &str,
) -> Result<(u32, u32), ConfigError> {
    let unknown = |what: &'static str, name: &str, file: &'static str| ConfigError::UnknownId {
        spec: shown.to_string(),
        what,
        name: name.to_string(),
        file,
    };
    let number = |f: &str| f.parse::<u32>().ok().filter(|v| *v <= i32::MAX as u32);
    let (uid, primary) = match &spec.user {
        Id::Num(n) => (
            *n,
            entry(passwd, 2, &n.to_string()).and_then(|f| number(f[3])),
        ),
        Id::Name(name) => {
            let f = entry(passwd, 0, name).ok_or_else(|| unknown("user", name, "/etc/passwd"))?;
            let uid = number(f[2]).ok_or_else(|| unknown("user", name, "/etc/passwd"))?;
            (uid, number(f[3]))
        }
    };
    let gid = match &spec.group {
        None => primary.unwrap_or(0),
        Some(Id::Num(g)) => *g,
        Some(Id::Name(name)) => entry(group, 0, name)
            .and_then(|f| number(f[2]))
            .ok_or_else(|| unknown("group", name, "/etc/group"))?,
    };
    Ok((uid, gid))
}

/// `--env KEY=VALUE`, or `--env KEY` to copy from `lookup` (syscage's environment); a KEY
/// that is not set there is left out, as Docker does.
pub fn parse_env(
    s: &str,
    lookup: impl Fn(&str) -> Option<OsString>,
) -> Result<Option<(String, String)>, ConfigError> {
    let bad = || ConfigError::BadEnv(s.to_string());
    match s.split_once('=') {
        Some((k, v)) if valid_env_key(k) => Ok(Some((k.to_string(), v.to_string()))),
        Some(_) => Err(bad()),
        None if valid_env_key(s) => {
            Ok(lookup(s).map(|v| (s.to_string(), v.to_string_lossy().into_owned())))
        }
        None => Err(bad()),
    }
}

fn valid_env_key(k: &str) -> bool {
    !k.is_empty() && !k.contains('\0') && !k.starts_with(|c: char| c.is_ascii_digit())
}

/// `--hostname`: a label the kernel accepts and resolvers like.
pub fn parse_hostname(s: &str) -> Result<String, ConfigError> {
    let ok = !s.is_empty()
        && s.len() <= 64
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '.')
        && !s.starts_with('-');
    if ok {
        Ok(s.to_string())
    } else {
        Err(ConfigError::BadHostname(s.to_string()))
    }
}

/// Applies `--cap-add`/`--cap-drop` to Docker's default set, in Docker's order: `ALL` in
/// drop empties the set, `ALL` in add fills it, then individual drops, then individual
/// adds. `last_cap` is the kernel's `/proc/sys/kernel/cap_last_cap`.
pub fn resolve_caps(add: &[String], drop: &[String], last_cap: u8) -> Result<CapSet, ConfigError> {
    let is_all = |s: &String| s.eq_ignore_ascii_case("all") || s.eq_ignore_ascii_case("cap_all");
    let parse = |op: &'static str, s: &String| -> Result<Cap, ConfigError> {
        let cap = Cap::parse(s).ok_or_else(|| ConfigError::UnknownCap {
            op,
            name: s.clone(),
            hint: Cap::unknown_hint(s),
        })?;
        if cap.number() > last_cap {
            return Err(ConfigError::CapNotInKernel {
                op,
                name: s.clone(),
                last: last_cap,
            });
        }
        Ok(cap)
    };
    let mut set = CapSet::docker_default();
    if drop.iter().any(is_all) {
        set = CapSet::empty();
    }
    if add.iter().any(is_all) {
        set = CapSet::all_up_to(last_cap);
    }
    for d in drop.iter().filter(|s| !is_all(s)) {
        set.remove(parse("drop", d)?);
    }
    for a in add.iter().filter(|s| !is_all(s)) {
        set.insert(parse("add", a)?);
    }
    Ok(set)
}

/// [`resolve_caps`] within the bounding set syscage runs with (`CapBnd` of
/// `/proc/self/status`): no process can gain a capability outside it, so asking for one
/// makes capset(2) fail with EPERM. Capabilities asked for as a set (Docker's default,
/// `--cap-add ALL`) that the bounding set lacks are left out and returned, for a note;
/// one added by name fails, naming it.
pub fn resolve_caps_within(
    add: &[String],
    drop: &[String],
    last_cap: u8,
    bounding: CapSet,
) -> Result<(CapSet, Vec<Cap>), ConfigError> {
    let mut set = resolve_caps(add, drop, last_cap)?;
    for a in add {
        if let Some(cap) = Cap::parse(a).filter(|c| !bounding.contains(*c)) {
            return Err(ConfigError::CapNotInBounding {
                name: a.clone(),
                cap: cap.name(),
            });
        }
    }
    let left_out: Vec<Cap> = set.iter().filter(|c| !bounding.contains(*c)).collect();
    for c in &left_out {
        set.remove(*c);
    }
    Ok((set, left_out))
}

/// The bounding set in `/proc/PID/status` text (`CapBnd:\t000001fffeffffff`).
pub fn bounding_from_status(status: &str) -> Option<CapSet> {
    let hex = status
        .lines()
        .find_map(|l| l.strip_prefix("CapBnd:"))?
        .trim();
    u64::from_str_radix(hex, 16).ok().map(CapSet::from_bits)
}

/// Checks `--rootfs`: it exists, is a directory and is not empty.
pub fn check_rootfs(dir: &Path) -> Result<crate::mounts::Rootfs, ConfigError> {
    let shown = dir.display().to_string();
    let meta = std::fs::metadata(dir).map_err(|_| ConfigError::RootfsMissing(shown.clone()))?;
    if !meta.is_dir() {
        return Err(ConfigError::RootfsNotDir(shown));
    }
    let empty = std::fs::read_dir(dir)
        .map(|mut d| d.next().is_none())
        .map_err(|e| {
            ConfigError::RootfsUnreadable(shown.clone(), syscage_policy::errno::io_text(&e))
        })?;
    if empty {
        return Err(ConfigError::RootfsEmpty(shown));
    }
    let path = std::fs::canonicalize(dir).map_err(|_| ConfigError::RootfsMissing(shown.clone()))?;
    if path == Path::new("/") {
        return Err(ConfigError::RootfsIsHostRoot(shown));
    }
    let id = FileId::of_path(&path).map_err(|_| ConfigError::RootfsMissing(shown))?;
    Ok(crate::mounts::Rootfs {
        path,
        id,
        propagation: Propagation::Private,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes() {
        assert_eq!(parse_size("512m"), Some(512 << 20));
        assert_eq!(parse_size("1g"), Some(1 << 30));
        assert_eq!(parse_size("1G"), Some(1 << 30));
        assert_eq!(parse_size("64k"), Some(64 << 10));
        assert_eq!(parse_size("64kb"), Some(64 << 10));
        assert_eq!(parse_size("1048576"), Some(1 << 20));
        assert_eq!(parse_size("abc"), None);
        assert_eq!(parse_size(""), None);
        assert_eq!(parse_size("m"), None);
        assert_eq!(parse_size("-5m"), None);
        assert_eq!(parse_size("1.5g"), None);
        assert_eq!(parse_size("99999999999999999999g"), None);
    }

    #[test]
    fn memory_option() {
        assert_eq!(parse_memory("64m"), Ok(64 << 20));
        assert_eq!(
            parse_memory("0").unwrap_err().to_string(),
            "--memory `0`: a memory limit must be at least 4m (the kernel needs room to start the command)"
        );
        assert_eq!(
            parse_memory("abc").unwrap_err().to_string(),
            "--memory `abc`: not a size (expected a number with an optional k, m or g suffix, e.g. `512m`)"
        );
    }

    #[test]
    fn pids_and_cpus() {
        assert_eq!(parse_pids("64"), Ok(64));
        assert_eq!(
            parse_pids("-1").unwrap_err().to_string(),
            "--pids-limit `-1`: expected a whole number from 2 (the container's init counts as one) to 4194304 (the kernel's most)"
        );
        assert_eq!(parse_pids("0"), Err(ConfigError::BadPids("0".into())));
        assert_eq!(parse_pids("1"), Err(ConfigError::BadPids("1".into())));
        assert_eq!(parse_pids("2"), Ok(2));
        assert_eq!(parse_pids("4194304"), Ok(4194304));
        assert_eq!(
            parse_pids("4194305"),
            Err(ConfigError::BadPids("4194305".into()))
        );
        assert_eq!(
            parse_cpus("0.5"),
            Ok(CpuQuota {
                quota_us: 50_000,
                period_us: 100_000
            })
        );
        assert_eq!(parse_cpus("2").map(|q| q.quota_us), Ok(200_000));
        assert_eq!(parse_cpus("0"), Err(ConfigError::BadCpus("0".into())));
        assert_eq!(parse_cpus("nan"), Err(ConfigError::BadCpus("nan".into())));
    }

    #[test]
    fn volumes() {
        let v = parse_volume("/tmp:/data:ro").unwrap();
        assert_eq!(v.container, PathBuf::from("/data"));
        assert!(v.read_only);
        assert!(!parse_volume("/tmp:/data").unwrap().read_only);
        assert_eq!(
            parse_volume("/nonexistent-syscage:/data").unwrap_err().to_string(),
            "--volume `/nonexistent-syscage:/data`: host path `/nonexistent-syscage` does not exist"
        );
        assert_eq!(
            parse_volume("/tmp:data").unwrap_err(),
            ConfigError::BadVolumeTarget {
                spec: "/tmp:data".into(),
                path: "data".into()
            }
        );
        assert!(matches!(
            parse_volume("/tmp:/a/../../etc"),
            Err(ConfigError::BadVolumeTarget { .. })
        ));
        assert_eq!(
            parse_volume("/tmp"),
            Err(ConfigError::BadVolume("/tmp".into()))
        );
        // Over syscage's own mounts: refused, naming the place.
        for target in [
            "/",
            "/proc",
            "/proc/sys",
            "/sys",
            "/sys/fs",
            "/dev",
            "/dev/pts/0",
        ] {
            assert!(
                matches!(
                    parse_volume(&format!("/tmp:{target}")),
                    Err(ConfigError::ReservedTarget { .. })
                ),
                "{target}"
            );
        }
        assert_eq!(
            parse_volume("/tmp:/proc").unwrap_err().to_string(),
            "--volume `/tmp:/proc`: syscage mounts the container's own /proc at `/proc`; choose another container path"
        );
        assert!(parse_volume("/tmp:/dev/shm").is_ok());
        assert!(parse_volume("/tmp:/procfs").is_ok());
        assert_eq!(
            parse_tmpfs("/").unwrap_err().to_string(),
            "--tmpfs `/`: syscage mounts the container's own root file system at `/`; choose another container path"
        );
        assert_eq!(
            parse_tmpfs("tmp").unwrap_err(),
            ConfigError::BadTmpfs("tmp".into())
        );
        assert_eq!(
            parse_tmpfs("/cache"),
            Ok(Tmpfs::new("/cache", DEFAULT_TMPFS_SIZE))
        );
        // A link to nothing is said to be one.
        let dir = std::env::temp_dir().join(format!("syscage-cfg-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let link = dir.join("dangling");
        std::os::unix::fs::symlink(dir.join("nothing"), &link).unwrap();
        let spec = format!("{}:/data", link.display());
        assert_eq!(
            parse_volume(&spec).unwrap_err().to_string(),
            format!(
                "--volume `{spec}`: host path `{}` does not exist (it is a link to nothing)",
                link.display()
            )
        );
        std::fs::remove_dir_all(&dir).unwrap();
        assert_eq!(
            parse_volume("/tmp:/x:rx"),
            Err(ConfigError::BadVolumeOption {
                spec: "/tmp:/x:rx".into(),
                option: "rx".into()
            })
        );
    }

    #[test]
    fn volume_options_and_propagation() {
        let v = parse_volume("/tmp:/data").unwrap();
        assert_eq!(
            (v.read_only, v.propagation, v.dir),
            (false, Propagation::Private, true)
        );
        assert_eq!(v.id, FileId::of_path(Path::new("/tmp")).unwrap());
        let v = parse_volume("/tmp:/data:ro,rprivate").unwrap();
        assert_eq!((v.read_only, v.propagation), (true, Propagation::Private));
        for (o, p) in [
            ("rslave", Propagation::Slave),
            ("slave", Propagation::Slave),
            ("rshared", Propagation::Shared),
            ("shared", Propagation::Shared),
            ("private", Propagation::Private),
            ("rw,rslave", Propagation::Slave),
        ] {
            assert_eq!(
                parse_volume(&format!("/tmp:/d:{o}")).unwrap().propagation,
                p,
                "{o}"
            );
        }
        assert_eq!(
            parse_volume("/tmp:/d:ro,rslave").unwrap_err().to_string(),
            "--volume `/tmp:/d:ro,rslave`: `ro` with `rslave`: mounts the host makes later below the volume would appear in the container writable; use `ro` alone (private), or `rslave` without `ro`"
        );
        assert_eq!(
            parse_volume("/tmp:/d:shared,ro").unwrap_err(),
            ConfigError::ReadOnlyPropagation {
                spec: "/tmp:/d:shared,ro".into(),
                propagation: "shared".into()
            }
        );
        assert_eq!(
            parse_volume("/tmp:/d:z").unwrap_err().to_string(),
            "--volume `/tmp:/d:z`: unknown option `z` (expected ro, rw, rprivate, private, rslave, slave, rshared or shared)"
        );
        assert!(!parse_volume("/etc/hostname:/h:ro").unwrap().dir);
    }

    #[test]
    fn tmpfs_options_follow_docker_and_are_bounded() {
        let t = parse_tmpfs("/t:size=64m,mode=700,noexec,uid=1000,gid=100").unwrap();
        assert_eq!(
            (
                t.size,
                t.mode,
                t.noexec,
                t.nosuid,
                t.uid,
                t.gid,
                t.nr_inodes
            ),
            (64 << 20, 0o700, true, true, Some(1000), Some(100), 16384)
        );
        assert_eq!(
            t.data(),
            "mode=700,size=67108864,nr_inodes=16384,uid=1000,gid=100"
        );
        let t = parse_tmpfs("/t:suid,exec,ro,nr_inodes=10").unwrap();
        assert_eq!(
            (t.nosuid, t.noexec, t.read_only, t.nr_inodes),
            (false, false, true, 10)
        );
        assert_eq!(parse_tmpfs("/t:size=1k").unwrap().nr_inodes, 1024);
        for (spec, why) in [
            ("/t:size=0", "`size=0`: expected a size above 0 such as `64m` (k, m, g)"),
            ("/t:size=50%", "`size=50%`: expected a size above 0 such as `64m` (k, m, g)"),
            ("/t:mode=999", "`mode=999`: expected an octal mode such as `1777`"),
            ("/t:nr_inodes=0", "`nr_inodes=0`: 0 would mean no limit"),
            ("/t:uid=-1", "`uid=-1`: expected a whole number"),
            ("/t:uid=4294967295", "`uid=4294967295`: expected an id up to 2147483647"),
            ("/t:dev", "`dev`: device nodes made there would reach the host's devices; syscage keeps every tmpfs nodev"),
            ("/t:huge=always", "unknown option `huge=always` (expected size=, mode=, nr_inodes=, uid=, gid=, exec, noexec, suid, nosuid, nodev, ro, rw)"),
        ] {
            assert_eq!(
                parse_tmpfs(spec).unwrap_err().to_string(),
                format!("--tmpfs `{spec}`: {why}")
            );
        }
    }

    #[test]
    fn users_and_env() {
        let num = |u: u32, g: Option<u32>| UserSpec {
            user: Id::Num(u),
            group: g.map(Id::Num),
        };
        assert_eq!(parse_user("1000"), Ok(num(1000, None)));
        assert_eq!(parse_user("1000:50"), Ok(num(1000, Some(50))));
        assert_eq!(
            parse_user("bob:staff"),
            Ok(UserSpec {
                user: Id::Name("bob".into()),
                group: Some(Id::Name("staff".into()))
            })
        );
        for bad in ["4294967295", "0:4294967295", "", ":", "a b", "-x", "1000:"] {
            assert_eq!(
                parse_user(bad),
                Err(ConfigError::BadUser(bad.into())),
                "{bad}"
            );
        }
        assert_eq!(parse_user("2147483647"), Ok(num(2147483647, None)));
        // Docker's resolution: the primary group from /etc/passwd, else 0.
        let passwd = "root:x:0:0:root:/root:/bin/sh\nbob:x:1000:100::/home/bob:/bin/sh\n";
        let group = "root:x:0:\nusers:x:100:\nstaff:x:50:bob\n";
        let r = |s: &str| resolve_user(&parse_user(s).unwrap(), passwd, group, s);
        assert_eq!(r("1000"), Ok((1000, 100)));
        assert_eq!(r("2000"), Ok((2000, 0)));
        assert_eq!(r("bob"), Ok((1000, 100)));
        assert_eq!(r("bob:staff"), Ok((1000, 50)));
        assert_eq!(r("1000:7"), Ok((1000, 7)));
        assert_eq!(
            r("alice").unwrap_err().to_string(),
            "--user `alice`: no user `alice` in the root file system's /etc/passwd"
        );
        assert_eq!(
            r("bob:wheel").unwrap_err().to_string(),
            "--user `bob:wheel`: no group `wheel` in the root file system's /etc/group"
        );
        let none = |_: &str| None;
        assert_eq!(
            parse_env("A=b=c", none),
            Ok(Some(("A".into(), "b=c".into())))
        );
        assert_eq!(parse_env("A=", none), Ok(Some(("A".into(), "".into()))));
        assert_eq!(parse_env("=x", none), Err(ConfigError::BadEnv("=x".into())));
        assert_eq!(parse_env("UNSET", none), Ok(None));
        let some = |_: &str| Some(OsString::from("v"));
        assert_eq!(parse_env("SET", some), Ok(Some(("SET".into(), "v".into()))));
    }

    #[test]
    fn capabilities_follow_docker() {
        let set = resolve_caps(&[], &[], 40).unwrap();
        assert_eq!(set, CapSet::docker_default());
        let set = resolve_caps(&["sys_ptrace".into()], &["CAP_NET_RAW".into()], 40).unwrap();
        assert!(set.contains(Cap::SYS_PTRACE));
        assert!(!set.contains(Cap::parse("NET_RAW").unwrap()));
        let set = resolve_caps(&["CHOWN".into()], &["ALL".into()], 40).unwrap();
        assert_eq!(
            set.iter().collect::<Vec<_>>(),
            vec![Cap::parse("CHOWN").unwrap()]
        );
        assert_eq!(
            resolve_caps(&["all".into()], &[], 40).unwrap().bits(),
            0x1ff_ffff_ffff
        );
        assert_eq!(
            resolve_caps(&["SYS_ADMN".into()], &[], 40)
                .unwrap_err()
                .to_string(),
            "--cap-add `SYS_ADMN`: unknown capability (did you mean `SYS_ADMIN`?)"
        );
        let unknown = resolve_caps(&["FROB".into()], &[], 40)
            .unwrap_err()
            .to_string();
        assert!(
            unknown.starts_with("--cap-add `FROB`: unknown capability; hint: capabilities are named as in capabilities(7), with or without `CAP_`, in any case: CHOWN, DAC_OVERRIDE, "),
            "{unknown}"
        );
        assert_eq!(
            resolve_caps(&[], &["CAP_CHECKPOINT_RESTORE".into()], 39).unwrap_err().to_string(),
            "--cap-drop `CAP_CHECKPOINT_RESTORE`: the running kernel does not have this capability (its last is 39)"
        );
    }

    #[test]
    fn capabilities_within_the_bounding_set() {
        // This machine's root: every capability but SYS_RESOURCE (24).
        let status = "Name:\tsyscage\nCapBnd:\t000001fffeffffff\nCapAmb:\t0000000000000000\n";
        let bounding = bounding_from_status(status).unwrap();
        let resource = Cap::parse("SYS_RESOURCE").unwrap();
        assert!(!bounding.contains(resource));
        let (set, left_out) = resolve_caps_within(&["ALL".into()], &[], 40, bounding).unwrap();
        assert_eq!(set.bits(), 0x1ff_feff_ffff);
        assert_eq!(left_out, vec![resource]);
        let (set, left_out) = resolve_caps_within(&[], &[], 40, bounding).unwrap();
        assert_eq!((set, left_out), (CapSet::docker_default(), vec![]));
        assert_eq!(
            resolve_caps_within(&["sys_resource".into()], &[], 40, bounding)
                .unwrap_err()
                .to_string(),
            "--cap-add `sys_resource`: syscage's own bounding set lacks CAP_SYS_RESOURCE, so no process it starts can have it; hint: run syscage where the bounding set holds it (`grep CapBnd /proc/self/status`)"
        );
        assert_eq!(bounding_from_status("Name:\tx\n"), None);
    }

    #[test]
    fn hostnames() {
        assert!(parse_hostname("box-1.local").is_ok());
        assert!(parse_hostname("").is_err());
        assert!(parse_hostname("a b").is_err());
        assert!(parse_hostname(&"x".repeat(65)).is_err());
    }

    #[test]
    fn rootfs_checks() {
        let dir = std::env::temp_dir().join(format!("syscage-rootfs-test-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        assert_eq!(
            check_rootfs(&dir).unwrap_err(),
            ConfigError::RootfsEmpty(dir.display().to_string())
        );
        let file = dir.join("f");
        std::fs::write(&file, b"").unwrap();
        assert_eq!(
            check_rootfs(&file).unwrap_err(),
            ConfigError::RootfsNotDir(file.display().to_string())
        );
        assert!(check_rootfs(&dir).is_ok());
        assert_eq!(
            check_rootfs(Path::new("/usr/..")).unwrap_err(),
            ConfigError::RootfsIsHostRoot("/usr/..".into())
        );
        assert_eq!(
            check_rootfs(&dir.join("nope")).unwrap_err(),
            ConfigError::RootfsMissing(dir.join("nope").display().to_string())
        );
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
