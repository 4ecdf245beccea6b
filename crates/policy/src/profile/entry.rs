//! One entry of `syscalls[]` and its parts. Fields are private: a constructor refuses what
//! no runtime could load or what would mean something else than it says, whether the
//! entry comes from a file or from code (`learn` builds entries itself).

use super::error::{EntryError, ErrorKind};
use super::KernelVersion;
use crate::action::{Action, MAX_LOADABLE_ERRNO};
use crate::arch;
use crate::caps::Cap;
use crate::cond::{fit_value, Cond, Op, MAX_ARG_INDEX};
use crate::syscalls;

/// One condition of `args[]`: `args[index] OP value` (for SCMP_CMP_MASKED_EQ, the mask is
/// in the operator and `value` is the Docker format's `valueTwo`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ArgSpec {
    index: u8,
    op: Op,
    value: u64,
}

impl ArgSpec {
    /// A condition on argument `index` (0..=5: seccomp sees six arguments).
    pub fn new(index: u8, op: Op, value: u64) -> Result<ArgSpec, ErrorKind> {
        if index > MAX_ARG_INDEX {
            return Err(ErrorKind::IndexRange(u64::from(index)));
        }
        Ok(ArgSpec { index, op, value })
    }

    /// The spec of a resolved condition (whose index is in range).
    pub fn from_cond(c: Cond) -> ArgSpec {
        ArgSpec {
            index: c.index(),
            op: c.op(),
            value: c.value(),
        }
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
}

/// `includes`/`excludes`: the rule applies (or not) depending on the run.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Filter {
    caps: Vec<Cap>,
    arches: Vec<String>,
    min_kernel: Option<KernelVersion>,
}

impl Filter {
    /// `arches` are Docker's names (`amd64`, `x32`, `arm64`...); `Err` names the position of
    /// one it does not know.
    pub fn new(
        caps: Vec<Cap>,
        arches: Vec<String>,
        min_kernel: Option<KernelVersion>,
    ) -> Result<Filter, (usize, ErrorKind)> {
        if let Some(i) = arches.iter().position(|a| !arch::is_docker_arch_name(a)) {
            return Err((i, ErrorKind::UnknownArch(arches[i].clone())));
        }
        Ok(Filter {
            caps,
            arches,
            min_kernel,
        })
    }

    pub fn caps(&self) -> &[Cap] {
        &self.caps
    }

    /// Docker architecture names.
    pub fn arches(&self) -> &[String] {
        &self.arches
    }

    pub fn min_kernel(&self) -> Option<KernelVersion> {
        self.min_kernel
    }

    pub fn is_empty(&self) -> bool {
        self.caps.is_empty() && self.arches.is_empty() && self.min_kernel.is_none()
    }
}

/// One entry of `syscalls[]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SyscallEntry {
    names: Vec<String>,
    unknown: Vec<String>,
    action: Action,
    args: Vec<ArgSpec>,
    comment: Option<String>,
    includes: Filter,
    excludes: Filter,
}

/// The calls the supervisor itself makes to report or continue a notified call; NOTIFY on
/// them would wait for an answer that can never come.
fn is_supervisor_write(name: &str) -> bool {
    name == "write"
}

/// Refuses an action libseccomp 2.5 cannot load.
pub(crate) fn check_action(action: Action) -> Result<(), ErrorKind> {
    match action {
        Action::Errno(e) if e > MAX_LOADABLE_ERRNO => Err(ErrorKind::ErrnoRange(u64::from(e))),
        _ => Ok(()),
    }
}

impl SyscallEntry {
    /// An entry for `names` (each a system call of the x86 ABIs or a name Docker's profiles
    /// use on other architectures), with `action` when the conditions hold (see
    /// [`SyscallEntry::alternatives`]).
    pub fn new(
        names: Vec<String>,
        action: Action,
        args: Vec<ArgSpec>,
    ) -> Result<SyscallEntry, EntryError> {
        SyscallEntry::build(names, false, action, args)
    }

    /// As [`SyscallEntry::new`], but names syscage does not know are kept aside rather than
    /// refused (`--seccomp-ignore-unknown`, runc's behaviour): the entry does not cover them.
    pub fn new_skipping_unknown(
        names: Vec<String>,
        action: Action,
        args: Vec<ArgSpec>,
    ) -> Result<SyscallEntry, EntryError> {
        SyscallEntry::build(names, true, action, args)
    }

    fn build(
        written: Vec<String>,
        skip_unknown: bool,
        action: Action,
        args: Vec<ArgSpec>,
    ) -> Result<SyscallEntry, EntryError> {
        if written.is_empty() {
            return Err(EntryError::at("names", ErrorKind::EmptyNames));
        }
        let mut names = Vec::new();
        let mut unknown = Vec::new();
        for (i, name) in written.into_iter().enumerate() {
            if syscalls::lookup(&name).is_some() || syscalls::is_other_arch(&name) {
                names.push(name);
            } else if skip_unknown {
                unknown.push(name);
            } else {
                let hint = syscalls::suggest(&name)
                    .map(|s| format!(" (did you mean `{s}`?)"))
                    .unwrap_or_default();
                return Err(EntryError::at(
                    format!("names[{i}]"),
                    ErrorKind::UnknownSyscall { name, hint },
                ));
            }
        }
        check_action(action).map_err(|k| EntryError::at("action", k))?;
        if action == Action::Notify {
            if let Some(w) = names.iter().find(|n| is_supervisor_write(n)) {
                return Err(EntryError::at("action", ErrorKind::NotifyWrite(w.clone())));
            }
        }
        // A value the kernel cannot see in that argument of some name: no call could be
        // what the condition describes, and other runtimes would read it otherwise.
        for (pos, a) in args.iter().enumerate() {
            for name in &names {
                let Some(info) = syscalls::lookup(name) else {
                    continue;
                };
                let Some(arg) = info.args.get(usize::from(a.index)) else {
                    continue;
                };
                let raw = match a.op {
                    Op::MaskedEq(m) => a.value & m,
                    _ => a.value,
                };
                if fit_value(raw, arg.ty).is_none() {
                    return Err(EntryError::at(
                        format!("args[{pos}]"),
                        ErrorKind::ValueTooWide {
                            value: raw,
                            syscall: name.clone(),
                            arg: arg.name.to_string(),
                            bits: arg.ty.bits(),
                        },
                    ));
                }
            }
        }
        Ok(SyscallEntry {
            names,
            unknown,
            action,
            args,
            comment: None,
            includes: Filter::default(),
            excludes: Filter::default(),
        })
    }

    /// The same entry for `names` with `args` instead: for the writer, whose conditions
    /// mean what the entry's mean on the same names (see `portable`).
    pub(crate) fn rewritten(
        &self,
        names: Vec<String>,
        unknown: Vec<String>,
        args: Vec<ArgSpec>,
        comment: Option<String>,
    ) -> SyscallEntry {
        SyscallEntry {
            names,
            unknown,
            args,
            comment,
            ..self.clone()
        }
    }

    /// A free-text comment (an empty one is none).
    pub fn with_comment(mut self, comment: Option<String>) -> SyscallEntry {
        self.comment = comment.filter(|c| !c.is_empty());
        self
    }

    pub fn with_includes(mut self, f: Filter) -> SyscallEntry {
        self.includes = f;
        self
    }

    pub fn with_excludes(mut self, f: Filter) -> SyscallEntry {
        self.excludes = f;
        self
    }

    /// Names as written, each a known x86 system call or a known name of another
    /// architecture.
    pub fn names(&self) -> &[String] {
        &self.names
    }

    /// Names the reader did not know and was told to skip.
    pub fn unknown(&self) -> &[String] {
        &self.unknown
    }

    pub fn action(&self) -> Action {
        self.action
    }

    pub fn args(&self) -> &[ArgSpec] {
        &self.args
    }

    pub fn comment(&self) -> Option<&str> {
        self.comment.as_deref()
    }

    pub fn includes(&self) -> &Filter {
        &self.includes
    }

    pub fn excludes(&self) -> &Filter {
        &self.excludes
    }

    /// The entry's conditions as the rules they make, each a list of (position in `args`,
    /// condition) that must all hold; the entry matches a call when any rule does.
    ///
    /// This is how runc (`matchCall`), crun (`seccomp.c`) and youki read the format, since
    /// libseccomp compares each argument at most once per rule: when the entry compares
    /// some argument more than once, every condition becomes a rule of its own; otherwise
    /// all of them form one rule. So `arg0 == 100`, `arg0 == 200` means either value, and
    /// `arg1 != TIOCSTI`, `arg1 != TIOCLINUX` matches every request.
    pub fn alternatives(&self) -> Vec<Vec<(usize, ArgSpec)>> {
        alternatives(&self.args)
    }
}

/// See [`SyscallEntry::alternatives`].
pub fn alternatives(args: &[ArgSpec]) -> Vec<Vec<(usize, ArgSpec)>> {
    let repeated = args
        .iter()
        .enumerate()
        .any(|(i, a)| args[..i].iter().any(|b| b.index == a.index));
    if repeated {
        args.iter().copied().enumerate().map(|x| vec![x]).collect()
    } else {
        vec![args.iter().copied().enumerate().collect()]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn constructors_refuse_what_cannot_be_loaded() {
        assert_eq!(ArgSpec::new(6, Op::Eq, 8), Err(ErrorKind::IndexRange(6)));
        let ok = ArgSpec::new(0, Op::Eq, 8).unwrap();
        assert_eq!(
            SyscallEntry::new(vec!["personality".into()], Action::Errno(4095), vec![ok])
                .unwrap_err()
                .to_string(),
            "action: errno `4095` is out of range 0..=4094: libseccomp 2.5 refuses 4095 and above (the kernel reads higher values as results, not errors)"
        );
        assert_eq!(
            SyscallEntry::new(vec![], Action::Allow, vec![])
                .unwrap_err()
                .to_string(),
            "names: no system call names"
        );
        assert_eq!(
            SyscallEntry::new(
                vec!["getpid".into(), "chmood".into()],
                Action::Allow,
                vec![]
            )
            .unwrap_err()
            .to_string(),
            "names[1]: unknown system call `chmood` (did you mean `chmod`?)"
        );
        assert_eq!(
            SyscallEntry::new(vec!["write".into()], Action::Notify, vec![])
                .unwrap_err()
                .to_string(),
            "action: SCMP_ACT_NOTIFY on `write` can deadlock the supervisor, which must write to report the call; runc refuses it too"
        );
        let wide = ArgSpec::new(0, Op::Eq, 1 << 32 | 40).unwrap();
        assert_eq!(
            SyscallEntry::new(vec!["socket".into()], Action::Allow, vec![wide])
                .unwrap_err()
                .to_string(),
            "args[0]: value `0x100000028` cannot be what `socket` sees in its argument `family`: the kernel uses only the low 32 bits"
        );
        let e = SyscallEntry::new_skipping_unknown(
            vec!["getpid".into(), "chmood".into()],
            Action::Allow,
            vec![],
        )
        .unwrap();
        assert_eq!(
            (e.names(), e.unknown()),
            (&["getpid".to_string()][..], &["chmood".to_string()][..])
        );
    }
}
