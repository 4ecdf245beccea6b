//! `syscage learn`: run a command with every system call notified, answer each as the
//! base profile would (the default profile unless told otherwise, so learning never gives
//! the program more than that profile), and write a profile that allows exactly what ran.
//!
//! Most calls are learned by name. For the calls whose arguments decide what they do, the
//! values seen are learned too (clone and unshare namespace flags, socket families, ioctl
//! requests, personality values, prctl options, setuid/setgid and file-type bits of modes),
//! each as a SCMP_CMP_MASKED_EQ on the bits the kernel reads, which every runtime judges
//! the same way. Whatever is learned is bounded by what the base profile allows of the
//! call (see [`crate::bound`]): the written profile never allows a call the base denies.

use crate::answer::{self, abi_of, Kills};
use crate::constrained::{constraint, shown, ENOSYS_CALLS};

/// Calls a learned profile keeps whether or not the run made them (see `to_profile`).
pub const TIMING_CALLS: [&str; 3] = ["futex", "sched_yield", "restart_syscall"];
use crate::{bound, Worker};
use std::collections::{BTreeMap, BTreeSet};
use std::os::fd::OwnedFd;
use std::sync::{Arc, Mutex};
use syscage_policy::arch::Arch;
use syscage_policy::cond::Op;
use syscage_policy::cube::{self, Cube};
use syscage_policy::eval;
use syscage_policy::profile::{ArgSpec, Profile, SyscallEntry};
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

    /// Records a notified call the base policy decided with `action`: what ran is
    /// learned, what the base denied is counted.
    pub fn observe(&mut self, n: &syscage_seccomp::notify::Notification, action: Action) {
        let arch = abi_of(n.data.arch, n.data.nr);
        if let Some(s) = syscalls::by_number(arch, n.data.nr) {
            if action.runs_call() {
                self.record(arch, s.name, &n.data.args);
            } else {
                *self.denied.entry((s.name, action.to_string())).or_default() += 1;
            }
        }
    }

    /// The learned profile: default-deny with EPERM, the calls that ran (with their
    /// learned values), clone3 and openat2 answering ENOSYS; and the calls left out
    /// because the base's rules for them are too complex to keep exactly.
    ///
    /// Every rule is what ran intersected with what `base` allows of the call on every
    /// ABI the profile admits (see [`crate::bound`]), so the learned profile never allows
    /// a call the base denies: a call learned by name keeps the base's conditions (ioctl
    /// still without TIOCSTI and TIOCLINUX under the default profile). Each rule has at
    /// most one condition per argument, which runc, crun and syscage all read the same.
    pub fn to_profile(&self, base: &Policy) -> Result<(Profile, Vec<&'static str>), LearnError> {
        let mut arches: Vec<Arch> = vec![Arch::X86_64];
        for (a, _) in self.used.keys() {
            if !arches.contains(a) && base.arches().contains(a) {
                arches.push(*a);
            }
        }
        // Per call: None for every value, or the values seen.
        let mut calls: BTreeMap<&'static str, Option<BTreeSet<u64>>> = BTreeMap::new();
        for ((_, name), (_, vals)) in &self.used {
            if ENOSYS_CALLS.contains(name) {
                continue;
            }
            let learned = calls.entry(name).or_insert_with(|| Some(BTreeSet::new()));
            match (constraint(name), learned.as_mut()) {
                (Some(_), Some(set)) if !self.by_name.contains(name) => {
                    set.extend(vals.iter().copied())
                }
                _ => *learned = None,
            }
        }
        // Calls a program makes or not by the timing of its threads, not by what it does
        // (a Go runtime wakes a thread with futex only when another waits): one run can
        // miss them and the next need them. Kept as far as the base allows them.
        for name in TIMING_CALLS {
            let allowed = syscalls::lookup(name)
                .and_then(|s| bound::allowed(base, Arch::X86_64, s))
                .is_some_and(|c| !c.is_empty());
            if allowed {
                calls.entry(name).or_insert(None);
            }
        }
        let mut plain: BTreeSet<&'static str> = BTreeSet::new();
        let mut bounded = Vec::new();
        let mut too_complex = Vec::new();
        for (name, values) in &calls {
            let Some(s) = syscalls::lookup(name) else {
                continue;
            };
            let Some(bound) = bound::allowed_on_all(base, &arches, s) else {
                too_complex.push(*name);
                continue;
            };
            match (values, constraint(name)) {
                (Some(vals), Some((i, mask, what))) => {
                    for v in vals {
                        let mut learned = Cube::ALL;
                        learned.args[usize::from(i)] = (mask, v & mask);
                        let Some(cubes) = cube::intersect(&[learned], &bound, bound::LIMIT) else {
                            too_complex.push(*name);
                            continue;
                        };
                        let mut comment =
                            format!("learned: {name} with {what} {}", shown(name, *v));
                        if cubes != [learned] {
                            comment.push_str(", as far as the base profile allows it");
                        }
                        for c in cubes {
                            bounded.push(entry(
                                vec![name.to_string()],
                                Action::Allow,
                                specs(&c)?,
                                Some(&comment),
                            )?);
                        }
                    }
                }
                _ if bound == [Cube::ALL] => {
                    plain.insert(name);
                }
                _ => {
                    let comment = if self.by_name.contains(name) {
                        format!("learned: {name} (more than {MAX_VALUES} values seen), as far as the base profile allows it")
                    } else {
                        format!("learned: {name}, as far as the base profile allows it")
                    };
                    for c in &bound {
                        bounded.push(entry(
                            vec![name.to_string()],
                            Action::Allow,
                            specs(c)?,
                            Some(&comment),
                        )?);
                    }
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
            )?);
        }
        entries.extend(bounded);
        entries.push(entry(
            ENOSYS_CALLS.iter().map(|s| s.to_string()).collect(),
            Action::Errno(38),
            vec![],
            Some("arguments in memory: ENOSYS makes libc fall back to clone and openat"),
        )?);
        too_complex.dedup();
        let profile = Profile::new(Action::Errno(1))
            .map_err(|kind| LearnError::Build(kind.to_string()))?
            .with_architectures(if arches.len() > 1 { arches } else { vec![] })
            .with_syscalls(entries);
        Ok((profile, too_complex))
    }
}

/// A cube as conditions: one SCMP_CMP_MASKED_EQ per argument it constrains.
fn specs(c: &Cube) -> Result<Vec<ArgSpec>, LearnError> {
    c.args
        .iter()
        .enumerate()
        .filter(|(_, (m, _))| *m != 0)
        .map(|(i, (mask, value))| {
            ArgSpec::new(i as u8, Op::MaskedEq(*mask), *value)
                .map_err(|kind| LearnError::Build(kind.to_string()))
        })
        .collect()
}

fn entry(
    names: Vec<String>,
    action: Action,
    args: Vec<ArgSpec>,
    comment: Option<&str>,
) -> Result<SyscallEntry, LearnError> {
    SyscallEntry::new(names, action, args)
        .map(|e| e.with_comment(comment.map(str::to_string)))
        .map_err(|e| LearnError::Build(e.to_string()))
}

#[derive(Debug, Error, PartialEq, Eq)]
pub enum LearnError {
    #[error("--merge `{0}`: not an allow-list (its default action lets every call run), so there is nothing to widen; merge learned or allow-list profiles")]
    NotAllowList(String),
    #[error("cannot build the learned profile: {0}")]
    Build(String),
}

/// Widens `old` with what `new` allows: every allow rule of either (rules with one action
/// for one call are alternatives, so keeping both allows the union).
pub fn merge(old_name: &str, old: &Profile, new: &Profile) -> Result<Profile, LearnError> {
    if old.default_action().runs_call() {
        return Err(LearnError::NotAllowList(old_name.to_string()));
    }
    let mut out = new.clone();
    let mut arches = out.architectures().to_vec();
    for a in old.architectures() {
        if !arches.contains(a) {
            if arches.is_empty() {
                arches.push(Arch::X86_64);
            }
            arches.push(*a);
        }
    }
    out = out.with_architectures(arches);
    for e in old.syscalls() {
        if !out.syscalls().contains(e) {
            out.push_syscall(e.clone());
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

    fn listener(
        &mut self,
        fd: OwnedFd,
        _host_pid: i32,
    ) -> Result<(), syscage_runtime::parent::SupervisorError> {
        let base = Arc::clone(&self.base);
        let state = Arc::clone(&self.state);
        let kills = Arc::clone(&self.kills);
        self.worker = Some(Worker::spawn(fd, move |fd, n| {
            let (d, resp, kill) = answer::answer(&base, n);
            if let Ok(mut st) = state.lock() {
                st.observe(n, d.action);
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

    fn base(name: &str) -> Policy {
        let p = syscage_policy::builtin::load(name, Default::default())
            .unwrap()
            .profile
            .unwrap();
        resolve::resolve(name, &p, &Context::docker_default()).unwrap()
    }

    /// The policy of a profile's JSON text, resolved as Docker's defaults resolve it.
    fn policy_of(name: &str, json: &str) -> Policy {
        let p = profile::parse(json, Default::default()).unwrap();
        resolve::resolve(name, &p, &Context::docker_default()).unwrap()
    }

    /// The learned profile under `base`, read back as syscage reads files, and its decision.
    fn learned_policy(l: &Learned, base: &Policy) -> (String, Policy) {
        let (p, too_complex) = l.to_profile(base).unwrap();
        assert!(too_complex.is_empty(), "{too_complex:?}");
        let text = profile::to_json(&p).unwrap();
        let back = profile::parse(&text, Default::default()).unwrap();
        assert_eq!(back, p, "what syscage writes, syscage reads");
        let policy = resolve::resolve("learned", &back, &Context::docker_default()).unwrap();
        (text, policy)
    }

    fn decide(p: &Policy, n: &str, a: [u64; 6]) -> Action {
        eval::decide_syscall(p, Arch::X86_64, syscalls::lookup(n).unwrap(), &a).action
    }

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
        let (text, policy) = learned_policy(&learned(), &base("default"));
        let d = |n: &str, a: [u64; 6]| decide(&policy, n, a);
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
    fn calls_made_by_timing_are_kept_as_far_as_the_base_allows() {
        // Not seen in the run, kept: a thread waits or yields only when another holds it.
        let (_, policy) = learned_policy(&learned(), &base("default"));
        for call in TIMING_CALLS {
            assert_eq!(decide(&policy, call, [0; 6]), Action::Allow, "{call}");
        }
        // A base that refuses futex keeps refusing it.
        let strict = policy_of(
            "s",
            r#"{"defaultAction": "SCMP_ACT_ERRNO", "syscalls": [
                    {"names": ["read", "execve", "sched_yield"], "action": "SCMP_ACT_ALLOW"}]}"#,
        );
        let mut l = Learned::default();
        l.record(Arch::X86_64, "read", &[0; 6]);
        l.record(Arch::X86_64, "execve", &[0; 6]);
        let (_, policy) = learned_policy(&l, &strict);
        assert_eq!(decide(&policy, "sched_yield", [0; 6]), Action::Allow);
        assert_eq!(decide(&policy, "futex", [0; 6]), Action::Errno(1));
        assert_eq!(decide(&policy, "restart_syscall", [0; 6]), Action::Errno(1));
    }

    #[test]
    fn merging_widens() {
        let a = learned().to_profile(&base("default")).unwrap().0;
        let mut l = Learned::default();
        l.record(Arch::X86_64, "write", &[0; 6]);
        l.record(Arch::X86_64, "ioctl", &[1, 0x5414, 0, 0, 0, 0]);
        let b = l.to_profile(&base("default")).unwrap().0;
        let m = merge("old.json", &a, &b).unwrap();
        let policy = resolve::resolve("m", &m, &Context::docker_default()).unwrap();
        let d = |n: &str, a: [u64; 6]| {
            eval::decide_syscall(&policy, Arch::X86_64, syscalls::lookup(n).unwrap(), &a).action
        };
        assert_eq!(d("read", [0; 6]), Action::Allow);
        assert_eq!(d("write", [0; 6]), Action::Allow);
        assert_eq!(d("ioctl", [1, 0x5401, 0, 0, 0, 0]), Action::Allow);
        assert_eq!(d("ioctl", [1, 0x5414, 0, 0, 0, 0]), Action::Allow);
        assert_eq!(d("ioctl", [1, 0x5412, 0, 0, 0, 0]), Action::Errno(1));
        let allow_all =
            profile::parse(r#"{"defaultAction": "SCMP_ACT_ALLOW"}"#, Default::default()).unwrap();
        assert_eq!(
            merge("old.json", &allow_all, &b),
            Err(LearnError::NotAllowList("old.json".into()))
        );
    }

    #[test]
    fn learning_by_name_keeps_the_base_conditions() {
        let def = base("default");
        let mut l = Learned::default();
        l.record(Arch::X86_64, "execve", &[0; 6]);
        for i in 0..1000u64 {
            l.record(Arch::X86_64, "ioctl", &[1, 0x10000 + i, 0, 0, 0, 0]);
        }
        for i in 0..100u64 {
            l.record(Arch::X86_64, "prctl", &[1000 + i, 0, 0, 0, 0, 0]);
        }
        l.record(Arch::X86_64, "seccomp", &[2, 0, 0, 0, 0, 0]);
        assert!(l.by_name.contains("ioctl") && l.by_name.contains("prctl"));
        assert!(
            l.used[&(Arch::X86_64, "ioctl")].1.is_empty(),
            "memory stays bounded"
        );
        let (text, p) = learned_policy(&l, &def);
        // What the base allows of them, by name: any request but TIOCSTI and TIOCLINUX,
        // whatever the upper bits; any prctl option but PR_SET_SECCOMP; seccomp's
        // GET_ACTION_AVAIL and GET_NOTIF_SIZES, not SET_MODE_FILTER.
        for (name, args, want) in [
            ("ioctl", [1, 0x5401, 0, 0, 0, 0], Action::Allow),
            ("ioctl", [7, 0xdead_beef, 0, 0, 0, 0], Action::Allow),
            ("ioctl", [1, 0x5412, 0, 0, 0, 0], Action::Errno(1)),
            ("ioctl", [1, 0x1_0000_5412, 0, 0, 0, 0], Action::Errno(1)),
            ("ioctl", [1, 0x541c, 0, 0, 0, 0], Action::Errno(1)),
            ("prctl", [15, 0, 0, 0, 0, 0], Action::Allow),
            ("prctl", [22, 2, 0, 0, 0, 0], Action::Errno(1)),
            ("prctl", [1 << 32 | 22, 2, 0, 0, 0, 0], Action::Errno(1)),
            ("seccomp", [2, 0, 0, 0, 0, 0], Action::Allow),
            ("seccomp", [3, 0, 0, 0, 0, 0], Action::Allow),
            ("seccomp", [1, 0, 0, 0, 0, 0], Action::Errno(1)),
        ] {
            assert_eq!(decide(&p, name, args), want, "{name} {args:x?}");
        }
        assert!(text.contains("\"comment\": \"learned: ioctl (more than 64 values seen), as far as the base profile allows it\""), "{text}");
    }

    #[test]
    fn learned_values_keep_the_base_conditions_on_other_arguments() {
        // A base that denies fchmod on fd 3 and kill with signal 9, whatever the mode.
        let base = policy_of(
            "b",
            r#"{"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [
                    {"names": ["fchmod"], "action": "SCMP_ACT_ERRNO", "args": [{"index": 0, "value": 3, "op": "SCMP_CMP_EQ"}]},
                    {"names": ["kill"], "action": "SCMP_ACT_KILL_PROCESS", "args": [{"index": 1, "value": 9, "op": "SCMP_CMP_EQ"}]}]}"#,
        );
        let mut l = Learned::default();
        l.record(Arch::X86_64, "execve", &[0; 6]);
        l.record(Arch::X86_64, "fchmod", &[4, 0o644, 0, 0, 0, 0]);
        l.record(Arch::X86_64, "kill", &[1, 15, 0, 0, 0, 0]);
        let (_, p) = learned_policy(&l, &base);
        assert_eq!(decide(&p, "fchmod", [4, 0o755, 0, 0, 0, 0]), Action::Allow);
        assert_eq!(
            decide(&p, "fchmod", [3, 0o755, 0, 0, 0, 0]),
            Action::Errno(1)
        );
        assert_eq!(
            decide(&p, "fchmod", [4, 0o4755, 0, 0, 0, 0]),
            Action::Errno(1)
        );
        assert_eq!(decide(&p, "kill", [1, 15, 0, 0, 0, 0]), Action::Allow);
        assert_eq!(decide(&p, "kill", [1, 9, 0, 0, 0, 0]), Action::Errno(1));
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
