//! Compiled programs cached by content, as crun does when built with its cache: the key
//! is a SHA-256 of everything that decides the program (the profile's text, the reader's
//! options, the capability set, the kernel version, extra ABIs, tweaks, the notification
//! mode, and the syscage and libseccomp versions), so a hit needs no parsing, resolving
//! or compiling.
//!
//! The cache lives in `/var/cache/syscage` for root and `$XDG_CACHE_HOME/syscage` (or
//! `~/.cache/syscage`) otherwise. It is only used when its directory belongs to the
//! caller and no one else can write to it: a cached program is loaded as the container's
//! filter, so whoever can write there could choose that filter.

use crate::bpf::{self, SockFilter};
use sha2::{Digest, Sha256};
use std::fs;
use std::io::Write;
use std::os::unix::fs::{DirBuilderExt, MetadataExt, OpenOptionsExt};
use std::path::{Path, PathBuf};

const MAGIC: &[u8] = b"syscage-bpf 2\n";

/// The inputs of a compile, hashed.
pub struct Key(String);

#[derive(Default)]
pub struct KeyBuilder(Sha256);

impl KeyBuilder {
    pub fn new() -> KeyBuilder {
        let mut b = KeyBuilder(Sha256::new());
        b.field("syscage", env!("CARGO_PKG_VERSION").as_bytes());
        // The code that compiled the program (see build.rs): a program cached by another
        // build of syscage is never loaded.
        b.field("compiler", env!("SYSCAGE_COMPILER_ID").as_bytes());
        b.field(
            "libseccomp",
            crate::compile::libseccomp_version().as_bytes(),
        );
        b
    }

    /// Adds a named field; lengths are hashed too, so fields cannot run into each other.
    pub fn field(&mut self, name: &str, value: &[u8]) -> &mut Self {
        for part in [name.as_bytes(), value] {
            self.0.update((part.len() as u64).to_le_bytes());
            self.0.update(part);
        }
        self
    }

    pub fn finish(self) -> Key {
        let digest = self.0.finalize();
        Key(digest.iter().map(|b| format!("{b:02x}")).collect())
    }
}

/// A cached program, its seccomp(2) flags, and what a run says about its profile (so that
/// a run from the cache, which reads no profile, says it too).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    pub program: Vec<SockFilter>,
    pub flags: u32,
    pub warnings: Vec<String>,
}

pub struct Cache {
    dir: PathBuf,
}

impl Cache {
    /// The caller's cache, if its directory can be made private and trusted.
    pub fn open_default() -> Option<Cache> {
        let dir = if nix::unistd::geteuid().is_root() {
            PathBuf::from("/var/cache/syscage")
        } else if let Some(x) = std::env::var_os("XDG_CACHE_HOME").filter(|x| !x.is_empty()) {
            PathBuf::from(x).join("syscage")
        } else {
            PathBuf::from(std::env::var_os("HOME")?).join(".cache/syscage")
        };
        Cache::open(&dir)
    }

    pub fn open(dir: &Path) -> Option<Cache> {
        let _ = fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(dir);
        let meta = fs::metadata(dir).ok()?;
        let mine = meta.uid() == nix::unistd::geteuid().as_raw();
        if !meta.is_dir() || !mine || meta.mode() & 0o022 != 0 {
            tracing::debug!(
                "not using the filter cache `{}`: not a private directory of this user",
                dir.display()
            );
            return None;
        }
        Some(Cache {
            dir: dir.to_path_buf(),
        })
    }

    fn path(&self, key: &Key) -> PathBuf {
        self.dir.join(format!("{}.bpf", key.0))
    }

    pub fn get(&self, key: &Key) -> Option<Entry> {
        let bytes = fs::read(self.path(key)).ok()?;
        let rest = bytes.strip_prefix(MAGIC)?;
        let (k, rest) = split_line(rest)?;
        if k != key.0.as_bytes() {
            return None;
        }
        let (flags, rest) = split_line(rest)?;
        let flags = std::str::from_utf8(flags).ok()?.parse().ok()?;
        let (count, mut rest) = split_line(rest)?;
        let count: usize = std::str::from_utf8(count).ok()?.parse().ok()?;
        let mut warnings = Vec::new();
        for _ in 0..count {
            let (w, r) = split_line(rest)?;
            warnings.push(String::from_utf8(w.to_vec()).ok()?);
            rest = r;
        }
        let program = bpf::from_bytes(rest)?;
        bpf::validate(&program).ok()?;
        Some(Entry {
            program,
            flags,
            warnings,
        })
    }

    /// Stores an entry atomically (write to a temporary file, then rename). Failures
    /// only cost the next run a compile.
    pub fn put(&self, key: &Key, e: &Entry) {
        let tmp = self.dir.join(format!(".{}.{}", key.0, std::process::id()));
        let write = || -> std::io::Result<()> {
            let mut f = fs::OpenOptions::new()
                .write(true)
                .create_new(true)
                .mode(0o600)
                .open(&tmp)?;
            f.write_all(MAGIC)?;
            f.write_all(key.0.as_bytes())?;
            f.write_all(b"\n")?;
            f.write_all(format!("{}\n", e.flags).as_bytes())?;
            // One line each: a warning holds no newline (names and messages are the
            // profile's, which JSON strings could give one; it is replaced).
            f.write_all(format!("{}\n", e.warnings.len()).as_bytes())?;
            for w in &e.warnings {
                f.write_all(w.replace('\n', " ").as_bytes())?;
                f.write_all(b"\n")?;
            }
            f.write_all(&bpf::to_bytes(&e.program))?;
            fs::rename(&tmp, self.path(key))
        };
        if let Err(err) = write() {
            let _ = fs::remove_file(&tmp);
            tracing::debug!("cannot write the filter cache: {err}");
        }
    }
}

fn split_line(b: &[u8]) -> Option<(&[u8], &[u8])> {
    let i = b.iter().position(|c| *c == b'\n')?;
    Some((&b[..i], &b[i + 1..]))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_key_mismatch() {
        let dir = std::env::temp_dir().join(format!("syscage-cache-{}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        let c = Cache::open(&dir).expect("private dir");
        let mut kb = KeyBuilder::new();
        kb.field("profile", b"{}");
        let key = kb.finish();
        let e = Entry {
            program: vec![SockFilter::stmt(bpf::BPF_RET | bpf::BPF_K, 0x7fff_0000)],
            flags: 1,
            warnings: vec!["one".into(), "two".into()],
        };
        assert_eq!(c.get(&key), None);
        c.put(&key, &e);
        assert_eq!(c.get(&key), Some(e.clone()));
        let mut other = KeyBuilder::new();
        other.field("profile", b"{ }");
        assert_eq!(c.get(&other.finish()), None);
        // A corrupted entry is a miss, not an error.
        let p = c.path(&key);
        let mut bytes = fs::read(&p).unwrap();
        bytes.truncate(bytes.len() - 3);
        fs::write(&p, bytes).unwrap();
        assert_eq!(c.get(&key), None);
        fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn refuses_a_directory_others_can_write() {
        let dir = std::env::temp_dir().join(format!("syscage-cache-open-{}", std::process::id()));
        fs::create_dir_all(&dir).unwrap();
        fs::set_permissions(&dir, std::os::unix::fs::PermissionsExt::from_mode(0o777)).unwrap();
        assert!(Cache::open(&dir).is_none());
        fs::remove_dir_all(&dir).unwrap();
    }
}
