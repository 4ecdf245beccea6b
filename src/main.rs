//! The `syscage` command: parses options, runs one subcommand, and turns its error into
//! one line on stderr and an exit status (Docker's: 125 when syscage itself failed).
#![deny(unsafe_code)]

mod cli;

use clap::Parser;
use std::process::ExitCode;

fn main() -> ExitCode {
    let args = match cli::Cli::try_parse() {
        Ok(a) => a,
        Err(e) => {
            let usage = e.use_stderr();
            let _ = e.print();
            return ExitCode::from(if usage { 125 } else { 0 });
        }
    };
    cli::init_logging(args.verbose());
    match cli::dispatch(args) {
        Ok(code) => ExitCode::from(u8::try_from(code).unwrap_or(125)),
        Err(e) => {
            eprintln!("syscage: {e}");
            ExitCode::from(u8::try_from(e.exit_code()).unwrap_or(125))
        }
    }
}
