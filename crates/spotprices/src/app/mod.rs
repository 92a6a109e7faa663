//! The spotprices binary's parts: flags and settings, HTTP, fetching a day,
//! showing one, and the page.

pub mod cli;
pub mod fetch;
pub mod http;
pub mod page;
pub mod settings;
pub mod show;

use anyhow::Result;

/// Runs a command; the exit status.
pub fn run(args: &cli::Args) -> Result<u8> {
    match &args.command {
        cli::Command::Fetch(f) => fetch::run(&settings::settings(args, Some(f))?, f),
        cli::Command::Show(sh) => show::run(&settings::settings(args, None)?, sh),
    }
}
