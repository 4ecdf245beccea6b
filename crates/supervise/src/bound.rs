//! What the base profile lets a call do, as disjoint argument cubes (`args[i] & mask ==
//! value` on each argument): the most a learned profile may allow for that call. A learned
//! rule is the intersection of what ran with this bound, so whatever the learned profile
//! allows, the base's denials for that call stay denied.
//!
//! The cubes follow the evaluator's order of decisions (see `syscage_policy::eval`): an
//! ABI the base does not admit, or a call newer than it, allows nothing; an unconditional
//! rule decides alone; otherwise each rule decides what no earlier rule matched, and the
//! default action the rest.

use syscage_policy::arch::Arch;
use syscage_policy::cube::{self, Cube};
use syscage_policy::plan::arg_bits;
use syscage_policy::syscalls::{self, SyscallInfo};
use syscage_policy::{Action, Policy};

/// At most this many cubes describe what the base allows of one call on one ABI; a base
/// whose rules need more gets the call left out of the learned profile (denied), which
/// never widens it.
pub const LIMIT: usize = 256;

/// What `base` decides for call `s` on `arch`, as disjoint unions of cubes, one per
/// action (the actions' regions cover every call and never overlap); empty when the
/// call does not exist on that ABI or the ABI is not admitted (the filter kills it).
/// `None` when that takes more than [`LIMIT`] cubes for one action.
pub fn decisions(
    base: &Policy,
    arch: Arch,
    s: &'static SyscallInfo,
) -> Option<Vec<(Action, Vec<Cube>)>> {
    regions(base, arch, s, &|_| true)
}

/// [`decisions`] for the actions `keep` accepts: only their regions are made (and bounded).
fn regions(
    base: &Policy,
    arch: Arch,
    s: &'static SyscallInfo,
    keep: &dyn Fn(Action) -> bool,
) -> Option<Vec<(Action, Vec<Cube>)>> {
    let Some(nr) = syscalls::number(s, arch) else {
        return Some(vec![]);
    };
    if !base.arches().contains(&arch) {
        return Some(vec![]);
    }
    let whole = |a: Action| {
        Some(if keep(a) {
            vec![(a, vec![Cube::ALL])]
        } else {
            vec![]
        })
    };
    if let Some(a) = base.newer_action() {
        if base.is_newer(arch, nr) {
            return whole(a);
        }
    }
    let rules: Vec<_> = base.rules().iter().filter(|r| r.name() == s.name).collect();
    if let Some(r) = rules.iter().find(|r| r.is_unconditional()) {
        return whole(r.action());
    }
    let bits = |i: u8| arg_bits(s, arch, i);
    let mut covered: Vec<Cube> = Vec::new();
    let mut out: Vec<(Action, Vec<Cube>)> = Vec::new();
    let add = |out: &mut Vec<(Action, Vec<Cube>)>, action: Action, cubes: Vec<Cube>| {
        if cubes.is_empty() || !keep(action) {
            return;
        }
        match out.iter_mut().find(|(a, _)| *a == action) {
            Some((_, c)) => c.extend(cubes),
            None => out.push((action, cubes)),
        }
    };
    for r in rules {
        let cubes = cube::rule_cubes(r.conds(), &bits, LIMIT)?;
        add(&mut out, r.action(), cube::difference(&cubes, &covered));
        covered = cube::absorb([covered, cubes].concat());
        if out.iter().any(|(_, c)| c.len() > LIMIT) || covered.len() > 4 * LIMIT {
            return None;
        }
    }
    add(
        &mut out,
        base.default_action(),
        cube::difference(&[Cube::ALL], &covered),
    );
    let mut out: Vec<(Action, Vec<Cube>)> =
        out.into_iter().map(|(a, c)| (a, cube::absorb(c))).collect();
    out.sort_by_key(|(a, _)| a.to_ret());
    out.iter().all(|(_, c)| c.len() <= LIMIT).then_some(out)
}

/// The calls `s` on `arch` that `base` lets run; `None` when that takes more than
/// [`LIMIT`] cubes.
pub fn allowed(base: &Policy, arch: Arch, s: &'static SyscallInfo) -> Option<Vec<Cube>> {
    let runs: Vec<Cube> = regions(base, arch, s, &Action::runs_call)?
        .into_iter()
        .filter(|(a, _)| a.runs_call())
        .flat_map(|(_, c)| c)
        .collect();
    let out = cube::absorb(runs);
    (out.len() <= LIMIT).then_some(out)
}

/// What `base` allows of `s` on every ABI of `arches` that has the call (a learned rule
/// names the call, not the ABI, so it must hold on each).
pub fn allowed_on_all(
    base: &Policy,
    arches: &[Arch],
    s: &'static SyscallInfo,
) -> Option<Vec<Cube>> {
    let mut out = vec![Cube::ALL];
    let mut any = false;
    for &a in arches {
        if syscalls::number(s, a).is_none() {
            continue;
        }
        any = true;
        out = cube::intersect(&out, &allowed(base, a, s)?, LIMIT)?;
    }
    Some(if any { out } else { vec![] })
}

#[cfg(test)]
mod tests {
    use super::*;
    use syscage_policy::{builtin, eval, resolve, Context};

    fn policy(name: &str) -> Policy {
        let p = builtin::load(name, Default::default())
            .unwrap()
            .profile
            .unwrap();
        resolve::resolve(name, &p, &Context::docker_default()).unwrap()
    }

    fn sys(n: &str) -> &'static SyscallInfo {
        syscalls::lookup(n).unwrap()
    }

    fn inside(cubes: &[Cube], args: &[u64; 6]) -> bool {
        cubes.iter().any(|c| c.contains(args))
    }

    /// Over many argument values, the cubes hold exactly the calls the evaluator lets run.
    fn agrees(base: &Policy, arch: Arch, name: &str) {
        let s = sys(name);
        let cubes = allowed(base, arch, s).unwrap();
        let interesting = [
            0u64,
            1,
            2,
            3,
            22,
            38,
            0x5401,
            0x5412,
            0x541c,
            0o4755,
            0o644,
            0x1000_0000,
            1 << 32,
            u64::MAX,
        ];
        for i in 0..6 {
            for v in interesting {
                let mut args = [0u64; 6];
                args[i] = v;
                let want = eval::decide_syscall(base, arch, s, &args)
                    .action
                    .runs_call();
                let masked =
                    args.map(|a| a & syscage_policy::cond::width_mask(arch.compared_bits()));
                assert_eq!(
                    inside(&cubes, &masked),
                    want,
                    "{name} on {arch} with {args:x?}"
                );
            }
        }
    }

    #[test]
    fn the_bound_is_what_the_evaluator_allows() {
        let def = policy("default");
        for name in [
            "ioctl",
            "prctl",
            "seccomp",
            "socket",
            "fchmod",
            "mknod",
            "personality",
            "clone",
            "read",
            "keyctl",
            "clone3",
        ] {
            agrees(&def, Arch::X86_64, name);
        }
        let contained = policy("contained");
        for name in [
            "ioctl", "prctl", "socket", "fchmod", "unshare", "read", "keyctl",
        ] {
            agrees(&contained, Arch::X86_64, name);
        }
        // An ABI the base does not admit allows nothing.
        assert_eq!(allowed(&def, Arch::X86, sys("getpid")), Some(vec![]));
        let ioctl = allowed(&def, Arch::X86_64, sys("ioctl")).unwrap();
        assert!(!inside(&ioctl, &[1, 0x5412, 0, 0, 0, 0]), "TIOCSTI");
        assert!(!inside(&ioctl, &[1, 0x541c, 0, 0, 0, 0]), "TIOCLINUX");
        assert!(inside(&ioctl, &[1, 0x5401, 0, 0, 0, 0]), "TCGETS");
    }
}
