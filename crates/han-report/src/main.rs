//! han-report: what the house used, when, and what it cost. See `--help`.

mod app;

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    han_common::usage::exit_status("han-report", app::run(&app::cli::Args::parse()))
}
