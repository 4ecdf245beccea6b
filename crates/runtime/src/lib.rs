//! syscage's container runtime: namespaces, root file system and mounts, user namespaces,
//! capabilities, cgroups, the init, and the parent/child protocol that ties them together.
//!
//! Raw system calls live in `sys`, each with its `// SAFETY:` argument; the rest is safe
//! Rust over nix.
#![deny(unsafe_code)]

pub mod cgmark;
pub mod cgroup;
pub mod child;
pub mod config;
pub mod container;
pub mod error;
pub mod exec;
pub mod fault;
pub mod fsroot;
pub mod handoff;
pub mod hooks;
pub mod idmap;
pub mod lifecycle;
pub mod monitor;
pub mod mountfd;
pub mod mounts;
pub mod ocicgroup;
pub mod ociplan;
pub mod parent;
pub mod protocol;
pub mod relay;
pub mod signals;
pub mod spec;
pub mod sys;
pub mod tty;

pub use error::RunError;
pub use parent::{run, NoSupervisor, Supervisor};
pub use spec::{LoadableFilter, RunConfig};
