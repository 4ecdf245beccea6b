//! `syscage run`.

use super::CliError;
use clap::Args;
use std::path::PathBuf;
use syscage_policy::arch::Arch;
use syscage_policy::profile::{KernelVersion, ReadOptions};
use syscage_policy::tweak::Tweak;
use syscage_runtime::cgroup::Limits;
use syscage_runtime::config::{self as rc};
use syscage_runtime::idmap::{self, Userns};
use syscage_runtime::mounts::MountConfig;
use syscage_runtime::spec::{self, LoadableFilter, RunConfig};
use syscage_runtime::{NoSupervisor, Supervisor};
use syscage_seccomp::cache::Cache;
use syscage_seccomp::filter::{self, Built, NotifyMode, Request};
use syscage_supervise::oci::Agent;
use syscage_supervise::report::Reporter;

#[derive(Args)]
#[command(
    after_help = "Exit status: the command's; 128+N when signal N killed it; 125 when syscage failed; 126 when the command cannot be executed; 127 when it is not found."
)]
pub struct RunArgs {
    /// Directory to use as the container's root file system (pivot_root); without it,
    /// the host's / read-only with a fresh /tmp and /run, in a user namespace.
    #[arg(long, value_name = "DIR")]
    rootfs: Option<PathBuf>,
    /// Make the root file system read-only (with tmpfs on /tmp and /run).
    #[arg(long)]
    read_only: bool,
    /// Bind mount a host path: HOST:CONTAINER[:ro|:rw].
    #[arg(short = 'v', long = "volume", value_name = "HOST:CONTAINER[:ro]")]
    volumes: Vec<String>,
    /// Mount a fresh tmpfs at this container path, with Docker's options (size=, mode=,
    /// nr_inodes=, uid=, gid=, exec, noexec, suid, nosuid, ro); 256 MiB unless size= says.
    #[arg(long, value_name = "PATH[:OPTIONS]")]
    tmpfs: Vec<String>,
    /// Container hostname (default: 12 random hex digits).
    #[arg(long)]
    hostname: Option<String>,
    /// Set an environment variable (KEY=VALUE), or copy it from syscage's (KEY).
    #[arg(short = 'e', long = "env", value_name = "KEY[=VALUE]")]
    env: Vec<String>,
    /// Working directory inside the container.
    #[arg(short = 'w', long, value_name = "DIR", default_value = "/")]
    workdir: String,
    /// Run the command as this user: a name or number of the root file system, and
    /// optionally a group; without one, the user's primary group from /etc/passwd, else 0.
    #[arg(short = 'u', long, value_name = "USER[:GROUP]")]
    user: Option<String>,
    /// User namespace: `private` (the default without --rootfs; `--userns` alone) maps
    /// container root to an unprivileged range of host ids; `host` (the default with
    /// --rootfs) keeps the host's ids. Without root, syscage always uses one.
    #[arg(
        long,
        value_name = "MODE",
        num_args = 0..=1,
        require_equals = true,
        default_missing_value = "private"
    )]
    userns: Option<String>,
    /// Add a capability (any the kernel knows, with or without CAP_, or ALL).
    #[arg(long = "cap-add", value_name = "CAP")]
    cap_add: Vec<String>,
    /// Drop a capability (or ALL).
    #[arg(long = "cap-drop", value_name = "CAP")]
    cap_drop: Vec<String>,
    /// Memory limit (k, m, g suffixes).
    #[arg(short = 'm', long, value_name = "SIZE", allow_hyphen_values = true)]
    memory: Option<String>,
    /// Maximum number of processes and threads.
    #[arg(long = "pids-limit", value_name = "N", allow_hyphen_values = true)]
    pids_limit: Option<String>,
    /// CPU limit in CPUs (e.g. 0.5).
    #[arg(long, value_name = "CPUS", allow_hyphen_values = true)]
    cpus: Option<String>,
    /// Give the container its own pseudo-terminal.
    #[arg(short = 't', long)]
    tty: bool,
    /// Seccomp profile: a built-in (default, contained, unconfined; see `syscage profile
    /// list`), a Docker/OCI JSON file, or a Security Profiles Operator SeccompProfile
    /// (YAML or JSON).
    #[arg(long, value_name = "NAME|FILE", default_value = "default")]
    seccomp: String,
    /// The file of a SeccompProfile's baseProfileName: FILE, a SeccompProfile found by its
    /// metadata.name, or REF=FILE for the reference REF (an `oci://` artifact pulled into
    /// FILE). Repeat for a base's own base.
    #[arg(long = "seccomp-base", value_name = "[REF=]FILE")]
    seccomp_base: Vec<String>,
    /// Admit another ABI besides x86_64 (x86, x32).
    #[arg(long = "seccomp-arch", value_name = "ARCH")]
    seccomp_arch: Vec<String>,
    /// Allow a system call or @group on top of the profile.
    #[arg(long = "seccomp-allow", value_name = "SYSCALL|@GROUP")]
    seccomp_allow: Vec<String>,
    /// Deny a system call or @group on top of the profile (EPERM, or the errno given).
    #[arg(long = "seccomp-deny", value_name = "SYSCALL|@GROUP[:ERRNO]")]
    seccomp_deny: Vec<String>,
    /// Skip unknown system call names in the profile instead of refusing it (runc's way).
    #[arg(long = "seccomp-ignore-unknown")]
    seccomp_ignore_unknown: bool,
    /// Accept ERRNO(0) in profiles and --seccomp-deny (denied calls then look successful).
    #[arg(long = "seccomp-allow-errno-zero")]
    seccomp_allow_errno_zero: bool,
    /// Record every call the filter denies; print a summary at exit, and write JSON
    /// lines to FILE when given (--report=FILE).
    #[arg(long, value_name = "FILE", num_args = 0..=1, require_equals = true)]
    report: Option<Option<PathBuf>>,
    /// Seconds the container has to end after a forwarded SIGTERM or SIGINT before it is
    /// killed (exit status 137), as `docker stop`.
    #[arg(
        long = "stop-timeout",
        value_name = "SECONDS",
        default_value = "10",
        allow_hyphen_values = true
    )]
    stop_timeout: String,
    /// Print each set-up step and the container's host pid on stderr.
    #[arg(long)]
    pub verbose: bool,
    /// The command and its arguments.
    #[arg(required = true, trailing_var_arg = true, value_name = "COMMAND")]
    command: Vec<String>,
}

impl RunArgs {
    /// Whether `--report` was given.
    pub fn reporting(&self) -> bool {
        self.report.is_some()
    }

    /// The command as given, for what is written about the run.
    pub fn command_line(&self) -> String {
        self.command.join(" ")
    }
}

pub fn run(a: RunArgs) -> Result<i32, CliError> {
    let notify = if a.report.is_some() {
        require_user_notification("--report")?;
        NotifyMode::Report
    } else {
        NotifyMode::Plain
    };
    let (cfg, built) = config(&a, notify)?;
    if built.program.is_none() {
        eprintln!("syscage: warning: no seccomp filter (--seccomp unconfined): the container can make any system call its capabilities allow");
    }
    if let Some(p) = &built.policy {
        let i386 = p.arches().contains(&Arch::X86);
        let by_family = p
            .rules()
            .iter()
            .any(|r| matches!(r.name(), "socket" | "socketpair") && !r.is_unconditional());
        if i386 && by_family {
            eprintln!("syscage: warning: --seccomp-arch x86: 32-bit programs make socket calls through socketcall(2), whose arguments seccomp cannot read; the profile's socket family rules do not bind them");
        }
    }
    let policy = built.policy.clone();
    let listener = policy.as_ref().and_then(|p| p.listener().cloned());
    let mut sup: Box<dyn Supervisor> = match (&a.report, policy, listener) {
        (Some(file), Some(p), _) => {
            Box::new(Reporter::new(p, file.as_deref()).map_err(CliError::setup)?)
        }
        (None, Some(_), Some(l)) => Box::new(Agent {
            path: l.path,
            metadata: l.metadata,
            container_id: cfg.hostname.clone().unwrap_or_default(),
            bundle: cfg
                .mounts
                .rootfs
                .as_ref()
                .map_or(std::path::Path::new("/"), |r| r.path.as_path())
                .display()
                .to_string(),
            annotations: Default::default(),
        }),
        _ => Box::new(NoSupervisor),
    };
    syscage_runtime::run(&cfg, sup.as_mut()).map_err(|e| CliError::new(&e, e.exit_code()))
}

/// The root file system's `/etc/passwd` and `/etc/group` (empty when missing), for
/// `--user` and HOME: read inside the root (links resolved there, never out), without
/// blocking, only if each is a regular file of a sane size, else ignored with a warning.
fn account_files(rootfs: Option<&std::path::Path>) -> Result<(String, String), CliError> {
    use syscage_runtime::fsroot::{self, ReadError};
    let dir = rootfs.unwrap_or(std::path::Path::new("/"));
    let root = std::fs::File::open(dir).map_err(|err| {
        CliError::setup(format!(
            "cannot open the root file system `{}`: {}",
            dir.display(),
            syscage_policy::errno::io_text(&err)
        ))
    })?;
    let read = |path: &str| match fsroot::read_small(
        std::os::fd::AsFd::as_fd(&root),
        std::path::Path::new(path),
    ) {
        Ok(t) => String::from_utf8_lossy(&t).into_owned(),
        Err(ReadError::NotRegular) => {
            eprintln!(
                "syscage: warning: `{path}` of the root file system is not a regular file; ignored"
            );
            String::new()
        }
        Err(ReadError::TooLarge) => {
            eprintln!(
                "syscage: warning: `{path}` of the root file system is larger than {} bytes; ignored",
                fsroot::READ_CAP
            );
            String::new()
        }
        Err(ReadError::Sys(_)) => String::new(),
    };
    Ok((read("/etc/passwd"), read("/etc/group")))
}

/// Refuses a feature that needs SECCOMP_RET_USER_NOTIF on a kernel without it (before 5.0,
/// or with it disabled), naming the feature; `run` without it still works.
pub fn require_user_notification(what: &str) -> Result<(), CliError> {
    let avail =
        std::fs::read_to_string("/proc/sys/kernel/seccomp/actions_avail").unwrap_or_default();
    if user_notif_available(&avail) {
        Ok(())
    } else {
        Err(CliError::setup(format!("{what} needs the kernel's seccomp user notification (SECCOMP_RET_USER_NOTIF, Linux 5.0), which this kernel does not offer (/proc/sys/kernel/seccomp/actions_avail: `{}`)", avail.trim())))
    }
}

pub fn user_notif_available(actions_avail: &str) -> bool {
    actions_avail.split_whitespace().any(|a| a == "user_notif")
}

/// The kernel release, for `minKernel`.
pub fn kernel_version() -> Option<KernelVersion> {
    let u = nix::sys::utsname::uname().ok()?;
    KernelVersion::parse(&u.release().to_string_lossy())
}

/// A failure of the run's configuration (exit 125).
fn e(x: impl std::fmt::Display) -> CliError {
    CliError::setup(x)
}

pub(super) fn config(a: &RunArgs, notify: NotifyMode) -> Result<(RunConfig, Built), CliError> {
    let rootfs = a
        .rootfs
        .as_deref()
        .map(rc::check_rootfs)
        .transpose()
        .map_err(e)?;
    if a.read_only && rootfs.is_none() {
        return Err(e(rc::ConfigError::ReadOnlyWithoutRootfs));
    }
    let volumes = a
        .volumes
        .iter()
        .map(|v| rc::parse_volume(v))
        .collect::<Result<Vec<_>, _>>()
        .map_err(e)?;
    let tmpfs = a
        .tmpfs
        .iter()
        .map(|t| rc::parse_tmpfs(t))
        .collect::<Result<Vec<_>, _>>()
        .map_err(e)?;
    if a.command.first().is_some_and(|c| c.is_empty()) {
        return Err(e(rc::ConfigError::EmptyCommand));
    }
    let hostname = match &a.hostname {
        Some(h) => rc::parse_hostname(h).map_err(e)?,
        None => spec::random_hostname(),
    };
    if !a.workdir.starts_with('/') {
        return Err(e(rc::ConfigError::BadWorkdir(a.workdir.clone())));
    }
    let user = a
        .user
        .as_deref()
        .map(rc::parse_user)
        .transpose()
        .map_err(e)?;
    let (passwd, group) = account_files(rootfs.as_ref().map(|r| r.path.as_path()))?;
    let (uid, gid) = match (&user, &a.user) {
        (Some(u), Some(shown)) => rc::resolve_user(u, &passwd, &group, shown).map_err(e)?,
        _ => (0, 0),
    };
    let caps = capabilities(a)?;
    let limits = limits(a)?;
    let userns = user_namespace(a, rootfs.is_some(), uid, gid)?;
    let env = environment(a, &hostname, &passwd, uid)?;
    let (built, filter, init_filter) = seccomp_filter(a, caps, notify)?;
    let stop_timeout = parse_stop_timeout(&a.stop_timeout).map_err(e)?;
    let devpts_gid = userns.has_gid(5).then_some(5);
    let cfg = RunConfig {
        command: a.command.clone(),
        mounts: MountConfig {
            rootfs,
            read_only: a.read_only,
            volumes,
            tmpfs,
            devpts_gid,
            oci: None,
        },
        hostname: Some(hostname),
        domainname: None,
        env,
        workdir: PathBuf::from(&a.workdir),
        uid,
        gid,
        caps,
        limits,
        userns,
        namespaces: syscage_runtime::spec::Namespaces::all_new(),
        process: Default::default(),
        oci: false,
        hooks: Default::default(),
        tty: a.tty,
        filter,
        init_filter,
        stop_timeout,
    };
    Ok((cfg, built))
}

/// The capabilities `--cap-add` and `--cap-drop` ask for, within syscage's own bounding
/// set (ALL, and the default set, mean what it holds; a line says what was left out).
fn capabilities(a: &RunArgs) -> Result<syscage_policy::CapSet, CliError> {
    let last_cap = syscage_runtime::exec::last_cap();
    let bounding = std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| rc::bounding_from_status(&s))
        .unwrap_or(syscage_policy::CapSet::all_up_to(last_cap));
    let (caps, left_out) =
        rc::resolve_caps_within(&a.cap_add, &a.cap_drop, last_cap, bounding).map_err(e)?;
    if !left_out.is_empty() {
        let names: Vec<String> = left_out.iter().map(|c| c.to_string()).collect();
        eprintln!(
            "syscage: note: left out {}, which syscage's own bounding set lacks",
            names.join(", ")
        );
    }
    Ok(caps)
}

/// `--memory`, `--pids-limit`, `--cpus`.
fn limits(a: &RunArgs) -> Result<Limits, CliError> {
    Ok(Limits {
        memory: a
            .memory
            .as_deref()
            .map(rc::parse_memory)
            .transpose()
            .map_err(e)?,
        pids: a
            .pids_limit
            .as_deref()
            .map(rc::parse_pids)
            .transpose()
            .map_err(e)?,
        cpu: a
            .cpus
            .as_deref()
            .map(rc::parse_cpus)
            .transpose()
            .map_err(e)?,
    })
}

/// The user namespace: the caller's own ids when not root; with `--userns` (or without a
/// root file system) root's range from /etc/subuid and /etc/subgid; else the host's.
fn user_namespace(a: &RunArgs, has_rootfs: bool, uid: u32, gid: u32) -> Result<Userns, CliError> {
    let private_userns = match a.userns.as_deref() {
        Some("private") => true,
        Some("host") => {
            if !has_rootfs {
                eprintln!("syscage: warning: --userns=host without --rootfs: the container's root is the host's root, with Docker's capabilities, over the host's whole file system (read-only)");
            }
            false
        }
        Some(other) => {
            return Err(e(format!(
            "--userns `{other}`: expected `private` (an unprivileged range of host ids) or `host`"
        )))
        }
        // The host's own file system needs a user namespace: its root must not be the
        // host's (it could read any file root can, and reach host sockets as root).
        None => !has_rootfs,
    };
    let euid = nix::unistd::geteuid().as_raw();
    let userns = if euid != 0 {
        Userns::Rootless {
            host_uid: euid,
            host_gid: nix::unistd::getegid().as_raw(),
            uid,
            gid,
        }
    } else if private_userns {
        let range = |file: &str| {
            let text = match std::fs::read_to_string(file) {
                Ok(t) => t,
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => String::new(),
                Err(e) => {
                    return Err(CliError::setup(format!(
                        "--userns: cannot read `{file}`: {}",
                        syscage_policy::errno::io_text(&e)
                    )))
                }
            };
            idmap::root_range(&text).map_err(|why| {
                CliError::setup(format!(
                    "--userns: `{file}` has no line for root, and {why} (hint: add a line `root:START:65536` for a range nobody else has)"
                ))
            })
        };
        Userns::Mapped {
            uids: range("/etc/subuid")?,
            gids: range("/etc/subgid")?,
        }
    } else {
        Userns::Host
    };

    Ok(userns)
}

/// The command's environment: syscage's (PATH, HOSTNAME, HOME, TERM with a terminal),
/// then `-e`.
fn environment(
    a: &RunArgs,
    hostname: &str,
    passwd: &str,
    uid: u32,
) -> Result<Vec<(String, String)>, CliError> {
    let mut user_env = Vec::new();
    for v in &a.env {
        if let Some(kv) = rc::parse_env(v, |k| std::env::var_os(k)).map_err(e)? {
            user_env.push(kv);
        }
    }
    let home = spec::home_of(passwd, uid)
        .unwrap_or_else(|| if uid == 0 { "/root" } else { "/" }.to_string());
    let stdin_tty = nix::unistd::isatty(std::io::stdin()).unwrap_or(false);
    let term =
        (a.tty || stdin_tty).then(|| std::env::var("TERM").unwrap_or_else(|_| "xterm".into()));
    let env = spec::build_env(hostname, Some(&home), term.as_deref(), &user_env);

    Ok(env)
}

/// The command's filter as built and as loaded, and the init's.
type Filters = (
    Built,
    Option<LoadableFilter>,
    Option<Vec<syscage_seccomp::bpf::SockFilter>>,
);

/// The command's filter (from the cache when it has it) and the init's.
fn seccomp_filter(
    a: &RunArgs,
    caps: syscage_policy::CapSet,
    notify: NotifyMode,
) -> Result<Filters, CliError> {
    let mut extra_arches = Vec::new();
    for s in &a.seccomp_arch {
        let arch = Arch::parse(s).filter(|a| a.is_x86()).ok_or_else(|| {
            e(format!(
                "--seccomp-arch `{s}`: unknown architecture (expected x86, x32 or x86_64)"
            ))
        })?;
        extra_arches.push(arch);
    }
    let mut tweaks: Vec<Tweak> = a.seccomp_allow.iter().map(|s| Tweak::allow(s)).collect();
    for d in &a.seccomp_deny {
        tweaks.push(Tweak::deny(d, a.seccomp_allow_errno_zero).map_err(e)?);
    }
    let req = Request {
        profile: a.seccomp.clone(),
        bases: a.seccomp_base.clone(),
        read: ReadOptions {
            ignore_unknown_names: a.seccomp_ignore_unknown,
            allow_errno_zero: a.seccomp_allow_errno_zero,
        },
        caps,
        kernel: kernel_version(),
        extra_arches,
        tweaks,
        notify,
    };
    let cache = Cache::open_default();
    // With i386 admitted, the policy is looked at for a warning (see `run`).
    let i386 = req.extra_arches.contains(&Arch::X86);
    let built = filter::build(&req, cache.as_ref(), i386).map_err(e)?;
    for w in &built.warnings {
        eprintln!("syscage: warning: {w}");
    }
    if let Some(p) = &built.program {
        tracing::info!(
            "seccomp: profile {} ({} instructions{})",
            built.name,
            p.len(),
            if built.cached { ", from the cache" } else { "" }
        );
    }
    let filter = built.program.clone().map(|program| LoadableFilter {
        program,
        flags: built.flags,
        listener: built.flags & syscage_seccomp::load::FLAG_NEW_LISTENER != 0,
    });
    let init_filter = Some(filter::init_filter(cache.as_ref()).map_err(e)?);
    Ok((built, filter, init_filter))
}

/// `--stop-timeout`: whole seconds, 0 (kill at once) to a day. Docker's -1 (wait forever)
/// is refused: syscage never waits without end on what the container controls.
fn parse_stop_timeout(v: &str) -> Result<std::time::Duration, String> {
    v.parse::<u64>()
        .ok()
        .filter(|s| *s <= 86_400 && !v.starts_with('+'))
        .map(std::time::Duration::from_secs)
        .ok_or_else(|| {
            format!("--stop-timeout `{v}`: expected a whole number of seconds from 0 to 86400")
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stop_timeout_is_whole_seconds_up_to_a_day() {
        use std::time::Duration;
        assert_eq!(parse_stop_timeout("10"), Ok(Duration::from_secs(10)));
        assert_eq!(parse_stop_timeout("0"), Ok(Duration::ZERO));
        assert_eq!(parse_stop_timeout("86400"), Ok(Duration::from_secs(86_400)));
        for bad in ["-1", "", "1.5", "1s", "+3", "86401", "99999999999999999999"] {
            assert_eq!(
                parse_stop_timeout(bad),
                Err(format!(
                    "--stop-timeout `{bad}`: expected a whole number of seconds from 0 to 86400"
                )),
            );
        }
        assert_eq!(
            syscage_runtime::spec::DEFAULT_STOP_TIMEOUT,
            parse_stop_timeout("10").unwrap()
        );
    }

    #[test]
    fn user_notification_is_read_from_actions_avail() {
        assert!(user_notif_available(
            "kill_process kill_thread trap errno user_notif trace log allow\n"
        ));
        assert!(!user_notif_available(
            "kill_process kill_thread trap errno trace log allow\n"
        ));
        assert!(!user_notif_available(""));
    }
}
