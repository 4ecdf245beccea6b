//! The mount plan of an OCI configuration: the same operations as `syscage run`'s
//! (`mounts::Op`), executed by the same host (`mountfd::RealMounts`, every path through
//! descriptors), but the mounts, devices, sysctls and masked and read-only paths come
//! from `config.json` instead of syscage's fixed set.
//!
//! The order, as runc's: the configuration's mounts in the order given (a mount inside
//! an earlier one gets its mount point in it, just before it is mounted; the others get
//! theirs before the root may turn read-only); the devices every container has (the
//! host's null, zero, full, random, urandom and tty, bound) and the configuration's own;
//! the `/dev` links; sysctls, through the fresh `/proc`; masked and read-only paths;
//! `pivot_root`; the check that `/proc`, `/sys` and `/dev` are the mounts made here.
//!
//! Two rules of syscage's walls stay: the root file system is nodev (device nodes come
//! only as bind mounts of nodes syscage made), and every bind mount is nodev.

use crate::config::Volume;
use crate::mounts::{BindSource, DeviceNode, Fs, Op, RootSource, Rootfs, DEVICES};
use std::path::{Path, PathBuf};

/// What an OCI configuration mounts and hides.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct OciMounts {
    /// In the configuration's order.
    pub mounts: Vec<OciMount>,
    pub devices: Vec<DeviceNode>,
    pub masked: Vec<PathBuf>,
    pub readonly: Vec<PathBuf>,
    /// Namespaced sysctls, written through the container's `/proc`.
    pub sysctl: Vec<(String, String)>,
}

/// One entry of `mounts`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OciMount {
    /// A fresh file system with MS_* `flags` and its options.
    Fresh {
        fs: Fs,
        dst: PathBuf,
        flags: u64,
        data: String,
    },
    Sysfs {
        dst: PathBuf,
        flags: u64,
    },
    Bind(Volume),
    /// The container's own cgroup directories: each hierarchy's under a tmpfs at `dst`
    /// (`(name, host directory)`, cgroup v1 and hybrid hosts), or the one cgroup2
    /// directory at `dst` itself (`name` empty).
    Cgroup {
        dst: PathBuf,
        read_only: bool,
        dirs: Vec<(String, PathBuf)>,
    },
}

impl OciMount {
    pub fn dst(&self) -> &Path {
        match self {
            OciMount::Fresh { dst, .. }
            | OciMount::Sysfs { dst, .. }
            | OciMount::Cgroup { dst, .. } => dst,
            OciMount::Bind(v) => &v.container,
        }
    }

    fn mount_point(&self) -> Op {
        match self {
            OciMount::Bind(v) if !v.dir => Op::Touch(v.container.clone()),
            m => Op::Mkdir(m.dst().to_path_buf()),
        }
    }

    fn ops(&self, out: &mut Vec<Op>) {
        match self {
            OciMount::Fresh {
                fs,
                dst,
                flags,
                data,
            } => out.push(Op::Mount {
                fs: *fs,
                dst: dst.clone(),
                flags: *flags,
                data: data.clone(),
            }),
            OciMount::Sysfs { dst, flags } => out.push(Op::Sysfs {
                dst: dst.clone(),
                flags: *flags,
            }),
            OciMount::Bind(v) => out.push(Op::Bind {
                src: BindSource::Volume(v.clone()),
                dst: v.container.clone(),
            }),
            OciMount::Cgroup {
                dst,
                read_only,
                dirs,
            } => {
                if let [(name, path)] = dirs.as_slice() {
                    if name.is_empty() {
                        out.push(Op::Bind {
                            src: BindSource::Cgroup {
                                path: path.clone(),
                                read_only: *read_only,
                            },
                            dst: dst.clone(),
                        });
                        return;
                    }
                }
                out.push(Op::Mount {
                    fs: Fs::Tmpfs,
                    dst: dst.clone(),
                    flags: libc::MS_NOSUID | libc::MS_NODEV | libc::MS_NOEXEC,
                    data: "mode=755,size=64k,nr_inodes=256".into(),
                });
                for (name, _) in dirs {
                    out.push(Op::Mkdir(dst.join(name)));
                }
                if *read_only {
                    out.push(Op::SealMount(dst.clone()));
                }
                for (name, path) in dirs {
                    out.push(Op::Bind {
                        src: BindSource::Cgroup {
                            path: path.clone(),
                            read_only: *read_only,
                        },
                        dst: dst.join(name),
                    });
                }
            }
        }
    }
}

/// The operations, in order.
pub fn plan(root: &Rootfs, read_only: bool, cfg: &OciMounts) -> Vec<Op> {
    let mut ops: Vec<Op> = cfg
        .mounts
        .iter()
        .filter_map(|m| match m {
            OciMount::Bind(v) => Some(Op::TakeVolume(v.clone())),
            _ => None,
        })
        .collect();
    ops.push(Op::MakeRootSlave);
    ops.push(Op::NewRoot(RootSource::Rootfs(root.clone())));
    // Nested: inside a mount made earlier, so its mount point is made in that mount.
    let nested: Vec<bool> = cfg
        .mounts
        .iter()
        .enumerate()
        .map(|(i, m)| {
            let d = m.dst();
            cfg.mounts[..i]
                .iter()
                .any(|o| d != o.dst() && d.starts_with(o.dst()))
        })
        .collect();
    for (m, n) in cfg.mounts.iter().zip(&nested) {
        if !n {
            ops.push(m.mount_point());
        }
    }
    ops.push(Op::RestrictRoot { read_only });
    for (m, n) in cfg.mounts.iter().zip(&nested) {
        if *n {
            ops.push(m.mount_point());
        }
        m.ops(&mut ops);
    }

    for d in DEVICES {
        let p = PathBuf::from(format!("/dev/{d}"));
        if cfg.devices.iter().any(|c| c.path == p) {
            continue;
        }
        ops.push(Op::Touch(p.clone()));
        ops.push(Op::Bind {
            src: BindSource::Device(p.clone()),
            dst: p,
        });
    }
    for d in &cfg.devices {
        ops.push(Op::Device(d.clone()));
    }
    let mut links = vec![
        ("/dev/fd", "/proc/self/fd"),
        ("/dev/stdin", "/proc/self/fd/0"),
        ("/dev/stdout", "/proc/self/fd/1"),
        ("/dev/stderr", "/proc/self/fd/2"),
    ];
    let devpts = cfg.mounts.iter().any(|m| {
        matches!(m, OciMount::Fresh { fs: Fs::Devpts, dst, .. } if dst == Path::new("/dev/pts"))
    });
    if devpts && !cfg.devices.iter().any(|d| d.path == Path::new("/dev/ptmx")) {
        links.push(("/dev/ptmx", "pts/ptmx"));
    }
    for (link, target) in links {
        ops.push(Op::Symlink {
            target: target.into(),
            link: link.into(),
        });
    }
    for (key, value) in &cfg.sysctl {
        ops.push(Op::Sysctl {
            key: key.clone(),
            value: value.clone(),
        });
    }
    for p in &cfg.masked {
        ops.push(Op::Mask(p.clone()));
    }
    for p in &cfg.readonly {
        ops.push(Op::ReadOnlyPath(p.clone()));
    }
    ops.push(Op::PivotRoot);
    ops.push(Op::Verify);
    ops
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Propagation;
    use crate::fsroot::FileId;

    fn root() -> Rootfs {
        Rootfs {
            path: "/r".into(),
            id: FileId::default(),
            propagation: Propagation::Private,
        }
    }

    fn fresh(fs: Fs, dst: &str) -> OciMount {
        OciMount::Fresh {
            fs,
            dst: dst.into(),
            flags: libc::MS_NOSUID,
            data: String::new(),
        }
    }

    fn pos(ops: &[Op], want: &Op) -> usize {
        ops.iter()
            .position(|o| o == want)
            .unwrap_or_else(|| panic!("{want:?} not in {ops:#?}"))
    }

    #[test]
    fn mounts_in_the_given_order_with_mount_points_in_their_parents() {
        let vol = Volume {
            host: "/srv/data".into(),
            container: "/data".into(),
            read_only: true,
            propagation: Propagation::Private,
            dir: true,
            id: FileId::default(),
            recursive: true,
            flags: 0,
        };
        let cfg = OciMounts {
            mounts: vec![
                fresh(Fs::Proc, "/proc"),
                fresh(Fs::Tmpfs, "/dev"),
                fresh(Fs::Devpts, "/dev/pts"),
                OciMount::Bind(vol.clone()),
                OciMount::Cgroup {
                    dst: "/sys/fs/cgroup".into(),
                    read_only: true,
                    dirs: vec![("memory".into(), "/sys/fs/cgroup/memory/x".into())],
                },
            ],
            sysctl: vec![("net.ipv4.ip_forward".into(), "1".into())],
            masked: vec!["/proc/kcore".into()],
            readonly: vec!["/proc/sys".into()],
            ..OciMounts::default()
        };
        let ops = plan(&root(), true, &cfg);
        assert_eq!(ops[0], Op::TakeVolume(vol));
        assert_eq!(ops[1], Op::MakeRootSlave);
        let ro = pos(&ops, &Op::RestrictRoot { read_only: true });
        // Top-level mount points first, while the root may still be written.
        assert!(pos(&ops, &Op::Mkdir("/proc".into())) < ro);
        assert!(pos(&ops, &Op::Mkdir("/data".into())) < ro);
        assert!(pos(&ops, &Op::Mkdir("/sys/fs/cgroup".into())) < ro);
        // /dev/pts is made inside the fresh /dev, after it is mounted.
        let dev = ops
            .iter()
            .position(
                |o| matches!(o, Op::Mount { fs: Fs::Tmpfs, dst, .. } if dst == Path::new("/dev")),
            )
            .unwrap();
        let pts = pos(&ops, &Op::Mkdir("/dev/pts".into()));
        assert!(ro < dev && dev < pts);
        // The cgroup directories under a tmpfs that turns read-only once their mount
        // points are made.
        let cg_ro = pos(&ops, &Op::SealMount("/sys/fs/cgroup".into()));
        assert!(pos(&ops, &Op::Mkdir("/sys/fs/cgroup/memory".into())) < cg_ro);
        assert!(
            cg_ro
                < ops
                    .iter()
                    .position(|o| matches!(o, Op::Bind { dst, .. } if dst == Path::new("/sys/fs/cgroup/memory")))
                    .unwrap()
        );
        // Devices, links, then sysctls before /proc/sys turns read-only, then pivot.
        let null = pos(&ops, &Op::Touch("/dev/null".into()));
        let ptmx = pos(
            &ops,
            &Op::Symlink {
                target: "pts/ptmx".into(),
                link: "/dev/ptmx".into(),
            },
        );
        let sysctl = pos(
            &ops,
            &Op::Sysctl {
                key: "net.ipv4.ip_forward".into(),
                value: "1".into(),
            },
        );
        let mask = pos(&ops, &Op::Mask("/proc/kcore".into()));
        let rop = pos(&ops, &Op::ReadOnlyPath("/proc/sys".into()));
        assert!(pts < null && null < ptmx && ptmx < sysctl && sysctl < mask && mask < rop);
        assert_eq!(&ops[ops.len() - 2..], &[Op::PivotRoot, Op::Verify]);
    }

    #[test]
    fn a_configured_device_replaces_the_default_one_and_ptmx_needs_devpts() {
        let null = DeviceNode {
            path: "/dev/null".into(),
            kind: libc::S_IFCHR,
            major: 1,
            minor: 3,
            mode: 0o666,
            uid: 0,
            gid: 0,
        };
        let cfg = OciMounts {
            mounts: vec![fresh(Fs::Tmpfs, "/dev")],
            devices: vec![null.clone()],
            ..OciMounts::default()
        };
        let ops = plan(&root(), false, &cfg);
        assert!(ops.contains(&Op::Device(null)));
        assert!(!ops.contains(&Op::Touch("/dev/null".into())));
        assert!(ops.contains(&Op::Touch("/dev/zero".into())));
        assert!(!ops
            .iter()
            .any(|o| matches!(o, Op::Symlink { link, .. } if link == Path::new("/dev/ptmx"))));
    }

    #[test]
    fn a_cgroup2_host_binds_the_one_directory() {
        let cfg = OciMounts {
            mounts: vec![OciMount::Cgroup {
                dst: "/sys/fs/cgroup".into(),
                read_only: false,
                dirs: vec![(String::new(), "/sys/fs/cgroup/c1".into())],
            }],
            ..OciMounts::default()
        };
        let ops = plan(&root(), false, &cfg);
        assert!(ops.contains(&Op::Bind {
            src: BindSource::Cgroup {
                path: "/sys/fs/cgroup/c1".into(),
                read_only: false
            },
            dst: "/sys/fs/cgroup".into()
        }));
        assert!(!ops.iter().any(|o| matches!(o, Op::Mount { .. })));
    }
}
