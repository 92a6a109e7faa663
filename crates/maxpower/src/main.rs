//! maxpower: hourly energy from the daily logs, the month's capacity
//! peaks, and a mail before an hour goes over the limit. See `--help`.

mod app;

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    han_common::usage::exit_status("maxpower", app::run::run(&app::cli::Args::parse()))
}
