//! The corpus of malformed `config.json` files next to the reader: every file in
//! `bad_configs/` is refused, and `bad_configs/expected.tsv` pins the exact message (file,
//! tab, message). Each file is a small valid configuration with one thing wrong.

use std::path::Path;
use syscage_oci::{read, validate};

fn refuse(text: &str) -> String {
    let spec = match read::config(text) {
        Ok(s) => s,
        Err(e) => return e.to_string(),
    };
    match validate::config(spec, Path::new("/bundle")) {
        Ok(_) => "accepted".to_string(),
        Err(e) => e.to_string(),
    }
}

#[test]
fn every_bad_config_is_refused_with_its_message() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/bad_configs");
    let expected = std::fs::read_to_string(dir.join("expected.tsv")).unwrap();
    let mut listed = Vec::new();
    for line in expected.lines() {
        let (file, want) = line.split_once('\t').expect("file<TAB>message");
        let text = std::fs::read_to_string(dir.join(file)).unwrap();
        assert_eq!(refuse(&text), want, "{file}");
        assert!(!want.contains('\n'), "{file}: one line");
        listed.push(file.to_string());
    }
    let mut files: Vec<String> = std::fs::read_dir(&dir)
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".json"))
        .collect();
    files.sort();
    listed.sort();
    assert_eq!(files, listed, "every file has its expected message");
}

/// The base every bad file was made from is itself accepted, so each file's refusal is
/// about its one change.
#[test]
fn the_base_configuration_is_accepted() {
    let base = r#"{"ociVersion": "1.0.2",
        "process": {"user": {"uid": 0, "gid": 0}, "args": ["sh"], "cwd": "/"},
        "root": {"path": "rootfs"},
        "linux": {"namespaces": [{"type": "pid"}, {"type": "mount"}]}}"#;
    assert_eq!(refuse(base), "accepted");
}
