//! `syscage learn`: run a command with every system call notified, answer each as the
//! base profile would (the default profile unless told otherwise, so learning never gives
//! the program more than that profile), and write a profile that allows exactly what ran.
//!
//! Most calls are learned by name. For the calls whose arguments decide what they do, the
//! values seen are learned too (clone and unshare namespace flags, socket families, ioctl
//! requests, personality values, prctl options, setuid/setgid and file-type bits of modes),
//! each as a SCMP_CMP_MASKED_EQ on the bits the kernel reads, which every runtime judges
//! the same way.

use crate::answer::{self, abi_of, Kills};
use crate::constrained::{constraint, shown, ENOSYS_CALLS};
use crate::Worker;
use std::collections::{BTreeMap, BTreeSet};
use std::os::fd::OwnedFd;
use std::sync::{Arc, Mutex};
use syscage_policy::arch::Arch;
use syscage_policy::cond::Op;
use syscage_policy::eval;
use syscage_policy::profile::{ArgSpec, Filter, Profile, SyscallEntry};
use syscage_policy::{syscalls, Action, Policy};
use syscage_runtime::Supervisor;
use thiserror::Error;

/// At most this many values of a call's constrained argument are learned; a program that
/// uses more (or tries to make syscage's memory grow) gets the call allowed by name.
pub const MAX_VALUES: usize = 64;

/// What a run used.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Learned {
    /// Calls that ran, by ABI and name, with how often, and the values of their constrained
    /// argument.
    pub used: BTreeMap<(Arch, &'static str), (u64, BTreeSet<u64>)>,
    /// Calls that used more than [`MAX_VALUES`] values: learned by name.
    pub by_name: BTreeSet<&'static str>,
    /// Calls the base profile denied during learning, with the action, and how often.
    pub denied: BTreeMap<(&'static str, String), u64>,
}

impl Learned {
    /// Records one call the base policy let run.
    pub fn record(&mut self, arch: Arch, name: &'static str, args: &[u64; 6]) {
        let e = self.used.entry((arch, name)).or_default();
        e.0 += 1;
        if let Some((i, mask, _)) = constraint(name) {
            if self.by_name.contains(name) {
                return;
            }
            e.1.insert(args[usize::from(i)] & mask);
            if e.1.len() > MAX_VALUES {
                e.1.clear();
                self.by_name.insert(name);
            }
        }
    }

    /// The learned profile: default-deny with EPERM, the calls that ran (with their
    /// learned values), clone3 and openat2 answering ENOSYS.
    pub fn to_profile(&self) -> Profile {
        let mut arches: Vec<Arch> = vec![Arch::X86_64];
        for (a, _) in self.used.keys() {
            if !arches.contains(a) {
                arches.push(*a);
            }
        }
        let mut plain: BTreeSet<&'static str> = BTreeSet::new();
        let mut values: BTreeMap<&'static str, BTreeSet<u64>> = BTreeMap::new();
        for ((_, name), (_, vals)) in &self.used {
            if ENOSYS_CALLS.contains(name) {
                continue;
            }
            match constraint(name) {
                Some(_) if !self.by_name.contains(name) => {
                    values.entry(name).or_default().extend(vals.iter().copied())
                }
                _ => {
                    plain.insert(name);
                }
            }
        }
        let mut entries = Vec::new();
        if !plain.is_empty() {
            entries.push(entry(
                plain.iter().map(|s| s.to_string()).collect(),
                Action::Allow,
                vec![],
                Some("learned: calls the command made"),
            ));
        }
        for (name, vals) in &values {
            let Some((i, mask, what)) = constraint(name) else {
                continue;
            };
            for v in vals {
                let spec = ArgSpec {
                    index: i,
                    op: Op::MaskedEq(mask),
                    value: *v,
                };
                entries.push(entry(
                    vec![name.to_string()],
                    Action::Allow,
                    vec![spec],
                    Some(&format!("learned: {name} with {what} {}", shown(name, *v))),
                ));
            }
        }
        entries.push(entry(
            ENOSYS_CALLS.iter().map(|s| s.to_string()).collect(),
            Action::Errno(38),
            vec![],
            Some("arguments in memory: ENOSYS makes libc fall back to clone and openat"),
        ));
        Profile {
            default_action: Some(Action::Errno(1)),
            architectures: if arches.len() > 1 { arches } else { vec![] },
            syscalls: entries,
            ..Profile::default()
        }
    }
}

fn entry(
    names: Vec<String>,
    action: Action,
    args: Vec<ArgSpec>,
    comment: Option<&str>,
) -> SyscallEntry {
    SyscallEntry {
        names,
        unknown: vec![],
        action,
        args,
        comment: comment.map(str::to_string),
        includes: Filter::default(),
        excludes: Filter::default(),
    }
}

#[derive(Debug, Error, PartialEq, Eq)]
pub enum LearnError {
    #[error("--merge `{0}`: not an allow-list (its default action lets every call run), so there is nothing to widen; merge learned or allow-list profiles")]
    NotAllowList(String),
}

/// Widens `old` with what `new` allows: every allow rule of either (rules with one action
/// for one call are alternatives, so keeping both allows the union).
pub fn merge(old_name: &str, old: &Profile, new: &Profile) -> Result<Profile, LearnError> {
    if old.default_action.is_some_and(|a| a.runs_call()) {
        return Err(LearnError::NotAllowList(old_name.to_string()));
    }
    let mut out = new.clone();
    for a in &old.architectures {
        if !out.architectures.contains(a) {
            if out.architectures.is_empty() {
                out.architectures.push(Arch::X86_64);
            }
            out.architectures.push(*a);
        }
    }
    for e in &old.syscalls {
        if !out.syscalls.contains(e) {
            out.syscalls.push(e.clone());
        }
    }
    Ok(out)
}

/// What the learned profile allows that `reference` (the default profile) forbids: the
/// learn command says so, since learning under another profile may have let it run.
pub fn beyond(reference: &Policy, learned: &Learned) -> Vec<String> {
    let mut out = Vec::new();
    for ((arch, name), (_, vals)) in &learned.used {
        let Some(s) = syscalls::lookup(name) else {
            continue;
        };
        let probes: Vec<[u64; 6]> =
            match constraint(name).filter(|_| !learned.by_name.contains(name)) {
                Some((i, _, _)) => vals
                    .iter()
                    .map(|v| {
                        let mut a = [0u64; 6];
                        a[usize::from(i)] = *v;
                        a
                    })
                    .collect(),
                None => vec![[0; 6]],
            };
        for args in probes {
            let d = eval::decide_syscall(reference, *arch, s, &args);
            if d.action.is_denial() {
                let detail = constraint(name)
                    .map(|(i, _, w)| format!(" with {w} {}", shown(name, args[usize::from(i)])))
                    .unwrap_or_default();
                out.push(format!(
                    "`{name}`{detail} on {arch} (the default profile answers {})",
                    d.action
                ));
            }
        }
    }
    out
}

/// The supervisor of `learn`.
pub struct Learner {
    base: Arc<Policy>,
    state: Arc<Mutex<Learned>>,
    kills: Arc<Kills>,
    worker: Option<Worker>,
    command: Option<i32>,
    sigsys: Option<String>,
}

impl Learner {
    pub fn new(base: Policy) -> Learner {
        Learner {
            base: Arc::new(base),
            state: Arc::new(Mutex::new(Learned::default())),
            kills: Arc::new(Kills::default()),
            worker: None,
            command: None,
            sigsys: None,
        }
    }

    /// Why the command died of SIGSYS, when the filter killed it (a call outside the
    /// admitted ABIs, which the learned profile does not admit either).
    pub fn killed_by_filter(&self) -> Option<&str> {
        self.sigsys.as_deref()
    }

    pub fn learned(&self) -> Learned {
        self.state.lock().map(|s| s.clone()).unwrap_or_default()
    }
}

impl Supervisor for Learner {
    fn started(&mut self, host_pid: i32) {
        self.command = Some(host_pid);
    }

    fn listener(&mut self, fd: OwnedFd, _host_pid: i32) -> Result<(), String> {
        let base = Arc::clone(&self.base);
        let state = Arc::clone(&self.state);
        let kills = Arc::clone(&self.kills);
        self.worker = Some(Worker::spawn(fd, move |fd, n| {
            let (d, resp, kill) = answer::answer(&base, n);
            let arch = abi_of(n.data.arch, n.data.nr);
            if let (Some(s), Ok(mut st)) = (syscalls::by_number(arch, n.data.nr), state.lock()) {
                if d.action.runs_call() {
                    st.record(arch, s.name, &n.data.args);
                } else {
                    *st.denied.entry((s.name, d.action.to_string())).or_default() += 1;
                }
            }
            if kill {
                kills.kill(fd, n);
            }
            resp
        })?);
        Ok(())
    }

    fn finished(&mut self, code: i32) -> i32 {
        if let Some(mut w) = self.worker.take() {
            w.join();
        }
        if code == 128 + libc::SIGSYS && self.command.is_some() {
            self.sigsys = answer::sigsys_cause(&self.base, false);
        }
        self.kills.exit_code(code, self.command)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use syscage_policy::{profile, resolve, Context};

    fn learned() -> Learned {
        let mut l = Learned::default();
        l.record(Arch::X86_64, "read", &[0; 6]);
        l.record(Arch::X86_64, "execve", &[0; 6]);
        l.record(Arch::X86_64, "ioctl", &[1, 0x5401, 0, 0, 0, 0]);
        l.record(Arch::X86_64, "ioctl", &[1, 0x1_0000_5413, 0, 0, 0, 0]);
        l.record(Arch::X86_64, "socket", &[2, 1, 0, 0, 0, 0]);
        l.record(Arch::X86_64, "clone3", &[0; 6]);
        l.record(Arch::X86_64, "fchmod", &[3, 0o644, 0, 0, 0, 0]);
        l
    }

    #[test]
    fn the_learned_profile_allows_exactly_what_ran() {
        let p = learned().to_profile();
        let text = profile::to_json(&p);
        let back = profile::parse(&text, Default::default()).unwrap();
        assert_eq!(back, p, "what syscage writes, syscage reads");
        let policy = resolve::resolve("learned", &back, &Context::docker_default()).unwrap();
        let d = |n: &str, a: [u64; 6]| {
            eval::decide_syscall(&policy, Arch::X86_64, syscalls::lookup(n).unwrap(), &a).action
        };
        assert_eq!(d("read", [0; 6]), Action::Allow);
        assert_eq!(d("ioctl", [1, 0x5401, 0, 0, 0, 0]), Action::Allow);
        assert_eq!(
            d("ioctl", [1, 0x5413, 0, 0, 0, 0]),
            Action::Allow,
            "learned on the low 32 bits"
        );
        assert_eq!(d("ioctl", [1, 0x5412, 0, 0, 0, 0]), Action::Errno(1));
        assert_eq!(d("socket", [2, 5, 0, 0, 0, 0]), Action::Allow);
        assert_eq!(d("socket", [40, 1, 0, 0, 0, 0]), Action::Errno(1));
        assert_eq!(d("fchmod", [3, 0o755, 0, 0, 0, 0]), Action::Allow);
        assert_eq!(d("fchmod", [3, 0o4755, 0, 0, 0, 0]), Action::Errno(1));
        assert_eq!(d("clone3", [0; 6]), Action::Errno(38));
        assert_eq!(d("write", [0; 6]), Action::Errno(1));
        assert!(
            text.contains("\"comment\": \"learned: ioctl with request TCGETS\""),
            "{text}"
        );
    }

    #[test]
    fn merging_widens() {
        let a = learned().to_profile();
        let mut l = Learned::default();
        l.record(Arch::X86_64, "write", &[0; 6]);
        l.record(Arch::X86_64, "ioctl", &[1, 0x5412, 0, 0, 0, 0]);
        let b = l.to_profile();
        let m = merge("old.json", &a, &b).unwrap();
        let policy = resolve::resolve("m", &m, &Context::docker_default()).unwrap();
        let d = |n: &str, a: [u64; 6]| {
            eval::decide_syscall(&policy, Arch::X86_64, syscalls::lookup(n).unwrap(), &a).action
        };
        assert_eq!(d("read", [0; 6]), Action::Allow);
        assert_eq!(d("write", [0; 6]), Action::Allow);
        assert_eq!(d("ioctl", [1, 0x5401, 0, 0, 0, 0]), Action::Allow);
        assert_eq!(d("ioctl", [1, 0x5412, 0, 0, 0, 0]), Action::Allow);
        let allow_all =
            profile::parse(r#"{"defaultAction": "SCMP_ACT_ALLOW"}"#, Default::default()).unwrap();
        assert_eq!(
            merge("old.json", &allow_all, &b),
            Err(LearnError::NotAllowList("old.json".into()))
        );
    }

    #[test]
    fn too_many_values_are_learned_by_name() {
        let mut l = Learned::default();
        for i in 0..1000u64 {
            l.record(Arch::X86_64, "ioctl", &[1, 0x10000 + i, 0, 0, 0, 0]);
        }
        assert!(l.by_name.contains("ioctl"));
        assert!(
            l.used[&(Arch::X86_64, "ioctl")].1.is_empty(),
            "memory stays bounded"
        );
        let p = l.to_profile();
        assert_eq!(p.syscalls[0].names, vec!["ioctl".to_string()]);
        assert!(p.syscalls[0].args.is_empty());
    }

    #[test]
    fn says_what_the_default_profile_forbids() {
        let mut l = Learned::default();
        l.record(Arch::X86_64, "unshare", &[0x1000_0000, 0, 0, 0, 0, 0]);
        l.record(Arch::X86_64, "keyctl", &[0; 6]);
        l.record(Arch::X86_64, "read", &[0; 6]);
        let def = syscage_policy::builtin::load("default", Default::default())
            .unwrap()
            .profile
            .unwrap();
        let reference = resolve::resolve("default", &def, &Context::docker_default()).unwrap();
        let got = beyond(&reference, &l);
        assert_eq!(
            got,
            vec![
                "`keyctl` on x86_64 (the default profile answers ERRNO(EPERM))".to_string(),
                "`unshare` with namespace flags 0x10000000 on x86_64 (the default profile answers ERRNO(EPERM))".to_string(),
            ]
        );
    }
}
