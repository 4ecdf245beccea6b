//! `--report` and `learn` change nothing a program sees: every ABI the profile admits (all
//! of them under `unconfined`) runs as it does without them, a denial asked for on top of
//! `unconfined` holds, and what the filter kills is said. Root needed.

mod support;

use support::*;

fn temp(name: &str) -> std::path::PathBuf {
    let d = std::env::temp_dir().join(format!("syscage-out-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

/// `learn -o FILE` of one probe: its status and output line, and the learned profile.
fn learn_probe(extra: &[&str], probe: &str, out: &std::path::Path) -> Run {
    let root = rootfs().to_str().unwrap().to_string();
    let o = out.to_str().unwrap().to_string();
    let mut args = vec!["learn", "-o", &o, "--rootfs", &root];
    args.extend_from_slice(extra);
    args.extend_from_slice(&["--", "/probe", probe]);
    syscage_run(&args)
}

#[test]
#[ignore = "needs root"]
fn every_abi_has_the_same_outcome_with_and_without_report_and_learn() {
    need_root!();
    let dir = temp("abi");
    for profile in ["default", "unconfined"] {
        for probe in ["getpid", "i386_getpid", "x32_getpid"] {
            let plain = probe_line(&["--seccomp", profile], &[probe]);
            let reported = probe_line(&["--seccomp", profile, "--report"], &[probe]);
            let learned_file = dir.join(format!("{profile}-{probe}.json"));
            let learned = learn_probe(&["--seccomp", profile], probe, &learned_file);
            let outcome = |r: &Run| (r.code, r.stdout.clone());
            assert_eq!(
                outcome(&reported),
                outcome(&plain),
                "{profile} {probe} --report: {reported:?}\nwithout: {plain:?}"
            );
            assert_eq!(
                outcome(&learned),
                outcome(&plain),
                "{profile} {probe} learn: {learned:?}\nwithout: {plain:?}"
            );
            // The outcomes themselves: the native ABI runs; i386 and x32 are killed unless
            // admitted; under unconfined i386 runs, and x32 does what the kernel does with
            // it (ENOSYS on a kernel built without x32).
            let want_native = (0, format!("{probe}: raw=2\n"));
            match (profile, probe) {
                (_, "getpid") | ("unconfined", "i386_getpid") => {
                    assert_eq!(outcome(&plain), want_native, "{profile} {probe}: {plain:?}")
                }
                ("default", _) => {
                    assert_eq!(
                        outcome(&plain),
                        (159, String::new()),
                        "{profile} {probe}: {plain:?}"
                    )
                }
                _ => assert!(
                    plain.code == 0
                        && (plain.stdout == want_native.1
                            || plain.stdout == format!("{probe}: raw=-38\n")),
                    "{plain:?}"
                ),
            }
            // What learn wrote runs the probe as it ran while learning.
            if learned.code == 0 {
                let p = learned_file.to_str().unwrap();
                let again = probe_line(&["--seccomp", p], &[probe]);
                assert_eq!(
                    outcome(&again),
                    outcome(&plain),
                    "{profile} {probe} under the learned profile: {again:?}"
                );
            }
        }
    }
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
#[ignore = "needs root"]
fn a_deny_on_top_of_unconfined_holds_on_every_abi() {
    need_root!();
    let deny = ["--seccomp", "unconfined", "--seccomp-deny", "keyctl"];
    let r = probe_line(&deny, &["keyctl"]);
    assert_eq!(
        (r.code, r.stdout.as_str(), r.stderr.as_str()),
        (0, "keyctl: blocked errno=1 (EPERM)\n", ""),
        "{r:?}"
    );
    // Everything else, on every ABI, is still allowed.
    let r = probe_line(&deny, &["i386_getpid"]);
    assert_eq!(
        (r.code, r.stdout.as_str()),
        (0, "i386_getpid: raw=2\n"),
        "{r:?}"
    );
    let r = probe_line(&deny, &["getpid"]);
    assert_eq!((r.code, r.stdout.as_str()), (0, "getpid: raw=2\n"), "{r:?}");
    // The same under --report, which records the denial.
    let mut reported = deny.to_vec();
    reported.push("--report");
    let r = probe_line(&reported, &["keyctl"]);
    assert_eq!(
        (r.code, r.stdout.as_str()),
        (0, "keyctl: blocked errno=1 (EPERM)\n"),
        "{r:?}"
    );
    assert!(r.stderr.starts_with("syscage: report: 1 denied call (1 kind)\n  keyctl           x1        ERRNO(EPERM) by --seccomp-deny keyctl\n"), "{r:?}");
    // An allow on top of unconfined changes nothing: still no filter, and it says so.
    let r = probe_line(
        &["--seccomp", "unconfined", "--seccomp-allow", "keyctl"],
        &["getpid"],
    );
    assert_eq!((r.code, r.stdout.as_str()), (0, "getpid: raw=2\n"), "{r:?}");
    assert_eq!(r.stderr, "syscage: warning: no seccomp filter (--seccomp unconfined): the container can make any system call its capabilities allow\n");
}

/// What a program's name may hold: terminal escapes (retitle, clear the screen), newlines
/// with forged report lines, a C1 control, a bidirectional override, and bytes that are
/// not UTF-8.
const HOSTILE: &[u8] = b"x\x1b]0;pwned\x07\x1b[2J\n  keyctl           x1\nsyscage: report: no call was denied\n\xc2\x9b1m\xe2\x80\xae\xff\xfe";
const HOSTILE_SHOWN: &str = "x\\u{1b}]0;pwned\\u{7}\\u{1b}[2J\\n  keyctl           x1\\nsyscage: report: no call was denied\\n\\u{9b}1m\\u{202e}\\xff\\xfe";

/// Nothing a terminal would obey, and no line but syscage's own: no forged summary.
fn assert_inert(stderr: &str, what: &str) {
    assert!(
        !stderr
            .chars()
            .any(|c| (c.is_control() && c != '\n') || c == '\u{202e}' || c == '\u{fffd}'),
        "{what}: raw control characters in {stderr:?}"
    );
    for l in stderr.lines() {
        assert!(
            (l.starts_with("syscage: ") || l.starts_with("  "))
                && l != "syscage: report: no call was denied"
                && l != "  keyctl           x1",
            "{what}: a line syscage did not write: {l:?}"
        );
    }
}

#[test]
#[ignore = "needs root"]
fn what_the_container_names_is_printed_escaped() {
    need_root!();
    use std::os::unix::ffi::OsStrExt;
    let dir = temp("names");
    // The probe under a hostile name, in a volume (on a directory the root has: a mount
    // point syscage makes stays in the shared test root).
    let bin = dir.join("bin");
    std::fs::create_dir(&bin).unwrap();
    let hostile = bin.join(std::ffi::OsStr::from_bytes(HOSTILE));
    std::fs::copy(probe(), &hostile).unwrap();
    let vol = format!("{}:/data:ro", bin.display());
    let file = dir.join("r.jsonl");
    let flag = format!("--report={}", file.display());
    let r = container(
        &["-v", &vol, &flag],
        &["/bin/sh", "-c", "exec /data/x* keyctl"],
    );
    assert_eq!(
        (r.code, r.stdout.as_str()),
        (0, "keyctl: blocked errno=1 (EPERM)\n"),
        "{r:?}"
    );
    assert!(
        r.stderr
            .contains(&format!(" from /data/{HOSTILE_SHOWN} (pid 2)\n")),
        "{r:?}"
    );
    assert!(
        r.stderr
            .starts_with("syscage: report: 1 denied call (1 kind)\n"),
        "{r:?}"
    );
    assert_inert(&r.stderr, "the report");
    // The JSON lines stay JSON, with the name as a string.
    let text = std::fs::read_to_string(&file).unwrap();
    let first: serde_json::Value = serde_json::from_str(text.lines().next().unwrap()).unwrap();
    assert_eq!(
        first["exe"],
        format!("/data/{}", String::from_utf8_lossy(HOSTILE)),
        "{text}"
    );
    for l in text.lines() {
        serde_json::from_str::<serde_json::Value>(l).unwrap_or_else(|e| panic!("{e}: {l:?}"));
    }
    // A path read from the program's memory: a directory with that name.
    let r = container(
        &["--seccomp-deny", "mkdir", "--seccomp-deny", "mkdirat", "--report"],
        &["/bin/sh", "-c", "mkdir \"/tmp/$(printf 'd\\033]0;pwned\\007\\nsyscage: report: no call was denied\\n\\377')\" 2>/dev/null"],
    );
    assert_eq!(r.code, 1, "{r:?}");
    assert!(
        r.stderr.contains(
            "\"/tmp/d\\u{1b}]0;pwned\\u{7}\\nsyscage: report: no call was denied\\n\\xff\""
        ),
        "{r:?}"
    );
    assert_inert(&r.stderr, "the decoded path");
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
#[ignore = "needs root"]
fn a_command_the_filter_kills_for_its_abi_is_reported_so() {
    need_root!();
    let why = "the filter killed the command (SIGSYS) for a system call outside the ABIs the profile admits (x86_64): an i386 call (int 0x80) or an x32 call (hint: --seccomp-arch x86 or x32 admits one)";
    for probe in ["i386_getpid", "x32_getpid"] {
        let r = probe_line(&["--report"], &[probe]);
        assert_eq!((r.code, r.stdout.as_str()), (159, ""), "{r:?}");
        assert_eq!(r.stderr, format!("syscage: report: {why}\n"), "{probe}");
    }
    // After a denied call, the kill follows the denials; the JSON summary says it too.
    let dir = temp("abi-kill");
    let file = dir.join("r.jsonl");
    let flag = format!("--report={}", file.display());
    let r = container(
        &[&flag],
        &["/bin/sh", "-c", "/probe keyctl; exec /probe i386_getpid"],
    );
    assert_eq!(
        (r.code, r.stdout.as_str()),
        (159, "keyctl: blocked errno=1 (EPERM)\n"),
        "{r:?}"
    );
    assert!(
        r.stderr
            .starts_with("syscage: report: 1 denied call (1 kind)\n  keyctl "),
        "{r:?}"
    );
    assert!(
        r.stderr.ends_with(&format!("syscage: report: {why}\n")),
        "{r:?}"
    );
    let text = std::fs::read_to_string(&file).unwrap();
    let last: serde_json::Value = serde_json::from_str(text.lines().last().unwrap()).unwrap();
    assert_eq!(last["killed_by_filter"], why, "{text}");
    // learn says it too, and that its profile does not admit the call either.
    let r = learn_probe(&[], "x32_getpid", &dir.join("l.json"));
    assert_eq!(r.code, 159, "{r:?}");
    assert!(
        r.stderr
            .starts_with(&format!("syscage: {why}\nsyscage: learned ")),
        "{r:?}"
    );
    // Under unconfined nothing is killed, and nothing said.
    let r = probe_line(&["--seccomp", "unconfined", "--report"], &["i386_getpid"]);
    assert_eq!(
        (r.code, r.stderr.as_str()),
        (0, "syscage: report: no call was denied\n"),
        "{r:?}"
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
#[ignore = "needs root"]
fn learning_never_widens_past_the_base_profile() {
    need_root!();
    let dir = temp("widen");
    let prof = dir.join("learned.json");
    let denied = [
        "tiocsti",
        "tiocsti_high",
        "tioclinux",
        "tioclinux_high",
        "prctl_seccomp",
    ];
    // More distinct ioctl requests and prctl options than learn keeps, and the calls the
    // base denies, tried once (so their set-up steps are learned).
    let mut workload = String::from(
        "/probe many_values ioctl 100; /probe many_values prctl 100; /probe tiocgwinsz",
    );
    for p in denied {
        workload.push_str(&format!("; /probe {p}"));
    }
    let root = rootfs().to_str().unwrap().to_string();
    let r = syscage_run(&[
        "learn",
        "-o",
        prof.to_str().unwrap(),
        "--rootfs",
        &root,
        "--tmpfs",
        "/tmp",
        "--",
        "/bin/sh",
        "-c",
        &workload,
    ]);
    assert_eq!(r.code, 0, "{r:?}");
    assert!(
        r.stderr.contains("syscage: learned by name, with the `default` profile's conditions (more than 64 distinct argument values seen): ioctl, prctl\n"),
        "{r:?}"
    );
    assert!(
        r.stderr
            .contains("syscage: denied by the `default` profile while learning, and left denied: "),
        "{r:?}"
    );
    // What the base denies stays denied; what ran still runs.
    let p = prof.to_str().unwrap();
    for probe in denied {
        let base = probe_line(&[], &[probe]);
        let learned = probe_line(&["--seccomp", p], &[probe]);
        assert_eq!(
            base.stdout,
            format!("{probe}: blocked errno=1 (EPERM)\n"),
            "{base:?}"
        );
        assert_eq!(
            learned.stdout, base.stdout,
            "{probe} under the learned profile: {learned:?}"
        );
    }
    for (args, want) in [
        (
            vec!["many_values", "ioctl", "100"],
            "many_values: ok value=0\n",
        ),
        (
            vec!["many_values", "prctl", "100"],
            "many_values: ok value=0\n",
        ),
        (vec!["tiocgwinsz"], "tiocgwinsz: ok\n"),
    ] {
        let r = probe_line(&["--seccomp", p], &args);
        assert_eq!((r.code, r.stdout.as_str()), (0, want), "{r:?}");
    }
    std::fs::remove_dir_all(&dir).unwrap();
}
