//! What a `config.json` asks, done: mounts and their options, namespaces new and joined,
//! users and groups, the five capability sets, limits, no_new_privs, sysctls, masked and
//! read-only paths, devices, the cgroup and its resources, seccomp (the configuration's
//! and the `run.syscage.seccomp` annotation's), hooks, oomScoreAdj, personality and
//! names. Each container prints what it sees; the test checks it. Needs root.

mod oci_support;
mod support;

use oci_support::*;
use serde_json::json;
use support::*;

fn sh(script: &str) -> Vec<&str> {
    vec!["sh", "-c", script]
}

#[test]
#[ignore = "needs root"]
fn mounts_with_their_options() {
    need_root!(subreaper);
    let vol = std::env::temp_dir().join(format!("syscage-oci-vol-{}", std::process::id()));
    std::fs::create_dir_all(vol.join("sub")).unwrap();
    std::fs::write(vol.join("f"), "data\n").unwrap();
    let v = vol.display().to_string();
    let b = Bundle::new(
        "mounts",
        &sh("cat /data/f; touch /data/x 2>/dev/null || echo ro; touch /rw/x && echo rw; \
             grep -E ' /(data|rw|small|dev/mqueue|sys/fs/cgroup/memory) ' /proc/self/mountinfo | awk '{print $5, $6}'; \
             df -k /small | tail -1 | awk '{print $2}'; cat /sys/fs/cgroup/memory/memory.limit_in_bytes; \
             (echo 1 > /sys/fs/cgroup/memory/memory.limit_in_bytes) 2>/dev/null || echo cgroup-ro"),
        |c| {
            let m = c["mounts"].as_array_mut().unwrap();
            m.push(json!({"destination": "/data", "type": "bind", "source": v, "options": ["rbind", "ro", "nosuid"]}));
            m.push(json!({"destination": "/rw", "type": "bind", "source": v, "options": ["bind", "noexec"]}));
            m.push(json!({"destination": "/small", "type": "tmpfs", "source": "tmpfs", "options": ["size=1m", "mode=700"]}));
            m.push(json!({"destination": "/sys/fs/cgroup", "type": "cgroup", "source": "cgroup", "options": ["ro", "nosuid", "noexec", "nodev"]}));
            c["linux"]["resources"]["memory"] = json!({"limit": 67108864});
        },
    );
    let (code, out) = b.run_container("m1");
    assert_eq!(code, 0, "{out}");
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(&lines[..3], &["data", "ro", "rw"], "{out}");
    let opts = |dst: &str| {
        lines
            .iter()
            .find(|l| l.starts_with(&format!("{dst} ")))
            .map(|l| l.split_once(' ').unwrap().1.to_string())
            .unwrap_or_else(|| panic!("{dst} not mounted: {out}"))
    };
    assert_eq!(opts("/data"), "ro,nosuid,nodev,relatime");
    assert_eq!(opts("/rw"), "rw,nodev,noexec,relatime");
    // nodev on every fresh tmpfs, whatever the options say.
    assert_eq!(opts("/small"), "rw,nodev,relatime");
    assert!(
        opts("/dev/mqueue").starts_with("rw,nosuid,nodev,noexec"),
        "{out}"
    );
    assert!(
        opts("/sys/fs/cgroup/memory").starts_with("ro,nosuid,nodev,noexec"),
        "{out}"
    );
    assert!(lines.contains(&"1024"), "a 1 MiB tmpfs: {out}");
    assert!(lines.contains(&"67108864"), "its own memory cgroup: {out}");
    assert_eq!(lines.last(), Some(&"cgroup-ro"), "{out}");
    std::fs::remove_dir_all(&vol).unwrap();
}

#[test]
#[ignore = "needs root"]
fn identity_capabilities_limits_and_privileges() {
    need_root!(subreaper);
    let b = Bundle::new(
        "identity",
        &sh("id; umask; ulimit -n; ulimit -Hn; grep -E '^(CapInh|CapPrm|CapEff|CapBnd|CapAmb|NoNewPrivs):' /proc/self/status; cat /proc/self/oom_score_adj; uname -m; hostname; cat /proc/sys/kernel/domainname"),
        |c| {
            c["process"]["user"] = json!({"uid": 1000, "gid": 1000, "umask": 23, "additionalGids": [5, 65534]});
            c["process"]["capabilities"] = json!({
                "bounding": ["CAP_CHOWN", "CAP_SYS_PTRACE", "CAP_KILL"],
                "effective": ["CAP_SYS_PTRACE"], "permitted": ["CAP_SYS_PTRACE", "CAP_KILL"],
                "inheritable": ["CAP_SYS_PTRACE"], "ambient": ["CAP_SYS_PTRACE"]
            });
            c["process"]["rlimits"] = json!([{"type": "RLIMIT_NOFILE", "hard": 1000, "soft": 512}]);
            c["process"]["noNewPrivileges"] = false.into();
            c["process"]["oomScoreAdj"] = 100.into();
            c["linux"]["personality"] = json!({"domain": "LINUX32"});
            c["hostname"] = "hostbox".into();
            c["domainname"] = "example.org".into();
        },
    );
    let (code, out) = b.run_container("i1");
    assert_eq!(code, 0, "{out}");
    // The supplementary groups are exactly additionalGids; the bounding set is CHOWN (0),
    // KILL (5) and SYS_PTRACE (19); SYS_PTRACE is ambient for user 1000.
    assert_eq!(
        out,
        "uid=1000(user) gid=1000(user) groups=5(tty),65534(nogroup)\n0027\n512\n1000\n\
         CapInh:\t0000000000080000\nCapPrm:\t0000000000080000\nCapEff:\t0000000000080000\n\
         CapBnd:\t0000000000080021\nCapAmb:\t0000000000080000\nNoNewPrivs:\t0\n100\ni686\nhostbox\nexample.org\n",
        "{out}"
    );
}

#[test]
#[ignore = "needs root"]
fn namespaces_new_joined_and_shared() {
    need_root!(subreaper);
    // A network namespace kept by a bind mount, as podman makes one in /run/netns.
    let dir = std::env::temp_dir().join(format!("syscage-oci-netns-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let ns = dir.join("net");
    std::fs::write(&ns, "").unwrap();
    let st = std::process::Command::new("unshare")
        .arg(format!("--net={}", ns.display()))
        .arg("true")
        .status()
        .unwrap();
    assert!(st.success());
    let ino = std::os::unix::fs::MetadataExt::ino(&std::fs::metadata(&ns).unwrap());
    let b = Bundle::new(
        "netns",
        &sh("stat -L -c %i /proc/self/ns/net; echo $$; cat /proc/sys/net/ipv4/ip_forward; cat /proc/sys/kernel/shmmni"),
        |c| {
            c["linux"]["namespaces"] = json!([
                {"type": "ipc"}, {"type": "uts"}, {"type": "mount"},
                {"type": "network", "path": ns.display().to_string()}
            ]);
            c["linux"]["sysctl"] = json!({"net.ipv4.ip_forward": "1", "kernel.shmmni": "1234"});
        },
    );
    let (code, out) = b.run_container("n1");
    assert_eq!(code, 0, "{out}");
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines[0], ino.to_string(), "the joined namespace: {out}");
    assert_ne!(lines[1], "1", "no pid namespace: the host's pids: {out}");
    assert_eq!(
        &lines[2..],
        &["1", "1234"],
        "sysctls in its namespaces: {out}"
    );
    // A path that is not a namespace of its type is refused, naming the field.
    let bad = Bundle::new("badns", &["true"], |c| {
        c["hostname"] = serde_json::Value::Null;
        c["linux"]["namespaces"] =
            json!([{"type": "mount"}, {"type": "network", "path": "/proc/self/ns/uts"}]);
    });
    let (r, _) = bad.create("n2", &[]);
    assert_eq!(
        (r.code, r.stderr.as_str()),
        (1, "syscage: linux.namespaces[1].path: `/proc/self/ns/uts` is not a namespace of that type\n")
    );
    assert!(!bad.root.join("n2").exists());
    let _ = nix::mount::umount2(&ns, nix::mount::MntFlags::MNT_DETACH);
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
#[ignore = "needs root"]
fn a_user_namespace_from_the_mappings() {
    need_root!(subreaper);
    let b = Bundle::new(
        "userns",
        &sh("id -u; cat /proc/self/uid_map; sleep 1000"),
        |c| {
            c["linux"]["namespaces"]
                .as_array_mut()
                .unwrap()
                .push(json!({"type": "user"}));
            c["linux"]["uidMappings"] =
                json!([{"containerID": 0, "hostID": 200000, "size": 65536}]);
            c["linux"]["gidMappings"] =
                json!([{"containerID": 0, "hostID": 200000, "size": 65536}]);
        },
    );
    let (r, pid) = b.create("u1", &[]);
    assert_eq!(r.code, 0, "{r:?}");
    let pid = pid.unwrap();
    assert_eq!(b.oci(&["start", "u1"]).code, 0);
    until("the output", || b.output("u1").lines().count() == 2);
    assert_eq!(b.output("u1"), "0\n         0     200000      65536\n");
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    assert!(
        status.contains("Uid:\t200000\t200000\t200000\t200000"),
        "{status}"
    );
    assert_eq!(b.oci(&["delete", "--force", "u1"]).code, 0);
    assert_eq!(reap(pid, std::time::Duration::from_secs(20)), 137);
}

#[test]
#[ignore = "needs root"]
fn masked_and_read_only_paths_and_devices() {
    need_root!(subreaper);
    let b = Bundle::new(
        "devices",
        &sh("wc -c < /proc/keys; echo 1 > /proc/sys/kernel/domainname 2>/dev/null || echo sys-ro; \
             ls /sys/firmware | wc -l; stat -c '%A %t:%T %u' /dev/fuse /dev/null; head -c1 /dev/fuse 2>&1 | head -1; \
             mknod /dev/x c 1 3 && cat /dev/x 2>&1"),
        |c| {
            c["linux"]["devices"] = json!([{"path": "/dev/fuse", "type": "c", "major": 10, "minor": 229, "fileMode": 432, "uid": 0, "gid": 0}]);
            c["process"]["capabilities"]["bounding"].as_array_mut().unwrap().push("CAP_MKNOD".into());
        },
    );
    let (code, out) = b.run_container("v1");
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(
        lines[..5],
        ["0", "sys-ro", "0", "crw-rw---- a:e5 0", "crw-rw-rw- 1:3 0"],
        "{out}"
    );
    // /dev/fuse is allowed by the device cgroup (the driver answers EIO to a read before
    // a mount, where the cgroup would say EPERM); a node made in the container is inert
    // (nodev: EACCES).
    assert_eq!(lines[5], "head: /dev/fuse: Input/output error", "{out}");
    assert_eq!(
        lines[6], "cat: can't open '/dev/x': Permission denied",
        "{out}"
    );
    assert_ne!(code, 0);
}

#[test]
#[ignore = "needs root"]
fn seccomp_from_the_configuration_and_from_the_annotation() {
    need_root!(subreaper);
    let profile = json!({
        "defaultAction": "SCMP_ACT_ALLOW",
        "architectures": ["SCMP_ARCH_X86_64"],
        "syscalls": [{"names": ["mkdir", "mkdirat"], "action": "SCMP_ACT_ERRNO", "errnoRet": 13}]
    });
    let p2 = profile.clone();
    let b = Bundle::new(
        "seccomp",
        &sh("mkdir /tmp/x 2>&1; grep Seccomp: /proc/self/status; /probe unshare_userns"),
        move |c| c["linux"]["seccomp"] = p2,
    );
    let (_, out) = b.run_container("s1");
    assert_eq!(
        out,
        "mkdir: can't create directory '/tmp/x': Permission denied\nSeccomp:\t2\nunshare_userns: ok\n",
        "{out}"
    );
    // The annotation replaces the configuration's profile with syscage's default.
    let b = Bundle::new(
        "seccomp-ann",
        &sh("mkdir /tmp/x && echo made; /probe unshare_userns"),
        move |c| {
            c["linux"]["seccomp"] = profile;
            c["annotations"] = json!({"run.syscage.seccomp": "default"});
        },
    );
    let (_, out) = b.run_container("s2");
    assert_eq!(
        out, "made\nunshare_userns: blocked errno=1 (EPERM)\n",
        "{out}"
    );
    // An annotation never lifts the filter, and names a file only inside an
    // --annotation-dir: a pod's annotations must not make syscage read the node's files.
    let allowed = b.path("profiles");
    std::fs::create_dir_all(&allowed).unwrap();
    let deny_mkdir = r#"{"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [{"names": ["mkdir", "mkdirat"], "action": "SCMP_ACT_ERRNO", "errnoRet": 30}]}"#;
    std::fs::write(allowed.join("p.json"), deny_mkdir).unwrap();
    let outside = b.path("outside.json");
    std::fs::write(&outside, deny_mkdir).unwrap();
    std::os::unix::fs::symlink(&outside, allowed.join("link.json")).unwrap();
    let dir_opt = format!("--annotation-dir={}", allowed.display());
    let dotdot = format!("{}/../outside.json", allowed.display());
    for (i, (value, with_dir, want)) in [
        ("unconfined", true, "`unconfined`: an annotation may name `default`, `contained` or the absolute path of a profile in an --annotation-dir (it never lifts or weakens syscage's filter by name)".to_string()),
        ("p.json", true, "`p.json`: an annotation may name `default`, `contained` or the absolute path of a profile in an --annotation-dir (it never lifts or weakens syscage's filter by name)".to_string()),
        (allowed.join("p.json").to_str().unwrap(), false, format!("`{}`: profile files named by annotations are refused unless the runtime is given --annotation-dir DIR (the directories they may be in)", allowed.join("p.json").display())),
        (outside.to_str().unwrap(), true, format!("`{}` is outside the directories --annotation-dir allows ({})", outside.display(), allowed.display())),
        (allowed.join("link.json").to_str().unwrap(), true, format!("`{}` is outside the directories --annotation-dir allows ({})", allowed.join("link.json").display(), allowed.display())),
        // Whether a file of the node exists is not told, and `..` does not lead out.
        ("/nonexistent/p.json", true, format!("`/nonexistent/p.json` is outside the directories --annotation-dir allows ({})", allowed.display())),
        (&dotdot, true, format!("`{dotdot}` is outside the directories --annotation-dir allows ({})", allowed.display())),
        ("/a\nb", true, format!("`/a\\nb` is outside the directories --annotation-dir allows ({})", allowed.display())),
    ]
    .into_iter()
    .enumerate()
    {
        let v = value.to_string();
        let bb = Bundle::new(&format!("seccomp-ann-bad{i}"), &["true"], move |c| {
            c["annotations"] = json!({"run.syscage.seccomp": v});
        });
        let id = format!("a{i}");
        let mut args = vec![];
        if with_dir {
            args.push(dir_opt.as_str());
        }
        args.extend(["run", "--bundle", bb.dir.to_str().unwrap(), &id]);
        let r = bb.oci(&args);
        assert_eq!(
            (r.code, r.stderr.as_str()),
            (
                1,
                format!("syscage: annotation `run.syscage.seccomp`: {want}\n").as_str()
            ),
            "{value}"
        );
        assert!(!bb.root.join(&id).exists());
    }
    let p = allowed.join("p.json").display().to_string();
    let bb = Bundle::new("seccomp-ann-file", &sh("mkdir /tmp/x"), move |c| {
        c["annotations"] = json!({"run.syscage.seccomp": p});
    });
    let r = bb.oci(&[&dir_opt, "run", "--bundle", bb.dir.to_str().unwrap(), "a9"]);
    assert_eq!(
        (r.code, r.stdout.as_str(), r.stderr.as_str()),
        (
            1,
            "",
            "mkdir: can't create directory '/tmp/x': Read-only file system\n"
        )
    );
    // A profile file in Docker's format (an annotation may name one): `exec` compiles it
    // again as it was read at create, Docker's fields and all.
    std::fs::write(
        allowed.join("docker.json"),
        r#"{"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [{"names": ["mkdir", "mkdirat"], "action": "SCMP_ACT_ERRNO", "errnoRet": 30, "excludes": {"caps": ["CAP_SYS_ADMIN"]}}]}"#,
    )
    .unwrap();
    let d = allowed.join("docker.json").display().to_string();
    let bb = Bundle::new("seccomp-ann-docker", &["sleep", "1000"], move |c| {
        c["annotations"] = json!({"run.syscage.seccomp": d});
    });
    // Created with its output elsewhere: the container's process keeps create's streams.
    let st = std::process::Command::new(syscage())
        .args(["--root", bb.root.to_str().unwrap(), &dir_opt, "create"])
        .args(["--bundle", bb.dir.to_str().unwrap(), "a10"])
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .status()
        .unwrap();
    assert!(st.success());
    assert_eq!(bb.oci(&["start", "a10"]).code, 0);
    let x = bb.oci(&["exec", "a10", "/bin/sh", "-c", "mkdir /tmp/y"]);
    assert_eq!(
        (x.code, x.stderr.as_str()),
        (
            1,
            "mkdir: can't create directory '/tmp/y': Read-only file system\n"
        ),
        "{x:?}"
    );
    assert_eq!(bb.oci(&["delete", "--force", "a10"]).code, 0);
    // A profile the reader refuses fails create with its field, and leaves nothing.
    let b = Bundle::new("seccomp-bad", &["true"], |c| {
        c["linux"]["seccomp"] = json!({"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [{"names": ["mkdri"], "action": "SCMP_ACT_ERRNO"}]});
    });
    let (r, _) = b.create("s3", &[]);
    assert_eq!((r.code, r.stderr.as_str()), (1, "syscage: cannot load profile `config.json`: linux.seccomp.syscalls[0].names[0]: unknown system call `mkdri` (did you mean `mkdir`?)\n"));
    assert!(!b.root.join("s3").exists());
    assert!(b.cgroups().is_empty());
    // Docker's fields are not the runtime spec's: runc and crun would ignore `includes`
    // (and apply the rule to every container); syscage refuses it, naming its place.
    let b = Bundle::new("seccomp-docker", &["true"], |c| {
        c["linux"]["seccomp"] = json!({"defaultAction": "SCMP_ACT_ERRNO", "syscalls": [{"names": ["reboot"], "action": "SCMP_ACT_ALLOW", "includes": {"caps": ["CAP_SYS_BOOT"]}}]});
    });
    let (r, _) = b.create("s4", &[]);
    assert_eq!((r.code, r.stderr.as_str()), (1, "syscage: cannot load profile `config.json`: linux.seccomp.syscalls[0].includes: `includes` is a field of Docker's profile format, which runc and crun ignore in a config.json: the config would mean one thing under them and another under syscage; write the rule in the OCI form (`names`, `errnoRet`, no `includes`/`excludes`), or give syscage the Docker profile file itself\n"));
    assert!(!b.root.join("s4").exists());
    assert!(b.cgroups().is_empty());
}

#[test]
#[ignore = "needs root"]
fn hooks_run_in_order_with_the_state_and_their_failures_fail_create() {
    need_root!(subreaper);
    let dir = std::env::temp_dir().join(format!("syscage-oci-hooks-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let log = dir.join("log");
    let d = dir.display().to_string();
    // Each hook appends its list's name, its status and whether it sees the container's
    // root (`/probe` exists only there) to a file in a directory the container binds.
    let hook = |name: &str| json!({"path": "/bin/sh", "args": ["sh", "-c", format!("st=$(tr -d '\\n ' | sed 's/.*\"status\":\"\\([a-z]*\\)\".*/\\1/'); [ -e /probe ] && r=in || r=out; echo {name} $st $r >> {d}/log")]});
    let inner = json!({"path": "/bin/sh", "args": ["sh", "-c", "echo startContainer $(tr -d '\\n ' | grep -c '\"status\":\"created\"') >> /hooks/log"]});
    let b = Bundle::new("hooks", &sh("echo ran >> /hooks/log"), |c| {
        c["mounts"].as_array_mut().unwrap().push(
            json!({"destination": "/hooks", "type": "bind", "source": d, "options": ["rbind"]}),
        );
        c["hooks"] = json!({
            "prestart": [hook("prestart")], "createRuntime": [hook("createRuntime")],
            "createContainer": [hook("createContainer")], "startContainer": [inner],
            "poststart": [hook("poststart")], "poststop": [hook("poststop")]
        });
    });
    let (code, out) = b.run_container("h1");
    assert_eq!(code, 0, "{out}");
    let text = std::fs::read_to_string(&log).unwrap();
    let mut lines: Vec<&str> = text.lines().collect();
    // poststart runs once the program is executed (`start` returns after it): before or
    // after the program's own line, never before startContainer.
    let ran = lines.iter().position(|l| *l == "ran").unwrap();
    assert!(ran > 3, "{text}");
    lines.retain(|l| *l != "ran");
    assert_eq!(
        lines,
        [
            "prestart creating out",
            "createRuntime creating out",
            "createContainer creating out",
            "startContainer 1",
            "poststart running out",
            "poststop stopped out"
        ],
        "{text}"
    );
    // A createRuntime hook that fails fails create: nothing is left.
    let b = Bundle::new("hooks-fail", &["true"], |c| {
        c["hooks"] = json!({"createRuntime": [{"path": "/bin/sh", "args": ["sh", "-c", "echo no way >&2; exit 4"]}]});
    });
    let (r, _) = b.create("h2", &[]);
    assert_eq!(
        (r.code, r.stderr.as_str()),
        (
            1,
            "syscage: cannot run the createRuntime hook `/bin/sh`: exited with status 4: no way\n"
        )
    );
    assert!(!b.root.join("h2").exists());
    assert!(b.cgroups().is_empty());
    std::fs::remove_dir_all(&dir).unwrap();
}
