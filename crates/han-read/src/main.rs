//! han-read: a smart electricity meter in, JSON lines out. See `--help`.

mod anonymise;
mod cli;
mod dump;
mod input;
mod report;
mod run;

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    let result = run::run(&cli::Args::parse());
    // A closed stdout (`han-read ... | head`) is the reader saying it is done.
    if result.as_ref().is_err_and(run::is_closed_stdout) {
        return ExitCode::SUCCESS;
    }
    han_common::usage::exit_status("han-read", result)
}
