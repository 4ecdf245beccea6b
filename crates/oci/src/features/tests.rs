use super::*;
use syscage_policy::caps::LAST_KNOWN;
use syscage_policy::{Arch, Cap};

/// The seccomp names as syscage's policy reader spells them: what the runtime will pass.
fn from_policy() -> Supported {
    let names = syscage_policy::profile::known_names();
    Supported {
        hooks: true,
        mount_options: vec!["ro".into(), "rbind".into(), "nosuid".into(), "ro".into()],
        namespaces: NamespaceType::ALL.to_vec(),
        capabilities: (0..=LAST_KNOWN)
            .filter_map(Cap::from_number)
            .map(|c| c.to_string())
            .collect(),
        cgroup: CgroupSupport {
            v1: true,
            v2: true,
            ..CgroupSupport::default()
        },
        seccomp: Some(SeccompSupport {
            actions: names.actions,
            operators: names.operators,
            archs: Arch::all().map(|a| a.scmp_name().to_string()).collect(),
            known_flags: names.flags,
            supported_flags: vec![
                "SECCOMP_FILTER_FLAG_LOG".into(),
                "SECCOMP_FILTER_FLAG_NEW_LISTENER".into(),
            ],
        }),
        idmap_mounts: false,
        annotations: vec![(
            "io.github.seccomp.libseccomp.version".into(),
            "2.5.4".into(),
        )],
    }
}

fn runc() -> Value {
    serde_json::from_str(include_str!("../../tests/fixtures/runc-features.json")).unwrap()
}

fn list(v: &Value) -> Vec<String> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|s| s.as_str().unwrap().to_string())
        .collect()
}

#[test]
fn policy_names_match_what_runc_reports() {
    let ours: Value = serde_json::from_str(&Features::new(&from_policy()).to_json()).unwrap();
    let runc = runc();
    for key in ["actions", "operators"] {
        assert_eq!(
            list(&ours["linux"]["seccomp"][key]),
            list(&runc["linux"]["seccomp"][key]),
            "{key}"
        );
    }
    // The policy knows every libseccomp 2.5 architecture runc lists, and later ones.
    let archs = list(&ours["linux"]["seccomp"]["archs"]);
    for a in list(&runc["linux"]["seccomp"]["archs"]) {
        assert!(archs.contains(&a), "{a}");
    }
    assert_eq!(archs.len(), 23);
    assert_eq!(
        list(&ours["linux"]["capabilities"]),
        list(&runc["linux"]["capabilities"])
    );
    assert_eq!(ours["linux"]["apparmor"]["enabled"], false);
    assert_eq!(ours["linux"]["selinux"]["enabled"], false);
    assert_eq!(ours["ociVersionMin"], "1.0.0");
    assert_eq!(ours["ociVersionMax"], "1.2.1");
    assert_eq!(list(&ours["hooks"]), list(&runc["hooks"]));
}

#[test]
fn lists_are_sorted_and_flags_limited_to_known_ones() {
    let f: Value = serde_json::from_str(&Features::new(&from_policy()).to_json()).unwrap();
    assert_eq!(list(&f["mountOptions"]), ["nosuid", "rbind", "ro"]);
    assert_eq!(
        list(&f["linux"]["namespaces"]),
        ["cgroup", "ipc", "mount", "network", "pid", "time", "user", "uts"]
    );
    assert_eq!(
        list(&f["linux"]["seccomp"]["supportedFlags"]),
        ["SECCOMP_FILTER_FLAG_LOG"]
    );
    assert_eq!(
        list(&f["linux"]["seccomp"]["knownFlags"]),
        [
            "SECCOMP_FILTER_FLAG_LOG",
            "SECCOMP_FILTER_FLAG_SPEC_ALLOW",
            "SECCOMP_FILTER_FLAG_TSYNC",
            "SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV"
        ]
    );
    assert_eq!(
        f["annotations"]["io.github.seccomp.libseccomp.version"],
        "2.5.4"
    );
}

#[test]
fn the_whole_document_for_a_minimal_runtime() {
    let f = Features::new(&Supported {
        namespaces: vec![NamespaceType::Mount, NamespaceType::Pid],
        capabilities: vec!["CAP_CHOWN".into(), "CAP_KILL".into(), "CAP_CHOWN".into()],
        ..Supported::default()
    });
    assert_eq!(
        f.to_json(),
        r#"{
  "ociVersionMin": "1.0.0",
  "ociVersionMax": "1.2.1",
  "hooks": [],
  "mountOptions": [],
  "linux": {
    "namespaces": [
      "mount",
      "pid"
    ],
    "capabilities": [
      "CAP_CHOWN",
      "CAP_KILL"
    ],
    "cgroup": {
      "v1": false,
      "v2": false,
      "systemd": false,
      "systemdUser": false,
      "rdma": false
    },
    "seccomp": {
      "enabled": false
    },
    "apparmor": {
      "enabled": false
    },
    "selinux": {
      "enabled": false
    },
    "intelRdt": {
      "enabled": false
    },
    "mountExtensions": {
      "idmap": {
        "enabled": false
      }
    }
  }
}"#
    );
}
