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
pub mod oci;
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

// Each subcommand's options are built only when it is the one given (`defer`): building
// every subcommand's (`learn` repeats all of `run`'s) cost each `syscage run` ~150 KiB of
// fresh heap, 63 of its ~310 page faults and ~0.15 ms.
#[derive(Subcommand)]
#[command(defer = true)]
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
    /// Whether the command runs a container (and so reads the signals blocked in `main`).
    pub fn runs_a_container(&self) -> bool {
        matches!(self.command, Command::Run(_) | Command::Learn(_))
    }

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

/// `--verbose` shows syscage's steps; `RUST_LOG` chooses anything else. Every line has
/// the form of syscage's other messages: `syscage: ...`, `syscage: warning: ...`.
pub fn init_logging(verbose: bool) {
    use tracing_subscriber::EnvFilter;
    let filter = match std::env::var("RUST_LOG") {
        Ok(v) if !v.is_empty() => EnvFilter::new(v),
        _ if verbose => EnvFilter::new("info"),
        _ => {
            // Warnings and errors only, the case of every quiet run: a subscriber that
            // keeps no spans. tracing-subscriber's registry and filter cost a run about
            // 0.1 ms of its start (their tables, 30 KiB of fresh heap to fault in).
            let _ = tracing::subscriber::set_global_default(Quiet);
            return;
        }
    };
    // SYSCAGE_LOG_TIME=1 stamps each line with the time since start, to see where a run
    // spends its time.
    let lines = Lines {
        start: std::env::var_os("SYSCAGE_LOG_TIME").map(|_| std::time::Instant::now()),
    };
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .event_format(lines)
        .try_init();
}

/// The log of a quiet run: warnings and errors as `syscage: warning: ...` and
/// `syscage: error: ...` lines on stderr, in the format of [`Lines`].
struct Quiet;

impl tracing::Subscriber for Quiet {
    fn enabled(&self, m: &tracing::Metadata<'_>) -> bool {
        *m.level() <= tracing::Level::WARN
    }

    fn max_level_hint(&self) -> Option<tracing::level_filters::LevelFilter> {
        Some(tracing::level_filters::LevelFilter::WARN)
    }

    fn new_span(&self, _: &tracing::span::Attributes<'_>) -> tracing::span::Id {
        tracing::span::Id::from_u64(1)
    }

    fn record(&self, _: &tracing::span::Id, _: &tracing::span::Record<'_>) {}

    fn record_follows_from(&self, _: &tracing::span::Id, _: &tracing::span::Id) {}

    fn event(&self, event: &tracing::Event<'_>) {
        let mut line = String::from("syscage: ");
        line.push_str(if *event.metadata().level() == tracing::Level::ERROR {
            "error: "
        } else {
            "warning: "
        });
        event.record(&mut QuietFields(&mut line));
        line.push('\n');
        use std::io::Write;
        let _ = std::io::stderr().write_all(line.as_bytes());
    }

    fn enter(&self, _: &tracing::span::Id) {}

    fn exit(&self, _: &tracing::span::Id) {}
}

/// The message, then ` name=value` for each other field, as tracing-subscriber's default
/// field format writes them.
struct QuietFields<'a>(&'a mut String);

impl tracing::field::Visit for QuietFields<'_> {
    fn record_debug(&mut self, f: &tracing::field::Field, v: &dyn fmt::Debug) {
        use std::fmt::Write as _;
        if f.name() == "message" {
            let _ = write!(self.0, "{v:?}");
        } else {
            let _ = write!(self.0, " {}={v:?}", f.name());
        }
    }

    fn record_str(&mut self, f: &tracing::field::Field, v: &str) {
        if f.name() == "message" {
            self.0.push_str(v);
        } else {
            self.record_debug(f, &v);
        }
    }
}

/// The format of syscage's log lines.
struct Lines {
    start: Option<std::time::Instant>,
}

impl<S, N> tracing_subscriber::fmt::FormatEvent<S, N> for Lines
where
    S: tracing::Subscriber + for<'a> tracing_subscriber::registry::LookupSpan<'a>,
    N: for<'a> tracing_subscriber::fmt::FormatFields<'a> + 'static,
{
    fn format_event(
        &self,
        ctx: &tracing_subscriber::fmt::FmtContext<'_, S, N>,
        mut w: tracing_subscriber::fmt::format::Writer<'_>,
        event: &tracing::Event<'_>,
    ) -> fmt::Result {
        w.write_str("syscage: ")?;
        if let Some(t) = self.start {
            write!(w, "{:.6}s ", t.elapsed().as_secs_f64())?;
        }
        match *event.metadata().level() {
            tracing::Level::ERROR => w.write_str("error: ")?,
            tracing::Level::WARN => w.write_str("warning: ")?,
            _ => {}
        }
        ctx.field_format().format_fields(w.by_ref(), event)?;
        writeln!(w)
    }
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
