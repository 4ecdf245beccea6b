//! `syscage agent` as the seccomp agent of the runtimes users have: Debian's crun (1.8)
//! and runc (1.1) run an OCI bundle whose profile is the paired one (`profile show
//! default --json --notify-denials`, `listenerPath` at the agent); the probes see the
//! errnos they see under the profile itself, without the agent; the agent writes the
//! report and, with `--notify-all`, a learned profile that runs the workload again; podman
//! (4.3) hands its `--security-opt seccomp=FILE` listener to the agent too; and syscage's
//! own `run` does. Needs root, crun, runc and podman.

mod agent_support;
mod support;

use agent_support::*;
use std::path::{Path, PathBuf};
use std::process::Command;
use support::*;

/// Probes whose answers come from the filter (or pass it).
const PROBES: &[&str] = &[
    "getpid",
    "unshare0",
    "unshare_userns",
    "unshare_userns_high",
    "clone_userns",
    "clone_plain",
    "clone3_plain",
    "mount_tmpfs",
    "fsopen",
    "open_tree",
    "chroot",
    "tiocsti",
    "tioclinux",
    "tcgets",
    "socket_unix",
    "socket_inet",
    "socket_vsock",
    "socket_vsock_high",
    "socket_alg",
    "socketpair_vsock",
    "io_uring_setup",
    "keyctl",
    "add_key",
    "userfaultfd",
    "perf_event_open",
    "bpf",
    "ptrace_traceme",
    "personality_query",
    "personality_read_implies_exec",
    "chmod_suid",
    "chmod_plain",
    "fchmod_suid_high",
    "fchmodat2_sgid",
    "mknod_dev",
    "seccomp_filter",
    "prctl_seccomp",
    "kexec_load",
    "acct",
    "settimeofday",
    "iopl",
    "modify_ldt",
    "mseal",
    "setns",
];

fn have(cmd: &str) -> bool {
    Command::new(cmd)
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success())
}

fn syscage_out(args: &[&str]) -> String {
    let out = Command::new(syscage()).args(args).output().unwrap();
    assert!(
        out.status.success(),
        "syscage {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

/// The default profile as crun and runc load it with exactly syscage's decisions.
fn portable_default() -> String {
    use syscage_policy::{profile, resolve, CapSet, Context, KernelVersion};
    let text = syscage_policy::builtin::get("default")
        .unwrap()
        .text()
        .unwrap();
    let prof = profile::parse(text, Default::default()).unwrap();
    let release = nix::sys::utsname::uname().unwrap();
    let ctx = Context {
        caps: CapSet::docker_default(),
        kernel: KernelVersion::parse(&release.release().to_string_lossy()),
        extra_arches: vec![],
        supervised: false,
    };
    let p = resolve::resolve("default", &prof, &ctx).unwrap();
    profile::to_json(&syscage_supervise::pair::portable_profile(&p).unwrap()).unwrap()
}

fn script(probes: &[&str]) -> String {
    probes
        .iter()
        .map(|p| format!("/probe {p}; echo \"status $?\";\n"))
        .collect()
}

/// An OCI bundle (Docker's capabilities and namespaces, the busybox root) running
/// `sh -c SCRIPT` under the profile in `profile`.
fn bundle(
    dir: &Path,
    name: &str,
    profile: &Path,
    sh: &str,
    annotations: &[(&str, &str)],
) -> PathBuf {
    let b = dir.join(name);
    std::fs::create_dir_all(&b).unwrap();
    let out = Command::new("python3")
        .args([
            concat!(env!("CARGO_MANIFEST_DIR"), "/bench/bundle.py"),
            rootfs().to_str().unwrap(),
            profile.to_str().unwrap(),
            "docker",
        ])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let mut config: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    config["process"]["args"] = serde_json::json!(["/bin/sh", "-c", sh]);
    let ann: serde_json::Map<String, serde_json::Value> = annotations
        .iter()
        .map(|(k, v)| (k.to_string(), serde_json::json!(v)))
        .collect();
    config["annotations"] = serde_json::Value::Object(ann);
    std::fs::write(b.join("config.json"), config.to_string()).unwrap();
    b
}

/// Runs a bundle with `runtime` and returns its stdout. crun 1.8 refuses the hybrid
/// cgroup layout: both run in a private mount namespace where cgroup2 is hidden.
fn run_bundle(runtime: &str, bundle: &Path, id: &str) -> String {
    // syscage as the OCI runtime, with a state root of its own next to the bundles.
    let runtime = if runtime == "syscage" {
        let state = bundle.parent().unwrap_or(bundle).join("syscage-state");
        format!("{} --root {}", syscage(), state.display())
    } else {
        runtime.to_string()
    };
    let cmd = format!(
        "mount --make-rprivate / && mount -t tmpfs none /sys/fs/cgroup/unified && {runtime} run -b {} {id}",
        bundle.display()
    );
    let out = Command::new("unshare")
        .args(["-m", "sh", "-c", &cmd])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{runtime} {id}: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// `probe: answer` for each probe, from the interleaved output.
fn answers(probes: &[&str], out: &str) -> Vec<(String, String)> {
    let mut res = Vec::new();
    let mut it = out.lines();
    for p in probes {
        let mut answer = String::from("(nothing)");
        for l in it.by_ref() {
            if let Some(st) = l.strip_prefix("status ") {
                if answer == "(nothing)" {
                    answer = format!("exit {st}");
                }
                break;
            }
            if let Some(rest) = l.strip_prefix(&format!("{p}: ")) {
                answer = if *p == "getpid" {
                    "ok".into()
                } else {
                    rest.to_string()
                };
            }
        }
        res.push((p.to_string(), answer));
    }
    res
}

#[test]
#[ignore = "needs root"]
fn crun_runc_and_syscage_are_answered_reported_and_learned_by_the_agent() {
    if !root(module_path!()) {
        return;
    }
    for rt in ["crun", "runc"] {
        if !have(rt) {
            skip(module_path!(), &format!("{rt} is not installed"));
        }
    }
    let dir = workdir("runtimes");
    let agent = Agent::start(&dir, &[]);
    let sock = agent.socket.to_str().unwrap().to_string();
    let out = agent.out.display().to_string();
    let paired = dir.join("paired.json");
    std::fs::write(
        &paired,
        syscage_out(&[
            "profile",
            "show",
            "default",
            "--json",
            "--notify-denials",
            "--listener",
            &sock,
        ]),
    )
    .unwrap();
    // Without the agent: the same decisions, none notified (`profile show --oci` is not
    // that: its `!=` conditions on ioctl let TIOCSTI through under crun and runc).
    let plain = dir.join("default-portable.json");
    std::fs::write(&plain, portable_default()).unwrap();
    let sh = script(PROBES);
    for rt in ["crun", "runc", "syscage"] {
        let id = format!("syscage-agent-{rt}-{}", std::process::id());
        let without = answers(
            PROBES,
            &run_bundle(
                rt,
                &bundle(&dir, &format!("{rt}-plain"), &plain, &sh, &[]),
                &id,
            ),
        );
        let report_to = format!("{out}/{{id}}.jsonl");
        let b = bundle(
            &dir,
            &format!("{rt}-agent"),
            &paired,
            &sh,
            &[("run.syscage.report", &report_to)],
        );
        let with = answers(PROBES, &run_bundle(rt, &b, &id));
        let differ: Vec<String> = without
            .iter()
            .zip(&with)
            .filter(|(a, b)| a != b)
            .map(|((p, a), (_, b))| format!("{p}: without the agent `{a}`, with it `{b}`"))
            .collect();
        assert!(differ.is_empty(), "{rt}:\n{}", differ.join("\n"));
        let summary = agent
            .wait_line(|l| l.starts_with(&format!("syscage: agent: container `{id}`: report: ")));
        let (events, counts) = report(&agent.out.join(format!("{id}.jsonl")));
        assert_eq!(
            counts["total"].as_u64(),
            Some(events.len() as u64),
            "{summary}"
        );
        let denied: Vec<&str> = events
            .iter()
            .filter_map(|e| e["syscall"].as_str())
            .collect();
        for call in [
            "keyctl",
            "clone3",
            "unshare",
            "socket",
            "ioctl",
            "mount",
            "bpf",
            "kexec_load",
        ] {
            assert!(
                denied.contains(&call),
                "{rt}: `{call}` is not in the report: {denied:?}"
            );
        }
        eprintln!("{rt}: {summary}");
    }

    // Learning: every call notified, the profile learned is the one the workload needs
    // under that runtime (what the runtime itself calls after loading the filter too).
    let all = dir.join("paired-all.json");
    std::fs::write(
        &all,
        syscage_out(&[
            "profile",
            "show",
            "default",
            "--json",
            "--notify-all",
            "--listener",
            &sock,
        ]),
    )
    .unwrap();
    let work = "echo hi; /probe socket_inet; /probe tcgets; /probe keyctl; ls /probe";
    let want = "hi\nsocket_inet: ok\ntcgets: ok\nkeyctl: blocked errno=1 (EPERM)\n/probe\n";
    for rt in ["crun", "runc", "syscage"] {
        let id = format!("syscage-agent-learn-{rt}-{}", std::process::id());
        let learn_to = format!("{out}/{{id}}.learned.json");
        let b = bundle(
            &dir,
            &format!("{rt}-learn"),
            &all,
            work,
            &[("run.syscage.learn", &learn_to)],
        );
        assert_eq!(run_bundle(rt, &b, &id), want, "{rt} while learning");
        let learned = agent.out.join(format!("{id}.learned.json"));
        let said = agent
            .wait_line(|l| l.starts_with(&format!("syscage: agent: container `{id}`: learned ")));
        assert!(
            said.ends_with(&format!("; wrote {}", learned.display())),
            "{said}"
        );
        // futex is kept whether or not this run made it: runc's init (Go) wakes a thread
        // with it only when another waits, so a run on a loaded machine needs it where the
        // learning run may not have made it (runc then died in futexwakeup with EPERM).
        let text = std::fs::read_to_string(&learned).unwrap();
        assert!(text.contains("\"futex\""), "{rt}: futex learned: {text}");
        let as_oci = dir.join(format!("{rt}-learned-oci.json"));
        std::fs::write(
            &as_oci,
            syscage_out(&["profile", "show", learned.to_str().unwrap(), "--oci"]),
        )
        .unwrap();
        let b = bundle(&dir, &format!("{rt}-learned"), &as_oci, work, &[]);
        assert_eq!(
            run_bundle(rt, &b, &id),
            want,
            "{rt} under the learned profile"
        );
        // Less than the base: the learned profile refuses what the workload did not do.
        let b = bundle(
            &dir,
            &format!("{rt}-learned-more"),
            &as_oci,
            "/probe socket_unix; /probe chmod_plain",
            &[],
        );
        let more = run_bundle(rt, &b, &id);
        assert_eq!(
            more, "socket_unix: blocked errno=1 (EPERM)\nchmod_plain: blocked errno=1 (EPERM)\n",
            "{rt}"
        );
    }
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
#[ignore = "needs root"]
fn syscage_run_is_answered_by_the_agent() {
    if !root(module_path!()) {
        return;
    }
    let dir = workdir("syscage-run");
    let agent = Agent::start(&dir, &[]);
    let sock = agent.socket.to_str().unwrap().to_string();
    let report_to = format!("report={}/{{id}}.jsonl", agent.out.display());
    let paired = dir.join("paired.json");
    std::fs::write(
        &paired,
        syscage_out(&[
            "profile",
            "show",
            "default",
            "--json",
            "--notify-denials",
            "--listener",
            &sock,
            "--metadata",
            &report_to,
        ]),
    )
    .unwrap();
    let sh = script(PROBES);
    let without = container(&["--seccomp", "default"], &["/bin/sh", "-c", &sh]);
    let id = format!("agent-run-{}", std::process::id());
    let with = container(
        &["--seccomp", paired.to_str().unwrap(), "--hostname", &id],
        &["/bin/sh", "-c", &sh],
    );
    assert_eq!(with.code, 0, "{with:?}");
    assert_eq!(
        answers(PROBES, &with.stdout),
        answers(PROBES, &without.stdout)
    );
    let summary =
        agent.wait_line(|l| l.starts_with(&format!("syscage: agent: container `{id}`: report: ")));
    let (events, counts) = report(&agent.out.join(format!("{id}.jsonl")));
    assert_eq!(
        counts["total"].as_u64(),
        Some(events.len() as u64),
        "{summary}"
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
#[ignore = "needs root"]
fn podman_hands_its_listener_to_the_agent() {
    if !root(module_path!()) {
        return;
    }
    if !have("podman") {
        skip(module_path!(), "podman is not installed");
    }
    let dir = workdir("podman");
    let agent = Agent::start(&dir, &[]);
    let sock = agent.socket.to_str().unwrap().to_string();
    let paired = dir.join("paired.json");
    std::fs::write(
        &paired,
        syscage_out(&[
            "profile",
            "show",
            "default",
            "--json",
            "--notify-denials",
            "--listener",
            &sock,
        ]),
    )
    .unwrap();
    // Podman with its own storage (vfs: nothing mounted), cgroupfs, and, as crun 1.8
    // needs here, cgroup2 hidden; its ulimits no higher than this machine's hard limits
    // (root here lacks CAP_SYS_RESOURCE).
    let store = dir.join("store");
    let hard = |r| {
        nix::sys::resource::getrlimit(r)
            .map(|(_, h)| h)
            .unwrap_or(1024)
    };
    let nofile = hard(nix::sys::resource::Resource::RLIMIT_NOFILE).min(1024);
    let nproc = hard(nix::sys::resource::Resource::RLIMIT_NPROC).min(4096);
    let podman = |runtime: &str, args: &str| -> (bool, String, String) {
        let cmd = format!(
            "mount --make-rprivate / && mount -t tmpfs none /sys/fs/cgroup/unified && podman --root {s}/root --runroot {s}/run --tmpdir {s}/tmp --storage-driver vfs --cgroup-manager cgroupfs --events-backend none --runtime {runtime} {args}",
            s = store.display()
        );
        let out = Command::new("unshare")
            .args(["-m", "sh", "-c", &cmd])
            .output()
            .unwrap();
        (
            out.status.success(),
            String::from_utf8_lossy(&out.stdout).into_owned(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    };
    let image = "localhost/syscage-agent-test";
    // Its containers' cgroups under a parent of the test's own, removed at the end.
    let parent = format!("syscage-agent-test-{}", std::process::id());
    // The image, made offline from the test's busybox root.
    let tar = dir.join("root.tar");
    let st = Command::new("tar")
        .arg("-C")
        .arg(rootfs())
        .arg("-cf")
        .arg(&tar)
        .arg(".")
        .status()
        .unwrap();
    assert!(st.success());
    let (ok, _, err) = podman("crun", &format!("import {} {image}", tar.display()));
    assert!(ok, "podman import: {err}");
    let report_to = format!("{}/{{id}}.jsonl", agent.out.display());
    for rt in ["crun", "runc"] {
        let before = agent.lines().len();
        let (ok, out, err) = podman(rt, &format!(
            "run --rm --cgroup-parent /{parent} --network none --ulimit nofile={nofile}:{nofile} --ulimit nproc={nproc}:{nproc} --security-opt seccomp={} --annotation run.syscage.report={report_to} {image} /probe keyctl",
            paired.display()
        ));
        assert!(ok, "podman --runtime {rt}: {out}{err}");
        // podman 4.3 passes `listenerPath` and `listenerMetadata` through: the agent answered.
        assert_eq!(out, "keyctl: blocked errno=1 (EPERM)\n", "{rt}");
        let line = agent.wait_line(|l| {
            l.starts_with("syscage: agent: container `")
                && l.ends_with("`: report: 1 denied call (1 kind)")
                && !agent.lines()[..before].contains(&l.to_string())
        });
        let id = line.split('`').nth(1).unwrap().to_string();
        let (events, _) = report(&agent.out.join(format!("{id}.jsonl")));
        assert_eq!(events[0]["syscall"], "keyctl", "{rt}");
    }
    assert_eq!(
        host_mounts_with(store.to_str().unwrap()),
        Vec::<String>::new()
    );
    // podman leaves its containers' parent cgroup, and conmon's under it, until conmon
    // has gone: removed once they are empty.
    let start = std::time::Instant::now();
    for h in std::fs::read_dir("/sys/fs/cgroup").unwrap().flatten() {
        let d = h.path().join(&parent);
        for sub in [d.join("conmon"), d.clone()] {
            loop {
                match std::fs::remove_dir(&sub) {
                    Ok(()) => break,
                    Err(e) if e.kind() == std::io::ErrorKind::NotFound => break,
                    Err(e) if start.elapsed() > std::time::Duration::from_secs(20) => {
                        panic!("{}: {e}", sub.display())
                    }
                    Err(_) => std::thread::sleep(std::time::Duration::from_millis(10)),
                }
            }
        }
    }
    std::fs::remove_dir_all(&dir).unwrap();
}
