//! Profiles as written: the Docker/OCI JSON format (with Docker's and Podman's extensions)
//! and the Security Profiles Operator's `SeccompProfile` resource (YAML or JSON, see
//! [`spo`]), parsed strictly but not yet resolved against capabilities, ABIs or the kernel.
//!
//! `read` turns text into a [`Profile`]; `crate::resolve` turns a profile plus the run's
//! context into a [`crate::Policy`]; `write` turns a profile back into Docker JSON, and a
//! policy into the OCI `linux.seccomp` object; [`spo`] writes a policy as a resource.

mod entry;
mod error;
pub mod portable;
mod raw;
mod read;
pub mod spo;
mod write;
pub mod yaml;

pub use entry::{alternatives, ArgSpec, Filter, SyscallEntry};
pub use error::{EntryError, ErrorKind, ReadError};
pub use portable::PortableError;
pub use read::{parse, parse_oci_seccomp, parse_with_bases, ReadOptions};
pub use spo::base::Base;
pub use write::{policy_to_oci, to_json};

use crate::action::Action;
use crate::arch::Arch;
use std::fmt;

/// A kernel release, as `minKernel` names it and as `uname -r` starts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct KernelVersion {
    pub major: u32,
    pub minor: u32,
    pub patch: u32,
}

impl KernelVersion {
    /// Parses `4.8`, `5.10.12` or a `uname -r` string such as `6.18.44-fc-v595`.
    pub fn parse(s: &str) -> Option<KernelVersion> {
        let core = s
            .split(|c: char| !(c.is_ascii_digit() || c == '.'))
            .next()?;
        let mut parts = core.split('.');
        let major = parts.next()?.parse().ok()?;
        let minor = parts.next()?.parse().ok()?;
        let patch = match parts.next() {
            Some("") | None => 0,
            Some(p) => p.parse().ok()?,
        };
        Some(KernelVersion {
            major,
            minor,
            patch,
        })
    }
}

impl fmt::Display for KernelVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}", self.major, self.minor)?;
        if self.patch != 0 {
            write!(f, ".{}", self.patch)?;
        }
        Ok(())
    }
}

/// A profile as written: the default action, the ABIs, filter flags, an agent to hand
/// the notification fd to, and the entries in order. Built by the reader or in code; the
/// constructors refuse what no runtime could load.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Profile {
    default_action: Action,
    arches: Arches,
    flags: Vec<FilterFlag>,
    listener: Option<ListenerSpec>,
    syscalls: Vec<SyscallEntry>,
}

/// `architectures` or `archMap`: the format has both, a profile gives one.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Arches {
    List(Vec<Arch>),
    Map(Vec<ArchMapEntry>),
}

/// `listenerPath` and `listenerMetadata`.
#[derive(Debug, Clone, PartialEq, Eq)]
struct ListenerSpec {
    path: String,
    metadata: Option<String>,
}

impl Profile {
    /// A profile without entries. NOTIFY cannot be the default action (the supervisor's
    /// own calls would wait for it), and an errno must be one libseccomp loads.
    pub fn new(default_action: Action) -> Result<Profile, ErrorKind> {
        if default_action == Action::Notify {
            return Err(ErrorKind::NotifyDefault);
        }
        entry::check_action(default_action)?;
        Ok(Profile {
            default_action,
            arches: Arches::List(Vec::new()),
            flags: Vec::new(),
            listener: None,
            syscalls: Vec::new(),
        })
    }

    /// `architectures` (replacing an `archMap`).
    pub fn with_architectures(mut self, arches: Vec<Arch>) -> Profile {
        self.arches = Arches::List(arches);
        self
    }

    /// Docker's `archMap` (replacing `architectures`).
    pub fn with_arch_map(mut self, map: Vec<ArchMapEntry>) -> Profile {
        self.arches = Arches::Map(map);
        self
    }

    pub fn with_flags(mut self, flags: Vec<FilterFlag>) -> Profile {
        self.flags = flags;
        self
    }

    /// An OCI seccomp agent's socket (absolute, as crun requires) and the metadata it gets.
    pub fn with_listener(
        mut self,
        path: String,
        metadata: Option<String>,
    ) -> Result<Profile, ErrorKind> {
        if !path.starts_with('/') {
            return Err(ErrorKind::ListenerNotAbsolute(path));
        }
        self.listener = Some(ListenerSpec { path, metadata });
        Ok(self)
    }

    pub fn with_syscalls(mut self, syscalls: Vec<SyscallEntry>) -> Profile {
        self.syscalls = syscalls;
        self
    }

    pub fn push_syscall(&mut self, e: SyscallEntry) {
        self.syscalls.push(e);
    }

    pub fn default_action(&self) -> Action {
        self.default_action
    }

    /// `architectures`; empty when there are none or the profile uses `archMap`.
    pub fn architectures(&self) -> &[Arch] {
        match &self.arches {
            Arches::List(l) => l,
            Arches::Map(_) => &[],
        }
    }

    /// `archMap`; empty when the profile uses `architectures`.
    pub fn arch_map(&self) -> &[ArchMapEntry] {
        match &self.arches {
            Arches::Map(m) => m,
            Arches::List(_) => &[],
        }
    }

    pub fn flags(&self) -> &[FilterFlag] {
        &self.flags
    }

    pub fn listener_path(&self) -> Option<&str> {
        self.listener.as_ref().map(|l| l.path.as_str())
    }

    pub fn listener_metadata(&self) -> Option<&str> {
        self.listener.as_ref().and_then(|l| l.metadata.as_deref())
    }

    pub fn syscalls(&self) -> &[SyscallEntry] {
        &self.syscalls
    }
}

/// One entry of `archMap`: a native architecture and its sub-architectures.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ArchMapEntry {
    arch: Arch,
    sub: Vec<Arch>,
}

impl ArchMapEntry {
    pub fn new(arch: Arch, sub: Vec<Arch>) -> ArchMapEntry {
        ArchMapEntry { arch, sub }
    }

    pub fn arch(&self) -> Arch {
        self.arch
    }

    pub fn sub(&self) -> &[Arch] {
        &self.sub
    }
}

/// `flags` values of the OCI runtime spec.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum FilterFlag {
    Tsync,
    Log,
    SpecAllow,
    WaitKillableRecv,
}

impl FilterFlag {
    pub fn parse(s: &str) -> Option<FilterFlag> {
        Some(match s {
            "SECCOMP_FILTER_FLAG_TSYNC" => FilterFlag::Tsync,
            "SECCOMP_FILTER_FLAG_LOG" => FilterFlag::Log,
            "SECCOMP_FILTER_FLAG_SPEC_ALLOW" => FilterFlag::SpecAllow,
            "SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV" => FilterFlag::WaitKillableRecv,
            _ => return None,
        })
    }

    pub fn name(self) -> &'static str {
        match self {
            FilterFlag::Tsync => "SECCOMP_FILTER_FLAG_TSYNC",
            FilterFlag::Log => "SECCOMP_FILTER_FLAG_LOG",
            FilterFlag::SpecAllow => "SECCOMP_FILTER_FLAG_SPEC_ALLOW",
            FilterFlag::WaitKillableRecv => "SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV",
        }
    }
}

/// The names the reader accepts, as a runtime's `features` document lists them: every
/// `SCMP_ACT_*` (with the historical `SCMP_ACT_KILL`), every `SCMP_CMP_*` and every
/// `SECCOMP_FILTER_FLAG_*` of a profile's `flags`.
pub fn known_names() -> KnownNames {
    use crate::{Action, Op};
    let actions = [
        Action::KillProcess,
        Action::KillThread,
        Action::Trap,
        Action::Errno(1),
        Action::Notify,
        Action::Trace(1),
        Action::Log,
        Action::Allow,
    ]
    .iter()
    .map(|a| a.docker_name().to_string())
    .chain(["SCMP_ACT_KILL".to_string()])
    .collect();
    let ops = [
        Op::Ne,
        Op::Lt,
        Op::Le,
        Op::Eq,
        Op::Ge,
        Op::Gt,
        Op::MaskedEq(0),
    ];
    let flags = [
        FilterFlag::Tsync,
        FilterFlag::Log,
        FilterFlag::SpecAllow,
        FilterFlag::WaitKillableRecv,
    ];
    KnownNames {
        actions,
        operators: ops
            .iter()
            .map(|o| crate::cond::op_docker_name(*o).to_string())
            .collect(),
        flags: flags.iter().map(|f| f.name().to_string()).collect(),
    }
}

/// See [`known_names`].
pub struct KnownNames {
    pub actions: Vec<String>,
    pub operators: Vec<String>,
    pub flags: Vec<String>,
}
