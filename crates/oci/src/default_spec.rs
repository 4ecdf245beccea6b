//! The `config.json` that `spec` writes into a bundle.
//!
//! It is what `runc spec` (1.1.5) writes, with two changes: `ociVersion` is the version
//! syscage writes, and the hostname is `syscage`. Like runc's, it runs `sh` on a terminal
//! as root with three capabilities, a read-only root at `rootfs`, no network beyond a new
//! namespace, the usual masked and read-only paths, and no seccomp filter of its own: the
//! runtime decides what a configuration without `linux.seccomp` gets.

use crate::config::Spec;
use crate::read::{self, ReadError};

/// The text `spec` writes, tab-indented as runc's.
pub const TEXT: &str = include_str!("../data/default-spec.json");

/// The default configuration, read through the strict reader.
pub fn spec() -> Result<Spec, ReadError> {
    read::config(TEXT)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::validate;
    use std::path::Path;

    #[test]
    fn reads_and_validates() {
        let spec = spec().unwrap();
        assert_eq!(spec.oci_version, crate::version::CURRENT);
        assert_eq!(spec.hostname.as_deref(), Some("syscage"));
        let v = validate::config(spec, Path::new("/b")).unwrap();
        assert_eq!(v.root(), Path::new("/b/rootfs"));
        assert_eq!(
            v.process().map(|p| p.args().to_vec()),
            Some(vec!["sh".to_string()])
        );
    }

    #[test]
    fn is_runcs_with_two_changes() {
        let ours: serde_json::Value = serde_json::from_str(TEXT).unwrap();
        let mut runc: serde_json::Value =
            serde_json::from_str(include_str!("../tests/fixtures/runc-spec.json")).unwrap();
        runc["ociVersion"] = crate::version::CURRENT.into();
        runc["hostname"] = "syscage".into();
        assert_eq!(ours, runc);
    }
}
