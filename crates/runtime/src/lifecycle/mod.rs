//! syscage as an OCI runtime: the commands podman (through conmon) and containerd's
//! `io.containerd.runc.v2` shim run (docs/oci-clients.md), on the runtime `syscage run`
//! uses.
//!
//! - [`statedir`]: `<root>/<id>/`, its lock, the saved state and the derived status.

pub mod error;
pub mod statedir;

pub use error::OciError;
