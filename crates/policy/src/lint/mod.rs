//! The profile linter: warnings about the ways real sandboxes were bypassed.
//!
//! Each check has a stable kebab-case code and says what is wrong, why it matters and what
//! to do. Some checks read the profile as written (what other runtimes would load: argument
//! widths, names skipped, ERRNO(0)); the others read the policy resolved for the run (what
//! syscage will enforce: which equivalent calls stay open, which rules never apply). The
//! findings come in a fixed order, by check, then in profile order.
//!
//! The checks, by code:
//! - `errno-zero` (error): ERRNO(0), which makes a denied call look successful;
//! - `not-compilable` (error): the compiler refuses the policy ([`plan::plan`]);
//! - `unknown-name`: names the reader skipped (`--seccomp-ignore-unknown`);
//! - `equivalent-open`: a call is deliberately denied while another reaching the same
//!   kernel path runs (chmod/open with S_ISUID, clone/unshare/clone3 with CLONE_NEWUSER,
//!   mount and the new mount API, ptrace and process_vm_*/pidfd_getfd, TIOCSTI and
//!   TIOCLINUX...), and i386 `socketcall`/`ipc` carrying a restricted call's arguments;
//! - `wide-compare`: a condition on an argument the kernel truncates to 32 or 16 bits that
//!   runtimes comparing all 64 bits let a call escape (CVE-2019-10063);
//! - `foreign-abi`: i386 or x32 admitted;
//! - `io-uring-allowed`, `ptrace-allowed`: calls that step around seccomp or into other
//!   processes;
//! - `dead-rule`, `conflicting-rules`: rules that never apply, or overlap with another
//!   action so that runtimes may disagree;
//! - `never-matches`, `no-such-argument`, `always-matches` (errors), `ignored-argument`,
//!   `split-entry`: conditions that cannot match what they seem to (see `matching`).
//!
//! (SCMP_ACT_NOTIFY without `listenerPath` is not a finding: resolution refuses it unless
//! syscage supervises the run.)
//!
//! The CLI exits 0 without findings, 1 with warnings only and 2 with an error
//! ([`exit_code`]).

use crate::action::Action;
use crate::arch::Arch;
use crate::cond::{op_docker_name, width_mask, Cond, Op};
use crate::cube::{self, Cube};
use crate::eval::{self, DecidedBy, Decision};
use crate::model::{Origin, Policy, Rule};
use crate::plan;
use crate::profile::{ArgSpec, Profile, SyscallEntry};
use crate::resolve::ENOSYS;
use crate::syscalls::{self, SyscallInfo};
use std::fmt;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Severity {
    Warning,
    Error,
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Severity::Warning => "warning",
            Severity::Error => "error",
        })
    }
}

/// One finding: `warning: syscalls[4].args[0]: <message> [wide-compare]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    pub severity: Severity,
    /// Stable kebab-case id of the check.
    pub code: &'static str,
    /// Where in the profile: `syscalls[4].args[0]`, `defaultAction`, a command-line flag.
    pub place: Option<String>,
    pub message: String,
}

impl fmt::Display for Finding {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: ", self.severity)?;
        if let Some(p) = &self.place {
            write!(f, "{p}: ")?;
        }
        write!(f, "{} [{}]", self.message, self.code)
    }
}

/// The exit status of `syscage profile lint`: 0 without findings, 1 with warnings only,
/// 2 with any error.
pub fn exit_code(findings: &[Finding]) -> i32 {
    match findings.iter().map(|f| f.severity).max() {
        None => 0,
        Some(Severity::Warning) => 1,
        Some(Severity::Error) => 2,
    }
}

/// Lints a profile and the policy it resolved to for the run (capabilities, ABIs).
pub fn lint(profile: &Profile, policy: &Policy) -> Vec<Finding> {
    let mut l = Linter {
        profile,
        policy,
        out: Vec::new(),
    };
    l.errno_zero();
    l.not_compilable();
    l.unknown_names();
    l.equivalents();
    l.multiplexed();
    l.wide_compares();
    l.foreign_abis();
    l.io_uring();
    l.ptrace();
    l.dead_rules();
    l.conflicting_rules();
    l.out.extend(matching::matching(profile));
    l.out.extend(matching::ignored_arguments(policy));
    l.out
}

struct Linter<'a> {
    profile: &'a Profile,
    policy: &'a Policy,
    out: Vec<Finding>,
}

/// One way to reach a kernel path: a call with argument registers that ask for it, and how
/// messages show it. `in_memory`: the call passes what matters in memory, so ENOSYS for it
/// is the right answer (callers fall back to a call seccomp can check), not an open door.
struct Probe {
    call: &'static str,
    args: [u64; 6],
    shown: &'static str,
    in_memory: bool,
}

const fn probe(call: &'static str, args: [u64; 6], shown: &'static str) -> Probe {
    Probe {
        call,
        args,
        shown,
        in_memory: false,
    }
}

const fn in_memory(call: &'static str, shown: &'static str) -> Probe {
    Probe {
        call,
        args: [0; 6],
        shown,
        in_memory: true,
    }
}

/// Calls that reach the same kernel path: denying one route while another stays open
/// protects nothing. A route of several calls is open when all of them are.
struct Class {
    /// What every route can do, after "it can also" / "together they can also".
    does: &'static str,
    routes: &'static [&'static [Probe]],
    /// Advice when the default ("deny ... the same way") cannot be followed.
    fix: Option<&'static str>,
}

const MODE_SUID: u64 = 0o4755;
const O_WRONLY_CREAT: u64 = 0o101;
const S_IFREG: u64 = 0o100000;
/// -100 as a 64-bit register holds it.
const AT_FDCWD: u64 = 0xffff_ffff_ffff_ff9c;
const CLONE_NEWUSER: u64 = 0x1000_0000;
const SIGCHLD: u64 = 17;
const OPEN_TREE_CLONE: u64 = 1;
const PTRACE_ATTACH: u64 = 16;
const TIOCSTI: u64 = 0x5412;
const TIOCLINUX: u64 = 0x541c;

static CLASSES: &[Class] = &[
    // One class for changing a mode and creating with one: a profile that stops chmod from
    // setting S_ISUID means "no set-user-ID files", and open(O_CREAT, 04755) or
    // mknod(S_IFREG|04755) make one just as well.
    Class {
        does: "give a file the set-user-ID bit",
        routes: &[
            &[probe("chmod", [0, MODE_SUID, 0, 0, 0, 0], "`chmod(S_ISUID)`")],
            &[probe("fchmod", [0, MODE_SUID, 0, 0, 0, 0], "`fchmod(S_ISUID)`")],
            &[probe("fchmodat", [AT_FDCWD, 0, MODE_SUID, 0, 0, 0], "`fchmodat(S_ISUID)`")],
            &[probe("fchmodat2", [AT_FDCWD, 0, MODE_SUID, 0, 0, 0], "`fchmodat2(S_ISUID)`")],
            &[probe("creat", [0, MODE_SUID, 0, 0, 0, 0], "`creat(S_ISUID)`")],
            &[probe("open", [0, O_WRONLY_CREAT, MODE_SUID, 0, 0, 0], "`open(O_CREAT, S_ISUID)`")],
            &[probe("openat", [AT_FDCWD, 0, O_WRONLY_CREAT, MODE_SUID, 0, 0], "`openat(O_CREAT, S_ISUID)`")],
            &[in_memory("openat2", "`openat2`")],
            &[probe("mknod", [0, S_IFREG | MODE_SUID, 0, 0, 0, 0], "`mknod(S_IFREG|S_ISUID)`")],
            &[probe("mknodat", [AT_FDCWD, 0, S_IFREG | MODE_SUID, 0, 0, 0], "`mknodat(S_IFREG|S_ISUID)`")],
        ],
        fix: None,
    },
    Class {
        does: "create a user namespace",
        routes: &[
            &[probe("clone", [CLONE_NEWUSER | SIGCHLD, 0, 0, 0, 0, 0], "`clone(CLONE_NEWUSER)`")],
            &[probe("unshare", [CLONE_NEWUSER, 0, 0, 0, 0, 0], "`unshare(CLONE_NEWUSER)`")],
            &[in_memory("clone3", "`clone3`")],
        ],
        fix: None,
    },
    Class {
        // The new API needs several calls to mount; a route is open only if all are.
        does: "mount or remount a file system",
        routes: &[
            &[probe("mount", [0; 6], "`mount`")],
            &[
                probe("fsopen", [0; 6], "`fsopen`"),
                probe("fsconfig", [0; 6], "`fsconfig`"),
                probe("fsmount", [0; 6], "`fsmount`"),
                probe("move_mount", [0; 6], "`move_mount`"),
            ],
            &[
                probe("open_tree", [AT_FDCWD, 0, OPEN_TREE_CLONE, 0, 0, 0], "`open_tree(OPEN_TREE_CLONE)`"),
                probe("move_mount", [0; 6], "`move_mount`"),
            ],
            &[
                probe("open_tree_attr", [AT_FDCWD, 0, OPEN_TREE_CLONE, 0, 0, 0], "`open_tree_attr(OPEN_TREE_CLONE)`"),
                probe("move_mount", [0; 6], "`move_mount`"),
            ],
            &[probe("fspick", [0; 6], "`fspick`"), probe("fsconfig", [0; 6], "`fsconfig`")],
            &[probe("mount_setattr", [0; 6], "`mount_setattr`")],
        ],
        fix: None,
    },
    Class {
        does: "unmount a file system",
        routes: &[&[probe("umount", [0; 6], "`umount`")], &[probe("umount2", [0; 6], "`umount2`")]],
        fix: None,
    },
    Class {
        does: "run a program",
        routes: &[&[probe("execve", [0; 6], "`execve`")], &[probe("execveat", [0; 6], "`execveat`")]],
        // syscage refuses a policy that denies execve, so only execveat can be the closed one.
        fix: Some("allow `execveat` as well: `execve` must stay allowed for the container to start, and `execve(\"/proc/self/fd/N\")` runs whatever `execveat` would, so the denial only breaks programs that call `fexecve`"),
    },
    Class {
        does: "reach into another process's memory or file descriptors",
        routes: &[
            &[probe("ptrace", [PTRACE_ATTACH, 0, 0, 0, 0, 0], "`ptrace(PTRACE_ATTACH)`")],
            &[probe("process_vm_readv", [0; 6], "`process_vm_readv`")],
            &[probe("process_vm_writev", [0; 6], "`process_vm_writev`")],
            &[probe("pidfd_getfd", [0; 6], "`pidfd_getfd`")],
        ],
        fix: None,
    },
    Class {
        does: "load a new kernel to boot into",
        routes: &[&[probe("kexec_load", [0; 6], "`kexec_load`")], &[probe("kexec_file_load", [0; 6], "`kexec_file_load`")]],
        fix: None,
    },
    Class {
        does: "load a kernel module",
        routes: &[&[probe("init_module", [0; 6], "`init_module`")], &[probe("finit_module", [0; 6], "`finit_module`")]],
        fix: None,
    },
    Class {
        // TIOCLINUX's TIOCL_PASTESEL pastes the console selection as input; Linux 6.7
        // restricted it to CAP_SYS_ADMIN, older kernels did not.
        does: "push input into a terminal",
        routes: &[
            &[probe("ioctl", [0, TIOCSTI, 0, 0, 0, 0], "`ioctl(TIOCSTI)`")],
            &[probe("ioctl", [0, TIOCLINUX, 0, 0, 0, 0], "`ioctl(TIOCLINUX)`")],
        ],
        fix: None,
    },
];

/// How a probe fares under the policy.
enum State {
    /// The call runs.
    Open(Decision),
    /// The policy says something about this call and denies it.
    Closed(Decision),
    /// Not a deliberate denial (a call the profile never mentions, left to the default
    /// action as allow-lists and learned profiles leave whatever the program does not use;
    /// ENOSYS for a call that hides its arguments in memory; a newer call), or a supervisor
    /// decides (NOTIFY, TRACE).
    Neutral,
}

fn origin_place(o: &Origin) -> Option<String> {
    match o {
        Origin::Profile { index, .. } => Some(format!("syscalls[{index}]")),
        Origin::Flag(flag) => Some(flag.clone()),
        Origin::Builtin(_) => None,
    }
}

/// `a`, `a and b`, `a, b and c`.
fn and_list(items: &[String]) -> String {
    match items {
        [] => String::new(),
        [one] => one.clone(),
        [init @ .., last] => format!("{} and {last}", init.join(", ")),
    }
}

fn ticked(names: &[String]) -> String {
    let t: Vec<String> = names.iter().map(|n| format!("`{n}`")).collect();
    and_list(&t)
}

/// Whether a profile entry applies on this machine at all (Docker matches `arches` against
/// the native machine's name).
fn for_native(entry: &SyscallEntry) -> bool {
    let native = Arch::native().docker_name();
    !entry.excludes().arches().iter().any(|a| a == native)
        && (entry.includes().arches().is_empty()
            || entry.includes().arches().iter().any(|a| a == native))
}

impl Linter<'_> {
    fn push(
        &mut self,
        severity: Severity,
        code: &'static str,
        place: Option<String>,
        message: String,
    ) {
        self.out.push(Finding {
            severity,
            code,
            place,
            message,
        });
    }

    fn rule(&self, d: &Decision) -> Option<&Rule> {
        match d.by {
            DecidedBy::Rule(i) => self.policy.rules().get(i),
            _ => None,
        }
    }

    /// Who decided, as messages say it: `rule 12 (comment)`, `the default action`.
    fn by(&self, d: &Decision) -> String {
        d.by.describe(self.policy)
    }

    fn place(&self, d: &Decision) -> Option<String> {
        self.rule(d).and_then(|r| origin_place(r.origin()))
    }

    /// Whether the profile wrote this rule for this call, rather than resolution deriving it
    /// (the i386 `socketcall`/`ipc` forms libseccomp adds for socket and IPC rules).
    fn written(&self, r: &Rule) -> bool {
        !r.is_derived()
    }

    fn has_rules(&self, name: &str) -> bool {
        self.policy.rules().iter().any(|r| r.name() == name)
    }

    fn decide(&self, s: &SyscallInfo, arch: Arch, args: &[u64; 6]) -> Decision {
        eval::decide_syscall(self.policy, arch, s, args)
    }

    /// The native ABI when the call exists there, else the first admitted ABI that has it
    /// (`umount` is i386 only); `None` when no admitted ABI has it.
    fn arch_for(&self, s: &SyscallInfo) -> Option<Arch> {
        let native = Arch::native();
        std::iter::once(native)
            .chain(
                self.policy
                    .arches()
                    .iter()
                    .copied()
                    .filter(|a| *a != native),
            )
            .find(|a| self.policy.arches().contains(a) && syscalls::number(s, *a).is_some())
    }

    fn judge(&self, p: &Probe) -> Option<State> {
        let s = syscalls::lookup(p.call)?;
        let d = self.decide(s, self.arch_for(s)?, &p.args);
        Some(if d.action.runs_call() {
            State::Open(d)
        } else if !d.action.is_denial() || (p.in_memory && d.action == Action::Errno(ENOSYS)) {
            State::Neutral
        } else {
            match d.by {
                DecidedBy::Rule(_) => State::Closed(d),
                DecidedBy::Default if self.has_rules(p.call) => State::Closed(d),
                _ => State::Neutral,
            }
        })
    }

    // --- errno-zero -------------------------------------------------------------------

    fn errno_zero(&mut self) {
        let zero = Action::Errno(0);
        if self.policy.default_action() == zero {
            self.push(
                Severity::Error,
                "errno-zero",
                Some("defaultAction".to_string()),
                "the default action is ERRNO(0): every call the profile does not allow returns 0 without running, so programs take it for a success and go on with results that were never written; use ERRNO(EPERM), or ERRNO(ENOSYS) so that programs fall back".to_string(),
            );
        }
        for (i, e) in self.profile.syscalls().iter().enumerate() {
            if e.action() == zero && self.policy.default_action() != zero {
                let verb = if e.names().len() == 1 { "gets" } else { "get" };
                self.push(
                    Severity::Error,
                    "errno-zero",
                    Some(format!("syscalls[{i}]")),
                    format!(
                        "{} {verb} ERRNO(0): the program sees success for a call that did nothing and goes on with results that were never written; return EPERM instead",
                        ticked(e.names())
                    ),
                );
            }
        }
    }

    // --- not-compilable ---------------------------------------------------------------

    fn not_compilable(&mut self) {
        if let Err(e) = plan::plan(self.policy) {
            self.push(
                Severity::Error,
                "not-compilable",
                None,
                format!("the policy cannot be compiled: {e}"),
            );
        }
    }

    // --- unknown-name -----------------------------------------------------------------

    fn unknown_names(&mut self) {
        for (i, e) in self.profile.syscalls().iter().enumerate() {
            if e.unknown().is_empty() {
                continue;
            }
            let shown: Vec<String> = e
                .unknown()
                .iter()
                .map(|n| match syscalls::suggest(n) {
                    Some(s) => format!("`{n}` (did you mean `{s}`?)"),
                    None => format!("`{n}`"),
                })
                .collect();
            let (what, were, them, names) = if shown.len() == 1 {
                ("unknown system call", "was", "it", "the name")
            } else {
                ("unknown system calls", "were", "them", "the names")
            };
            self.push(
                Severity::Warning,
                "unknown-name",
                Some(format!("syscalls[{i}]")),
                format!(
                    "{what} {} {were} skipped as asked: the rule does not cover {them}, so a misspelt call is left to the default action; correct or remove {names}",
                    and_list(&shown)
                ),
            );
        }
    }

    // --- equivalent-open --------------------------------------------------------------

    fn equivalents(&mut self) {
        for class in CLASSES {
            let mut closed: Option<(&Probe, Decision)> = None;
            let mut open: Vec<(&[Probe], Vec<Decision>)> = Vec::new();
            for route in class.routes {
                let mut decisions = Vec::new();
                let mut route_closed = None;
                let mut all_open = true;
                for p in *route {
                    match self.judge(p) {
                        Some(State::Open(d)) => decisions.push(d),
                        Some(State::Closed(d)) => {
                            route_closed.get_or_insert((p, d));
                            all_open = false;
                        }
                        Some(State::Neutral) | None => all_open = false,
                    }
                }
                if let Some(c) = route_closed {
                    closed.get_or_insert(c);
                } else if all_open {
                    open.push((route, decisions));
                }
            }
            let Some((cp, cd)) = closed else { continue };
            for (route, decisions) in open {
                let msg = self.equivalent_message(class, cp, &cd, route, &decisions);
                let place = decisions.iter().find_map(|d| self.place(d));
                self.push(Severity::Warning, "equivalent-open", place, msg);
            }
        }
    }

    fn equivalent_message(
        &self,
        class: &Class,
        closed: &Probe,
        cd: &Decision,
        route: &[Probe],
        decisions: &[Decision],
    ) -> String {
        let shown: Vec<String> = route.iter().map(|p| p.shown.to_string()).collect();
        let open = and_list(&shown);
        let mut deciders: Vec<String> = Vec::new();
        for d in decisions {
            let b = self.by(d);
            if !deciders.contains(&b) {
                deciders.push(b);
            }
        }
        let (is, it) = if route.len() == 1 {
            ("is", "it can also")
        } else {
            ("are", "together they can also")
        };
        let fix = match (class.fix, route.iter().find(|p| p.in_memory)) {
            (Some(f), _) => f.to_string(),
            (None, Some(p)) => format!(
                "make {} fail with ENOSYS (`errnoRet` 38): it passes its arguments in memory, where seccomp cannot check them, and callers then fall back to a call it can check",
                p.shown
            ),
            (None, None) => format!("deny {open} the same way"),
        };
        format!(
            "{} gets {} from {}, but {open} {is} allowed by {}, and {it} {}: the denial protects nothing; {fix}",
            closed.shown,
            cd.action,
            self.by(cd),
            and_list(&deciders),
            class.does
        )
    }

    /// i386 `socketcall`/`ipc` carry the real call's arguments in memory: conditions on
    /// `socket` cannot follow a 32-bit program there.
    fn multiplexed(&mut self) {
        if !self.policy.arches().contains(&Arch::X86) {
            return;
        }
        for (call, mux, nr) in syscalls::MULTIPLEXED {
            let rules = || self.policy.rules().iter().filter(|r| r.name() == *call);
            // An unconditional rule decides alone: then nothing restricts the call.
            if rules().any(|r| r.is_unconditional()) {
                continue;
            }
            let Some(restricting) = rules().find(|r| self.written(r)) else {
                continue;
            };
            let Some(m) = syscalls::lookup(mux) else {
                continue;
            };
            let d = self.decide(m, Arch::X86, &[*nr, 0, 0, 0, 0, 0]);
            if !d.action.runs_call() {
                continue;
            }
            let sub = if *mux == "socketcall" {
                format!("SYS_{}", call.to_ascii_uppercase())
            } else {
                call.to_ascii_uppercase()
            };
            let msg = format!(
                "`{call}` is restricted by its arguments ({}), but on i386 `{mux}({sub})` is allowed by {}: it passes the arguments in memory, where seccomp cannot check them, so a 32-bit program escapes the restriction; remove SCMP_ARCH_X86 unless the container runs 32-bit programs, or deny `{mux}`",
                restricting.origin(),
                self.by(&d)
            );
            let place = self.place(&d);
            self.push(Severity::Warning, "equivalent-open", place, msg);
        }
    }

    // --- wide-compare -----------------------------------------------------------------

    fn wide_compares(&mut self) {
        for (i, e) in self.profile.syscalls().iter().enumerate() {
            // A rule with the default's action is skipped by every runtime.
            if !for_native(e) || e.action() == self.policy.default_action() {
                continue;
            }
            let runs = e.action().runs_call();
            for (j, a) in e.args().iter().enumerate() {
                let found = e.names().iter().find_map(|n| {
                    let s = syscalls::lookup(n)?;
                    let bits = syscalls::arg_bits(s, a.index());
                    if bits >= 64 || (!runs && !self.escape_lands_open(i, n)) {
                        return None;
                    }
                    escape(a, bits, runs).map(|r| (s, bits, r))
                });
                if let Some((s, bits, r)) = found {
                    let msg = wide_message(s, a, bits, runs, r);
                    self.push(
                        Severity::Warning,
                        "wide-compare",
                        Some(format!("syscalls[{i}].args[{j}]")),
                        msg,
                    );
                }
            }
        }
    }

    /// Whether a call that walks past the denying entry `index` can end up running: the
    /// default action runs it, or another entry allows the call.
    fn escape_lands_open(&self, index: usize, name: &str) -> bool {
        self.policy.default_action().runs_call()
            || self.profile.syscalls().iter().enumerate().any(|(k, e)| {
                k != index
                    && for_native(e)
                    && e.action().runs_call()
                    && e.names().iter().any(|n| n == name)
            })
    }

    // --- foreign-abi ------------------------------------------------------------------

    fn foreign_abis(&mut self) {
        let conditional = self
            .policy
            .rules()
            .iter()
            .any(|r| !r.is_unconditional() && self.written(r));
        let layouts = "rules written for x86_64 argument layouts also apply to them, where 64-bit arguments take two registers and some calls order their arguments differently, and ";
        if self.policy.arches().contains(&Arch::X86) {
            let msg = format!(
                "the policy admits i386 system calls (`int 0x80`, 32-bit programs): {}i386 reaches socket and System V IPC calls through `socketcall` and `ipc`, which pass their arguments in memory where seccomp cannot check them; remove SCMP_ARCH_X86 unless the container runs 32-bit programs",
                if conditional { layouts } else { "" }
            );
            let place = self.arch_place(Arch::X86);
            self.push(Severity::Warning, "foreign-abi", place, msg);
        }
        if self.policy.arches().contains(&Arch::X32) && conditional {
            let place = self.arch_place(Arch::X32);
            self.push(
                Severity::Warning,
                "foreign-abi",
                place,
                "the policy admits x32 system calls: rules written for x86_64 argument layouts also apply to them, on an ABI few programs use and the kernel rarely exercises; remove SCMP_ARCH_X32 unless the container runs x32 programs".to_string(),
            );
        }
    }

    /// Where the profile admits an ABI; `None` when only `--seccomp-arch` did.
    fn arch_place(&self, arch: Arch) -> Option<String> {
        if let Some(k) = self.profile.architectures().iter().position(|a| *a == arch) {
            return Some(format!("architectures[{k}]"));
        }
        self.profile
            .arch_map()
            .iter()
            .enumerate()
            .filter(|(_, e)| e.arch() == Arch::native())
            .find_map(|(i, e)| {
                e.sub()
                    .iter()
                    .position(|a| *a == arch)
                    .map(|j| format!("archMap[{i}].subArchitectures[{j}]"))
            })
    }

    // --- io-uring-allowed, ptrace-allowed ---------------------------------------------

    /// Warning rather than error: io_uring is a legitimate need of some workloads (and was
    /// in Docker's default profile until 2023); the finding is that the profile's other
    /// rules do not bind what it submits.
    fn io_uring(&mut self) {
        let native = Arch::native();
        let Some(setup) = syscalls::lookup("io_uring_setup") else {
            return;
        };
        let d = self.decide(setup, native, &[0; 6]);
        if !d.action.runs_call() {
            return;
        }
        let allowed: Vec<String> = ["io_uring_setup", "io_uring_enter", "io_uring_register"]
            .iter()
            .filter(|n| {
                syscalls::lookup(n)
                    .is_some_and(|s| self.decide(s, native, &[0; 6]).action.runs_call())
            })
            .map(|n| n.to_string())
            .collect();
        let verb = if allowed.len() == 1 { "is" } else { "are" };
        let msg = format!(
            "{} {verb} allowed by {}: io_uring performs the operations submitted to it (opening files, connecting sockets, reading and writing) inside the kernel without passing through seccomp, so the rest of the profile does not bind them; deny `io_uring_setup`, `io_uring_enter` and `io_uring_register` unless the workload needs io_uring",
            ticked(&allowed),
            self.by(&d)
        );
        let place = self.place(&d);
        self.push(Severity::Warning, "io-uring-allowed", place, msg);
    }

    fn ptrace(&mut self) {
        let Some(s) = syscalls::lookup("ptrace") else {
            return;
        };
        let d = self.decide(s, Arch::native(), &[PTRACE_ATTACH, 0, 0, 0, 0, 0]);
        if !d.action.runs_call() {
            return;
        }
        let msg = format!(
            "`ptrace` is allowed by {}: a tracer reads and writes the memory and registers of every process it may trace, and on kernels before 4.8 it could also rewrite a system call after seccomp had checked it (4.8 moved the seccomp check after the tracer's); deny it unless the container must debug its own processes, and then only on kernel 4.8 or later (Docker's `minKernel`)",
            self.by(&d)
        );
        let place = self.place(&d);
        self.push(Severity::Warning, "ptrace-allowed", place, msg);
    }

    // --- dead-rule, conflicting-rules -------------------------------------------------

    /// Names with rules, in the order of their first rule.
    fn ruled_names(&self) -> Vec<&'static str> {
        let mut names: Vec<&'static str> = Vec::new();
        for r in self.policy.rules() {
            if !names.contains(&r.name()) {
                names.push(r.name());
            }
        }
        names
    }

    fn dead_rules(&mut self) {
        for name in self.ruled_names() {
            let rules: Vec<&Rule> = self
                .policy
                .rules()
                .iter()
                .filter(|r| r.name() == name)
                .collect();
            let Some(decider) = rules.iter().copied().find(|r| r.is_unconditional()) else {
                continue;
            };
            for r in rules {
                if std::ptr::eq(r, decider) || !self.written(r) {
                    continue;
                }
                // Two unconditional rules with one action are merely redundant (Docker's
                // capability-gated lists repeat calls); anything else is a surprise.
                if r.is_unconditional() && r.action() == decider.action() {
                    continue;
                }
                let why = if r.is_unconditional() {
                    "comes first and decides it alone: syscage applies the first, other runtimes may refuse the profile or apply the other; remove one of the two"
                } else {
                    "decides it alone, as an unconditional rule does (libseccomp drops a call's conditional rules when it has an unconditional one, whatever their order); remove one of the two, or make the unconditional one conditional"
                };
                let msg = format!(
                    "the rule `{r}` ({}) never applies to `{name}`: `{decider}` ({}) {why}",
                    r.origin(),
                    decider.origin()
                );
                self.push(
                    Severity::Warning,
                    "dead-rule",
                    origin_place(r.origin()),
                    msg,
                );
            }
        }
    }

    fn conflicting_rules(&mut self) {
        let native = Arch::native();
        for name in self.ruled_names() {
            let rules: Vec<&Rule> = self
                .policy
                .rules()
                .iter()
                .filter(|r| r.name() == name)
                .collect();
            if rules.iter().any(|r| r.is_unconditional()) {
                continue; // dead-rule speaks about these
            }
            let rules: Vec<&Rule> = rules.into_iter().filter(|r| self.written(r)).collect();
            let Some(s) = rules.first().map(|r| r.syscall()) else {
                continue;
            };
            let bits = |i: u8| syscalls::compared_bits(s, native, i);
            // Too many cubes: not-compilable reports it.
            let cubes: Vec<Option<Vec<Cube>>> = rules
                .iter()
                .map(|r| cube::rule_cubes(r.conds(), &bits, plan::MAX_CUBES))
                .collect();
            for j in 0..rules.len() {
                for i in 0..j {
                    let (a, b) = (rules[i], rules[j]);
                    if a.action() == b.action() {
                        continue;
                    }
                    let (Some(ca), Some(cb)) = (&cubes[i], &cubes[j]) else {
                        continue;
                    };
                    let Some(both) = ca
                        .iter()
                        .find_map(|x| cb.iter().find_map(|y| x.intersect(y)))
                    else {
                        continue;
                    };
                    let msg = format!(
                        "the rules `{a}` ({}) and `{b}` ({}) both match some `{name}` calls ({}) with different actions: syscage applies the first in profile order, but runc and libseccomp may refuse the profile (EEXIST) or apply the other; make their conditions disjoint",
                        a.origin(),
                        b.origin(),
                        example(&both)
                    );
                    self.push(
                        Severity::Warning,
                        "conflicting-rules",
                        origin_place(b.origin()),
                        msg,
                    );
                }
            }
        }
    }
}

/// A register value on which a 64-bit comparison of `a` and the kernel's `bits`-wide view
/// disagree in the direction that opens the filter: the rule matches although the kernel
/// sees a value it should not (`runs`: the rule lets the call run), or the rule misses a
/// value it means to catch (a denying rule). `None` when no such value exists.
fn escape(a: &ArgSpec, bits: u32, runs: bool) -> Option<u64> {
    let cond = Cond::new(a.index(), a.op(), a.value())?;
    let w = width_mask(bits);
    let upper = !w;
    let mask = match a.op() {
        Op::MaskedEq(m) => m,
        _ => 0,
    };
    let lo = a.value() & w;
    // Candidates: the value's low bits, their neighbours and the extremes, under upper
    // bits set in each way that matters (any bit, all bits, the value's own, the mask's).
    // For every operator, if the two readings disagree in that direction at all, they
    // disagree on one of these (EQ/LE: the value itself; LT/GE: one below; GT/NE: the
    // value; MASKED_EQ: a mask bit the value lacks; sign-extended values: no upper bits).
    let highs = [
        1u64 << bits,
        mask & upper & !a.value(),
        a.value() & upper,
        upper,
        mask & upper,
        0,
    ];
    let lows = [lo, lo.wrapping_sub(1) & w, lo.wrapping_add(1) & w, 0, w];
    highs
        .iter()
        .flat_map(|h| lows.iter().map(move |l| h | l))
        .find(|r| {
            let full = cond.matches(*r, 64);
            let kernel = cond.matches(*r, bits);
            if runs {
                full && !kernel
            } else {
                kernel && !full
            }
        })
}

fn wide_message(s: &SyscallInfo, a: &ArgSpec, bits: u32, runs: bool, r: u64) -> String {
    let w = width_mask(bits);
    let arg = s
        .args
        .get(usize::from(a.index()))
        .map(|x| x.name.to_string())
        .unwrap_or_else(|| format!("arg{}", a.index()));
    let cmp = match a.op() {
        Op::MaskedEq(m) => format!("SCMP_CMP_MASKED_EQ `{m:#x}` == `{:#x}`", a.value()),
        op => format!("{} `{:#x}`", op_docker_name(op), a.value()),
    };
    let advice = match a.op() {
        Op::Eq | Op::MaskedEq(_) => format!("write the condition as SCMP_CMP_MASKED_EQ with mask `{w:#x}`, which every runtime judges on the bits the kernel reads"),
        _ => format!("an inequality on the low bits has no portable form; list the values to allow (or to refuse) as SCMP_CMP_MASKED_EQ conditions with mask `{w:#x}`"),
    };
    let (walks, means) = if runs {
        (
            "passes the rule",
            "which the rule means to refuse (the flaw of Docker's AF_VSOCK rule)",
        )
    } else {
        (
            "walks past the rule",
            "which the rule means to catch (the flaw of flatpak's TIOCSTI rule, CVE-2019-10063)",
        )
    };
    format!(
        "`{}` compares its argument `{arg}`, of which the kernel reads only the low {bits} bits, with {cmp}; runc, crun and Docker compare all 64 bits of the register, so `{r:#x}` {walks} while the kernel reads `{:#x}`, {means}; syscage compares the low {bits} bits itself, but under other runtimes this profile is bypassable: {advice}",
        s.name,
        r & w
    )
}

/// The arguments a cube fixes, for messages: `arg1 = 0x5412`.
fn example(c: &Cube) -> String {
    let parts: Vec<String> = c
        .args
        .iter()
        .enumerate()
        .filter(|(_, (m, _))| *m != 0)
        .map(|(i, (_, v))| format!("arg{i} = {v:#x}"))
        .collect();
    if parts.is_empty() {
        "any arguments".to_string()
    } else {
        format!("e.g. {}", parts.join(", "))
    }
}

mod matching;
pub use matching::{matching, rule_warnings};

#[cfg(test)]
mod tests;
