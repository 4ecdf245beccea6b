//! `features`, `spec` and `list`: what the runtime supports, a default bundle
//! configuration, and the containers under `--root`.

use std::path::Path;
use syscage_oci::config::NamespaceType;
use syscage_oci::features::{CgroupSupport, SeccompSupport};
use syscage_oci::{Features, Supported};
use syscage_policy::{Arch, Cap};

/// What syscage supports, from the code that does it: the mount options the runtime
/// takes, the namespaces it makes (no time namespace), the capabilities this kernel
/// has, cgroup v1 and v2 without systemd, and the seccomp names the policy reader knows.
pub fn supported() -> Supported {
    let last = syscage_runtime::exec::last_cap();
    let names = syscage_policy::profile::known_names();
    // WAIT_KILLABLE_RECV came in 5.19, SPEC_ALLOW in 4.17, LOG in 4.14.
    let kernel = nix::sys::utsname::uname()
        .ok()
        .and_then(|u| {
            let r = u.release().to_string_lossy().into_owned();
            let mut it = r
                .split(|c: char| !c.is_ascii_digit())
                .filter_map(|p| p.parse::<u32>().ok());
            Some((it.next()?, it.next()?))
        })
        .unwrap_or((0, 0));
    let mut supported_flags = vec!["SECCOMP_FILTER_FLAG_TSYNC".to_string()];
    for (f, since) in [
        ("SECCOMP_FILTER_FLAG_LOG", (4, 14)),
        ("SECCOMP_FILTER_FLAG_SPEC_ALLOW", (4, 17)),
        ("SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV", (5, 19)),
    ] {
        if kernel >= since {
            supported_flags.push(f.to_string());
        }
    }
    Supported {
        hooks: true,
        mount_options: syscage_runtime::lifecycle::mounts::option_names(),
        namespaces: NamespaceType::ALL
            .into_iter()
            .filter(|n| *n != NamespaceType::Time)
            .collect(),
        capabilities: (0..=last)
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
            supported_flags,
        }),
        idmap_mounts: false,
        annotations: vec![
            (
                "io.github.seccomp.libseccomp.version".into(),
                syscage_seccomp::compile::libseccomp_version(),
            ),
            (
                "run.syscage.seccomp".into(),
                "default|contained|FILE (in an --annotation-dir): replaces linux.seccomp".into(),
            ),
            (
                "run.syscage.report".into(),
                "FILE holding {id}, in an --annotation-dir: the report of denied calls".into(),
            ),
            (
                "run.syscage.learn".into(),
                "FILE holding {id}, in an --annotation-dir: the profile learned from the calls"
                    .into(),
            ),
        ],
    }
}

pub fn features() -> String {
    Features::new(&supported()).to_json()
}

/// `spec`: writes `config.json` into `bundle` (or the current directory), never over
/// one that is there.
pub fn spec(bundle: Option<&Path>, rootless: bool) -> Result<(), String> {
    if rootless {
        return Err("spec --rootless: syscage does not run rootless OCI containers".into());
    }
    let dir = bundle.unwrap_or(Path::new("."));
    let path = dir.join("config.json");
    let f = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(&path);
    match f {
        Ok(mut f) => std::io::Write::write_all(&mut f, syscage_oci::default_spec::TEXT.as_bytes())
            .map_err(|e| {
                format!(
                    "cannot write `{}`: {}",
                    path.display(),
                    syscage_policy::errno::io_text(&e)
                )
            }),
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
            Err(format!("File {} exists. Remove it first", path.display()))
        }
        Err(e) => Err(format!(
            "cannot write `{}`: {}",
            path.display(),
            syscage_policy::errno::io_text(&e)
        )),
    }
}
