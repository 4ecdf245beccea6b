//! A validated `config.json` as the runtime's configuration: the same [`RunConfig`] that
//! `syscage run` builds from its options, plus what only `create` needs (the cgroup path
//! and resources, namespace files to join, hooks, the profile `exec` compiles again).
//! Nothing here touches the host but reading (the root and bind sources are looked at,
//! the profile is compiled through the cache).

use super::error::OciError;
use super::statedir::{SavedProfile, SavedSeccomp};
use crate::config::Propagation;
use crate::fsroot::FileId;
use crate::hooks::ContainerHooks;
use crate::idmap::{IdRange, Userns};
use crate::mounts::{MountConfig, Rootfs};
use crate::spec::{LoadableFilter, Namespaces, RunConfig};
use serde_json::{Map, Value};
use std::path::{Path, PathBuf};
use syscage_oci::config::{Hook, IdMapping, NamespaceType};
use syscage_oci::Validated;
use syscage_seccomp::cache::Cache;
use syscage_seccomp::filter::{self, NotifyMode, Request};

/// The annotation that replaces the configuration's seccomp profile: `default`,
/// `contained`, or a profile file in a directory the runtime's `--annotation-dir` allows.
/// Never `unconfined` nor a file elsewhere: whoever writes a pod's annotations must not
/// lift the filter or make syscage read any file of the node.
pub const SECCOMP_ANNOTATION: &str = "run.syscage.seccomp";
/// The annotation naming a report of the container's denied calls (`{id}`: its id).
pub const REPORT_ANNOTATION: &str = "run.syscage.report";
/// The annotation naming the profile learned from the container's calls.
pub const LEARN_ANNOTATION: &str = "run.syscage.learn";

/// What syscage's own agent needs when the report or learn annotations ask for one and
/// the profile names no agent of its own (`listenerPath`): the container's policy, to be
/// paired for notification, and where it came from, for the agent to resolve it again.
#[derive(Debug, Clone)]
pub struct OwnAgentPlan {
    pub policy: syscage_policy::Policy,
    pub base: SavedProfile,
    pub caps: syscage_policy::CapSet,
}

/// Everything `create` needs from the configuration.
#[derive(Debug, Clone)]
pub struct Converted {
    pub cfg: RunConfig,
    pub cgroups_path: Option<String>,
    pub resources: Option<syscage_oci::Resources>,
    /// Namespaces joined from a file: CLONE_NEW* type, path, and the field that named it.
    pub joins: Vec<(i32, PathBuf, String)>,
    /// The namespace types `exec` joins (setns flags).
    pub exec_namespaces: i32,
    pub prestart: Vec<Hook>,
    pub create_runtime: Vec<Hook>,
    pub poststart: Vec<Hook>,
    pub poststop: Vec<Hook>,
    pub seccomp: Option<SavedSeccomp>,
    /// The profile's `listenerPath` and `listenerMetadata`.
    pub listener: Option<(String, Option<String>)>,
    /// The report or learn annotations ask for syscage's own agent.
    pub own_agent: Option<OwnAgentPlan>,
    pub annotations: Map<String, Value>,
    pub rootfs: PathBuf,
    /// The `process` object, as `exec` with a command line starts from it.
    pub process: Option<Value>,
    /// What to say about the configuration (capabilities left out, profile warnings),
    /// one line each, for the log.
    pub warnings: Vec<String>,
}

fn flag(t: NamespaceType) -> i32 {
    match t {
        NamespaceType::Pid => libc::CLONE_NEWPID,
        NamespaceType::Network => libc::CLONE_NEWNET,
        NamespaceType::Mount => libc::CLONE_NEWNS,
        NamespaceType::Ipc => libc::CLONE_NEWIPC,
        NamespaceType::Uts => libc::CLONE_NEWUTS,
        NamespaceType::User => libc::CLONE_NEWUSER,
        NamespaceType::Cgroup => libc::CLONE_NEWCGROUP,
        NamespaceType::Time => libc::CLONE_NEWTIME,
    }
}

fn ranges(list: Option<&Vec<IdMapping>>) -> Vec<IdRange> {
    list.into_iter()
        .flatten()
        .map(|m| IdRange {
            inside: m.container_id,
            outside: m.host_id,
            count: m.size,
        })
        .collect()
}

/// The kernel release, for profiles' `minKernel`.
fn kernel() -> Option<syscage_policy::profile::KernelVersion> {
    let u = nix::sys::utsname::uname().ok()?;
    syscage_policy::profile::KernelVersion::parse(&u.release().to_string_lossy())
}

/// Converts `v` (read from `bundle`) for container `id`; `cgroup_dirs` are the
/// container's cgroup directories by hierarchy name, for a `cgroup` mount.
pub fn convert(
    v: &Validated,
    bundle: &Path,
    cgroup_dirs: &[(String, PathBuf)],
    annotation_dirs: &[PathBuf],
) -> Result<Converted, OciError> {
    let spec = v.spec();
    let linux = spec
        .linux
        .as_ref()
        .ok_or_else(|| OciError::Other("missing field `linux`".into()))?;
    let process = v
        .process()
        .ok_or_else(|| OciError::Other("missing field `process`".into()))?;
    let mut warnings = Vec::new();

    let (new, joins, exec_namespaces) = namespaces(linux)?;
    let userns = match linux.namespace(NamespaceType::User) {
        Some(_) => Userns::Ranges {
            uid: ranges(linux.uid_mappings.as_ref()),
            gid: ranges(linux.gid_mappings.as_ref()),
        },
        None => Userns::Host,
    };

    let propagation = match linux.rootfs_propagation.as_deref().unwrap_or("") {
        "" | "private" | "rprivate" => Propagation::Private,
        "slave" | "rslave" => Propagation::Slave,
        other => {
            return Err(OciError::Other(format!(
                "linux.rootfsPropagation: `{other}` is not supported (private or slave)"
            )))
        }
    };
    let (root, id) = root_dir(v.root())?;
    let mut oci = super::mounts::convert(
        spec.mounts.as_deref().unwrap_or(&[]),
        linux.devices.as_deref().unwrap_or(&[]),
        bundle,
        cgroup_dirs,
    )?;
    oci.masked = linux
        .masked_paths
        .iter()
        .flatten()
        .map(PathBuf::from)
        .collect();
    oci.readonly = linux
        .readonly_paths
        .iter()
        .flatten()
        .map(PathBuf::from)
        .collect();
    oci.sysctl = linux
        .sysctl
        .iter()
        .flatten()
        .map(|(k, v)| (k.clone(), v.as_str().unwrap_or_default().to_string()))
        .collect();

    let last_cap = crate::exec::last_cap();
    let bounding = super::process::own_bounding(last_cap);
    let parts = super::process::convert(process, "process", bounding, last_cap)?;
    warnings.extend(left_out_warnings(&parts));
    let mut extras = parts.extras;
    if let Some(p) = &linux.personality {
        extras.personality = Some(if p.domain == "LINUX32" { 0x0008 } else { 0 });
    }
    let caps = extras.cap_sets.map(|c| c.bounding).unwrap_or_default();

    let annotations = spec.annotations.clone().unwrap_or_default();
    let wants_agent = [REPORT_ANNOTATION, LEARN_ANNOTATION]
        .iter()
        .any(|k| annotations.contains_key(*k));
    let (filter, seccomp, listener, policy) = seccomp(
        linux.seccomp.as_ref(),
        annotations.get(SECCOMP_ANNOTATION).and_then(Value::as_str),
        annotation_dirs,
        caps,
        wants_agent,
        &mut warnings,
    )?;
    let own_agent = own_agent(&annotations, listener.is_some(), policy, &seccomp)?;

    let resources = with_devices(linux.resources.clone(), &oci.devices);

    let hooks = spec.hooks.clone().unwrap_or(syscage_oci::config::Hooks {
        prestart: None,
        create_runtime: None,
        create_container: None,
        start_container: None,
        poststart: None,
        poststop: None,
    });
    let list = |l: &Option<Vec<Hook>>| l.clone().unwrap_or_default();
    let container_hooks = container_hooks(&hooks);

    let cfg = RunConfig {
        command: parts.command,
        mounts: MountConfig {
            rootfs: Some(Rootfs {
                path: root.clone(),
                id,
                propagation,
            }),
            read_only: spec.root.as_ref().and_then(|r| r.readonly).unwrap_or(false),
            volumes: vec![],
            tmpfs: vec![],
            devpts_gid: None,
            oci: Some(oci),
        },
        hostname: spec.hostname.clone().filter(|h| !h.is_empty()),
        domainname: spec.domainname.clone().filter(|h| !h.is_empty()),
        env: parts.env,
        workdir: parts.workdir,
        uid: parts.uid,
        gid: parts.gid,
        caps,
        limits: Default::default(),
        userns,
        namespaces: Namespaces {
            new,
            join: joins.iter().map(|(t, p, _)| (*t, p.clone())).collect(),
        },
        process: extras,
        oci: true,
        hooks: container_hooks,
        tty: parts.tty,
        filter,
        init_filter: None,
        // The client decides when the container ends; nothing of syscage waits for it.
        stop_timeout: std::time::Duration::ZERO,
    };
    Ok(Converted {
        cfg,
        cgroups_path: linux.cgroups_path.clone(),
        resources,
        joins,
        exec_namespaces,
        prestart: list(&hooks.prestart),
        create_runtime: list(&hooks.create_runtime),
        poststart: list(&hooks.poststart),
        poststop: list(&hooks.poststop),
        seccomp,
        listener,
        own_agent,
        annotations,
        rootfs: root,
        process: serde_json::to_value(process).ok(),
        warnings,
    })
}

/// The namespaces: the CLONE_NEW* flags of the new ones, those joined from a path (type,
/// path, the field that named it), and every type `exec` joins.
fn namespaces(linux: &syscage_oci::config::Linux) -> Result<Namespaced, OciError> {
    let mut new = 0;
    let mut joins = Vec::new();
    let mut exec_namespaces = 0;
    for (i, ns) in linux.namespaces().iter().enumerate() {
        let Some(t) = ns.ty() else { continue };
        let field = format!("linux.namespaces[{i}]");
        if t == NamespaceType::Time {
            return Err(OciError::Other(format!(
                "{field}.type: syscage does not make time namespaces; leave it out"
            )));
        }
        match ns.join_path() {
            None if t == NamespaceType::User => {}
            None => new |= flag(t),
            Some(_) if t == NamespaceType::User => {
                return Err(OciError::Other(format!(
                    "{field}.path: joining a user namespace is not supported: syscage makes a new one from `linux.uidMappings`"
                )))
            }
            Some(p) => joins.push((flag(t), PathBuf::from(p), format!("{field}.path"))),
        }
        exec_namespaces |= flag(t);
    }
    Ok((new, joins, exec_namespaces))
}

type Namespaced = (i32, Vec<(i32, PathBuf, String)>, i32);

/// `root.path`, links resolved: a directory, and its identity (checked again when it is
/// mounted).
fn root_dir(path: &Path) -> Result<(PathBuf, FileId), OciError> {
    let bad = |p: &Path, e: &std::io::Error| {
        OciError::Other(format!(
            "root.path: `{}`: {}",
            p.display(),
            syscage_policy::errno::io_text(e)
        ))
    };
    let root = std::fs::canonicalize(path).map_err(|e| bad(path, &e))?;
    if !root.is_dir() {
        return Err(OciError::Other(format!(
            "root.path: `{}` is not a directory",
            root.display()
        )));
    }
    let id = FileId::of_path(&root).map_err(|e| bad(&root, &e))?;
    Ok((root, id))
}

/// What to say about the capabilities left out of the configuration's.
fn left_out_warnings(parts: &super::process::ProcessParts) -> Vec<String> {
    let names = |l: &[syscage_policy::Cap]| -> String {
        l.iter()
            .map(|c| c.to_string())
            .collect::<Vec<_>>()
            .join(", ")
    };
    let mut out = Vec::new();
    if !parts.left_out.is_empty() {
        out.push(format!(
            "left out {}, which syscage's own bounding set lacks",
            names(&parts.left_out)
        ));
    }
    if !parts.ambient_left_out.is_empty() {
        out.push(format!(
            "process.capabilities.ambient: left out {}, not in both the inheritable and the permitted sets (the kernel raises no other)",
            names(&parts.ambient_left_out)
        ));
    }
    out
}

/// The resources, with the devices the configuration makes allowed in the device cgroup
/// after its own rules (as runc adds them).
fn with_devices(
    mut resources: Option<syscage_oci::Resources>,
    devices: &[crate::mounts::DeviceNode],
) -> Option<syscage_oci::Resources> {
    if devices.is_empty() {
        return resources;
    }
    let r = resources.get_or_insert_with(Default::default);
    let rules = r.devices.get_or_insert_with(Vec::new);
    for d in devices.iter().filter(|d| d.kind != libc::S_IFIFO) {
        rules.push(syscage_oci::config::DeviceRule {
            allow: true,
            kind: Some(if d.kind == libc::S_IFBLK { "b" } else { "c" }.into()),
            major: Some(d.major as i64),
            minor: Some(d.minor as i64),
            access: Some("rwm".into()),
        });
    }
    resources
}

/// The hooks the container's process runs, and whether it must stop for any hook.
fn container_hooks(hooks: &syscage_oci::config::Hooks) -> ContainerHooks {
    let list = |l: &Option<Vec<Hook>>| l.clone().unwrap_or_default();
    ContainerHooks {
        create_container: list(&hooks.create_container),
        start_container: list(&hooks.start_container),
        sync: [
            &hooks.prestart,
            &hooks.create_runtime,
            &hooks.create_container,
            &hooks.start_container,
        ]
        .iter()
        .any(|l| l.as_ref().is_some_and(|l| !l.is_empty())),
    }
}

/// A profile's `listenerPath` and `listenerMetadata`.
pub type Listener = Option<(String, Option<String>)>;

type Seccomp = (
    Option<LoadableFilter>,
    Option<SavedSeccomp>,
    Listener,
    Option<syscage_policy::Policy>,
);

/// Whether the report or learn annotations need syscage's own agent: they do when the
/// profile has no `listenerPath` (with one, the agent it names reads them). Without a
/// filter there is nothing to notify, and that is said rather than ignored.
fn own_agent(
    annotations: &Map<String, Value>,
    has_listener: bool,
    policy: Option<syscage_policy::Policy>,
    saved: &Option<SavedSeccomp>,
) -> Result<Option<OwnAgentPlan>, OciError> {
    let asked = [REPORT_ANNOTATION, LEARN_ANNOTATION]
        .into_iter()
        .find(|k| annotations.contains_key(*k));
    let Some(key) = asked else {
        return Ok(None);
    };
    if has_listener {
        return Ok(None);
    }
    match (policy, saved) {
        (Some(policy), Some(s)) => Ok(Some(OwnAgentPlan {
            policy,
            base: s.profile.clone(),
            caps: syscage_policy::CapSet::from_bits(s.caps),
        })),
        _ => Err(OciError::Other(format!(
            "annotation `{key}`: the container has no seccomp filter, so no call of it is seen (hint: give it one, e.g. the annotation {SECCOMP_ANNOTATION}=default)"
        ))),
    }
}

/// The filter: the annotation's profile when it names one, else `linux.seccomp` read by
/// syscage's own reader (strict: an unknown name or action is an error naming it), else
/// none, as runc.
fn seccomp(
    given: Option<&Value>,
    annotation: Option<&str>,
    annotation_dirs: &[PathBuf],
    caps: syscage_policy::CapSet,
    want_policy: bool,
    warnings: &mut Vec<String>,
) -> Result<Seccomp, OciError> {
    let (src, saved) = match (annotation, given) {
        (Some(name), _) => {
            let name = annotated_profile(name, annotation_dirs)?;
            let src = syscage_policy::builtin::read_source(&name)
                .map_err(|e| OciError::Other(format!("annotation `{SECCOMP_ANNOTATION}`: {e}")))?;
            let saved = match (src.builtin, &src.text) {
                (Some(b), _) => SavedProfile::Builtin(b.name.to_string()),
                (None, Some(t)) => SavedProfile::File {
                    path: src.name.clone(),
                    text: t.clone(),
                },
                (None, None) => SavedProfile::Builtin("unconfined".into()),
            };
            (src, saved)
        }
        (None, Some(v)) if !v.is_null() => {
            let text = v.to_string();
            (oci_source(&text), SavedProfile::Json(text))
        }
        _ => return Ok((None, None, None, None)),
    };
    let built = build(&src, caps, want_policy).map_err(|e| match annotation {
        Some(_) => OciError::Other(format!("annotation `{SECCOMP_ANNOTATION}`: {e}")),
        None => OciError::Other(e.to_string()),
    })?;
    warnings.extend(built.warnings.iter().cloned());
    let listener = built
        .policy
        .as_ref()
        .and_then(|p| p.listener())
        .map(|l| (l.path.clone(), l.metadata.clone()));
    let filter = built.program.map(|program| LoadableFilter {
        program,
        flags: built.flags,
        listener: built.flags & syscage_seccomp::load::FLAG_NEW_LISTENER != 0,
    });
    let saved = filter.as_ref().map(|f| SavedSeccomp {
        profile: saved,
        caps: caps.bits(),
        listener: f.listener,
    });
    Ok((filter, saved, listener, built.policy))
}

/// The filter of a profile paired with syscage's own agent (`text`, kept at `path` in the
/// state directory), what `exec` compiles again, and its listener.
pub fn paired_filter(
    text: String,
    path: &Path,
    caps: syscage_policy::CapSet,
) -> Result<(LoadableFilter, SavedSeccomp, Listener), OciError> {
    let src = syscage_policy::builtin::Source {
        name: path.display().to_string(),
        builtin: None,
        text: Some(text.clone()),
        bases: Vec::new(),
    };
    let built = build(&src, caps, false)
        .map_err(|e| OciError::Other(format!("cannot compile the paired profile: {e}")))?;
    let listener = built
        .policy
        .as_ref()
        .and_then(|p| p.listener())
        .map(|l| (l.path.clone(), l.metadata.clone()));
    let notifies = built.flags & syscage_seccomp::load::FLAG_NEW_LISTENER != 0;
    let (Some(program), Some(_), true) = (built.program, &listener, notifies) else {
        return Err(OciError::Other(
            "the paired profile notifies nothing or has no listenerPath".into(),
        ));
    };
    let filter = LoadableFilter {
        program,
        flags: built.flags,
        listener: true,
    };
    let saved = SavedSeccomp {
        profile: SavedProfile::File {
            path: path.display().to_string(),
            text,
        },
        caps: caps.bits(),
        listener: true,
    };
    Ok((filter, saved, listener))
}

/// A config.json's `linux.seccomp`, read as the runtime spec's object: given to the reader
/// inside a `linux` object, it is read as a config.json's (the spec's fields only, Docker's
/// refused with their place, `linux.seccomp...`), never as a Docker profile.
fn oci_source(seccomp: &str) -> syscage_policy::builtin::Source {
    syscage_policy::builtin::Source {
        name: "config.json".into(),
        builtin: None,
        text: Some(wrapped(seccomp)),
        bases: Vec::new(),
    }
}

/// A config.json's `linux.seccomp` inside a `linux` object: how syscage's reader takes it
/// as the runtime spec's object (from a file too).
pub fn wrapped(seccomp: &str) -> String {
    format!("{{\"linux\":{{\"seccomp\":{seccomp}}}}}")
}

/// What `run.syscage.seccomp` may name: `default` or `contained`, or an absolute path
/// that, links resolved, is a regular file inside an `--annotation-dir`.
fn annotated_profile(value: &str, dirs: &[PathBuf]) -> Result<String, OciError> {
    let refuse = |why: String| OciError::Other(format!("annotation `{SECCOMP_ANNOTATION}`: {why}"));
    // The value is the pod's: shown escaped, never raw in the runtime's log.
    let shown = value.escape_default().to_string();
    if matches!(value, "default" | "contained") {
        return Ok(value.to_string());
    }
    if !value.starts_with('/') {
        return Err(refuse(format!(
            "`{shown}`: an annotation may name `default`, `contained` or the absolute path of a profile in an --annotation-dir (it never lifts or weakens syscage's filter by name)"
        )));
    }
    if dirs.is_empty() {
        return Err(refuse(format!(
            "`{shown}`: profile files named by annotations are refused unless the runtime is given --annotation-dir DIR (the directories they may be in)"
        )));
    }
    // Each directory as given and with its links resolved.
    let allowed: Vec<PathBuf> = dirs
        .iter()
        .flat_map(|d| [Some(d.clone()), std::fs::canonicalize(d).ok()])
        .flatten()
        .collect();
    let inside = |p: &Path| allowed.iter().any(|d| p.starts_with(d) && p != d);
    let outside = || {
        let list: Vec<String> = dirs.iter().map(|d| d.display().to_string()).collect();
        refuse(format!(
            "`{shown}` is outside the directories --annotation-dir allows ({})",
            list.join(", ")
        ))
    };
    // Decided on the name first, so that nothing outside the directories is looked at (an
    // error would tell the pod whether a file of the node exists); then again with links
    // resolved.
    let lexical: PathBuf = Path::new(value)
        .components()
        .filter(|c| !matches!(c, std::path::Component::CurDir))
        .collect();
    if lexical
        .components()
        .any(|c| matches!(c, std::path::Component::ParentDir))
        || !inside(&lexical)
    {
        return Err(outside());
    }
    let real = std::fs::canonicalize(value)
        .map_err(|e| refuse(format!("`{shown}`: {}", syscage_policy::errno::io_text(&e))))?;
    if !inside(&real) {
        return Err(outside());
    }
    if !std::fs::metadata(&real).is_ok_and(|m| m.is_file()) {
        return Err(refuse(format!("`{shown}` is not a regular file")));
    }
    Ok(real.display().to_string())
}

fn build(
    src: &syscage_policy::builtin::Source,
    caps: syscage_policy::CapSet,
    want_policy: bool,
) -> Result<syscage_seccomp::filter::Built, syscage_seccomp::filter::FilterError> {
    let req = Request {
        profile: src.name.clone(),
        read: Default::default(),
        caps,
        kernel: kernel(),
        extra_arches: vec![],
        tweaks: vec![],
        notify: NotifyMode::Plain,
        bases: vec![],
    };
    let cache = Cache::open_default();
    let owned = syscage_policy::builtin::Source {
        name: src.name.clone(),
        builtin: src.builtin,
        text: src.text.clone(),
        bases: Vec::new(),
    };
    let unconfined = src.builtin.is_some_and(|b| b.name == "unconfined");
    filter::build_source(
        &req,
        (!unconfined).then_some(owned),
        cache.as_ref(),
        want_policy,
    )
}

/// The filter `exec` loads for its process: the container's profile compiled again (a
/// cache hit, normally), and its `listenerPath` and metadata.
pub fn exec_filter(saved: &SavedSeccomp) -> Result<(Option<LoadableFilter>, Listener), OciError> {
    let src = match &saved.profile {
        SavedProfile::Builtin(name) => syscage_policy::builtin::read_source(name)
            .map_err(|e| OciError::Other(e.to_string()))?,
        SavedProfile::Json(text) => oci_source(text),
        SavedProfile::File { path, text } => syscage_policy::builtin::Source {
            name: path.clone(),
            builtin: None,
            text: Some(text.clone()),
            bases: Vec::new(),
        },
    };
    let built = build(&src, syscage_policy::CapSet::from_bits(saved.caps), false)
        .map_err(|e| OciError::Other(e.to_string()))?;
    let listener = built
        .policy
        .as_ref()
        .and_then(|p| p.listener())
        .map(|l| (l.path.clone(), l.metadata.clone()));
    let filter = built.program.map(|program| LoadableFilter {
        program,
        flags: built.flags,
        listener: built.flags & syscage_seccomp::load::FLAG_NEW_LISTENER != 0,
    });
    Ok((filter, listener))
}
