//! `mounts`, `linux.devices` and the paths of an OCI configuration, as the mount plan's
//! entries (`ociplan`). Each option is one of [`OPTIONS`] or, for a fresh file system, an
//! option of that file system (`mode=755`, `newinstance`) handed to the kernel, which
//! refuses what it does not know; a bind mount takes only the options in the table.

use super::error::OciError;
use crate::config::{Propagation, Volume};
use crate::fsroot::FileId;
use crate::mounts::{DeviceNode, Fs};
use crate::ociplan::{OciMount, OciMounts};
use std::path::{Path, PathBuf};
use syscage_oci::config::{Device, Mount};

/// What a generic mount option does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Effect {
    Set(u64),
    Clear(u64),
    Propagation(Propagation),
    Bind {
        recursive: bool,
    },
    /// Accepted and meaning what the kernel does anyway.
    Nothing,
}

/// The mount options syscage takes (also what `features` lists).
const OPTIONS: &[(&str, Effect)] = &[
    ("ro", Effect::Set(libc::MS_RDONLY)),
    ("rw", Effect::Clear(libc::MS_RDONLY)),
    ("nosuid", Effect::Set(libc::MS_NOSUID)),
    ("suid", Effect::Clear(libc::MS_NOSUID)),
    ("nodev", Effect::Set(libc::MS_NODEV)),
    ("dev", Effect::Clear(libc::MS_NODEV)),
    ("noexec", Effect::Set(libc::MS_NOEXEC)),
    ("exec", Effect::Clear(libc::MS_NOEXEC)),
    ("noatime", Effect::Set(libc::MS_NOATIME)),
    ("atime", Effect::Clear(libc::MS_NOATIME)),
    ("nodiratime", Effect::Set(libc::MS_NODIRATIME)),
    ("diratime", Effect::Clear(libc::MS_NODIRATIME)),
    ("strictatime", Effect::Set(libc::MS_STRICTATIME)),
    ("nostrictatime", Effect::Clear(libc::MS_STRICTATIME)),
    ("relatime", Effect::Nothing),
    ("norelatime", Effect::Nothing),
    ("defaults", Effect::Nothing),
    ("async", Effect::Nothing),
    ("nomand", Effect::Nothing),
    ("loud", Effect::Nothing),
    ("silent", Effect::Nothing),
    // podman's: copy what the image has below a tmpfs into it. The tmpfs starts empty
    // here (see the README).
    ("tmpcopyup", Effect::Nothing),
    ("private", Effect::Propagation(Propagation::Private)),
    ("rprivate", Effect::Propagation(Propagation::Private)),
    ("slave", Effect::Propagation(Propagation::Slave)),
    ("rslave", Effect::Propagation(Propagation::Slave)),
    ("shared", Effect::Propagation(Propagation::Shared)),
    ("rshared", Effect::Propagation(Propagation::Shared)),
    ("bind", Effect::Bind { recursive: false }),
    ("rbind", Effect::Bind { recursive: true }),
];

/// Options the spec lists that syscage refuses, with why.
const REFUSED: &[(&str, &str)] = &[
    ("sync", "synchronous writes are not supported"),
    ("dirsync", "synchronous writes are not supported"),
    ("mand", "mandatory locks are gone from Linux (5.15)"),
    (
        "remount",
        "a mount in the configuration is always a new one",
    ),
    ("unbindable", "unbindable mounts are not supported"),
    ("runbindable", "unbindable mounts are not supported"),
    ("idmap", "syscage does not make idmapped mounts"),
    ("ridmap", "syscage does not make idmapped mounts"),
];

/// The names of [`OPTIONS`], for `features`.
pub fn option_names() -> Vec<String> {
    OPTIONS.iter().map(|(n, _)| n.to_string()).collect()
}

struct Parsed {
    flags: u64,
    propagation: Propagation,
    bind: Option<bool>,
    data: Vec<String>,
}

fn options(path: &str, opts: &[String], fresh: bool) -> Result<Parsed, OciError> {
    let mut p = Parsed {
        flags: 0,
        propagation: Propagation::Private,
        bind: None,
        data: Vec::new(),
    };
    for (i, o) in opts.iter().enumerate() {
        if let Some((_, e)) = OPTIONS.iter().find(|(n, _)| n == o) {
            match *e {
                Effect::Set(f) => p.flags |= f,
                Effect::Clear(f) => p.flags &= !f,
                Effect::Propagation(x) => p.propagation = x,
                Effect::Bind { recursive } => p.bind = Some(recursive || p.bind == Some(true)),
                Effect::Nothing => {}
            }
            continue;
        }
        if let Some((_, why)) = REFUSED.iter().find(|(n, _)| n == o) {
            return Err(OciError::Other(format!(
                "{path}.options[{i}]: `{o}`: {why}"
            )));
        }
        if o.starts_with('r') && OPTIONS.iter().any(|(n, _)| *n == &o[1..]) {
            return Err(OciError::Other(format!(
                "{path}.options[{i}]: `{o}`: recursive mount attributes are not supported; use `{}` (it applies to the mount itself)",
                &o[1..]
            )));
        }
        if !fresh {
            return Err(OciError::Other(format!(
                "{path}.options[{i}]: unknown option `{o}` for a bind mount"
            )));
        }
        p.data.push(o.clone());
    }
    Ok(p)
}

/// Checks a destination syscage will mount on: not the root, and nothing but a fresh
/// `proc` on or below `/proc` (the masks there must stay what they are).
fn destination(path: &str, m: &Mount, kind: &str) -> Result<PathBuf, OciError> {
    let d = PathBuf::from(&m.destination);
    if d == Path::new("/") {
        return Err(OciError::Other(format!(
            "{path}.destination: `/` is the root file system (`root.path`); mount something there in the bundle instead"
        )));
    }
    if d.starts_with("/proc") && !(d == Path::new("/proc") && kind == "proc") {
        return Err(OciError::Other(format!(
            "{path}.destination: `{}`: only a `proc` mount goes at `/proc`, and nothing below it (it would cover the masked paths)",
            d.display()
        )));
    }
    Ok(d)
}

/// The configuration's mounts, devices and paths. `bundle` resolves relative bind
/// sources; `cgroup_dirs` are the container's own cgroup directories by hierarchy name
/// (for a `cgroup` mount).
pub fn convert(
    mounts: &[Mount],
    devices: &[Device],
    bundle: &Path,
    cgroup_dirs: &[(String, PathBuf)],
) -> Result<OciMounts, OciError> {
    let mut out = OciMounts::default();
    for (i, m) in mounts.iter().enumerate() {
        let path = format!("mounts[{i}]");
        let kind = if m.is_bind() {
            "bind"
        } else {
            m.kind.as_deref().unwrap_or("")
        };
        let dst = destination(&path, m, kind)?;
        let opts = m.options.as_deref().unwrap_or(&[]);
        let fresh_fs = match kind {
            "proc" => Some(Fs::Proc),
            "tmpfs" => Some(Fs::Tmpfs),
            "devpts" => Some(Fs::Devpts),
            "mqueue" => Some(Fs::Mqueue),
            _ => None,
        };
        let o = options(&path, opts, kind != "bind")?;
        let entry = match (kind, fresh_fs) {
            ("bind", _) => OciMount::Bind(bind(&path, m, &dst, bundle, &o)?),
            (_, Some(fs)) => {
                let mut flags = o.flags;
                // Device nodes come only as binds of those syscage made; ptys are the
                // one kind of node a container makes, on its own devpts.
                if fs != Fs::Devpts {
                    flags |= libc::MS_NODEV;
                }
                OciMount::Fresh {
                    fs,
                    dst,
                    flags,
                    data: o.data.join(","),
                }
            }
            ("sysfs", _) => OciMount::Sysfs {
                dst,
                flags: o.flags | libc::MS_NODEV,
            },
            ("cgroup" | "cgroup2", _) => OciMount::Cgroup {
                dst,
                read_only: o.flags & libc::MS_RDONLY != 0,
                dirs: cgroup_dirs.to_vec(),
            },
            (other, _) => {
                return Err(OciError::Other(format!(
                    "{path}.type: `{}` is not a file system syscage mounts (bind, proc, sysfs, tmpfs, devpts, mqueue, cgroup)",
                    other.escape_default()
                )))
            }
        };
        out.mounts.push(entry);
    }
    for (i, d) in devices.iter().enumerate() {
        out.devices.push(device(&format!("linux.devices[{i}]"), d)?);
    }
    Ok(out)
}

fn bind(path: &str, m: &Mount, dst: &Path, bundle: &Path, o: &Parsed) -> Result<Volume, OciError> {
    let given = m.source.as_deref().unwrap_or("");
    let src = bundle.join(given);
    let missing = |why: String| OciError::Other(format!("{path}.source: `{given}`: {why}"));
    let host =
        std::fs::canonicalize(&src).map_err(|e| missing(syscage_policy::errno::io_text(&e)))?;
    let meta = std::fs::metadata(&host).map_err(|e| missing(syscage_policy::errno::io_text(&e)))?;
    let id = FileId::of_path(&host).map_err(|e| missing(syscage_policy::errno::io_text(&e)))?;
    Ok(Volume {
        host,
        container: dst.to_path_buf(),
        read_only: o.flags & libc::MS_RDONLY != 0,
        propagation: o.propagation,
        dir: meta.is_dir(),
        id,
        recursive: o.bind.unwrap_or(true),
        flags: o.flags & !libc::MS_RDONLY,
    })
}

fn device(path: &str, d: &Device) -> Result<DeviceNode, OciError> {
    let kind = match d.kind.as_str() {
        "c" | "u" => libc::S_IFCHR,
        "b" => libc::S_IFBLK,
        "p" => libc::S_IFIFO,
        other => {
            return Err(OciError::Other(format!(
                "{path}.type: unknown device type `{other}`"
            )))
        }
    };
    let num = |v: Option<i64>, f: &str| -> Result<u64, OciError> {
        match v {
            None if kind == libc::S_IFIFO => Ok(0),
            Some(n) if (0..=0xfff_ffff).contains(&n) => Ok(n as u64),
            _ => Err(OciError::Other(format!(
                "{path}.{f}: `{}` is not a device number",
                v.map(|n| n.to_string()).unwrap_or_default()
            ))),
        }
    };
    Ok(DeviceNode {
        path: PathBuf::from(&d.path),
        kind,
        major: num(d.major, "major")?,
        minor: num(d.minor, "minor")?,
        mode: d.file_mode.unwrap_or(0o666) & 0o7777,
        uid: d.uid.unwrap_or(0),
        gid: d.gid.unwrap_or(0),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mounts(json: &str) -> Vec<Mount> {
        serde_json::from_str(json).unwrap()
    }

    #[test]
    fn podmans_mounts() {
        let spec = syscage_oci::read::config(include_str!(
            "../../../oci/tests/fixtures/podman-run-rich.json"
        ))
        .unwrap();
        let dirs = vec![(
            "memory".to_string(),
            PathBuf::from("/sys/fs/cgroup/memory/x"),
        )];
        // The bind sources are podman's paths on the machine that recorded them: the
        // binds are left out here.
        let list: Vec<Mount> = spec
            .mounts
            .unwrap()
            .into_iter()
            .filter(|m| !m.is_bind())
            .collect();
        let out = convert(&list, &[], Path::new("/b"), &dirs).unwrap();
        assert_eq!(
            out.mounts[0],
            OciMount::Fresh {
                fs: Fs::Tmpfs,
                dst: "/dev".into(),
                flags: libc::MS_NOSUID | libc::MS_NOEXEC | libc::MS_STRICTATIME | libc::MS_NODEV,
                data: "mode=755,size=65536k".into()
            }
        );
        let pts = out
            .mounts
            .iter()
            .find(|m| m.dst() == Path::new("/dev/pts"))
            .unwrap();
        assert_eq!(
            pts,
            &OciMount::Fresh {
                fs: Fs::Devpts,
                dst: "/dev/pts".into(),
                flags: libc::MS_NOSUID | libc::MS_NOEXEC,
                data: "newinstance,ptmxmode=0666,mode=0620,gid=5".into()
            }
        );
        assert_eq!(
            out.mounts.last().unwrap(),
            &OciMount::Cgroup {
                dst: "/sys/fs/cgroup".into(),
                read_only: true,
                dirs
            }
        );
    }

    #[test]
    fn binds_resolve_against_the_bundle_and_take_only_known_options() {
        let t = std::env::temp_dir().join(format!("syscage-binds-{}", std::process::id()));
        std::fs::create_dir_all(t.join("vol")).unwrap();
        let list = mounts(
            r#"[{"destination":"/data","type":"bind","source":"vol","options":["rbind","ro","nosuid","rslave"]},
                {"destination":"/one","source":"vol","options":["bind"]}]"#,
        );
        let out = convert(&list, &[], &t, &[]).unwrap();
        let OciMount::Bind(v) = &out.mounts[0] else {
            panic!("a bind")
        };
        assert_eq!(v.host, std::fs::canonicalize(t.join("vol")).unwrap());
        assert!(v.read_only && v.recursive && v.dir);
        assert_eq!(
            (v.flags, v.propagation),
            (libc::MS_NOSUID, Propagation::Slave)
        );
        let OciMount::Bind(v) = &out.mounts[1] else {
            panic!("a bind")
        };
        assert!(!v.recursive && !v.read_only);
        for (json, msg) in [
            (
                r#"[{"destination":"/d","type":"bind","source":"vol","options":["mode=755"]}]"#,
                "mounts[0].options[0]: unknown option `mode=755` for a bind mount",
            ),
            (
                r#"[{"destination":"/d","type":"bind","source":"nope"}]"#,
                "mounts[0].source: `nope`: No such file or directory (ENOENT)",
            ),
            (
                r#"[{"destination":"/d","type":"tmpfs","options":["rro"]}]"#,
                "mounts[0].options[0]: `rro`: recursive mount attributes are not supported; use `ro` (it applies to the mount itself)",
            ),
            (
                r#"[{"destination":"/d","type":"tmpfs","options":["sync"]}]"#,
                "mounts[0].options[0]: `sync`: synchronous writes are not supported",
            ),
            (
                r#"[{"destination":"/proc/sys","type":"tmpfs"}]"#,
                "mounts[0].destination: `/proc/sys`: only a `proc` mount goes at `/proc`, and nothing below it (it would cover the masked paths)",
            ),
            (
                r#"[{"destination":"/","type":"tmpfs"}]"#,
                "mounts[0].destination: `/` is the root file system (`root.path`); mount something there in the bundle instead",
            ),
            (
                r#"[{"destination":"/n","type":"nfs","source":"host:/x"}]"#,
                "mounts[0].type: `nfs` is not a file system syscage mounts (bind, proc, sysfs, tmpfs, devpts, mqueue, cgroup)",
            ),
        ] {
            assert_eq!(
                convert(&mounts(json), &[], &t, &[]).unwrap_err().to_string(),
                msg
            );
        }
        std::fs::remove_dir_all(&t).unwrap();
    }

    #[test]
    fn devices_default_to_0666_root() {
        let d: Vec<Device> = serde_json::from_str(
            r#"[{"path":"/dev/fuse","type":"c","major":10,"minor":229},
                {"path":"/dev/p","type":"p","fileMode":420,"uid":5}]"#,
        )
        .unwrap();
        let out = convert(&[], &d, Path::new("/b"), &[]).unwrap();
        assert_eq!(
            out.devices,
            vec![
                DeviceNode {
                    path: "/dev/fuse".into(),
                    kind: libc::S_IFCHR,
                    major: 10,
                    minor: 229,
                    mode: 0o666,
                    uid: 0,
                    gid: 0
                },
                DeviceNode {
                    path: "/dev/p".into(),
                    kind: libc::S_IFIFO,
                    major: 0,
                    minor: 0,
                    mode: 0o644,
                    uid: 5,
                    gid: 0
                }
            ]
        );
    }
}
