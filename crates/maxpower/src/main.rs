//! maxpower: hourly energy from the daily logs, the month's capacity
//! peaks, and a mail before an hour goes over the limit. See `--help`.

mod alerts;
mod cache;
mod cli;
mod mail;
mod page;
mod read;
mod run;
mod settings;
mod state;
mod summary;
mod text;

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    let args = cli::Args::parse();
    han_common::shell::main("maxpower", || run::run(&args))
}
