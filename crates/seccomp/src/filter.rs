//! From `--seccomp` options to the program the container loads: load the profile (a
//! built-in or a file), resolve it for the container's capabilities, ABIs and kernel,
//! apply `--seccomp-allow/deny`, plan, compile. Compiled programs are cached by content.

use crate::bpf::SockFilter;
use crate::cache::{Cache, Entry, KeyBuilder};
use crate::compile::{self, CompileError};
use crate::load;
use syscage_policy::builtin::{self, LoadError};
use syscage_policy::plan::{self, PlanError};
use syscage_policy::profile::ReadOptions;
use syscage_policy::resolve::{self, ResolveError};
use syscage_policy::tweak::{self, Tweak, TweakError};
use syscage_policy::{lint, Action, Arch, CapSet, Context, KernelVersion, Policy, Profile};
use thiserror::Error;

/// What the run asks for.
#[derive(Debug, Clone)]
pub struct Request {
    /// `--seccomp`: a built-in name or a file.
    pub profile: String,
    /// `--seccomp-base`: files a `SeccompProfile`'s `baseProfileName` may name (`FILE` or
    /// `REF=FILE`, see `builtin::read_source_with_bases`).
    pub bases: Vec<String>,
    pub read: ReadOptions,
    pub caps: CapSet,
    pub kernel: Option<KernelVersion>,
    pub extra_arches: Vec<Arch>,
    pub tweaks: Vec<Tweak>,
    /// Who answers notified calls, and so how the policy is compiled.
    pub notify: NotifyMode,
}

/// How the program is built for a supervisor.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NotifyMode {
    /// The policy as it is; a listener only if the profile has `listenerPath`.
    Plain,
    /// Every denial (errno, kill) notifies; the supervisor answers as the policy would
    /// and records the call (`--report`). TRAP stays in the kernel: its SIGSYS cannot be
    /// emulated.
    Report,
    /// Every call notifies; the supervisor answers as the policy would and records what
    /// ran (`learn`).
    Learn,
}

/// The filter to load, or none.
#[derive(Debug, Clone)]
pub struct Built {
    pub name: String,
    /// `None`: unconfined.
    pub program: Option<Vec<SockFilter>>,
    pub flags: u32,
    /// The resolved policy, when it was computed (always on a cache miss, or on request).
    pub policy: Option<Policy>,
    pub cached: bool,
    /// What to tell the user about the profile (see `warnings`), one line each.
    pub warnings: Vec<String>,
}

#[derive(Debug, Error)]
pub enum FilterError {
    #[error(transparent)]
    Load(#[from] LoadError),
    #[error("cannot use profile `{name}`: {source}")]
    Resolve { name: String, source: ResolveError },
    #[error(transparent)]
    Tweak(#[from] TweakError),
    #[error("cannot compile profile `{name}`: {source}")]
    Plan { name: String, source: PlanError },
    #[error("cannot compile profile `{name}`: {source}")]
    Compile { name: String, source: CompileError },
    #[error("cannot read profile `{name}`: {}", syscage_policy::errno::io_text(.source))]
    Io {
        name: String,
        source: std::io::Error,
    },
}

/// seccomp(2) flags for a policy: TSYNC always (every thread gets the filter), or, with a
/// listener, NEW_LISTENER with TSYNC_ESRCH (the kernel refuses TSYNC with NEW_LISTENER
/// otherwise).
pub fn load_flags(policy: &Policy, listener: bool) -> u32 {
    let f = policy.flags();
    let mut flags = if listener {
        load::FLAG_NEW_LISTENER | load::FLAG_TSYNC | load::FLAG_TSYNC_ESRCH
    } else {
        load::FLAG_TSYNC
    };
    if f.log {
        flags |= load::FLAG_LOG;
    }
    if f.spec_allow {
        flags |= load::FLAG_SPEC_ALLOW;
    }
    // It concerns notified calls only, and the kernel refuses it without NEW_LISTENER
    // (EINVAL, seccomp_set_mode_filter): a profile without a listener just has no use
    // for it.
    if f.wait_killable_recv && listener {
        flags |= load::FLAG_WAIT_KILLABLE_RECV;
    }
    flags
}

/// Resolves the request into a policy (no compile). `None` for `unconfined`.
pub fn policy(req: &Request) -> Result<Option<(String, Policy)>, FilterError> {
    let src = builtin::read_source_with_bases(&req.profile, &req.bases)?;
    Ok(policy_from(&src, req)?.map(|(n, p, _)| (n, p)))
}

/// Stands for the profile's name in warnings kept in the cache: the same content under
/// another path (another file, another run's temporary copy) hits the same entry, and its
/// warnings must name the file of this run.
const NAME_MARK: &str = "\u{1}profile\u{1}";

/// The warnings of a cache entry, or of a fresh compile, for the profile named `name`.
fn named(warnings: &[String], name: &str) -> Vec<String> {
    warnings
        .iter()
        .map(|w| w.replace(NAME_MARK, name))
        .collect()
}

/// What a run says about the profile on stderr: names `--seccomp-ignore-unknown` skipped,
/// and rules that cannot match what they seem to (see `lint::rule_warnings`). The profile
/// is named [`NAME_MARK`], replaced by [`named`].
fn warnings(profile: &Profile) -> Vec<String> {
    let name = NAME_MARK;
    let mut out = Vec::new();
    let skipped: Vec<String> = profile
        .syscalls()
        .iter()
        .enumerate()
        .flat_map(|(i, e)| {
            e.unknown().iter().map(move |n| {
                let hint = syscage_policy::syscalls::suggest(n)
                    .map(|s| format!(", did you mean `{s}`?"))
                    .unwrap_or_default();
                format!("`{n}` (syscalls[{i}]{hint})")
            })
        })
        .collect();
    if !skipped.is_empty() {
        let (what, list) = match skipped.as_slice() {
            [one] => ("an unknown system call", one.clone()),
            [init @ .., last] => (
                "unknown system calls",
                format!("{} and {last}", init.join(", ")),
            ),
            [] => ("", String::new()),
        };
        out.push(format!(
            "--seccomp-ignore-unknown skipped {what} in profile `{name}`: {list}; the profile's rules for them do not apply"
        ));
    }
    for w in lint::rule_warnings(profile) {
        out.push(format!("profile `{name}`: {w}"));
    }
    out
}

fn policy_from(
    src: &builtin::Source,
    req: &Request,
) -> Result<Option<(String, Policy, Vec<String>)>, FilterError> {
    let loaded = builtin::parse_source(src, req.read)?;
    let Some(profile) = loaded.profile else {
        // No filter, unless something is asked on top of it: a supervisor to watch every
        // ABI, or a denial (never dropped). An allow on top of allowing everything is
        // still no filter.
        let mut p = Policy::allow_all();
        tweak::apply(&mut p, &req.tweaks)?;
        let plain = req.notify == NotifyMode::Plain;
        let adds_nothing = p.rules().iter().all(|r| r.action() == p.default_action());
        if plain && adds_nothing {
            return Ok(None);
        }
        let p = as_compiled(&loaded.name, p)?;
        return Ok(Some((loaded.name, p, vec![])));
    };
    let ctx = Context {
        caps: req.caps,
        kernel: req.kernel,
        extra_arches: req.extra_arches.clone(),
        // --report and learn answer notified calls themselves.
        supervised: req.notify != NotifyMode::Plain,
    };
    let mut p =
        resolve::resolve(&loaded.name, &profile, &ctx).map_err(|source| FilterError::Resolve {
            name: loaded.name.clone(),
            source,
        })?;
    tweak::apply(&mut p, &req.tweaks)?;
    let p = as_compiled(&loaded.name, p)?;
    let w = warnings(&profile);
    Ok(Some((loaded.name, p, w)))
}

/// The policy as the compiled program decides: on a foreign ABI, libseccomp cannot name
/// some calls (its table is older than the kernel's), so the program carries none of their
/// rules there and they get the default action; the policy is told so, and every decision
/// taken from it (what `--report`, `learn` and the agent answer, what `profile check`
/// says) is the program's. Only foreign ABIs can have such calls: an x86_64-only policy is
/// returned as it is, without planning.
fn as_compiled(name: &str, p: Policy) -> Result<Policy, FilterError> {
    if p.arches().iter().all(|a| *a == Arch::X86_64) {
        return Ok(p);
    }
    let pl = plan::plan(&p).map_err(|source| FilterError::Plan {
        name: name.to_string(),
        source,
    })?;
    let omitted = compile::omitted(&pl).map_err(|source| FilterError::Compile {
        name: name.to_string(),
        source,
    })?;
    let mut unnamed: Vec<(Arch, &'static str)> = omitted
        .iter()
        .map(|e| (e.arch(), e.syscall().name))
        .collect();
    unnamed.sort();
    unnamed.dedup();
    Ok(p.with_unnamed(unnamed))
}

/// Builds the filter, from the cache when it has it.
pub fn build(
    req: &Request,
    cache: Option<&Cache>,
    want_policy: bool,
) -> Result<Built, FilterError> {
    if req.profile == "unconfined"
        && req.tweaks.is_empty()
        && req.notify == NotifyMode::Plain
        && req.bases.is_empty()
    {
        return build_source(req, None, cache, want_policy);
    }
    let src = builtin::read_source_with_bases(&req.profile, &req.bases)?;
    build_source(req, Some(src), cache, want_policy)
}

/// Builds the filter from a profile already read (an OCI configuration's `linux.seccomp`,
/// named by `src.name`); `None` when `req.profile` is `unconfined`.
pub fn build_source(
    req: &Request,
    src: Option<builtin::Source>,
    cache: Option<&Cache>,
    want_policy: bool,
) -> Result<Built, FilterError> {
    let plain = req.notify == NotifyMode::Plain;
    let unconfined = Built {
        name: "unconfined".into(),
        program: None,
        flags: 0,
        policy: None,
        cached: false,
        warnings: vec![],
    };
    let Some(src) = src else {
        return Ok(unconfined);
    };
    let key = cache.map(|_| key(req, &src));
    let cached = match (cache, &key) {
        (Some(c), Some(k)) => c.get(k),
        _ => None,
    };
    // A plain run with a cached program needs nothing else: no parsing, no resolving.
    // (A profile with `listenerPath` needs its policy: the path is in it.)
    let needs_listener = cached
        .as_ref()
        .is_some_and(|e| e.flags & load::FLAG_NEW_LISTENER != 0);
    if let (Some(e), true, false, false) = (&cached, plain, want_policy, needs_listener) {
        return Ok(Built {
            name: src.name.clone(),
            program: Some(e.program.clone()),
            flags: e.flags,
            policy: None,
            cached: true,
            warnings: named(&e.warnings, &src.name),
        });
    }
    let Some((name, policy, warnings)) = policy_from(&src, req)? else {
        return Ok(unconfined);
    };
    if let Some(e) = cached {
        return Ok(Built {
            warnings: named(&warnings, &name),
            name,
            program: Some(e.program),
            flags: e.flags,
            policy: Some(policy),
            cached: true,
        });
    }
    let instrumented = match req.notify {
        NotifyMode::Plain => policy.clone(),
        NotifyMode::Report => policy.map_actions(|a| match a {
            Action::Errno(_) | Action::KillProcess | Action::KillThread => Action::Notify,
            other => other,
        }),
        NotifyMode::Learn => policy.map_actions(|_| Action::Notify),
    };
    let pl = plan::plan(&instrumented).map_err(|source| FilterError::Plan {
        name: name.clone(),
        source,
    })?;
    let compiled = compile::compile(&pl).map_err(|source| FilterError::Compile {
        name: name.clone(),
        source,
    })?;
    let flags = load_flags(&policy, !plain || policy.listener().is_some());
    if let (Some(c), Some(k)) = (cache, &key) {
        c.put(
            k,
            &Entry {
                program: compiled.program.clone(),
                flags,
                warnings: warnings.clone(),
            },
        );
    }
    Ok(Built {
        warnings: named(&warnings, &name),
        name,
        program: Some(compiled.program),
        flags,
        policy: Some(policy),
        cached: false,
    })
}

/// The cache key of a request: the profile's bytes (a built-in's embedded text, or the
/// file's content), and every other input.
fn key(req: &Request, src: &builtin::Source) -> crate::cache::Key {
    let mut k = KeyBuilder::new();
    match src.builtin {
        // A built-in's text is part of this binary, not something anyone can choose: its
        // digest, computed at build time, tells versions apart without hashing 20 KiB on
        // every start (with SHA-256, half of the parent's instructions; with FNV-1a,
        // 30 µs).
        Some(b) => k.field(
            "builtin",
            format!("{} {:016x}", b.name, b.digest()).as_bytes(),
        ),
        None => k.field("profile", src.text.as_deref().unwrap_or("").as_bytes()),
    };
    for b in &src.bases {
        k.field("base", b.reference.as_deref().unwrap_or("").as_bytes())
            .field("base-text", b.text.as_bytes());
    }
    k.field("ignore-unknown", &[u8::from(req.read.ignore_unknown_names)])
        .field("errno-zero", &[u8::from(req.read.allow_errno_zero)])
        .field("caps", &req.caps.bits().to_le_bytes())
        .field(
            "kernel",
            req.kernel
                .map(|k| k.to_string())
                .unwrap_or_default()
                .as_bytes(),
        )
        .field("notify", format!("{:?}", req.notify).as_bytes());
    for a in &req.extra_arches {
        k.field("arch", a.short_name().as_bytes());
    }
    for t in &req.tweaks {
        let s = match t {
            Tweak::Allow(n) => format!("allow {n}"),
            Tweak::Deny(n, e) => format!("deny {n} {e}"),
        };
        k.field("tweak", s.as_bytes());
    }
    k.finish()
}

/// What the container's init may call once the command runs: reaping, reading its
/// signalfd, forwarding signals, closing the pipe that lets the command go, and leaving. Memory calls are there for the allocator.
const INIT_CALLS: &[&str] = &[
    "read",
    "close",
    "wait4",
    "waitid",
    "kill",
    "rt_sigreturn",
    "rt_sigprocmask",
    "restart_syscall",
    "exit",
    "exit_group",
    "brk",
    "mmap",
    "munmap",
    "mremap",
    "madvise",
    "futex",
    "sigaltstack",
];

/// The init's filter: [`INIT_CALLS`] allowed, anything else (and any other ABI) kills it,
/// and with it the container. Cached like any program.
pub fn init_filter(cache: Option<&Cache>) -> Result<Vec<SockFilter>, FilterError> {
    let name = "the container's init".to_string();
    let mut kb = KeyBuilder::new();
    kb.field("init", INIT_CALLS.join(" ").as_bytes());
    let key = kb.finish();
    if let Some(e) = cache.and_then(|c| c.get(&key)) {
        return Ok(e.program);
    }
    let pl = plan::Plan::allow_only(Arch::X86_64, INIT_CALLS, Action::KillProcess).map_err(
        |source| FilterError::Plan {
            name: name.clone(),
            source,
        },
    )?;
    let compiled = compile::compile(&pl).map_err(|source| FilterError::Compile { name, source })?;
    if let Some(c) = cache {
        c.put(
            &key,
            &Entry {
                program: compiled.program.clone(),
                flags: load::FLAG_TSYNC,
                warnings: vec![],
            },
        );
    }
    Ok(compiled.program)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bpf::{self, SeccompData};
    use syscage_policy::syscalls;

    fn request(tweaks: Vec<Tweak>, notify: NotifyMode) -> Request {
        Request {
            profile: "unconfined".into(),
            bases: vec![],
            read: ReadOptions::default(),
            caps: Context::docker_default().caps,
            kernel: None,
            extra_arches: vec![],
            tweaks,
            notify,
        }
    }

    fn decide(program: &[SockFilter], arch: Arch, name: &str) -> Action {
        let s = syscalls::lookup(name).unwrap();
        let data = SeccompData {
            nr: syscalls::number(s, arch).unwrap(),
            arch: arch.audit_arch().unwrap(),
            instruction_pointer: 0,
            args: [0; 6],
        };
        Action::from_ret(bpf::run(program, &data).unwrap())
    }

    #[test]
    fn a_deny_on_top_of_unconfined_is_a_filter_for_every_abi() {
        let deny = Tweak::deny("keyctl", false).unwrap();
        let b = build(&request(vec![deny], NotifyMode::Plain), None, false).unwrap();
        let p = b.program.expect("a filter");
        for arch in [Arch::X86_64, Arch::X86, Arch::X32] {
            assert_eq!(decide(&p, arch, "keyctl"), Action::Errno(1), "{arch}");
            assert_eq!(decide(&p, arch, "getpid"), Action::Allow, "{arch}");
        }
        // An allow on top of allowing everything is no filter at all.
        let b = build(
            &request(vec![Tweak::allow("keyctl")], NotifyMode::Plain),
            None,
            false,
        );
        assert!(b.unwrap().program.is_none());
    }

    #[test]
    fn a_supervisor_of_unconfined_admits_every_abi() {
        for mode in [NotifyMode::Report, NotifyMode::Learn] {
            let b = build(&request(vec![], mode), None, false).unwrap();
            let p = b.program.expect("a filter to watch");
            let want = if mode == NotifyMode::Learn {
                Action::Notify
            } else {
                Action::Allow
            };
            for arch in [Arch::X86_64, Arch::X86, Arch::X32] {
                assert_eq!(decide(&p, arch, "getpid"), want, "{mode:?} {arch}");
            }
        }
    }
}
