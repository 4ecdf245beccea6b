//! The corpus of malformed profiles next to the reader (Docker and OCI JSON, Security
//! Profiles Operator resources in YAML and JSON): every file in `bad_profiles/` is refused,
//! and `bad_profiles/expected.tsv` pins the exact message (file, tab, message).

use std::path::Path;
use syscage_policy::profile::{self, ReadOptions};
use syscage_policy::{plan, resolve, Context};

fn refuse(text: &str) -> String {
    let p = match profile::parse(text, ReadOptions::default()) {
        Ok(p) => p,
        Err(e) => return e.to_string(),
    };
    let policy = match resolve::resolve("t", &p, &Context::docker_default()) {
        Ok(p) => p,
        Err(e) => return e.to_string(),
    };
    match plan::plan(&policy) {
        Ok(_) => "accepted".to_string(),
        Err(e) => e.to_string(),
    }
}

#[test]
fn every_bad_profile_is_refused_with_its_message() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/bad_profiles");
    let expected = std::fs::read_to_string(dir.join("expected.tsv")).unwrap();
    let mut listed = Vec::new();
    let mut wrong = Vec::new();
    for line in expected.lines() {
        let (file, want) = line.split_once('\t').expect("file<TAB>message");
        let text = std::fs::read_to_string(dir.join(file)).unwrap();
        let got = refuse(&text);
        if got != want {
            wrong.push(format!("{file}\n  got:  {got}\n  want: {want}"));
        }
        listed.push(file.to_string());
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
    let mut files: Vec<String> = std::fs::read_dir(&dir)
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".json") || n.ends_with(".yaml"))
        .collect();
    files.sort();
    listed.sort();
    assert_eq!(files, listed, "every file has its expected message");
}

#[test]
fn the_real_profiles_load_unchanged() {
    for text in [
        include_str!("../../../profiles/docker-default.json"),
        include_str!("../../../profiles/podman-default.json"),
        include_str!("../profiles/default.json"),
        include_str!("../profiles/contained.json"),
    ] {
        assert_eq!(refuse(text), "accepted");
    }
}

/// A config.json holds the OCI form (what Docker hands runc: Docker's profile resolved
/// for the container's capabilities); Docker's own file there is refused (the corpus pins
/// why: runc would ignore its `includes` and `archMap`).
#[test]
fn an_oci_config_json_is_accepted() {
    let docker = include_str!("../../../profiles/docker-default.json");
    let p = profile::parse(docker, ReadOptions::default()).unwrap();
    let policy = resolve::resolve("docker", &p, &Context::docker_default()).unwrap();
    let oci = profile::policy_to_oci(&policy, true).unwrap();
    let config = format!(
        r#"{{"ociVersion": "1.0.2", "process": {{"args": ["sh"]}}, "linux": {{"seccomp": {oci}}}}}"#
    );
    assert_eq!(refuse(&config), "accepted");
    let raw = format!(r#"{{"ociVersion": "1.0.2", "linux": {{"seccomp": {docker}}}}}"#);
    assert!(refuse(&raw)
        .starts_with("linux.seccomp.archMap: `archMap` is a field of Docker's profile format"));
}

/// An OCI runtime reads `linux.seccomp` alone: the same fields are refused there, named
/// from `linux.seccomp`.
#[test]
fn the_seccomp_object_of_a_config_alone_is_read_as_runc_reads_it() {
    let ok = r#"{"defaultAction": "SCMP_ACT_ERRNO", "syscalls": [{"names": ["read"], "action": "SCMP_ACT_ALLOW"}]}"#;
    assert!(profile::parse_oci_seccomp(ok, ReadOptions::default()).is_ok());
    let bad = r#"{"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [{"names": ["mkdir"], "action": "SCMP_ACT_ERRNO", "excludes": {"caps": ["CAP_SYS_ADMIN"]}}]}"#;
    assert_eq!(
        profile::parse_oci_seccomp(bad, ReadOptions::default()).unwrap_err().to_string(),
        "linux.seccomp.syscalls[0].excludes: `excludes` is a field of Docker's profile format, which runc and crun ignore in a config.json: the config would mean one thing under them and another under syscage; write the rule in the OCI form (`names`, `errnoRet`, no `includes`/`excludes`), or give syscage the Docker profile file itself"
    );
    let typo = r#"{"defaultAction": "SCMP_ACT_ALLOW", "sycalls": []}"#;
    assert!(profile::parse_oci_seccomp(typo, ReadOptions::default())
        .unwrap_err()
        .to_string()
        .starts_with("linux.seccomp: unknown field `sycalls`"));
}
