//! Argument conditions: `args[i] OP value`, and what the kernel really sees of an argument.

use crate::syscalls::ArgType;
use std::fmt;

/// The seven comparison operators of libseccomp. Comparisons are unsigned.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Op {
    Ne,
    Lt,
    Le,
    Eq,
    Ge,
    Gt,
    /// `(arg & mask) == value`.
    MaskedEq(u64),
}

/// One condition on one argument.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Cond {
    index: u8,
    op: Op,
    value: u64,
}

/// The highest argument index a seccomp filter can look at (`seccomp_data.args[6]`).
pub const MAX_ARG_INDEX: u8 = 5;

impl Cond {
    /// A condition; `None` when `index` is above 5. A SCMP_CMP_MASKED_EQ value keeps only
    /// the bits of its mask: libseccomp masks it (`_db_node_mask_fixup`), so runc and crun
    /// compare `arg & mask` with `value & mask`, and so does syscage.
    pub fn new(index: u8, op: Op, value: u64) -> Option<Cond> {
        let value = match op {
            Op::MaskedEq(m) => value & m,
            _ => value,
        };
        (index <= MAX_ARG_INDEX).then_some(Cond { index, op, value })
    }

    pub fn index(&self) -> u8 {
        self.index
    }

    pub fn op(&self) -> Op {
        self.op
    }

    pub fn value(&self) -> u64 {
        self.value
    }

    /// Whether a call whose argument register holds `raw` meets the condition, judged on
    /// the bits the kernel uses: an argument the kernel declares 32-bit (`int`, `unsigned
    /// int`) or 16-bit (`umode_t`) is truncated before the system call sees it, so the
    /// condition compares the truncated register with the truncated value. This is the
    /// meaning syscage gives every condition; the compiler emits BPF that decides exactly
    /// this, whatever the upper bits of the register hold.
    pub fn matches(&self, raw: u64, bits: u32) -> bool {
        let m = width_mask(bits);
        let a = raw & m;
        let v = self.value & m;
        match self.op {
            Op::Ne => a != v,
            Op::Lt => a < v,
            Op::Le => a <= v,
            Op::Eq => a == v,
            Op::Ge => a >= v,
            Op::Gt => a > v,
            Op::MaskedEq(mask) => a & (mask & m) == v,
        }
    }

    /// The operator's Docker name.
    pub fn op_docker_name(&self) -> &'static str {
        op_docker_name(self.op)
    }
}

/// All ones in the low `bits` bits.
pub fn width_mask(bits: u32) -> u64 {
    if bits >= 64 {
        u64::MAX
    } else {
        (1u64 << bits) - 1
    }
}

/// Fits `value` into an argument of `ty`: a value within the width is kept; a value that is
/// the sign extension of a negative number within the width (AT_FDCWD written as
/// 0xffffffffffffff9c for an `int dirfd`) is truncated. Anything else cannot be what the
/// kernel sees, and `None` says so.
pub fn fit_value(value: u64, ty: ArgType) -> Option<u64> {
    let bits = ty.bits();
    if bits >= 64 {
        return Some(value);
    }
    let m = width_mask(bits);
    if value & !m == 0 {
        return Some(value);
    }
    let sign = 1u64 << (bits - 1);
    if value & !m == !m && value & sign != 0 {
        return Some(value & m);
    }
    None
}

pub fn op_docker_name(op: Op) -> &'static str {
    match op {
        Op::Ne => "SCMP_CMP_NE",
        Op::Lt => "SCMP_CMP_LT",
        Op::Le => "SCMP_CMP_LE",
        Op::Eq => "SCMP_CMP_EQ",
        Op::Ge => "SCMP_CMP_GE",
        Op::Gt => "SCMP_CMP_GT",
        Op::MaskedEq(_) => "SCMP_CMP_MASKED_EQ",
    }
}

impl fmt::Display for Cond {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let i = self.index;
        let v = self.value;
        match self.op {
            Op::Ne => write!(f, "arg{i} != {v:#x}"),
            Op::Lt => write!(f, "arg{i} < {v:#x}"),
            Op::Le => write!(f, "arg{i} <= {v:#x}"),
            Op::Eq => write!(f, "arg{i} == {v:#x}"),
            Op::Ge => write!(f, "arg{i} >= {v:#x}"),
            Op::Gt => write!(f, "arg{i} > {v:#x}"),
            Op::MaskedEq(m) => write!(f, "arg{i} & {m:#x} == {v:#x}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn truncates_like_the_kernel() {
        let c = Cond::new(0, Op::Eq, 40).unwrap();
        assert!(c.matches(40, 64));
        assert!(!c.matches(40 | 1 << 32, 64));
        assert!(c.matches(40 | 1 << 32, 32), "the kernel sees 40");
        let gt = Cond::new(0, Op::Gt, 40).unwrap();
        assert!(gt.matches(40 | 1 << 32, 64));
        assert!(!gt.matches(40 | 1 << 32, 32));
        let suid = Cond::new(1, Op::MaskedEq(0o4000), 0o4000).unwrap();
        assert!(suid.matches(0o4755 | 1 << 40, 16));
        assert!(!suid.matches(0o755 | 1 << 40, 16));
    }

    #[test]
    fn index_above_five_is_refused() {
        assert!(Cond::new(5, Op::Eq, 0).is_some());
        assert!(Cond::new(6, Op::Eq, 0).is_none());
    }

    #[test]
    fn fits_values_to_the_argument_width() {
        assert_eq!(fit_value(0xffff_ffff, ArgType::UInt), Some(0xffff_ffff));
        assert_eq!(
            fit_value(0xffff_ffff_ffff_ff9c, ArgType::Int),
            Some(0xffff_ff9c)
        );
        assert_eq!(fit_value(1 << 32 | 40, ArgType::Int), None);
        assert_eq!(fit_value(0x1_0000 | 0o4755, ArgType::UShort), None);
        assert_eq!(fit_value(0o4755, ArgType::UShort), Some(0o4755));
        assert_eq!(fit_value(u64::MAX, ArgType::Long), Some(u64::MAX));
    }
}
