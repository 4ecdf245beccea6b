//! An OCI `process` object (of `config.json`, or the file `exec --process` takes), as the
//! runtime's configuration of the command: arguments, environment, working directory,
//! user and groups, the five capability sets, limits, no_new_privs, OOM score and umask.
//! The object was validated (`syscage_oci::validate`); what is checked here is what only
//! this host can say: capabilities this kernel or syscage's own bounding set lacks.

use super::error::OciError;
use crate::spec::{CapSets, ProcessExtras, Rlimit};
use nix::sys::resource::Resource;
use std::path::PathBuf;
use syscage_oci::Process;
use syscage_policy::caps::{Cap, CapSet};

/// What a process object sets.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProcessParts {
    pub command: Vec<String>,
    pub env: Vec<(String, String)>,
    pub workdir: PathBuf,
    pub uid: u32,
    pub gid: u32,
    pub tty: bool,
    pub extras: ProcessExtras,
    /// Capabilities asked for that syscage's own bounding set lacks, left out (a line on
    /// stderr says so, as `syscage run --cap-add ALL` does).
    pub left_out: Vec<Cap>,
    /// Ambient capabilities outside the inheritable or the permitted set: the kernel
    /// refuses to raise those (PR_CAP_AMBIENT_RAISE), so they are left out, as runc leaves
    /// them (runc's own `spec` asks for ambient capabilities without inheritable ones).
    pub ambient_left_out: Vec<Cap>,
}

/// The resource limit of a spec name (`RLIMIT_NOFILE`).
pub fn resource(name: &str) -> Option<Resource> {
    Some(match name {
        "RLIMIT_AS" => Resource::RLIMIT_AS,
        "RLIMIT_CORE" => Resource::RLIMIT_CORE,
        "RLIMIT_CPU" => Resource::RLIMIT_CPU,
        "RLIMIT_DATA" => Resource::RLIMIT_DATA,
        "RLIMIT_FSIZE" => Resource::RLIMIT_FSIZE,
        "RLIMIT_LOCKS" => Resource::RLIMIT_LOCKS,
        "RLIMIT_MEMLOCK" => Resource::RLIMIT_MEMLOCK,
        "RLIMIT_MSGQUEUE" => Resource::RLIMIT_MSGQUEUE,
        "RLIMIT_NICE" => Resource::RLIMIT_NICE,
        "RLIMIT_NOFILE" => Resource::RLIMIT_NOFILE,
        "RLIMIT_NPROC" => Resource::RLIMIT_NPROC,
        "RLIMIT_RSS" => Resource::RLIMIT_RSS,
        "RLIMIT_RTPRIO" => Resource::RLIMIT_RTPRIO,
        "RLIMIT_RTTIME" => Resource::RLIMIT_RTTIME,
        "RLIMIT_SIGPENDING" => Resource::RLIMIT_SIGPENDING,
        "RLIMIT_STACK" => Resource::RLIMIT_STACK,
        _ => return None,
    })
}

/// Converts a validated process object. `prefix` names it in messages (`process`, or
/// empty for an exec process file); `bounding` is syscage's own bounding set and
/// `last_cap` the kernel's last capability.
pub fn convert(
    p: &Process,
    prefix: &str,
    bounding: CapSet,
    last_cap: u8,
) -> Result<ProcessParts, OciError> {
    let at = |f: &str| {
        if prefix.is_empty() {
            f.to_string()
        } else {
            format!("{prefix}.{f}")
        }
    };
    let env = p
        .env()
        .iter()
        .filter_map(|e| e.split_once('='))
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    let mut sets = CapSets::default();
    let mut left_out = Vec::new();
    if let Some(c) = &p.capabilities {
        for (name, list) in c.sets() {
            let mut set = CapSet::empty();
            for (i, n) in list.iter().enumerate() {
                let Some(cap) = Cap::parse(n) else {
                    return Err(OciError::Other(format!(
                        "{}.{name}[{i}]: unknown capability `{n}`",
                        at("capabilities")
                    )));
                };
                if cap.number() > last_cap {
                    return Err(OciError::Other(format!(
                        "{}.{name}[{i}]: the running kernel does not have `{n}` (its last capability is {last_cap})",
                        at("capabilities")
                    )));
                }
                if !bounding.contains(cap) {
                    if !left_out.contains(&cap) {
                        left_out.push(cap);
                    }
                    continue;
                }
                set.insert(cap);
            }
            match name {
                "bounding" => sets.bounding = set,
                "effective" => sets.effective = set,
                "inheritable" => sets.inheritable = set,
                "permitted" => sets.permitted = set,
                _ => sets.ambient = set,
            }
        }
    }
    let ambient_left_out: Vec<Cap> = sets
        .ambient
        .iter()
        .filter(|c| !sets.inheritable.contains(*c) || !sets.permitted.contains(*c))
        .collect();
    for c in &ambient_left_out {
        sets.ambient.remove(*c);
    }
    let mut rlimits = Vec::new();
    for (i, r) in p.rlimits.iter().flatten().enumerate() {
        let resource = resource(&r.kind).ok_or_else(|| {
            OciError::Other(format!(
                "{}[{i}].type: unknown resource limit `{}`",
                at("rlimits"),
                r.kind
            ))
        })?;
        rlimits.push(Rlimit {
            resource,
            soft: r.soft,
            hard: r.hard,
        });
    }
    Ok(ProcessParts {
        command: p.args().to_vec(),
        env,
        workdir: PathBuf::from(&p.cwd),
        uid: p.user.uid,
        gid: p.user.gid,
        tty: p.terminal(),
        extras: ProcessExtras {
            cap_sets: Some(sets),
            additional_gids: p.user.additional_gids.clone().unwrap_or_default(),
            umask: p.user.umask,
            rlimits,
            oom_score_adj: p.oom_score_adj.map(|a| a as i32),
            personality: None,
            new_privs: !p.no_new_privileges(),
        },
        left_out,
        ambient_left_out,
    })
}

/// syscage's own bounding set, from `/proc/self/status`.
pub fn own_bounding(last_cap: u8) -> CapSet {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| crate::config::bounding_from_status(&s))
        .unwrap_or(CapSet::all_up_to(last_cap))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn process(json: &str) -> Process {
        syscage_oci::read::process(json).unwrap()
    }

    /// runc's `spec` asks for ambient capabilities with no inheritable set: the kernel
    /// refuses to raise them, runc goes on without them, and so does syscage (saying so).
    #[test]
    fn ambient_capabilities_the_kernel_cannot_raise_are_left_out() {
        let p = process(
            r#"{"user":{"uid":0,"gid":0},"args":["sh"],"cwd":"/",
                "capabilities":{"bounding":["CAP_KILL","CAP_CHOWN"],
                  "effective":["CAP_KILL","CAP_CHOWN"],"inheritable":["CAP_CHOWN"],
                  "permitted":["CAP_KILL","CAP_CHOWN"],"ambient":["CAP_KILL","CAP_CHOWN"]}}"#,
        );
        let parts = convert(&p, "process", CapSet::all_up_to(40), 40).unwrap();
        let sets = parts.extras.cap_sets.unwrap();
        assert_eq!(
            sets.ambient.iter().collect::<Vec<_>>(),
            vec![Cap::parse("CHOWN").unwrap()]
        );
        assert_eq!(parts.ambient_left_out, vec![Cap::parse("KILL").unwrap()]);
    }

    #[test]
    fn podmans_exec_process_with_ambient_caps_and_limits() {
        let p = process(
            r#"{"user":{"uid":1000,"gid":1000,"umask":18,"additionalGids":[1000,5]},
                "args":["sh","-c","id"],"env":["PATH=/bin","A=b=c"],"cwd":"/tmp",
                "capabilities":{"bounding":["CAP_SYS_PTRACE","CAP_SYS_RESOURCE"],
                  "effective":["CAP_SYS_PTRACE"],"inheritable":["CAP_SYS_PTRACE"],
                  "permitted":["CAP_SYS_PTRACE"],"ambient":["CAP_SYS_PTRACE"]},
                "rlimits":[{"type":"RLIMIT_NOFILE","hard":1024,"soft":512}],
                "noNewPrivileges":true,"oomScoreAdj":100,"terminal":true}"#,
        );
        // This machine's root lacks CAP_SYS_RESOURCE (24).
        let bounding = CapSet::from_bits(0x1ff_feff_ffff);
        let parts = convert(&p, "", bounding, 40).unwrap();
        let ptrace = Cap::parse("SYS_PTRACE").unwrap();
        let sets = parts.extras.cap_sets.unwrap();
        assert_eq!(sets.bounding.iter().collect::<Vec<_>>(), vec![ptrace]);
        assert_eq!(sets.ambient.iter().collect::<Vec<_>>(), vec![ptrace]);
        assert_eq!(parts.left_out, vec![Cap::parse("SYS_RESOURCE").unwrap()]);
        assert_eq!(
            parts.env,
            vec![
                ("PATH".to_string(), "/bin".to_string()),
                ("A".to_string(), "b=c".to_string())
            ]
        );
        assert_eq!((parts.uid, parts.gid, parts.tty), (1000, 1000, true));
        assert_eq!(parts.extras.additional_gids, vec![1000, 5]);
        assert_eq!(parts.extras.umask, Some(0o22));
        assert_eq!(parts.extras.oom_score_adj, Some(100));
        assert!(!parts.extras.new_privs);
        assert_eq!(
            parts.extras.rlimits,
            vec![Rlimit {
                resource: Resource::RLIMIT_NOFILE,
                soft: 512,
                hard: 1024
            }]
        );
        assert_eq!(
            convert(&p, "process", bounding, 18).unwrap_err().to_string(),
            "process.capabilities.bounding[0]: the running kernel does not have `CAP_SYS_PTRACE` (its last capability is 18)"
        );
    }

    #[test]
    fn no_capabilities_object_means_none() {
        let p = process(r#"{"user":{"uid":0,"gid":0},"args":["true"],"cwd":"/"}"#);
        let parts = convert(&p, "process", CapSet::all_up_to(40), 40).unwrap();
        assert_eq!(parts.extras.cap_sets, Some(CapSets::default()));
        assert!(parts.extras.new_privs);
    }
}
