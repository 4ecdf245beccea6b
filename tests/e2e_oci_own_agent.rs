//! syscage as the OCI runtime with the `run.syscage.report` and `run.syscage.learn`
//! annotations and a profile that names no agent: `create` pairs the container's profile
//! with an agent of syscage's own, started for that container alone, which answers as the
//! profile would, covers the container's process and every `exec`, writes the report and
//! the learned profile once the container is gone (before `delete` returns) and ends. The
//! files the annotations name are checked before anything is made, and a failed or killed
//! `create` leaves no agent behind. Needs root.

mod oci_support;
mod support;

use oci_support::*;
use serde_json::{json, Value};
use std::path::{Path, PathBuf};
use std::time::Duration;
use support::*;

/// The directory the annotations may name (`--annotation-dir`).
fn out_dir(b: &Bundle) -> PathBuf {
    let d = b.path("out");
    std::fs::create_dir_all(&d).unwrap();
    d
}

fn annotate(c: &mut Value, out: &Path, seccomp: Option<&str>) {
    let mut a = serde_json::Map::new();
    if let Some(s) = seccomp {
        a.insert("run.syscage.seccomp".into(), s.into());
    }
    a.insert(
        "run.syscage.report".into(),
        format!("{}/{{id}}.jsonl", out.display()).into(),
    );
    a.insert(
        "run.syscage.learn".into(),
        format!("{}/{{id}}.json", out.display()).into(),
    );
    c["annotations"] = Value::Object(a);
}

/// The report's events (JSON lines with a `syscall`).
fn events(path: &Path) -> Vec<Value> {
    std::fs::read_to_string(path)
        .unwrap_or_default()
        .lines()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .filter(|v| v.get("syscall").is_some())
        .collect()
}

/// The pid and socket of the agent `create` started, from the container's state file.
fn agent_of(b: &Bundle, id: &str) -> (i32, PathBuf) {
    let text = std::fs::read_to_string(b.root.join(id).join("state.json")).unwrap();
    let v: Value = serde_json::from_str(&text).unwrap();
    let pid = v["agent"]["pid"].as_i64().expect("an agent in the state") as i32;
    (pid, PathBuf::from(v["agent"]["socket"].as_str().unwrap()))
}

/// Agents' sockets left for container `id` (their names start with it).
fn sockets_of(id: &str) -> Vec<String> {
    std::fs::read_dir("/run/syscage-agents")
        .into_iter()
        .flatten()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with(&format!("{id}-")))
        .collect()
}

/// What marks an agent allowed to write in `out` (its own command line).
fn agent_marker(out: &Path) -> String {
    format!("--allow-dir={}", out.display())
}

fn running(pid: i32) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/cmdline"))
        .is_ok_and(|c| c.contains("--one-container"))
}

#[test]
#[ignore = "needs root"]
fn the_report_and_the_learned_profile_cover_the_container_and_its_execs() {
    need_root!(subreaper);
    let script = "unshare -U true; unshare -U true; mkfifo /tmp/go; echo started; read x < /tmp/go; echo done";
    let b = Bundle::new("own-agent", &["sh", "-c", script], |_| {});
    let out = out_dir(&b);
    // Rewritten with the directory, which is the bundle's.
    let cfg = b.path("config.json");
    let mut c: Value = serde_json::from_str(&std::fs::read_to_string(&cfg).unwrap()).unwrap();
    annotate(&mut c, &out, Some("default"));
    std::fs::write(&cfg, c.to_string()).unwrap();
    let log = b.path("log.json");
    let global = [
        "--annotation-dir",
        out.to_str().unwrap(),
        "--log",
        log.to_str().unwrap(),
        "--log-format",
        "json",
    ];
    let (r, pid) = b.create_with(&global, "c", &[]);
    assert_eq!(r.code, 0, "{r:?}");
    let pid = pid.unwrap();
    let (agent, socket) = agent_of(&b, "c");
    assert!(running(agent), "the agent runs after create");
    assert!(
        socket
            .to_string_lossy()
            .starts_with("/run/syscage-agents/c-"),
        "{socket:?}"
    );
    assert!(socket.exists());
    assert_eq!(b.oci(&["start", "c"]).code, 0);
    until("the container started", || {
        b.output("c").contains("started")
    });
    let e = b.oci(&[
        "exec",
        "c",
        "sh",
        "-c",
        "unshare -U true; echo $?; echo go > /tmp/go",
    ]);
    assert_eq!(e.code, 0, "{e:?}");
    assert_eq!(e.stdout, "1\n");
    assert_eq!(
        e.stderr,
        "unshare: unshare(0x10000000): Operation not permitted\n"
    );
    assert_eq!(reap(pid, Duration::from_secs(30)), 0);
    assert_eq!(b.output("c"), "started\ndone\n");
    // Its container gone (and reaped), the agent writes everything and ends by itself,
    // removing its socket; `delete` need not stop it.
    until("the agent ended by itself", || !running(agent));
    assert!(!socket.exists(), "its socket is removed");
    let d = b.oci(&["delete", "c"]);
    assert_eq!(d.code, 0, "{d:?}");
    let ev = events(&out.join("c.jsonl"));
    assert_eq!(ev.len(), 3, "{ev:?}");
    for v in &ev {
        assert_eq!(v["syscall"], "unshare");
        assert_eq!(v["action"], "ERRNO(EPERM)");
        assert_eq!(v["decoded"][0], "unshare_flags=CLONE_NEWUSER");
    }
    // The two of the container's process, then the exec's.
    let pids: Vec<i64> = ev
        .iter()
        .map(|v| v["container_pid"].as_i64().unwrap())
        .collect();
    assert!(pids[0] != pids[2] && pids[1] != pids[2], "{pids:?}");
    let learned: Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("c.json")).unwrap()).unwrap();
    let names: Vec<&str> = learned["syscalls"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|s| s["names"].as_array().unwrap().iter())
        .map(|n| n.as_str().unwrap())
        .collect();
    for call in ["execve", "wait4", "exit_group"] {
        assert!(names.contains(&call), "{call} learned: {names:?}");
    }
    // Denied, so not learned; and never notified, but learned as the profile allows it.
    assert!(!names.contains(&"unshare"), "{names:?}");
    assert!(names.contains(&"write"), "{names:?}");
    let show = syscage_run(&["profile", "show", out.join("c.json").to_str().unwrap()]);
    assert_eq!(show.code, 0, "the learned profile loads: {show:?}");
    // The summary is in the runtime's log, as JSON lines the clients read.
    let lines: Vec<Value> = std::fs::read_to_string(&log)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let msgs: Vec<&str> = lines.iter().map(|l| l["msg"].as_str().unwrap()).collect();
    assert!(
        msgs.contains(&"agent: container `c`: report: 3 denied calls (1 kind)"),
        "{msgs:?}"
    );
    assert!(
        msgs.iter()
            .any(|m| m.starts_with("agent: container `c`: learned ")
                && m.ends_with(&format!("; wrote {}/c.json", out.display()))),
        "{msgs:?}"
    );
    assert!(!b.root.join("c").exists());
}

/// The program sees what its profile answers, with the agent as without it.
#[test]
#[ignore = "needs root"]
fn the_program_sees_the_same_answers_with_the_agent_as_without() {
    need_root!(subreaper);
    let script = "unshare -U true; echo $?; keyctl 2>/dev/null; echo $?";
    let profile = json!({"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [
        {"names": ["unshare"], "action": "SCMP_ACT_ERRNO", "errnoRet": 38}
    ]});
    let plain = Bundle::new("own-plain", &["sh", "-c", script], |c| {
        c["linux"]["seccomp"] = profile.clone();
    });
    let without = plain.oci(&["run", "--bundle", plain.dir.to_str().unwrap(), "p"]);
    assert_eq!(without.code, 0, "{without:?}");
    let b = Bundle::new("own-answers", &["sh", "-c", script], |c| {
        c["linux"]["seccomp"] = profile.clone();
    });
    let out = out_dir(&b);
    let cfg = b.path("config.json");
    let mut c: Value = serde_json::from_str(&std::fs::read_to_string(&cfg).unwrap()).unwrap();
    annotate(&mut c, &out, None);
    std::fs::write(&cfg, c.to_string()).unwrap();
    let with = b.oci(&[
        "--annotation-dir",
        out.to_str().unwrap(),
        "run",
        "--bundle",
        b.dir.to_str().unwrap(),
        "a",
    ]);
    assert_eq!(with.code, 0, "{with:?}");
    assert_eq!(
        without.stderr,
        "unshare: unshare(0x10000000): Function not implemented\n"
    );
    assert_eq!(
        (&with.stdout, &with.stderr),
        (&without.stdout, &without.stderr)
    );
    let ev = events(&out.join("a.jsonl"));
    assert_eq!(ev.len(), 1, "{ev:?}");
    assert_eq!(ev[0]["action"], "ERRNO(ENOSYS)");
    assert!(out.join("a.json").exists());
    assert!(stray_processes(&agent_marker(&out)).is_empty());
    assert!(sockets_of("a").is_empty());
}

#[test]
#[ignore = "needs root"]
fn files_the_annotations_may_not_name_are_refused_before_anything_is_made() {
    need_root!(subreaper);
    let b = Bundle::new("own-bad", &["true"], |_| {});
    let out = out_dir(&b);
    let o = out.display().to_string();
    let cfg = b.path("config.json");
    let base: Value = serde_json::from_str(&std::fs::read_to_string(&cfg).unwrap()).unwrap();
    let cases: Vec<(Value, Option<&str>, String)> = vec![
        (
            json!({"run.syscage.seccomp": "default", "run.syscage.report": format!("{o}/{{id}}.jsonl")}),
            None,
            format!("annotation `run.syscage.report`: report `{o}/x.jsonl`: outside the directories annotations may name (none: files named by annotations are refused unless the runtime is given --annotation-dir DIR)"),
        ),
        (
            json!({"run.syscage.seccomp": "default", "run.syscage.report": format!("{o}/r.jsonl")}),
            Some(&o),
            format!("annotation `run.syscage.report`: `{o}/r.jsonl`: the file name must hold `{{id}}` (the container's id), so that no container can overwrite another's"),
        ),
        (
            json!({"run.syscage.seccomp": "default", "run.syscage.learn": "/etc/{id}.json"}),
            Some(&o),
            format!("annotation `run.syscage.learn`: learn `/etc/x.json`: outside the directories annotations may name (--annotation-dir {o})"),
        ),
        (
            json!({"run.syscage.seccomp": "default", "run.syscage.report": format!("{o}/../{{id}}")}),
            Some(&o),
            format!("annotation `run.syscage.report`: report `{o}/../x`: `..` is not allowed in the path"),
        ),
        (
            json!({"run.syscage.seccomp": "default", "run.syscage.report": format!("{o}/{{id}}\nsyscage: forged")}),
            Some("/nonexistent-dir"),
            "--annotation-dir `/nonexistent-dir`: No such file or directory (ENOENT)".to_string(),
        ),
        (
            json!({"run.syscage.report": format!("{o}/{{id}}.jsonl")}),
            Some(&o),
            "annotation `run.syscage.report`: the container has no seccomp filter, so no call of it is seen (hint: give it one, e.g. the annotation run.syscage.seccomp=default)".to_string(),
        ),
        (
            json!({"run.syscage.seccomp": "default", "run.syscage.report": format!("{o}/r\nsyscage: forged")}),
            Some(&o),
            "".to_string(),
        ),
    ];
    for (i, (annotations, dir, want)) in cases.into_iter().enumerate() {
        let mut c = base.clone();
        c["annotations"] = annotations;
        std::fs::write(&cfg, c.to_string()).unwrap();
        let mut args = vec!["--root", b.root.to_str().unwrap()];
        if let Some(d) = dir {
            args.extend(["--annotation-dir", d]);
        }
        args.extend(["create", "--bundle", b.dir.to_str().unwrap(), "x"]);
        let r = syscage_run(&args);
        if want.is_empty() {
            // A value with a line break is shown escaped, never as a line of its own.
            assert_eq!(r.code, 1, "{i}: {r:?}");
            assert_eq!(r.stderr.lines().count(), 1, "{i}: {r:?}");
            assert!(r.stderr.contains("\\nsyscage: forged"), "{i}: {r:?}");
        } else {
            assert_eq!(
                (r.code, r.stderr.as_str()),
                (1, format!("syscage: {want}\n").as_str()),
                "{i}"
            );
        }
        assert!(!b.root.join("x").exists(), "{i}: a state directory");
        assert_eq!(std::fs::read_dir(&out).unwrap().count(), 0, "{i}: a file");
    }
    assert!(stray_processes(&agent_marker(&out)).is_empty());
    assert!(sockets_of("x").is_empty());
}

/// A failure at each step from the pairing on, and a `create` killed once its agent
/// runs, leave no agent (nor anything else) behind.
#[test]
#[ignore = "needs root"]
fn a_failed_or_killed_create_leaves_no_agent() {
    need_root!(subreaper);
    for (i, step) in [
        "pair the profile with syscage's agent",
        "start syscage's agent",
        "write the state file",
        "write the pid file",
    ]
    .iter()
    .enumerate()
    {
        let b = Bundle::new(&format!("own-fault{i}"), &["sleep", "1000"], |_| {});
        let out = out_dir(&b);
        let cfg = b.path("config.json");
        let mut c: Value = serde_json::from_str(&std::fs::read_to_string(&cfg).unwrap()).unwrap();
        annotate(&mut c, &out, Some("default"));
        std::fs::write(&cfg, c.to_string()).unwrap();
        let pidf = b.path("pid");
        let child = std::process::Command::new(syscage())
            .env("SYSCAGE_FAULT", step)
            .args(["--root", b.root.to_str().unwrap(), "--annotation-dir"])
            .arg(&out)
            .args(["create", "--bundle", b.dir.to_str().unwrap(), "--pid-file"])
            .arg(&pidf)
            .arg("f")
            .stdin(std::process::Stdio::null())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        let r = wait_timeout(child, Duration::from_secs(60));
        assert_eq!(r.code, 1, "{step}: {r:?}");
        assert!(
            r.stderr.contains(step) && r.stderr.contains("(ENOTRECOVERABLE)"),
            "{step}: {r:?}"
        );
        until(&format!("{step}: nothing left"), || {
            !b.root.join("f").exists()
                && b.cgroups().is_empty()
                && stray_processes(&agent_marker(&out)).is_empty()
                && sockets_of("f").is_empty()
        });
        assert_eq!(
            std::fs::read_dir(&out).unwrap().count(),
            0,
            "{step}: a file"
        );
    }

    // Killed once the agent runs, before the container's fd reached it: the agent sees
    // its starter gone and ends; `delete --force` removes the rest.
    let b = Bundle::new("own-killed", &["sleep", "1000"], |_| {});
    let out = out_dir(&b);
    let cfg = b.path("config.json");
    let mut c: Value = serde_json::from_str(&std::fs::read_to_string(&cfg).unwrap()).unwrap();
    annotate(&mut c, &out, Some("default"));
    std::fs::write(&cfg, c.to_string()).unwrap();
    let mut child = std::process::Command::new(syscage())
        .env("SYSCAGE_STOP_AT", "own agent started")
        .args(["--root", b.root.to_str().unwrap(), "--annotation-dir"])
        .arg(&out)
        .args(["create", "--bundle", b.dir.to_str().unwrap(), "k"])
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let create = child.id() as i32;
    until("create stopped with its agent running", || {
        let stat = std::fs::read_to_string(format!("/proc/{create}/stat")).unwrap_or_default();
        stat.rsplit_once(')')
            .is_some_and(|(_, r)| r.trim_start().starts_with('T'))
            && !stray_processes(&agent_marker(&out)).is_empty()
    });
    child.kill().unwrap();
    child.wait().unwrap();
    until("the agent ended, its socket removed", || {
        stray_processes(&agent_marker(&out)).is_empty() && sockets_of("k").is_empty()
    });
    assert_eq!(b.oci(&["delete", "--force", "k"]).code, 0);
    assert!(!b.root.join("k").exists());
    // A directory without a state that holds anything create does not make is not
    // syscage's to remove.
    let foreign = b.root.join("foreign");
    std::fs::create_dir_all(&foreign).unwrap();
    std::fs::write(foreign.join("data"), "x").unwrap();
    assert_eq!(b.oci(&["delete", "--force", "foreign"]).code, 0);
    assert!(foreign.join("data").exists());
}
