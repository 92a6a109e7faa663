//! The relay binary's parts: flags and settings, the GPIO backends, the
//! locked state and event log, deciding among the sources, the commands,
//! watch, schedule and the page.

pub mod backend;
pub mod cli;
pub mod commands;
pub mod page;
pub mod schedule;
pub mod settings;
pub mod settle;
pub mod store;
pub mod watch;

use anyhow::Result;

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
