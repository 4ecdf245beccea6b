//! `syscage agent` against processes that do what an OCI runtime does (load a filter that
//! notifies keyctl, send the container process state with the fd, keep the connection
//! open): the answers, the reports, bad runtimes, a flood, a container killed with calls
//! pending, 32 containers at once and 100 in turn. Needs root (a filter with a listener
//! is loaded by a process the test starts, and the agent reads /proc of it).

mod agent_support;
mod support;

use agent_support::*;
use std::time::{Duration, Instant};
use support::{root, syscage};

const LIMIT: Duration = Duration::from_secs(60);

#[test]
#[ignore = "needs root"]
fn the_agent_answers_reports_and_survives_bad_runtimes() {
    if !root(module_path!()) {
        return;
    }
    let dir = workdir("bad");
    // A profile of the administrator's that answers keyctl with EACCES.
    let eacces = dir.join("eacces.json");
    std::fs::write(&eacces, r#"{"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [{"names": ["keyctl"], "action": "SCMP_ACT_ERRNO", "errnoRet": 13}]}"#).unwrap();
    let mut agent = Agent::start(&dir, &["--profile", eacces.to_str().unwrap()]);
    let out = agent.out.display().to_string();
    let report_to = format!("profile=default;report={out}/{{id}}.jsonl");

    // A good container: every call answered with the profile's errno, all of it reported.
    let p = spawn_peer(&agent, &state("good", &report_to, &[]), 100);
    assert_eq!(peer_line(p, LIMIT), "calls=100 errno=1 count=100");
    agent.wait_exact("syscage: agent: container `good`: report: 100 denied calls (1 kind)");
    let (events, counts) = report(&agent.out.join("good.jsonl"));
    assert_eq!(events.len(), 100);
    assert_eq!(events[0]["syscall"], "keyctl");
    assert_eq!(events[0]["action"], "ERRNO(EPERM)");
    assert_eq!(counts["total"], 100);

    // The administrator's profile, named by the metadata, and an annotation for the file.
    let meta = format!("profile={}", eacces.display());
    let ann = [("run.syscage.report", "{id}-annotated.jsonl")];
    let p = spawn_peer(&agent, &state("own", &meta, &ann), 5);
    assert_eq!(peer_line(p, LIMIT), "calls=5 errno=13 count=5");
    agent.wait_exact("syscage: agent: container `own`: report `own-annotated.jsonl`: not an absolute path; no report is written");
    let p = spawn_peer(
        &agent,
        &state(
            "fixed",
            &meta,
            &[("run.syscage.report", &format!("{out}/good.jsonl"))],
        ),
        5,
    );
    assert_eq!(peer_line(p, LIMIT), "calls=5 errno=13 count=5");
    agent.wait_exact(&format!("syscage: agent: container `fixed`: annotation run.syscage.report `{out}/good.jsonl`: the file name must hold `{{id}}` (the container's id), so that no container can overwrite another's; nothing is written"));
    // What a container's runtime or annotations send is escaped.
    let p = spawn_peer(
        &agent,
        &state(
            "tricky",
            &meta,
            &[(
                "run.syscage.learn",
                "\u{1b}]0;x\u{7}\nsyscage: agent: forged {id}",
            )],
        ),
        1,
    );
    assert_eq!(peer_line(p, LIMIT), "calls=1 errno=13 count=1");
    agent.wait_exact("syscage: agent: container `tricky`: learn `\\u{1b}]0;x\\u{7}\\nsyscage: agent: forged {id}`: the profile notifies only the calls it denies, so nothing that runs can be learned (hint: pair the profile with `syscage profile show NAME --json --notify-all`)");
    let ann = format!("{out}/{{id}}-annotated.jsonl");
    let p = spawn_peer(
        &agent,
        &state("own2", &meta, &[("run.syscage.report", &ann)]),
        5,
    );
    assert_eq!(peer_line(p, LIMIT), "calls=5 errno=13 count=5");
    agent.wait_exact("syscage: agent: container `own2`: report: 5 denied calls (1 kind)");
    assert_eq!(
        report(&agent.out.join("own2-annotated.jsonl")).1["total"],
        5
    );

    // Bad runtimes: one line each, and the calls of those that sent their fd answered.
    let p = spawn_peer(&agent, "nofd:-", 3);
    let pid = p.id();
    // Without the agent holding the fd, the kernel answers ENOSYS: never a hang.
    assert_eq!(peer_line(p, LIMIT), "calls=3 errno=38 count=3");
    agent.wait_exact(&format!("syscage: agent: a container (runtime pid {pid}): the runtime closed the connection without sending a container state"));
    let p = spawn_peer(
        &agent,
        &format!("nofd:{}", state("nofd", &report_to, &[])),
        3,
    );
    assert_eq!(peer_line(p, LIMIT), "calls=3 errno=38 count=3");
    agent.wait_exact("syscage: agent: container `nofd`: the runtime sent no file descriptor with the container state (SCM_RIGHTS)");
    let p = spawn_peer(&agent, r#"{"ociVersion": 1}"#, 3);
    let pid = p.id();
    assert_eq!(peer_line(p, LIMIT), "calls=3 errno=1 count=3");
    agent.wait_exact(&format!("syscage: agent: a container (runtime pid {pid}): the container state is not what the runtime spec says: invalid type: integer `1`, expected a string at line 1 column 16; its notified calls are refused with EPERM"));
    let p = spawn_peer(
        &agent,
        &state("badkey", "profile=default;trace=/tmp/t", &[]),
        3,
    );
    assert_eq!(peer_line(p, LIMIT), "calls=3 errno=1 count=3");
    agent.wait_exact("syscage: agent: container `badkey`: metadata key `trace` is unknown (known: profile, digest, notify, cap-add, cap-drop, arch, read, report, learn); its notified calls are refused with EPERM");
    let p = spawn_peer(&agent, &state("unknown", "profile=/etc/passwd", &[]), 3);
    assert_eq!(peer_line(p, LIMIT), "calls=3 errno=1 count=3");
    agent.wait_exact("syscage: agent: container `unknown`: metadata `profile=/etc/passwd`: neither a built-in profile nor a file the agent was given (--profile FILE); its notified calls are refused with EPERM");
    let p = spawn_peer(
        &agent,
        &state(
            "outside",
            "profile=default;report=/etc/syscage-agent-test.jsonl",
            &[],
        ),
        3,
    );
    assert_eq!(peer_line(p, LIMIT), "calls=3 errno=1 count=3");
    agent.wait_exact(&format!("syscage: agent: container `outside`: report `/etc/syscage-agent-test.jsonl`: outside the directories the agent may write (--allow-dir {out}); no report is written"));
    assert!(!std::path::Path::new("/etc/syscage-agent-test.jsonl").exists());
    let p = spawn_peer(
        &agent,
        &state(
            "escape",
            &format!("profile=default;report={out}/../escape.jsonl"),
            &[],
        ),
        3,
    );
    assert_eq!(peer_line(p, LIMIT), "calls=3 errno=1 count=3");
    agent.wait_exact(&format!("syscage: agent: container `escape`: report `{out}/../escape.jsonl`: `..` is not allowed in the path; no report is written"));
    std::os::unix::fs::symlink("/etc", agent.out.join("etc")).unwrap();
    let p = spawn_peer(
        &agent,
        &state(
            "link",
            &format!("profile=default;report={out}/etc/x.jsonl"),
            &[],
        ),
        3,
    );
    assert_eq!(peer_line(p, LIMIT), "calls=3 errno=1 count=3");
    agent.wait_exact(&format!("syscage: agent: container `link`: report `{out}/etc/x.jsonl`: cannot write it: Invalid cross-device link (EXDEV); no report is written"));
    assert!(!std::path::Path::new("/etc/x.jsonl").exists());
    let p = spawn_peer(
        &agent,
        &state(
            "unwritable",
            &format!("profile=default;report={out}/missing/r.jsonl"),
            &[],
        ),
        3,
    );
    assert_eq!(peer_line(p, LIMIT), "calls=3 errno=1 count=3");
    agent.wait_exact(&format!("syscage: agent: container `unwritable`: report `{out}/missing/r.jsonl`: cannot write it: No such file or directory (ENOENT); no report is written"));
    let p = spawn_peer(
        &agent,
        &state(
            "learner",
            &format!("profile=default;notify=denials;learn={out}/l.json"),
            &[],
        ),
        3,
    );
    assert_eq!(peer_line(p, LIMIT), "calls=3 errno=1 count=3");
    agent.wait_exact(&format!("syscage: agent: container `learner`: learn `{out}/l.json`: the profile notifies only the calls it denies, so nothing that runs can be learned (hint: pair the profile with `syscage profile show NAME --json --notify-all`)"));
    let p = spawn_peer(
        &agent,
        &state("changed", "profile=default;digest=00", &[]),
        3,
    );
    assert_eq!(peer_line(p, LIMIT), "calls=3 errno=1 count=3");
    agent.wait_line(|l| l.starts_with("syscage: agent: container `changed`: profile `default` now resolves to other rules than the paired profile was written from (digest "));

    // A container flooding the agent holds its own thread only; killed with calls
    // pending, it ends, and the agent goes on.
    let flood = spawn_peer(&agent, &state("flood", &report_to, &[]), u64::MAX >> 1);
    let start = Instant::now();
    let p = spawn_peer(&agent, &state("meanwhile", &report_to, &[]), 1000);
    assert_eq!(peer_line(p, LIMIT), "calls=1000 errno=1 count=1000");
    agent.wait_exact("syscage: agent: container `meanwhile`: report: 1000 denied calls (1 kind)");
    eprintln!(
        "a container of 1000 calls beside a flood: {:?}",
        start.elapsed()
    );
    let mut flood = flood;
    flood.kill().unwrap();
    flood.wait().unwrap();
    let line = agent.wait_line(|l| l.starts_with("syscage: agent: container `flood`: report: "));
    assert!(line.ends_with(" denied calls (1 kind)"), "{line}");
    let p = spawn_peer(&agent, &state("after", &report_to, &[]), 10);
    assert_eq!(peer_line(p, LIMIT), "calls=10 errno=1 count=10");

    assert_eq!(agent.stop(), Some(0));
    assert!(!agent.socket.exists(), "the socket is removed at the end");
    let said = agent.lines();
    for l in &said {
        assert!(
            l.starts_with("syscage: agent: ") || l.starts_with("  "),
            "{l}"
        );
    }
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
#[ignore = "needs root"]
fn a_socket_path_that_is_not_a_socket_is_refused() {
    if !root(module_path!()) {
        return;
    }
    let dir = workdir("notsock");
    let f = dir.join("a.sock");
    std::fs::write(&f, "keep").unwrap();
    let out = std::process::Command::new(syscage())
        .args(["agent", "--socket", f.to_str().unwrap()])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(125));
    assert_eq!(
        String::from_utf8_lossy(&out.stderr),
        format!(
            "syscage: --socket `{}` exists and is not a socket; refusing to replace it\n",
            f.display()
        )
    );
    assert_eq!(std::fs::read_to_string(&f).unwrap(), "keep");
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
#[ignore = "needs root"]
fn the_agent_holds_32_containers_at_once() {
    if !root(module_path!()) {
        return;
    }
    let dir = workdir("load");
    let agent = Agent::start(&dir, &[]);
    let out = agent.out.display().to_string();
    let meta = format!("profile=default;report={out}/{{id}}.jsonl");
    let start = Instant::now();
    let peers: Vec<_> = (0..32)
        .map(|i| spawn_peer(&agent, &state(&format!("c{i}"), &meta, &[]), 10_000))
        .collect();
    for p in peers {
        assert_eq!(peer_line(p, LIMIT), "calls=10000 errno=1 count=10000");
    }
    for i in 0..32 {
        agent.wait_exact(&format!(
            "syscage: agent: container `c{i}`: report: 10000 denied calls (1 kind)"
        ));
        let (events, counts) = report(&agent.out.join(format!("c{i}.jsonl")));
        assert_eq!(events.len(), 10_000, "c{i}: one event per call");
        assert_eq!(counts["total"], 10_000);
        assert_eq!(counts["summary"][0]["count"], 10_000);
    }
    eprintln!("32 containers x 10000 denied calls: {:?}", start.elapsed());
    drop(agent);
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
#[ignore = "needs root"]
fn the_agents_memory_stays_flat() {
    if !root(module_path!()) {
        return;
    }
    let dir = workdir("memory");
    let agent = Agent::start(&dir, &[]);
    let out = agent.out.display().to_string();
    // Each container asks for everything: answers, a report and a learned profile.
    let meta = format!(
        "profile=default;notify=all;report={out}/{{id}}.jsonl;learn={out}/{{id}}.learned.json"
    );
    let run = |i: usize| {
        let p = spawn_peer(&agent, &state(&format!("m{i}"), &meta, &[]), 200);
        assert_eq!(peer_line(p, LIMIT), "calls=200 errno=1 count=200");
        agent.wait_line(|l| l.starts_with(&format!("syscage: agent: container `m{i}`: learned ")));
    };
    for i in 0..10 {
        run(i);
    }
    let warm = agent.rss_kib();
    for i in 10..100 {
        run(i);
    }
    let after = agent.rss_kib();
    eprintln!("agent RSS: {warm} KiB after 10 containers, {after} KiB after 100");
    // What one container costs (its thread's stack, its report's buffer and counts, its
    // process cache, what it learned) is freed when it ends; what stays is what the
    // allocator keeps for reuse, which the first ten containers already grew. 1 MiB over
    // 90 more containers is less than 12 KiB each: the events buffer (8 KiB) and the
    // stack pages of one container kept per container would exceed it.
    assert!(
        after <= warm + 1024,
        "the agent grew from {warm} KiB to {after} KiB over 90 containers"
    );
    for i in [0, 99] {
        assert_eq!(
            report(&agent.out.join(format!("m{i}.jsonl"))).1["total"],
            200
        );
        let learned =
            std::fs::read_to_string(agent.out.join(format!("m{i}.learned.json"))).unwrap();
        assert!(learned.contains("\"write\""), "{learned}");
    }
    drop(agent);
    std::fs::remove_dir_all(&dir).unwrap();
}

/// `syscage ARGS`: (exit code, stdout, stderr).
fn cli(args: &[&str]) -> (Option<i32>, String, String) {
    let out = std::process::Command::new(syscage())
        .args(args)
        .output()
        .unwrap();
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn bad_options_are_named_before_anything_is_made() {
    let err = |args: &[&str]| {
        let (code, out, err) = cli(args);
        assert_eq!(code, Some(125), "{args:?}: {out}{err}");
        err
    };
    assert_eq!(
        err(&[
            "profile",
            "show",
            "default",
            "--json",
            "--notify-denials",
            "--listener",
            "agent.sock"
        ]),
        "syscage: --listener `agent.sock`: an absolute path to the agent's socket\n"
    );
    assert_eq!(
        err(&[
            "profile",
            "show",
            "default",
            "--json",
            "--notify-denials",
            "--metadata",
            "profile=contained"
        ]),
        "syscage: --metadata: `profile`, `digest` and `notify` are written by syscage itself\n"
    );
    assert_eq!(
        err(&[
            "profile",
            "show",
            "default",
            "--json",
            "--notify-denials",
            "--metadata",
            "report=/var/log/a;b"
        ]),
        "syscage: --metadata: metadata item `b`: expected KEY=VALUE\n"
    );
    assert_eq!(
        err(&["profile", "show", "default", "--listener", "/run/a.sock"]),
        "syscage: --listener and --metadata go with --notify-denials or --notify-all\n"
    );
    assert!(err(&["profile", "show", "default", "--notify-denials"]).contains("--json"));
    assert_eq!(
        err(&["agent", "--socket-mode", "999"]),
        "syscage: --socket-mode `999`: expected octal permissions such as 0600 or 0660\n"
    );
    assert_eq!(
        err(&["agent", "--allow-dir", "/nonexistent-syscage-dir"]),
        "syscage: --allow-dir `/nonexistent-syscage-dir`: No such file or directory (ENOENT)\n"
    );
    assert_eq!(
        err(&["agent", "--profile", "/nonexistent-syscage-dir/p.json"]),
        "syscage: --profile `/nonexistent-syscage-dir/p.json`: No such file or directory (ENOENT)\n"
    );
    // The paired profile names the agent's socket and the profile it answers for.
    let (code, out, _) = cli(&[
        "profile",
        "show",
        "default",
        "--json",
        "--notify-all",
        "--metadata",
        "learn=/var/log/syscage/{id}.json",
    ]);
    assert_eq!(code, Some(0));
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["listenerPath"], "/run/syscage/agent.sock");
    let meta = v["listenerMetadata"].as_str().unwrap();
    assert!(meta.starts_with("profile=default;digest="), "{meta}");
    assert!(
        meta.ends_with(";notify=all;learn=/var/log/syscage/{id}.json"),
        "{meta}"
    );
    assert_eq!(v["defaultAction"], "SCMP_ACT_ERRNO");
    let write_notified = v["syscalls"].as_array().unwrap().iter().any(|e| {
        e["action"] == "SCMP_ACT_NOTIFY"
            && e["names"].as_array().unwrap().iter().any(|n| n == "write")
    });
    assert!(!write_notified, "write is never notified");
}
