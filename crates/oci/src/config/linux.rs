//! `linux`: namespaces, id mappings, devices, cgroups and the rest of the Linux-only
//! configuration.

use super::Resources;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use std::fmt;

#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Linux {
    pub uid_mappings: Option<Vec<IdMapping>>,
    pub gid_mappings: Option<Vec<IdMapping>>,
    pub sysctl: Option<Map<String, Value>>,
    pub resources: Option<Resources>,
    pub cgroups_path: Option<String>,
    pub namespaces: Option<Vec<Namespace>>,
    pub devices: Option<Vec<Device>>,
    /// Kept as written, for syscage's policy reader.
    pub seccomp: Option<Value>,
    pub rootfs_propagation: Option<String>,
    pub masked_paths: Option<Vec<String>>,
    pub readonly_paths: Option<Vec<String>>,
    /// SELinux: refused when set.
    pub mount_label: Option<String>,
    /// Refused when set.
    pub intel_rdt: Option<Value>,
    pub personality: Option<Personality>,
    /// 1.1.0 (time namespace offsets): refused when set.
    pub time_offsets: Option<Value>,
}

impl Linux {
    pub fn namespaces(&self) -> &[Namespace] {
        self.namespaces.as_deref().unwrap_or(&[])
    }

    /// The namespace entry of this type, if any.
    pub fn namespace(&self, ty: NamespaceType) -> Option<&Namespace> {
        self.namespaces()
            .iter()
            .find(|n| NamespaceType::parse(&n.kind) == Some(ty))
    }
}

/// One entry of `linux.namespaces`: a new namespace of this type, or the one at `path`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Namespace {
    #[serde(rename = "type")]
    pub kind: String,
    pub path: Option<String>,
}

impl Namespace {
    /// The type, when it is one the spec defines.
    pub fn ty(&self) -> Option<NamespaceType> {
        NamespaceType::parse(&self.kind)
    }

    /// The path to join, when one is given and not empty.
    pub fn join_path(&self) -> Option<&str> {
        self.path.as_deref().filter(|p| !p.is_empty())
    }
}

/// The namespace types of the spec.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum NamespaceType {
    Pid,
    Network,
    Mount,
    Ipc,
    Uts,
    User,
    Cgroup,
    Time,
}

impl NamespaceType {
    pub const ALL: [NamespaceType; 8] = [
        NamespaceType::Pid,
        NamespaceType::Network,
        NamespaceType::Mount,
        NamespaceType::Ipc,
        NamespaceType::Uts,
        NamespaceType::User,
        NamespaceType::Cgroup,
        NamespaceType::Time,
    ];

    pub fn parse(s: &str) -> Option<NamespaceType> {
        NamespaceType::ALL.into_iter().find(|t| t.name() == s)
    }

    /// The spec's name: `network`, not `net`.
    pub fn name(self) -> &'static str {
        match self {
            NamespaceType::Pid => "pid",
            NamespaceType::Network => "network",
            NamespaceType::Mount => "mount",
            NamespaceType::Ipc => "ipc",
            NamespaceType::Uts => "uts",
            NamespaceType::User => "user",
            NamespaceType::Cgroup => "cgroup",
            NamespaceType::Time => "time",
        }
    }

    /// The name of the file under `/proc/PID/ns/`, for the `network` type `net`; a path to
    /// join is checked against it.
    pub fn proc_name(self) -> &'static str {
        match self {
            NamespaceType::Network => "net",
            NamespaceType::Mount => "mnt",
            other => other.name(),
        }
    }
}

impl fmt::Display for NamespaceType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// One range of `uidMappings`/`gidMappings`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct IdMapping {
    #[serde(rename = "containerID")]
    pub container_id: u32,
    #[serde(rename = "hostID")]
    pub host_id: u32,
    pub size: u32,
}

/// One entry of `linux.devices`: a device node made in the container.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Device {
    pub path: String,
    #[serde(rename = "type")]
    pub kind: String,
    pub major: Option<i64>,
    pub minor: Option<i64>,
    pub file_mode: Option<u32>,
    pub uid: Option<u32>,
    pub gid: Option<u32>,
}

/// `linux.personality`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Personality {
    pub domain: String,
    pub flags: Option<Vec<String>>,
}
