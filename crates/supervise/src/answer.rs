//! What every supervisor does with a notified call: find its ABI, answer it as the policy
//! would, and carry out a kill the kernel cannot be asked for.

use std::collections::HashSet;
use std::os::fd::{AsFd, OwnedFd};
use std::sync::Mutex;
use syscage_policy::arch::{Arch, AUDIT_ARCH_I386, X32_SYSCALL_BIT};
use syscage_policy::eval;
use syscage_policy::{Action, Policy};
use syscage_seccomp::notify::{self, Notification, Response};

/// The ABI of a notified call.
pub fn abi_of(audit_arch: u32, nr: u32) -> Arch {
    if audit_arch == AUDIT_ARCH_I386 {
        Arch::X86
    } else if nr & X32_SYSCALL_BIT != 0 {
        Arch::X32
    } else {
        Arch::X86_64
    }
}

/// How the policy answers a notified call, and whether syscage must kill its process.
pub fn answer(policy: &Policy, n: &Notification) -> (eval::Decision, Response, bool) {
    let d = eval::decide_raw(policy, n.data.arch, n.data.nr, &n.data.args);
    let (resp, kill) = match d.action {
        Action::Errno(e) => (Response::Errno(i32::from(e)), false),
        Action::KillProcess | Action::KillThread => (Response::Errno(libc::EPERM), true),
        Action::Allow | Action::Log => (Response::Continue, false),
        // A notification or trace the user's profile asked for, with no one to answer it:
        // the call fails as a call without a tracer does.
        Action::Notify | Action::Trace(_) | Action::Trap => (Response::Errno(libc::ENOSYS), false),
    };
    (d, resp, kill)
}

/// The processes syscage killed for a KILL action, by thread group. The kernel offers no
/// way to answer a notification with SIGSYS, so the supervisor kills with SIGKILL and
/// remembers whom, to report the status the kernel would have given.
#[derive(Default)]
pub struct Kills(Mutex<HashSet<u32>>);

impl Kills {
    /// Kills the process whose call `n` is waiting, if the call still is.
    pub fn kill(&self, fd: &OwnedFd, n: &Notification) {
        let tgid = notify::tgid_of(n.pid).unwrap_or(n.pid);
        match notify::kill_notifier(fd.as_fd(), n.id, n.pid) {
            Ok(()) => {
                if let Ok(mut k) = self.0.lock() {
                    k.insert(tgid);
                }
            }
            Err(e) => tracing::debug!("kill pid {}: {e}", n.pid),
        }
    }

    /// Whether syscage killed this process.
    pub fn killed(&self, host_pid: i32) -> bool {
        u32::try_from(host_pid)
            .ok()
            .is_some_and(|p| self.0.lock().is_ok_and(|k| k.contains(&p)))
    }

    /// The exit status of the run: the command's SIGKILL (137) that syscage delivered for
    /// a KILL action is the SIGSYS (159) the filter would have given.
    pub fn exit_code(&self, code: i32, command: Option<i32>) -> i32 {
        if code == 128 + libc::SIGKILL && command.is_some_and(|c| self.killed(c)) {
            128 + libc::SIGSYS
        } else {
            code
        }
    }
}

/// Why the command died of SIGSYS (status 159) when no supervisor killed it. Under a
/// supervisor, the filter's own kills are those of its architecture check, and, when
/// `traps` (TRAP stays in the kernel under `--report`), the SIGSYS of a TRAP rule the
/// program did not catch. `None` when the policy can do neither.
pub fn sigsys_cause(policy: &Policy, traps: bool) -> Option<String> {
    let admitted = policy.arches();
    let foreign = [Arch::X86, Arch::X32]
        .into_iter()
        .any(|a| !admitted.contains(&a));
    let trap = traps
        && (policy.default_action() == Action::Trap
            || policy.newer_action() == Some(Action::Trap)
            || policy.rules().iter().any(|r| r.action() == Action::Trap));
    let names: Vec<String> = admitted.iter().map(|a| a.to_string()).collect();
    let abi = format!(
        "the filter killed the command (SIGSYS) for a system call outside the ABIs the profile admits ({})",
        names.join(", ")
    );
    match (foreign, trap) {
        (true, false) => Some(format!(
            "{abi}: an i386 call (int 0x80) or an x32 call (hint: --seccomp-arch x86 or x32 admits one)"
        )),
        (true, true) => Some(format!(
            "{abi}, or the command did not catch the SIGSYS of a TRAP rule"
        )),
        (false, true) => Some(
            "the command died of the SIGSYS of a TRAP rule, which it did not catch".to_string(),
        ),
        (false, false) => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn abis_are_told_apart() {
        use syscage_policy::arch::AUDIT_ARCH_X86_64;
        assert_eq!(abi_of(AUDIT_ARCH_X86_64, 39), Arch::X86_64);
        assert_eq!(abi_of(AUDIT_ARCH_X86_64, X32_SYSCALL_BIT | 39), Arch::X32);
        assert_eq!(abi_of(AUDIT_ARCH_I386, 20), Arch::X86);
    }

    #[test]
    fn only_a_kill_of_the_command_by_syscage_becomes_sigsys() {
        let k = Kills::default();
        k.0.lock().unwrap().insert(42);
        assert_eq!(k.exit_code(137, Some(42)), 159);
        assert_eq!(k.exit_code(137, Some(43)), 137, "killed by someone else");
        assert_eq!(k.exit_code(137, None), 137);
        assert_eq!(k.exit_code(1, Some(42)), 1);
    }
}

#[cfg(test)]
mod cause_tests {
    use super::*;

    #[test]
    fn a_sigsys_is_explained_by_what_the_policy_can_do() {
        let all = Policy::allow_all();
        assert_eq!(
            sigsys_cause(&all, true),
            None,
            "every ABI admitted, no TRAP"
        );
        let def = syscage_policy::builtin::load("default", Default::default())
            .unwrap()
            .profile
            .unwrap();
        let def = syscage_policy::resolve::resolve(
            "default",
            &def,
            &syscage_policy::Context::docker_default(),
        )
        .unwrap();
        assert_eq!(
            sigsys_cause(&def, true).as_deref(),
            Some("the filter killed the command (SIGSYS) for a system call outside the ABIs the profile admits (x86_64): an i386 call (int 0x80) or an x32 call (hint: --seccomp-arch x86 or x32 admits one)")
        );
        let trap = all.map_actions(|_| Action::Trap);
        assert_eq!(
            sigsys_cause(&trap, true).as_deref(),
            Some("the command died of the SIGSYS of a TRAP rule, which it did not catch")
        );
        assert_eq!(
            sigsys_cause(&trap, false),
            None,
            "learn notifies TRAP calls"
        );
    }
}
