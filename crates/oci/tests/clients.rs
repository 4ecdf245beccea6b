//! The documents podman, containerd and runc really produce (see fixtures/README.md) are
//! read and validated, and what validation hands back is what a runtime then needs.

use std::path::{Path, PathBuf};
use syscage_oci::config::NamespaceType;
use syscage_oci::validate::{self, Expect, PathCheck};
use syscage_oci::{read, Validated};

fn fixture(name: &str) -> String {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn validated(name: &str, bundle: &str) -> Validated {
    let spec = read::config(&fixture(name)).unwrap_or_else(|e| panic!("{name}: {e}"));
    validate::config(spec, Path::new(bundle)).unwrap_or_else(|e| panic!("{name}: {e}"))
}

const PODMAN_BUNDLE: &str = "/var/lib/containers/storage/overlay-containers/40613128f744afe3ddf9b7e8f69e262fdb7c2c235aaae52de121e9f70fd8fdc0/userdata";

#[test]
fn podman_run() {
    let v = validated("podman-run.json", PODMAN_BUNDLE);
    assert_eq!(v.version().to_string(), "1.0.2-dev");
    // podman mounts the image itself and gives the root as an absolute path.
    assert_eq!(
        v.root(),
        Path::new("/var/lib/containers/storage/overlay/97af067bc2d84f4444f305dd5415eb417747cab77f2d2b4ac03413f9cdcaa465/merged")
    );
    // The network namespace is made by podman and joined by path.
    assert_eq!(
        v.path_checks(),
        [
            PathCheck {
                field: "root.path".into(),
                path: v.root().to_path_buf(),
                expect: Expect::Directory,
            },
            PathCheck {
                field: "linux.namespaces[1].path".into(),
                path: PathBuf::from("/run/netns/netns-bf2eccda-ca41-a267-84c6-8fc64c0f9727"),
                expect: Expect::Namespace(NamespaceType::Network),
            },
        ]
    );
    let spec = v.spec();
    let linux = spec.linux.as_ref().unwrap();
    assert_eq!(
        linux.cgroups_path.as_deref(),
        Some("/libpod_parent/libpod-40613128f744afe3ddf9b7e8f69e262fdb7c2c235aaae52de121e9f70fd8fdc0")
    );
    // podman's own default seccomp profile, inline, for the policy reader.
    let seccomp = linux.seccomp.as_ref().unwrap();
    assert_eq!(seccomp["defaultAction"], "SCMP_ACT_ERRNO");
    assert_eq!(seccomp["defaultErrnoRet"], 38);
    let annotations = spec.annotations.as_ref().unwrap();
    assert_eq!(annotations["io.container.manager"], "libpod");
    let p = v.process().unwrap();
    assert_eq!(p.args(), ["echo", "hi"]);
    assert_eq!(p.user.umask, Some(0o022));
    let rlimits: Vec<(&str, u64)> = p
        .rlimits
        .iter()
        .flatten()
        .map(|r| (r.kind.as_str(), r.hard))
        .collect();
    assert_eq!(rlimits, [("RLIMIT_NOFILE", 20000), ("RLIMIT_NPROC", 32768)]);
}

#[test]
fn podman_run_with_every_option() {
    let v = validated("podman-run-rich.json", PODMAN_BUNDLE);
    let spec = v.spec();
    assert_eq!(spec.root.as_ref().unwrap().readonly, Some(true));
    let p = v.process().unwrap();
    assert!(p.terminal());
    assert!(p.no_new_privileges());
    assert_eq!((p.user.uid, p.user.gid), (1000, 1000));
    let caps = p.capabilities.as_ref().unwrap();
    // --user with --cap-add: only the added capability in the other four sets.
    assert_eq!(
        caps.ambient.as_deref(),
        Some(&["CAP_SYS_PTRACE".to_string()][..])
    );
    assert_eq!(caps.bounding.as_ref().unwrap().len(), 14);
    let linux = spec.linux.as_ref().unwrap();
    let r = linux.resources.as_ref().unwrap();
    let mem = r.memory.unwrap();
    assert_eq!((mem.limit, mem.swap), (Some(67_108_864), Some(134_217_728)));
    assert_eq!(r.pids.unwrap().limit, 100);
    assert_eq!(linux.sysctl.as_ref().unwrap()["net.ipv4.ip_forward"], "1");
    let data = spec
        .mounts
        .iter()
        .flatten()
        .find(|m| m.destination == "/data")
        .unwrap();
    assert!(data.is_bind());
    assert_eq!(data.source.as_deref(), Some("/srv/data"));
    assert_eq!(
        linux.seccomp.as_ref().unwrap()["defaultAction"],
        "SCMP_ACT_ALLOW"
    );
}

#[test]
fn containerd_run() {
    let bundle = "/run/containerd/io.containerd.runtime.v2.task/default/c1";
    let v = validated("containerd-run.json", bundle);
    // The shim mounts the snapshot at BUNDLE/rootfs and gives the root relative.
    assert_eq!(v.spec().root.as_ref().unwrap().path, "rootfs");
    assert_eq!(v.root(), Path::new(bundle).join("rootfs"));
    assert_eq!(v.path_checks().len(), 1);
    let linux = v.spec().linux.as_ref().unwrap();
    assert_eq!(linux.cgroups_path.as_deref(), Some("/default/c1"));
    assert_eq!(linux.seccomp, None);
    let devices = linux.resources.as_ref().unwrap().devices.as_ref().unwrap();
    assert_eq!(devices.len(), 10);
    assert_eq!(v.process().unwrap().rlimits.as_ref().unwrap()[0].hard, 1024);
}

#[test]
fn containerd_run_with_every_option() {
    let v = validated(
        "containerd-run-rich.json",
        "/run/containerd/io.containerd.runtime.v2.task/default/c2",
    );
    let spec = v.spec();
    assert!(v.process().unwrap().terminal());
    assert_eq!(v.process().unwrap().cwd, "/tmp");
    let linux = spec.linux.as_ref().unwrap();
    let cpu = linux.resources.as_ref().unwrap().cpu.as_ref().unwrap();
    assert_eq!((cpu.quota, cpu.period), (Some(50_000), Some(100_000)));
    assert_eq!(
        linux.seccomp.as_ref().unwrap()["defaultAction"],
        "SCMP_ACT_ERRNO"
    );
    assert_eq!(spec.annotations.as_ref().unwrap()["org.example"], "1");
    let data = spec
        .mounts
        .iter()
        .flatten()
        .find(|m| m.destination == "/data")
        .unwrap();
    assert_eq!(data.kind.as_deref(), Some("bind"));
    assert_eq!(
        data.options.as_deref(),
        Some(&["rbind".to_string(), "ro".to_string()][..])
    );
}

#[test]
fn exec_process_files() {
    let p = read::process(&fixture("podman-exec-process.json")).unwrap();
    validate::process(&p).unwrap();
    assert_eq!((p.user.uid, p.cwd.as_str()), (1000, "/tmp"));
    assert!(p.env().contains(&"FOO=bar".to_string()));
    let c = read::process(&fixture("containerd-exec-process.json")).unwrap();
    validate::process(&c).unwrap();
    assert!(c.terminal());
    assert_eq!(c.args(), ["sh", "-c", "exit 2"]);
}

#[test]
fn update_resources_file() {
    let r = read::resources(&fixture("podman-update-resources.json")).unwrap();
    validate::resources(&r).unwrap();
    assert_eq!(r.memory.unwrap().limit, Some(134_217_728));
    assert_eq!(r.cpu.unwrap().shares, Some(512));
}

#[test]
fn runc_spec_output() {
    let v = validated("runc-spec.json", "/srv/bundle");
    assert_eq!(v.root(), Path::new("/srv/bundle/rootfs"));
    assert_eq!(v.spec().hostname.as_deref(), Some("runc"));
}
