//! `syscage profile list|show|check|lint|diff|convert|groups`.

pub(crate) mod convert;
mod render;

use super::CliError;
use clap::{Args, Subcommand};
use std::fmt::Write as _;
use syscage_policy::arch::Arch;
use syscage_policy::eval::{self, DecidedBy};
use syscage_policy::profile::ReadOptions;
use syscage_policy::tweak::Tweak;
use syscage_policy::{builtin, errno, groups, lint, plan, syscalls, Action, Policy};
use syscage_seccomp::bpf::{self, SeccompData};
use syscage_seccomp::compile;
use syscage_seccomp::filter::{self, Request};

#[derive(Subcommand)]
#[command(defer = true)]
pub enum ProfileCommand {
    /// List the built-in profiles and what each is for.
    List,
    /// Show a profile resolved for a capability set and ABIs: its rules, what was left out
    /// and why; libseccomp's pseudo filter code with --pfc; the raw program with --bpf.
    Show(Box<ShowArgs>),
    /// Which action the filter takes for one call, and which rule decided.
    Check(Box<CheckArgs>),
    /// Warn about what sandboxes were bypassed through. Exit 0: clean, 1: warnings, 2: errors.
    /// On a terminal a long finding wraps to its width; otherwise each finding is one line,
    /// for scripts.
    Lint(Box<Target>),
    /// What one profile allows that the other does not (`+` only B, `-` only A, `~` both
    /// refuse, differently), grouped by what changed. On a terminal the calls of a group
    /// share wrapped lines; otherwise each is a line of its own (`+ write`), for scripts.
    /// Exit 0 when they decide alike, 1 when they differ.
    Diff {
        /// The first profile (a built-in name or a file).
        a: String,
        /// The second profile.
        b: String,
        /// A base profile either names (see `--base` of `profile show`).
        #[arg(long = "base", value_name = "[REF=]FILE")]
        base: Vec<String>,
    },
    /// Write a profile in another format: `docker` (Docker's JSON, as written, with
    /// includes/excludes), `oci` (the OCI `linux.seccomp` object that containerd and CRI-O
    /// load for Kubernetes' `seccompProfile: {type: Localhost}`), or `spo` (a Security
    /// Profiles Operator SeccompProfile). `oci` and `spo` are resolved for a capability set
    /// and ABIs, as Docker resolves a profile before handing it to runc.
    Convert(Box<convert::ConvertArgs>),
    /// List the system call groups usable in --seccomp-allow/--seccomp-deny.
    Groups {
        /// Show only this group (e.g. @mount).
        group: Option<String>,
    },
}

// A profile and the context to resolve it in (no doc comment: flattened into a deferred
// subcommand, its text would replace the subcommand's own description).
#[derive(Args)]
pub struct Target {
    /// A built-in name (default, contained), a Docker/OCI JSON file, or a Security
    /// Profiles Operator SeccompProfile (YAML or JSON).
    profile: String,
    /// The file of a SeccompProfile's baseProfileName: FILE, a SeccompProfile found by its
    /// metadata.name, or REF=FILE for the reference REF (an `oci://` artifact pulled into
    /// FILE). Repeat for a base's own base.
    #[arg(long = "base", value_name = "[REF=]FILE")]
    base: Vec<String>,
    /// Add a capability to Docker's default set (as `run --cap-add`).
    #[arg(long = "cap-add", alias = "cap", value_name = "CAP")]
    cap_add: Vec<String>,
    /// Drop a capability (or ALL).
    #[arg(long = "cap-drop", value_name = "CAP")]
    cap_drop: Vec<String>,
    /// Admit another ABI (x86, x32).
    #[arg(long = "arch", value_name = "ARCH")]
    arch: Vec<String>,
    /// Skip unknown system call names.
    #[arg(long = "seccomp-ignore-unknown")]
    ignore_unknown: bool,
    /// Accept ERRNO(0).
    #[arg(long = "seccomp-allow-errno-zero")]
    allow_errno_zero: bool,
    /// Allow a system call or @group on top of the profile (as `run --seccomp-allow`).
    #[arg(long = "seccomp-allow", value_name = "SYSCALL|@GROUP")]
    seccomp_allow: Vec<String>,
    /// Deny a system call or @group on top of the profile (as `run --seccomp-deny`).
    #[arg(long = "seccomp-deny", value_name = "SYSCALL|@GROUP[:ERRNO]")]
    seccomp_deny: Vec<String>,
}

#[derive(Args)]
pub struct ShowArgs {
    #[command(flatten)]
    target: Target,
    /// Print libseccomp's pseudo filter code.
    #[arg(long)]
    pfc: bool,
    /// Write the raw BPF program to FILE (loadable by `bwrap --seccomp`).
    #[arg(long, value_name = "FILE")]
    bpf: Option<String>,
    /// Print the profile itself as Docker/OCI JSON.
    #[arg(long)]
    json: bool,
    /// Print the resolved policy as an OCI `linux.seccomp` object (what Docker gives runc),
    /// every condition in a form runc and crun read as syscage does.
    #[arg(long)]
    oci: bool,
    /// With --oci: the profile's conditions as written, as Docker hands them to runc
    /// (runtimes that compare all 64 bits of an argument may read them as less than
    /// syscage does; for comparing with them).
    #[arg(long, requires = "oci")]
    as_written: bool,
    /// With --json: the profile to load in another runtime (crun, runc) with `syscage
    /// agent` at `listenerPath`: every call it denies notified, answered by the agent.
    #[arg(long, requires = "json", conflicts_with = "notify_all")]
    notify_denials: bool,
    /// With --json: the same with every call notified (but `write`), for the agent to learn.
    #[arg(long, requires = "json")]
    notify_all: bool,
    /// The agent's socket, written as `listenerPath` (default /run/syscage/agent.sock).
    #[arg(long, value_name = "PATH")]
    listener: Option<String>,
    /// Add KEY=VALUE to `listenerMetadata` (report=FILE, learn=FILE; `{id}` is the
    /// container's id).
    #[arg(long, value_name = "KEY=VALUE")]
    metadata: Vec<String>,
}

#[derive(Args)]
pub struct CheckArgs {
    #[command(flatten)]
    target: Target,
    /// The system call, by name or number.
    syscall: String,
    /// Up to six arguments (decimal, 0x hex or 0o octal; a negative one after `--`).
    #[arg(value_name = "ARG")]
    args: Vec<String>,
    /// The ABI of the call (x86_64, x86, x32); default x86_64.
    #[arg(long = "call-arch", value_name = "ARCH", default_value = "x86_64")]
    call_arch: String,
}

pub fn run(cmd: ProfileCommand) -> Result<i32, CliError> {
    match cmd {
        ProfileCommand::List => {
            for b in builtin::BUILTINS {
                outln!("{:<11} {}", b.name, b.description);
            }
            Ok(0)
        }
        ProfileCommand::Show(a) => show(*a),
        ProfileCommand::Check(a) => check(*a),
        ProfileCommand::Lint(t) => run_lint(*t),
        ProfileCommand::Groups { group } => show_groups(group),
        ProfileCommand::Diff { a, b, base } => diff(&a, &b, &base),
        ProfileCommand::Convert(a) => convert::run(*a),
    }
}

fn request(t: &Target) -> Result<Request, CliError> {
    let last = syscage_runtime::exec::last_cap();
    let caps = syscage_runtime::config::resolve_caps(&t.cap_add, &t.cap_drop, last)
        .map_err(CliError::setup)?;
    let mut extra_arches = Vec::new();
    for s in &t.arch {
        extra_arches.push(parse_arch("--arch", s)?);
    }
    let mut tweaks: Vec<Tweak> = t.seccomp_allow.iter().map(|s| Tweak::allow(s)).collect();
    for d in &t.seccomp_deny {
        tweaks.push(Tweak::deny(d, t.allow_errno_zero).map_err(CliError::setup)?);
    }
    Ok(Request {
        profile: t.profile.clone(),
        bases: t.base.clone(),
        read: ReadOptions {
            ignore_unknown_names: t.ignore_unknown,
            allow_errno_zero: t.allow_errno_zero,
        },
        caps,
        kernel: super::run::kernel_version(),
        extra_arches,
        tweaks,
        notify: filter::NotifyMode::Plain,
    })
}

/// The profile as written (a built-in, a file, and its bases), for the linter and
/// `--json`.
fn load(req: &Request) -> Result<builtin::Loaded, CliError> {
    let src = builtin::read_source_with_bases(&req.profile, &req.bases).map_err(CliError::setup)?;
    builtin::parse_source(&src, req.read).map_err(CliError::setup)
}

fn parse_arch(flag: &str, s: &str) -> Result<Arch, CliError> {
    Arch::parse(s).filter(|a| a.is_x86()).ok_or_else(|| {
        CliError::setup(format!(
            "{flag} `{s}`: unknown architecture (expected x86_64, x86 or x32)"
        ))
    })
}

fn resolved(t: &Target) -> Result<(Request, String, Policy), CliError> {
    let req = request(t)?;
    match filter::policy(&req).map_err(CliError::setup)? {
        Some((name, p)) => Ok((req, name, p)),
        None => Err(CliError::setup(format!(
            "profile `{}` has no filter: nothing to show or check",
            t.profile
        ))),
    }
}

fn show(a: ShowArgs) -> Result<i32, CliError> {
    if a.notify_denials || a.notify_all {
        let t = &a.target;
        if !(t.base.is_empty() && t.seccomp_allow.is_empty() && t.seccomp_deny.is_empty()) {
            // The agent resolves the profile again from what the metadata says.
            return Err(CliError::setup(
                "--base, --seccomp-allow and --seccomp-deny do not go with --notify-denials or --notify-all: the agent resolves the profile from its file, capabilities and ABIs alone",
            ));
        }
        let (_, _, p) = resolved(&a.target)?;
        let how = super::agent::Resolution {
            profile: &t.profile,
            cap_add: &t.cap_add,
            cap_drop: &t.cap_drop,
            arch: &t.arch,
            ignore_unknown: t.ignore_unknown,
            errno_zero: t.allow_errno_zero,
        };
        out!(
            "{}",
            super::agent::paired(&p, how, a.notify_all, a.listener.as_deref(), &a.metadata)?
        );
        return Ok(0);
    }
    if a.listener.is_some() || !a.metadata.is_empty() {
        return Err(CliError::setup(
            "--listener and --metadata go with --notify-denials or --notify-all",
        ));
    }
    if a.json {
        let text = match builtin::get(&a.target.profile) {
            Some(b) => b.text().unwrap_or("{}\n").to_string(),
            None => {
                let l = load(&request(&a.target)?)?;
                match l.profile {
                    Some(p) => syscage_policy::profile::to_json(&p).map_err(|e| {
                        CliError::setup(format!("cannot write profile `{}`: {e}", a.target.profile))
                    })?,
                    None => String::new(),
                }
            }
        };
        out!("{text}");
        return Ok(0);
    }
    let (_, name, p) = resolved(&a.target)?;
    if a.oci {
        let text = syscage_policy::profile::policy_to_oci(&p, a.as_written)
            .map_err(|e| CliError::setup(format!("cannot write profile `{name}`: {e}")))?;
        out!("{text}");
        return Ok(0);
    }
    let pl = plan::plan(&p)
        .map_err(|e| CliError::setup(format!("cannot compile profile `{name}`: {e}")))?;
    let compiled = compile::compile(&pl)
        .map_err(|e| CliError::setup(format!("cannot compile profile `{name}`: {e}")))?;
    if let Some(path) = &a.bpf {
        write_bpf(path, &name, &compiled)?;
        if !a.pfc {
            return Ok(0);
        }
    }
    if a.pfc {
        let text = compile::pfc(&pl).map_err(CliError::setup)?;
        if let Some((action, max)) = pl.newer() {
            outln!("# before this program, syscage's prefix answers {action} for calls newer than the profile:");
            for (arch, m) in max {
                outln!("#   {arch}: numbers above {m}");
            }
        }
        for e in pl.exceptions() {
            let vals: Vec<String> = e.values().iter().map(|v| format!("{v:#x}")).collect();
            outln!("# before this program, syscage's prefix answers {} for {} with arg{} in {{{}}} (the program allows {} outright)", e.action(), e.syscall().name, e.index(), vals.join(", "), e.syscall().name);
        }
        out!("{text}");
        return Ok(0);
    }
    out!("{}", render::listing(&name, &p, &pl, &compiled));
    Ok(0)
}

/// `--bpf FILE`: the raw program, and one line saying what was written.
fn write_bpf(path: &str, name: &str, compiled: &compile::Compiled) -> Result<(), CliError> {
    let bytes = bpf::to_bytes(&compiled.program);
    std::fs::write(path, &bytes).map_err(|e| {
        CliError::setup(format!(
            "--bpf `{path}`: cannot write the program: {}",
            errno::io_text(&e)
        ))
    })?;
    outln!(
        "wrote the program of profile `{name}` to {path}: {} BPF instructions, {} bytes",
        compiled.program.len(),
        bytes.len()
    );
    Ok(())
}

fn parse_number(s: &str) -> Option<u64> {
    let t = s.trim();
    if let Some(h) = t.strip_prefix("0x").or_else(|| t.strip_prefix("0X")) {
        return u64::from_str_radix(&h.replace('_', ""), 16).ok();
    }
    if let Some(o) = t.strip_prefix("0o") {
        return u64::from_str_radix(o, 8).ok();
    }
    if let Some(n) = t.strip_prefix('-') {
        return n.parse::<u64>().ok().map(|v| v.wrapping_neg());
    }
    t.parse().ok()
}

fn check(a: CheckArgs) -> Result<i32, CliError> {
    let t = a.target;
    // Checking an i386 call does not admit i386 (--arch does): the answer is what the
    // filter does with such a call.
    let arch = parse_arch("--call-arch", &a.call_arch)?;
    let (_, name, p) = resolved(&t)?;
    let s = match parse_number(&a.syscall) {
        Some(nr) => syscalls::by_number(arch, nr as u32)
            .ok_or_else(|| CliError::setup(format!("no system call has number {nr} on {arch}")))?,
        None => syscalls::lookup(&a.syscall).ok_or_else(|| {
            let hint = syscalls::suggest(&a.syscall)
                .map(|s| format!(" (did you mean `{s}`?)"))
                .unwrap_or_default();
            CliError::setup(format!("unknown system call `{}`{hint}", a.syscall))
        })?,
    };
    if a.args.len() > 6 {
        return Err(CliError::setup("a system call has at most six arguments"));
    }
    let mut args = [0u64; 6];
    for (i, v) in a.args.iter().enumerate() {
        args[i] = parse_number(v).ok_or_else(|| {
            CliError::setup(format!(
                "argument {i} `{v}`: not a number (decimal, 0x hex or 0o octal)"
            ))
        })?;
    }
    let nr = syscalls::number(s, arch)
        .ok_or_else(|| CliError::setup(format!("`{}` does not exist on {arch}", s.name)))?;
    let decision = eval::decide_syscall(&p, arch, s, &args);
    // What the compiled program really does, run instruction by instruction.
    let pl = plan::plan(&p)
        .map_err(|e| CliError::setup(format!("cannot compile profile `{name}`: {e}")))?;
    let compiled = compile::compile(&pl)
        .map_err(|e| CliError::setup(format!("cannot compile profile `{name}`: {e}")))?;
    let regs = args.map(|v| v & syscage_policy::cond::width_mask(arch.compared_bits()));
    let data = SeccompData::new(arch, nr, regs);
    let ret = bpf::run(&compiled.program, &data).map_err(CliError::setup)?;
    let real = Action::from_ret(ret);
    let mut line = format!("{real} by {}", decision.by.describe(&p));
    if decision.by == DecidedBy::Default {
        let _ = write!(line, "{}", unmatched(&p, &pl, arch, s));
    }
    outln!("{line}");
    if real != decision.action {
        let omitted = compiled
            .omitted
            .iter()
            .any(|e| e.syscall().name == s.name && e.arch() == arch);
        if omitted {
            outln!("note: libseccomp {} cannot name `{}` on {arch}; the profile's rule ({}) is left out", compile::libseccomp_version(), s.name, decision.action);
            return Ok(0);
        }
        return Err(CliError::setup(format!(
            "the policy says {} but the compiled program does {real}: please report this bug",
            decision.action
        )));
    }
    if let Action::Errno(e) = real {
        if errno::name(e).is_none() {
            outln!("note: {e} is not an errno Linux defines");
        }
    }
    Ok(0)
}

/// Why no rule for a call matched: ` (none of the rules for ioctl matches: ...)`, each
/// entry's conditions (alternatives joined by `||`), or, when the rules admit every value
/// of one argument but a few, those values.
fn unmatched(p: &Policy, pl: &plan::Plan, arch: Arch, s: &syscalls::SyscallInfo) -> String {
    let rules: Vec<&syscage_policy::Rule> =
        p.rules().iter().filter(|r| r.name() == s.name).collect();
    if rules.is_empty() {
        return String::new();
    }
    let place = |r: &syscage_policy::Rule| match r.origin() {
        syscage_policy::Origin::Profile { index, .. } => format!("rule {index}"),
        other => other.to_string(),
    };
    let mut places: Vec<String> = Vec::new();
    for r in &rules {
        let w = place(r);
        if !places.contains(&w) {
            places.push(w);
        }
    }
    if let Some(e) = pl
        .exceptions()
        .iter()
        .find(|e| arch == Arch::X86_64 && e.syscall().name == s.name)
    {
        let vals: Vec<String> = e.values().iter().map(|v| format!("{v:#x}")).collect();
        let nums: Vec<&str> = places
            .iter()
            .filter_map(|w| w.strip_prefix("rule "))
            .collect();
        let contiguous = nums.len() == places.len()
            && nums
                .windows(2)
                .all(|w| w[0].parse::<usize>().ok().map(|n| n + 1) == w[1].parse().ok());
        let (who, verb) = match (places.as_slice(), contiguous) {
            ([one], _) => (one.clone(), "admits"),
            ([..], true) => (
                format!("rules {} to {}", nums[0], nums[nums.len() - 1]),
                "admit",
            ),
            _ => (places.join(", "), "admit"),
        };
        return format!(
            " ({who} {verb} every arg{} of {} but {})",
            e.index(),
            s.name,
            vals.join(", ")
        );
    }
    let needs: Vec<String> = places
        .iter()
        .map(|w| {
            let alts: Vec<String> = rules
                .iter()
                .filter(|r| place(r) == *w)
                .map(|r| {
                    let conds: Vec<String> = r.conds().iter().map(|c| c.to_string()).collect();
                    conds.join(" && ")
                })
                .collect();
            format!("{w} needs {}", alts.join(" || "))
        })
        .collect();
    format!(
        " (none of the rules for {} matches: {})",
        s.name,
        needs.join("; ")
    )
}

fn run_lint(t: Target) -> Result<i32, CliError> {
    let req = request(&t)?;
    let loaded = load(&req)?;
    let Some(profile) = loaded.profile else {
        outln!(
            "{}: no filter: every system call the capabilities allow is open",
            loaded.name
        );
        return Ok(1);
    };
    let (_, _, policy) = resolved(&t)?;
    let findings = lint::lint(&profile, &policy);
    out!("{}", render::findings(&findings));
    if findings.is_empty() {
        outln!("{}: no findings", loaded.name);
    }
    Ok(lint::exit_code(&findings))
}

fn show_groups(group: Option<String>) -> Result<i32, CliError> {
    match group {
        Some(g) => {
            let members = groups::expand(&g).map_err(CliError::setup)?;
            let grp = groups::get(&g);
            if let Some(grp) = grp {
                outln!("{}  {}", grp.name, grp.description);
            }
            let names: Vec<&str> = members.iter().map(|s| s.name).collect();
            outln!("{}", names.join(" "));
        }
        None => {
            for g in groups::all() {
                let n = groups::expand(g.name).map(|m| m.len()).unwrap_or(0);
                outln!("{:<16} {:>3} calls  {}", g.name, n, g.description);
            }
        }
    }
    Ok(0)
}

fn diff(a: &str, b: &str, bases: &[String]) -> Result<i32, CliError> {
    let target = |name: &str, base: Vec<String>| Target {
        profile: name.to_string(),
        base,
        cap_add: vec![],
        cap_drop: vec![],
        arch: vec![],
        ignore_unknown: false,
        allow_errno_zero: false,
        seccomp_allow: vec![],
        seccomp_deny: vec![],
    };
    // Each profile gets the bases it names; each base must be named by one of them.
    let mut used = vec![false; bases.len()];
    let mut load = |name: &str| -> Result<Policy, CliError> {
        let src = builtin::read_source_with_bases(name, bases).map_err(CliError::setup)?;
        let mine: Vec<String> = match &src.text {
            Some(t) if !bases.is_empty() => {
                match syscage_policy::profile::parse_with_bases(
                    t,
                    ReadOptions::default(),
                    &src.bases,
                ) {
                    Ok((_, u)) => u.iter().map(|i| bases[*i].clone()).collect(),
                    Err(_) => vec![],
                }
            }
            _ => vec![],
        };
        for (i, b) in bases.iter().enumerate() {
            used[i] |= mine.contains(b);
        }
        let req = request(&target(name, mine))?;
        Ok(match filter::policy(&req).map_err(CliError::setup)? {
            Some((_, p)) => p,
            None => Policy::allow_all(),
        })
    };
    let (pa, pb) = (load(a)?, load(b)?);
    if let Some(i) = used.iter().position(|u| !u) {
        return Err(CliError::setup(format!(
            "--base `{}`: neither `{a}` nor `{b}` names it as its base (spec.baseProfileName)",
            bases[i]
        )));
    }
    let d = syscage_policy::diff::diff(&pa, &pb);
    out!("{}", render::diff(a, b, &d));
    Ok(i32::from(!d.is_empty()))
}
