//! Architectures (ABIs) a filter can admit.
//!
//! A seccomp filter sees the ABI of every system call: on an x86_64 kernel that is native
//! x86_64, i386 (through `int 0x80` or a 32-bit program) and x32 (x86_64's
//! `AUDIT_ARCH_X86_64` with bit 30 set in the number). syscage compiles filters for the x86
//! ABIs; the other names are known so that profiles written for several machines (Docker's
//! `archMap`) load unchanged and their foreign entries are ignored.

use std::fmt;

/// One ABI, named as libseccomp names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Arch {
    X86_64,
    X86,
    X32,
    Aarch64,
    Arm,
    Mips,
    Mips64,
    Mips64N32,
    Mipsel,
    Mipsel64,
    Mipsel64N32,
    Ppc,
    Ppc64,
    Ppc64Le,
    S390,
    S390X,
    Parisc,
    Parisc64,
    Riscv64,
    Loongarch64,
    M68k,
    Sh,
    Sheb,
}

/// (variant, libseccomp name, short name)
const TABLE: &[(Arch, &str, &str)] = &[
    (Arch::X86_64, "SCMP_ARCH_X86_64", "x86_64"),
    (Arch::X86, "SCMP_ARCH_X86", "x86"),
    (Arch::X32, "SCMP_ARCH_X32", "x32"),
    (Arch::Aarch64, "SCMP_ARCH_AARCH64", "aarch64"),
    (Arch::Arm, "SCMP_ARCH_ARM", "arm"),
    (Arch::Mips, "SCMP_ARCH_MIPS", "mips"),
    (Arch::Mips64, "SCMP_ARCH_MIPS64", "mips64"),
    (Arch::Mips64N32, "SCMP_ARCH_MIPS64N32", "mips64n32"),
    (Arch::Mipsel, "SCMP_ARCH_MIPSEL", "mipsel"),
    (Arch::Mipsel64, "SCMP_ARCH_MIPSEL64", "mipsel64"),
    (Arch::Mipsel64N32, "SCMP_ARCH_MIPSEL64N32", "mipsel64n32"),
    (Arch::Ppc, "SCMP_ARCH_PPC", "ppc"),
    (Arch::Ppc64, "SCMP_ARCH_PPC64", "ppc64"),
    (Arch::Ppc64Le, "SCMP_ARCH_PPC64LE", "ppc64le"),
    (Arch::S390, "SCMP_ARCH_S390", "s390"),
    (Arch::S390X, "SCMP_ARCH_S390X", "s390x"),
    (Arch::Parisc, "SCMP_ARCH_PARISC", "parisc"),
    (Arch::Parisc64, "SCMP_ARCH_PARISC64", "parisc64"),
    (Arch::Riscv64, "SCMP_ARCH_RISCV64", "riscv64"),
    (Arch::Loongarch64, "SCMP_ARCH_LOONGARCH64", "loongarch64"),
    (Arch::M68k, "SCMP_ARCH_M68K", "m68k"),
    (Arch::Sh, "SCMP_ARCH_SH", "sh"),
    (Arch::Sheb, "SCMP_ARCH_SHEB", "sheb"),
];

/// Architecture names Docker profiles use in `includes.arches`/`excludes.arches`. Docker
/// compares them with Go's `runtime.GOARCH` of the machine, so on x86_64 only `amd64`
/// ever matches; the others are valid names that match on other machines (or never).
const DOCKER_ARCH_NAMES: &[&str] = &[
    "amd64",
    "386",
    "x86",
    "x32",
    "arm",
    "arm64",
    "mips",
    "mipsle",
    "mips64",
    "mips64le",
    "mips64n32",
    "mips64n32le",
    "mipsel",
    "mipsel64",
    "mipsel64n32",
    "ppc",
    "ppc64",
    "ppc64le",
    "s390",
    "s390x",
    "riscv64",
    "loong64",
    "loongarch64",
    "parisc",
    "parisc64",
];

/// `AUDIT_ARCH_X86_64` (`EM_X86_64 | __AUDIT_ARCH_64BIT | __AUDIT_ARCH_LE`), what
/// `seccomp_data.arch` holds for x86_64 and x32 system calls.
pub const AUDIT_ARCH_X86_64: u32 = 0xC000_003E;
/// `AUDIT_ARCH_I386`, for i386 system calls.
pub const AUDIT_ARCH_I386: u32 = 0x4000_0003;
/// `__X32_SYSCALL_BIT`: x32 system call numbers have it set.
pub const X32_SYSCALL_BIT: u32 = 0x4000_0000;

impl Arch {
    /// The ABI of the machine syscage runs on. syscage is built for x86_64 only.
    pub fn native() -> Arch {
        Arch::X86_64
    }

    /// Parses `SCMP_ARCH_X86_64` or the short form `x86_64`, in any case; also `i386` and
    /// `amd64`, the spellings users type.
    pub fn parse(s: &str) -> Option<Arch> {
        let lower = s.trim().to_ascii_lowercase();
        let bare = lower.strip_prefix("scmp_arch_").unwrap_or(&lower);
        let bare = match bare {
            "i386" | "i686" | "386" => "x86",
            "amd64" => "x86_64",
            "arm64" => "aarch64",
            other => other,
        };
        TABLE
            .iter()
            .find(|(_, _, short)| *short == bare)
            .map(|(a, _, _)| *a)
    }

    /// `SCMP_ARCH_X86_64`.
    pub fn scmp_name(self) -> &'static str {
        self.entry().1
    }

    /// `x86_64`.
    pub fn short_name(self) -> &'static str {
        self.entry().2
    }

    /// Whether syscage can compile rules for this ABI (the x86 family, on an x86_64 host).
    pub fn is_x86(self) -> bool {
        matches!(self, Arch::X86_64 | Arch::X86 | Arch::X32)
    }

    /// How many low bits of each argument register a filter compares on this ABI: i386
    /// registers are 32-bit, and libseccomp compares only the low 32 bits on x32 too.
    pub fn compared_bits(self) -> u32 {
        match self {
            Arch::X86 | Arch::X32 => 32,
            _ => 64,
        }
    }

    /// The name Docker gives the native machine in `includes.arches` (Go's GOARCH).
    pub fn docker_name(self) -> &'static str {
        match self {
            Arch::X86_64 => "amd64",
            Arch::X86 => "386",
            Arch::Aarch64 => "arm64",
            other => other.short_name(),
        }
    }

    /// The `seccomp_data.arch` value the kernel reports for this ABI (x86 family only).
    pub fn audit_arch(self) -> Option<u32> {
        match self {
            Arch::X86_64 | Arch::X32 => Some(AUDIT_ARCH_X86_64),
            Arch::X86 => Some(AUDIT_ARCH_I386),
            _ => None,
        }
    }

    fn entry(self) -> &'static (Arch, &'static str, &'static str) {
        // Every variant has a row: the test below checks it.
        TABLE
            .iter()
            .find(|(a, _, _)| *a == self)
            .unwrap_or(&TABLE[0])
    }

    pub fn all() -> impl Iterator<Item = Arch> {
        TABLE.iter().map(|(a, _, _)| *a)
    }
}

/// Whether `name` is an architecture name Docker profiles use in `includes`/`excludes`.
pub fn is_docker_arch_name(name: &str) -> bool {
    DOCKER_ARCH_NAMES.contains(&name)
}

impl fmt::Display for Arch {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.short_name())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_variant_has_a_table_row() {
        for (i, (a, _, _)) in TABLE.iter().enumerate() {
            assert_eq!(a.entry().0, *a, "row {i}");
        }
        assert_eq!(Arch::all().count(), 23);
    }

    #[test]
    fn parses_scmp_and_short_names() {
        assert_eq!(Arch::parse("SCMP_ARCH_X86_64"), Some(Arch::X86_64));
        assert_eq!(Arch::parse("x32"), Some(Arch::X32));
        assert_eq!(Arch::parse("i386"), Some(Arch::X86));
        assert_eq!(
            Arch::parse("SCMP_ARCH_LOONGARCH64"),
            Some(Arch::Loongarch64)
        );
        assert_eq!(Arch::parse("SCMP_ARCH_X86-64"), None);
        assert_eq!(Arch::parse("vax"), None);
    }
}
