//! The OCI runtime specification as syscage reads and writes it, in pure Rust.
//!
//! - [`config`]: the types of `config.json` (runtime-spec 1.0.0 to 1.2.1), of the process
//!   file `exec --process` takes and of the resources `update --resources` takes.
//! - [`read`]: strict reading. Unknown fields in the spec's own objects are refused with
//!   their path (`process.capabilities.bounding[3]`); `annotations` and `linux.seccomp` are
//!   kept as raw JSON for the policy reader.
//! - [`validate`]: what a runtime must refuse before it touches the host, one error, one
//!   line, naming the field. The result says which paths the caller must still check on
//!   disk (the root file system, namespace files), since this crate touches nothing.
//! - [`state`]: the state document `state` prints, and container IDs.
//! - [`features`]: the `features` document, built from what syscage really supports.
//! - [`default_spec`]: the `config.json` that `spec` writes.
//!
//! Nothing here touches the kernel or the file system, so it builds and tests anywhere.
//! The pipeline: text --[`read::config`]--> [`config::Spec`] --[`validate::config`]-->
//! [`validate::Validated`] (then the runtime's own run configuration).
#![deny(unsafe_code)]

pub mod config;
pub mod default_spec;
pub mod features;
pub mod read;
pub mod state;
mod suggest;
pub mod validate;
pub mod version;

pub use config::{Process, Resources, Spec};
pub use features::{Features, Supported};
pub use read::ReadError;
pub use state::{ContainerId, State, Status};
pub use validate::{PathCheck, ValidateError, Validated};
pub use version::OciVersion;
