//! `process`: what runs in the container, in `config.json` and in the file
//! `exec --process` takes.

use serde::{Deserialize, Serialize};
use serde_json::Value;

#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Process {
    pub terminal: Option<bool>,
    pub console_size: Option<ConsoleSize>,
    pub user: User,
    pub args: Option<Vec<String>>,
    pub env: Option<Vec<String>>,
    pub cwd: String,
    pub capabilities: Option<Capabilities>,
    pub rlimits: Option<Vec<Rlimit>>,
    pub no_new_privileges: Option<bool>,
    pub oom_score_adj: Option<i64>,
    /// Refused when set to a profile: syscage does not apply AppArmor. `unconfined` is
    /// what syscage does anyway and is accepted.
    pub apparmor_profile: Option<String>,
    /// Refused when set: syscage does not apply SELinux labels.
    pub selinux_label: Option<String>,
    /// 1.1.0: refused when set.
    pub scheduler: Option<Value>,
    /// 1.1.0: refused when set.
    pub io_priority: Option<Value>,
    /// 1.2.1: refused when set.
    #[serde(rename = "execCPUAffinity")]
    pub exec_cpu_affinity: Option<Value>,
    /// Windows only: refused when set.
    pub command_line: Option<Value>,
}

impl Process {
    pub fn terminal(&self) -> bool {
        self.terminal.unwrap_or(false)
    }

    pub fn no_new_privileges(&self) -> bool {
        self.no_new_privileges.unwrap_or(false)
    }

    pub fn args(&self) -> &[String] {
        self.args.as_deref().unwrap_or(&[])
    }

    pub fn env(&self) -> &[String] {
        self.env.as_deref().unwrap_or(&[])
    }
}

/// `consoleSize`, in characters.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct ConsoleSize {
    pub height: u32,
    pub width: u32,
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct User {
    pub uid: u32,
    pub gid: u32,
    /// Since 1.0.2 (podman sends it).
    pub umask: Option<u32>,
    pub additional_gids: Option<Vec<u32>>,
    /// Windows only: refused when set.
    pub username: Option<Value>,
}

/// The five capability sets, each a list of `CAP_*` names.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize, Default)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Capabilities {
    pub bounding: Option<Vec<String>>,
    pub effective: Option<Vec<String>>,
    pub inheritable: Option<Vec<String>>,
    pub permitted: Option<Vec<String>>,
    pub ambient: Option<Vec<String>>,
}

/// The capability sets by field name.
pub const CAPABILITY_SETS: [&str; 5] = [
    "bounding",
    "effective",
    "inheritable",
    "permitted",
    "ambient",
];

impl Capabilities {
    /// Each set with its field name, in [`CAPABILITY_SETS`] order.
    pub fn sets(&self) -> [(&'static str, &[String]); 5] {
        fn s(v: &Option<Vec<String>>) -> &[String] {
            v.as_deref().unwrap_or(&[])
        }
        [
            (CAPABILITY_SETS[0], s(&self.bounding)),
            (CAPABILITY_SETS[1], s(&self.effective)),
            (CAPABILITY_SETS[2], s(&self.inheritable)),
            (CAPABILITY_SETS[3], s(&self.permitted)),
            (CAPABILITY_SETS[4], s(&self.ambient)),
        ]
    }
}

/// One entry of `rlimits`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Rlimit {
    #[serde(rename = "type")]
    pub kind: String,
    pub hard: u64,
    pub soft: u64,
}

/// The resource limits `setrlimit(2)` knows, by the names the spec uses.
pub const RLIMIT_NAMES: [&str; 16] = [
    "RLIMIT_AS",
    "RLIMIT_CORE",
    "RLIMIT_CPU",
    "RLIMIT_DATA",
    "RLIMIT_FSIZE",
    "RLIMIT_LOCKS",
    "RLIMIT_MEMLOCK",
    "RLIMIT_MSGQUEUE",
    "RLIMIT_NICE",
    "RLIMIT_NOFILE",
    "RLIMIT_NPROC",
    "RLIMIT_RSS",
    "RLIMIT_RTPRIO",
    "RLIMIT_RTTIME",
    "RLIMIT_SIGPENDING",
    "RLIMIT_STACK",
];
