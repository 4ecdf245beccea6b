//! Computes an identity of the code that decides what a compiled program contains (the
//! policy crate's sources, built-in profiles and syscall table, and this crate's sources)
//! for the filter cache's key: a program cached by one build is never loaded by another
//! whose compiler differs, even when both say version 0.1.0.

use std::path::{Path, PathBuf};

fn files(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(rd) = std::fs::read_dir(dir) else {
        return;
    };
    for e in rd.flatten() {
        let p = e.path();
        if p.is_dir() {
            files(&p, out);
        } else {
            out.push(p);
        }
    }
}

fn main() {
    let here = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").unwrap_or_else(|_| ".".into()));
    let dirs = [
        here.join("src"),
        here.join("../policy/src"),
        here.join("../policy/profiles"),
        here.join("../policy/data"),
    ];
    let mut all = Vec::new();
    for d in &dirs {
        println!("cargo:rerun-if-changed={}", d.display());
        files(d, &mut all);
    }
    all.sort();
    // Two FNV-1a streams with different offsets make a 128-bit identity; only our own
    // sources go in, so no adversary chooses the input.
    let (mut a, mut b) = (0xcbf2_9ce4_8422_2325u64, 0x6c62_272e_07bb_0142u64);
    for f in &all {
        let rel = f
            .strip_prefix(&here)
            .unwrap_or(f)
            .to_string_lossy()
            .into_owned();
        let content = std::fs::read(f).unwrap_or_default();
        for byte in rel
            .as_bytes()
            .iter()
            .chain([0u8].iter())
            .chain(content.iter())
        {
            a = (a ^ u64::from(*byte)).wrapping_mul(0x0100_0000_01b3);
            b = (b ^ u64::from(*byte)).wrapping_mul(0x0000_0100_0000_01b3 ^ 0x2_0000);
        }
    }
    println!("cargo:rustc-env=SYSCAGE_COMPILER_ID={a:016x}{b:016x}");
}
