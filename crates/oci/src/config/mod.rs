//! The types of `config.json`, runtime-spec 1.0.0 to 1.2.1 (`specs-go/config.go`).
//!
//! Every object the spec defines refuses fields it does not know (`deny_unknown_fields`),
//! so a typo (`"readOnly"`, `"cap_add"`) is an error with its path instead of a setting
//! silently dropped, as Go runtimes do. The fields of every spec version from 1.0.0 to
//! 1.2.1 are known whatever `ociVersion` says, as runc and crun read them.
//!
//! Fields the spec defines but syscage does not apply (AppArmor, SELinux, Intel RDT, the
//! scheduler, I/O priority, time offsets, idmapped mounts, other platforms' objects) are
//! kept as raw JSON so that [`crate::validate`] can refuse them when they are set, with a
//! message that says so, rather than with "unknown field".
//!
//! `annotations` and `linux.seccomp` are kept as raw JSON: annotations are echoed in the
//! state document as given, and the seccomp object is read by syscage's policy reader,
//! which has its own strict checks and messages.

mod linux;
mod process;
mod resources;

pub use linux::{Device, IdMapping, Linux, Namespace, NamespaceType, Personality};
pub use process::{
    Capabilities, ConsoleSize, Process, Rlimit, User, CAPABILITY_SETS, RLIMIT_NAMES,
};
pub use resources::{
    BlockIo, Cpu, DeviceRule, HugepageLimit, InterfacePriority, Memory, Network, Pids, Resources,
    ThrottleDevice, WeightDevice,
};

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// The whole `config.json`.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Spec {
    pub oci_version: String,
    pub process: Option<Process>,
    pub root: Option<Root>,
    pub hostname: Option<String>,
    /// Since 1.1.0.
    pub domainname: Option<String>,
    pub mounts: Option<Vec<Mount>>,
    pub hooks: Option<Hooks>,
    /// Kept as written; every value must be a string (checked by validation).
    pub annotations: Option<Map<String, Value>>,
    pub linux: Option<Linux>,
    /// Other platforms' objects: refused when set.
    pub solaris: Option<Value>,
    pub windows: Option<Value>,
    pub vm: Option<Value>,
    pub zos: Option<Value>,
}

/// `root`: the container's root file system.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Root {
    /// Absolute, or relative to the bundle directory.
    pub path: String,
    pub readonly: Option<bool>,
}

/// One entry of `mounts`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Mount {
    pub destination: String,
    #[serde(rename = "type")]
    pub kind: Option<String>,
    pub source: Option<String>,
    pub options: Option<Vec<String>>,
    /// Idmapped mounts (1.1.0): refused when set.
    pub uid_mappings: Option<Value>,
    pub gid_mappings: Option<Value>,
}

impl Mount {
    /// Whether the mount is a bind mount: `"type": "bind"`, or a `bind`/`rbind` option
    /// (the spec lets the type be left out for bind mounts).
    pub fn is_bind(&self) -> bool {
        self.kind.as_deref() == Some("bind")
            || self
                .options
                .iter()
                .flatten()
                .any(|o| o == "bind" || o == "rbind")
    }
}

/// `hooks`: the six lists, each run at its step of the lifecycle.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Hooks {
    /// Deprecated by the spec in favour of the next three; still sent by some clients.
    pub prestart: Option<Vec<Hook>>,
    pub create_runtime: Option<Vec<Hook>>,
    pub create_container: Option<Vec<Hook>>,
    pub start_container: Option<Vec<Hook>>,
    pub poststart: Option<Vec<Hook>>,
    pub poststop: Option<Vec<Hook>>,
}

/// The hook lists by name, in the order the spec lists them.
pub const HOOK_NAMES: [&str; 6] = [
    "prestart",
    "createRuntime",
    "createContainer",
    "startContainer",
    "poststart",
    "poststop",
];

impl Hooks {
    /// Each list with its field name, in [`HOOK_NAMES`] order.
    pub fn lists(&self) -> [(&'static str, &[Hook]); 6] {
        fn l(v: &Option<Vec<Hook>>) -> &[Hook] {
            v.as_deref().unwrap_or(&[])
        }
        [
            (HOOK_NAMES[0], l(&self.prestart)),
            (HOOK_NAMES[1], l(&self.create_runtime)),
            (HOOK_NAMES[2], l(&self.create_container)),
            (HOOK_NAMES[3], l(&self.start_container)),
            (HOOK_NAMES[4], l(&self.poststart)),
            (HOOK_NAMES[5], l(&self.poststop)),
        ]
    }
}

/// One hook: a program run with the container's state on its standard input.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Hook {
    pub path: String,
    pub args: Option<Vec<String>>,
    pub env: Option<Vec<String>>,
    /// Seconds; must be above zero when given.
    pub timeout: Option<i64>,
}
