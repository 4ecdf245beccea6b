//! What a filter does with a system call.

use crate::errno;
use std::fmt;

/// The eight seccomp actions. `KILL` is accepted as the historical name of `KILL_THREAD`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Action {
    KillProcess,
    KillThread,
    Trap,
    /// Fail the call with this errno (0..=4094: see [`MAX_LOADABLE_ERRNO`]) without running it.
    Errno(u16),
    /// Notify a supervisor through the seccomp user-notification fd.
    Notify,
    /// Notify a ptrace tracer with this value; without a tracer the call fails with ENOSYS.
    Trace(u16),
    /// Run the call and log it.
    Log,
    Allow,
}

/// The highest errno a filter may return: `SECCOMP_RET_DATA` keeps 16 bits, but the kernel
/// treats returns above 4095 as valid results, not errors (`MAX_ERRNO`).
pub const MAX_ERRNO: u16 = 4095;

/// The highest errno libseccomp 2.5 accepts in SCMP_ACT_ERRNO: `sys_chk_seccomp_action`
/// wants it below its MAX_ERRNO (4095), so runc and crun cannot load 4095 either. What
/// syscage reads, it compiles and other runtimes load.
pub const MAX_LOADABLE_ERRNO: u16 = 4094;

/// The highest SCMP_ACT_TRACE value: the 16 bits of `SECCOMP_RET_DATA`.
pub const MAX_TRACE_VALUE: u16 = u16::MAX;

// SECCOMP_RET_* values from include/uapi/linux/seccomp.h.
pub const RET_KILL_PROCESS: u32 = 0x8000_0000;
pub const RET_KILL_THREAD: u32 = 0x0000_0000;
pub const RET_TRAP: u32 = 0x0003_0000;
pub const RET_ERRNO: u32 = 0x0005_0000;
pub const RET_USER_NOTIF: u32 = 0x7fc0_0000;
pub const RET_TRACE: u32 = 0x7ff0_0000;
pub const RET_LOG: u32 = 0x7ffc_0000;
pub const RET_ALLOW: u32 = 0x7fff_0000;
pub const RET_ACTION_FULL: u32 = 0xffff_0000;
pub const RET_DATA: u32 = 0x0000_ffff;

impl Action {
    /// The value a seccomp BPF program returns for this action.
    pub fn to_ret(self) -> u32 {
        match self {
            Action::KillProcess => RET_KILL_PROCESS,
            Action::KillThread => RET_KILL_THREAD,
            Action::Trap => RET_TRAP,
            Action::Errno(e) => RET_ERRNO | u32::from(e),
            Action::Notify => RET_USER_NOTIF,
            Action::Trace(v) => RET_TRACE | u32::from(v),
            Action::Log => RET_LOG,
            Action::Allow => RET_ALLOW,
        }
    }

    /// The action a BPF return value means; unknown action bits read as KILL_PROCESS, as
    /// the kernel treats them.
    pub fn from_ret(ret: u32) -> Action {
        let data = (ret & RET_DATA) as u16;
        match ret & RET_ACTION_FULL {
            RET_KILL_PROCESS => Action::KillProcess,
            RET_KILL_THREAD => Action::KillThread,
            RET_TRAP => Action::Trap,
            RET_ERRNO => Action::Errno(data.min(MAX_ERRNO)),
            RET_USER_NOTIF => Action::Notify,
            RET_TRACE => Action::Trace(data),
            RET_LOG => Action::Log,
            RET_ALLOW => Action::Allow,
            _ => Action::KillProcess,
        }
    }

    /// Parses a Docker/OCI action name (`SCMP_ACT_ERRNO`); `ret` is the profile's `errnoRet`
    /// for the actions that take a value.
    pub fn from_docker(name: &str, ret: Option<u16>) -> Option<Action> {
        Some(match name {
            "SCMP_ACT_KILL" | "SCMP_ACT_KILL_THREAD" => Action::KillThread,
            "SCMP_ACT_KILL_PROCESS" => Action::KillProcess,
            "SCMP_ACT_TRAP" => Action::Trap,
            // runc: ERRNO and TRACE without errnoRet return EPERM.
            "SCMP_ACT_ERRNO" => Action::Errno(ret.unwrap_or(1)),
            "SCMP_ACT_TRACE" => Action::Trace(ret.unwrap_or(1)),
            "SCMP_ACT_NOTIFY" => Action::Notify,
            "SCMP_ACT_LOG" => Action::Log,
            "SCMP_ACT_ALLOW" => Action::Allow,
            _ => return None,
        })
    }

    /// Docker's spelling, without the value: `SCMP_ACT_ERRNO`.
    pub fn docker_name(self) -> &'static str {
        match self {
            Action::KillProcess => "SCMP_ACT_KILL_PROCESS",
            Action::KillThread => "SCMP_ACT_KILL_THREAD",
            Action::Trap => "SCMP_ACT_TRAP",
            Action::Errno(_) => "SCMP_ACT_ERRNO",
            Action::Notify => "SCMP_ACT_NOTIFY",
            Action::Trace(_) => "SCMP_ACT_TRACE",
            Action::Log => "SCMP_ACT_LOG",
            Action::Allow => "SCMP_ACT_ALLOW",
        }
    }

    /// The value carried by ERRNO and TRACE.
    pub fn data(self) -> Option<u16> {
        match self {
            Action::Errno(v) | Action::Trace(v) => Some(v),
            _ => None,
        }
    }

    /// Whether the action takes a value (`errnoRet`).
    pub fn takes_value(name: &str) -> bool {
        matches!(name, "SCMP_ACT_ERRNO" | "SCMP_ACT_TRACE")
    }

    /// Whether the call runs (ALLOW, LOG).
    pub fn runs_call(self) -> bool {
        matches!(self, Action::Allow | Action::Log)
    }

    /// Whether the filter refuses the call itself (an errno, a signal or a kill): what a
    /// denial report records.
    pub fn is_denial(self) -> bool {
        matches!(
            self,
            Action::KillProcess | Action::KillThread | Action::Trap | Action::Errno(_)
        )
    }
}

impl fmt::Display for Action {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Action::KillProcess => f.write_str("KILL_PROCESS"),
            Action::KillThread => f.write_str("KILL_THREAD"),
            Action::Trap => f.write_str("TRAP"),
            Action::Errno(e) => write!(f, "ERRNO({})", errno::describe(*e)),
            Action::Notify => f.write_str("NOTIFY"),
            Action::Trace(v) => write!(f, "TRACE({v})"),
            Action::Log => f.write_str("LOG"),
            Action::Allow => f.write_str("ALLOW"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ret_values_round_trip() {
        for a in [
            Action::KillProcess,
            Action::KillThread,
            Action::Trap,
            Action::Errno(1),
            Action::Errno(38),
            Action::Notify,
            Action::Trace(7),
            Action::Log,
            Action::Allow,
        ] {
            assert_eq!(Action::from_ret(a.to_ret()), a);
        }
        assert_eq!(Action::Errno(1).to_ret(), 0x0005_0001);
        assert_eq!(Action::from_ret(0x1234_0000), Action::KillProcess);
    }

    #[test]
    fn docker_names() {
        assert_eq!(
            Action::from_docker("SCMP_ACT_KILL", None),
            Some(Action::KillThread)
        );
        assert_eq!(
            Action::from_docker("SCMP_ACT_ERRNO", None),
            Some(Action::Errno(1))
        );
        assert_eq!(
            Action::from_docker("SCMP_ACT_ERRNO", Some(38)),
            Some(Action::Errno(38))
        );
        assert_eq!(Action::from_docker("SCMP_ACT_DENY", None), None);
        assert_eq!(Action::Errno(38).to_string(), "ERRNO(ENOSYS)");
        assert_eq!(Action::Errno(4000).to_string(), "ERRNO(4000)");
    }
}
