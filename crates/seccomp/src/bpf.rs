//! Classic BPF as seccomp runs it: the instruction type, and an interpreter over
//! `struct seccomp_data`.
//!
//! The interpreter lets `syscage profile check` and the tests run the very program the
//! kernel will run, instruction by instruction, instead of trusting a model of it. It
//! accepts the instructions the kernel's `seccomp_check_filter` accepts
//! (kernel/seccomp.c) and refuses the rest.

use std::fmt;
use syscage_policy::arch::{Arch, AUDIT_ARCH_X86_64};

/// `struct sock_filter`.
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct SockFilter {
    pub code: u16,
    pub jt: u8,
    pub jf: u8,
    pub k: u32,
}

impl SockFilter {
    pub const fn stmt(code: u16, k: u32) -> SockFilter {
        SockFilter {
            code,
            jt: 0,
            jf: 0,
            k,
        }
    }

    pub const fn jump(code: u16, k: u32, jt: u8, jf: u8) -> SockFilter {
        SockFilter { code, jt, jf, k }
    }
}

// Instruction classes and fields (include/uapi/linux/filter.h, bpf_common.h).
pub const BPF_LD: u16 = 0x00;
pub const BPF_LDX: u16 = 0x01;
pub const BPF_ST: u16 = 0x02;
pub const BPF_STX: u16 = 0x03;
pub const BPF_ALU: u16 = 0x04;
pub const BPF_JMP: u16 = 0x05;
pub const BPF_RET: u16 = 0x06;
pub const BPF_MISC: u16 = 0x07;
pub const BPF_W: u16 = 0x00;
pub const BPF_ABS: u16 = 0x20;
pub const BPF_IMM: u16 = 0x00;
pub const BPF_MEM: u16 = 0x60;
pub const BPF_LEN: u16 = 0x80;
pub const BPF_K: u16 = 0x00;
pub const BPF_X: u16 = 0x08;
pub const BPF_A: u16 = 0x10;
pub const BPF_ADD: u16 = 0x00;
pub const BPF_SUB: u16 = 0x10;
pub const BPF_MUL: u16 = 0x20;
pub const BPF_DIV: u16 = 0x30;
pub const BPF_OR: u16 = 0x40;
pub const BPF_AND: u16 = 0x50;
pub const BPF_LSH: u16 = 0x60;
pub const BPF_RSH: u16 = 0x70;
pub const BPF_NEG: u16 = 0x80;
pub const BPF_MOD: u16 = 0x90;
pub const BPF_XOR: u16 = 0xa0;
pub const BPF_JA: u16 = 0x00;
pub const BPF_JEQ: u16 = 0x10;
pub const BPF_JGT: u16 = 0x20;
pub const BPF_JGE: u16 = 0x30;
pub const BPF_JSET: u16 = 0x40;
pub const BPF_TAX: u16 = 0x00;
pub const BPF_TXA: u16 = 0x80;

/// `BPF_MAXINSNS`: the kernel refuses longer programs.
pub const MAX_INSNS: usize = 4096;
/// `sizeof(struct seccomp_data)`.
pub const SECCOMP_DATA_LEN: u32 = 64;
const MEM_WORDS: usize = 16;

/// The input of a seccomp filter.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SeccompData {
    pub nr: u32,
    pub arch: u32,
    pub instruction_pointer: u64,
    pub args: [u64; 6],
}

impl SeccompData {
    /// What the kernel hands the filter for call `nr` of an x86 ABI: the ABI's
    /// `AUDIT_ARCH_*` ([`Arch::audit_arch`]; syscage compiles every other ABI's rules as
    /// x86_64's, see `compile`), no instruction pointer, the registers as given.
    pub fn new(arch: Arch, nr: u32, args: [u64; 6]) -> SeccompData {
        SeccompData {
            nr,
            arch: arch.audit_arch().unwrap_or(AUDIT_ARCH_X86_64),
            instruction_pointer: 0,
            args,
        }
    }

    /// The 32-bit word at byte `offset`, little-endian as on x86.
    fn word(&self, offset: u32) -> Option<u32> {
        if !offset.is_multiple_of(4) {
            return None;
        }
        Some(match offset {
            0 => self.nr,
            4 => self.arch,
            8 => self.instruction_pointer as u32,
            12 => (self.instruction_pointer >> 32) as u32,
            16..=60 => {
                let i = ((offset - 16) / 8) as usize;
                let v = self.args[i];
                if (offset - 16).is_multiple_of(8) {
                    v as u32
                } else {
                    (v >> 32) as u32
                }
            }
            _ => return None,
        })
    }
}

/// Why a program cannot run.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BpfError {
    #[error("the program is empty")]
    Empty,
    #[error("the program has {0} instructions; the kernel accepts at most {MAX_INSNS}")]
    TooLong(usize),
    #[error("instruction {at}: opcode {code:#06x} is not allowed in a seccomp filter")]
    BadOpcode { at: usize, code: u16 },
    #[error("instruction {at}: jump beyond the end of the program")]
    BadJump { at: usize },
    #[error("instruction {at}: load from offset {k} outside seccomp_data")]
    BadLoad { at: usize, k: u32 },
    #[error("instruction {at}: scratch memory index {k} out of range")]
    BadMem { at: usize, k: u32 },
    #[error("instruction {at}: division by zero")]
    DivZero { at: usize },
    #[error("the program can end without a return instruction")]
    NoReturn,
}

/// Checks a program the way the kernel does before loading it: every opcode allowed, every
/// jump in range, the last instruction a return.
pub fn validate(prog: &[SockFilter]) -> Result<(), BpfError> {
    if prog.is_empty() {
        return Err(BpfError::Empty);
    }
    if prog.len() > MAX_INSNS {
        return Err(BpfError::TooLong(prog.len()));
    }
    for (at, ins) in prog.iter().enumerate() {
        let class = ins.code & 0x07;
        let ok = match class {
            BPF_LD => {
                matches!(ins.code, c if c == BPF_LD | BPF_W | BPF_ABS || c == BPF_LD | BPF_W | BPF_LEN || c == BPF_LD | BPF_IMM || c == BPF_LD | BPF_MEM)
            }
            BPF_LDX => {
                matches!(ins.code, c if c == BPF_LDX | BPF_W | BPF_LEN || c == BPF_LDX | BPF_IMM || c == BPF_LDX | BPF_MEM)
            }
            BPF_ST | BPF_STX => ins.code == class,
            BPF_ALU => {
                let op = ins.code & 0xf0;
                matches!(
                    op,
                    BPF_ADD
                        | BPF_SUB
                        | BPF_MUL
                        | BPF_DIV
                        | BPF_OR
                        | BPF_AND
                        | BPF_LSH
                        | BPF_RSH
                        | BPF_NEG
                        | BPF_MOD
                        | BPF_XOR
                )
            }
            BPF_JMP => matches!(
                ins.code & 0xf0,
                BPF_JA | BPF_JEQ | BPF_JGT | BPF_JGE | BPF_JSET
            ),
            BPF_RET => matches!(ins.code & 0x18, BPF_K | BPF_A),
            BPF_MISC => matches!(ins.code & 0xf8, BPF_TAX | BPF_TXA),
            _ => false,
        };
        if !ok {
            return Err(BpfError::BadOpcode { at, code: ins.code });
        }
        if class == BPF_LD
            && ins.code & 0xe0 == BPF_ABS
            && (ins.k >= SECCOMP_DATA_LEN || ins.k % 4 != 0)
        {
            return Err(BpfError::BadLoad { at, k: ins.k });
        }
        let uses_mem = matches!(class, BPF_ST | BPF_STX)
            || (matches!(class, BPF_LD | BPF_LDX) && ins.code & 0xe0 == BPF_MEM);
        if uses_mem && ins.k as usize >= MEM_WORDS {
            return Err(BpfError::BadMem { at, k: ins.k });
        }
        if class == BPF_JMP {
            let rest = prog.len() - at - 1;
            let bad = if ins.code & 0xf0 == BPF_JA {
                ins.k as usize >= rest
            } else {
                usize::from(ins.jt) >= rest || usize::from(ins.jf) >= rest
            };
            if bad {
                return Err(BpfError::BadJump { at });
            }
        }
    }
    if prog[prog.len() - 1].code & 0x07 != BPF_RET {
        return Err(BpfError::NoReturn);
    }
    Ok(())
}

/// Runs a program over a call and returns the 32-bit value the filter returns.
pub fn run(prog: &[SockFilter], data: &SeccompData) -> Result<u32, BpfError> {
    validate(prog)?;
    let (mut a, mut x) = (0u32, 0u32);
    let mut mem = [0u32; MEM_WORDS];
    let mut pc = 0usize;
    while pc < prog.len() {
        let ins = prog[pc];
        let class = ins.code & 0x07;
        pc += 1;
        match class {
            BPF_LD => {
                a = match ins.code & 0xe0 {
                    BPF_ABS => data.word(ins.k).ok_or(BpfError::BadLoad {
                        at: pc - 1,
                        k: ins.k,
                    })?,
                    BPF_LEN => SECCOMP_DATA_LEN,
                    BPF_IMM => ins.k,
                    _ => mem[ins.k as usize],
                }
            }
            BPF_LDX => {
                x = match ins.code & 0xe0 {
                    BPF_LEN => SECCOMP_DATA_LEN,
                    BPF_IMM => ins.k,
                    _ => mem[ins.k as usize],
                }
            }
            BPF_ST => mem[ins.k as usize] = a,
            BPF_STX => mem[ins.k as usize] = x,
            BPF_ALU => {
                let operand = if ins.code & BPF_X != 0 { x } else { ins.k };
                a = match ins.code & 0xf0 {
                    BPF_ADD => a.wrapping_add(operand),
                    BPF_SUB => a.wrapping_sub(operand),
                    BPF_MUL => a.wrapping_mul(operand),
                    BPF_DIV => a
                        .checked_div(operand)
                        .ok_or(BpfError::DivZero { at: pc - 1 })?,
                    BPF_MOD => a
                        .checked_rem(operand)
                        .ok_or(BpfError::DivZero { at: pc - 1 })?,
                    BPF_OR => a | operand,
                    BPF_AND => a & operand,
                    BPF_XOR => a ^ operand,
                    BPF_LSH => a.checked_shl(operand).unwrap_or(0),
                    BPF_RSH => a.checked_shr(operand).unwrap_or(0),
                    _ => a.wrapping_neg(),
                }
            }
            BPF_JMP => {
                let operand = if ins.code & BPF_X != 0 { x } else { ins.k };
                let op = ins.code & 0xf0;
                if op == BPF_JA {
                    pc += ins.k as usize;
                    continue;
                }
                let taken = match op {
                    BPF_JEQ => a == operand,
                    BPF_JGT => a > operand,
                    BPF_JGE => a >= operand,
                    _ => a & operand != 0,
                };
                pc += usize::from(if taken { ins.jt } else { ins.jf });
            }
            BPF_RET => return Ok(if ins.code & 0x18 == BPF_A { a } else { ins.k }),
            _ => {
                if ins.code & 0xf8 == BPF_TXA {
                    a = x;
                } else {
                    x = a;
                }
            }
        }
    }
    Err(BpfError::NoReturn)
}

/// The raw bytes of a program (host endianness), as libseccomp exports it and as
/// `bwrap --seccomp FD` reads it.
pub fn to_bytes(prog: &[SockFilter]) -> Vec<u8> {
    let mut out = Vec::with_capacity(prog.len() * 8);
    for i in prog {
        out.extend_from_slice(&i.code.to_ne_bytes());
        out.push(i.jt);
        out.push(i.jf);
        out.extend_from_slice(&i.k.to_ne_bytes());
    }
    out
}

/// Parses raw program bytes; `None` unless the length is a multiple of 8.
pub fn from_bytes(bytes: &[u8]) -> Option<Vec<SockFilter>> {
    if !bytes.len().is_multiple_of(8) {
        return None;
    }
    Some(
        bytes
            .chunks_exact(8)
            .map(|c| SockFilter {
                code: u16::from_ne_bytes([c[0], c[1]]),
                jt: c[2],
                jf: c[3],
                k: u32::from_ne_bytes([c[4], c[5], c[6], c[7]]),
            })
            .collect(),
    )
}

impl fmt::Display for SockFilter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{{ {:#06x}, {:3}, {:3}, {:#010x} }}",
            self.code, self.jt, self.jf, self.k
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn data(nr: u32, args: [u64; 6]) -> SeccompData {
        SeccompData {
            nr,
            arch: 0xC000_003E,
            instruction_pointer: 0,
            args,
        }
    }

    #[test]
    fn runs_a_small_filter() {
        // if nr == 39 && (args[1] low word) == 5 -> ERRNO(1) else ALLOW
        let prog = [
            SockFilter::stmt(BPF_LD | BPF_W | BPF_ABS, 0),
            SockFilter::jump(BPF_JMP | BPF_JEQ | BPF_K, 39, 0, 3),
            SockFilter::stmt(BPF_LD | BPF_W | BPF_ABS, 24),
            SockFilter::jump(BPF_JMP | BPF_JEQ | BPF_K, 5, 0, 1),
            SockFilter::stmt(BPF_RET | BPF_K, 0x0005_0001),
            SockFilter::stmt(BPF_RET | BPF_K, 0x7fff_0000),
        ];
        assert_eq!(run(&prog, &data(39, [0, 5, 0, 0, 0, 0])), Ok(0x0005_0001));
        assert_eq!(
            run(&prog, &data(39, [0, 5 | 1 << 32, 0, 0, 0, 0])),
            Ok(0x0005_0001)
        );
        assert_eq!(run(&prog, &data(39, [0, 6, 0, 0, 0, 0])), Ok(0x7fff_0000));
        assert_eq!(run(&prog, &data(40, [0, 5, 0, 0, 0, 0])), Ok(0x7fff_0000));
        assert_eq!(from_bytes(&to_bytes(&prog)).as_deref(), Some(&prog[..]));
    }

    #[test]
    fn refuses_what_the_kernel_refuses() {
        assert_eq!(validate(&[]), Err(BpfError::Empty));
        let jump_out = [
            SockFilter::jump(BPF_JMP | BPF_JEQ | BPF_K, 0, 5, 0),
            SockFilter::stmt(BPF_RET | BPF_K, 0),
        ];
        assert_eq!(validate(&jump_out), Err(BpfError::BadJump { at: 0 }));
        let bad_load = [
            SockFilter::stmt(BPF_LD | BPF_W | BPF_ABS, 64),
            SockFilter::stmt(BPF_RET | BPF_K, 0),
        ];
        assert_eq!(validate(&bad_load), Err(BpfError::BadLoad { at: 0, k: 64 }));
        let no_ret = [SockFilter::stmt(BPF_LD | BPF_W | BPF_ABS, 0)];
        assert_eq!(validate(&no_ret), Err(BpfError::NoReturn));
        let bad_op = [
            SockFilter::stmt(0x0028, 0),
            SockFilter::stmt(BPF_RET | BPF_K, 0),
        ];
        assert_eq!(
            validate(&bad_op),
            Err(BpfError::BadOpcode { at: 0, code: 0x28 })
        );
    }
}
