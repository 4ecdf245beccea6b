//! The state document (`state ID`) and container IDs.
//!
//! The fields and their order follow runc's output, which is what the clients were
//! written against: podman 4.3 reads `status` and `pid`; go-runc (containerd's shim, `ctr`)
//! decodes `id`, `pid`, `status`, `bundle`, `rootfs`, `created` (as a Go `time.Time`, so
//! RFC 3339) and `annotations`. runc prints `pid` 0 once the container has stopped.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use std::fmt;
use thiserror::Error;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct State {
    pub oci_version: String,
    pub id: String,
    /// The container's process on the host; 0 once stopped.
    pub pid: u32,
    pub status: Status,
    /// The absolute bundle directory.
    pub bundle: String,
    /// The root file system as resolved at create.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rootfs: Option<String>,
    /// RFC 3339 in UTC with nanoseconds (see [`crate::state::rfc3339`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created: Option<String>,
    /// As given in `config.json`.
    #[serde(default, skip_serializing_if = "Map::is_empty")]
    pub annotations: Map<String, Value>,
}

impl State {
    /// The document as `state` prints it: indented, as runc does.
    pub fn to_json(&self) -> String {
        // A State holds only strings, integers and a map of JSON values: it always
        // serializes.
        serde_json::to_string_pretty(self).unwrap_or_default()
    }
}

/// The statuses of the spec, plus `paused`, which runc reports and podman reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    Creating,
    Created,
    Running,
    Paused,
    Stopped,
}

impl fmt::Display for Status {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Status::Creating => "creating",
            Status::Created => "created",
            Status::Running => "running",
            Status::Paused => "paused",
            Status::Stopped => "stopped",
        })
    }
}

/// `2026-12-02T05:16:25.876995005Z`: RFC 3339 in UTC with nanoseconds, from seconds and
/// nanoseconds since the Unix epoch. Go's `time.Time` decodes it; containerd's shim
/// decodes the `time` of every JSON log line this way too, and gives up on the whole log
/// at the first line it cannot read.
pub fn rfc3339(secs: i64, nanos: u32) -> String {
    let days = secs.div_euclid(86_400);
    let rem = secs.rem_euclid(86_400);
    let (y, m, d) = civil_from_days(days);
    let nanos = nanos.min(999_999_999);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}.{nanos:09}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

/// Days since 1970-01-01 to (year, month, day), proleptic Gregorian (Howard Hinnant's
/// `civil_from_days`).
fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y, m, d)
}

/// A container ID that is safe as a file name in the state directory and as a cgroup
/// name: letters, digits, `_`, `+`, `-` and `.` (runc's set), not `.` or `..`, at most
/// 255 bytes (`NAME_MAX`).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ContainerId(String);

#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum IdError {
    #[error("container ID is empty")]
    Empty,
    #[error("container ID `{0}` is not a name: it would mean a directory, not a container")]
    Dots(String),
    #[error("container ID is {0} bytes long: at most 255")]
    TooLong(usize),
    #[error("container ID `{id}` has `{ch}`: IDs are letters, digits, `_`, `+`, `-` and `.`")]
    BadChar { id: String, ch: String },
}

impl ContainerId {
    pub fn new(id: &str) -> Result<ContainerId, IdError> {
        if id.is_empty() {
            return Err(IdError::Empty);
        }
        if id.len() > 255 {
            return Err(IdError::TooLong(id.len()));
        }
        if let Some(ch) = id
            .chars()
            .find(|c| !(c.is_ascii_alphanumeric() || "_+-.".contains(*c)))
        {
            // Control characters and the like are shown escaped, never raw.
            return Err(IdError::BadChar {
                id: id.escape_default().to_string(),
                ch: ch.escape_default().to_string(),
            });
        }
        if id == "." || id == ".." {
            return Err(IdError::Dots(id.to_string()));
        }
        Ok(ContainerId(id.to_string()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for ContainerId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn state_prints_as_runc_does() {
        let mut annotations = Map::new();
        annotations.insert("org.example.k".into(), Value::String("v".into()));
        let s = State {
            oci_version: "1.2.1".into(),
            id: "x1".into(),
            pid: 29265,
            status: Status::Running,
            bundle: "/b".into(),
            rootfs: Some("/b/rootfs".into()),
            created: Some(rfc3339(1_796_188_585, 876_995_005)),
            annotations,
        };
        assert_eq!(
            s.to_json(),
            r#"{
  "ociVersion": "1.2.1",
  "id": "x1",
  "pid": 29265,
  "status": "running",
  "bundle": "/b",
  "rootfs": "/b/rootfs",
  "created": "2026-12-02T05:16:25.876995005Z",
  "annotations": {
    "org.example.k": "v"
  }
}"#
        );
    }

    #[test]
    fn reads_runc_state_output() {
        let runc = include_str!("../tests/fixtures/runc-state.json");
        let s: State = serde_json::from_str(runc).unwrap();
        assert_eq!(s.status, Status::Running);
        assert_eq!(s.pid, 29265);
        assert_eq!(s.annotations["org.example.k"], "v");
        let stopped: State = serde_json::from_str(
            r#"{"ociVersion":"1.0.2-dev","id":"x1","pid":0,"status":"stopped","bundle":"/b"}"#,
        )
        .unwrap();
        assert_eq!(stopped.status.to_string(), "stopped");
        assert_eq!(
            stopped.to_json(),
            "{\n  \"ociVersion\": \"1.0.2-dev\",\n  \"id\": \"x1\",\n  \"pid\": 0,\n  \"status\": \"stopped\",\n  \"bundle\": \"/b\"\n}"
        );
    }

    #[test]
    fn timestamps() {
        assert_eq!(rfc3339(0, 0), "1970-01-01T00:00:00.000000000Z");
        assert_eq!(rfc3339(951_782_400, 1), "2000-02-29T00:00:00.000000001Z");
        assert_eq!(rfc3339(-1, 0), "1969-12-31T23:59:59.000000000Z");
        assert_eq!(
            rfc3339(4_102_444_799, 999_999_999),
            "2099-12-31T23:59:59.999999999Z"
        );
    }

    #[test]
    fn ids() {
        for ok in ["x1", "61db1efbf2a0209c", "t1", "a.b_c+d-e", "..."] {
            assert_eq!(
                ContainerId::new(ok).map(|i| i.to_string()),
                Ok(ok.to_string())
            );
        }
        assert_eq!(ContainerId::new(""), Err(IdError::Empty));
        assert_eq!(ContainerId::new(".."), Err(IdError::Dots("..".into())));
        assert_eq!(
            ContainerId::new(&"a".repeat(256)),
            Err(IdError::TooLong(256))
        );
        assert_eq!(
            ContainerId::new("bad/id").unwrap_err().to_string(),
            "container ID `bad/id` has `/`: IDs are letters, digits, `_`, `+`, `-` and `.`"
        );
        assert_eq!(
            ContainerId::new("a\nb").unwrap_err().to_string(),
            "container ID `a\\nb` has `\\n`: IDs are letters, digits, `_`, `+`, `-` and `.`"
        );
    }
}
