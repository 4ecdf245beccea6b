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

#[test]
fn an_oci_config_json_is_accepted() {
    let docker = include_str!("../../../profiles/docker-default.json");
    let config = format!(
        r#"{{"ociVersion": "1.0.2", "process": {{"args": ["sh"]}}, "linux": {{"seccomp": {docker}}}}}"#
    );
    assert_eq!(refuse(&config), "accepted");
}
