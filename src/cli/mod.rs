//! Command-line structure: one file per command, each a thin layer over the library.

/// `print!` and `println!` that never panic: a closed pipe (`syscage profile show | head`)
/// ends syscage quietly; any other failure to write is one line and status 125.
macro_rules! out {
    ($($t:tt)*) => { $crate::cli::emit(format_args!($($t)*), false) };
}
macro_rules! outln {
    ($($t:tt)*) => { $crate::cli::emit(format_args!($($t)*), true) };
}

mod agent;
mod learn;
mod profile;
mod run;

use clap::{Parser, Subcommand};
use std::fmt;

/// syscage: run a program in a container whose walls are system calls.
#[derive(Parser)]
#[command(name = "syscage", version, about, long_about = None, propagate_version = true)]
pub struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run a command in a new container.
    Run(Box<run::RunArgs>),
    /// Run a command and write a profile that allows exactly the system calls it made.
    Learn(Box<learn::LearnArgs>),
    /// Inspect, check and lint seccomp profiles.
    #[command(subcommand)]
    Profile(profile::ProfileCommand),
    /// Serve as the OCI seccomp agent of other runtimes (a profile's `listenerPath`):
    /// answer, report and learn their containers' system calls.
    Agent(agent::AgentArgs),
}

impl Cli {
    pub fn verbose(&self) -> bool {
        match &self.command {
            Command::Run(r) => r.verbose,
            Command::Learn(l) => l.verbose(),
            Command::Profile(_) => false,
            Command::Agent(a) => a.verbose,
        }
    }
}

/// An error of a command, with the exit status it means.
pub struct CliError {
    message: String,
    code: i32,
}

impl CliError {
    pub fn new(message: impl fmt::Display, code: i32) -> CliError {
        CliError {
            message: message.to_string(),
            code,
        }
    }

    /// An error of syscage itself: 125.
    pub fn setup(message: impl fmt::Display) -> CliError {
        CliError::new(message, 125)
    }

    pub fn exit_code(&self) -> i32 {
        self.code
    }
}

impl fmt::Display for CliError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

pub fn dispatch(cli: Cli) -> Result<i32, CliError> {
    match cli.command {
        Command::Run(args) => run::run(*args),
        Command::Learn(args) => learn::run(*args),
        Command::Profile(cmd) => profile::run(cmd),
        Command::Agent(args) => agent::run(args),
    }
}

/// `--verbose` shows syscage's steps; `RUST_LOG` chooses anything else.
pub fn init_logging(verbose: bool) {
    use tracing_subscriber::EnvFilter;
    let filter = match std::env::var("RUST_LOG") {
        Ok(v) if !v.is_empty() => EnvFilter::new(v),
        _ if verbose => EnvFilter::new("info"),
        _ => EnvFilter::new("warn"),
    };
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_target(false)
        .with_level(false);
    // SYSCAGE_LOG_TIME=1 stamps each line with the time since start, to see where a run
    // spends its time.
    let _ = if std::env::var_os("SYSCAGE_LOG_TIME").is_some() {
        builder
            .with_timer(tracing_subscriber::fmt::time::Uptime::default())
            .try_init()
    } else {
        builder.without_time().try_init()
    };
}

/// Writes to standard output for [`out!`] and [`outln!`].
pub fn emit(args: fmt::Arguments, newline: bool) {
    use std::io::Write;
    let mut o = std::io::stdout().lock();
    let r = o
        .write_fmt(args)
        .and_then(|()| if newline { o.write_all(b"\n") } else { Ok(()) })
        .and_then(|()| o.flush());
    if let Err(e) = r {
        if e.kind() == std::io::ErrorKind::BrokenPipe {
            std::process::exit(0);
        }
        eprintln!(
            "syscage: cannot write to standard output: {}",
            syscage_policy::errno::io_text(&e)
        );
        std::process::exit(125);
    }
}
