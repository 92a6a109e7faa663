//! han-log: the meter's JSON-line stream in, daily files out. See `--help`.

mod cli;
mod compress;
mod csv;
mod input;
mod live;
mod lock;
mod report;
mod run;
mod store;

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    han_common::usage::exit_status("han-log", run::run(&cli::Args::parse()))
}
