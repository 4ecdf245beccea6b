//! Each OCI command: its options to the library's call, its result to output.

use super::log::Log;
use super::{OciCli, OciCommand};
use std::os::fd::RawFd;
use syscage_oci::ContainerId;
use syscage_runtime::lifecycle::create::{self, CreateOptions};
use syscage_runtime::lifecycle::exec::{self, ExecArgs, ExecOptions};
use syscage_runtime::lifecycle::ops;
use syscage_runtime::lifecycle::statedir::Root;
use syscage_runtime::lifecycle::OciError;

fn id(s: &str) -> Result<ContainerId, String> {
    ContainerId::new(s).map_err(|e| match e {
        syscage_oci::state::IdError::Empty => "container id cannot be empty".to_string(),
        other => OciError::BadId(other.to_string()).to_string(),
    })
}

/// The fds from 3 to 2+`n` that are open now: those the container gets.
pub fn preserved(n: u32) -> Vec<RawFd> {
    (3..3 + n as RawFd)
        .filter(|fd| syscage_runtime::sys::fd_is_open(*fd))
        .collect()
}

pub fn dispatch(cli: OciCli, log: &Log) -> Result<i32, String> {
    let root = Root::new(&cli.root);
    let e = |x: OciError| x.to_string();
    match cli.command {
        OciCommand::Create(a) => {
            let o = CreateOptions {
                root,
                id: id(&a.id)?,
                bundle: a.bundle,
                pid_file: a.pid_file,
                console_socket: a.console_socket,
                preserve: preserved(a.preserve_fds),
                preserve_count: a.preserve_fds,
                systemd_cgroup: cli.systemd_cgroup,
                annotation_dirs: cli.annotation_dir.clone(),
            };
            let own = super::own::Own { log: log.clone() };
            let created = create::create(&o, &agent, &own).map_err(e)?;
            for w in &created.warnings {
                log.warning(w);
            }
            Ok(0)
        }
        OciCommand::Start { id: i } => {
            for w in ops::start(&root, &id(&i)?).map_err(e)? {
                log.warning(&w);
                eprintln!("syscage: warning: {w}");
            }
            Ok(0)
        }
        OciCommand::State { id: i } => {
            let c = ops::Container::open(&root, &id(&i)?).map_err(e)?;
            outln!("{}", c.state_json());
            Ok(0)
        }
        OciCommand::Kill { id: i, signal, all } => {
            let sig = ops::parse_signal(signal.as_deref().unwrap_or("SIGTERM")).map_err(e)?;
            ops::kill(&root, &id(&i)?, sig, all).map_err(e)?;
            Ok(0)
        }
        OciCommand::Delete { force, id: i } => {
            for w in ops::delete(&root, &id(&i)?, force).map_err(e)? {
                log.warning(&w);
                eprintln!("syscage: warning: {w}");
            }
            Ok(0)
        }
        OciCommand::Pause { id: i } => ops::pause(&root, &id(&i)?, true).map(|()| 0).map_err(e),
        OciCommand::Resume { id: i } => ops::pause(&root, &id(&i)?, false).map(|()| 0).map_err(e),
        OciCommand::Ps { format, id: i, .. } => ps(&root, &id(&i)?, &format),
        OciCommand::Update(a) => update(&root, &a),
        OciCommand::Exec(a) => exec_command(root, *a),
        OciCommand::Run(a) => super::run::run(
            root,
            *a,
            cli.systemd_cgroup,
            cli.annotation_dir.clone(),
            log,
        ),
        OciCommand::Features => {
            outln!("{}", super::info::features());
            Ok(0)
        }
        OciCommand::Spec { bundle, rootless } => {
            super::info::spec(bundle.as_deref(), rootless).map(|()| 0)
        }
        OciCommand::List { format, quiet } => list(&root, &format, quiet, log),
    }
}

/// `ps`: the container's processes, as a table or JSON.
fn ps(root: &Root, cid: &ContainerId, format: &str) -> Result<i32, String> {
    let e = |x: OciError| x.to_string();
    let pids = ops::ps(root, cid).map_err(e)?;
    match format {
        "json" => outln!("{}", serde_json::to_string(&pids).unwrap_or_default()),
        "table" => {
            outln!("PID   CMD");
            for p in pids {
                let cmd = std::fs::read(format!("/proc/{p}/cmdline"))
                    .map(|c| String::from_utf8_lossy(&c).replace('\0', " "))
                    .unwrap_or_default();
                outln!("{p:<5} {}", cmd.trim_end().escape_debug());
            }
        }
        other => return Err(format!("--format `{other}`: expected table or json")),
    }
    Ok(0)
}

/// `update`: the resources from a file, standard input or runc's flags.
fn update(root: &Root, a: &super::UpdateArgs) -> Result<i32, String> {
    let e = |x: OciError| x.to_string();
    let text = match a.resources.as_deref() {
        Some("-") => {
            let mut t = String::new();
            std::io::Read::read_to_string(&mut std::io::stdin(), &mut t)
                .map_err(|x| format!("--resources -: cannot read standard input: {x}"))?;
            t
        }
        Some(f) => std::fs::read_to_string(f)
            .map_err(|x| format!("--resources `{f}`: {}", syscage_policy::errno::io_text(&x)))?,
        None => update_flags(a),
    };
    ops::update(root, &id(&a.id)?, &text).map_err(e)?;
    Ok(0)
}

/// `exec`.
fn exec_command(root: Root, a: super::ExecArgs) -> Result<i32, String> {
    let o = ExecOptions {
        root,
        id: id(&a.id)?,
        process: a.process,
        args: ExecArgs {
            args: a.command,
            cwd: a.cwd,
            env: a.env,
            user: a.user,
            additional_gids: a.additional_gids,
            caps: a.cap,
            no_new_privs: a.no_new_privs,
        },
        tty: a.tty,
        console_socket: a.console_socket,
        pid_file: a.pid_file,
        detach: a.detach,
        preserve: preserved(a.preserve_fds),
    };
    exec::exec(&o, &agent).map_err(|x| x.to_string())
}

/// `list`: the containers under the root, as a table, JSON or ids alone.
fn list(root: &Root, format: &str, quiet: bool, log: &Log) -> Result<i32, String> {
    let mut states = Vec::new();
    for i in root.list() {
        let Ok(cid) = ContainerId::new(&i) else {
            continue;
        };
        match ops::Container::open(root, &cid) {
            Ok(c) => states.push(c.state_json()),
            Err(OciError::NotFound { .. }) => {}
            Err(x) => log.warning(&x.to_string()),
        }
    }
    let parsed: Vec<serde_json::Value> = states
        .iter()
        .filter_map(|s| serde_json::from_str(s).ok())
        .collect();
    if quiet {
        for v in &parsed {
            outln!("{}", v["id"].as_str().unwrap_or(""));
        }
    } else if format == "json" {
        outln!("{}", serde_json::Value::Array(parsed));
    } else {
        outln!("ID                PID         STATUS      BUNDLE         CREATED");
        for v in &parsed {
            outln!(
                "{:<17} {:<11} {:<11} {:<14} {}",
                v["id"].as_str().unwrap_or(""),
                v["pid"],
                v["status"].as_str().unwrap_or(""),
                v["bundle"].as_str().unwrap_or(""),
                v["created"].as_str().unwrap_or("")
            );
        }
    }
    Ok(0)
}

/// runc's `update` flags as a resources document.
fn update_flags(a: &super::UpdateArgs) -> String {
    let mut r = serde_json::Map::new();
    let mut mem = serde_json::Map::new();
    if let Some(m) = a.memory {
        mem.insert("limit".into(), m.into());
    }
    if let Some(s) = a.memory_swap {
        mem.insert("swap".into(), s.into());
    }
    if !mem.is_empty() {
        r.insert("memory".into(), mem.into());
    }
    let mut cpu = serde_json::Map::new();
    if let Some(s) = a.cpu_shares {
        cpu.insert("shares".into(), s.into());
    }
    if let Some(q) = a.cpu_quota {
        cpu.insert("quota".into(), q.into());
    }
    if let Some(p) = a.cpu_period {
        cpu.insert("period".into(), p.into());
    }
    if !cpu.is_empty() {
        r.insert("cpu".into(), cpu.into());
    }
    if let Some(p) = a.pids_limit {
        r.insert("pids".into(), serde_json::json!({ "limit": p }));
    }
    serde_json::Value::Object(r).to_string()
}

/// The supervisor `create` hands a profile's notification fd to: the OCI seccomp agent
/// its `listenerPath` names.
pub fn agent(i: create::AgentInfo) -> Box<dyn syscage_runtime::Supervisor> {
    Box::new(syscage_supervise::oci::Agent {
        path: i.path,
        metadata: i.metadata,
        container_id: i.id,
        bundle: i.bundle,
        annotations: i.annotations,
    })
}
