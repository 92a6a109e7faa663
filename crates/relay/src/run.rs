//! A run: the settings, then the command.

use anyhow::Result;

use crate::{cli, commands, schedule, settings, watch};

/// Runs a command; the exit status.
pub fn run(args: &cli::Args) -> Result<u8> {
    let s = settings::settings(args)?;
    match &args.command {
        cli::Command::Status { json } => commands::status(&s, *json),
        cli::Command::Restore => commands::restore(&s),
        cli::Command::Watch { rules } => watch::run(&s, rules.as_deref()),
        cli::Command::Schedule(a) => schedule::run(&s, a),
        cli::Command::Switch(words) => commands::switch(&s, words),
    }
}
