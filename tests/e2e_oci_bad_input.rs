//! What `create` refuses, and that a refusal or a failure at any step leaves nothing
//! behind: no state directory, no cgroup, no process, no mount. The configurations are
//! crates/oci's corpus of bad files, run through the binary, plus what only the host can
//! say (a root that is not there, a namespace file that is not one). The failures are
//! injected (SYSCAGE_FAULT, the fault-injection feature). Needs root.

mod oci_support;
mod support;

use oci_support::*;
use serde_json::json;
use std::path::Path;
use support::*;

#[test]
#[ignore = "needs root"]
fn every_bad_configuration_is_refused_with_its_field_and_nothing_is_made() {
    need_root!(subreaper);
    let corpus = Path::new(env!("CARGO_MANIFEST_DIR")).join("crates/oci/tests/bad_configs");
    let expected = std::fs::read_to_string(corpus.join("expected.tsv")).unwrap();
    let b = Bundle::new("bad", &["true"], |_| {});
    let root = b.root.to_str().unwrap().to_string();
    let cfg = b.path("config.json");
    for (i, line) in expected.lines().enumerate() {
        let (file, want) = line.split_once('\t').unwrap();
        std::fs::copy(corpus.join(file), &cfg).unwrap();
        let id = format!("b{i}");
        let r = syscage_run(&[
            "--root",
            &root,
            "create",
            "--bundle",
            b.dir.to_str().unwrap(),
            &id,
        ]);
        assert_eq!(r.code, 1, "{file}: {r:?}");
        assert_eq!(
            r.stderr,
            format!("syscage: `{}`: {want}\n", cfg.display()),
            "{file}"
        );
        assert!(!b.root.join(&id).exists(), "{file}: a state directory");
    }
    assert!(b.cgroups().is_empty());
    // Not JSON at all, and a root that is not there.
    std::fs::write(&cfg, "{\"ociVersion\": ").unwrap();
    let r = syscage_run(&[
        "--root",
        &root,
        "create",
        "--bundle",
        b.dir.to_str().unwrap(),
        "j",
    ]);
    assert_eq!(
        (r.code, r.stderr),
        (
            1,
            format!(
                "syscage: `{}`: truncated JSON: EOF while parsing a value at line 1 column 15\n",
                cfg.display()
            )
        )
    );
    let missing = Bundle::new("noroot", &["true"], |c| {
        c["root"]["path"] = "nowhere".into()
    });
    let (r, _) = missing.create("r", &[]);
    assert_eq!(
        (r.code, r.stderr),
        (
            1,
            format!(
                "syscage: root.path: `{}`: No such file or directory (ENOENT)\n",
                missing.path("nowhere").display()
            )
        )
    );
    assert!(!missing.root.join("r").exists());
}

#[test]
#[ignore = "needs root"]
fn a_link_in_the_root_file_system_never_takes_a_mount_out_of_it() {
    need_root!(subreaper);
    // A root of its own: busybox, and a link from /escape to a host directory.
    let b = Bundle::new("link", &["sh", "-c", "ls /escape"], |_| {});
    let rootfs = b.path("rootfs");
    std::fs::create_dir_all(rootfs.join("bin")).unwrap();
    std::fs::copy(rootfs_bin(), rootfs.join("bin/busybox")).unwrap();
    std::os::unix::fs::symlink("busybox", rootfs.join("bin/sh")).unwrap();
    std::os::unix::fs::symlink("busybox", rootfs.join("bin/ls")).unwrap();
    let outside = b.path("outside");
    std::fs::create_dir_all(&outside).unwrap();
    std::os::unix::fs::symlink(&outside, rootfs.join("escape")).unwrap();
    let mut c: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(b.path("config.json")).unwrap()).unwrap();
    c["root"] = json!({"path": "rootfs", "readonly": false});
    c["mounts"]
        .as_array_mut()
        .unwrap()
        .push(json!({"destination": "/escape/sub", "type": "tmpfs", "source": "tmpfs"}));
    std::fs::write(b.path("config.json"), c.to_string()).unwrap();
    let (r, _) = b.create("l1", &[]);
    // The link is followed inside the root, where its target does not exist: refused,
    // naming the path; nothing was made outside.
    assert_eq!(r.code, 1, "{r:?}");
    assert_eq!(
        r.stderr,
        "syscage: cannot create directory `/escape/sub`: Too many symbolic links encountered (ELOOP); hint: a symbolic link on the way leads to nothing inside the root file system (or through more than 40 links); syscage does not create a link's target\n"
    );
    assert_eq!(std::fs::read_dir(&outside).unwrap().count(), 0);
    assert!(!b.root.join("l1").exists());
    assert!(host_mounts_with(outside.to_str().unwrap()).is_empty());
}

fn rootfs_bin() -> std::path::PathBuf {
    rootfs().join("bin/busybox")
}

/// Every step of `create` up to the process's `Ready`. The filter is loaded later, after
/// `start` (as runc does with no_new_privs): a failure there ends the container, not
/// `create`.
#[test]
#[ignore = "needs root"]
fn a_failure_at_any_step_of_create_leaves_nothing_behind() {
    need_root!(subreaper);
    let steps = [
        "create the container's cgroup",
        "make the exec FIFO",
        "create the container's namespaces",
        "write the state file",
        "write the uid/gid maps",
        "set the hostname",
        "make `/` a recursive slave mount",
        "create directory `/proc`",
        "mount `proc` on `/proc`",
        "mount `tmpfs` on `/dev`",
        "bind `/dev/null` on `/dev/null`",
        "mount `devpts` on `/dev/pts`",
        "mount `sysfs` on `/sys`",
        "mask `/proc/keys`",
        "make `/proc/sys` read-only",
        "pivot_root into the new root",
        "bring up the loopback interface",
        "set no_new_privs",
        "send the terminal to the console socket",
        "write the pid file",
    ];
    for (i, step) in steps.iter().enumerate() {
        let user = step.contains("uid/gid");
        let tty = step.contains("terminal");
        let b = Bundle::new(&format!("fault{i}"), &["sleep", "1000"], |c| {
            if user {
                c["linux"]["namespaces"]
                    .as_array_mut()
                    .unwrap()
                    .push(json!({"type": "user"}));
                c["linux"]["uidMappings"] =
                    json!([{"containerID": 0, "hostID": 300000, "size": 65536}]);
                c["linux"]["gidMappings"] =
                    json!([{"containerID": 0, "hostID": 300000, "size": 65536}]);
            }
            if tty {
                c["process"]["terminal"] = true.into();
            }
            // A filter loaded after no_new_privs, as most clients ask.
            c["linux"]["seccomp"] = json!({"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [{"names": ["keyctl"], "action": "SCMP_ACT_ERRNO"}]});
        });
        let sock = b.path("pty.sock");
        let _listener = tty.then(|| std::os::unix::net::UnixListener::bind(&sock).unwrap());
        let mut args = vec![
            "--root",
            b.root.to_str().unwrap(),
            "create",
            "--bundle",
            b.dir.to_str().unwrap(),
            "--pid-file",
        ];
        let pidf = b.path("pid");
        args.push(pidf.to_str().unwrap());
        if tty {
            args.extend(["--console-socket", sock.to_str().unwrap()]);
        }
        args.push("f");
        let child = std::process::Command::new(syscage())
            .env("SYSCAGE_FAULT", step)
            .args(&args)
            .stdin(std::process::Stdio::null())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        let r = wait_timeout(child, std::time::Duration::from_secs(60));
        assert_eq!(r.code, 1, "{step}: {r:?}");
        assert!(
            r.stderr.starts_with("syscage: cannot ")
                && r.stderr.contains(step)
                && r.stderr.contains("State not recoverable (ENOTRECOVERABLE)"),
            "{step}: {r:?}"
        );
        assert_eq!(r.stderr.lines().count(), 1, "{step}: {r:?}");
        until(&format!("{step}: nothing left"), || {
            !b.root.join("f").exists()
                && b.cgroups().is_empty()
                && stray_processes(&format!("syscage-init {}", b.name)).is_empty()
                && host_mounts_with(&b.name).is_empty()
        });
        assert!(!pidf.exists(), "{step}: a pid file");
    }
}
