//! The validated policy: what the compiler accepts. It cannot be built invalid: every rule
//! names a system call syscage knows for an admitted ABI, conditions are in range and fit
//! their argument, and the default action is not one the supervisor could deadlock on.

use crate::action::Action;
use crate::arch::Arch;
use crate::cond::Cond;
use crate::syscalls::SyscallInfo;
use std::fmt;

/// Where a rule came from, for `profile check`, reports and the linter.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Origin {
    /// `syscalls[index]` of a profile (Docker/OCI JSON or a built-in written the same way).
    Profile {
        index: usize,
        comment: Option<String>,
    },
    /// A command-line tweak such as `--seccomp-deny keyctl` or `--seccomp-allow @debug`.
    Flag(String),
    /// A rule syscage adds itself, with the reason.
    Builtin(&'static str),
}

impl fmt::Display for Origin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Origin::Profile {
                index,
                comment: Some(c),
            } => write!(f, "rule {index} ({c})"),
            Origin::Profile {
                index,
                comment: None,
            } => write!(f, "rule {index}"),
            Origin::Flag(flag) => write!(f, "{flag}"),
            Origin::Builtin(why) => write!(f, "{why}"),
        }
    }
}

/// One rule: for this system call, when every condition holds, take this action.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Rule {
    syscall: &'static SyscallInfo,
    action: Action,
    conds: Vec<Cond>,
    origin: Origin,
    derived: bool,
}

impl Rule {
    /// Callers (the resolver) have checked the conditions against the argument table.
    pub(crate) fn new(
        syscall: &'static SyscallInfo,
        action: Action,
        conds: Vec<Cond>,
        origin: Origin,
    ) -> Rule {
        Rule {
            syscall,
            action,
            conds,
            origin,
            derived: false,
        }
    }

    /// A rule resolution adds for another (the i386 `socketcall`/`ipc` form libseccomp
    /// gives socket and IPC rules); it points at the entry it came from.
    pub(crate) fn derived(
        syscall: &'static SyscallInfo,
        action: Action,
        conds: Vec<Cond>,
        origin: Origin,
    ) -> Rule {
        Rule {
            derived: true,
            ..Rule::new(syscall, action, conds, origin)
        }
    }

    /// Whether resolution derived this rule rather than the profile writing it.
    pub fn is_derived(&self) -> bool {
        self.derived
    }

    pub fn syscall(&self) -> &'static SyscallInfo {
        self.syscall
    }

    pub fn name(&self) -> &'static str {
        self.syscall.name
    }

    pub fn action(&self) -> Action {
        self.action
    }

    pub fn conds(&self) -> &[Cond] {
        &self.conds
    }

    pub fn origin(&self) -> &Origin {
        &self.origin
    }

    pub fn is_unconditional(&self) -> bool {
        self.conds.is_empty()
    }

    /// Whether the call's six argument registers meet every condition, each judged on the
    /// bits the kernel uses on that ABI (see [`Cond::matches`]; i386 registers are 32-bit).
    pub fn matches(&self, arch: Arch, args: &[u64; 6]) -> bool {
        self.conds.iter().all(|c| {
            let bits = crate::syscalls::compared_bits(self.syscall, arch, c.index());
            c.matches(args[usize::from(c.index())], bits)
        })
    }
}

impl fmt::Display for Rule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.action, self.syscall.name)?;
        for (i, c) in self.conds.iter().enumerate() {
            f.write_str(if i == 0 { " if " } else { " && " })?;
            write!(f, "{c}")?;
        }
        Ok(())
    }
}

/// Filter flags a profile may ask for (`flags` in Docker/OCI JSON).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct Flags {
    /// SECCOMP_FILTER_FLAG_LOG: log every action but ALLOW.
    pub log: bool,
    /// SECCOMP_FILTER_FLAG_SPEC_ALLOW: do not force the speculative store bypass mitigation.
    pub spec_allow: bool,
    /// SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV: a notified call waits killably once received.
    pub wait_killable_recv: bool,
}

/// An OCI seccomp agent to hand the notification fd to.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Listener {
    pub path: String,
    pub metadata: Option<String>,
}

/// A rule that resolution left out, and why: shown by `profile show`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Skipped {
    pub origin: Origin,
    pub what: String,
    pub why: String,
}

/// A validated, resolved policy.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Policy {
    pub(crate) name: String,
    pub(crate) default_action: Action,
    pub(crate) arches: Vec<Arch>,
    pub(crate) rules: Vec<Rule>,
    pub(crate) newer_action: Option<Action>,
    pub(crate) newer_max: Vec<(Arch, u32)>,
    pub(crate) flags: Flags,
    pub(crate) listener: Option<Listener>,
    pub(crate) skipped: Vec<Skipped>,
    /// Calls the compiled program cannot name on a foreign ABI (libseccomp's table lacks
    /// them there), so their rules are left out of it on that ABI and the call gets the
    /// default action: set by the compiler's side, so that every decision made from the
    /// policy (a supervisor's answer, `profile check`) is the program's.
    pub(crate) unnamed: Vec<(Arch, &'static str)>,
}

impl Policy {
    /// The profile it was resolved from, e.g. `default` or `docker-default.json`.
    pub fn name(&self) -> &str {
        &self.name
    }

    pub fn default_action(&self) -> Action {
        self.default_action
    }

    /// Admitted ABIs; every other ABI is killed.
    pub fn arches(&self) -> &[Arch] {
        &self.arches
    }

    /// Rules, in the order the profile lists them.
    pub fn rules(&self) -> &[Rule] {
        &self.rules
    }

    /// What system calls newer than the profile get (ENOSYS), when the profile is an
    /// allow-list; `None` when they get the default action.
    pub fn newer_action(&self) -> Option<Action> {
        self.newer_action
    }

    /// The highest system call number the profile knows on each ABI: calls above it are
    /// newer than the profile and get [`Policy::newer_action`].
    pub fn newer_max(&self, arch: Arch) -> Option<u32> {
        self.newer_max
            .iter()
            .find(|(a, _)| *a == arch)
            .map(|(_, m)| *m)
    }

    /// Whether call `nr` of ABI `arch` is newer than the profile: above the highest number
    /// it knows (x32's compat entry points 512..=547 are old, never newer).
    pub fn is_newer(&self, arch: Arch, nr: u32) -> bool {
        self.newer_max(arch)
            .is_some_and(|max| crate::syscalls::is_newer_than(arch, nr, max))
    }

    pub fn flags(&self) -> Flags {
        self.flags
    }

    pub fn listener(&self) -> Option<&Listener> {
        self.listener.as_ref()
    }

    pub fn skipped(&self) -> &[Skipped] {
        &self.skipped
    }

    /// A policy that allows everything on every ABI the kernel runs (what `unconfined`
    /// means: no filter): what `--report` and `learn` watch, and `--seccomp-deny` adds
    /// to, when the profile is `unconfined`.
    pub fn allow_all() -> Policy {
        Policy {
            name: "unconfined".into(),
            default_action: Action::Allow,
            arches: vec![Arch::native(), Arch::X86, Arch::X32],
            rules: vec![],
            newer_action: None,
            newer_max: vec![],
            flags: Flags::default(),
            listener: None,
            skipped: vec![],
            unnamed: vec![],
        }
    }

    /// The same policy, knowing that the compiled program cannot name these calls on
    /// these ABIs (see the field).
    pub fn with_unnamed(mut self, unnamed: Vec<(Arch, &'static str)>) -> Policy {
        self.unnamed = unnamed;
        self
    }

    /// Whether the compiled program leaves the rules for `name` out on `arch`.
    pub fn is_unnamed(&self, arch: Arch, name: &str) -> bool {
        self.unnamed.iter().any(|(a, n)| *a == arch && *n == name)
    }

    /// The same policy with every action passed through `f` (the default, every rule, and
    /// the newer-than-profile action): how `--report` turns denials into notifications.
    pub fn map_actions(&self, f: impl Fn(Action) -> Action) -> Policy {
        let mut p = self.clone();
        p.default_action = f(p.default_action);
        p.newer_action = p.newer_action.map(&f);
        for r in &mut p.rules {
            r.action = f(r.action);
        }
        p
    }

    /// Whether the policy can make the kernel notify a supervisor.
    pub fn uses_notify(&self) -> bool {
        self.default_action == Action::Notify
            || self.rules.iter().any(|r| r.action == Action::Notify)
    }
}
