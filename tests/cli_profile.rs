//! `syscage profile ...` and the refusals of `syscage run` that happen before any
//! container exists (no root needed).

mod support;

use support::*;

fn fixture(name: &str) -> String {
    format!("{}/profiles/{name}", env!("CARGO_MANIFEST_DIR"))
}

#[test]
fn check_names_the_action_and_the_rule() {
    let r = syscage_run(&["profile", "check", "default", "ioctl", "0", "0x5412"]);
    assert_eq!(r.code, 0, "{r:?}");
    assert_eq!(r.stdout, "ERRNO(EPERM) by the default action (rules 1 to 6 admit every arg1 of ioctl but 0x5412, 0x541c)\n");
    let r = syscage_run(&["profile", "check", "default", "ioctl", "0", "0x5401"]);
    assert_eq!(r.stdout, "ALLOW by rule 5 (ioctl except TIOCSTI and TIOCLINUX (terminal input injection): the request's 32 bits, masks that differ from both (part 5 of 6))\n");
    let r = syscage_run(&["profile", "check", "default", "personality", "5"]);
    assert_eq!(r.stdout, "ERRNO(EPERM) by the default action (none of the rules for personality matches: rule 40 needs arg0 & 0xffffffff == 0x0; rule 41 needs arg0 & 0xffffffff == 0x8; rule 42 needs arg0 & 0xffffffff == 0x20000; rule 43 needs arg0 & 0xffffffff == 0x20008; rule 44 needs arg0 & 0xffffffff == 0xffffffff)\n");
    // The mode counts only when the flags create.
    let r = syscage_run(&["profile", "check", "default", "open", "0", "0", "04000"]);
    assert_eq!(r.stdout, "ALLOW by rule 12 (open that creates nothing (neither O_CREAT nor __O_TMPFILE): the kernel ignores the mode, whatever the register holds)\n");
    let r = syscage_run(&["profile", "check", "default", "open", "0", "0101", "04000"]);
    assert_eq!(r.stdout, "ERRNO(EPERM) by the default action (none of the rules for open matches: rule 12 needs arg1 & 0x400040 == 0x0; rule 13 needs arg1 & 0x200000 == 0x200000; rule 14 needs arg2 & 0xc00 == 0x0)\n");
    let r = syscage_run(&["profile", "check", "default", "clone3"]);
    assert_eq!(r.stdout, "ERRNO(ENOSYS) by rule 47 (clone3 passes its flags in memory, which seccomp cannot read: ENOSYS makes libc fall back to clone)\n");
    let r = syscage_run(&[
        "profile",
        "check",
        "default",
        "ptrace",
        "--cap-add",
        "SYS_PTRACE",
    ]);
    assert_eq!(
        r.stdout,
        "ALLOW by rule 56 (with CAP_SYS_PTRACE, as Docker)\n"
    );
    let r = syscage_run(&[
        "profile",
        "check",
        "default",
        "getpid",
        "--call-arch",
        "x86",
    ]);
    assert_eq!(
        r.stdout,
        "KILL_PROCESS by the architecture check (ABI not admitted)\n"
    );
}

#[test]
fn check_under_dockers_file_shows_the_upper_bits_closed() {
    let docker = fixture("docker-default.json");
    // Docker's rule `socket family > 40` passes 0x1_0000_0028 under runc (64-bit compare);
    // the kernel reads AF_VSOCK (40). syscage compares the 32 bits the kernel reads.
    let r = syscage_run(&["profile", "check", &docker, "socket", "0x100000028"]);
    assert_eq!(
        r.stdout,
        "ERRNO(EPERM) by the default action (rules 2 to 4 admit every arg0 of socket but 0x26, 0x28)\n"
    );
    let r = syscage_run(&["profile", "check", &docker, "socket", "41"]);
    assert_eq!(r.stdout, "ALLOW by rule 4\n");
    let r = syscage_run(&["profile", "check", &docker, "mseal"]);
    assert_eq!(r.stdout, "ALLOW by rule 0\n");
    let r = syscage_run(&["profile", "check", &docker, "469"]);
    assert_eq!(r.stdout, "ERRNO(ENOSYS) by the newer-than-profile rule\n");
}

#[test]
fn lint_exit_statuses() {
    let r = syscage_run(&["profile", "lint", "contained"]);
    assert_eq!(
        (r.code, r.stdout.as_str()),
        (0, "contained: no findings\n"),
        "{r:?}"
    );
    let r = syscage_run(&["profile", "lint", &fixture("docker-default.json")]);
    assert_eq!(r.code, 1, "{r:?}");
    assert!(
        r.stdout.contains("[wide-compare]")
            && r.stdout.contains("[foreign-abi]")
            && r.stdout.contains("[ptrace-allowed]"),
        "{r:?}"
    );
    let dir = std::env::temp_dir().join(format!("syscage-lint-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let p = dir.join("zero.json");
    std::fs::write(&p, r#"{"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [{"names": ["keyctl"], "action": "SCMP_ACT_ERRNO", "errnoRet": 0}]}"#).unwrap();
    let r = syscage_run(&[
        "profile",
        "lint",
        p.to_str().unwrap(),
        "--seccomp-allow-errno-zero",
    ]);
    assert_eq!(r.code, 2, "{r:?}");
    assert!(r.stdout.starts_with("error: "), "{r:?}");
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn show_prints_the_resolved_policy_and_writes_bpf() {
    let dir = std::env::temp_dir().join(format!("syscage-show-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let bpf = dir.join("f.bpf");
    let r = syscage_run(&["profile", "show", "default", "--bpf", bpf.to_str().unwrap()]);
    assert_eq!(r.code, 0, "{r:?}");
    let len = std::fs::metadata(&bpf).unwrap().len();
    assert!(len > 0 && len.is_multiple_of(8));
    // One line says what was written; the listing is `show` without --bpf.
    assert_eq!(
        r.stdout,
        format!(
            "wrote the program of profile `default` to {}: {} BPF instructions, {len} bytes\n",
            bpf.display(),
            len / 8
        )
    );
    let r = syscage_run(&["profile", "show", "default", "--bpf", "/missing/f.bpf"]);
    assert_eq!(
        (r.code, r.stdout.as_str(), r.stderr.as_str()),
        (125, "", "syscage: --bpf `/missing/f.bpf`: cannot write the program: No such file or directory (ENOENT)\n")
    );
    let r = syscage_run(&["profile", "show", "default"]);
    assert!(r.stdout.starts_with("profile default\ndefault action: ERRNO(EPERM)\nABIs: x86_64 (every other ABI: KILL_PROCESS)\n"), "{r:?}");
    assert!(r.stdout.contains("left out"), "{r:?}");
    // Rules under the entry they come from: the provenance once, the calls together.
    assert!(r.stdout.contains("\nrules (450), under the profile entry or option each comes from:\n  rule 0 (calls every program may make (Docker's list, tightened below)):\n    ALLOW _llseek _newselect accept accept4 access "), "{r:?}");
    assert_eq!(r.stdout.matches("rule 0 (").count(), 1, "{r:?}");
    assert!(r.stdout.contains("\n  rule 1 (ioctl except TIOCSTI and TIOCLINUX (terminal input injection): the request's 32 bits, masks that differ from both (part 1 of 6)):\n    ALLOW ioctl if arg1 & 0x80000000 == 0x80000000\n    ALLOW ioctl if arg1 & 0x40000000 == 0x40000000\n"), "{r:?}");
    assert!(r.stdout.contains("\n  rule 56 (with CAP_SYS_PTRACE, as Docker): only with CAP_SYS_PTRACE: kcmp pidfd_getfd process_madvise process_vm_readv process_vm_writev ptrace\n"), "{r:?}");
    assert!(r.stdout.lines().count() < 200, "{r:?}");
    let r = syscage_run(&["profile", "show", "default", "--pfc"]);
    assert!(r.stdout.contains("# filter for arch x86_64"), "{r:?}");
    let r = syscage_run(&["profile", "show", "contained", "--json"]);
    assert_eq!(
        r.stdout,
        include_str!("../crates/policy/profiles/contained.json")
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn groups_list_and_expand() {
    let r = syscage_run(&["profile", "groups", "@keyring"]);
    assert_eq!(
        r.stdout, "@keyring  the kernel keyring\nadd_key keyctl request_key\n",
        "{r:?}"
    );
    let r = syscage_run(&["profile", "groups", "@mout"]);
    assert_eq!(
        (r.code, r.stderr.as_str()),
        (
            125,
            "syscage: unknown system call group `@mout` (did you mean `@mount`?)\n"
        )
    );
}

#[test]
fn run_refuses_bad_profiles_before_anything_runs() {
    let bad = format!(
        "{}/crates/policy/tests/bad_profiles/unknown-syscall.json",
        env!("CARGO_MANIFEST_DIR")
    );
    let r = syscage_run(&["run", "--seccomp", &bad, "--", "/bin/echo", "RAN"]);
    assert_eq!(r.code, 125);
    assert_eq!(r.stdout, "");
    assert_eq!(r.stderr, format!("syscage: cannot load profile `{bad}`: syscalls[1].names[1]: unknown system call `chmood` (did you mean `chmod`?)\n"));
    let r = syscage_run(&["run", "--seccomp", "strict", "--", "/bin/true"]);
    assert_eq!(r.stderr, "syscage: cannot load profile `strict`: no built-in profile has that name and no such file exists (built-ins: default, contained, unconfined)\n");
    let r = syscage_run(&["run", "--seccomp-deny", "execve", "--", "/bin/true"]);
    assert_eq!((r.code, r.stderr.as_str()), (125, "syscage: the profile denies `execve` (ERRNO(EPERM) by --seccomp-deny execve): no command could ever start; allow `execve` (and `execveat`)\n"));
}

#[test]
fn run_refuses_bad_options() {
    let cases: &[(&[&str], &str)] = &[
        (&["--rootfs", "/nonexistent-syscage"], "syscage: --rootfs `/nonexistent-syscage`: does not exist\n"),
        (&["--rootfs", "/etc/passwd"], "syscage: --rootfs `/etc/passwd`: is not a directory\n"),
        (&["--memory", "0"], "syscage: --memory `0`: a memory limit must be at least 4m (the kernel needs room to start the command)\n"),
        (&["--memory", "abc"], "syscage: --memory `abc`: not a size (expected a number with an optional k, m or g suffix, e.g. `512m`)\n"),
        (&["--pids-limit", "-1"], "syscage: --pids-limit `-1`: expected a whole number from 2 (the container's init counts as one) to 4194304 (the kernel's most)\n"),
        (&["--cap-add", "SYS_ADMN"], "syscage: --cap-add `SYS_ADMN`: unknown capability (did you mean `SYS_ADMIN`?)\n"),
        (&["-v", "/nonexistent-syscage:/data"], "syscage: --volume `/nonexistent-syscage:/data`: host path `/nonexistent-syscage` does not exist\n"),
        (&["-v", "/tmp:/proc"], "syscage: --volume `/tmp:/proc`: syscage mounts the container's own /proc at `/proc`; choose another container path\n"),
        (&["--tmpfs", "/"], "syscage: --tmpfs `/`: syscage mounts the container's own root file system at `/`; choose another container path\n"),
        (&["--pids-limit", "1"], "syscage: --pids-limit `1`: expected a whole number from 2 (the container's init counts as one) to 4194304 (the kernel's most)\n"),
        (&["--seccomp-arch", "arm"], "syscage: --seccomp-arch `arm`: unknown architecture (expected x86, x32 or x86_64)\n"),
    ];
    for (opts, want) in cases {
        let mut args = vec!["run"];
        args.extend_from_slice(opts);
        args.extend(["--", "/bin/true"]);
        let r = syscage_run(&args);
        assert_eq!((r.code, r.stderr.as_str()), (125, *want), "{opts:?}");
    }
    let empty = std::env::temp_dir().join(format!("syscage-empty-root-{}", std::process::id()));
    std::fs::create_dir_all(&empty).unwrap();
    let r = syscage_run(&[
        "run",
        "--rootfs",
        empty.to_str().unwrap(),
        "--",
        "/bin/true",
    ]);
    assert_eq!(r.code, 125);
    assert!(r.stderr.ends_with("is empty; hint: put a root file system there (for example busybox: `busybox --install -s DIR/bin`)\n"), "{r:?}");
    std::fs::remove_dir_all(&empty).unwrap();
    let r = syscage_run(&["run", "--bogus", "--", "/bin/true"]);
    assert_eq!(r.code, 125, "usage errors are syscage's own failures");
}

#[test]
#[ignore = "needs root"]
fn the_exported_program_loads_in_bubblewrap() {
    if !nix::unistd::geteuid().is_root()
        || std::process::Command::new("bwrap")
            .arg("--version")
            .output()
            .is_err()
    {
        skip(
            "the_exported_program_loads_in_bubblewrap",
            "needs root and bwrap",
        );
    }
    let dir = std::env::temp_dir().join(format!("syscage-bwrap-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let bpf = dir.join("default.bpf");
    let r = syscage_run(&["profile", "show", "default", "--bpf", bpf.to_str().unwrap()]);
    assert_eq!(r.code, 0, "{r:?}");
    let root = rootfs().to_str().unwrap().to_string();
    let script = format!("exec 9<{}; exec bwrap --ro-bind {root} / --proc /proc --dev /dev --tmpfs /tmp --seccomp 9 /probe unshare_userns", bpf.display());
    let out = std::process::Command::new("sh")
        .args(["-c", &script])
        .output()
        .unwrap();
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        "unshare_userns: blocked errno=1 (EPERM)\n",
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn output_that_cannot_be_written_is_an_error_not_a_panic() {
    let full = std::fs::OpenOptions::new()
        .write(true)
        .open("/dev/full")
        .unwrap();
    let out = std::process::Command::new(syscage())
        .args(["profile", "list"])
        .stdout(full)
        .output()
        .unwrap();
    assert_eq!(
        (
            out.status.code(),
            String::from_utf8_lossy(&out.stderr).as_ref()
        ),
        (
            Some(125),
            "syscage: cannot write to standard output: No space left on device (ENOSPC)\n"
        )
    );
    // A reader that goes away early (`| head -1`) ends syscage quietly.
    let mut child = std::process::Command::new(syscage())
        .args(["profile", "show", "default", "--pfc"])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    drop(child.stdout.take());
    let out = child.wait_with_output().unwrap();
    assert_eq!(
        (
            out.status.code(),
            String::from_utf8_lossy(&out.stderr).as_ref()
        ),
        (Some(0), "")
    );
}
