//! The `features` document (runtime-spec `features.md`, since 1.1.0): what the runtime
//! supports, so that a client can check before it asks.
//!
//! [`Features::new`] takes what syscage really supports as input (the seccomp names come
//! from the policy crate, the cgroup modes and flags the kernel takes from the runtime),
//! so that the document cannot claim more than the code does. AppArmor, SELinux and Intel
//! RDT are always reported disabled: syscage refuses configurations that set them.

use crate::config::{NamespaceType, HOOK_NAMES};
use crate::version;
use serde::Serialize;
use serde_json::{Map, Value};

/// What the runtime supports; the input of [`Features::new`].
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Supported {
    /// Whether the six hook lists run.
    pub hooks: bool,
    /// Mount options (`ro`, `nosuid`, `rbind`, `rprivate`, ...).
    pub mount_options: Vec<String>,
    pub namespaces: Vec<NamespaceType>,
    /// `CAP_*` names, in capability number order.
    pub capabilities: Vec<String>,
    pub cgroup: CgroupSupport,
    /// `None` when no seccomp filter can be applied.
    pub seccomp: Option<SeccompSupport>,
    /// Idmapped mounts (`mounts[].uidMappings`).
    pub idmap_mounts: bool,
    /// Extra information, e.g. `io.github.seccomp.libseccomp.version`.
    pub annotations: Vec<(String, String)>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct CgroupSupport {
    pub v1: bool,
    pub v2: bool,
    pub systemd: bool,
    pub systemd_user: bool,
    pub rdma: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct SeccompSupport {
    /// `SCMP_ACT_*` names the reader accepts.
    pub actions: Vec<String>,
    /// `SCMP_CMP_*` names.
    pub operators: Vec<String>,
    /// `SCMP_ARCH_*` names the reader accepts.
    pub archs: Vec<String>,
    /// `SECCOMP_FILTER_FLAG_*` names the reader knows.
    pub known_flags: Vec<String>,
    /// The known flags this kernel takes.
    pub supported_flags: Vec<String>,
}

/// The document. Build it with [`Features::new`]; print it with [`Features::to_json`].
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Features {
    oci_version_min: &'static str,
    oci_version_max: &'static str,
    hooks: Vec<&'static str>,
    mount_options: Vec<String>,
    linux: LinuxFeatures,
    #[serde(skip_serializing_if = "Map::is_empty")]
    annotations: Map<String, Value>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
struct LinuxFeatures {
    namespaces: Vec<&'static str>,
    capabilities: Vec<String>,
    cgroup: CgroupFeatures,
    seccomp: SeccompFeatures,
    apparmor: Enabled,
    selinux: Enabled,
    intel_rdt: Enabled,
    mount_extensions: MountExtensions,
}

#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
struct CgroupFeatures {
    v1: bool,
    v2: bool,
    systemd: bool,
    systemd_user: bool,
    rdma: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
struct SeccompFeatures {
    enabled: bool,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    actions: Vec<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    operators: Vec<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    archs: Vec<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    known_flags: Vec<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    supported_flags: Vec<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
struct Enabled {
    enabled: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
struct MountExtensions {
    idmap: Enabled,
}

/// Sorted and without duplicates, as runc prints its lists.
fn sorted(list: &[String]) -> Vec<String> {
    let mut v = list.to_vec();
    v.sort();
    v.dedup();
    v
}

impl Features {
    pub fn new(s: &Supported) -> Features {
        let mut namespaces: Vec<&'static str> = s.namespaces.iter().map(|n| n.name()).collect();
        namespaces.sort_unstable();
        namespaces.dedup();
        let mut capabilities: Vec<String> = Vec::new();
        for c in &s.capabilities {
            if !capabilities.contains(c) {
                capabilities.push(c.clone());
            }
        }
        let seccomp = match &s.seccomp {
            Some(sc) => SeccompFeatures {
                enabled: true,
                actions: sorted(&sc.actions),
                operators: sorted(&sc.operators),
                archs: sorted(&sc.archs),
                known_flags: sorted(&sc.known_flags),
                // Only flags the reader knows can be supported.
                supported_flags: sorted(&sc.supported_flags)
                    .into_iter()
                    .filter(|f| sc.known_flags.contains(f))
                    .collect(),
            },
            None => SeccompFeatures {
                enabled: false,
                actions: vec![],
                operators: vec![],
                archs: vec![],
                known_flags: vec![],
                supported_flags: vec![],
            },
        };
        let c = s.cgroup;
        Features {
            oci_version_min: version::MIN,
            oci_version_max: version::MAX,
            hooks: if s.hooks { HOOK_NAMES.to_vec() } else { vec![] },
            mount_options: sorted(&s.mount_options),
            linux: LinuxFeatures {
                namespaces,
                capabilities,
                cgroup: CgroupFeatures {
                    v1: c.v1,
                    v2: c.v2,
                    systemd: c.systemd,
                    systemd_user: c.systemd_user,
                    rdma: c.rdma,
                },
                seccomp,
                apparmor: Enabled { enabled: false },
                selinux: Enabled { enabled: false },
                intel_rdt: Enabled { enabled: false },
                mount_extensions: MountExtensions {
                    idmap: Enabled {
                        enabled: s.idmap_mounts,
                    },
                },
            },
            annotations: s
                .annotations
                .iter()
                .map(|(k, v)| (k.clone(), Value::String(v.clone())))
                .collect(),
        }
    }

    /// The document as `features` prints it.
    pub fn to_json(&self) -> String {
        // Only strings, booleans and lists of strings: it always serializes.
        serde_json::to_string_pretty(self).unwrap_or_default()
    }
}

#[cfg(test)]
mod tests;
