//! The instructions syscage puts in front of libseccomp's program:
//! - calls newer than the profile answer the plan's action (ENOSYS), as runc's patchbpf
//!   does, since libseccomp cannot compare a call number with a range;
//! - a call with a few exceptional values of one argument ([`Exception`]) has them
//!   compared here, and libseccomp's program allows the call outright.
//!
//! Only admitted ABIs get checks; everything else falls through to libseccomp's
//! architecture check, which kills it. The prefix uses only instructions the kernel's
//! action cache can emulate (loads of the number and ABI, JEQ/JGT/JGE with constants,
//! AND), so calls it passes on stay cacheable; argument loads happen only on the path of
//! the call they concern.

use crate::bpf::{
    SockFilter, BPF_ABS, BPF_ALU, BPF_AND, BPF_JA, BPF_JEQ, BPF_JGE, BPF_JGT, BPF_JMP, BPF_K,
    BPF_LD, BPF_RET, BPF_W,
};
use syscage_policy::arch::{AUDIT_ARCH_I386, AUDIT_ARCH_X86_64, X32_SYSCALL_BIT};
use syscage_policy::plan::{Exception, Plan};
use syscage_policy::Arch;

/// A tiny assembler with forward labels.
#[derive(Default)]
struct Asm {
    code: Vec<Op>,
    labels: Vec<Option<usize>>,
}

#[derive(Clone, Copy)]
enum Op {
    Ld(u32),
    And(u32),
    /// Conditional jump: op, constant, true label, false label.
    J(u16, u32, usize, usize),
    Ja(usize),
    Ret(u32),
}

impl Asm {
    fn label(&mut self) -> usize {
        self.labels.push(None);
        self.labels.len() - 1
    }

    fn bind(&mut self, l: usize) {
        self.labels[l] = Some(self.code.len());
    }

    fn emit(&mut self, op: Op) {
        self.code.push(op);
    }

    fn finish(self) -> Option<Vec<SockFilter>> {
        let at = |l: usize, from: usize| -> Option<usize> { self.labels[l]?.checked_sub(from + 1) };
        self.code
            .iter()
            .enumerate()
            .map(|(i, op)| {
                Some(match *op {
                    Op::Ld(k) => SockFilter::stmt(BPF_LD | BPF_W | BPF_ABS, k),
                    Op::And(k) => SockFilter::stmt(BPF_ALU | BPF_AND | BPF_K, k),
                    Op::J(op, k, t, f) => SockFilter::jump(
                        BPF_JMP | op | BPF_K,
                        k,
                        u8::try_from(at(t, i)?).ok()?,
                        u8::try_from(at(f, i)?).ok()?,
                    ),
                    Op::Ja(l) => SockFilter::stmt(BPF_JMP | BPF_JA, u32::try_from(at(l, i)?).ok()?),
                    Op::Ret(k) => SockFilter::stmt(BPF_RET | BPF_K, k),
                })
            })
            .collect()
    }
}

/// The prefix would need a jump longer than classic BPF's 255 instructions.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("the checks syscage puts before libseccomp's program are too long for BPF jumps ({0} instructions)")]
pub struct TooLong(pub usize);

/// The prefix for a plan (empty when there is nothing to check).
pub fn prefix(plan: &Plan) -> Result<Vec<SockFilter>, TooLong> {
    if plan.newer().is_none() && plan.exceptions().is_empty() {
        return Ok(vec![]);
    }
    let max_of = |a: Arch| {
        plan.newer()
            .as_ref()
            .and_then(|(_, m)| m.iter().find(|(x, _)| *x == a).map(|(_, m)| *m))
    };
    let newer_ret = plan.newer().as_ref().map(|(a, _)| a.to_ret());
    let mut a = Asm::default();
    let end = a.label();
    let enosys = a.label();
    let x86 = a.label();
    let m86 = max_of(Arch::X86).filter(|_| plan.arches().contains(&Arch::X86));
    let m32 = max_of(Arch::X32).filter(|_| plan.arches().contains(&Arch::X32));

    a.emit(Op::Ld(4));
    let x64 = a.label();
    a.emit(Op::J(
        BPF_JEQ,
        AUDIT_ARCH_X86_64,
        x64,
        if m86.is_some() { x86 } else { end },
    ));

    // x86_64 and x32 (same audit ABI; x32 numbers have bit 30).
    a.bind(x64);
    a.emit(Op::Ld(0));
    let x32 = a.label();
    let native = a.label();
    a.emit(Op::J(BPF_JGE, X32_SYSCALL_BIT, x32, native));
    a.bind(native);
    let exc_labels: Vec<usize> = plan.exceptions().iter().map(|_| a.label()).collect();
    for (e, l) in plan.exceptions().iter().zip(&exc_labels) {
        let next = a.label();
        a.emit(Op::J(BPF_JEQ, e.nr(), *l, next));
        a.bind(next);
    }
    match max_of(Arch::X86_64) {
        Some(m) if newer_ret.is_some() => a.emit(Op::J(BPF_JGT, m, enosys, end)),
        _ => a.emit(Op::Ja(end)),
    }
    a.bind(x32);
    match m32 {
        Some(m) => {
            // Above x32's highest number: newer. Its compat entry points 512..=547 are
            // old; below them, above the profile's newest call: newer.
            let t1 = a.label();
            let t2 = a.label();
            a.emit(Op::J(BPF_JGT, X32_SYSCALL_BIT | 547, enosys, t1));
            a.bind(t1);
            a.emit(Op::J(BPF_JGE, X32_SYSCALL_BIT | 512, end, t2));
            a.bind(t2);
            a.emit(Op::J(BPF_JGT, m, enosys, end));
        }
        // x32 not admitted (or no newer check): libseccomp decides (and kills it).
        None => a.emit(Op::Ja(end)),
    }

    // i386.
    a.bind(x86);
    if let Some(m) = m86 {
        let nr = a.label();
        a.emit(Op::J(BPF_JEQ, AUDIT_ARCH_I386, nr, end));
        a.bind(nr);
        a.emit(Op::Ld(0));
        a.emit(Op::J(BPF_JGT, m, enosys, end));
    } else {
        a.emit(Op::Ja(end));
    }

    // The exceptions: compare the argument's low word (masked to its width), each value.
    for (e, l) in plan.exceptions().iter().zip(&exc_labels) {
        a.bind(*l);
        emit_exception(&mut a, e, end);
    }

    a.bind(enosys);
    a.emit(Op::Ret(newer_ret.unwrap_or(0)));
    a.bind(end);
    // Never an empty prefix in place of one that does not fit: libseccomp's program
    // allows an excepted call outright, so leaving the prefix out would open it.
    let len = a.code.len();
    a.finish().ok_or(TooLong(len))
}

fn emit_exception(a: &mut Asm, e: &Exception, end: usize) {
    a.emit(Op::Ld(16 + 8 * u32::from(e.index())));
    if e.bits() < 32 {
        a.emit(Op::And(((1u64 << e.bits()) - 1) as u32));
    }
    let hit = a.label();
    for v in e.values() {
        let next = a.label();
        a.emit(Op::J(BPF_JEQ, *v as u32, hit, next));
        a.bind(next);
    }
    a.emit(Op::Ja(end));
    a.bind(hit);
    a.emit(Op::Ret(e.action().to_ret()));
}
