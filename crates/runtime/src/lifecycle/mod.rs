//! syscage as an OCI runtime: the commands podman (through conmon) and containerd's
//! `io.containerd.runc.v2` shim run (docs/oci-clients.md), on the runtime `syscage run`
//! uses.
//!
//! - [`statedir`]: `<root>/<id>/`, its lock, the saved state and the derived status.

pub mod console;
pub mod convert;
pub mod create;
pub mod error;
pub mod exec;
pub mod mounts;
pub mod ops;
pub mod process;
pub mod statedir;

pub use error::OciError;
