//! The OCI runtime specification as syscage reads and writes it, in pure Rust.
//!
//! - [`config`]: the types of `config.json` (runtime-spec 1.0.0 to 1.2.1), of the process
//!   file `exec --process` takes and of the resources `update --resources` takes.
//! - [`read`]: strict reading. Unknown fields in the spec's own objects are refused with
//!   their path (`process.capabilities.bounding[3]`); `annotations` and `linux.seccomp` are
//!   kept as raw JSON for the policy reader.
//!
//! Nothing here touches the kernel or the file system, so it builds and tests anywhere.
#![deny(unsafe_code)]

pub mod config;
pub mod read;
mod suggest;
pub mod version;

pub use config::{Process, Resources, Spec};
pub use read::ReadError;
pub use version::OciVersion;
