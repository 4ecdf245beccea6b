//! What a container asks of `syscage agent`, written in the profile's `listenerMetadata`
//! (which the runtime hands to the agent as the state's `metadata`) and in the
//! container's annotations.
//!
//! The metadata is `key=value` items separated by `;` (spaces around items are ignored):
//!
//! ```text
//! profile=default;digest=3b5d…;notify=denials;report=/var/log/syscage/{id}.jsonl
//! ```
//!
//! | key | value |
//! | --- | --- |
//! | `profile` | the profile whose answers the agent gives: a built-in name or an absolute path |
//! | `digest` | the digest of that profile as resolved when the paired profile was written |
//! | `notify` | `denials` or `all`: what the paired profile notifies |
//! | `cap-add`, `cap-drop` | capabilities the profile was resolved with (comma-separated) |
//! | `arch` | ABIs admitted beyond the profile's (comma-separated) |
//! | `read` | `ignore-unknown`, `errno-zero` (comma-separated): how the profile was read |
//! | `report` | write the report of denied calls there (JSON lines) |
//! | `learn` | write the profile learned from the calls there |
//!
//! `{id}` in `report` and `learn` stands for the container's id. The annotations
//! `run.syscage.report` and `run.syscage.learn` say the same per container, and win over
//! the metadata.

use std::fmt;
use thiserror::Error;

/// The annotation naming the report file.
pub const ANNOTATION_REPORT: &str = syscage_runtime::lifecycle::convert::REPORT_ANNOTATION;
/// The annotation naming the learned profile.
pub const ANNOTATION_LEARN: &str = syscage_runtime::lifecycle::convert::LEARN_ANNOTATION;

const KEYS: &[&str] = &[
    "profile", "digest", "notify", "cap-add", "cap-drop", "arch", "read", "report", "learn",
];

/// What the paired profile notifies.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Notified {
    /// The calls the profile denies (`--notify-denials`): enough for a report.
    Denials,
    /// Every call but `write` (`--notify-all`): what learning needs.
    All,
}

impl Notified {
    pub fn name(self) -> &'static str {
        match self {
            Notified::Denials => "denials",
            Notified::All => "all",
        }
    }
}

/// The parsed metadata.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Metadata {
    pub profile: Option<String>,
    pub digest: Option<String>,
    pub notify: Option<Notified>,
    pub cap_add: Vec<String>,
    pub cap_drop: Vec<String>,
    pub arch: Vec<String>,
    pub ignore_unknown: bool,
    pub errno_zero: bool,
    pub report: Option<String>,
    pub learn: Option<String>,
}

#[derive(Debug, Error, PartialEq, Eq)]
pub enum MetaError {
    #[error("metadata item `{0}`: expected KEY=VALUE")]
    NotKeyValue(String),
    #[error("metadata key `{key}` is unknown (known: {})", KEYS.join(", "))]
    UnknownKey { key: String },
    #[error("metadata key `{0}` is given twice")]
    Twice(String),
    #[error("metadata key `{0}` has an empty value")]
    Empty(String),
    #[error("metadata `notify={0}`: expected `denials` or `all`")]
    Notify(String),
    #[error("metadata `read={0}`: expected `ignore-unknown` or `errno-zero`")]
    Read(String),
    #[error("metadata `profile={0}`: a built-in name or an absolute path")]
    RelativeProfile(String),
    #[error("`{value}` cannot be written in the metadata: it holds `;`, which separates items")]
    Separator { value: String },
}

impl Metadata {
    /// Parses `key=value;key=value`.
    pub fn parse(text: &str) -> Result<Metadata, MetaError> {
        let mut m = Metadata::default();
        let mut seen: Vec<&str> = Vec::new();
        for item in text.split(';').map(str::trim).filter(|i| !i.is_empty()) {
            let (key, value) = item
                .split_once('=')
                .map(|(k, v)| (k.trim(), v.trim()))
                .ok_or_else(|| MetaError::NotKeyValue(item.to_string()))?;
            let Some(key) = KEYS.iter().copied().find(|k| *k == key) else {
                return Err(MetaError::UnknownKey {
                    key: key.to_string(),
                });
            };
            if seen.contains(&key) {
                return Err(MetaError::Twice(key.to_string()));
            }
            seen.push(key);
            if value.is_empty() {
                return Err(MetaError::Empty(key.to_string()));
            }
            let list = || -> Vec<String> {
                value
                    .split(',')
                    .map(str::trim)
                    .filter(|v| !v.is_empty())
                    .map(str::to_string)
                    .collect()
            };
            match key {
                "profile" => {
                    if !value.starts_with('/') && value.contains(['/', '.']) {
                        return Err(MetaError::RelativeProfile(value.to_string()));
                    }
                    m.profile = Some(value.to_string());
                }
                "digest" => m.digest = Some(value.to_string()),
                "notify" => {
                    m.notify = Some(match value {
                        "denials" => Notified::Denials,
                        "all" => Notified::All,
                        other => return Err(MetaError::Notify(other.to_string())),
                    })
                }
                "cap-add" => m.cap_add = list(),
                "cap-drop" => m.cap_drop = list(),
                "arch" => m.arch = list(),
                "read" => {
                    for r in list() {
                        match r.as_str() {
                            "ignore-unknown" => m.ignore_unknown = true,
                            "errno-zero" => m.errno_zero = true,
                            other => return Err(MetaError::Read(other.to_string())),
                        }
                    }
                }
                "report" => m.report = Some(value.to_string()),
                _ => m.learn = Some(value.to_string()),
            }
        }
        Ok(m)
    }

    /// Checks that every value can be written and read back unchanged.
    pub fn check(&self) -> Result<(), MetaError> {
        let text = self.to_string();
        for v in [&self.profile, &self.report, &self.learn]
            .into_iter()
            .flatten()
        {
            if v.contains(';') {
                return Err(MetaError::Separator { value: v.clone() });
            }
        }
        match Metadata::parse(&text) {
            Ok(back) if back == *self => Ok(()),
            Ok(_) => Err(MetaError::Separator { value: text }),
            Err(e) => Err(e),
        }
    }
}

impl fmt::Display for Metadata {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut items: Vec<String> = Vec::new();
        let mut one = |k: &str, v: &Option<String>| {
            if let Some(v) = v {
                items.push(format!("{k}={v}"));
            }
        };
        one("profile", &self.profile);
        one("digest", &self.digest);
        one("notify", &self.notify.map(|n| n.name().to_string()));
        let join = |v: &[String]| (!v.is_empty()).then(|| v.join(","));
        one("cap-add", &join(&self.cap_add));
        one("cap-drop", &join(&self.cap_drop));
        one("arch", &join(&self.arch));
        let mut read = Vec::new();
        if self.ignore_unknown {
            read.push("ignore-unknown".to_string());
        }
        if self.errno_zero {
            read.push("errno-zero".to_string());
        }
        one("read", &join(&read));
        one("report", &self.report);
        one("learn", &self.learn);
        f.write_str(&items.join(";"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_what_it_writes() {
        let m = Metadata {
            profile: Some("/etc/syscage/web.json".into()),
            digest: Some("00ff".into()),
            notify: Some(Notified::All),
            cap_add: vec!["SYS_PTRACE".into(), "NET_ADMIN".into()],
            cap_drop: vec![],
            arch: vec!["x86".into()],
            ignore_unknown: true,
            errno_zero: false,
            report: Some("/var/log/syscage/{id}.jsonl".into()),
            learn: None,
        };
        let text = m.to_string();
        assert_eq!(text, "profile=/etc/syscage/web.json;digest=00ff;notify=all;cap-add=SYS_PTRACE,NET_ADMIN;arch=x86;read=ignore-unknown;report=/var/log/syscage/{id}.jsonl");
        assert_eq!(Metadata::parse(&text), Ok(m.clone()));
        assert_eq!(m.check(), Ok(()));
        assert_eq!(
            Metadata::parse(" profile = default ; ; learn=/x/{id}.json ;"),
            Ok(Metadata {
                profile: Some("default".into()),
                learn: Some("/x/{id}.json".into()),
                ..Metadata::default()
            })
        );
        assert_eq!(Metadata::parse(""), Ok(Metadata::default()));
    }

    #[test]
    fn bad_metadata_is_named() {
        for (text, want) in [
            ("trace=/tmp/x", "metadata key `trace` is unknown (known: profile, digest, notify, cap-add, cap-drop, arch, read, report, learn)"),
            ("report", "metadata item `report`: expected KEY=VALUE"),
            ("report=/a;report=/b", "metadata key `report` is given twice"),
            ("learn=", "metadata key `learn` has an empty value"),
            ("notify=sometimes", "metadata `notify=sometimes`: expected `denials` or `all`"),
            ("read=lax", "metadata `read=lax`: expected `ignore-unknown` or `errno-zero`"),
            ("profile=p.json", "metadata `profile=p.json`: a built-in name or an absolute path"),
            ("profile=etc/p", "metadata `profile=etc/p`: a built-in name or an absolute path"),
        ] {
            assert_eq!(
                Metadata::parse(text).map_err(|e| e.to_string()),
                Err(want.to_string()),
                "{text}"
            );
        }
        let m = Metadata {
            report: Some("/var/log/a;b".into()),
            ..Metadata::default()
        };
        assert_eq!(
            m.check().map_err(|e| e.to_string()),
            Err("`/var/log/a;b` cannot be written in the metadata: it holds `;`, which separates items".to_string())
        );
    }
}
