//! syscage's seccomp policy, in pure Rust: the model, the readers and writers of Docker/OCI
//! JSON and of the Security Profiles Operator's resource, built-in profiles, system call
//! groups, resolution against capabilities and ABIs, the evaluator that says which rule
//! decides a call, and the linter.
//!
//! Nothing here touches the kernel or libseccomp, so it builds and tests anywhere.
//! The pipeline: text --[`profile::parse`]--> [`Profile`] --[`resolve::resolve`]-->
//! [`Policy`] --(syscage-seccomp)--> BPF.
#![deny(unsafe_code)]

pub mod action;
pub mod arch;
pub mod builtin;
pub mod caps;
pub mod cond;
pub mod cube;
pub mod diff;
pub mod errno;
pub mod eval;
pub mod groups;
pub mod hint;
pub mod lint;
pub mod model;
pub mod plan;
pub mod profile;
pub mod reads;
pub mod resolve;
pub mod syscalls;
pub mod tweak;

pub use action::Action;
pub use arch::Arch;
pub use caps::{Cap, CapSet};
pub use cond::{Cond, Op};
pub use model::{Flags, Listener, Origin, Policy, Rule, Skipped};
pub use profile::{KernelVersion, Profile};
pub use resolve::Context;
