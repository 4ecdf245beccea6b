//! syscage as an OCI runtime: runc's command line (docs/oci-clients.md), on the
//! `lifecycle` module of the runtime.
//!
//! Which form a command line is (see [`wanted`]): the OCI commands (`create`, `start`,
//! `state`, `kill`, `delete`, `exec`, `ps`, `pause`, `resume`, `update`, `features`,
//! `spec`, `list`) and runc's global options before them are always the OCI runtime's.
//! `run` is syscage's own (`syscage run [OPTIONS] -- COMMAND`) unless it is OCI's `run
//! [--bundle DIR] [OPTIONS] ID`: an OCI global option came before it, or it has
//! `--bundle`/`-b` or another option only OCI's `run` has, or it has no `--`, one
//! argument that is not an option, and a `config.json` in the current directory.
//!
//! Errors: exit status 1, one line on stderr; with `--log FILE` also one JSON object per
//! line appended to FILE (`--log-format json`: `{"level","msg","time"}`, the time in RFC
//! 3339, as containerd's shim and podman read it), or a text line.

mod commands;
mod info;
pub(crate) mod log;
mod own;
mod run;

use clap::{Args, Parser, Subcommand};
use std::path::PathBuf;
use std::process::ExitCode;

/// The commands only the OCI runtime has.
const COMMANDS: &[&str] = &[
    "create", "start", "state", "kill", "delete", "exec", "ps", "pause", "resume", "update",
    "features", "spec", "list",
];
/// runc's global options (`--criu` is accepted and ignored: no checkpoints here).
const GLOBALS: &[&str] = &[
    "--root",
    "--log",
    "--log-format",
    "--debug",
    "--systemd-cgroup",
    "--rootless",
    "--criu",
    "--annotation-dir",
];
/// Options only OCI's `run` has.
const RUN_ONLY: &[&str] = &[
    "-b",
    "--bundle",
    "-d",
    "--detach",
    "--pid-file",
    "--console-socket",
    "--no-pivot",
    "--no-new-keyring",
    "--preserve-fds",
    "--keep",
    "--no-subreaper",
];

fn is_opt(a: &str, names: &[&str]) -> bool {
    names
        .iter()
        .any(|n| a == *n || (n.starts_with("--") && a.starts_with(&format!("{n}="))))
}

/// Whether `args` (without the program name) is an OCI runtime command line.
pub fn wanted(args: &[String]) -> bool {
    let Some(first) = args.first() else {
        return false;
    };
    if is_opt(first, GLOBALS) || COMMANDS.contains(&first.as_str()) {
        return true;
    }
    if first != "run" {
        return false;
    }
    let rest = &args[1..];
    if rest.iter().any(|a| a == "--") {
        return false;
    }
    if rest.iter().any(|a| is_opt(a, RUN_ONLY)) {
        return true;
    }
    let positional: Vec<&String> = rest.iter().filter(|a| !a.starts_with('-')).collect();
    positional.len() == 1 && std::path::Path::new("config.json").is_file()
}

/// `syscage --version` in runc's layout (podman shows it as it is).
pub fn version() -> String {
    format!(
        "syscage version {}\ncommit: {}\nspec: {}\nlibseccomp: {}\n",
        env!("CARGO_PKG_VERSION"),
        option_env!("SYSCAGE_COMMIT").unwrap_or("unknown"),
        syscage_oci::version::MAX,
        libseccomp_version()
    )
}

fn libseccomp_version() -> String {
    syscage_seccomp::compile::libseccomp_version()
}

#[derive(Parser)]
#[command(
    name = "syscage",
    about = "syscage as an OCI runtime (runc's command line)",
    disable_version_flag = true
)]
struct OciCli {
    /// Where containers' state lives.
    #[arg(long, value_name = "DIR", default_value = syscage_runtime::lifecycle::statedir::DEFAULT_ROOT)]
    root: PathBuf,
    /// Append errors (and warnings) to FILE.
    #[arg(long, value_name = "FILE")]
    log: Option<PathBuf>,
    /// text or json.
    #[arg(long = "log-format", value_name = "FORMAT", default_value = "text")]
    log_format: String,
    /// Accepted; syscage's steps are in the log with RUST_LOG=info.
    #[arg(long)]
    debug: bool,
    /// Use systemd's cgroup manager: refused (with runc's words where systemd is not
    /// running).
    #[arg(long = "systemd-cgroup")]
    systemd_cgroup: bool,
    /// Accepted for runc's command line; rootless containers are not supported here.
    #[arg(long, value_name = "true|false|auto", num_args = 0..=1, default_missing_value = "true", require_equals = false)]
    rootless: Option<String>,
    /// Accepted and ignored (no checkpoints).
    #[arg(long, value_name = "PATH")]
    criu: Option<String>,
    /// A directory the profile files named by `run.syscage.seccomp` annotations may be in
    /// (repeatable). Without one, an annotation may name only `default` or `contained`.
    #[arg(long = "annotation-dir", value_name = "DIR")]
    annotation_dir: Vec<PathBuf>,
    #[command(subcommand)]
    command: OciCommand,
}

#[derive(Subcommand)]
#[command(defer = true)] // only the given command's options are built (see `cli::Command`)
enum OciCommand {
    /// Create a container from a bundle; its process waits for `start`.
    Create(CreateArgs),
    /// Let a created container's process run.
    Start { id: String },
    /// Print a container's state (JSON).
    State { id: String },
    /// Send a signal (a name or number; SIGTERM by default) to a container's process.
    Kill {
        id: String,
        signal: Option<String>,
        /// To every process of the container's cgroup.
        #[arg(short, long)]
        all: bool,
    },
    /// Remove a container (with --force, kill it first if it runs).
    Delete {
        #[arg(short, long)]
        force: bool,
        id: String,
    },
    /// Create and start a container, and wait for it (or not, with --detach).
    Run(Box<RunArgs>),
    /// Run a new process in a container.
    Exec(Box<ExecArgs>),
    /// List a container's processes.
    Ps {
        /// table or json.
        #[arg(short, long, default_value = "table")]
        format: String,
        id: String,
        /// Accepted for runc's command line (`ps` options).
        #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
        ps_args: Vec<String>,
    },
    /// Freeze a container's processes.
    Pause { id: String },
    /// Thaw them.
    Resume { id: String },
    /// Change a container's resource limits.
    Update(UpdateArgs),
    /// What this runtime supports (the runtime spec's features document).
    Features,
    /// Write a default config.json.
    Spec {
        #[arg(short, long, value_name = "DIR")]
        bundle: Option<PathBuf>,
        #[arg(long)]
        rootless: bool,
    },
    /// List the containers under --root.
    List {
        #[arg(short, long, default_value = "table")]
        format: String,
        #[arg(short, long)]
        quiet: bool,
    },
}

#[derive(Args)]
struct CreateArgs {
    #[arg(short, long, value_name = "DIR", default_value = ".")]
    bundle: PathBuf,
    #[arg(long = "pid-file", value_name = "FILE")]
    pid_file: Option<PathBuf>,
    #[arg(long = "console-socket", value_name = "PATH")]
    console_socket: Option<PathBuf>,
    #[arg(long = "preserve-fds", value_name = "N", default_value_t = 0)]
    preserve_fds: u32,
    /// Accepted: syscage always uses pivot_root (never chroot, which a root process can
    /// leave).
    #[arg(long = "no-pivot")]
    no_pivot: bool,
    /// Accepted: syscage makes no session keyring.
    #[arg(long = "no-new-keyring")]
    no_new_keyring: bool,
    id: String,
}

#[derive(Args)]
struct RunArgs {
    #[command(flatten)]
    create: CreateArgs,
    /// Return once the container runs, instead of waiting for it.
    #[arg(short, long)]
    detach: bool,
    /// Keep the container's state after it ends.
    #[arg(long)]
    keep: bool,
    /// Accepted for runc's command line.
    #[arg(long = "no-subreaper")]
    no_subreaper: bool,
}

#[derive(Args)]
struct ExecArgs {
    /// The process as a runtime-spec `process` object.
    #[arg(short, long, value_name = "FILE")]
    process: Option<PathBuf>,
    #[arg(short, long)]
    tty: bool,
    #[arg(long = "console-socket", value_name = "PATH")]
    console_socket: Option<PathBuf>,
    #[arg(long = "pid-file", value_name = "FILE")]
    pid_file: Option<PathBuf>,
    #[arg(short, long)]
    detach: bool,
    #[arg(long, value_name = "DIR")]
    cwd: Option<String>,
    #[arg(short, long, value_name = "KEY=VALUE")]
    env: Vec<String>,
    #[arg(short, long, value_name = "UID[:GID]")]
    user: Option<String>,
    #[arg(long = "additional-gids", short = 'g', value_name = "GID")]
    additional_gids: Vec<u32>,
    #[arg(short, long, value_name = "CAP")]
    cap: Vec<String>,
    #[arg(long = "no-new-privs")]
    no_new_privs: bool,
    #[arg(long = "preserve-fds", value_name = "N", default_value_t = 0)]
    preserve_fds: u32,
    /// Accepted for runc's command line.
    #[arg(long = "process-label", value_name = "LABEL")]
    process_label: Option<String>,
    /// Accepted for runc's command line.
    #[arg(long = "apparmor", value_name = "PROFILE")]
    apparmor: Option<String>,
    id: String,
    #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
    command: Vec<String>,
}

#[derive(Args)]
struct UpdateArgs {
    /// A `linux.resources` document, or `-` for standard input.
    #[arg(short, long, value_name = "FILE|-")]
    resources: Option<String>,
    #[arg(long, value_name = "BYTES")]
    memory: Option<i64>,
    #[arg(long = "memory-swap", value_name = "BYTES")]
    memory_swap: Option<i64>,
    #[arg(long = "pids-limit", value_name = "N")]
    pids_limit: Option<i64>,
    #[arg(long = "cpu-shares", value_name = "N")]
    cpu_shares: Option<u64>,
    #[arg(long = "cpu-quota", value_name = "US")]
    cpu_quota: Option<i64>,
    #[arg(long = "cpu-period", value_name = "US")]
    cpu_period: Option<u64>,
    id: String,
}

/// Runs an OCI command line; `args` includes the program name.
pub fn main(args: Vec<String>) -> ExitCode {
    let cli = match OciCli::try_parse_from(&args) {
        Ok(c) => c,
        Err(e) => {
            if !e.use_stderr() {
                let _ = e.print();
                return ExitCode::SUCCESS;
            }
            eprintln!("syscage: {}", crate::usage_error(&e.render().to_string()));
            return ExitCode::from(1);
        }
    };
    let log = log::Log::new(cli.log.clone(), cli.log_format == "json");
    if cli.log_format != "text" && cli.log_format != "json" {
        log.error(&format!(
            "--log-format `{}`: expected text or json",
            cli.log_format
        ));
        return ExitCode::from(1);
    }
    log.install();
    match commands::dispatch(cli, &log) {
        Ok(code) => ExitCode::from(u8::try_from(code).unwrap_or(1)),
        Err(msg) => {
            log.error(&msg);
            ExitCode::from(1)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v(s: &str) -> Vec<String> {
        s.split_whitespace().map(str::to_string).collect()
    }

    #[test]
    fn which_run_is_which() {
        assert!(wanted(&v("create --bundle /b x")));
        assert!(wanted(&v("--root /r state x")));
        assert!(wanted(&v("--log=/l --log-format json delete --force x")));
        assert!(wanted(&v("run --bundle /b x")));
        assert!(wanted(&v("run -b /b x")));
        assert!(wanted(&v("run --bundle=/b x")));
        assert!(wanted(&v("run -d --pid-file /p x")));
        assert!(wanted(&v("--root /r run x")));
        assert!(!wanted(&v("run --rootfs /r -- sh")));
        assert!(!wanted(&v("run --rootfs /r sh -c true")));
        assert!(!wanted(&v("run -- x")));
        assert!(!wanted(&v("profile show default")));
        assert!(!wanted(&v("agent")));
        assert!(!wanted(&[]));
    }

    #[test]
    fn version_in_runcs_layout() {
        let v = version();
        let lines: Vec<&str> = v.lines().collect();
        assert_eq!(lines.len(), 4);
        assert!(lines[0].starts_with("syscage version "));
        assert!(lines[1].starts_with("commit: "));
        assert_eq!(lines[2], "spec: 1.2.1");
        assert!(lines[3].starts_with("libseccomp: 2."));
    }
}
