//! syscage's libseccomp backend: compile a [`syscage_policy::plan::Plan`] into a BPF
//! program, cache compiled programs, load them, and run them in an interpreter for
//! inspection.
//!
//! Only `compile` touches libseccomp. `load` is what the container's child runs: one
//! seccomp(2) call with the program the parent compiled.
#![deny(unsafe_code)]

pub mod bpf;
pub mod cache;
pub mod compile;
pub mod filter;
pub mod load;
pub mod notify;
pub mod prefix;
