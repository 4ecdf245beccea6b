//! The `syscage` command: parses options, runs one subcommand, and turns its error into
//! one line on stderr and an exit status (Docker's: 125 when syscage itself failed).
#![deny(unsafe_code)]

mod cli;

use clap::Parser;
use std::process::ExitCode;

fn main() -> ExitCode {
    // First of all: a SIGTERM or SIGINT from now on waits for `run` and `learn` to read it
    // (before their command starts, it ends the run cleanly, 128+N; after, it is
    // forwarded). Other commands let the signals act as usual once the options are read.
    let blocked = syscage_runtime::signals::block_forwarded().is_ok();
    syscage_runtime::fault::stop_here("start");
    let args = match cli::Cli::try_parse() {
        Ok(a) => a,
        Err(e) => {
            let usage = e.use_stderr();
            if usage {
                eprintln!("syscage: {}", usage_error(&e.render().to_string()));
            } else {
                // --help, --version: on stdout, as clap writes them.
                let _ = e.print();
            }
            return ExitCode::from(if usage { 125 } else { 0 });
        }
    };
    if !args.runs_a_container() || !blocked {
        let _ = syscage_runtime::signals::unblock_forwarded();
    }
    cli::init_logging(args.verbose());
    match cli::dispatch(args) {
        Ok(code) => ExitCode::from(u8::try_from(code).unwrap_or(125)),
        Err(e) => {
            eprintln!("syscage: {e}");
            ExitCode::from(u8::try_from(e.exit_code()).unwrap_or(125))
        }
    }
}

/// clap's error as one line of syscage's: its message (the lines of its first paragraph
/// joined) and the usage it shows.
fn usage_error(rendered: &str) -> String {
    let first = rendered.split("\n\n").next().unwrap_or("");
    let msg = first
        .trim_start_matches("error: ")
        .lines()
        .map(str::trim)
        .collect::<Vec<_>>()
        .join(" ");
    match rendered.lines().find_map(|l| l.strip_prefix("Usage: ")) {
        Some(u) => format!("{msg} (usage: {u}; more with --help)"),
        None => msg,
    }
}

#[cfg(test)]
mod tests {
    use super::usage_error;

    #[test]
    fn usage_errors_are_one_line() {
        assert_eq!(
            usage_error("error: the following required arguments were not provided:\n  <COMMAND>...\n\nUsage: syscage run <COMMAND>...\n\nFor more information, try '--help'.\n"),
            "the following required arguments were not provided: <COMMAND>... (usage: syscage run <COMMAND>...; more with --help)"
        );
        assert_eq!(usage_error("error: odd"), "odd");
    }
}
