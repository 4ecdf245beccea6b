//! Level 2: the compiled program loaded for real in a forked child. Every errno the policy
//! would return is replaced by a distinctive one (3000 + the original), so an answer of
//! 3001 proves the filter decided, not the kernel. Each call is harmless when allowed
//! (bad fds, a query, a self-directed operation). No root needed: no_new_privs suffices.

use std::io::Read;

use syscage_policy::arch::Arch;
use syscage_policy::caps::CapSet;
use syscage_policy::{eval, plan, profile, resolve, syscalls, Action, Context};
use syscage_seccomp::{compile, load};

const DISTINCT: u16 = 3000;

/// (call, args) rows: each is safe to run when the policy allows it.
fn table() -> Vec<(&'static str, [u64; 6])> {
    let neg1 = u64::MAX; // -1 as a register
    vec![
        ("getpid", [0; 6]),
        ("ioctl", [neg1, 0x5412, 0, 0, 0, 0]),
        ("ioctl", [neg1, 0x1_0000_5412, 0, 0, 0, 0]),
        ("ioctl", [neg1, 0x541C, 0, 0, 0, 0]),
        ("ioctl", [neg1, 0x5413, 0, 0, 0, 0]),
        ("ioctl", [neg1, 0x5401, 0, 0, 0, 0]),
        ("fchmod", [neg1, 0o4755, 0, 0, 0, 0]),
        ("fchmod", [neg1, 0o755, 0, 0, 0, 0]),
        ("fchmod", [neg1, 0o2755 | 1 << 40, 0, 0, 0, 0]),
        ("fchmodat", [neg1, 0, 0o4755, 0, 0, 0]),
        ("socket", [40, 1, 0, 0, 0, 0]),
        ("socket", [40 | 1 << 32, 1, 0, 0, 0, 0]),
        ("socket", [38, 5, 0, 0, 0, 0]),
        ("socket", [1, 1, 0, 0, 0, 0]),
        ("personality", [0xffff_ffff, 0, 0, 0, 0, 0]),
        ("personality", [0x0040_0000, 0, 0, 0, 0, 0]),
        ("unshare", [0x1000_0000, 0, 0, 0, 0, 0]),
        ("unshare", [0, 0, 0, 0, 0, 0]),
        ("clone3", [0, 0, 0, 0, 0, 0]),
        ("keyctl", [0, 0, 0, 0, 0, 0]),
        ("bpf", [neg1, 0, 0, 0, 0, 0]),
        ("ptrace", [neg1, 0, 0, 0, 0, 0]),
        ("prctl", [22, 0, 0, 0, 0, 0]),
        ("seccomp", [1, 0, 0, 0, 0, 0]),
        ("mount", [0, 0, 0, 0, 0, 0]),
        ("fsopen", [0, 0, 0, 0, 0, 0]),
        ("io_uring_setup", [0, 0, 0, 0, 0, 0]),
        ("mknodat", [neg1, 0, 0o20644, 0, 0, 0]),
        ("open_by_handle_at", [neg1, 0, 0, 0, 0, 0]),
        ("userfaultfd", [neg1, 0, 0, 0, 0, 0]),
    ]
}

fn profile_text(name: &str) -> String {
    let text = match name {
        "default" => include_str!("../../policy/profiles/default.json"),
        "contained" => include_str!("../../policy/profiles/contained.json"),
        _ => include_str!("../../../profiles/docker-default.json"),
    };
    // Make every errno distinctive, in the text, so resolution and compile are untouched.
    let mut v: serde_json::Value = serde_json::from_str(text).unwrap();
    let bump = |o: &mut serde_json::Map<String, serde_json::Value>, key: &str, action_key: &str| {
        if o.get(action_key).and_then(|a| a.as_str()) == Some("SCMP_ACT_ERRNO") {
            let e = o.get(key).and_then(|e| e.as_u64()).unwrap_or(1);
            o.insert(key.into(), (u64::from(DISTINCT) + e).into());
        }
    };
    let top = v.as_object_mut().unwrap();
    bump(top, "defaultErrnoRet", "defaultAction");
    for s in top.get_mut("syscalls").unwrap().as_array_mut().unwrap() {
        bump(s.as_object_mut().unwrap(), "errnoRet", "action");
    }
    serde_json::to_string(&v).unwrap()
}

/// Runs `rows` in a forked child under the profile's program; for each row, what the
/// policy decides and the errno the child saw (0: the call succeeded).
fn run_rows(name: &str, rows: &[(&'static str, [u64; 6])]) -> Vec<(Action, u16)> {
    let text = profile_text(name);
    let p = profile::parse(&text, Default::default()).unwrap();
    let ctx = Context {
        caps: CapSet::docker_default(),
        kernel: None,
        extra_arches: vec![],
        supervised: false,
    };
    let policy = resolve::resolve(name, &p, &ctx).unwrap();
    let pl = plan::plan(&policy).unwrap();
    let prog = compile::compile(&pl).unwrap().program;
    let want: Vec<Action> = rows
        .iter()
        .map(|(n, args)| {
            eval::decide_syscall(&policy, Arch::X86_64, syscalls::lookup(n).unwrap(), args).action
        })
        .collect();

    let (r, w) = nix::unistd::pipe().unwrap();
    // Everything the child needs is made before the fork: the test harness has other
    // threads, so the forked child must not allocate (another thread may have held the
    // allocator's lock at the fork) nor panic (a panic allocates its message).
    let mut out: Vec<u8> = Vec::with_capacity(rows.len() * 4);
    let nrs: Vec<i64> = rows
        .iter()
        .map(|(n, _)| i64::from(syscalls::lookup(n).unwrap().x86_64.unwrap()))
        .collect();
    // SAFETY: the child makes only system calls and writes into `out` within its capacity
    // (no allocation), then leaves with _exit; any failure ends it with a status instead
    // of a panic.
    match unsafe { nix::unistd::fork() }.unwrap() {
        nix::unistd::ForkResult::Child => {
            drop(r);
            if nix::sys::prctl::set_no_new_privs().is_err()
                || load::install(&prog, load::FLAG_TSYNC).is_err()
            {
                // SAFETY: leave the forked test process at once.
                unsafe { libc::_exit(3) };
            }
            for ((_, args), nr) in rows.iter().zip(&nrs) {
                let nr = *nr;
                // SAFETY: raw system calls with the table's harmless arguments.
                let ret = unsafe {
                    libc::syscall(nr, args[0], args[1], args[2], args[3], args[4], args[5])
                };
                let errno = if ret < 0 {
                    std::io::Error::last_os_error().raw_os_error().unwrap_or(0)
                } else {
                    0
                };
                out.extend_from_slice(&(errno as u32).to_le_bytes());
            }
            let _ = nix::unistd::write(&w, &out);
            // SAFETY: leave the forked test process at once.
            unsafe { libc::_exit(0) };
        }
        nix::unistd::ForkResult::Parent { child } => {
            drop(w);
            let mut f = std::fs::File::from(r);
            let mut buf = Vec::new();
            f.read_to_end(&mut buf).unwrap();
            nix::sys::wait::waitpid(child, None).unwrap();
            assert_eq!(
                buf.len(),
                rows.len() * 4,
                "{name}: the child reported every row"
            );
            want.into_iter()
                .enumerate()
                .map(|(i, w)| {
                    let got = u32::from_le_bytes(buf[i * 4..i * 4 + 4].try_into().unwrap()) as u16;
                    (w, got)
                })
                .collect()
        }
    }
}

fn check_profile(name: &str) {
    let rows = table();
    let results = run_rows(name, &rows);
    for ((n, args), (want, got)) in rows.iter().zip(results) {
        match want {
            Action::Errno(e) => {
                assert!(
                    e > DISTINCT,
                    "{name}: {n}: every errno of the profile was made distinctive"
                );
                assert_eq!(got, e, "{name}: {n} {args:x?}: want {want}")
            }
            Action::Allow => assert!(
                got < DISTINCT,
                "{name}: {n} {args:x?}: allowed, yet errno {got}"
            ),
            other => panic!("{name}: table row {n} decides {other}; use rows that return"),
        }
    }
}

/// Calls every conditional rule of the built-ins admits, with junk in the registers the
/// kernel ignores in that form (see syscage_policy::reads): allowed, each harmless (a
/// missing directory, a bad fd, a query); and the two that create a set-user-ID file,
/// refused.
fn junk_rows() -> Vec<(&'static str, [u64; 6], bool)> {
    let missing = c"/nonexistent-syscage/x".as_ptr() as u64;
    let at_fdcwd = (-100i64) as u64;
    let neg1 = u64::MAX;
    let j = 0xdead_beef_0000_6c00u64; // junk with S_ISUID|S_ISGID in its low bits
    static AVAIL: u32 = 0x7fff_0000; // SECCOMP_RET_ALLOW, for SECCOMP_GET_ACTION_AVAIL
    let avail = &AVAIL as *const u32 as u64;
    vec![
        ("open", [missing, 0o2000000, 0o4000, j, j, j], true),
        ("open", [missing, 0, j, j, j, j], true),
        ("open", [missing, 0o10000000 | 0o100, 0o4755, j, j, j], true),
        ("openat", [at_fdcwd, missing, 0o2000000, 0o6000, j, j], true),
        ("openat", [at_fdcwd, missing, 1, j, j, j], true),
        ("open", [missing, 0o100 | 1, 0o4755, j, j, j], false),
        (
            "openat",
            [at_fdcwd, missing, 0o20000000 | 0o200000 | 2, 0o2755, j, j],
            false,
        ),
        ("creat", [missing, 0o644, j, j, j, j], true),
        ("chmod", [missing, 0o644, j, j, j, j], true),
        ("fchmod", [neg1, 0o644, j, j, j, j], true),
        ("fchmodat", [neg1, missing, 0o644, j, j, j], true),
        ("mknod", [missing, 0o010644, j, j, j, j], true),
        ("mknodat", [at_fdcwd, missing, 0o100644, j, j, j], true),
        ("ioctl", [neg1, 0x5401, j, j, j, j], true),
        ("prctl", [3, j, j, j, j, j], true), // PR_GET_DUMPABLE
        ("personality", [0xffff_ffff, j, j, j, j, j], true),
        ("seccomp", [2, 0, avail, j, j, j], true),
        ("socket", [1, 1, 0, j, j, j], true),
        ("socketpair", [1, 1, 0, 0, j, j], true),
        ("unshare", [0, j, j, j, j, j], true),
    ]
}

#[test]
fn junk_in_what_the_kernel_ignores_is_allowed() {
    let rows: Vec<(&'static str, [u64; 6])> =
        junk_rows().iter().map(|(n, a, _)| (*n, *a)).collect();
    for name in ["default", "contained"] {
        let results = run_rows(name, &rows);
        for ((n, args, allowed), (want, got)) in junk_rows().iter().zip(results) {
            if *allowed {
                assert_eq!(want, Action::Allow, "{name}: the policy on {n}{args:x?}");
                assert!(
                    got < DISTINCT,
                    "{name}: {n}{args:x?}: the filter answered {got}"
                );
            } else {
                assert_eq!(
                    want,
                    Action::Errno(DISTINCT + 1),
                    "{name}: the policy on {n}{args:x?}"
                );
                assert_eq!(got, DISTINCT + 1, "{name}: {n}{args:x?}: the filter");
            }
        }
    }
}

#[test]
fn default_profile_loaded_decides_as_the_policy() {
    check_profile("default");
}

#[test]
fn contained_profile_loaded_decides_as_the_policy() {
    check_profile("contained");
}

#[test]
fn docker_profile_loaded_decides_as_the_policy() {
    check_profile("docker");
}
