//! Profiles as written: the Docker/OCI JSON format (with Docker's and Podman's extensions),
//! parsed strictly but not yet resolved against capabilities, ABIs or the kernel.
//!
//! `read` turns text into a [`Profile`]; `crate::resolve` turns a profile plus the run's
//! context into a [`crate::Policy`]; `write` turns a profile back into JSON.

pub mod portable;
mod read;
mod write;

pub use portable::PortableError;
pub use read::{parse, ErrorKind, ReadError, ReadOptions};
pub use write::{policy_to_oci, to_json};

use crate::action::Action;
use crate::arch::Arch;
use crate::caps::Cap;
use crate::cond::Op;
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

/// A parsed profile.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Profile {
    pub default_action: Option<Action>,
    /// `architectures`, when given.
    pub architectures: Vec<Arch>,
    /// `archMap`, when given: native architecture and its sub-architectures.
    pub arch_map: Vec<ArchMapEntry>,
    pub flags: Vec<FilterFlag>,
    pub listener_path: Option<String>,
    pub listener_metadata: Option<String>,
    pub syscalls: Vec<SyscallEntry>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ArchMapEntry {
    pub arch: Arch,
    pub sub: Vec<Arch>,
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

/// One entry of `syscalls[]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SyscallEntry {
    /// Names as written; each is a known x86 system call or a known name of another
    /// architecture (unless the reader was told to keep unknown names, see `unknown`).
    pub names: Vec<String>,
    /// Names the reader did not know and was told to skip (`--seccomp-ignore-unknown`).
    pub unknown: Vec<String>,
    pub action: Action,
    pub args: Vec<ArgSpec>,
    pub comment: Option<String>,
    pub includes: Filter,
    pub excludes: Filter,
}

impl SyscallEntry {
    /// The entry's conditions as the rules they make, each a list of (position in `args`,
    /// condition) that must all hold; the entry matches a call when any rule does.
    ///
    /// This is how runc (`matchCall`), crun (`seccomp.c`) and youki read the format, since
    /// libseccomp compares each argument at most once per rule: when the entry compares
    /// some argument more than once, every condition becomes a rule of its own; otherwise
    /// all of them form one rule. So `arg0 == 100`, `arg0 == 200` means either value, and
    /// `arg1 != TIOCSTI`, `arg1 != TIOCLINUX` matches every request.
    pub fn alternatives(&self) -> Vec<Vec<(usize, ArgSpec)>> {
        alternatives(&self.args)
    }
}

/// See [`SyscallEntry::alternatives`].
pub fn alternatives(args: &[ArgSpec]) -> Vec<Vec<(usize, ArgSpec)>> {
    let repeated = args
        .iter()
        .enumerate()
        .any(|(i, a)| args[..i].iter().any(|b| b.index == a.index));
    if repeated {
        args.iter().copied().enumerate().map(|x| vec![x]).collect()
    } else {
        vec![args.iter().copied().enumerate().collect()]
    }
}

/// One entry of `args[]`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ArgSpec {
    pub index: u8,
    pub op: Op,
    pub value: u64,
}

/// `includes`/`excludes`: the rule applies (or not) depending on the run.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Filter {
    pub caps: Vec<Cap>,
    /// Docker architecture names (`amd64`, `x32`, `arm64`...).
    pub arches: Vec<String>,
    pub min_kernel: Option<KernelVersion>,
}

impl Filter {
    pub fn is_empty(&self) -> bool {
        self.caps.is_empty() && self.arches.is_empty() && self.min_kernel.is_none()
    }
}
