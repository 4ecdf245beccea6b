//! The filter plan: the policy lowered to what a seccomp program must decide, per ABI and
//! system call number, as disjoint argument cubes. The seccomp backend turns it into
//! libseccomp rules one to one; tests check it against the evaluator.

use crate::action::Action;
use crate::arch::Arch;
use crate::cube::{self, Cube};
use crate::model::{Flags, Policy, Rule};
use crate::syscalls::{self, SyscallInfo};
use thiserror::Error;

/// At most this many calls are handled as [`Exception`]s (each takes about a dozen
/// instructions of the prefix, whose jumps reach 255 instructions); further ones compile
/// as cubes like any call.
pub const MAX_EXCEPTIONS: usize = 8;

/// At most this many cubes for one system call on one ABI; beyond it the rules are
/// refused rather than compiled into a program too slow or too long to load.
pub const MAX_CUBES: usize = 512;

/// One libseccomp rule: on `arch`, call `name` (number `nr`), when every check holds
/// (`args[index] & mask == value`), take `action`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    arch: Arch,
    nr: u32,
    syscall: &'static SyscallInfo,
    action: Action,
    checks: Vec<Check>,
}

impl Entry {
    pub fn arch(&self) -> Arch {
        self.arch
    }

    pub fn nr(&self) -> u32 {
        self.nr
    }

    pub fn syscall(&self) -> &'static SyscallInfo {
        self.syscall
    }

    pub fn action(&self) -> Action {
        self.action
    }

    pub fn checks(&self) -> &[Check] {
        &self.checks
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Check {
    index: u8,
    mask: u64,
    value: u64,
}

impl Check {
    pub fn index(&self) -> u8 {
        self.index
    }

    pub fn mask(&self) -> u64 {
        self.mask
    }

    pub fn value(&self) -> u64 {
        self.value
    }
}

/// What a seccomp program must decide: built from a [`Policy`] by [`plan`] (or, for the
/// container's init, by [`Plan::allow_only`]), so that every entry names a call of an
/// admitted ABI by its number there, with checks on arguments 0..=5, and an action other
/// than the default.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Plan {
    default_action: Action,
    arches: Vec<Arch>,
    newer: Option<(Action, Vec<(Arch, u32)>)>,
    entries: Vec<Entry>,
    exceptions: Vec<Exception>,
    flags: Flags,
}

impl Plan {
    pub fn default_action(&self) -> Action {
        self.default_action
    }

    /// Admitted ABIs; every other one is killed.
    pub fn arches(&self) -> &[Arch] {
        &self.arches
    }

    /// Calls above the highest number the profile knows, per ABI, get this action.
    pub fn newer(&self) -> Option<(Action, &[(Arch, u32)])> {
        self.newer.as_ref().map(|(a, m)| (*a, m.as_slice()))
    }

    pub fn entries(&self) -> &[Entry] {
        &self.entries
    }

    /// Calls decided in syscage's prefix, before libseccomp's program (see [`Exception`]).
    pub fn exceptions(&self) -> &[Exception] {
        &self.exceptions
    }

    pub fn flags(&self) -> Flags {
        self.flags
    }

    /// The same plan without `omitted` entries (which the compiler could not hand
    /// libseccomp): those calls get the default action.
    pub fn without(&self, omitted: &[Entry]) -> Plan {
        let mut p = self.clone();
        p.entries.retain(|e| !omitted.contains(e));
        p
    }

    /// A plan that allows the calls named on `arch` and gives everything else
    /// `default_action` (which must deny): the container's init filter.
    pub fn allow_only(
        arch: Arch,
        calls: &[&'static str],
        default_action: Action,
    ) -> Result<Plan, PlanError> {
        if default_action.runs_call() {
            return Err(PlanError::AllowOnlyDefault(default_action));
        }
        let mut entries = Vec::new();
        for name in calls {
            let s = syscalls::lookup(name).ok_or(PlanError::UnknownCall(name))?;
            let nr = syscalls::number(s, arch).ok_or(PlanError::NoSuchCall {
                syscall: s.name,
                arch,
            })?;
            entries.push(Entry {
                arch,
                nr,
                syscall: s,
                action: Action::Allow,
                checks: vec![],
            });
        }
        Ok(Plan {
            default_action,
            arches: vec![arch],
            newer: None,
            entries,
            exceptions: vec![],
            flags: Flags::default(),
        })
    }
}

/// A call that takes one action except for a few exact values of one argument, such as
/// `ioctl` allowed except for TIOCSTI and TIOCLINUX. libseccomp would need about one
/// comparison per bit to express "all but these values" (and sorts them so that the small
/// values common requests have are tried last); instead syscage's prefix compares the few
/// values and libseccomp's program allows the call outright. Native ABI only.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Exception {
    nr: u32,
    syscall: &'static SyscallInfo,
    index: u8,
    bits: u32,
    values: Vec<u64>,
    action: Action,
}

impl Exception {
    pub fn nr(&self) -> u32 {
        self.nr
    }

    pub fn syscall(&self) -> &'static SyscallInfo {
        self.syscall
    }

    /// The argument compared.
    pub fn index(&self) -> u8 {
        self.index
    }

    /// The bits of the argument the kernel reads (32 or 16).
    pub fn bits(&self) -> u32 {
        self.bits
    }

    pub fn values(&self) -> &[u64] {
        &self.values
    }

    /// What those values get.
    pub fn action(&self) -> Action {
        self.action
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum PlanError {
    #[error("the rules for `{syscall}` on {arch} need more than {MAX_CUBES} argument cases to compile exactly; simplify their conditions")]
    TooComplex { syscall: &'static str, arch: Arch },
    #[error("`{syscall}` does not exist on {arch}")]
    NoSuchCall { syscall: &'static str, arch: Arch },
    #[error("no system call is named `{0}`")]
    UnknownCall(&'static str),
    #[error("an allow-list needs a default action that denies, not {0}")]
    AllowOnlyDefault(Action),
}

/// The width of an argument on an ABI (kept here for callers that name it `plan::arg_bits`).
pub use crate::syscalls::compared_bits as arg_bits;

/// Lowers a policy.
pub fn plan(policy: &Policy) -> Result<Plan, PlanError> {
    let mut entries = Vec::new();
    let mut exceptions = Vec::new();
    for &arch in policy.arches() {
        for s in syscalls::all() {
            let Some(nr) = syscalls::number(s, arch) else {
                continue;
            };
            if policy.newer_action().is_some() && policy.is_newer(arch, nr) {
                continue;
            }
            let rules: Vec<&Rule> = policy
                .rules()
                .iter()
                .filter(|r| r.name() == s.name)
                .collect();
            if rules.is_empty() {
                continue;
            }
            if arch == Arch::X86_64 && exceptions.len() < MAX_EXCEPTIONS {
                if let Some((action, e)) = exception(policy, nr, s, &rules) {
                    entries.push(Entry {
                        arch,
                        nr,
                        syscall: s,
                        action,
                        checks: vec![],
                    });
                    exceptions.push(e);
                    continue;
                }
            }
            plan_call(policy, arch, nr, s, &rules, &mut entries)?;
        }
    }
    let newer = policy.newer_action().map(|a| {
        let max = policy
            .arches()
            .iter()
            .filter_map(|&ar| policy.newer_max(ar).map(|m| (ar, m)))
            .collect();
        (a, max)
    });
    Ok(Plan {
        default_action: policy.default_action(),
        arches: policy.arches().to_vec(),
        newer,
        entries,
        exceptions,
        flags: policy.flags(),
    })
}

/// A call whose rules all take one action other than the default, each on one 32- or
/// 16-bit argument (the same for all), and together admit every value of it but a few (at
/// most 8): the action outright, except those values, which get the default. This is how
/// `ioctl` except TIOCSTI and TIOCLINUX reads, however the profile spells it (as `!=`
/// conditions, or as the masks that differ from both that runtimes comparing 64 bits
/// read exactly).
fn exception(
    policy: &Policy,
    nr: u32,
    s: &'static SyscallInfo,
    rules: &[&Rule],
) -> Option<(Action, Exception)> {
    let first = rules.first()?;
    let action = first.action();
    let index = first.conds().first()?.index();
    let bits = arg_bits(s, Arch::X86_64, index);
    let one_arg = rules.iter().all(|r| {
        r.action() == action
            && !r.conds().is_empty()
            && r.conds().iter().all(|c| c.index() == index)
    });
    if !one_arg || bits > 32 || action == policy.default_action() {
        return None;
    }
    let width = |_: u8| bits;
    let mut admitted = Vec::new();
    for r in rules {
        admitted.extend(cube::rule_cubes(r.conds(), &width, MAX_CUBES)?);
    }
    // What no rule admits, a cube at a time; more than a few cubes is not an exception.
    let mut refused = vec![Cube::ALL];
    for c in &admitted {
        refused = refused.iter().flat_map(|x| x.minus(c)).collect();
        if refused.len() > 4 * MAX_EXCEPTION_VALUES {
            return None;
        }
    }
    let m = crate::cond::width_mask(bits);
    let i = usize::from(index);
    let mut values = Vec::new();
    for c in &refused {
        let (mask, value) = c.args[i];
        let other = c.args.iter().enumerate().any(|(j, a)| j != i && a.0 != 0);
        let free = m & !mask;
        if other || free.count_ones() > 3 {
            return None;
        }
        // Every value of the cube: the free bits in each combination.
        let mut sub = free;
        loop {
            values.push(value | sub);
            if sub == 0 {
                break;
            }
            sub = (sub - 1) & free;
        }
        if values.len() > MAX_EXCEPTION_VALUES {
            return None;
        }
    }
    values.sort_unstable();
    values.dedup();
    if values.is_empty() || values.len() > MAX_EXCEPTION_VALUES {
        return None;
    }
    Some((
        action,
        Exception {
            nr,
            syscall: s,
            index,
            bits,
            values,
            action: policy.default_action(),
        },
    ))
}

/// At most this many values of an [`Exception`].
const MAX_EXCEPTION_VALUES: usize = 8;

fn plan_call(
    policy: &Policy,
    arch: Arch,
    nr: u32,
    s: &'static SyscallInfo,
    rules: &[&Rule],
    out: &mut Vec<Entry>,
) -> Result<(), PlanError> {
    let default = policy.default_action();
    // An unconditional rule decides alone (see `eval`).
    if let Some(r) = rules.iter().find(|r| r.is_unconditional()) {
        if r.action() != default {
            out.push(Entry {
                arch,
                nr,
                syscall: s,
                action: r.action(),
                checks: vec![],
            });
        }
        return Ok(());
    }
    let too_complex = PlanError::TooComplex {
        syscall: s.name,
        arch,
    };
    let bits = |i: u8| arg_bits(s, arch, i);
    let reg_bits = arch.compared_bits();
    // A rule decides what no earlier rule matched: its cubes, minus (intersected with
    // the complement of) every earlier rule they overlap. Cubes of one region may overlap
    // each other (same action); regions of different rules never do.
    let mut earlier: Vec<(Vec<Cube>, &Rule)> = Vec::new();
    let mut count = 0;
    for r in rules {
        let mut region =
            cube::rule_cubes(r.conds(), &bits, MAX_CUBES).ok_or(too_complex.clone())?;
        region.retain(|c| c.truncate(reg_bits).is_some());
        let region_all = region.clone();
        for (cubes, e) in &earlier {
            if e.action() == r.action() || !cube::overlaps(&region, cubes) {
                continue;
            }
            let not_e = cube::rule_complement(e.conds(), &bits);
            region = cube::intersect(&region, &not_e, MAX_CUBES).ok_or(too_complex.clone())?;
        }
        if r.action() != default {
            count += region.len();
            if count > MAX_CUBES {
                return Err(too_complex);
            }
            for c in region.iter().filter_map(|c| c.truncate(reg_bits)) {
                out.push(Entry {
                    arch,
                    nr,
                    syscall: s,
                    action: r.action(),
                    checks: checks(&c),
                });
            }
        }
        earlier.push((region_all, r));
    }
    Ok(())
}

fn checks(c: &Cube) -> Vec<Check> {
    c.args
        .iter()
        .enumerate()
        .filter(|(_, (m, _))| *m != 0)
        .map(|(i, (mask, value))| Check {
            index: i as u8,
            mask: *mask,
            value: *value,
        })
        .collect()
}

impl Plan {
    /// What the plan decides for a call: used by tests to prove the plan equals the
    /// evaluator, and the program equals the plan.
    pub fn decide(&self, arch: Arch, nr: u32, args: &[u64; 6]) -> Action {
        if !self.arches.contains(&arch) {
            return Action::KillProcess;
        }
        if let Some((a, max)) = &self.newer {
            if let Some((_, m)) = max.iter().find(|(ar, _)| *ar == arch) {
                if syscalls::is_newer_than(arch, nr, *m) {
                    return *a;
                }
            }
        }
        let m = crate::cond::width_mask(arch.compared_bits());
        let regs = args.map(|a| a & m);
        if arch == Arch::X86_64 {
            if let Some(e) = self.exceptions.iter().find(|e| e.nr == nr) {
                let v = regs[usize::from(e.index)] & crate::cond::width_mask(e.bits);
                if e.values.contains(&v) {
                    return e.action;
                }
            }
        }
        self.entries
            .iter()
            .find(|e| {
                e.arch == arch
                    && e.nr == nr
                    && e.checks
                        .iter()
                        .all(|c| regs[usize::from(c.index)] & c.mask == c.value)
            })
            .map(|e| e.action)
            .unwrap_or(self.default_action)
    }
}
