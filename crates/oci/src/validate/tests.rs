//! What validation accepts that a stricter reading might refuse, and the documents of
//! `exec --process` and `update --resources`. The refusals of `config.json` are pinned by
//! the corpus in tests/bad_configs.

use super::*;
use crate::read;

/// A valid configuration with `extra` merged into its `linux` object.
fn with_linux(extra: &str) -> Result<Validated, String> {
    let mut spec: Value = serde_json::from_str(
        r#"{"ociVersion": "1.2.0",
            "process": {"user": {"uid": 0, "gid": 0}, "args": ["sh"], "cwd": "/"},
            "root": {"path": "/r"},
            "linux": {"namespaces": [{"type": "pid"}, {"type": "mount"}]}}"#,
    )
    .unwrap();
    let extra: Value = serde_json::from_str(extra).unwrap();
    for (k, v) in extra.as_object().unwrap() {
        spec["linux"][k] = v.clone();
    }
    let spec = read::config(&spec.to_string()).map_err(|e| e.to_string())?;
    config(spec, Path::new("/b")).map_err(|e| e.to_string())
}

fn accepted(r: Result<Validated, String>) {
    if let Err(e) = r {
        panic!("refused: {e}");
    }
}

#[test]
fn a_new_user_namespace_with_sane_mappings() {
    accepted(with_linux(
        r#"{"namespaces": [{"type": "user"}, {"type": "mount"}],
            "uidMappings": [{"containerID": 0, "hostID": 100000, "size": 1000},
                            {"containerID": 1000, "hostID": 1000, "size": 1}],
            "gidMappings": [{"containerID": 0, "hostID": 100000, "size": 65536}]}"#,
    ));
    // The highest ID a range may reach is 4294967294.
    accepted(with_linux(
        r#"{"namespaces": [{"type": "user"}, {"type": "mount"}],
            "uidMappings": [{"containerID": 0, "hostID": 4294901759, "size": 65536}],
            "gidMappings": [{"containerID": 0, "hostID": 0, "size": 4294967295}]}"#,
    ));
    assert_eq!(
        with_linux(
            r#"{"namespaces": [{"type": "user"}, {"type": "mount"}],
                "uidMappings": [{"containerID": 0, "hostID": 4294901760, "size": 65536}],
                "gidMappings": [{"containerID": 0, "hostID": 0, "size": 1}]}"#
        )
        .unwrap_err(),
        "linux.uidMappings[0].hostID: `4294901760` plus size `65536` goes past 4294967295"
    );
}

#[test]
fn a_joined_user_namespace_takes_no_mappings() {
    accepted(with_linux(
        r#"{"namespaces": [{"type": "user", "path": "/proc/42/ns/user"}, {"type": "mount"}]}"#,
    ));
    assert_eq!(
        with_linux(
            r#"{"namespaces": [{"type": "user", "path": "/proc/42/ns/user"}, {"type": "mount"}],
                "gidMappings": [{"containerID": 0, "hostID": 0, "size": 1}]}"#
        )
        .unwrap_err(),
        "linux.gidMappings: the `user` namespace is joined from a path: its mappings are already set and cannot change"
    );
}

#[test]
fn namespaced_sysctls_with_their_namespace() {
    accepted(with_linux(
        r#"{"namespaces": [{"type": "mount"}, {"type": "network", "path": "/run/netns/x"},
                           {"type": "ipc"}, {"type": "uts"}],
            "sysctl": {"net.ipv4.ip_forward": "1", "kernel.shmmax": "1024",
                       "fs.mqueue.msg_max": "10", "kernel.domainname": "d"}}"#,
    ));
    assert_eq!(
        with_linux(r#"{"sysctl": {"kernel.shmmax": "1024"}}"#).unwrap_err(),
        "linux.sysctl.kernel.shmmax: `kernel.shmmax` is per `ipc` namespace and `linux.namespaces` has none: it would change the host's"
    );
    assert_eq!(
        with_linux(r#"{"sysctl": {"vm.overcommit_memory": "1"}}"#).unwrap_err(),
        "linux.sysctl.vm.overcommit_memory: `vm.overcommit_memory` is not namespaced: setting it would change the host"
    );
}

#[test]
fn cgroup_paths_of_both_managers() {
    for path in [
        "/libpod_parent/libpod-abc",
        "/default/c1",
        "relative/x",
        "machine.slice:libpod:abc",
        "system.slice:lab:t11",
    ] {
        accepted(with_linux(&format!(r#"{{"cgroupsPath": "{path}"}}"#)));
    }
    assert_eq!(
        with_linux(r#"{"cgroupsPath": "a/../../b"}"#).unwrap_err(),
        "linux.cgroupsPath: `a/../../b` has a `..` component: it could lead out of the container's tree"
    );
}

#[test]
fn empty_values_mean_not_set() {
    // Go clients without `omitempty` write empty values for fields they do not use.
    let text = r#"{"ociVersion": "1.0.2-dev",
        "process": {"user": {"uid": 0, "gid": 0, "username": ""}, "args": ["sh"], "cwd": "/",
                    "apparmorProfile": "unconfined", "selinuxLabel": "", "scheduler": null},
        "root": {"path": "rootfs"}, "windows": null, "vm": {},
        "linux": {"namespaces": [{"type": "mount", "path": ""}], "mountLabel": "",
                  "intelRdt": null, "resources": {"unified": {}}, "rootfsPropagation": ""}}"#;
    let v = config(read::config(text).unwrap(), Path::new("/b")).unwrap();
    assert_eq!(
        v.path_checks().len(),
        1,
        "an empty namespace path is a new namespace"
    );
}

#[test]
fn the_root_is_resolved_against_the_bundle() {
    let v = with_linux("{}").unwrap();
    assert_eq!(v.root(), Path::new("/r"));
    let spec = read::config(
        r#"{"ociVersion": "1.2.1", "root": {"path": "rootfs", "readonly": true},
            "process": {"user": {"uid": 0, "gid": 0}, "args": ["sh"], "cwd": "/"},
            "linux": {"namespaces": [{"type": "mount"}]}}"#,
    )
    .unwrap();
    let v = config(spec, Path::new("/srv/bundles/b1")).unwrap();
    assert_eq!(v.root(), Path::new("/srv/bundles/b1/rootfs"));
    assert_eq!(
        v.path_checks(),
        [PathCheck {
            field: "root.path".into(),
            path: "/srv/bundles/b1/rootfs".into(),
            expect: Expect::Directory,
        }]
    );
}

#[test]
fn exec_process_errors_have_no_prefix() {
    let p = read::process(r#"{"user": {"uid": 0, "gid": 0}, "args": [], "cwd": "/"}"#).unwrap();
    assert_eq!(
        process(&p).unwrap_err().to_string(),
        "args: empty: there is nothing to run"
    );
    let p = read::process(
        r#"{"user": {"uid": 0, "gid": 0}, "args": ["sh"], "cwd": "/",
            "capabilities": {"ambient": ["CAP_SYS_ADMN"]}}"#,
    )
    .unwrap();
    assert_eq!(
        process(&p).unwrap_err().to_string(),
        "capabilities.ambient[0]: unknown capability `CAP_SYS_ADMN`"
    );
    let p = read::process(r#"{"user": {"uid": 0, "gid": 0}, "args": [""], "cwd": "/"}"#).unwrap();
    assert_eq!(
        process(&p).unwrap_err().to_string(),
        "args[0]: empty: the program to run has no name"
    );
}

#[test]
fn update_resources_errors_have_no_prefix() {
    let r = read::resources(r#"{"memory": {"limit": 1000, "swap": 10}}"#).unwrap();
    assert_eq!(
        resources(&r).unwrap_err().to_string(),
        "memory.swap: `10` is below `limit` `1000`: it counts memory plus swap"
    );
    let r = read::resources(r#"{"memory": {"limit": -1, "swap": -1}, "pids": {"limit": -1}, "cpu": {"quota": -1, "cpus": "0-1"}}"#)
        .unwrap();
    assert_eq!(resources(&r), Ok(()));
    let r = read::resources(
        r#"{"blockIO": {"weightDevice": [{"major": 8, "minor": 0, "weight": 5}]}}"#,
    )
    .unwrap();
    assert_eq!(
        resources(&r).unwrap_err().to_string(),
        "blockIO.weightDevice[0].weight: `5` is out of range 10..=1000"
    );
}

#[test]
fn hooks_and_devices_that_are_fine() {
    let text = r#"{"ociVersion": "1.1.0",
        "process": {"user": {"uid": 0, "gid": 0}, "args": ["sh"], "cwd": "/"},
        "root": {"path": "rootfs"},
        "hooks": {"prestart": [{"path": "/bin/hook", "args": ["hook", "x"], "env": ["A=1"], "timeout": 5}],
                  "poststop": [{"path": "/bin/hook"}]},
        "linux": {"namespaces": [{"type": "mount"}],
                  "devices": [{"path": "/dev/fuse", "type": "c", "major": 10, "minor": 229, "fileMode": 438},
                              {"path": "/dev/fifo", "type": "p"}],
                  "personality": {"domain": "LINUX32"}}}"#;
    let v = config(read::config(text).unwrap(), Path::new("/b")).unwrap();
    let hooks = v.spec().hooks.as_ref().unwrap();
    let counts: Vec<usize> = hooks.lists().iter().map(|(_, l)| l.len()).collect();
    assert_eq!(counts, [1, 0, 0, 0, 0, 1]);
}
