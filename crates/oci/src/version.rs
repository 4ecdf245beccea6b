//! `ociVersion`: which versions of the runtime spec syscage reads.
//!
//! Clients write the version of the spec library they were built with, often with a
//! pre-release tag: podman 4.3 and containerd 1.6 both write `1.0.2-dev`. syscage reads
//! every 1.0, 1.1 and 1.2 release (their fields are a superset of each other) and refuses
//! 0.x drafts and releases newer than 1.2, whose new fields it would not know.

use std::fmt;
use thiserror::Error;

/// The oldest version syscage reads, as the `features` document states it.
pub const MIN: &str = "1.0.0";
/// The newest version syscage knows the fields of.
pub const MAX: &str = "1.2.1";
/// The version syscage writes (`spec`, `state`).
pub const CURRENT: &str = "1.2.1";

/// A parsed `MAJOR.MINOR.PATCH[-PRE][+BUILD]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OciVersion {
    pub major: u64,
    pub minor: u64,
    pub patch: u64,
    /// The pre-release or build tag, as written (`-dev`, `-rc.1`); empty when none.
    pub tag: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum VersionError {
    #[error("`{0}` is not a version (expected e.g. `1.2.0`)")]
    Malformed(String),
    #[error("`{0}` is older than the versions syscage reads ({MIN} to 1.2.x)")]
    TooOld(String),
    #[error("`{0}` is newer than the versions syscage reads ({MIN} to 1.2.x)")]
    TooNew(String),
}

impl OciVersion {
    /// Parses a version; does not judge whether syscage reads it.
    pub fn parse(s: &str) -> Result<OciVersion, VersionError> {
        let malformed = || VersionError::Malformed(s.to_string());
        let split = s.find(['-', '+']).unwrap_or(s.len());
        let (core, tag) = s.split_at(split);
        if tag == "-" || tag == "+" {
            return Err(malformed());
        }
        let mut parts = core.split('.');
        let mut next = || -> Result<u64, VersionError> {
            let p = parts.next().ok_or_else(malformed)?;
            // No signs, no empty parts, no leading zeros (semver).
            if p.is_empty()
                || !p.bytes().all(|b| b.is_ascii_digit())
                || (p.len() > 1 && p.starts_with('0'))
            {
                return Err(malformed());
            }
            p.parse().map_err(|_| malformed())
        };
        let (major, minor, patch) = (next()?, next()?, next()?);
        if parts.next().is_some() {
            return Err(malformed());
        }
        Ok(OciVersion {
            major,
            minor,
            patch,
            tag: tag.to_string(),
        })
    }

    /// Parses a version and checks that syscage reads it: 1.0.0 up to any 1.2 release.
    pub fn parse_supported(s: &str) -> Result<OciVersion, VersionError> {
        let v = OciVersion::parse(s)?;
        match (v.major, v.minor) {
            (0, _) => Err(VersionError::TooOld(s.to_string())),
            (1, 0..=2) => Ok(v),
            _ => Err(VersionError::TooNew(s.to_string())),
        }
    }
}

impl fmt::Display for OciVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}.{}.{}{}",
            self.major, self.minor, self.patch, self.tag
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_what_clients_write() {
        for s in [
            "1.0.0",
            "1.0.2-dev",
            "1.1.0-rc.1",
            "1.2.0",
            "1.2.1",
            "1.2.9",
            "1.0.2+build",
        ] {
            let v = OciVersion::parse_supported(s).unwrap();
            assert_eq!(v.to_string(), s);
        }
        assert_eq!(OciVersion::parse("1.0.2-dev").unwrap().tag, "-dev");
    }

    #[test]
    fn refuses_other_versions_with_the_range() {
        assert_eq!(
            OciVersion::parse_supported("1.3.0")
                .unwrap_err()
                .to_string(),
            "`1.3.0` is newer than the versions syscage reads (1.0.0 to 1.2.x)"
        );
        assert_eq!(
            OciVersion::parse_supported("2.0.0").unwrap_err(),
            VersionError::TooNew("2.0.0".into())
        );
        assert_eq!(
            OciVersion::parse_supported("0.6.0-dev")
                .unwrap_err()
                .to_string(),
            "`0.6.0-dev` is older than the versions syscage reads (1.0.0 to 1.2.x)"
        );
        for bad in [
            "", "1", "1.0", "1.0.0.0", "v1.0.0", "1.0.x", "1.00.0", "1.0.0-", "1..0", "-1.0.0",
            "1.0.+1",
        ] {
            assert_eq!(
                OciVersion::parse(bad).unwrap_err(),
                VersionError::Malformed(bad.into()),
                "{bad}"
            );
        }
    }

    #[test]
    fn the_constants_are_supported() {
        for s in [MIN, MAX, CURRENT] {
            assert_eq!(
                OciVersion::parse_supported(s).map(|v| v.to_string()),
                Ok(s.to_string())
            );
        }
    }
}
