//! The profile to pair with `syscage agent` (`profile show --json --notify-denials` or
//! `--notify-all`): the same decisions as a resolved policy, written for another runtime
//! (crun, runc) with the calls the agent must see turned into SCMP_ACT_NOTIFY,
//! `listenerPath` set, and `listenerMetadata` naming the profile whose answers the agent
//! gives (see [`crate::meta`]).
//!
//! The format imposes three rules. runc refuses SCMP_ACT_NOTIFY as the default action and
//! on `write` (its init writes the notification fd to its parent after loading the filter:
//! a notified `write` would wait for an agent that has no fd yet), and syscage refuses both
//! too. So the default action stays the profile's own; when it is a denial, every call the
//! profile does not name is written out as a NOTIFY rule, so that the default's share of
//! the calls is notified too, and only numbers no table names are left to it. `write`
//! keeps the profile's actions and is never seen by the agent. Last, runc and crun read
//! several conditions on one argument differently (runc: any of them; crun and libseccomp:
//! all of them), so every conditional rule written has at most one condition per argument,
//! a SCMP_CMP_MASKED_EQ on the bits the kernel reads, and the rules of one call never
//! overlap unless they take the same action: each runtime loads exactly the decisions of
//! the policy. A call whose decisions differ between the admitted ABIs, or need more than
//! [`bound::LIMIT`] cases, is notified whole and decided by the agent.

use crate::bound;
use crate::meta::{Metadata, Notified};
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;
use syscage_policy::cond::Op;
use syscage_policy::cube::Cube;
use syscage_policy::profile::{ArgSpec, FilterFlag, Profile, SyscallEntry};
use syscage_policy::{syscalls, Action, Policy};
use thiserror::Error;

/// The path `listenerPath` gets unless told otherwise, and where `syscage agent` listens
/// by default.
pub const DEFAULT_SOCKET: &str = "/run/syscage/agent.sock";

#[derive(Debug, Error, PartialEq, Eq)]
pub enum PairError {
    #[error("the rules for `write` in `{profile}` are too complex to write for another runtime, and `write` cannot be notified (the runtime writes the notification fd with it)")]
    WriteTooComplex { profile: String },
    #[error("the rules for `{call}` in `{profile}` differ between ABIs or are too complex to write exactly for another runtime")]
    TooComplex { call: &'static str, profile: String },
    #[error("--listener `{0}`: an absolute path to the agent's socket")]
    Listener(String),
    #[error(transparent)]
    Meta(#[from] crate::meta::MetaError),
    /// A rule the profile model refuses: a bug of the writer, reported rather than hidden.
    #[error("cannot write the rules for `{call}`: {source}")]
    Entry {
        call: String,
        source: syscage_policy::profile::EntryError,
    },
    #[error("cannot write the profile: {0}")]
    Profile(syscage_policy::profile::ErrorKind),
}

/// The digest of a resolved policy: what decides every call (default action, ABIs, the
/// newer-than-profile rule, every rule in order), so that the agent can tell that the
/// profile it resolved is the one the paired profile was written from.
pub fn digest(p: &Policy) -> String {
    let mut h = Sha256::new();
    let mut line = |s: String| {
        h.update((s.len() as u64).to_le_bytes());
        h.update(s.as_bytes());
    };
    line(format!("default {}", p.default_action()));
    for a in p.arches() {
        let newer = p.newer_max(*a).map(|m| m.to_string()).unwrap_or_default();
        line(format!("arch {a} {newer}"));
    }
    line(format!("newer {:?}", p.newer_action()));
    for r in p.rules() {
        line(format!("rule {} {r}", r.is_derived()));
    }
    h.finalize()[..16]
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// What a call's decisions become in the written profile (`None`: nothing notified).
fn notified(name: &str, action: Action, mode: Option<Notified>) -> Action {
    if name == "write" {
        return action;
    }
    match (mode, action) {
        (Some(Notified::All), _) => Action::Notify,
        (Some(Notified::Denials), Action::Errno(_) | Action::KillProcess | Action::KillThread) => {
            Action::Notify
        }
        (_, a) => a,
    }
}

/// One call's decisions on every admitted ABI that has it: (written action, what the
/// profile answers, cubes). `None` when they differ between ABIs or are too complex: the
/// call is then notified whole.
type Parts = Vec<(Action, Action, Vec<Cube>)>;

fn parts(p: &Policy, s: &'static syscalls::SyscallInfo, mode: Option<Notified>) -> Option<Parts> {
    let mut seen: Option<Vec<(Action, Vec<Cube>)>> = None;
    for &arch in p.arches() {
        if syscalls::number(s, arch).is_none() {
            continue;
        }
        let mut d = bound::decisions(p, arch, s)?;
        for (_, c) in &mut d {
            c.sort();
        }
        match &seen {
            Some(prev) if *prev != d => return None,
            _ => seen = Some(d),
        }
    }
    // No admitted ABI has the call: nothing to write.
    Some(
        seen.unwrap_or_default()
            .into_iter()
            .map(|(a, c)| (notified(s.name, a, mode), a, c))
            .collect(),
    )
}

/// The comment of a written rule: what the profile answers, when the agent answers.
fn comment(written: Action, answer: Option<Action>, profile: &str) -> Option<String> {
    match (written, answer) {
        (Action::Notify, Some(a)) => Some(format!(
            "{a} under `{profile}`: notified, answered by syscage agent"
        )),
        (Action::Notify, None) => Some(format!(
            "notified, answered by syscage agent as `{profile}` would"
        )),
        _ => None,
    }
}

fn entry(
    names: Vec<String>,
    action: Action,
    args: Vec<ArgSpec>,
    c: Option<String>,
) -> Result<SyscallEntry, PairError> {
    let call = names.join(", ");
    SyscallEntry::new(names, action, args)
        .map(|e| e.with_comment(c))
        .map_err(|source| PairError::Entry { call, source })
}

fn specs(call: &str, c: &Cube) -> Result<Vec<ArgSpec>, PairError> {
    c.args
        .iter()
        .enumerate()
        .filter(|(_, (m, _))| *m != 0)
        .map(|(i, (mask, value))| {
            ArgSpec::new(i as u8, Op::MaskedEq(*mask), *value).map_err(|kind| PairError::Entry {
                call: call.to_string(),
                source: syscage_policy::profile::EntryError {
                    place: format!("args[{i}]"),
                    kind,
                },
            })
        })
        .collect()
}

/// The paired profile of policy `p` (resolved from the profile `meta.profile` names).
/// `meta` gets the digest and the notification mode; it is written as the profile's
/// `listenerMetadata`.
pub fn paired_profile(
    p: &Policy,
    mode: Notified,
    listener: &str,
    mut meta: Metadata,
) -> Result<Profile, PairError> {
    if !listener.starts_with('/') {
        return Err(PairError::Listener(listener.to_string()));
    }
    meta.digest = Some(digest(p));
    meta.notify = Some(mode);
    meta.check()?;
    let name = meta.profile.clone().unwrap_or_else(|| p.name().to_string());
    written(p, Some(mode), &name)?
        .with_listener(listener.to_string(), Some(meta.to_string()))
        .map_err(PairError::Profile)
}

/// Policy `p` as a profile every runtime loads with exactly its decisions (the paired
/// profile without notifications): what a program sees under the runtime without the
/// agent.
pub fn portable_profile(p: &Policy) -> Result<Profile, PairError> {
    written(p, None, p.name())
}

fn written(p: &Policy, mode: Option<Notified>, profile: &str) -> Result<Profile, PairError> {
    let profile = profile.to_string();
    let default = p.default_action();
    // Unconditional rules with one action and one answer share an entry.
    let mut whole: BTreeMap<(Action, Option<Action>), Vec<String>> = BTreeMap::new();
    let mut conditional: Vec<SyscallEntry> = Vec::new();
    for s in syscalls::all() {
        let parts = match parts(p, s, mode) {
            Some(parts) if parts.is_empty() => continue,
            Some(parts) => parts,
            None if s.name == "write" => {
                return Err(PairError::WriteTooComplex { profile });
            }
            None if mode.is_none() => {
                return Err(PairError::TooComplex {
                    call: s.name,
                    profile,
                })
            }
            // Notified whole: the agent decides, whatever the ABI and arguments.
            None => vec![(Action::Notify, Action::Notify, vec![Cube::ALL])],
        };
        let written = parts[0].0;
        if parts.iter().all(|(w, ..)| *w == written) {
            let answer = parts[0].1;
            let answer = (parts.iter().all(|(_, a, _)| *a == answer) && answer != Action::Notify)
                .then_some(answer);
            if written != default {
                whole
                    .entry((written, answer))
                    .or_default()
                    .push(s.name.to_string());
            }
            continue;
        }
        for (written, answer, cubes) in &parts {
            if *written == default {
                continue;
            }
            for c in cubes {
                conditional.push(entry(
                    vec![s.name.to_string()],
                    *written,
                    specs(s.name, c)?,
                    comment(*written, Some(*answer), &profile),
                )?);
            }
        }
    }
    let mut syscalls = whole
        .into_iter()
        .map(|((written, answer), names)| {
            let c = match (mode, written) {
                (Some(Notified::All), Action::Notify) => Some(format!(
                    "every call is notified, answered by syscage agent as `{profile}` would"
                )),
                _ => comment(written, answer, &profile),
            };
            entry(names, written, vec![], c)
        })
        .collect::<Result<Vec<SyscallEntry>, PairError>>()?;
    syscalls.extend(conditional);
    let f = p.flags();
    let flags = [
        (f.log, FilterFlag::Log),
        (f.spec_allow, FilterFlag::SpecAllow),
        (f.wait_killable_recv, FilterFlag::WaitKillableRecv),
    ]
    .into_iter()
    .filter_map(|(on, flag)| on.then_some(flag))
    .collect();
    Ok(Profile::new(default)
        .map_err(PairError::Profile)?
        .with_architectures(p.arches().to_vec())
        .with_flags(flags)
        .with_syscalls(syscalls))
}

#[cfg(test)]
mod tests {
    use super::*;
    use syscage_policy::arch::Arch;
    use syscage_policy::{eval, profile, resolve, Context};

    fn resolved(text: &str, extra: Vec<Arch>) -> Policy {
        let p = profile::parse(text, Default::default()).unwrap();
        let ctx = Context {
            extra_arches: extra,
            ..Context::docker_default()
        };
        resolve::resolve("p", &p, &ctx).unwrap()
    }

    fn builtin(name: &str) -> Policy {
        let b = syscage_policy::builtin::get(name).unwrap();
        resolved(b.text().unwrap(), vec![])
    }

    /// Values worth trying for a call's arguments: the ones its rules name, next to them,
    /// with upper bits set, and the edges.
    fn samples(p: &Policy, name: &str) -> Vec<[u64; 6]> {
        let mut values = vec![0u64, 1, 0o4755, 0x5412, u64::MAX, 1 << 32];
        for r in p.rules().iter().filter(|r| r.name() == name) {
            for c in r.conds() {
                let v = c.value();
                let m = match c.op() {
                    Op::MaskedEq(m) => m,
                    _ => u64::MAX,
                };
                values.extend([
                    v,
                    v ^ 1,
                    v | 1 << 32,
                    v.wrapping_add(1),
                    v.wrapping_sub(1),
                    m,
                    m & !v,
                ]);
            }
        }
        values.sort_unstable();
        values.dedup();
        let mut out = vec![[0u64; 6]];
        for i in 0..6 {
            for v in &values {
                let mut a = [0u64; 6];
                a[i] = *v;
                out.push(a);
                // With another argument set too, for rules on two arguments.
                let mut b = [*v; 6];
                b[i] = *v;
                out.push(b);
            }
        }
        out
    }

    /// The paired profile, written and read back as any file, decides every call as the
    /// policy does, or notifies it (and the agent answers as the policy does); every call
    /// the mode asks for is notified. Returns the calls notified whole although the policy
    /// lets some of their arguments run (the agent then answers CONTINUE).
    fn pairs_exactly(p: &Policy, mode: Notified) -> (Profile, Vec<&'static str>) {
        let meta = Metadata {
            profile: Some("p".into()),
            ..Metadata::default()
        };
        let w = paired_profile(p, mode, DEFAULT_SOCKET, meta).unwrap();
        let text = profile::to_json(&w).unwrap();
        let back = profile::parse(&text, Default::default()).unwrap();
        assert_eq!(back, w, "what is written reads back the same");
        for e in w.syscalls() {
            for n in e.names() {
                let s = syscalls::lookup(n).unwrap();
                assert!(
                    p.arches().iter().any(|a| syscalls::number(s, *a).is_some()),
                    "{n}"
                );
            }
            let mut idx: Vec<u8> = e.args().iter().map(|a| a.index()).collect();
            idx.dedup();
            assert_eq!(
                idx.len(),
                e.args().len(),
                "one condition per argument: {e:?}"
            );
            assert!(e.args().iter().all(|a| matches!(a.op(), Op::MaskedEq(_))));
        }
        let wp = resolve::resolve("w", &back, &Context::docker_default()).unwrap();
        assert_eq!(wp.arches(), p.arches());
        let m = Metadata::parse(w.listener_metadata().unwrap()).unwrap();
        assert_eq!(m.digest, Some(digest(p)));
        assert_eq!(m.notify, Some(mode));
        let mut whole = Vec::new();
        for &arch in p.arches() {
            for s in syscalls::all() {
                if syscalls::number(s, arch).is_none() {
                    continue;
                }
                for args in samples(p, s.name) {
                    let want = eval::decide_syscall(p, arch, s, &args).action;
                    let got = eval::decide_syscall(&wp, arch, s, &args).action;
                    let must_notify = s.name != "write"
                        && match mode {
                            Notified::All => true,
                            Notified::Denials => matches!(
                                want,
                                Action::Errno(_) | Action::KillProcess | Action::KillThread
                            ),
                        };
                    if must_notify {
                        assert_eq!(got, Action::Notify, "{} {arch} {args:x?}: {want}", s.name);
                    } else if got == Action::Notify && want != Action::Notify {
                        assert_ne!(s.name, "write");
                        if !whole.contains(&s.name) {
                            whole.push(s.name);
                        }
                    } else {
                        assert_eq!(got, want, "{} {arch} {args:x?}", s.name);
                    }
                }
            }
        }
        (w, whole)
    }

    /// The portable profile decides every call exactly as the policy.
    fn ports_exactly(p: &Policy) {
        let w = portable_profile(p).unwrap();
        assert_eq!(w.listener_path(), None);
        let text = profile::to_json(&w).unwrap();
        let back = profile::parse(&text, Default::default()).unwrap();
        let wp = resolve::resolve("w", &back, &Context::docker_default()).unwrap();
        for &arch in p.arches() {
            for s in syscalls::all()
                .iter()
                .filter(|s| syscalls::number(s, arch).is_some())
            {
                for args in samples(p, s.name) {
                    let want = eval::decide_syscall(p, arch, s, &args).action;
                    let got = eval::decide_syscall(&wp, arch, s, &args).action;
                    assert_eq!(got, want, "{} {arch} {args:x?}", s.name);
                }
            }
        }
    }

    #[test]
    fn the_portable_profile_decides_as_the_policy() {
        ports_exactly(&builtin("default"));
        ports_exactly(&builtin("contained"));
    }

    #[test]
    fn the_paired_profile_decides_as_the_policy_or_notifies() {
        let def = builtin("default");
        let (w, whole) = pairs_exactly(&def, Notified::Denials);
        assert_eq!(w.default_action(), Action::Errno(1));
        assert_eq!(whole, Vec::<&str>::new());
        pairs_exactly(&def, Notified::All);
        let (_, whole) = pairs_exactly(&builtin("contained"), Notified::Denials);
        assert_eq!(whole, Vec::<&str>::new());
        let docker = std::fs::read_to_string(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../profiles/docker-default.json"
        ))
        .unwrap();
        let (_, whole) = pairs_exactly(
            &resolved(&docker, vec![Arch::X86, Arch::X32]),
            Notified::Denials,
        );
        assert_eq!(whole, Vec::<&str>::new());
        // Several denials, a kill, a trap, a log, rules on two arguments, a default kill.
        let mixed = resolved(
            r#"{"defaultAction": "SCMP_ACT_KILL_PROCESS", "syscalls": [
                {"names": ["execve", "exit_group", "read"], "action": "SCMP_ACT_ALLOW"},
                {"names": ["write"], "action": "SCMP_ACT_ERRNO", "errnoRet": 5,
                 "args": [{"index": 0, "value": 7, "op": "SCMP_CMP_EQ"}]},
                {"names": ["write"], "action": "SCMP_ACT_ALLOW", "args": [{"index": 0, "value": 3, "op": "SCMP_CMP_LE"}]},
                {"names": ["kill"], "action": "SCMP_ACT_ERRNO", "errnoRet": 13,
                 "args": [{"index": 1, "value": 9, "op": "SCMP_CMP_EQ"}, {"index": 0, "value": 1, "op": "SCMP_CMP_GT"}]},
                {"names": ["kill"], "action": "SCMP_ACT_TRAP", "args": [{"index": 1, "value": 15, "op": "SCMP_CMP_EQ"}]},
                {"names": ["kill"], "action": "SCMP_ACT_ALLOW", "args": [{"index": 0, "value": 100, "op": "SCMP_CMP_LT"}]},
                {"names": ["getpid"], "action": "SCMP_ACT_LOG"},
                {"names": ["ioctl"], "action": "SCMP_ACT_ALLOW", "args": [{"index": 1, "value": 21523, "op": "SCMP_CMP_NE"}]},
                {"names": ["clone3"], "action": "SCMP_ACT_ERRNO", "errnoRet": 38}
            ]}"#,
            vec![],
        );
        let (_, whole) = pairs_exactly(&mixed, Notified::Denials);
        assert_eq!(whole, ["kill"]);
        pairs_exactly(&mixed, Notified::All);
    }
}
