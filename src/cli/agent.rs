//! `syscage agent`, and the profile paired with it (`profile show --json --notify-denials`).

use super::CliError;
use clap::Args;
use std::path::PathBuf;
use syscage_policy::Policy;
use syscage_supervise::agent::{self, Config};
use syscage_supervise::meta::{Metadata, Notified};
use syscage_supervise::pair;

#[derive(Args)]
#[command(
    after_help = "Containers say what they want in the profile's listenerMetadata (key=value;...: report=FILE, learn=FILE, written by `syscage profile show NAME --json --notify-denials`) or in the annotations run.syscage.report and run.syscage.learn; `{id}` in a file name is the container's id. Runs until SIGINT, SIGTERM or SIGHUP."
)]
pub struct AgentArgs {
    /// The Unix socket runtimes connect to: the `listenerPath` of the profiles.
    #[arg(long, value_name = "PATH", default_value = pair::DEFAULT_SOCKET)]
    socket: PathBuf,
    /// Permissions of the socket (octal); whoever may connect may hand the agent a
    /// container to answer for.
    #[arg(long = "socket-mode", value_name = "MODE", default_value = "0600")]
    socket_mode: String,
    /// A directory containers may have their report and learned profile written in
    /// (repeatable); a file anywhere else is refused.
    #[arg(long = "allow-dir", value_name = "DIR")]
    allow_dir: Vec<PathBuf>,
    /// A profile file containers' metadata may name (repeatable; built-in profiles need
    /// not be given); the first answers for containers whose metadata names none.
    #[arg(long = "profile", value_name = "NAME|FILE")]
    profile: Vec<String>,
    /// Say what each container asks and when the agent stops.
    #[arg(long)]
    pub verbose: bool,
    /// The OCI runtime's own agent: the listening socket is this inherited descriptor.
    #[arg(long = "socket-fd", value_name = "FD", hide = true)]
    socket_fd: Option<i32>,
    /// The path that socket is bound at, removed when the agent ends.
    #[arg(
        long = "socket-path",
        value_name = "PATH",
        hide = true,
        requires = "socket_fd"
    )]
    socket_path: Option<PathBuf>,
    /// The OCI runtime's own agent: serve one container (the descriptor is its starter's
    /// pipe).
    #[arg(
        long = "one-container",
        value_name = "FD",
        hide = true,
        requires = "socket_fd"
    )]
    one_container: Option<i32>,
    /// The OCI runtime's log, where the lines go instead of stderr.
    #[arg(long, value_name = "FILE", hide = true)]
    log: Option<PathBuf>,
    #[arg(
        long = "log-format",
        value_name = "FORMAT",
        hide = true,
        default_value = "text"
    )]
    log_format: String,
}

/// An inherited descriptor named on the command line, if it is open.
fn inherited(fd: i32, option: &str) -> Result<std::os::fd::OwnedFd, CliError> {
    if fd < 3 || !syscage_runtime::sys::fd_is_open(fd) {
        return Err(CliError::setup(format!(
            "{option} {fd}: not an open descriptor"
        )));
    }
    Ok(syscage_runtime::sys::own_received_fd(fd))
}

pub fn run(a: AgentArgs) -> Result<i32, CliError> {
    // The OCI runtime's own agent has no stderr of its own: what stops it goes to the log.
    let log = a
        .log
        .clone()
        .map(|f| super::oci::log::Log::new(Some(f), a.log_format == "json"));
    let r = serve(a, log.clone());
    if let (Err(e), Some(log)) = (&r, &log) {
        log.error(&format!("agent: {e}"));
    }
    r
}

fn serve(a: AgentArgs, log: Option<super::oci::log::Log>) -> Result<i32, CliError> {
    super::run::require_user_notification("agent")?;
    let mode = a.socket_mode.trim_start_matches("0o");
    let mode = u32::from_str_radix(mode, 8)
        .ok()
        .filter(|m| *m <= 0o777)
        .ok_or_else(|| {
            CliError::setup(format!(
                "--socket-mode `{}`: expected octal permissions such as 0600 or 0660",
                a.socket_mode
            ))
        })?;
    let listen = match a.socket_fd {
        Some(fd) => agent::Listen::Given {
            fd: inherited(fd, "--socket-fd")?,
            path: a.socket_path,
        },
        None => agent::Listen::Path {
            path: a.socket,
            mode,
        },
    };
    let one_container = a
        .one_container
        .map(|fd| inherited(fd, "--one-container"))
        .transpose()?;
    if let Some(log) = log {
        agent::set_sink(Box::new(move |line| {
            log.warning(line.strip_prefix("syscage: ").unwrap_or(line))
        }));
    }
    agent::run(Config {
        listen,
        allow_dirs: a.allow_dir,
        profiles: a.profile,
        one_container,
    })
    .map_err(CliError::setup)?;
    Ok(0)
}

/// How `profile show` was asked to resolve the profile, for the agent to do the same.
pub struct Resolution<'a> {
    pub profile: &'a str,
    pub cap_add: &'a [String],
    pub cap_drop: &'a [String],
    pub arch: &'a [String],
    pub ignore_unknown: bool,
    pub errno_zero: bool,
}

/// The paired profile of `policy` as JSON (`profile show --json --notify-denials` or
/// `--notify-all`).
pub fn paired(
    policy: &Policy,
    how: Resolution,
    all: bool,
    listener: Option<&str>,
    extra: &[String],
) -> Result<String, CliError> {
    // A file is named by its absolute path: the agent does not run where this does.
    let profile = if syscage_policy::builtin::get(how.profile).is_some() {
        how.profile.to_string()
    } else {
        std::fs::canonicalize(how.profile)
            .map_err(|e| {
                CliError::setup(format!(
                    "cannot load profile `{}`: {}",
                    how.profile,
                    syscage_policy::errno::io_text(&e)
                ))
            })?
            .display()
            .to_string()
    };
    let mut meta = Metadata::parse(&extra.join(";"))
        .map_err(|e| CliError::setup(format!("--metadata: {e}")))?;
    if meta.profile.is_some() || meta.digest.is_some() || meta.notify.is_some() {
        return Err(CliError::setup(
            "--metadata: `profile`, `digest` and `notify` are written by syscage itself",
        ));
    }
    meta.profile = Some(profile);
    meta.cap_add = how.cap_add.to_vec();
    meta.cap_drop = how.cap_drop.to_vec();
    meta.arch = how.arch.to_vec();
    meta.ignore_unknown = how.ignore_unknown;
    meta.errno_zero = how.errno_zero;
    let mode = if all {
        Notified::All
    } else {
        Notified::Denials
    };
    let listener = listener.unwrap_or(pair::DEFAULT_SOCKET);
    let w = pair::paired_profile(policy, mode, listener, meta).map_err(CliError::setup)?;
    syscage_policy::profile::to_json(&w).map_err(CliError::setup)
}
