//! What the reader accepts, the compiler compiles and the kernel loads: every value at
//! each boundary of the reader (errno, trace value, argument index, argument values of
//! each width, masks, operators, actions, ABIs, filter flags) goes through libseccomp
//! and is installed for real in a forked child with the flags a run would use; the value
//! just past each boundary is refused by the reader, with the limit in the message.

use std::io::Read;

use syscage_policy::profile::{self, ReadOptions};
use syscage_policy::{plan, resolve, Context};
use syscage_seccomp::{compile, filter, load};

/// A profile allowing everything but `entry` (a JSON object), with `top` fields added.
fn text(top: &str, entry: &str) -> String {
    format!(
        r#"{{"defaultAction": "SCMP_ACT_ALLOW"{top}, "syscalls": [{{"names": ["execve", "write", "exit_group"], "action": "SCMP_ACT_ALLOW"}}, {entry}]}}"#
    )
}

/// Parses, compiles with libseccomp and installs in a forked child; the child's
/// seccomp(2) errno, or 0.
fn load_it(text: &str, opts: ReadOptions) -> Result<i32, String> {
    let p = profile::parse(text, opts).map_err(|e| e.to_string())?;
    let ctx = Context {
        supervised: true,
        ..Context::docker_default()
    };
    let policy = resolve::resolve("t", &p, &ctx).map_err(|e| e.to_string())?;
    let pl = plan::plan(&policy).map_err(|e| e.to_string())?;
    let prog = compile::compile(&pl).map_err(|e| e.to_string())?.program;
    let flags = filter::load_flags(&policy, policy.uses_notify());
    let (r, w) = nix::unistd::pipe().unwrap();
    // SAFETY: the child makes only system calls (install builds its sock_fprog on the
    // stack), writes four bytes and leaves with _exit: nothing that allocates or panics,
    // as the test harness has other threads.
    match unsafe { nix::unistd::fork() }.unwrap() {
        nix::unistd::ForkResult::Child => {
            drop(r);
            if nix::sys::prctl::set_no_new_privs().is_err() {
                // SAFETY: leave the forked test process at once.
                unsafe { libc::_exit(3) };
            }
            let e = match load::install(&prog, flags) {
                Ok(_) => 0i32,
                Err(e) => e.raw_os_error().unwrap_or(-1),
            };
            let _ = nix::unistd::write(&w, &e.to_le_bytes());
            // SAFETY: leave the forked test process at once.
            unsafe { libc::_exit(0) };
        }
        nix::unistd::ForkResult::Parent { child } => {
            drop(w);
            let mut f = std::fs::File::from(r);
            let mut buf = Vec::new();
            f.read_to_end(&mut buf).unwrap();
            nix::sys::wait::waitpid(child, None).unwrap();
            let got: [u8; 4] = buf
                .get(..4)
                .and_then(|b| b.try_into().ok())
                .ok_or("the child reported nothing")?;
            Ok(i32::from_le_bytes(got))
        }
    }
}

#[test]
fn every_value_the_reader_accepts_loads() {
    let zero = ReadOptions {
        allow_errno_zero: true,
        ..ReadOptions::default()
    };
    let plain = ReadOptions::default();
    let mut accepted: Vec<(String, ReadOptions)> = Vec::new();
    // Errno and trace values at their limits, on a rule and as the default.
    for e in [0u32, 1, 133, 4094] {
        accepted.push((
            text(
                "",
                &format!(r#"{{"names": ["keyctl"], "action": "SCMP_ACT_ERRNO", "errnoRet": {e}}}"#),
            ),
            zero,
        ));
        accepted.push((
            format!(r#"{{"defaultAction": "SCMP_ACT_ERRNO", "defaultErrnoRet": {e}, "syscalls": [{{"names": ["execve", "write", "exit_group"], "action": "SCMP_ACT_ALLOW"}}]}}"#),
            zero,
        ));
    }
    accepted.push((
        text(
            "",
            r#"{"names": ["keyctl"], "action": "SCMP_ACT_ERRNO", "errno": "EHWPOISON"}"#,
        ),
        plain,
    ));
    for v in [0u32, 65535] {
        accepted.push((
            text(
                "",
                &format!(r#"{{"names": ["keyctl"], "action": "SCMP_ACT_TRACE", "errnoRet": {v}}}"#),
            ),
            plain,
        ));
    }
    // Every action, NOTIFY with an agent (and a run that answers it).
    for a in [
        "SCMP_ACT_KILL",
        "SCMP_ACT_KILL_THREAD",
        "SCMP_ACT_KILL_PROCESS",
        "SCMP_ACT_TRAP",
        "SCMP_ACT_LOG",
        "SCMP_ACT_ERRNO",
        "SCMP_ACT_TRACE",
    ] {
        accepted.push((
            text("", &format!(r#"{{"names": ["keyctl"], "action": "{a}"}}"#)),
            plain,
        ));
    }
    accepted.push((
        text(
            r#", "listenerPath": "/run/agent.sock", "listenerMetadata": """#,
            r#"{"names": ["mkdir"], "action": "SCMP_ACT_NOTIFY"}"#,
        ),
        plain,
    ));
    accepted.push((
        text("", r#"{"names": ["mkdir"], "action": "SCMP_ACT_NOTIFY"}"#),
        plain,
    ));
    // Argument indices 0 and 5; values at each width's limits; every operator.
    let ops = [
        "SCMP_CMP_NE",
        "SCMP_CMP_LT",
        "SCMP_CMP_LE",
        "SCMP_CMP_EQ",
        "SCMP_CMP_GE",
        "SCMP_CMP_GT",
    ];
    for (call, index, values) in [
        ("mmap", 0u8, vec![0u64, u64::MAX]), // unsigned long
        ("mmap", 5, vec![0, u64::MAX]),
        ("socket", 0, vec![0, 0xffff_ffff, u64::MAX]), // int; -1 sign-extended
        ("fchmod", 1, vec![0, 0xffff]),                // umode_t
    ] {
        for v in values {
            for op in ops {
                accepted.push((text("", &format!(r#"{{"names": ["{call}"], "action": "SCMP_ACT_ERRNO", "args": [{{"index": {index}, "value": {v}, "op": "{op}"}}]}}"#)), plain));
            }
            for mask in [0u64, 1, u64::MAX] {
                accepted.push((text("", &format!(r#"{{"names": ["{call}"], "action": "SCMP_ACT_ERRNO", "args": [{{"index": {index}, "value": {mask}, "valueTwo": {v}, "op": "SCMP_CMP_MASKED_EQ"}}]}}"#)), plain));
            }
        }
    }
    // Several conditions on one argument (alternatives), six of them, and on every one.
    accepted.push((text("", r#"{"names": ["dup3"], "action": "SCMP_ACT_ERRNO", "args": [{"index": 0, "value": 1, "op": "SCMP_CMP_EQ"}, {"index": 0, "value": 2, "op": "SCMP_CMP_EQ"}, {"index": 0, "value": 3, "op": "SCMP_CMP_EQ"}, {"index": 0, "value": 4, "op": "SCMP_CMP_EQ"}, {"index": 0, "value": 5, "op": "SCMP_CMP_EQ"}, {"index": 0, "value": 6, "op": "SCMP_CMP_EQ"}]}"#), plain));
    accepted.push((text("", r#"{"names": ["mmap"], "action": "SCMP_ACT_ERRNO", "args": [{"index": 0, "value": 1, "op": "SCMP_CMP_EQ"}, {"index": 1, "value": 2, "op": "SCMP_CMP_EQ"}, {"index": 2, "value": 3, "op": "SCMP_CMP_EQ"}, {"index": 3, "value": 4, "op": "SCMP_CMP_EQ"}, {"index": 4, "value": 5, "op": "SCMP_CMP_EQ"}, {"index": 5, "value": 6, "op": "SCMP_CMP_EQ"}]}"#), plain));
    // ABIs and filter flags.
    for arches in [
        r#"["SCMP_ARCH_X86_64"]"#,
        r#"["SCMP_ARCH_X86", "SCMP_ARCH_X32"]"#,
        r#"["SCMP_ARCH_AARCH64"]"#,
    ] {
        accepted.push((text(&format!(r#", "architectures": {arches}"#), r#"{"names": ["socket"], "action": "SCMP_ACT_ERRNO", "args": [{"index": 0, "value": 40, "op": "SCMP_CMP_EQ"}]}"#), plain));
    }
    for flag in [
        "SECCOMP_FILTER_FLAG_TSYNC",
        "SECCOMP_FILTER_FLAG_LOG",
        "SECCOMP_FILTER_FLAG_SPEC_ALLOW",
        "SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV",
    ] {
        accepted.push((
            text(
                &format!(r#", "flags": ["{flag}"]"#),
                r#"{"names": ["keyctl"], "action": "SCMP_ACT_ERRNO"}"#,
            ),
            plain,
        ));
        accepted.push((
            text(
                &format!(r#", "flags": ["{flag}"], "listenerPath": "/run/a.sock""#),
                r#"{"names": ["mkdir"], "action": "SCMP_ACT_NOTIFY"}"#,
            ),
            plain,
        ));
    }
    let mut failed = Vec::new();
    for (t, opts) in &accepted {
        match load_it(t, *opts) {
            Ok(0) => {}
            Ok(e) => failed.push(format!("the kernel refused (errno {e}): {t}")),
            Err(e) => failed.push(format!("{e}: {t}")),
        }
    }
    assert!(
        failed.is_empty(),
        "{} of {}:\n{}",
        failed.len(),
        accepted.len(),
        failed.join("\n")
    );
}

#[test]
fn one_past_each_boundary_is_refused_with_the_limit() {
    let refused = |t: &str| {
        profile::parse(t, ReadOptions::default())
            .err()
            .map(|e| e.to_string())
    };
    assert_eq!(
        refused(&text("", r#"{"names": ["keyctl"], "action": "SCMP_ACT_ERRNO", "errnoRet": 4095}"#)).as_deref(),
        Some("syscalls[1].errnoRet: errno `4095` is out of range 0..=4094: libseccomp 2.5 refuses 4095 and above (the kernel reads higher values as results, not errors)")
    );
    assert_eq!(
        refused(r#"{"defaultAction": "SCMP_ACT_ERRNO", "defaultErrnoRet": 4095}"#).as_deref(),
        Some("defaultErrnoRet: errno `4095` is out of range 0..=4094: libseccomp 2.5 refuses 4095 and above (the kernel reads higher values as results, not errors)")
    );
    assert_eq!(
        refused(&text("", r#"{"names": ["keyctl"], "action": "SCMP_ACT_TRACE", "errnoRet": 65536}"#)).as_deref(),
        Some("syscalls[1].errnoRet: `65536` is out of range 0..=65535 for SCMP_ACT_TRACE: the value a tracer receives has 16 bits")
    );
    assert_eq!(
        refused(&text("", r#"{"names": ["mmap"], "action": "SCMP_ACT_ERRNO", "args": [{"index": 6, "value": 0, "op": "SCMP_CMP_EQ"}]}"#)).as_deref(),
        Some("syscalls[1].args[0].index: argument index `6` is above 5: seccomp sees only six arguments")
    );
    assert_eq!(
        refused(&text("", r#"{"names": ["socket"], "action": "SCMP_ACT_ERRNO", "args": [{"index": 0, "value": 4294967296, "op": "SCMP_CMP_EQ"}]}"#)).as_deref(),
        Some("syscalls[1].args[0]: value `0x100000000` cannot be what `socket` sees in its argument `family`: the kernel uses only the low 32 bits")
    );
    assert_eq!(
        refused(&text("", r#"{"names": ["fchmod"], "action": "SCMP_ACT_ERRNO", "args": [{"index": 1, "value": 65536, "op": "SCMP_CMP_EQ"}]}"#)).as_deref(),
        Some("syscalls[1].args[0]: value `0x10000` cannot be what `fchmod` sees in its argument `mode`: the kernel uses only the low 16 bits")
    );
    assert_eq!(
        refused(&text("", r#"{"names": ["mmap"], "action": "SCMP_ACT_ERRNO", "args": [{"index": 0, "value": 18446744073709551616, "op": "SCMP_CMP_EQ"}]}"#)).as_deref(),
        Some("syscalls[1].args[0].value: expected a non-negative integer, found `1.8446744073709552e+19`")
    );
}
