//! What `--report` suggests for a denied call. A hint never admits more than the call it
//! saw: a rule that compares only some of what the profile compares (the mode of an
//! `open`, without its flags) would also admit the forms the profile refuses on purpose
//! (`open(O_CREAT, 04755)`), and a rule on a register the kernel ignores in that form
//! admits junk, not the call.
//!
//! - A call whose arguments ask for what the built-in profiles refuse on purpose (a
//!   set-user-ID file, a device node, terminal input injection, namespaces, another
//!   filter) gets no rule: the hint says so and names the deliberate alternative.
//! - A call the profile restricts by its arguments gets the narrowest rule that admits it:
//!   every argument the profile's rules for the call compare and the kernel reads in this
//!   form, equal to the observed value on the bits the kernel reads.
//! - A call the profile denies whatever its arguments gets `--seccomp-allow NAME`.

use crate::arch::Arch;
use crate::cond::width_mask;
use crate::model::Policy;
use crate::reads::{self, S_IFBLK, S_IFCHR, S_IFMT};
use crate::syscalls::{self, compared_bits as arg_bits, SyscallInfo};

const SETID: u64 = 0o6000;
const TIOCSTI: u64 = 0x5412;
const TIOCLINUX: u64 = 0x541c;
/// CLONE_NEWNS | NEWCGROUP | NEWUTS | NEWIPC | NEWUSER | NEWPID | NEWNET | NEWTIME
/// (clone3's flags are in memory; unshare takes NEWTIME too).
const NAMESPACES: u64 = 0x7E02_0080;
const PR_SET_SECCOMP: u64 = 22;
const SECCOMP_SET_MODE_STRICT: u64 = 0;
const SECCOMP_SET_MODE_FILTER: u64 = 1;

/// Calls that answer ENOSYS on purpose: their arguments are in memory.
pub const ENOSYS_CALLS: &[&str] = &["clone3", "openat2"];

/// Why the call's arguments ask for what syscage's profiles refuse on purpose, and the
/// deliberate alternative; `None` for an ordinary call.
pub fn deliberate(s: &SyscallInfo, args: &[u64; 6]) -> Option<String> {
    let lo = |i: usize| args[i] & 0xffff_ffff;
    let setid_mode = |mode: u64| mode & SETID != 0;
    let setid = "it would make a set-user-ID or set-group-ID file, a program the container could run with other rights; create the file without those bits, and set them when building the image, outside the container";
    let device = "it would make a device node, a door to host hardware or memory; bind the device in with a volume if the container needs it";
    let filter = "it would install another seccomp filter; run the program under a profile that holds its rules (--seccomp)";
    let mknod = |mode: u64| {
        if matches!(mode & S_IFMT, S_IFCHR | S_IFBLK) {
            Some(device)
        } else {
            setid_mode(mode).then_some(setid)
        }
    };
    let why = match s.name {
        "chmod" | "fchmod" | "creat" => setid_mode(args[1]).then_some(setid),
        "fchmodat" | "fchmodat2" => setid_mode(args[2]).then_some(setid),
        "open" => (reads::open_reads_mode(args[1]) && setid_mode(args[2])).then_some(setid),
        "openat" => (reads::open_reads_mode(args[2]) && setid_mode(args[3])).then_some(setid),
        "mknod" => mknod(args[1]),
        "mknodat" => mknod(args[2]),
        "ioctl" if lo(1) == TIOCSTI || lo(1) == TIOCLINUX => Some(
            "TIOCSTI and TIOCLINUX push input into a terminal (a container given the user's terminal could type into the user's shell); a program that needs a terminal gets its own with -t",
        ),
        "clone" | "unshare" if args[0] & NAMESPACES != 0 => Some(
            "it would make new namespaces, refused as in Docker; --cap-add SYS_ADMIN allows them, with everything else that capability gives",
        ),
        "prctl" if lo(0) == PR_SET_SECCOMP => Some(filter),
        "seccomp" if matches!(lo(0), SECCOMP_SET_MODE_STRICT | SECCOMP_SET_MODE_FILTER) => {
            Some(filter)
        }
        _ => None,
    }?;
    Some(format!("`{}` is refused on purpose here: {why}", s.name))
}

/// The hint for a call `policy` denied (see the module's comment).
pub fn allow_hint(policy: &Policy, arch: Arch, s: &SyscallInfo, args: &[u64; 6]) -> String {
    let name = s.name;
    if ENOSYS_CALLS.contains(&name) {
        return format!("nothing to do: {name} answers ENOSYS on purpose and libc falls back to a call seccomp can check");
    }
    if let Some(why) = deliberate(s, args) {
        return format!("nothing to do: {why}");
    }
    if policy.is_unnamed(arch, name) {
        return format!("no rule can allow it on {arch}: syscage's libseccomp cannot name `{name}` there, so the filter leaves it to the default action; run the program as x86_64 (drop --seccomp-arch {arch}), or build syscage with a newer libseccomp");
    }
    let ignored = reads::ignored(s, args);
    let mut compared = [false; 6];
    for r in policy.rules().iter().filter(|r| r.name() == name) {
        for c in r.conds() {
            compared[usize::from(c.index())] = true;
        }
    }
    if compared.iter().all(|c| !c) {
        return format!("--seccomp-allow {name}");
    }
    let conds: Vec<String> = (0..6u8)
        .filter(|i| compared[usize::from(*i)] && !ignored[usize::from(*i)])
        .map(|i| {
            let m = width_mask(arg_bits(s, arch, i));
            format!(
                "{{\"index\": {i}, \"value\": {m}, \"valueTwo\": {}, \"op\": \"SCMP_CMP_MASKED_EQ\"}}",
                args[usize::from(i)] & m
            )
        })
        .collect();
    let args_text = if conds.is_empty() {
        String::new()
    } else {
        format!(", \"args\": [{}]", conds.join(", "))
    };
    let shown: Vec<String> = (0..6usize)
        .filter(|i| compared[*i] && !ignored[*i])
        .map(|i| {
            let arg = s
                .args
                .get(i)
                .map(|a| a.name.to_string())
                .unwrap_or_else(|| format!("arg{i}"));
            let m = width_mask(arg_bits(s, arch, i as u8));
            format!("{arg} {:#x}", args[i] & m)
        })
        .collect();
    let exactly = if shown.is_empty() {
        "every form of it the profile tells apart".to_string()
    } else {
        format!("this call only ({})", shown.join(", "))
    };
    format!(
        "a rule {{\"names\": [\"{name}\"], \"action\": \"SCMP_ACT_ALLOW\"{args_text}}} (it admits {exactly})"
    )
}

/// The hint for a call by name (as the report records it); `--seccomp-allow NAME` for a
/// name syscage does not know.
pub fn allow_hint_by_name(policy: &Policy, arch: Arch, name: &str, args: &[u64; 6]) -> String {
    match syscalls::lookup(name) {
        Some(s) => allow_hint(policy, arch, s, args),
        None => format!("--seccomp-allow {name}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{builtin, eval, profile, resolve, Action, Context};

    fn policy(text: &str) -> Policy {
        let p = profile::parse(text, Default::default()).unwrap();
        resolve::resolve("t", &p, &Context::docker_default()).unwrap()
    }

    fn default() -> Policy {
        policy(builtin::get("default").unwrap().text().unwrap())
    }

    fn hint(p: &Policy, name: &str, args: [u64; 6]) -> String {
        allow_hint_by_name(p, Arch::X86_64, name, &args)
    }

    #[test]
    fn a_deliberate_refusal_gets_no_rule() {
        let p = default();
        let h = hint(&p, "open", [0, 0o101, 0o4755, 0, 0, 0]);
        assert_eq!(h, "nothing to do: `open` is refused on purpose here: it would make a set-user-ID or set-group-ID file, a program the container could run with other rights; create the file without those bits, and set them when building the image, outside the container");
        assert_eq!(hint(&p, "ioctl", [0, 0x1_0000_541c, 0, 0, 0, 0]), "nothing to do: `ioctl` is refused on purpose here: TIOCSTI and TIOCLINUX push input into a terminal (a container given the user's terminal could type into the user's shell); a program that needs a terminal gets its own with -t");
        assert_eq!(hint(&p, "unshare", [0x1000_0000, 0, 0, 0, 0, 0]), "nothing to do: `unshare` is refused on purpose here: it would make new namespaces, refused as in Docker; --cap-add SYS_ADMIN allows them, with everything else that capability gives");
        assert_eq!(hint(&p, "mknod", [0, 0o020644, 0x103, 0, 0, 0]), "nothing to do: `mknod` is refused on purpose here: it would make a device node, a door to host hardware or memory; bind the device in with a volume if the container needs it");
        assert_eq!(hint(&p, "prctl", [22, 2, 0, 0, 0, 0]), "nothing to do: `prctl` is refused on purpose here: it would install another seccomp filter; run the program under a profile that holds its rules (--seccomp)");
    }

    #[test]
    fn the_rule_admits_the_observed_call_and_nothing_the_profile_refuses() {
        // A learned profile that allows open only with the flags it saw.
        let p = policy(
            r#"{"defaultAction": "SCMP_ACT_ERRNO", "syscalls": [
            {"names": ["execve"], "action": "SCMP_ACT_ALLOW"},
            {"names": ["open"], "action": "SCMP_ACT_ALLOW", "args": [{"index": 1, "value": 4194368, "valueTwo": 0, "op": "SCMP_CMP_MASKED_EQ"}]},
            {"names": ["open"], "action": "SCMP_ACT_ALLOW", "args": [{"index": 2, "value": 3072, "valueTwo": 0, "op": "SCMP_CMP_MASKED_EQ"}]},
            {"names": ["ioctl"], "action": "SCMP_ACT_ALLOW", "args": [{"index": 1, "value": 4294967295, "valueTwo": 21505, "op": "SCMP_CMP_MASKED_EQ"}]}]}"#,
        );
        // ioctl with another request: exactly that request, on its 32 bits.
        assert_eq!(
            hint(&p, "ioctl", [3, 0x1_0000_5413, 0, 0, 0, 0]),
            r#"a rule {"names": ["ioctl"], "action": "SCMP_ACT_ALLOW", "args": [{"index": 1, "value": 4294967295, "valueTwo": 21523, "op": "SCMP_CMP_MASKED_EQ"}]} (it admits this call only (cmd 0x5413))"#
        );
        // open(O_CREAT|O_WRONLY, 0644) passes; a creating open with the set-group-ID bit
        // that this profile happens to refuse is deliberate anyway.
        assert!(hint(&p, "open", [0, 0o101, 0o2755, 0, 0, 0]).starts_with("nothing to do"));
        // An O_PATH open with junk in the mode register: the rule names the flags only,
        // the kernel ignores the mode there.
        let h = hint(&p, "open", [0, 0o10000000 | 0o100, 0o4755, 0, 0, 0]);
        assert_eq!(
            h,
            r#"a rule {"names": ["open"], "action": "SCMP_ACT_ALLOW", "args": [{"index": 1, "value": 4294967295, "valueTwo": 2097216, "op": "SCMP_CMP_MASKED_EQ"}]} (it admits this call only (flags 0x200040))"#
        );
        // Whatever rule a hint suggests, added to the profile, admits the call and never
        // `open(O_CREAT, 04755)`.
        let text = h
            .trim_start_matches("a rule ")
            .split(" (it admits")
            .next()
            .unwrap();
        let widened = policy(&format!(
            r#"{{"defaultAction": "SCMP_ACT_ERRNO", "syscalls": [{{"names": ["execve"], "action": "SCMP_ACT_ALLOW"}}, {text}]}}"#
        ));
        let open = syscalls::lookup("open").unwrap();
        let d = |a: [u64; 6]| eval::decide_syscall(&widened, Arch::X86_64, open, &a).action;
        assert_eq!(d([0, 0o10000000 | 0o100, 0o4755, 0, 0, 0]), Action::Allow);
        assert_eq!(d([0, 0o101, 0o4755, 0, 0, 0]), Action::Errno(1));
    }

    #[test]
    fn a_call_denied_outright_gets_its_name() {
        assert_eq!(hint(&default(), "keyctl", [0; 6]), "--seccomp-allow keyctl");
        assert_eq!(
            hint(&default(), "clone3", [0; 6]),
            "nothing to do: clone3 answers ENOSYS on purpose and libc falls back to a call seccomp can check"
        );
    }
}
