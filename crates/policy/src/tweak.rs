//! `--seccomp-allow SYSCALL|@GROUP` and `--seccomp-deny SYSCALL|@GROUP[:ERRNO]`: changes on
//! top of any profile, without copying it. A tweak replaces every rule the profile has for
//! the call with one unconditional rule; later tweaks win over earlier ones.

use crate::action::{Action, MAX_LOADABLE_ERRNO};
use crate::arch::Arch;
use crate::model::{Origin, Policy, Rule};
use crate::resolve::{self, ResolveError};
use crate::syscalls::{self, SyscallInfo};
use crate::{errno, groups};
use thiserror::Error;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Tweak {
    Allow(String),
    Deny(String, u16),
}

#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum TweakError {
    #[error("{flag} `{value}`: unknown system call `{name}`{hint}")]
    UnknownSyscall {
        flag: &'static str,
        value: String,
        name: String,
        hint: String,
    },
    #[error("{flag} `{value}`: {source}")]
    Group {
        flag: &'static str,
        value: String,
        source: groups::GroupError,
    },
    #[error("--seccomp-deny `{0}`: the errno must be a number in 0..={MAX_LOADABLE_ERRNO} (libseccomp refuses 4095 and above) or a name such as EPERM or ENOSYS")]
    BadErrno(String),
    #[error("--seccomp-deny `{0}`: ERRNO(0) makes the denied call look successful; use EPERM, or pass --seccomp-allow-errno-zero if that is really meant")]
    ErrnoZero(String),
    #[error(transparent)]
    Resolve(#[from] ResolveError),
}

impl Tweak {
    /// Parses a `--seccomp-deny` value: `NAME`, `@GROUP`, or either with `:ERRNO`
    /// (`keyctl:ENOSYS`, `@debug:38`); the errno defaults to EPERM.
    pub fn deny(value: &str, allow_errno_zero: bool) -> Result<Tweak, TweakError> {
        let (name, e) = match value.split_once(':') {
            Some((n, e)) => {
                let n_e = e
                    .parse::<u16>()
                    .ok()
                    .filter(|v| *v <= MAX_LOADABLE_ERRNO)
                    .or_else(|| errno::number(e))
                    .ok_or_else(|| TweakError::BadErrno(value.to_string()))?;
                (n, n_e)
            }
            None => (value, 1),
        };
        if e == 0 && !allow_errno_zero {
            return Err(TweakError::ErrnoZero(value.to_string()));
        }
        Ok(Tweak::Deny(name.to_string(), e))
    }

    pub fn allow(value: &str) -> Tweak {
        Tweak::Allow(value.to_string())
    }
}

fn targets(
    flag: &'static str,
    value: &str,
    name: &str,
) -> Result<Vec<&'static SyscallInfo>, TweakError> {
    if name.starts_with('@') {
        return groups::expand(name).map_err(|source| TweakError::Group {
            flag,
            value: value.to_string(),
            source,
        });
    }
    match syscalls::lookup(name) {
        Some(s) => Ok(vec![s]),
        None => Err(TweakError::UnknownSyscall {
            flag,
            value: value.to_string(),
            name: name.to_string(),
            hint: syscalls::suggest(name)
                .map(|s| format!(" (did you mean `{s}`?)"))
                .unwrap_or_default(),
        }),
    }
}

/// Applies tweaks in order.
pub fn apply(policy: &mut Policy, tweaks: &[Tweak]) -> Result<(), TweakError> {
    for t in tweaks {
        let (flag, name, action, shown) = match t {
            Tweak::Allow(n) => ("--seccomp-allow", n.as_str(), Action::Allow, n.clone()),
            Tweak::Deny(n, e) => (
                "--seccomp-deny",
                n.as_str(),
                Action::Errno(*e),
                if *e == 1 {
                    n.clone()
                } else {
                    format!("{n}:{}", errno::describe(*e))
                },
            ),
        };
        for s in targets(flag, &shown, name)? {
            policy.rules.retain(|r| r.name() != s.name);
            policy.rules.push(Rule::new(
                s,
                action,
                vec![],
                Origin::Flag(format!("{flag} {shown}")),
            ));
            // A call the user names is no longer newer than the profile.
            for (arch, max) in policy.newer_max.iter_mut() {
                if let Some(nr) = syscalls::number(s, *arch) {
                    if !(*arch == Arch::X32 && syscalls::is_x32_compat(nr)) {
                        *max = (*max).max(nr);
                    }
                }
            }
        }
    }
    resolve::check_execve(policy)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{builtin, eval, profile::ReadOptions, Context};

    fn default_policy() -> Policy {
        let l = builtin::load("default", ReadOptions::default()).unwrap();
        resolve::resolve("default", &l.profile.unwrap(), &Context::docker_default()).unwrap()
    }

    fn decide(p: &Policy, name: &str, args: [u64; 6]) -> (Action, String) {
        let d = eval::decide_syscall(p, Arch::X86_64, syscalls::lookup(name).unwrap(), &args);
        (d.action, d.by.describe(p))
    }

    #[test]
    fn allow_and_deny_replace_the_profile_rules() {
        let mut p = default_policy();
        assert_eq!(decide(&p, "ptrace", [0; 6]).0, Action::Errno(1));
        apply(
            &mut p,
            &[
                Tweak::allow("ptrace"),
                Tweak::deny("getpid:ENOSYS", false).unwrap(),
                Tweak::deny("ioctl", false).unwrap(),
            ],
        )
        .unwrap();
        assert_eq!(
            decide(&p, "ptrace", [0; 6]),
            (Action::Allow, "--seccomp-allow ptrace".to_string())
        );
        assert_eq!(
            decide(&p, "getpid", [0; 6]),
            (
                Action::Errno(38),
                "--seccomp-deny getpid:ENOSYS".to_string()
            )
        );
        assert_eq!(
            decide(&p, "ioctl", [0, 0x5401, 0, 0, 0, 0]),
            (Action::Errno(1), "--seccomp-deny ioctl".to_string())
        );
    }

    #[test]
    fn groups_expand() {
        let mut p = default_policy();
        apply(&mut p, &[Tweak::deny("@mount", false).unwrap()]).unwrap();
        assert_eq!(
            decide(&p, "fsopen", [0; 6]),
            (Action::Errno(1), "--seccomp-deny @mount".to_string())
        );
    }

    #[test]
    fn bad_values_name_the_flag() {
        let mut p = default_policy();
        assert_eq!(
            apply(&mut p, &[Tweak::allow("getpdi")])
                .unwrap_err()
                .to_string(),
            "--seccomp-allow `getpdi`: unknown system call `getpdi` (did you mean `getpid`?)"
        );
        assert_eq!(Tweak::deny("kill:EFOO", false).unwrap_err().to_string(), "--seccomp-deny `kill:EFOO`: the errno must be a number in 0..=4094 (libseccomp refuses 4095 and above) or a name such as EPERM or ENOSYS");
        assert_eq!(
            Tweak::deny("kill:4095", false).unwrap_err(),
            TweakError::BadErrno("kill:4095".into())
        );
        assert_eq!(
            Tweak::deny("kill:4094", false),
            Ok(Tweak::Deny("kill".into(), 4094))
        );
        assert!(matches!(
            Tweak::deny("kill:0", false),
            Err(TweakError::ErrnoZero(_))
        ));
        assert_eq!(
            Tweak::deny("kill:0", true),
            Ok(Tweak::Deny("kill".into(), 0))
        );
        assert_eq!(
            apply(&mut p, &[Tweak::deny("execve", false).unwrap()]).unwrap_err().to_string(),
            "the profile denies `execve` (ERRNO(EPERM) by --seccomp-deny execve): no command could ever start; allow `execve` (and `execveat`)"
        );
    }

    #[test]
    fn a_newer_call_named_by_the_user_is_no_longer_newer() {
        let text = r#"{"defaultAction": "SCMP_ACT_ERRNO", "syscalls": [{"names": ["execve", "read"], "action": "SCMP_ACT_ALLOW"}]}"#;
        let prof = crate::profile::parse(text, ReadOptions::default()).unwrap();
        let mut p = resolve::resolve("t", &prof, &Context::docker_default()).unwrap();
        assert_eq!(decide(&p, "mseal", [0; 6]).0, Action::Errno(38));
        apply(&mut p, &[Tweak::allow("mseal")]).unwrap();
        assert_eq!(decide(&p, "mseal", [0; 6]).0, Action::Allow);
        assert_eq!(
            decide(&p, "statmount", [0; 6]).0,
            Action::Errno(1),
            "now below the newest call named"
        );
    }
}
