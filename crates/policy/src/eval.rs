//! Which action the policy takes for a call, and which rule decided: the reference the
//! compiled filter is tested against, and what `syscage profile check` answers.
//!
//! The order of decisions is the order of the compiled program:
//! 1. an ABI the policy does not admit is killed (`KILL_PROCESS`);
//! 2. a call newer than the profile gets [`Policy::newer_action`] (ENOSYS);
//! 3. the rules for the call: an unconditional rule decides alone (libseccomp drops the
//!    conditional rules of a call that also has an unconditional one, whatever the order);
//!    otherwise the first rule, in profile order, whose conditions all hold;
//! 4. the default action.

use crate::action::Action;
use crate::arch::{Arch, AUDIT_ARCH_I386, AUDIT_ARCH_X86_64, X32_SYSCALL_BIT};
use crate::model::Policy;
use crate::syscalls::{self, SyscallInfo};

/// What decided a call.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DecidedBy {
    /// `Policy::rules()[i]`.
    Rule(usize),
    Default,
    /// The call is newer than the profile.
    Newer,
    /// The ABI is not admitted.
    BadArch,
    /// The default action, because the compiled program cannot name the call on this ABI
    /// and so carries none of its rules there (libseccomp's table lacks it).
    Unnamed,
}

impl DecidedBy {
    /// Who decided, as every message says it: the rule's origin (`rule 12 (comment)`,
    /// `--seccomp-deny keyctl`), `the default action`, `the newer-than-profile rule`,
    /// `the architecture check (ABI not admitted)`.
    pub fn describe(self, policy: &Policy) -> String {
        match self {
            DecidedBy::Rule(i) => match policy.rules().get(i) {
                Some(r) => r.origin().to_string(),
                None => format!("rule #{i}"),
            },
            DecidedBy::Default => "the default action".to_string(),
            DecidedBy::Newer => "the newer-than-profile rule".to_string(),
            DecidedBy::BadArch => "the architecture check (ABI not admitted)".to_string(),
            DecidedBy::Unnamed => "the default action (libseccomp cannot name the call on this ABI, so the profile's rules for it are not in the program there)".to_string(),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Decision {
    pub action: Action,
    pub by: DecidedBy,
}

/// The action of the filter for the raw `seccomp_data` of a call: the audit architecture,
/// the number as the kernel sees it (x32 numbers with bit 30), and the six registers.
pub fn decide_raw(policy: &Policy, audit_arch: u32, nr: u32, args: &[u64; 6]) -> Decision {
    let bad = Decision {
        action: Action::KillProcess,
        by: DecidedBy::BadArch,
    };
    let arch = match audit_arch {
        AUDIT_ARCH_X86_64 if nr & X32_SYSCALL_BIT != 0 => Arch::X32,
        AUDIT_ARCH_X86_64 => Arch::X86_64,
        AUDIT_ARCH_I386 => Arch::X86,
        _ => return bad,
    };
    if !policy.arches().contains(&arch) {
        return bad;
    }
    if let Some(action) = policy.newer_action() {
        if policy.is_newer(arch, nr) {
            return Decision {
                action,
                by: DecidedBy::Newer,
            };
        }
    }
    match syscalls::by_number(arch, nr) {
        Some(s) if policy.is_unnamed(arch, s.name) => Decision {
            action: policy.default_action(),
            by: DecidedBy::Unnamed,
        },
        Some(s) => decide_rules(policy, arch, s, args),
        None => Decision {
            action: policy.default_action(),
            by: DecidedBy::Default,
        },
    }
}

/// The action for a named call on an ABI (the ABI must have the call; otherwise the answer
/// is that of an unknown number, the default action).
pub fn decide_syscall(policy: &Policy, arch: Arch, s: &SyscallInfo, args: &[u64; 6]) -> Decision {
    match (syscalls::number(s, arch), arch.audit_arch()) {
        (Some(nr), Some(audit)) => decide_raw(policy, audit, nr, args),
        _ => Decision {
            action: Action::KillProcess,
            by: DecidedBy::BadArch,
        },
    }
}

fn decide_rules(policy: &Policy, arch: Arch, s: &SyscallInfo, args: &[u64; 6]) -> Decision {
    let mut first_match = None;
    for (i, r) in policy.rules().iter().enumerate() {
        if r.name() != s.name {
            continue;
        }
        if r.is_unconditional() {
            return Decision {
                action: r.action(),
                by: DecidedBy::Rule(i),
            };
        }
        if first_match.is_none() && r.matches(arch, args) {
            first_match = Some(i);
        }
    }
    match first_match {
        Some(i) => Decision {
            action: policy.rules()[i].action(),
            by: DecidedBy::Rule(i),
        },
        None => Decision {
            action: policy.default_action(),
            by: DecidedBy::Default,
        },
    }
}
