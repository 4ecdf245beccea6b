//! Plan to BPF through libseccomp: one filter context per ABI (so that rules whose
//! argument cubes differ per ABI stay apart), merged, binary-tree optimised, exported as
//! raw BPF; then the newer-than-profile stub in front.
//!
//! Rules are added with `seccomp_rule_add_exact` so libseccomp never rewrites them
//! (for instance into i386 `socketcall` forms): what the plan says is what runs.

use crate::bpf::{self, SockFilter};
use libseccomp::{
    ScmpAction, ScmpArch, ScmpArgCompare, ScmpCompareOp, ScmpFilterContext, ScmpSyscall,
};
use std::io::{Read, Seek};
use std::os::fd::AsFd;
use syscage_policy::arch::{AUDIT_ARCH_I386, AUDIT_ARCH_X86_64, X32_SYSCALL_BIT};
use syscage_policy::plan::{Entry, Plan};
use syscage_policy::{Action, Arch};
use thiserror::Error;

#[derive(Debug, Error)]
pub enum CompileError {
    #[error("libseccomp refused {what}: {source}")]
    Libseccomp {
        what: String,
        #[source]
        source: libseccomp::error::SeccompError,
    },
    #[error("libseccomp {version} does not know `{syscall}` on {arch}, and the rule ({action}) is stricter than the default action ({default}): refusing to build a filter that would let it through; hint: drop {arch} from the profile's architectures")]
    UnknownToLibseccomp {
        syscall: &'static str,
        arch: Arch,
        action: Action,
        default: Action,
        version: String,
    },
    #[error("the compiled program decides {got} for `{syscall}` on {arch} with arguments {args:x?}, the policy says {want}: please report this bug")]
    Mismatch {
        syscall: &'static str,
        arch: Arch,
        args: [u64; 6],
        got: Action,
        want: Action,
    },
    #[error("cannot export the BPF program: {}", syscage_policy::errno::io_text(.0))]
    Export(std::io::Error),
    #[error("the exported program is invalid: {0}")]
    Invalid(#[from] bpf::BpfError),
    #[error(transparent)]
    Prefix(#[from] crate::prefix::TooLong),
}

fn lib(
    what: impl FnOnce() -> String,
) -> impl FnOnce(libseccomp::error::SeccompError) -> CompileError {
    move |source| CompileError::Libseccomp {
        what: what(),
        source,
    }
}

/// libseccomp's view of an action.
pub fn scmp_action(a: Action) -> ScmpAction {
    match a {
        Action::KillProcess => ScmpAction::KillProcess,
        Action::KillThread => ScmpAction::KillThread,
        Action::Trap => ScmpAction::Trap,
        Action::Errno(e) => ScmpAction::Errno(i32::from(e)),
        Action::Notify => ScmpAction::Notify,
        Action::Trace(v) => ScmpAction::Trace(v),
        Action::Log => ScmpAction::Log,
        Action::Allow => ScmpAction::Allow,
    }
}

fn scmp_arch(a: Arch) -> ScmpArch {
    match a {
        Arch::X86 => ScmpArch::X86,
        Arch::X32 => ScmpArch::X32,
        _ => ScmpArch::X8664,
    }
}

/// The version of the libseccomp syscage runs with, e.g. `2.5.4`.
pub fn libseccomp_version() -> String {
    libseccomp::ScmpVersion::current()
        .map(|v| format!("{}.{}.{}", v.major, v.minor, v.micro))
        .unwrap_or_else(|_| "unknown".to_string())
}

/// A compiled program, and the plan entries left out because libseccomp cannot name the
/// call on a foreign ABI (each more permissive than the default action, which the call
/// gets instead).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Compiled {
    pub program: Vec<SockFilter>,
    pub omitted: Vec<Entry>,
}

/// Compiles a plan into the program the kernel will run.
pub fn compile(plan: &Plan) -> Result<Compiled, CompileError> {
    let (mut ctx, omitted) = build_context(plan)?;
    // Attributes are set after merging: seccomp_merge needs them equal, then the result
    // gets the binary tree (SCMP_FLTATR_CTL_OPTIMIZE = 2).
    ctx.set_ctl_optimize(2)
        .map_err(lib(|| "binary-tree optimisation".to_string()))?;
    let program = export(&ctx)?;
    let mut out = crate::prefix::prefix(plan)?;
    out.extend(program);
    bpf::validate(&out)?;
    let effective = plan.without(&omitted);
    verify(&effective, &out)?;
    Ok(Compiled {
        program: out,
        omitted,
    })
}

/// The entries of `plan` the compiled program leaves out (see [`Compiled::omitted`]),
/// without exporting a program.
pub fn omitted(plan: &Plan) -> Result<Vec<Entry>, CompileError> {
    build_context(plan).map(|(_, o)| o)
}

/// Runs the program over every call of every admitted ABI, with zero arguments and with
/// the values each rule looks for, and checks each answer against the plan. A compile is
/// cached, so this costs a few milliseconds once per policy; it catches a libseccomp that
/// numbers or merges a rule differently than syscage expects.
pub fn verify(plan: &Plan, program: &[SockFilter]) -> Result<(), CompileError> {
    // ABIs the plan does not admit are killed, whatever the call.
    let foreign = [
        (Arch::X86, AUDIT_ARCH_I386, 20u32),
        (Arch::X32, AUDIT_ARCH_X86_64, X32_SYSCALL_BIT | 39),
        (Arch::Aarch64, 0xC000_00B7, 172),
    ];
    for (arch, audit, nr) in foreign
        .into_iter()
        .filter(|(a, _, _)| !plan.arches().contains(a))
    {
        let high = nr & X32_SYSCALL_BIT;
        for nr in [nr, high, high | 999] {
            let data = bpf::SeccompData {
                nr,
                arch: audit,
                instruction_pointer: 0,
                args: [0; 6],
            };
            let got = Action::from_ret(bpf::run(program, &data)?);
            if got != Action::KillProcess {
                return Err(CompileError::Mismatch {
                    syscall: "(any)",
                    arch,
                    args: [0; 6],
                    got,
                    want: Action::KillProcess,
                });
            }
        }
    }
    for &arch in plan.arches() {
        for s in syscage_policy::syscalls::all() {
            let Some(nr) = syscage_policy::syscalls::number(s, arch) else {
                continue;
            };
            let mut cases = cases_for(
                plan.entries()
                    .iter()
                    .filter(|e| e.arch() == arch && e.nr() == nr),
            );
            // An excepted call: each value, with upper bits, and its neighbours, with the
            // other arguments at zero and at all ones.
            for e in plan
                .exceptions()
                .iter()
                .filter(|e| arch == Arch::X86_64 && e.nr() == nr)
            {
                for v in e.values() {
                    for x in [
                        *v,
                        v | 1 << 32,
                        v ^ 1,
                        v.wrapping_add(1),
                        v | !width(e.bits()),
                    ] {
                        let mut a = [0u64; 6];
                        a[usize::from(e.index())] = x;
                        cases.push(a);
                        let mut b = [u64::MAX; 6];
                        b[usize::from(e.index())] = x;
                        cases.push(b);
                    }
                }
            }
            for args in cases {
                let args = args.map(|v| v & syscage_policy::cond::width_mask(arch.compared_bits()));
                let data = bpf::SeccompData::new(arch, nr, args);
                let got = Action::from_ret(bpf::run(program, &data)?);
                let want = plan.decide(arch, nr, &args);
                if got != want {
                    return Err(CompileError::Mismatch {
                        syscall: s.name,
                        arch,
                        args,
                        got,
                        want,
                    });
                }
            }
        }
    }
    for (arch, nr) in boundary_numbers(plan) {
        let data = bpf::SeccompData::new(arch, nr, [0; 6]);
        let got = Action::from_ret(bpf::run(program, &data)?);
        let want = plan.decide(arch, nr, &[0; 6]);
        if got != want {
            return Err(CompileError::Mismatch {
                syscall: "(number boundary)",
                arch,
                args: [u64::from(nr), 0, 0, 0, 0, 0],
                got,
                want,
            });
        }
    }
    Ok(())
}

fn new_context(plan: &Plan) -> Result<ScmpFilterContext, CompileError> {
    let mut ctx =
        ScmpFilterContext::new(scmp_action(plan.default_action())).map_err(lib(|| {
            format!("the default action {}", plan.default_action())
        }))?;
    // Foreign ABIs are killed, the whole process: KILL_THREAD would leave a
    // multi-threaded program running with a dead thread.
    ctx.set_act_badarch(ScmpAction::KillProcess)
        .map_err(lib(|| "the bad-architecture action".to_string()))?;
    // syscage sets no_new_privs itself, before loading (the program is exported).
    ctx.set_ctl_nnp(false)
        .map_err(lib(|| "the no_new_privs attribute".to_string()))?;
    Ok(ctx)
}

/// Adds one entry; `Ok(false)` when it was left out (see [`unknown`]).
fn add(ctx: &mut ScmpFilterContext, plan: &Plan, e: &Entry) -> Result<bool, CompileError> {
    let syscall = if e.arch() == Arch::X86_64 {
        ScmpSyscall::from(e.nr() as i32)
    } else {
        // A context for another ABI translates numbers through their x86_64 names
        // (arch_syscall_translate), so the call is named by its x86_64 number, or by
        // libseccomp's pseudo number for calls x86_64 lacks (socketcall, ipc...). The
        // verification pass after export checks libseccomp landed on the right number.
        match ScmpSyscall::from_name(e.syscall().name) {
            Ok(n) => n,
            Err(_) => return unknown(plan, e),
        }
    };
    let cmps: Vec<ScmpArgCompare> = e
        .checks()
        .iter()
        .map(|c| {
            ScmpArgCompare::new(
                u32::from(c.index()),
                ScmpCompareOp::MaskedEqual(c.mask()),
                c.value(),
            )
        })
        .collect();
    let what = || {
        format!(
            "the rule {} {} on {}",
            e.action(),
            e.syscall().name,
            e.arch()
        )
    };
    let added = if cmps.is_empty() {
        ctx.add_rule_exact(scmp_action(e.action()), syscall)
    } else if e.arch() == Arch::X86
        && syscage_policy::syscalls::multiplexed(e.syscall().name).is_some()
    {
        // libseccomp cannot add a conditional rule for a multiplexed call on i386 without
        // also adding its socketcall/ipc form; the plan has that form too (the resolver
        // derives it), and `verify` checks the two agree.
        ctx.add_rule_conditional(scmp_action(e.action()), syscall, &cmps)
    } else {
        ctx.add_rule_conditional_exact(scmp_action(e.action()), syscall, &cmps)
    };
    match added {
        Ok(_) => Ok(true),
        // On a foreign ABI libseccomp's older table may lack the call (EDOM, EFAULT).
        Err(_) if e.arch() != Arch::X86_64 => unknown(plan, e),
        Err(err) => Err(lib(what)(err)),
    }
}

/// A call libseccomp cannot name on a foreign ABI: leaving its rule out gives the call
/// the default action. Fine when the rule was more permissive than the default (an
/// allow-list loses an entry), refused when it was stricter (a deny-list would let the
/// call through).
fn unknown(plan: &Plan, e: &Entry) -> Result<bool, CompileError> {
    if strictness(e.action()) <= strictness(plan.default_action()) {
        tracing::info!(
            "libseccomp does not know `{}` on {}: it gets the default action {}",
            e.syscall().name,
            e.arch(),
            plan.default_action()
        );
        return Ok(false);
    }
    Err(CompileError::UnknownToLibseccomp {
        syscall: e.syscall().name,
        arch: e.arch(),
        action: e.action(),
        default: plan.default_action(),
        version: libseccomp_version(),
    })
}

/// Higher is stricter, in the kernel's precedence order (seccomp(2)).
pub fn strictness(a: Action) -> u8 {
    match a {
        Action::KillProcess => 7,
        Action::KillThread => 6,
        Action::Trap => 5,
        Action::Errno(_) => 4,
        Action::Notify => 3,
        Action::Trace(_) => 2,
        Action::Log => 1,
        Action::Allow => 0,
    }
}

fn export(ctx: &ScmpFilterContext) -> Result<Vec<SockFilter>, CompileError> {
    // seccomp_export_bpf writes to an fd; an anonymous temporary file keeps it in memory.
    let mut f = tempfile()?;
    ctx.export_bpf(f.as_fd())
        .map_err(lib(|| "exporting the program".to_string()))?;
    let mut bytes = Vec::new();
    f.rewind().map_err(CompileError::Export)?;
    f.read_to_end(&mut bytes).map_err(CompileError::Export)?;
    bpf::from_bytes(&bytes)
        .ok_or_else(|| CompileError::Export(std::io::Error::other("length is not a multiple of 8")))
}

fn tempfile() -> Result<std::fs::File, CompileError> {
    nix::sys::memfd::memfd_create("syscage-bpf", nix::sys::memfd::MFdFlags::MFD_CLOEXEC)
        .map(std::fs::File::from)
        .map_err(|e| CompileError::Export(e.into()))
}

// The prefix lives in `prefix.rs`.

/// One libseccomp context per admitted ABI, merged; with the entries left out.
fn build_context(plan: &Plan) -> Result<(ScmpFilterContext, Vec<Entry>), CompileError> {
    let mut merged: Option<ScmpFilterContext> = None;
    let mut omitted = Vec::new();
    for &arch in plan.arches() {
        let mut ctx = new_context(plan)?;
        if arch != Arch::X86_64 {
            ctx.add_arch(scmp_arch(arch))
                .map_err(lib(|| format!("ABI {arch}")))?;
            ctx.remove_arch(ScmpArch::Native)
                .map_err(lib(|| "removing the native ABI".to_string()))?;
        }
        for e in plan.entries().iter().filter(|e| e.arch() == arch) {
            if !add(&mut ctx, plan, e)? {
                omitted.push(e.clone());
            }
        }
        match &mut merged {
            None => merged = Some(ctx),
            Some(m) => {
                m.merge(ctx)
                    .map_err(lib(|| format!("merging the {arch} rules")))?;
            }
        }
    }
    let ctx = match merged {
        Some(c) => c,
        None => new_context(plan)?,
    };
    Ok((ctx, omitted))
}

fn width(bits: u32) -> u64 {
    if bits >= 64 {
        u64::MAX
    } else {
        (1u64 << bits) - 1
    }
}

/// Call numbers around every boundary of the newer-than-profile check, on each ABI.
fn boundary_numbers(plan: &Plan) -> Vec<(Arch, u32)> {
    let mut out = Vec::new();
    if let Some((_, max)) = plan.newer() {
        for (arch, m) in max {
            for d in [0u32, 1, 2] {
                out.push((*arch, m.saturating_add(d)));
                out.push((*arch, m.saturating_sub(d)));
            }
        }
    }
    for low in [0u32, 511, 512, 547, 548, 0x3fff_ffff] {
        out.push((Arch::X32, X32_SYSCALL_BIT | low));
        out.push((Arch::X86_64, low));
        out.push((Arch::X86, low));
    }
    out.retain(|(a, _)| plan.arches().contains(a));
    out
}

/// Argument vectors that exercise every comparison of a call's entries: per argument, 0,
/// each checked value, the value with its lowest masked bit flipped, and the value with
/// every unmasked bit set; then every combination across arguments (at most 4096, else
/// each entry's own vectors). The combinations matter: libseccomp 2.5.4 can forget to
/// reload an argument when a comparison falls through to a sibling on another argument,
/// which shows only when one argument matches and another does not.
fn cases_for<'a>(entries: impl Iterator<Item = &'a Entry>) -> Vec<[u64; 6]> {
    let entries: Vec<&Entry> = entries.collect();
    let mut per_arg: Vec<Vec<u64>> = vec![vec![0]; 6];
    for e in &entries {
        for c in e.checks() {
            let vals = &mut per_arg[usize::from(c.index())];
            for v in [
                c.value(),
                c.value() ^ (c.mask() & c.mask().wrapping_neg()),
                c.value() | !c.mask(),
            ] {
                if !vals.contains(&v) {
                    vals.push(v);
                }
            }
        }
    }
    let total: usize = per_arg.iter().map(Vec::len).product();
    if total <= 4096 {
        let mut out = vec![[0u64; 6]];
        for (i, vals) in per_arg.iter().enumerate() {
            out = out
                .iter()
                .flat_map(|base| {
                    vals.iter().map(move |v| {
                        let mut a = *base;
                        a[i] = *v;
                        a
                    })
                })
                .collect();
        }
        return out;
    }
    let mut out = vec![[0u64; 6]];
    for e in &entries {
        let mut hit = [0u64; 6];
        for c in e.checks() {
            hit[usize::from(c.index())] = c.value();
        }
        out.push(hit);
        for c in e.checks() {
            let mut miss = hit;
            miss[usize::from(c.index())] ^= c.mask() & c.mask().wrapping_neg();
            out.push(miss);
        }
    }
    out
}

/// libseccomp's pseudo filter code for a plan (without the newer-than-profile stub, which
/// `syscage profile show` describes separately).
pub fn pfc(plan: &Plan) -> Result<String, CompileError> {
    let (mut ctx, _) = build_context(plan)?;
    ctx.set_ctl_optimize(2)
        .map_err(lib(|| "binary-tree optimisation".to_string()))?;
    let mut f = tempfile()?;
    ctx.export_pfc(f.as_fd())
        .map_err(lib(|| "exporting the pseudo filter code".to_string()))?;
    let mut text = String::new();
    f.rewind().map_err(CompileError::Export)?;
    f.read_to_string(&mut text).map_err(CompileError::Export)?;
    Ok(text)
}
