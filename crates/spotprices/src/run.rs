//! A run: the settings, then the command (fetch or show).

use anyhow::Result;

use crate::{cli, fetch, settings, show};

/// Runs a command; the exit status.
pub fn run(args: &cli::Args) -> Result<u8> {
    match &args.command {
        cli::Command::Fetch(f) => fetch::run(&settings::settings(args, Some(f))?, f),
        cli::Command::Show(sh) => show::run(&settings::settings(args, None)?, sh),
    }
}
