//! The `syscage` command: parses options, runs one subcommand, and turns its error into
//! one line on stderr and an exit status (Docker's: 125 when syscage itself failed).
#![deny(unsafe_code)]

mod cli;

// On musl (the release build, scripts/build-release.sh): musl's allocator hands memory
// back to the kernel as soon as it can, ~60 mmap/munmap calls in a `syscage run`, each
// munmap a TLB flush. dlmalloc keeps what it got: 8 calls. syscage forks only while
// single-threaded, so the allocator's lock is never held across a fork.
#[cfg(target_env = "musl")]
#[global_allocator]
static ALLOC: dlmalloc::GlobalDlmalloc = dlmalloc::GlobalDlmalloc;

use clap::Parser;
use std::process::ExitCode;

fn main() -> ExitCode {
    // First of all: a SIGTERM or SIGINT from now on waits for `run` and `learn` to read it
    // (before their command starts, it ends the run cleanly, 128+N; after, it is
    // forwarded). Other commands let the signals act as usual once the options are read.
    let argv: Vec<String> = std::env::args().collect();
    // runc's `--version` layout (podman shows it as it is), and the OCI runtime's
    // command line: see `cli::oci`.
    if argv.len() == 2 && (argv[1] == "--version" || argv[1] == "-v") {
        print!("{}", cli::oci::version());
        return ExitCode::SUCCESS;
    }
    if cli::oci::wanted(&argv[1..]) {
        return cli::oci::main(argv);
    }
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
