//! `syscage profile ...` (being written).

use super::CliError;
use clap::Subcommand;

#[derive(Subcommand)]
pub enum ProfileCommand {
    /// List the built-in profiles.
    List,
}

pub fn run(cmd: ProfileCommand) -> Result<i32, CliError> {
    match cmd {
        ProfileCommand::List => {
            for b in syscage_policy::builtin::BUILTINS {
                println!("{:<11} {}", b.name, b.description);
            }
            Ok(0)
        }
    }
}
