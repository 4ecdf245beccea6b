//! The linter's tests: one small profile per check, and the built-in and real profiles.
use super::*;
use crate::caps::{Cap, CapSet};
use crate::profile::{self, ReadOptions};
use crate::resolve::{self, Context};

fn lint_with(text: &str, opts: ReadOptions, ctx: &Context) -> Vec<Finding> {
    let p = profile::parse(text, opts).unwrap();
    let policy = resolve::resolve("test", &p, ctx).unwrap();
    lint(&p, &policy)
}

fn lint_text(text: &str) -> Vec<Finding> {
    lint_with(text, ReadOptions::default(), &Context::docker_default())
}

/// The findings of one check.
fn only(code: &str, findings: Vec<Finding>) -> Vec<Finding> {
    findings.into_iter().filter(|f| f.code == code).collect()
}

fn warning(code: &'static str, place: Option<&str>, message: &str) -> Finding {
    Finding {
        severity: Severity::Warning,
        code,
        place: place.map(str::to_string),
        message: message.to_string(),
    }
}

fn error(code: &'static str, place: Option<&str>, message: &str) -> Finding {
    Finding {
        severity: Severity::Error,
        ..warning(code, place, message)
    }
}

/// Sorted (code, place) pairs, for whole profiles.
fn summary(findings: &[Finding]) -> Vec<(&'static str, String)> {
    let mut v: Vec<(&'static str, String)> = findings
        .iter()
        .map(|f| (f.code, f.place.clone().unwrap_or_default()))
        .collect();
    v.sort();
    v
}

fn pairs(list: &[(&'static str, &str)]) -> Vec<(&'static str, String)> {
    list.iter().map(|(c, p)| (*c, p.to_string())).collect()
}

#[test]
fn chmod_and_its_equivalents() {
    let text = r#"{"defaultAction": "SCMP_ACT_ERRNO", "syscalls": [
        {"names": ["execve", "exit_group"], "action": "SCMP_ACT_ALLOW"},
        {"names": ["chmod"], "action": "SCMP_ACT_ALLOW", "args": [{"index": 1, "value": 3072, "valueTwo": 0, "op": "SCMP_CMP_MASKED_EQ"}], "comment": "chmod without set-id bits"},
        {"names": ["fchmodat2"], "action": "SCMP_ACT_ALLOW"}]}"#;
    assert_eq!(
        lint_text(text),
        [warning(
            "equivalent-open",
            Some("syscalls[2]"),
            "`chmod(S_ISUID)` gets ERRNO(EPERM) from the default action, but `fchmodat2(S_ISUID)` is allowed by rule 2, and it can also give a file the set-user-ID bit: the denial protects nothing; deny `fchmodat2(S_ISUID)` the same way"
        )]
    );
}

#[test]
fn a_call_the_profile_never_mentions_is_not_a_deliberate_denial() {
    // An allow-list that simply does not list chmod: fchmodat2 is not a bypass of it.
    let text = r#"{"defaultAction": "SCMP_ACT_ERRNO", "syscalls": [
        {"names": ["execve", "fchmodat2", "process_vm_readv"], "action": "SCMP_ACT_ALLOW"}]}"#;
    assert_eq!(lint_text(text), []);
}

#[test]
fn user_namespaces_through_unshare_and_clone3() {
    let text = r#"{"defaultAction": "SCMP_ACT_ERRNO", "syscalls": [
        {"names": ["execve", "clone3", "unshare"], "action": "SCMP_ACT_ALLOW"},
        {"names": ["clone"], "action": "SCMP_ACT_ALLOW", "args": [{"index": 0, "value": 268435456, "valueTwo": 0, "op": "SCMP_CMP_MASKED_EQ"}], "comment": "clone without CLONE_NEWUSER"}]}"#;
    assert_eq!(
        lint_text(text),
        [
            warning(
                "equivalent-open",
                Some("syscalls[0]"),
                "`clone(CLONE_NEWUSER)` gets ERRNO(EPERM) from the default action, but `unshare(CLONE_NEWUSER)` is allowed by rule 0, and it can also create a user namespace: the denial protects nothing; deny `unshare(CLONE_NEWUSER)` the same way"
            ),
            warning(
                "equivalent-open",
                Some("syscalls[0]"),
                "`clone(CLONE_NEWUSER)` gets ERRNO(EPERM) from the default action, but `clone3` is allowed by rule 0, and it can also create a user namespace: the denial protects nothing; make `clone3` fail with ENOSYS (`errnoRet` 38): it passes its arguments in memory, where seccomp cannot check them, and callers then fall back to a call it can check"
            ),
        ]
    );
    // ENOSYS for clone3 is the answer, not a hole: libc falls back to clone.
    let fixed = r#"{"defaultAction": "SCMP_ACT_ERRNO", "syscalls": [
        {"names": ["execve"], "action": "SCMP_ACT_ALLOW"},
        {"names": ["clone3"], "action": "SCMP_ACT_ERRNO", "errnoRet": 38},
        {"names": ["clone"], "action": "SCMP_ACT_ALLOW", "args": [{"index": 0, "value": 268435456, "valueTwo": 0, "op": "SCMP_CMP_MASKED_EQ"}]}]}"#;
    assert_eq!(lint_text(fixed), []);
}

#[test]
fn mount_and_the_new_mount_api() {
    let text = r#"{"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [
        {"names": ["mount"], "action": "SCMP_ACT_ERRNO"}]}"#;
    let found = only("equivalent-open", lint_text(text));
    assert_eq!(found.len(), 5, "{found:#?}");
    assert_eq!(
        found[0],
        warning(
            "equivalent-open",
            None,
            "`mount` gets ERRNO(EPERM) from rule 0, but `fsopen`, `fsconfig`, `fsmount` and `move_mount` are allowed by the default action, and together they can also mount or remount a file system: the denial protects nothing; deny `fsopen`, `fsconfig`, `fsmount` and `move_mount` the same way"
        )
    );
    let routes: Vec<&str> = found
        .iter()
        .filter_map(|f| f.message.split(", but ").nth(1))
        .filter_map(|m| m.split(" are allowed").next())
        .filter_map(|m| m.split(" is allowed").next())
        .collect();
    assert_eq!(
        routes,
        [
            "`fsopen`, `fsconfig`, `fsmount` and `move_mount`",
            "`open_tree(OPEN_TREE_CLONE)` and `move_mount`",
            "`open_tree_attr(OPEN_TREE_CLONE)` and `move_mount`",
            "`fspick` and `fsconfig`",
            "`mount_setattr`",
        ]
    );
}

#[test]
fn tiocsti_without_tioclinux() {
    let text = r#"{"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [
        {"names": ["ioctl"], "action": "SCMP_ACT_ERRNO", "args": [{"index": 1, "value": 4294967295, "valueTwo": 21522, "op": "SCMP_CMP_MASKED_EQ"}], "comment": "no TIOCSTI"}]}"#;
    assert_eq!(
        only("equivalent-open", lint_text(text)),
        [warning(
            "equivalent-open",
            None,
            "`ioctl(TIOCSTI)` gets ERRNO(EPERM) from rule 0 (no TIOCSTI), but `ioctl(TIOCLINUX)` is allowed by the default action, and it can also push input into a terminal: the denial protects nothing; deny `ioctl(TIOCLINUX)` the same way"
        )]
    );
}

#[test]
fn execveat_denied_while_execve_runs() {
    let text = r#"{"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [
        {"names": ["execveat"], "action": "SCMP_ACT_ERRNO"}]}"#;
    assert_eq!(
        only("equivalent-open", lint_text(text)),
        [warning(
            "equivalent-open",
            None,
            "`execveat` gets ERRNO(EPERM) from rule 0, but `execve` is allowed by the default action, and it can also run a program: the denial protects nothing; allow `execveat` as well: `execve` must stay allowed for the container to start, and `execve(\"/proc/self/fd/N\")` runs whatever `execveat` would, so the denial only breaks programs that call `fexecve`"
        )]
    );
}

#[test]
fn socket_families_through_socketcall_on_i386() {
    let listed = r#"{"defaultAction": "SCMP_ACT_ERRNO", "architectures": ["SCMP_ARCH_X86_64", "SCMP_ARCH_X86"], "syscalls": [
        {"names": ["execve", "socketcall"], "action": "SCMP_ACT_ALLOW"},
        {"names": ["socket"], "action": "SCMP_ACT_ALLOW", "args": [{"index": 0, "value": 1, "op": "SCMP_CMP_EQ"}], "comment": "AF_UNIX only"}]}"#;
    assert_eq!(
        only("equivalent-open", lint_text(listed)),
        [warning(
            "equivalent-open",
            Some("syscalls[0]"),
            "`socket` is restricted by its arguments (rule 1 (AF_UNIX only)), but on i386 `socketcall(SYS_SOCKET)` is allowed by rule 0: it passes the arguments in memory, where seccomp cannot check them, so a 32-bit program escapes the restriction; remove SCMP_ARCH_X86 unless the container runs 32-bit programs, or deny `socketcall`"
        )]
    );
    // Without `socketcall` in the profile, libseccomp's derived form allows it anyway.
    let derived = r#"{"defaultAction": "SCMP_ACT_ERRNO", "architectures": ["SCMP_ARCH_X86_64", "SCMP_ARCH_X86"], "syscalls": [
        {"names": ["execve"], "action": "SCMP_ACT_ALLOW"},
        {"names": ["socket"], "action": "SCMP_ACT_ALLOW", "args": [{"index": 0, "value": 1, "op": "SCMP_CMP_EQ"}], "comment": "AF_UNIX only"}]}"#;
    let found = only("equivalent-open", lint_text(derived));
    assert_eq!(found.len(), 1);
    assert_eq!(found[0].place.as_deref(), Some("syscalls[1]"));
    assert!(found[0].message.contains("`socketcall(SYS_SOCKET)` is allowed by rule 1 (socket: i386 socketcall form (libseccomp))"), "{}", found[0].message);
    // Native ABI only: nothing to say.
    let native = derived.replace(
        r#""architectures": ["SCMP_ARCH_X86_64", "SCMP_ARCH_X86"], "#,
        "",
    );
    assert_eq!(lint_text(&native), []);
}

#[test]
fn wide_compares_that_let_a_call_through() {
    let text = r#"{"defaultAction": "SCMP_ACT_ERRNO", "syscalls": [
        {"names": ["execve"], "action": "SCMP_ACT_ALLOW"},
        {"names": ["socket"], "action": "SCMP_ACT_ALLOW", "args": [{"index": 0, "value": 38, "op": "SCMP_CMP_LT"}]},
        {"names": ["socket"], "action": "SCMP_ACT_ALLOW", "args": [{"index": 0, "value": 40, "op": "SCMP_CMP_GT"}]},
        {"names": ["clone"], "action": "SCMP_ACT_ALLOW", "args": [{"index": 0, "value": 268435456, "op": "SCMP_CMP_NE"}]}]}"#;
    // LT on an allowing rule can only refuse more under a 64-bit comparison, and clone's
    // flags are a full `unsigned long`: only the GT rule is bypassable.
    assert_eq!(
        lint_text(text),
        [warning(
            "wide-compare",
            Some("syscalls[2].args[0]"),
            "`socket` compares its argument `family`, of which the kernel reads only the low 32 bits, with SCMP_CMP_GT `0x28`; runc, crun and Docker compare all 64 bits of the register, so `0x100000028` passes the rule while the kernel reads `0x28`, which the rule means to refuse (the flaw of Docker's AF_VSOCK rule); syscage compares the low 32 bits itself, but under other runtimes this profile is bypassable: an inequality on the low bits has no portable form; list the values to allow (or to refuse) as SCMP_CMP_MASKED_EQ conditions with mask `0xffffffff`"
        )]
    );
}

#[test]
fn wide_compares_that_a_call_walks_past() {
    let text = r#"{"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [
        {"names": ["ioctl"], "action": "SCMP_ACT_ERRNO", "args": [{"index": 1, "value": 21522, "op": "SCMP_CMP_EQ"}]},
        {"names": ["ioctl"], "action": "SCMP_ACT_ERRNO", "args": [{"index": 1, "value": 4294967295, "valueTwo": 21532, "op": "SCMP_CMP_MASKED_EQ"}]},
        {"names": ["fchmod"], "action": "SCMP_ACT_ERRNO", "args": [{"index": 1, "value": 4294969344, "valueTwo": 2048, "op": "SCMP_CMP_MASKED_EQ"}]}]}"#;
    assert_eq!(
        only("wide-compare", lint_text(text)),
        [
            warning(
                "wide-compare",
                Some("syscalls[0].args[0]"),
                "`ioctl` compares its argument `cmd`, of which the kernel reads only the low 32 bits, with SCMP_CMP_EQ `0x5412`; runc, crun and Docker compare all 64 bits of the register, so `0x100005412` walks past the rule while the kernel reads `0x5412`, which the rule means to catch (the flaw of flatpak's TIOCSTI rule, CVE-2019-10063); syscage compares the low 32 bits itself, but under other runtimes this profile is bypassable: write the condition as SCMP_CMP_MASKED_EQ with mask `0xffffffff`, which every runtime judges on the bits the kernel reads"
            ),
            warning(
                "wide-compare",
                Some("syscalls[2].args[0]"),
                "`fchmod` compares its argument `mode`, of which the kernel reads only the low 16 bits, with SCMP_CMP_MASKED_EQ `0x100000800` == `0x800`; runc, crun and Docker compare all 64 bits of the register, so `0x100000800` walks past the rule while the kernel reads `0x800`, which the rule means to catch (the flaw of flatpak's TIOCSTI rule, CVE-2019-10063); syscage compares the low 16 bits itself, but under other runtimes this profile is bypassable: write the condition as SCMP_CMP_MASKED_EQ with mask `0xffff`, which every runtime judges on the bits the kernel reads"
            ),
        ]
    );
    // Walking past a denial onto the default denial opens nothing.
    let closed = r#"{"defaultAction": "SCMP_ACT_ERRNO", "syscalls": [
        {"names": ["execve"], "action": "SCMP_ACT_ALLOW"},
        {"names": ["ioctl"], "action": "SCMP_ACT_ERRNO", "errnoRet": 13, "args": [{"index": 1, "value": 21522, "op": "SCMP_CMP_EQ"}]}]}"#;
    assert_eq!(lint_text(closed), []);
}

#[test]
fn foreign_abis() {
    let text = r#"{"defaultAction": "SCMP_ACT_ERRNO", "architectures": ["SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32"], "syscalls": [
        {"names": ["execve"], "action": "SCMP_ACT_ALLOW"},
        {"names": ["personality"], "action": "SCMP_ACT_ALLOW", "args": [{"index": 0, "value": 0, "op": "SCMP_CMP_EQ"}]}]}"#;
    assert_eq!(
        lint_text(text),
        [
            warning(
                "foreign-abi",
                Some("architectures[1]"),
                "the policy admits i386 system calls (`int 0x80`, 32-bit programs): rules written for x86_64 argument layouts also apply to them, where 64-bit arguments take two registers and some calls order their arguments differently, and i386 reaches socket and System V IPC calls through `socketcall` and `ipc`, which pass their arguments in memory where seccomp cannot check them; remove SCMP_ARCH_X86 unless the container runs 32-bit programs"
            ),
            warning(
                "foreign-abi",
                Some("architectures[2]"),
                "the policy admits x32 system calls: rules written for x86_64 argument layouts also apply to them, on an ABI few programs use and the kernel rarely exercises; remove SCMP_ARCH_X32 unless the container runs x32 programs"
            ),
        ]
    );
    // No conditional rules: x32 is the native calls renumbered; i386 still hides
    // socket arguments. An ABI added on the command line has no place in the profile.
    let plain = r#"{"defaultAction": "SCMP_ACT_ERRNO", "syscalls": [{"names": ["execve"], "action": "SCMP_ACT_ALLOW"}]}"#;
    let ctx = Context {
        extra_arches: vec![Arch::X86, Arch::X32],
        ..Context::docker_default()
    };
    assert_eq!(
        lint_with(plain, ReadOptions::default(), &ctx),
        [warning(
            "foreign-abi",
            None,
            "the policy admits i386 system calls (`int 0x80`, 32-bit programs): i386 reaches socket and System V IPC calls through `socketcall` and `ipc`, which pass their arguments in memory where seccomp cannot check them; remove SCMP_ARCH_X86 unless the container runs 32-bit programs"
        )]
    );
}

#[test]
fn io_uring_and_ptrace_allowed() {
    let text = r#"{"defaultAction": "SCMP_ACT_ERRNO", "syscalls": [
        {"names": ["execve", "io_uring_setup", "io_uring_enter", "ptrace"], "action": "SCMP_ACT_ALLOW", "comment": "the basics"}]}"#;
    assert_eq!(
        lint_text(text),
        [
            warning(
                "io-uring-allowed",
                Some("syscalls[0]"),
                "`io_uring_setup` and `io_uring_enter` are allowed by rule 0 (the basics): io_uring performs the operations submitted to it (opening files, connecting sockets, reading and writing) inside the kernel without passing through seccomp, so the rest of the profile does not bind them; deny `io_uring_setup`, `io_uring_enter` and `io_uring_register` unless the workload needs io_uring"
            ),
            warning(
                "ptrace-allowed",
                Some("syscalls[0]"),
                "`ptrace` is allowed by rule 0 (the basics): a tracer reads and writes the memory and registers of every process it may trace, and on kernels before 4.8 it could also rewrite a system call after seccomp had checked it (4.8 moved the seccomp check after the tracer's); deny it unless the container must debug its own processes, and then only on kernel 4.8 or later (Docker's `minKernel`)"
            ),
        ]
    );
}

#[test]
fn errno_zero_is_an_error() {
    let opts = ReadOptions {
        allow_errno_zero: true,
        ..ReadOptions::default()
    };
    let ctx = Context::docker_default();
    let default_zero = r#"{"defaultAction": "SCMP_ACT_ERRNO", "defaultErrnoRet": 0, "syscalls": [{"names": ["execve"], "action": "SCMP_ACT_ALLOW"}]}"#;
    let found = lint_with(default_zero, opts, &ctx);
    assert_eq!(
        found,
        [error(
            "errno-zero",
            Some("defaultAction"),
            "the default action is ERRNO(0): every call the profile does not allow returns 0 without running, so programs take it for a success and go on with results that were never written; use ERRNO(EPERM), or ERRNO(ENOSYS) so that programs fall back"
        )]
    );
    assert_eq!(exit_code(&found), 2);
    let rule_zero = r#"{"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [
        {"names": ["ptrace", "io_uring_setup"], "action": "SCMP_ACT_ERRNO", "errnoRet": 0}]}"#;
    assert_eq!(
        only("errno-zero", lint_with(rule_zero, opts, &ctx)),
        [error(
            "errno-zero",
            Some("syscalls[0]"),
            "`ptrace` and `io_uring_setup` get ERRNO(0): the program sees success for a call that did nothing and goes on with results that were never written; return EPERM instead"
        )]
    );
}

#[test]
fn unknown_names_that_were_skipped() {
    let opts = ReadOptions {
        ignore_unknown_names: true,
        ..ReadOptions::default()
    };
    let text = r#"{"defaultAction": "SCMP_ACT_ERRNO", "syscalls": [
        {"names": ["execve", "chmood", "frobnicate_widgets"], "action": "SCMP_ACT_ALLOW"},
        {"names": ["read", "wirte"], "action": "SCMP_ACT_ALLOW"}]}"#;
    assert_eq!(
        lint_with(text, opts, &Context::docker_default()),
        [
            warning(
                "unknown-name",
                Some("syscalls[0]"),
                "unknown system calls `chmood` (did you mean `chmod`?) and `frobnicate_widgets` were skipped as asked: the rule does not cover them, so a misspelt call is left to the default action; correct or remove the names"
            ),
            warning(
                "unknown-name",
                Some("syscalls[1]"),
                "unknown system call `wirte` (did you mean `write`?) was skipped as asked: the rule does not cover it, so a misspelt call is left to the default action; correct or remove the name"
            ),
        ]
    );
}

#[test]
fn a_conditional_rule_next_to_an_unconditional_one_is_dead() {
    let text = r#"{"defaultAction": "SCMP_ACT_ERRNO", "syscalls": [
        {"names": ["execve", "ioctl"], "action": "SCMP_ACT_ALLOW"},
        {"names": ["ioctl"], "action": "SCMP_ACT_ERRNO", "errnoRet": 13, "args": [{"index": 1, "value": 4294967295, "valueTwo": 21522, "op": "SCMP_CMP_MASKED_EQ"}], "comment": "no TIOCSTI"},
        {"names": ["ioctl"], "action": "SCMP_ACT_KILL_PROCESS"}]}"#;
    assert_eq!(
        lint_text(text),
        [
            warning(
                "dead-rule",
                Some("syscalls[1]"),
                "the rule `ERRNO(EACCES) ioctl if arg1 & 0xffffffff == 0x5412` (rule 1 (no TIOCSTI)) never applies to `ioctl`: `ALLOW ioctl` (rule 0) decides it alone, as an unconditional rule does (libseccomp drops a call's conditional rules when it has an unconditional one, whatever their order); remove one of the two, or make the unconditional one conditional"
            ),
            warning(
                "dead-rule",
                Some("syscalls[2]"),
                "the rule `KILL_PROCESS ioctl` (rule 2) never applies to `ioctl`: `ALLOW ioctl` (rule 0) comes first and decides it alone: syscage applies the first, other runtimes may refuse the profile or apply the other; remove one of the two"
            ),
        ]
    );
}

#[test]
fn overlapping_rules_with_different_actions_conflict() {
    let text = r#"{"defaultAction": "SCMP_ACT_ERRNO", "syscalls": [
        {"names": ["execve"], "action": "SCMP_ACT_ALLOW"},
        {"names": ["ioctl"], "action": "SCMP_ACT_ALLOW", "args": [{"index": 1, "value": 4294967295, "valueTwo": 21505, "op": "SCMP_CMP_MASKED_EQ"}], "comment": "TCGETS"},
        {"names": ["ioctl"], "action": "SCMP_ACT_ERRNO", "errnoRet": 13, "args": [{"index": 0, "value": 4294967295, "valueTwo": 0, "op": "SCMP_CMP_MASKED_EQ"}], "comment": "nothing on stdin"},
        {"names": ["ioctl"], "action": "SCMP_ACT_ERRNO", "errnoRet": 13, "args": [{"index": 0, "value": 4294967295, "valueTwo": 7, "op": "SCMP_CMP_MASKED_EQ"}]},
        {"names": ["ioctl"], "action": "SCMP_ACT_LOG", "args": [{"index": 1, "value": 4294967295, "valueTwo": 21506, "op": "SCMP_CMP_MASKED_EQ"}]}]}"#;
    // Rules 2 and 3 share an action; rule 4 is disjoint from rule 1.
    assert_eq!(
        lint_text(text),
        [
            warning(
                "conflicting-rules",
                Some("syscalls[2]"),
                "the rules `ALLOW ioctl if arg1 & 0xffffffff == 0x5401` (rule 1 (TCGETS)) and `ERRNO(EACCES) ioctl if arg0 & 0xffffffff == 0x0` (rule 2 (nothing on stdin)) both match some `ioctl` calls (e.g. arg0 = 0x0, arg1 = 0x5401) with different actions: syscage applies the first in profile order, but runc and libseccomp may refuse the profile (EEXIST) or apply the other; make their conditions disjoint"
            ),
            warning(
                "conflicting-rules",
                Some("syscalls[3]"),
                "the rules `ALLOW ioctl if arg1 & 0xffffffff == 0x5401` (rule 1 (TCGETS)) and `ERRNO(EACCES) ioctl if arg0 & 0xffffffff == 0x7` (rule 3) both match some `ioctl` calls (e.g. arg0 = 0x7, arg1 = 0x5401) with different actions: syscage applies the first in profile order, but runc and libseccomp may refuse the profile (EEXIST) or apply the other; make their conditions disjoint"
            ),
            warning(
                "conflicting-rules",
                Some("syscalls[4]"),
                "the rules `ERRNO(EACCES) ioctl if arg0 & 0xffffffff == 0x0` (rule 2 (nothing on stdin)) and `LOG ioctl if arg1 & 0xffffffff == 0x5402` (rule 4) both match some `ioctl` calls (e.g. arg0 = 0x0, arg1 = 0x5402) with different actions: syscage applies the first in profile order, but runc and libseccomp may refuse the profile (EEXIST) or apply the other; make their conditions disjoint"
            ),
            warning(
                "conflicting-rules",
                Some("syscalls[4]"),
                "the rules `ERRNO(EACCES) ioctl if arg0 & 0xffffffff == 0x7` (rule 3) and `LOG ioctl if arg1 & 0xffffffff == 0x5402` (rule 4) both match some `ioctl` calls (e.g. arg0 = 0x7, arg1 = 0x5402) with different actions: syscage applies the first in profile order, but runc and libseccomp may refuse the profile (EEXIST) or apply the other; make their conditions disjoint"
            ),
        ]
    );
}

#[test]
fn notify_without_a_listener_is_refused_unless_syscage_supervises() {
    let text = r#"{"defaultAction": "SCMP_ACT_ERRNO", "syscalls": [
        {"names": ["execve"], "action": "SCMP_ACT_ALLOW"},
        {"names": ["mkdir", "mkdirat"], "action": "SCMP_ACT_NOTIFY"}]}"#;
    let p = profile::parse(text, ReadOptions::default()).unwrap();
    assert_eq!(
        resolve::resolve("t", &p, &Context::docker_default()).unwrap_err().to_string(),
        "syscalls[1].action: SCMP_ACT_NOTIFY on `mkdir` needs a supervisor to answer, and the profile names no `listenerPath`: the kernel would fail the call with ENOSYS; give `listenerPath` (an OCI seccomp agent), run with --report, or use SCMP_ACT_ERRNO or SCMP_ACT_LOG (runc refuses it too)"
    );
    let supervised = Context {
        supervised: true,
        ..Context::docker_default()
    };
    assert_eq!(lint_with(text, ReadOptions::default(), &supervised), []);
    let with_agent = text.replace(
        r#""syscalls""#,
        r#""listenerPath": "/run/agent.sock", "syscalls""#,
    );
    assert_eq!(lint_text(&with_agent), []);
}

#[test]
fn a_policy_that_cannot_compile_is_an_error() {
    let text = r#"{"defaultAction": "SCMP_ACT_ERRNO", "syscalls": [
        {"names": ["execve"], "action": "SCMP_ACT_ALLOW"},
        {"names": ["socket"], "action": "SCMP_ACT_ALLOW", "args": [{"index": 0, "value": 1, "op": "SCMP_CMP_NE"}, {"index": 1, "value": 2, "op": "SCMP_CMP_NE"}]}]}"#;
    let found = lint_text(text);
    assert_eq!(
        only("not-compilable", found.clone()),
        [error(
            "not-compilable",
            None,
            "the policy cannot be compiled: the rules for `socket` on x86_64 need more than 512 argument cases to compile exactly; simplify their conditions"
        )]
    );
    assert_eq!(exit_code(&found), 2);
}

#[test]
fn display_and_exit_codes() {
    let w = warning("wide-compare", Some("syscalls[4].args[0]"), "message");
    assert_eq!(
        w.to_string(),
        "warning: syscalls[4].args[0]: message [wide-compare]"
    );
    let e = error("not-compilable", None, "message");
    assert_eq!(e.to_string(), "error: message [not-compilable]");
    assert_eq!(exit_code(&[]), 0);
    assert_eq!(exit_code(std::slice::from_ref(&w)), 1);
    assert_eq!(exit_code(&[w, e]), 2);
}

#[test]
fn escapes_are_found_only_in_the_opening_direction() {
    let spec = |op, value| ArgSpec::new(0, op, value).unwrap();
    assert_eq!(escape(&spec(Op::Gt, 40), 32, true), Some(0x1_0000_0028));
    assert_eq!(escape(&spec(Op::Ne, 40), 32, true), Some(0x1_0000_0028));
    assert_eq!(escape(&spec(Op::Ge, 40), 32, true), Some(0x1_0000_0027));
    assert_eq!(
        escape(&spec(Op::Ge, 0), 32, true),
        None,
        "always true either way"
    );
    assert_eq!(escape(&spec(Op::Lt, 38), 32, true), None);
    assert_eq!(escape(&spec(Op::Eq, 40), 32, true), None);
    assert_eq!(
        escape(&spec(Op::MaskedEq(0xffff_ffff), 40), 32, false),
        None
    );
    assert_eq!(escape(&spec(Op::Eq, 40), 32, false), Some(0x1_0000_0028));
    assert_eq!(escape(&spec(Op::Lt, 38), 32, false), Some(0x1_0000_0025));
    assert_eq!(escape(&spec(Op::Le, 38), 32, false), Some(0x1_0000_0026));
    assert_eq!(escape(&spec(Op::Gt, 40), 32, false), None);
    // AT_FDCWD written sign-extended: any other upper bits are -100 to the kernel too.
    assert_eq!(
        escape(&spec(Op::Eq, AT_FDCWD), 32, false),
        Some(0x1_ffff_ff9c)
    );
    assert_eq!(
        escape(&spec(Op::Ne, AT_FDCWD), 32, true),
        Some(0x1_ffff_ff9c)
    );
}

const DEFAULT: &str = include_str!("../../profiles/default.json");
const CONTAINED: &str = include_str!("../../profiles/contained.json");
const DOCKER: &str = include_str!("../../../../profiles/docker-default.json");
const PODMAN: &str = include_str!("../../../../profiles/podman-default.json");

#[test]
fn the_default_profile() {
    // Every condition on a 32- or 16-bit argument is a mask within those bits, which
    // runc and crun compare exactly as syscage does: nothing to warn about.
    let expected = pairs(&[]);
    assert_eq!(summary(&lint_text(DEFAULT)), expected);
    let mut admin = CapSet::docker_default();
    admin.insert(Cap::SYS_ADMIN);
    admin.insert(Cap::SYS_PTRACE);
    let ctx = Context {
        caps: admin,
        ..Context::docker_default()
    };
    let found = lint_with(DEFAULT, ReadOptions::default(), &ctx);
    let mut with_caps = expected.clone();
    with_caps.push(("ptrace-allowed", "syscalls[56]".to_string()));
    with_caps.sort();
    assert_eq!(summary(&found), with_caps);
    // Admitting i386 opens `socketcall`, which the default profile lists unconditionally:
    // once for `socket`'s family rules, once for `socketpair`'s.
    let ctx = Context {
        extra_arches: vec![Arch::X86],
        ..Context::docker_default()
    };
    let mut with_i386 = expected;
    with_i386.extend(pairs(&[
        ("equivalent-open", "syscalls[0]"),
        ("equivalent-open", "syscalls[0]"),
        ("foreign-abi", ""),
    ]));
    with_i386.sort();
    assert_eq!(
        summary(&lint_with(DEFAULT, ReadOptions::default(), &ctx)),
        with_i386
    );
}

#[test]
fn the_contained_profile_is_clean() {
    // It covers every equivalent of what it denies: setuid bits through open, creat
    // and mknod as well as chmod, process memory through process_vm_* and
    // pidfd_getfd as well as ptrace, TIOCLINUX with TIOCSTI (both compared on 32
    // bits), and io_uring.
    assert_eq!(lint_text(CONTAINED), []);
}

#[test]
fn dockers_profile() {
    let found = lint_text(DOCKER);
    assert_eq!(
        summary(&found),
        pairs(&[
            ("equivalent-open", "syscalls[0]"), // socketcall(SYS_SOCKET) on i386
            ("foreign-abi", "archMap[0].subArchitectures[0]"),
            ("foreign-abi", "archMap[0].subArchitectures[1]"),
            ("ptrace-allowed", "syscalls[1]"),
            ("wide-compare", "syscalls[4].args[0]"), // socket family > 40 (AF_VSOCK)
        ])
    );
    assert!(found[0].message.starts_with("`socket` is restricted by its arguments (rule 2), but on i386 `socketcall(SYS_SOCKET)` is allowed by rule 0"), "{}", found[0]);
    assert_eq!(exit_code(&found), 1);
}

#[test]
fn podmans_profile() {
    let expected = [
        ("dead-rule", "syscalls[16]"), // setns denied without CAP_SYS_ADMIN, but allowed in rule 1
        ("foreign-abi", "archMap[0].subArchitectures[0]"),
        ("foreign-abi", "archMap[0].subArchitectures[1]"),
        ("ptrace-allowed", "syscalls[1]"),
        // The NETLINK_AUDIT rules, for runs without CAP_AUDIT_WRITE.
        ("wide-compare", "syscalls[31].args[0]"),
        ("wide-compare", "syscalls[31].args[1]"),
        ("wide-compare", "syscalls[32].args[0]"),
        ("wide-compare", "syscalls[33].args[0]"),
        ("wide-compare", "syscalls[34].args[0]"),
    ];
    assert_eq!(summary(&lint_text(PODMAN)), pairs(&expected));
    // Without CAP_AUDIT_WRITE, `socket` is restricted and i386 `socketcall` is not.
    let mut caps = CapSet::docker_default();
    caps.remove(Cap::parse("AUDIT_WRITE").unwrap());
    let ctx = Context {
        caps,
        ..Context::docker_default()
    };
    let mut without = pairs(&expected);
    without.push(("equivalent-open", "syscalls[1]".to_string()));
    without.sort();
    assert_eq!(
        summary(&lint_with(PODMAN, ReadOptions::default(), &ctx)),
        without
    );
}

#[test]
fn rules_that_cannot_match_what_they_seem_to() {
    let text = r#"{"defaultAction": "SCMP_ACT_ERRNO", "syscalls": [
        {"names": ["execve", "read"], "action": "SCMP_ACT_ALLOW"},
        {"names": ["socket"], "action": "SCMP_ACT_ALLOW", "args": [{"index": 0, "value": 4294967295, "op": "SCMP_CMP_GT"}]},
        {"names": ["getpid"], "action": "SCMP_ACT_ALLOW", "args": [{"index": 0, "value": 1, "op": "SCMP_CMP_EQ"}]},
        {"names": ["ioctl"], "action": "SCMP_ACT_ALLOW", "args": [{"index": 1, "value": 21522, "op": "SCMP_CMP_NE"}, {"index": 1, "value": 21532, "op": "SCMP_CMP_NE"}]},
        {"names": ["dup3"], "action": "SCMP_ACT_ALLOW", "args": [{"index": 0, "value": 1, "op": "SCMP_CMP_EQ"}, {"index": 0, "value": 2, "op": "SCMP_CMP_EQ"}, {"index": 1, "value": 5, "op": "SCMP_CMP_EQ"}]},
        {"names": ["open"], "action": "SCMP_ACT_ALLOW", "args": [{"index": 2, "value": 3072, "valueTwo": 0, "op": "SCMP_CMP_MASKED_EQ"}]}]}"#;
    let found: Vec<Finding> = lint_text(text)
        .into_iter()
        .filter(|f| {
            [
                "never-matches",
                "no-such-argument",
                "always-matches",
                "split-entry",
                "ignored-argument",
            ]
            .contains(&f.code)
        })
        .collect();
    assert_eq!(
        found,
        [
            error("never-matches", Some("syscalls[1].args[0]"), "`arg0 > 0xffffffff` holds for no value of `family` of `socket`, of which the kernel reads 32 bits: the entry never applies; fix or remove the condition"),
            error("no-such-argument", Some("syscalls[2].args[0]"), "`arg0 == 0x1` compares arg0 of `getpid`, which takes no argument: the register holds whatever the caller left there, so the rule matches by chance; remove the condition"),
            error("always-matches", Some("syscalls[3]"), "the conditions `arg1 != 0x5412`, `arg1 != 0x541c` compare one argument more than once, so runc, crun and syscage read them as alternatives (one rule each), and together they admit every `ioctl` call: the entry applies unconditionally; to exclude several values, write the values to admit (each a SCMP_CMP_MASKED_EQ) or the ones to refuse as entries of their own"),
            warning("split-entry", Some("syscalls[4]"), "the entry compares one argument more than once and also another: runc, crun and youki then add every condition as a rule of its own, so each condition alone lets a call match (syscage reads it the same way); if conditions on different arguments are meant to hold together, write one entry per value of the repeated argument"),
            warning("ignored-argument", Some("syscalls[5]"), "`open` with `filename` 0x0, `flags` 0x0 gets ALLOW (rule 5), but ERRNO(EPERM) (the default action) when `mode` holds 0xffffffffffffffff, which the kernel ignores in that form of the call: the decision rests on whatever the caller left in the register; make the rules depend on the arguments that make the kernel read it (as `syscage profile show default --json` does for `open`)"),
        ]
    );
    let p = profile::parse(text, ReadOptions::default()).unwrap();
    assert_eq!(
        rule_warnings(&p),
        [
            "syscalls[1].args[0]: `arg0 > 0xffffffff` holds for no value of `family` of `socket`, of which the kernel reads 32 bits: the entry never applies; fix or remove the condition",
            "syscalls[2].args[0]: `arg0 == 0x1` compares arg0 of `getpid`, which takes no argument: the register holds whatever the caller left there, so the rule matches by chance; remove the condition",
            "syscalls[3]: the conditions `arg1 != 0x5412`, `arg1 != 0x541c` compare one argument more than once, so runc, crun and syscage read them as alternatives (one rule each), and together they admit every `ioctl` call: the entry applies unconditionally; to exclude several values, write the values to admit (each a SCMP_CMP_MASKED_EQ) or the ones to refuse as entries of their own",
        ]
    );
}
