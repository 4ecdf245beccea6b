//! The forms syscage writes, so that a profile means the same under every runtime that
//! loads it.
//!
//! runc, crun and youki compare all 64 bits of an argument register, where syscage (and
//! the kernel) read an `int` or `umode_t` argument on its low bits only; and when an entry
//! compares one argument more than once, they add each of its conditions as a libseccomp
//! rule of its own (see [`super::SyscallEntry::alternatives`]); crun reads at most six
//! conditions of an entry. An entry reads alike everywhere when
//! - it compares each argument at most once, or it compares a single argument, at most six
//!   times (alternatives, which every reader splits the same way); and
//! - every condition on an argument the kernel reads narrower than 64 bits is a
//!   SCMP_CMP_MASKED_EQ whose mask and value lie within those bits: a 64-bit comparison of
//!   such a mask ignores the upper bits, as the kernel does.
//!
//! Any other entry is written as entries of that form with exactly the same matches: each
//! narrow condition becomes the blocks of values it admits (see [`crate::cube::blocks`]),
//! one entry per combination, in the entry's place. `!=` TIOCSTI, for instance, becomes 32
//! masks, each admitting the requests that differ from TIOCSTI in one bit. Nothing is
//! given up: the only limit is size ([`MAX_ENTRIES`], two inequalities on 32-bit
//! arguments of one entry; syscage refuses to compile more than [`crate::plan::MAX_CUBES`]
//! for one call anyway).

use super::{alternatives, ArgSpec, SyscallEntry};
use crate::cond::{fit_value, width_mask, Op};
use crate::cube;
use crate::syscalls;
use thiserror::Error;

/// At most this many conditions in one entry: crun reads no more.
pub const MAX_CONDITIONS: usize = 6;

/// At most this many combinations of conditions for one entry.
pub const MAX_ENTRIES: usize = 1024;

#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum PortableError {
    #[error("{place}: its conditions take more than {MAX_ENTRIES} entries to write in a form runc and crun read as syscage does; simplify them")]
    TooComplex { place: String },
}

/// The width signature of a name: the bits the kernel reads of each argument (64 for a
/// name of another architecture, whose widths syscage does not know and which runtimes
/// compare on 64 bits anyway).
fn widths(name: &str) -> [u32; 6] {
    let mut w = [64; 6];
    if let Some(s) = syscalls::lookup(name) {
        for (i, b) in w.iter_mut().enumerate() {
            *b = syscalls::arg_bits(s, i as u8);
        }
    }
    w
}

/// Whether one condition reads alike on 64 bits and on the kernel's `bits`.
fn exact(a: &ArgSpec, bits: u32) -> bool {
    if bits >= 64 {
        return true;
    }
    let w = width_mask(bits);
    matches!(a.op(), Op::MaskedEq(m) if m & !w == 0)
}

/// Whether runc, crun and syscage read the entry alike (see the module's comment).
pub fn is_portable(e: &SyscallEntry) -> bool {
    let args = e.args();
    let first = args.first().map(|a| a.index());
    let one_arg = args.iter().all(|a| Some(a.index()) == first);
    let repeated = alternatives(args).len() > 1;
    if repeated && !(one_arg && args.len() <= MAX_CONDITIONS) {
        return false;
    }
    e.names().iter().chain(e.unknown()).all(|n| {
        let w = widths(n);
        args.iter().all(|a| exact(a, w[usize::from(a.index())]))
    })
}

/// One rule (conditions that hold together, each argument at most once) as rules of
/// portable conditions with the same matches, for arguments of widths `w`.
fn lower_alt(
    w: &[u32; 6],
    conds: &[ArgSpec],
    place: &str,
) -> Result<Vec<Vec<ArgSpec>>, PortableError> {
    let mut combos: Vec<Vec<ArgSpec>> = vec![vec![]];
    for a in conds {
        let bits = w[usize::from(a.index())];
        let choices: Vec<ArgSpec> = if exact(a, bits) {
            vec![*a]
        } else {
            // A value the kernel cannot see in that argument: the entry's constructor
            // refuses it, so its spelling does not matter.
            blocks(a, bits).unwrap_or_else(|| vec![*a])
        };
        combos = combos
            .iter()
            .flat_map(|c| {
                choices.iter().map(move |x| {
                    let mut c = c.clone();
                    c.push(*x);
                    c
                })
            })
            .collect();
        if combos.len() > MAX_ENTRIES {
            return Err(PortableError::TooComplex {
                place: place.to_string(),
            });
        }
    }
    Ok(combos)
}

/// A resolved rule of call `s` as lists of portable conditions (each list one rule; the
/// rule matches when any does), packed as [`pack`] does.
pub fn lower_rule(
    s: &syscalls::SyscallInfo,
    conds: &[ArgSpec],
    place: &str,
) -> Result<Vec<Vec<ArgSpec>>, PortableError> {
    let w = widths(s.name);
    Ok(pack(lower_alt(&w, conds, place)?))
}

/// The entry as portable entries with the same matches (itself when it is portable).
/// `place` names it in errors (`syscalls[3]`).
pub fn lower(e: &SyscallEntry, place: &str) -> Result<Vec<SyscallEntry>, PortableError> {
    if is_portable(e) {
        return Ok(vec![e.clone()]);
    }
    // Names whose arguments have the same widths are written together.
    let mut groups: Vec<([u32; 6], Vec<String>, Vec<String>)> = Vec::new();
    let named = e.names().iter().map(|n| (n, false));
    for (n, unknown) in named.chain(e.unknown().iter().map(|n| (n, true))) {
        let w = widths(n);
        let i = match groups.iter().position(|(gw, ..)| *gw == w) {
            Some(i) => i,
            None => {
                groups.push((w, vec![], vec![]));
                groups.len() - 1
            }
        };
        let g = &mut groups[i];
        if unknown {
            g.2.push(n.clone());
        } else {
            g.1.push(n.clone());
        }
    }
    let mut out = Vec::new();
    for (w, names, unknown) in groups {
        let mut conds: Vec<Vec<ArgSpec>> = Vec::new();
        for alt in alternatives(e.args()) {
            let alt: Vec<ArgSpec> = alt.into_iter().map(|(_, a)| a).collect();
            conds.extend(lower_alt(&w, &alt, place)?);
            if conds.len() > MAX_ENTRIES {
                return Err(PortableError::TooComplex {
                    place: place.to_string(),
                });
            }
        }
        let parts = pack(conds);
        let n = parts.len();
        for (k, args) in parts.into_iter().enumerate() {
            let note = if n > 1 {
                format!(
                    "as masks on the bits the kernel reads, part {} of {n}",
                    k + 1
                )
            } else {
                "as masks on the bits the kernel reads".to_string()
            };
            let comment = match e.comment() {
                Some(c) => format!("{c} ({note})"),
                None => format!("{place} ({note})"),
            };
            out.push(e.rewritten(names.clone(), unknown.clone(), args, Some(comment)));
        }
    }
    Ok(out)
}

/// The values of one argument a condition admits, as MASKED_EQ blocks within the kernel's
/// `bits`; `None` when the value cannot be what the kernel sees.
fn blocks(a: &ArgSpec, bits: u32) -> Option<Vec<ArgSpec>> {
    let raw = match a.op() {
        Op::MaskedEq(m) => a.value() & m,
        _ => a.value(),
    };
    let value = fit_value(
        raw,
        match bits {
            16 => syscalls::ArgType::UShort,
            32 => syscalls::ArgType::UInt,
            _ => syscalls::ArgType::Long,
        },
    )?;
    let op = match a.op() {
        Op::MaskedEq(m) => Op::MaskedEq(m & width_mask(bits)),
        op => op,
    };
    cube::blocks(op, value, bits)
        .into_iter()
        .map(|(mask, value)| ArgSpec::new(a.index(), Op::MaskedEq(mask), value).ok())
        .collect()
}

/// Rules (each a list of conditions that hold together) as entries: rules of a single
/// condition on one argument share entries, up to [`MAX_CONDITIONS`] (alternatives, as
/// every reader splits them); every other rule is an entry of its own.
fn pack(rules: Vec<Vec<ArgSpec>>) -> Vec<Vec<ArgSpec>> {
    let mut out: Vec<Vec<ArgSpec>> = Vec::new();
    let mut open: Option<usize> = None;
    for r in rules {
        if let [one] = r.as_slice() {
            if let Some(i) = open {
                let same = out[i].first().map(|a| a.index()) == Some(one.index());
                if same && out[i].len() < MAX_CONDITIONS {
                    out[i].push(*one);
                    continue;
                }
            }
            out.push(r);
            open = Some(out.len() - 1);
        } else {
            out.push(r);
            open = None;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::action::Action;

    fn entry(names: &[&str], args: &[(u8, Op, u64)]) -> SyscallEntry {
        SyscallEntry::new(
            names.iter().map(|s| s.to_string()).collect(),
            Action::Allow,
            args.iter()
                .map(|(index, op, value)| ArgSpec::new(*index, *op, *value).unwrap())
                .collect(),
        )
        .unwrap()
    }

    /// Whether any of `entries` matches `args` as runc reads them: 64-bit comparisons,
    /// an entry with a repeated argument split into its conditions.
    fn runc_matches(entries: &[SyscallEntry], args: &[u64; 6]) -> bool {
        entries.iter().any(|e| {
            alternatives(e.args()).iter().any(|alt| {
                alt.iter().all(|(_, a)| {
                    let c = crate::cond::Cond::new(a.index(), a.op(), a.value()).unwrap();
                    c.matches(args[usize::from(a.index())], 64)
                })
            })
        })
    }

    #[test]
    fn inequalities_on_narrow_arguments_become_masks() {
        // socket(family > 40): the family is an `int`.
        let e = entry(&["socket"], &[(0, Op::Gt, 40)]);
        assert!(!is_portable(&e));
        let out = lower(&e, "syscalls[0]").unwrap();
        assert!(out.iter().all(is_portable));
        for v in [
            0u64,
            40,
            41,
            0xffff_ffff,
            40 | 1 << 32,
            41 | 1 << 32,
            1 << 40,
        ] {
            let want = (v & 0xffff_ffff) > 40;
            assert_eq!(runc_matches(&out, &[v, 0, 0, 0, 0, 0]), want, "{v:#x}");
        }
    }

    #[test]
    fn equality_on_a_narrow_argument_is_masked() {
        let e = entry(&["personality"], &[(0, Op::Eq, 8)]);
        let out = lower(&e, "syscalls[0]").unwrap();
        assert_eq!(out.len(), 1);
        assert_eq!(
            out[0].args(),
            [ArgSpec::new(0, Op::MaskedEq(0xffff_ffff), 8).unwrap()]
        );
        assert!(runc_matches(&out, &[8 | 1 << 32, 0, 0, 0, 0, 0]));
    }

    #[test]
    fn a_mixed_entry_splits_as_runc_reads_it() {
        // runc: `arg0 != 1` or `arg0 != 2` or `arg2 == 5`, each on 32 bits here.
        let e = entry(&["dup3"], &[(0, Op::Ne, 1), (0, Op::Ne, 2), (2, Op::Eq, 5)]);
        let out = lower(&e, "syscalls[0]").unwrap();
        assert!(out.iter().all(is_portable), "{out:?}");
        for a0 in [0u64, 1, 2, 1 | 1 << 32] {
            for a2 in [0u64, 5, 5 | 1 << 32] {
                let args = [a0, 0, a2, 0, 0, 0];
                let lo = |v: u64| v & 0xffff_ffff;
                let want = lo(a0) != 1 || lo(a0) != 2 || lo(a2) == 5;
                assert_eq!(runc_matches(&out, &args), want, "{args:?}");
            }
        }
    }

    #[test]
    fn names_with_other_widths_are_written_apart() {
        // `personality` reads 32 bits of arg0, `brk` all 64.
        let e = entry(&["personality", "brk"], &[(0, Op::Ne, 8)]);
        let out = lower(&e, "syscalls[0]").unwrap();
        let brk: Vec<&SyscallEntry> = out.iter().filter(|x| x.names() == ["brk"]).collect();
        assert_eq!(brk.len(), 1);
        assert_eq!(
            brk[0].args(),
            e.args(),
            "a 64-bit argument keeps its condition"
        );
        let pers: Vec<SyscallEntry> = out
            .iter()
            .filter(|x| x.names() == ["personality"])
            .cloned()
            .collect();
        assert_eq!(pers.len(), 6, "32 masks, six to an entry");
        assert!(!runc_matches(&pers, &[8 | 1 << 32, 0, 0, 0, 0, 0]));
        assert!(runc_matches(&pers, &[9, 0, 0, 0, 0, 0]));
    }

    #[test]
    fn too_many_combinations_are_refused() {
        let e = entry(
            &["mknodat"],
            &[(0, Op::Ne, 1), (1, Op::Ne, 1), (2, Op::Ne, 1)],
        );
        // mknodat(int dfd, path, umode_t mode, unsigned dev): 32 x 16 blocks is fine,
        // a third narrow `!=` is not.
        let e3 = entry(
            &["mknodat"],
            &[(0, Op::Ne, 1), (2, Op::Ne, 1), (3, Op::Ne, 1)],
        );
        assert!(lower(&e, "syscalls[0]").is_ok());
        assert_eq!(
            lower(&e3, "syscalls[7]").unwrap_err().to_string(),
            "syscalls[7]: its conditions take more than 1024 entries to write in a form runc and crun read as syscage does; simplify them"
        );
    }
}
