//! han-report: what the house used, when, and what it cost. See `--help`.

mod cli;
mod out;
mod plot;
mod read;
mod run;

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    let args = cli::Args::parse();
    han_common::shell::main("han-report", || run::run(&args))
}
