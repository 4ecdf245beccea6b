//! Sets of argument values as unions of disjoint "cubes": for each of the six arguments a
//! (mask, value) pair, the set of registers `r` with `r & mask == value` (mask 0: any).
//!
//! libseccomp compares one argument per condition and merges the rules of a system call
//! in ways that depend on their order and shape. syscage sidesteps that: every rule's
//! conditions become cubes, each rule's share of the decision is what earlier rules left
//! (set difference), and the compiler hands libseccomp only disjoint cubes as
//! SCMP_CMP_MASKED_EQ conditions, so the program decides exactly what the evaluator
//! decides. A condition on an argument the kernel truncates to 32 or 16 bits only ever
//! masks those bits, so the upper bits of the register cannot change the answer.

use crate::cond::{width_mask, Cond, Op};

/// One cube.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Cube {
    pub args: [(u64, u64); 6],
}

impl Cube {
    /// Every call.
    pub const ALL: Cube = Cube { args: [(0, 0); 6] };

    pub fn contains(&self, regs: &[u64; 6]) -> bool {
        self.args.iter().zip(regs).all(|((m, v), r)| r & m == *v)
    }

    pub fn intersect(&self, other: &Cube) -> Option<Cube> {
        let mut out = Cube::ALL;
        for i in 0..6 {
            let (m1, v1) = self.args[i];
            let (m2, v2) = other.args[i];
            if (v1 ^ v2) & m1 & m2 != 0 {
                return None;
            }
            out.args[i] = (m1 | m2, v1 | v2);
        }
        Some(out)
    }

    /// `self \ other` as disjoint cubes.
    pub fn minus(&self, other: &Cube) -> Vec<Cube> {
        if self.intersect(other).is_none() {
            return vec![*self];
        }
        // Bits `other` fixes that `self` leaves free: the first one that differs from
        // `other`'s value puts a call outside `other`.
        let mut out = Vec::new();
        let mut prefix = *self;
        for i in 0..6 {
            let (mo, vo) = other.args[i];
            let free = mo & !self.args[i].0;
            for bit in (0..64).rev().map(|b| 1u64 << b).filter(|b| free & b != 0) {
                let mut c = prefix;
                c.args[i].0 |= bit;
                c.args[i].1 |= !vo & bit;
                out.push(c);
                prefix.args[i].0 |= bit;
                prefix.args[i].1 |= vo & bit;
            }
        }
        out
    }

    /// Whether any argument is constrained.
    pub fn is_all(&self) -> bool {
        self.args.iter().all(|(m, _)| *m == 0)
    }

    /// Drops the bits above `bits` from every mask (for an ABI whose registers are 32-bit:
    /// the kernel zero-extends them, so a cube that wants an upper bit set is empty).
    pub fn truncate(&self, bits: u32) -> Option<Cube> {
        let w = width_mask(bits);
        let mut out = *self;
        for a in &mut out.args {
            if a.1 & !w != 0 {
                return None;
            }
            a.0 &= w;
        }
        Some(out)
    }
}

/// `a \ b` for unions of cubes.
pub fn difference(a: &[Cube], b: &[Cube]) -> Vec<Cube> {
    let mut cur: Vec<Cube> = a.to_vec();
    for cb in b {
        cur = cur.iter().flat_map(|c| c.minus(cb)).collect();
        if cur.is_empty() {
            break;
        }
    }
    cur
}

/// The values of one argument (of `bits` width) meeting one condition, as blocks of
/// (mask, value) on that argument.
pub fn blocks(op: Op, value: u64, bits: u32) -> Vec<(u64, u64)> {
    let w = width_mask(bits);
    let v = value & w;
    match op {
        Op::Eq => vec![(w, v)],
        // libseccomp masks the value too (see `Cond::new`).
        Op::MaskedEq(m) => {
            let m = m & w;
            vec![(m, v & m)]
        }
        Op::Ne => complement(&[(w, v)], bits),
        Op::Lt => below(v, bits),
        Op::Le => {
            if v == w {
                vec![(0, 0)]
            } else {
                below(v + 1, bits)
            }
        }
        Op::Gt => {
            if v == w {
                vec![]
            } else {
                complement(&below(v + 1, bits), bits)
            }
        }
        Op::Ge => complement(&below(v, bits), bits),
    }
}

/// [0, v) within `bits`: one block per set bit of v.
fn below(v: u64, bits: u32) -> Vec<(u64, u64)> {
    let w = width_mask(bits);
    let mut out = Vec::new();
    for i in (0..bits).rev() {
        let bit = 1u64 << i;
        if v & bit != 0 {
            let mask = w & !(bit - 1);
            out.push((mask, (v & mask) & !bit));
        }
    }
    out
}

/// The complement of a union of blocks within `bits`.
fn complement(blocks: &[(u64, u64)], bits: u32) -> Vec<(u64, u64)> {
    let as_cubes = |bs: &[(u64, u64)]| -> Vec<Cube> {
        bs.iter()
            .map(|b| {
                let mut c = Cube::ALL;
                c.args[0] = *b;
                c
            })
            .collect()
    };
    let _ = bits;
    difference(&[Cube::ALL], &as_cubes(blocks))
        .into_iter()
        .map(|c| c.args[0])
        .collect()
}

/// Whether `self` lies inside `other`.
impl Cube {
    pub fn within(&self, other: &Cube) -> bool {
        self.args
            .iter()
            .zip(other.args.iter())
            .all(|((ma, va), (mb, vb))| mb & !ma == 0 && va & mb == *vb)
    }
}

/// Drops cubes that lie inside another (the union is unchanged). Larger cubes (fewer
/// constrained bits) are kept first.
pub fn absorb(mut cubes: Vec<Cube>) -> Vec<Cube> {
    cubes.sort_by_key(|c| c.args.iter().map(|(m, _)| m.count_ones()).sum::<u32>());
    cubes.dedup();
    let mut kept: Vec<Cube> = Vec::with_capacity(cubes.len());
    for c in cubes {
        if !kept.iter().any(|k| c.within(k)) {
            kept.push(c);
        }
    }
    kept
}

/// `a ∩ b` for unions of cubes (the result may overlap itself).
pub fn intersect(a: &[Cube], b: &[Cube], limit: usize) -> Option<Vec<Cube>> {
    let mut out = Vec::new();
    for x in a {
        for y in b {
            if let Some(c) = x.intersect(y) {
                out.push(c);
                if out.len() > 4 * limit {
                    return None;
                }
            }
        }
    }
    let out = absorb(out);
    (out.len() <= limit).then_some(out)
}

/// Whether two unions of cubes share a call.
pub fn overlaps(a: &[Cube], b: &[Cube]) -> bool {
    a.iter().any(|x| b.iter().any(|y| x.intersect(y).is_some()))
}

fn single(i: usize, blocks: &[(u64, u64)]) -> Vec<Cube> {
    blocks
        .iter()
        .map(|b| {
            let mut c = Cube::ALL;
            c.args[i] = *b;
            c
        })
        .collect()
}

/// The calls meeting every condition of a rule; `bits(i)` is the width of argument i.
/// `None` when that would take more than `limit` cubes.
pub fn rule_cubes(conds: &[Cond], bits: &dyn Fn(u8) -> u32, limit: usize) -> Option<Vec<Cube>> {
    let mut cubes = vec![Cube::ALL];
    for c in conds {
        let bs = blocks(c.op(), c.value(), bits(c.index()));
        cubes = intersect(&cubes, &single(usize::from(c.index()), &bs), limit)?;
    }
    Some(cubes)
}

/// The calls failing at least one condition of a rule (De Morgan: the union of each
/// condition's complement, each on its one argument).
pub fn rule_complement(conds: &[Cond], bits: &dyn Fn(u8) -> u32) -> Vec<Cube> {
    let mut out = Vec::new();
    for c in conds {
        let i = usize::from(c.index());
        let bs = blocks(c.op(), c.value(), bits(c.index()));
        out.extend(difference(&[Cube::ALL], &single(i, &bs)));
    }
    absorb(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn member(bs: &[(u64, u64)], x: u64) -> usize {
        bs.iter().filter(|(m, v)| x & m == *v).count()
    }

    #[test]
    fn ordering_blocks_are_exact_and_disjoint() {
        let samples = [
            0u64,
            1,
            2,
            37,
            38,
            39,
            40,
            41,
            0x5412,
            0x7fff_ffff,
            0x8000_0000,
            0xffff_fffe,
            0xffff_ffff,
        ];
        for v in samples {
            for op in [Op::Lt, Op::Le, Op::Gt, Op::Ge, Op::Ne, Op::Eq] {
                let bs = blocks(op, v, 32);
                for x in samples.iter().chain([0x1_0000_0028u64, u64::MAX].iter()) {
                    let a = x & 0xffff_ffff;
                    let want = match op {
                        Op::Lt => a < v,
                        Op::Le => a <= v,
                        Op::Gt => a > v,
                        Op::Ge => a >= v,
                        Op::Ne => a != v,
                        Op::Eq => a == v,
                        Op::MaskedEq(_) => unreachable!(),
                    };
                    assert_eq!(
                        member(&bs, *x),
                        usize::from(want),
                        "{op:?} {v:#x} on {x:#x}"
                    );
                }
            }
        }
    }

    #[test]
    fn complement_of_one_value_takes_one_block_per_bit() {
        assert_eq!(blocks(Op::Ne, 40, 32).len(), 32);
        assert_eq!(blocks(Op::Ne, 40, 64).len(), 64);
        assert_eq!(blocks(Op::Lt, 38, 32).len(), 3);
    }

    #[test]
    fn difference_is_exact() {
        let mut a = Cube::ALL;
        a.args[1] = (0xffff_ffff, 0x5412);
        let all = [Cube::ALL];
        let rest = difference(&all, &[a]);
        for x in [0u64, 0x5412, 0x5413, 0x1_0000_5412, 0x5402] {
            let regs = [0, x, 0, 0, 0, 0];
            let n = rest.iter().filter(|c| c.contains(&regs)).count();
            assert_eq!(n, usize::from(x & 0xffff_ffff != 0x5412), "{x:#x}");
        }
    }

    #[test]
    fn masked_eq_compares_the_value_under_its_mask() {
        assert_eq!(blocks(Op::MaskedEq(0xf0), 0x1f, 32), vec![(0xf0, 0x10)]);
        assert_eq!(
            blocks(Op::MaskedEq(0x1_0000_0800), 0x800, 16),
            vec![(0x800, 0x800)]
        );
    }

    #[test]
    fn truncating_to_32_bits() {
        let mut c = Cube::ALL;
        c.args[0] = (u64::MAX, 0x1_0000_0000);
        assert_eq!(c.truncate(32), None);
        c.args[0] = (u64::MAX, 40);
        assert_eq!(c.truncate(32).unwrap().args[0], (0xffff_ffff, 40));
    }
}
